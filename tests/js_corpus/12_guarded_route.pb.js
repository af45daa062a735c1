// A route only signed-in users may call, with a middleware.
routerAdd("POST", "/api/corpus/notes/count", (e) => {
    const mine = $app.findRecordsByFilter("notes", "owner = {:me}", "", 0, 0, { me: e.auth.id });
    return e.json(200, { count: mine.length });
}, $apis.requireAuth("users"));
