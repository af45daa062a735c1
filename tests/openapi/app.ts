// A small app on the client that openapi-typescript generates from
// GET /api/openapi.json (api.ts beside this file, written by the test):
// it must type-check against the posts and users collections that
// tests/blackbox/openapi.test.mjs creates.
import createClient from "openapi-fetch";
import type { components, paths } from "./api.js";

declare const BASE_URL: string;
declare const TOKEN: string;

type Post = components["schemas"]["posts"];

const client = createClient<paths>({ baseUrl: BASE_URL });

export async function titles(): Promise<string[]> {
  const { data, error } = await client.GET("/api/collections/posts/records", {
    params: { query: { page: 1, perPage: 20, sort: "-created", filter: "views > 1", expand: "author", skipTotal: true } },
    headers: { Authorization: TOKEN },
  });
  if (error) throw new Error(`${error.status}: ${error.message}`);
  return data.items.map((p: Post) => {
    const views: number = p.views;
    const published: boolean = p.published;
    const status: "draft" | "live" | "" = p.status;
    const tags: ("a" | "b" | "c")[] = p.tags;
    const lon: number = p.place.lon;
    const author = p.expand?.author;
    const name: string | undefined = author?.name;
    return `${p.title} ${views} ${published} ${status} ${tags.join()} ${lon} ${name}`;
  });
}

export async function create(): Promise<string> {
  const { data } = await client.POST("/api/collections/posts/records", {
    body: { title: "hello", views: 1, status: "live", tags: ["a"], published: true },
  });
  return data?.id ?? "";
}

export async function bump(id: string): Promise<void> {
  await client.PATCH("/api/collections/posts/records/{id}", {
    params: { path: { id } },
    body: { "views+": 1, "tags+": ["b"], "tags-": ["a"] },
  });
}

export async function signIn(): Promise<string> {
  const { data } = await client.POST("/api/collections/users/auth-with-password", {
    body: { identity: "someone@example.com", password: "a-long-password" },
  });
  const verified: boolean | undefined = data?.record.verified;
  return `${data?.token} ${verified}`;
}
