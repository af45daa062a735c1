// An audit trail: every new post writes a row to `audit`.
onRecordAfterCreateSuccess((e) => {
    const audit = $app.findCollectionByNameOrId("audit");
    const row = new Record(audit);
    row.set("action", "create");
    row.set("target", e.record.id);
    row.set("note", "post " + e.record.getString("title"));
    $app.save(row);
    e.next();
}, "posts");
