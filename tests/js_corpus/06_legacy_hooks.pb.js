// A pre-0.23 file, as many projects still have it.
onRecordBeforeCreateRequest((e) => {
    if (!e.record.get("views")) {
        e.record.set("views", 0);
    }
}, "posts");

routerAdd("GET", "/api/corpus/legacy/:id", (c) => {
    const id = c.pathParam("id");
    const record = $app.dao().findRecordById("posts", id);
    return c.json(200, { title: record.getString("title") });
});
