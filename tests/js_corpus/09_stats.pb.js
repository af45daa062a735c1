// Totals for a dashboard widget.
routerAdd("GET", "/api/corpus/stats", (e) => {
    const posts = $app.findRecordsByFilter("posts", "id != ''", "-views", 100, 0);
    let views = 0;
    for (const p of posts) {
        views += p.getInt("views");
    }
    return e.json(200, {
        posts: $app.countRecords("posts"),
        views: views,
        top: posts.length ? posts[0].getString("title") : null,
    });
});
