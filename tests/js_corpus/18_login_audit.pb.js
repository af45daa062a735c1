// Sign-ins are written to the audit collection.
onRecordAuthWithPasswordRequest((e) => {
    e.next();
    const audit = new Record($app.findCollectionByNameOrId("audit"));
    audit.set("action", "login");
    audit.set("target", e.record.id);
    $app.save(audit);
}, "users");
