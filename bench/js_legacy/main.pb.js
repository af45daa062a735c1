// bench/js/main.pb.js written in the pre-0.23 API, for bench/run.sh's
// `jshooks` scenario: PocketBase v0.22.20 runs it as it is, and Basalt
// runs it through its aliases of the old names.
routerAdd("GET", "/api/bench/hello/:name", (c) => {
  return c.json(200, { message: "hello " + c.pathParam("name"), n: 42 });
});

onRecordBeforeCreateRequest((e) => {
  e.record.set("title", e.record.getString("title") + "!");
}, "posts");
