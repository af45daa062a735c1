// Notes belong to whoever creates them, whatever the body says.
onRecordCreateRequest((e) => {
    if (!e.auth) {
        throw new UnauthorizedError("Sign in to write notes.");
    }
    e.record.set("owner", e.auth.id);
    e.next();
}, "notes");
