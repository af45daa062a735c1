// Slugs for blog posts, set on create and kept unique (v0.23+ style).
onRecordCreateRequest((e) => {
    const title = e.record.get("title") || "";
    let slug = title.toLowerCase().trim().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    const taken = $app.findRecordsByFilter("posts", "slug = {:slug}", "", 1, 0, { slug: slug });
    if (taken.length > 0) {
        slug = slug + "-" + $security.randomStringWithAlphabet(4, "abcdefghijklmnopqrstuvwxyz");
    }
    e.record.set("slug", slug);
    e.next();
}, "posts");
