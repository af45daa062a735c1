// Popular posts cannot be deleted through the API.
onRecordDeleteRequest((e) => {
    if (e.record.getInt("views") >= 100) {
        throw new ForbiddenError("This post is too popular to delete.");
    }
    e.next();
}, "posts");
