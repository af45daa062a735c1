// Who am I: the signed-in user's profile, requestInfo and auth.
routerAdd("GET", "/api/corpus/me", (e) => {
    const info = e.requestInfo();
    if (!e.auth) {
        return e.json(401, { message: "sign in first" });
    }
    return e.json(200, {
        id: e.auth.id,
        email: e.auth.email(),
        method: info.method,
        hasQuery: Object.keys(info.query).length > 0,
    });
});
