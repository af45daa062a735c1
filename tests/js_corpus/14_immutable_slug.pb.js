// Slugs never change once set, so links keep working.
onRecordUpdateRequest((e) => {
    const before = e.record.original().getString("slug");
    if (before) {
        e.record.set("slug", before);
    }
    e.next();
}, "posts");
