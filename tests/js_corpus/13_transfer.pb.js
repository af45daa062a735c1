// Moving credits between wallets, all or nothing.
routerAdd("POST", "/api/corpus/transfer", (e) => {
    const body = e.requestInfo().body;
    const amount = Number(body.amount);
    try {
        $app.runInTransaction((txApp) => {
            const from = txApp.findRecordById("wallets", body.from);
            const to = txApp.findRecordById("wallets", body.to);
            from.set("credits", from.getInt("credits") - amount);
            to.set("credits", to.getInt("credits") + amount);
            txApp.save(from);
            txApp.save(to);
            if (from.getInt("credits") < 0) {
                throw new Error("insufficient credits");
            }
        });
    } catch (err) {
        return e.json(409, { message: String(err.message || err) });
    }
    return e.json(200, { ok: true });
});
