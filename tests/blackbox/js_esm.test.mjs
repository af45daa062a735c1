// ES module syntax in pb_hooks files and the modules they load: import
// and export of every form, CommonJS and ES modules mixed both ways,
// node_modules packages with "exports", dynamic import(), import.meta,
// and error lines that stay the file's own.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';

const HOOKS = {
  'main.pb.js': `import greet, { twice as double, VERSION } from "./lib/esm_util.js";
import * as shapes from "./lib/shapes.mjs";
import legacy from "./lib/legacy.js";
import { slugify } from "tiny-slug";
import data from "./lib/data.json" with { type: "json" };
import "./lib/side.js";

routerAdd("GET", "/api/esm/basics", (e) => {
  return e.json(200, {
    greet: greet("ann"), double: double(21), version: VERSION,
    area: shapes.area(3, 4), names: Object.keys(shapes).sort(),
    legacy: legacy.add(2, 3), slug: slugify("Hello World"), data,
    side: globalThis.sideEffectRan === true,
    meta: import.meta.url.endsWith("/main.pb.js"),
  });
});

routerAdd("GET", "/api/esm/dynamic", async (e) => {
  const m = await import("./lib/shapes.mjs");
  const c = await import("./lib/legacy.js");
  return e.json(200, { area: m.area(2, 5), add: c.default.add(1, 1), named: c.add(4, 4) });
});

routerAdd("GET", "/api/esm/cjs-requires-esm", (e) => {
  const m = require("./lib/esm_util.js");
  return e.json(200, { esModule: m.__esModule === true, def: m.default("bo"), count: m.counter() });
});

routerAdd("GET", "/api/esm/throws", (e) => {
  const u = require("./lib/esm_util.js");
  u.fail();
});
`,
  'lib/esm_util.js': `export const VERSION = "1.2";
let calls = 0;
export function counter() { calls++; return calls; }
export default function greet(name) { return "hi " + name; }
export { twice } from "./math.js";
export function fail() {
  throw new BadRequestError("from line 7");
}
`,
  'lib/math.js': `export const twice = (n) => n * 2;\n`,
  'lib/shapes.mjs': `export function area(w, h) { return w * h; }
export * from "./more_shapes.js";
export * as math from "./math.js";
`,
  'lib/more_shapes.js': `export const perimeter = (w, h) => 2 * (w + h);\n`,
  'lib/legacy.js': `module.exports = { add: (a, b) => a + b };\n`,
  'lib/side.js': `globalThis.sideEffectRan = true;\n`,
  'lib/data.json': `{"answer": 42}`,
  'node_modules/tiny-slug/package.json': JSON.stringify({
    name: 'tiny-slug', type: 'module',
    exports: { '.': { import: './src/index.js', default: './src/index.js' } },
  }),
  'node_modules/tiny-slug/src/index.js': `export function slugify(s) {
  return String(s).toLowerCase().replace(/[^a-z0-9]+/g, "-");
}
`,
};

describe('ES modules in pb_hooks', () => {
  let srv;
  before(async () => { srv = await startServer({ hooks: HOOKS, args: ['--hooksWatch=false'] }); });
  after(async () => srv && srv.destroy());

  test('static imports of every form', async () => {
    const r = await (await fetch(srv.url + '/api/esm/basics')).json();
    assert.deepEqual(r, {
      greet: 'hi ann', double: 42, version: '1.2', area: 12,
      names: ['area', 'math', 'perimeter'], legacy: 5, slug: 'hello-world',
      data: { answer: 42 }, side: true, meta: true,
    });
  });

  test('import() gives a promise of the module', async () => {
    const r = await (await fetch(srv.url + '/api/esm/dynamic')).json();
    assert.deepEqual(r, { area: 10, add: 2, named: 8 });
  });

  test('require() of an ES module sees its exports, live', async () => {
    const a = await (await fetch(srv.url + '/api/esm/cjs-requires-esm')).json();
    assert.equal(a.esModule, true);
    assert.equal(a.def, 'hi bo');
    const b = await (await fetch(srv.url + '/api/esm/cjs-requires-esm')).json();
    assert.ok(b.count > 0);
  });

  test('errors keep their status and the file line', async () => {
    const res = await fetch(srv.url + '/api/esm/throws');
    assert.equal(res.status, 400);
    assert.equal((await res.json()).message, 'From line 7');
  });

  test('a syntax error in a module file names its line', async () => {
    const bad = await startServer({
      hooks: { 'main.pb.js': 'import x from "./b.js";\nrouterAdd("GET", "/x", (e) => e.string(200, x));\n',
               'b.js': 'export const a = 1;\n\nexport default 1 +;\n' },
      args: ['--hooksWatch=false'],
    }).catch((err) => err);
    assert.ok(bad instanceof Error);
    assert.match(bad.message, /b\.js:3/);
  });
});
