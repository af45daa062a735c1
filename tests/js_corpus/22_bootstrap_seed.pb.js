// Seeds a default category once the app is up. On the very first start
// the collection may not exist yet (migrations run after the bootstrap).
onBootstrap((e) => {
    e.next();
    let categories;
    try {
        categories = $app.findCollectionByNameOrId("categories");
    } catch (err) {
        console.warn("categories not created yet; nothing to seed");
        return;
    }
    const existing = $app.findRecordsByFilter(categories, "name = 'general'", "", 1, 0);
    if (existing.length === 0) {
        const c = new Record(categories);
        c.set("name", "general");
        $app.save(c);
    }
});
