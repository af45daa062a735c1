// A view counter: each GET of /api/corpus/posts/{id}/view bumps `views`.
routerAdd("POST", "/api/corpus/posts/{id}/view", (e) => {
    const id = e.request.pathValue("id");
    let post;
    try {
        post = $app.findRecordById("posts", id);
    } catch (err) {
        return e.json(404, { message: "no such post" });
    }
    post.set("views", post.getInt("views") + 1);
    $app.save(post);
    return e.json(200, { id: post.id, views: post.getInt("views") });
});
