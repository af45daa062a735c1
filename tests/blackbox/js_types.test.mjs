// pb_data/types.d.ts: written by `serve` for editors, generated from the
// bindings; it declares every global the hooks see and type-checks a
// hooks file with TypeScript's compiler (tests/openapi's typescript).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const TSC = path.join(here, '../openapi/node_modules/.bin/tsc');

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 120000, maxBuffer: 16 << 20, ...opts }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

// A hooks file as an editor would check it: the names used most, typed.
const SAMPLE = `/// <reference path="../pb_data/types.d.ts" />
// @ts-check

routerAdd("GET", "/hello/{name}", (e) => {
  const name = e.request.pathValue("name");
  return e.json(200, { message: "hello " + name, q: e.request.url.query().get("x") });
}, $apis.requireAuth("users"));

routerUse((e) => { e.next(); });

onRecordCreateRequest((e) => {
  const r = e.record;
  if (r) r.set("slug", r.getString("title").toLowerCase());
  const info = e.requestInfo();
  console.log(info.body, e.auth ? e.auth.id : "guest");
  e.next();
}, "posts");

onRecordAfterCreateSuccess((e) => {
  const col = $app.findCollectionByNameOrId("logs");
  const log = new Record(col, { text: e.record.id });
  $app.save(log);
  e.next();
});

onRecordBeforeCreateRequest((e) => { e.next(); });
onMailerSend((e) => { e.next(); });
onBackupCreate((e) => { console.warn(e.name); e.next(); });

cronAdd("cleanup", "*/5 * * * *", () => {
  const old = $app.findRecordsByFilter("logs", "created < {:d}", "-created", 10, 0, { d: "2020-01-01" });
  for (const r of old) $app.delete(r);
  const one = $app.findRecordById("logs", "abc");
  sleep(1);
  console.info(toString(one.get("text")), __hooks, $os.getenv("HOME"), $filepath.join("a", "b"));
});

routerAdd("POST", "/hook", async (e) => {
  const res = $http.send({ url: "http://127.0.0.1/x", method: "POST", body: "{}" });
  await new Promise((ok) => setTimeout(ok, 1));
  if (res.statusCode !== 200) throw new BadRequestError("bad", { x: 1 });
  const util = require(__hooks + "/util.js");
  $app.runInTransaction((tx) => { tx.save(new Record(tx.findCollectionByNameOrId("x"))); });
  return e.json(200, { h: $security.sha256("x"), u: util, t: new DateTime().unix() });
});

migrate(async (app) => { app.save(new Collection({ name: "x" })); }, (app) => {});
`;

describe('types.d.ts', () => {
  let srv;
  let dts;
  before(async () => {
    srv = await startServer({ hooks: { 'main.pb.js': 'routerAdd("GET", "/x", (e) => e.string(200, "x"));\n' } });
    dts = fs.readFileSync(path.join(srv.dir, 'types.d.ts'), 'utf8');
  });
  after(async () => srv && srv.destroy());

  test('serve writes it, and leaves it alone when unchanged', async () => {
    assert.match(dts.split('\n')[0], /^\/\/ Basalt /);
    const file = path.join(srv.dir, 'types.d.ts');
    const old = new Date(Date.now() - 60000);
    fs.utimesSync(file, old, old);
    await srv.restart();
    assert.equal(Math.round(fs.statSync(file).mtimeMs), old.getTime());
    fs.writeFileSync(file, 'stale');
    await srv.restart();
    assert.equal(fs.readFileSync(file, 'utf8'), dts);
  });

  test('it declares every global the surface defines', async () => {
    // The names each context defines, asked of the server itself.
    fs.writeFileSync(path.join(srv.hooksDir, 'names.pb.js'),
      'routerAdd("GET", "/api/js/names", (e) => e.json(200, Object.getOwnPropertyNames(globalThis).filter((n) => {\n' +
      '  const v = globalThis[n];\n' +
      '  return typeof v !== "function" || !/\\[native code\\]/.test(Function.prototype.toString.call(v));\n' +
      '})));\n');
    await srv.restart();
    const res = await fetch(srv.url + '/api/js/names');
    const names = await res.json();
    const builtins = new Set(Object.getOwnPropertyNames(globalThis));
    const declared = (n) => new RegExp(`^(declare (var|function) |interface )${n.replace(/\$/g, '\\$')}\\b`, 'm').test(dts);
    const missing = names.filter((n) => !builtins.has(n) && !n.startsWith('__') && n !== 'FormData' && !declared(n));
    assert.deepEqual(missing, []);
    for (const n of ['routerAdd', 'routerUse', 'cronAdd', '$app', 'Record', 'Collection', '$apis', '$http',
                     '$security', '$os', '$filepath', 'console', 'sleep', 'toString', 'require', '__hooks',
                     'onRecordAfterCreateSuccess', 'onRecordCreateRequest', 'onBootstrap'])
      assert.ok(declared(n), n);
    assert.match(dts, /declare function onRecordCreateRequest\(handler: \(e: basalt\.RecordRequestEvent\) => any/);
    assert.match(dts, /declare function onRecordAfterCreateSuccess\(handler: \(e: basalt\.RecordEvent\) => any/);
  });

  test('a hooks file type-checks against it, with and without the DOM library', async () => {
    const work = path.join(srv.root, 'pb_hooks');
    fs.writeFileSync(path.join(work, 'sample.pb.js'), SAMPLE);
    const common = ['--noEmit', '--allowJs', '--checkJs', '--strict', '--target', 'es2022'];
    for (const lib of ['es2022,dom', 'es2022']) {
      const r = await run(TSC, [...common, '--lib', lib, path.join(work, 'sample.pb.js')]);
      assert.equal(r.code, 0, `lib ${lib}: ${r.out}`);
    }
    // A misspelled name and a wrong argument type are caught.
    fs.writeFileSync(path.join(work, 'wrong.pb.js'), SAMPLE +
      '$app.findRecordByIdd("x", "y");\nconst n = $app.findRecordById("x", "y").getInt("n"); n.toUpperCase();\n');
    const r = await run(TSC, [...common, '--lib', 'es2022', path.join(work, 'wrong.pb.js')]);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /findRecordByIdd/);
    assert.match(r.out, /toUpperCase/);
  });
});

describe('types.d.ts without hook files', () => {
  let srv;
  after(async () => srv && srv.destroy());

  test('serve writes it from a child process before serving, the same text as with hooks', async () => {
    srv = await startServer();
    const file = path.join(srv.dir, 'types.d.ts');
    // Written by a child (`basalt __types PATH`), so that the server's own
    // memory holds no engine for a file only editors read, and waited
    // for: a backup made at once must not meet a half-written file.
    assert.ok(fs.existsSync(file), 'types.d.ts once the server answers');
    assert.deepEqual(fs.readdirSync(srv.dir).filter((f) => f.endsWith('.tmp')), []);
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text.split('\n')[0], /^\/\/ Basalt /);
    assert.match(text, /declare function routerAdd\(/);
    assert.match(text.trimEnd().split('\n').pop(), /^\/\/ Written by Basalt /);
    assert.equal((await fetch(`${srv.url}/api/health`)).status, 200);
  });
});
