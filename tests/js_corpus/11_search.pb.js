// A small search endpoint over titles.
routerAdd("GET", "/api/corpus/search", (e) => {
    const q = e.request.url.query().get("q");
    if (!q) {
        return e.json(400, { message: "q is required" });
    }
    const found = $app.findRecordsByFilter("posts", "title ~ {:q}", "title", 20, 0, { q: q });
    return e.json(200, found.map((r) => ({ id: r.id, title: r.getString("title") })));
});
