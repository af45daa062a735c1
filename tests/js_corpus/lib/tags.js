// Tag helpers written as an ES module.
export const MAX_TAGS = 3;

export default function normalize(tags) {
    return [...new Set(tags.map((t) => t.trim().toLowerCase()).filter(Boolean))];
}
