import d, * as ns from "m"
export default async function () { await import("./x.js") }
