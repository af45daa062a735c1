// Must NOT type-check: a number field read as a string, a field that
// does not exist, and a create without the required title. The test
// expects tsc to report these lines, so the generated types are real.
import createClient from "openapi-fetch";
import type { components, paths } from "./api.js";

declare const BASE_URL: string;

const client = createClient<paths>({ baseUrl: BASE_URL });

export function wrong(p: components["schemas"]["posts"]): string {
  const views: string = p.views; // WRONG-1
  return `${views} ${p.nosuchfield}`; // WRONG-2
}

export async function missing(): Promise<void> {
  await client.POST("/api/collections/posts/records", { body: { views: 1 } }); // WRONG-3
}
