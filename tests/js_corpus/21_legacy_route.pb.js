// A pre-0.23 route and after-hook, as older projects wrote them.
routerAdd("GET", "/api/corpus/legacy-info", (c) => {
    const info = $apis.requestInfo(c);
    const who = c.get("authRecord");
    return c.json(200, { query: info.query, signedIn: !!who });
});

onRecordAfterCreateRequest((e) => {
    const row = new Record($app.dao().findCollectionByNameOrId("audit"));
    row.set("action", "legacy-create");
    row.set("target", e.record.id);
    $app.dao().saveRecord(row);
}, "messages");
