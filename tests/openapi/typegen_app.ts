// A small app on the types pocketbase-typegen writes (pb-types.ts beside
// this file, written by the test from a running Basalt server).
import PocketBase from "pocketbase";
import { Collections, type PostsResponse, type TypedPocketBase, type UsersResponse } from "./pb-types.js";

export async function titles(url: string): Promise<string[]> {
  const pb = new PocketBase(url) as TypedPocketBase;
  const page = await pb.collection(Collections.Posts).getList(1, 20, { expand: "author" });
  return page.items.map((p: PostsResponse) => {
    const views: number = p.views;
    const user: UsersResponse | undefined = undefined;
    return `${p.title} ${views} ${user}`;
  });
}
