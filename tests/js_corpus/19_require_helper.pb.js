// Receipts formatted by a shared CommonJS helper.
routerAdd("GET", "/api/corpus/orders/{id}/receipt", (e) => {
    const { money } = require(`${__hooks}/lib/format.js`);
    const order = $app.findRecordById("orders", e.request.pathValue("id"));
    return e.string(200, "Total: " + money(order.getInt("cents")));
});
