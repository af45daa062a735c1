// Tags cleaned up by an ES module helper.
import normalize, { MAX_TAGS } from "./lib/tags.js";

onRecordCreateRequest((e) => {
    const tags = normalize(String(e.record.get("tags") || "").split(","));
    if (tags.length > MAX_TAGS) {
        throw new BadRequestError("Too many tags.");
    }
    e.record.set("tags", tags.join(","));
    e.next();
}, "posts");
