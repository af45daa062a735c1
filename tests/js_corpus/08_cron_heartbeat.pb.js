// A scheduled job: a heartbeat row every minute.
cronAdd("heartbeat", "* * * * *", () => {
    const col = $app.findCollectionByNameOrId("audit");
    const r = new Record(col);
    r.set("action", "heartbeat");
    r.set("target", "cron");
    $app.save(r);
});
