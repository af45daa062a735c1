// JavaScript hooks (pb_hooks) run by the real binary: routes, record
// hooks, e.next() order, errors, async handlers with timers and $http,
// $app finders and saves, transactions, the time limit, load errors,
// reload on change, the pre-0.23 API, cron jobs, require().
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { client, makeTempRoot, runCli, startServer, writeTree } from './lib/server.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const MAIN = `
// Top-level values are visible inside handlers (unlike PocketBase).
const greeting = "hello";
function shout(s) { return s.toUpperCase(); }
const helper = require("./lib/helper.js");
const pad = require("left-pad");

routerAdd("GET", "/api/js/hello/{name}", (e) => {
  const name = e.request.pathValue("name");
  return e.json(200, { message: greeting + " " + shout(name), twice: helper.twice(2),
                       padded: pad("7", 3, "0"), hooks: typeof __hooks });
});

routerAdd("GET", "/api/js/bad", (e) => {
  throw new BadRequestError("Nope, not this.", { title: { code: "invalid", message: "Bad title." } });
});

routerAdd("GET", "/api/js/plain-throw", (e) => { throw new Error("internal detail"); });

routerAdd("GET", "/api/js/async", async (e) => {
  const order = [];
  await new Promise((r) => setTimeout(() => { order.push("timer"); r(); }, 30));
  queueMicrotask(() => order.push("microtask"));
  await null;
  const res = await $http.send({ url: $os.getenv("JS_TEST_UPSTREAM") + "/data?x=1",
                                 method: "POST", body: JSON.stringify({ ping: 1 }),
                                 headers: { "content-type": "application/json" } });
  return e.json(200, { order, status: res.statusCode, upstream: res.json });
});

routerAdd("GET", "/api/js/sleep", (e) => { sleep(20); return e.string(200, "slept"); });

routerAdd("POST", "/api/js/posts", (e) => {
  const body = e.requestInfo().body;
  const col = $app.findCollectionByNameOrId("posts");
  const rec = new Record(col);
  rec.set("title", body.title);
  $app.save(rec);
  const found = $app.findRecordsByFilter("posts", "title ~ {:q}", "-created", 10, 0, { q: body.title });
  return e.json(200, { id: rec.id, found: found.map((r) => r.getString("title")),
                       count: $app.countRecords("posts") });
});

routerAdd("POST", "/api/js/tx", (e) => {
  try {
    $app.runInTransaction((txApp) => {
      const a = new Record(txApp.findCollectionByNameOrId("posts"));
      a.set("title", "in tx");
      txApp.save(a);
      throw new Error("roll back");
    });
  } catch (err) {
    return e.json(200, { rolledBack: true, message: String(err.message) });
  }
  return e.json(200, { rolledBack: false });
});

routerAdd("GET", "/api/js/loop", (e) => { for (;;) {} });

routerAdd("GET", "/api/js/me", (e) => e.json(200, { id: e.auth.id, email: e.auth.email() }),
          $apis.requireAuth());

routerAdd("GET", "/api/js/missing", (e) => e.json(200, $app.findRecordById("posts", "nope")));

onRecordCreateRequest((e) => {
  e.record.set("title", e.record.getString("title") + " (checked)");
  e.next();
}, "posts");

// e.next() order: the outer handler wraps the inner one.
onRecordCreate((e) => {
  e.record.set("log", e.record.getString("log") + "a1 ");
  e.next();
  $app.logger().info("after the save", "id", e.record.id);
}, "posts");
onRecordCreate((e) => {
  e.record.set("log", e.record.getString("log") + "b1 ");
  e.next();
}, "posts");
onRecordValidate((e) => {
  e.record.set("log", e.record.getString("log") + "v ");
  e.next();
}, "posts");

onRecordAfterCreateSuccess((e) => {
  const n = $app.countRecords("posts");
  console.log("created", e.record.id, "now", n);
  e.next();
}, "posts");

cronAdd("jsTick", "*/5 * * * *", () => { console.log("tick"); });
`;

describe('JavaScript hooks', () => {
  let srv;
  let upstream;
  let upstreamUrl;
  let su;
  let received = [];

  before(async () => {
    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, body });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ got: JSON.parse(body || 'null'), path: req.url }));
      });
    });
    await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;
    srv = await startServer({
      hooks: {
        'main.pb.js': MAIN,
        'lib/helper.js': 'module.exports = { twice: (n) => n * 2 };',
        'node_modules/left-pad/package.json': JSON.stringify({ name: 'left-pad', main: 'index.js' }),
        'node_modules/left-pad/index.js':
          'module.exports = (s, n, c) => { s = String(s); while (s.length < n) s = c + s; return s; };',
      },
      env: { JS_TEST_UPSTREAM: upstreamUrl, BASALT_JS_TIME_LIMIT_MS: '1500' },
    });
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    await su.collections.create({
      name: 'posts', type: 'base', listRule: '', viewRule: '', createRule: '',
      fields: [{ name: 'title', type: 'text' }, { name: 'log', type: 'text' },
               { name: 'created', type: 'autodate', onCreate: true }],
    });
  });
  after(async () => {
    await srv?.destroy();
    upstream?.close();
  });

  test('routerAdd: a JSON route with a {param}, top-level values and require()', async () => {
    const res = await fetch(`${srv.url}/api/js/hello/bob`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { message: 'hello BOB', twice: 4, padded: '007', hooks: 'string' });
  });

  test('a thrown BadRequestError answers with its status and PocketBase\'s body', async () => {
    const res = await fetch(`${srv.url}/api/js/bad`);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      data: { title: { code: 'invalid', message: 'Bad title.' } },
      message: 'Nope, not this.', status: 400,
    });
  });

  test('any other throw is a 400 with the generic message', async () => {
    const res = await fetch(`${srv.url}/api/js/plain-throw`);
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.message, 'Something went wrong while processing your request.');
    assert.ok(!JSON.stringify(body).includes('internal detail'));
  });

  test('a record the finder does not find is a 404', async () => {
    const res = await fetch(`${srv.url}/api/js/missing`);
    assert.equal(res.status, 404);
  });

  test('async handlers: timers, microtasks and $http.send to a local server', async () => {
    received = [];
    const res = await fetch(`${srv.url}/api/js/async`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body.order, ['timer', 'microtask']);
    assert.equal(body.status, 200);
    assert.deepEqual(body.upstream, { got: { ping: 1 }, path: '/data?x=1' });
    assert.equal(received.length, 1);
    assert.equal(received[0].method, 'POST');
    const slept = await fetch(`${srv.url}/api/js/sleep`);
    assert.equal(await slept.text(), 'slept');
  });

  test('a create hook changes a field; e.next() runs the inner handlers and the save in order', async () => {
    const rec = await client(srv.url).collection('posts').create({ title: 'first' });
    assert.equal(rec.title, 'first (checked)');
    assert.equal(rec.log, 'a1 b1 v ');
    const again = await su.collection('posts').getOne(rec.id);
    assert.equal(again.title, 'first (checked)');
  });

  test('$app.save and $app.findRecordsByFilter in a route', async () => {
    const res = await fetch(`${srv.url}/api/js/posts`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'from a route' }),
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.match(body.id, /^[a-z0-9]{15}$/);
    // $app.save runs the model hooks, not the request hooks.
    assert.deepEqual(body.found, ['from a route']);
    const stored = await su.collection('posts').getOne(body.id);
    assert.equal(stored.log, 'a1 b1 v ');
  });

  test('runInTransaction rolls back when its callback throws', async () => {
    const before = (await su.collection('posts').getList(1, 1)).totalItems;
    const res = await fetch(`${srv.url}/api/js/tx`, { method: 'POST' });
    assert.deepEqual(await res.json(), { rolledBack: true, message: 'roll back' });
    const after = (await su.collection('posts').getList(1, 1)).totalItems;
    assert.equal(after, before);
    assert.equal((await su.collection('posts').getList(1, 1, { filter: 'title ~ "in tx"' })).totalItems, 0);
  });

  test('$apis.requireAuth() as a route middleware', async () => {
    const guest = await fetch(`${srv.url}/api/js/me`);
    assert.equal(guest.status, 401);
    const res = await fetch(`${srv.url}/api/js/me`, { headers: { Authorization: su.authStore.token } });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).email, ADMIN.email);
  });

  test('a runaway loop is stopped with a 500 while other requests are served', async () => {
    const loops = [fetch(`${srv.url}/api/js/loop`), fetch(`${srv.url}/api/js/loop`)];
    await sleep(200);
    const ok = await fetch(`${srv.url}/api/js/hello/x`);
    assert.equal(ok.status, 200);
    for (const p of loops) {
      const res = await p;
      assert.equal(res.status, 500);
      assert.equal((await res.json()).status, 500);
    }
    assert.match(srv.output(), /ran past the time limit/);
    const after = await fetch(`${srv.url}/api/js/hello/y`);
    assert.equal((await after.json()).message, 'hello Y');
  });

  test('cronAdd jobs are listed by GET /api/crons', async () => {
    const res = await fetch(`${srv.url}/api/crons`, { headers: { Authorization: su.authStore.token } });
    const jobs = await res.json();
    assert.deepEqual(jobs.find((j) => j.id === 'jsTick'), { id: 'jsTick', expression: '*/5 * * * *' });
  });

  test('a changed file is reloaded; requests keep being served', async () => {
    fs.writeFileSync(path.join(srv.hooksDir, 'extra.pb.js'),
      'routerAdd("GET", "/api/js/extra", (e) => e.json(200, {v: 1}));\n');
    let status = 0;
    for (let i = 0; i < 60 && status !== 200; i++) {
      await sleep(100);
      status = (await fetch(`${srv.url}/api/js/extra`)).status;
    }
    assert.equal(status, 200);
    fs.writeFileSync(path.join(srv.hooksDir, 'extra.pb.js'),
      'routerAdd("GET", "/api/js/extra", (e) => e.json(200, {v: 2}));\n');
    let v = 1;
    for (let i = 0; i < 60 && v !== 2; i++) {
      await sleep(100);
      v = (await (await fetch(`${srv.url}/api/js/extra`)).json()).v;
    }
    assert.equal(v, 2);
    // A file that stops loading keeps the last good generation.
    fs.writeFileSync(path.join(srv.hooksDir, 'extra.pb.js'), 'routerAdd("GET", (e) => {\n');
    await sleep(1000);
    assert.equal((await (await fetch(`${srv.url}/api/js/extra`)).json()).v, 2);
    assert.match(srv.output(), /extra\.pb\.js:\d+/);
    // Removing the route: it answers 404 again.
    fs.unlinkSync(path.join(srv.hooksDir, 'extra.pb.js'));
    let gone = 200;
    for (let i = 0; i < 60 && gone !== 404; i++) {
      await sleep(100);
      gone = (await fetch(`${srv.url}/api/js/extra`)).status;
    }
    assert.equal(gone, 404);
  });
});

describe('JavaScript hooks: load errors', () => {
  test('a syntax error is reported with file and line, and serve fails', async () => {
    const root = makeTempRoot();
    writeTree(path.join(root, 'pb_hooks'), {
      'a_ok.pb.js': 'routerAdd("GET", "/x", (e) => e.json(200, {}));\n',
      'b_bad.pb.js': '// a comment\nconst x = 1;\nconst y = ;\n',
    });
    const r = await runCli(['serve', '--http=127.0.0.1:0', '--dir', path.join(root, 'pb_data'),
                            '--hooksWatch=false']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /b_bad\.pb\.js:3: SyntaxError/);
  });

  test('an exception at the top level of a file is reported too', async () => {
    const root = makeTempRoot();
    writeTree(path.join(root, 'hooks'), { 'main.pb.js': '\n\nundefinedFunction();\n' });
    const r = await runCli(['serve', '--http=127.0.0.1:0', '--dir', path.join(root, 'pb_data'),
                            `--hooksDir=${path.join(root, 'hooks')}`, '--hooksWatch=false']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /main\.pb\.js:3: ReferenceError/);
  });
});

describe('JavaScript hooks: the pre-0.23 API', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      hooks: {
        'legacy.pb.js': `
routerAdd("GET", "/api/legacy/:id", (c) => {
  const rec = $app.dao().findRecordById("notes", c.pathParam("id"));
  return c.json(200, { body: rec.get("body"), info: $apis.requestInfo(c).query });
});
onRecordBeforeCreateRequest((e) => {
  e.record.set("body", "[" + e.record.get("body") + "]");
}, "notes");
onRecordAfterCreateRequest((e) => {
  const r = $app.dao().findRecordById("notes", e.record.id);
  r.set("seen", true);
  $app.dao().saveRecord(r);
}, "notes");
`,
      },
    });
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    const su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    await su.collections.create({
      name: 'notes', type: 'base', createRule: '', viewRule: '',
      fields: [{ name: 'body', type: 'text' }, { name: 'seen', type: 'bool' }],
    });
  });
  after(async () => srv?.destroy());

  test('legacy hooks, routes, $app.dao() and $apis.requestInfo run with a warning', async () => {
    const rec = await client(srv.url).collection('notes').create({ body: 'hi' });
    assert.equal(rec.body, '[hi]');
    const again = await client(srv.url).collection('notes').getOne(rec.id);
    assert.equal(again.seen, true);
    const res = await fetch(`${srv.url}/api/legacy/${rec.id}?a=b`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { body: '[hi]', info: { a: 'b' } });
    const out = srv.output();
    assert.match(out, /onRecordBeforeCreateRequest is PocketBase's pre-0.23 API/);
    assert.equal(out.split('$app.dao() is PocketBase').length - 1, 1);
  });
});

describe('JavaScript hooks: names Basalt does not implement', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      hooks: {
        'main.pb.js': `
routerAdd("GET", "/api/unsupported", (e) => {
  const out = {};
  for (const [name, fn] of [["$os.exec", () => $os.exec("ls")],
                            ["$template.loadFiles", () => $template.loadFiles()],
                            ["Buffer", () => Buffer()]]) {
    try { fn(); out[name] = "ran"; } catch (err) { out[name] = err.message; }
  }
  return e.json(200, out);
});`,
      },
    });
  });
  after(async () => srv?.destroy());

  test('they exist and throw a clear error', async () => {
    const res = await fetch(`${srv.url}/api/unsupported`);
    assert.deepEqual(await res.json(), {
      '$os.exec': '$os.exec is not supported in Basalt yet',
      '$template.loadFiles': '$template.loadFiles is not supported in Basalt yet',
      Buffer: 'Buffer is not supported in Basalt yet',
    });
  });
});
