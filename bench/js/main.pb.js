// The JavaScript twin of examples/js_twin.c, for bench/run.sh's
// `jshooks` scenario: a JSON route and a record create-request hook.
routerAdd("GET", "/api/bench/hello/{name}", (e) => {
  return e.json(200, { message: "hello " + e.request.pathValue("name"), n: 42 });
});

onRecordCreateRequest((e) => {
  e.record.set("title", e.record.getString("title") + "!");
  e.next();
}, "posts");
