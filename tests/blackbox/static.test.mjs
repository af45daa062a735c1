// pb_public static files: content types, folder index, SPA fallback,
// PocketBase's canonical redirects, and path traversal safety.
//
// Layout (basalt serves <parent of --dir>/pb_public, see src/core/app.c):
//   <root>/pb_data/        data dir
//   <root>/pb_public/      the files below
//   <root>/secret.txt      must never be served
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, rawRequest, rawSocket, statusOf, healthStatus } from './lib/server.mjs';

const SECRET = `TOP-SECRET-${process.pid}-${Math.random().toString(36).slice(2)}`;
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

const PUBLIC = {
  'index.html': '<!doctype html><title>root</title><p>ROOT INDEX</p>',
  'style.css': 'body { color: red; }',
  'app.js': 'console.log("app");',
  'data.json': '{"a":1}',
  'pic.png': PNG,
  'image.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
  'notes.txt': 'plain notes',
  'sub/index.html': '<p>SUB INDEX</p>',
  'sub/page.html': '<p>SUB PAGE</p>',
  'sub/deeper/file.txt': 'deep file',
  'noindex/file.txt': 'in a folder without index',
  'space name.txt': 'file with a space',
  'leak.txt': { symlink: '../secret.txt' },
  'leakdir': { symlink: '..' },
  'abs-leak.txt': { symlink: '/etc/passwd' },
};

const FILES = { 'secret.txt': SECRET };

function mediaType(res) {
  return (res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

describe('pb_public with index.html', () => {
  let srv;
  before(async () => {
    srv = await startServer({ publicFiles: PUBLIC, files: FILES });
  });
  after(() => srv?.destroy());

  test('files are served with their content and content type', async () => {
    const cases = [
      ['/style.css', 'text/css', PUBLIC['style.css']],
      ['/app.js', 'text/javascript', PUBLIC['app.js']],
      ['/data.json', 'application/json', PUBLIC['data.json']],
      ['/image.svg', 'image/svg+xml', PUBLIC['image.svg']],
      ['/notes.txt', 'text/plain', PUBLIC['notes.txt']],
      ['/sub/page.html', 'text/html', PUBLIC['sub/page.html']],
      ['/sub/deeper/file.txt', 'text/plain', PUBLIC['sub/deeper/file.txt']],
      ['/space%20name.txt', 'text/plain', PUBLIC['space name.txt']],
    ];
    for (const [path, type, body] of cases) {
      const res = await rawRequest(srv.url, { path });
      assert.equal(res.status, 200, path);
      assert.equal(mediaType(res), type, path);
      assert.equal(res.text, body, path);
      assert.equal(res.headers['content-length'], String(Buffer.byteLength(body)), path);
    }
    const png = await rawRequest(srv.url, { path: '/pic.png' });
    assert.equal(png.status, 200);
    assert.equal(mediaType(png), 'image/png');
    assert.deepEqual(png.body, PNG);
  });

  test('text types carry charset=utf-8 like Go\'s mime table', async () => {
    for (const path of ['/style.css', '/app.js', '/sub/page.html']) {
      const res = await rawRequest(srv.url, { path });
      assert.match(res.headers['content-type'], /charset=utf-8/i, path);
    }
  });

  test('HEAD on a file: 200, headers, no body', async () => {
    const res = await rawRequest(srv.url, { method: 'HEAD', path: '/style.css' });
    assert.equal(res.status, 200);
    assert.equal(mediaType(res), 'text/css');
    assert.equal(res.body.length, 0);
  });

  test('Last-Modified is sent and If-Modified-Since answers 304 (http.ServeContent)', async () => {
    const res = await rawRequest(srv.url, { path: '/style.css' });
    const lm = res.headers['last-modified'];
    assert.ok(lm, 'no Last-Modified header');
    assert.ok(!Number.isNaN(Date.parse(lm)), `bad Last-Modified ${lm}`);
    const again = await rawRequest(srv.url, { path: '/style.css', headers: { 'If-Modified-Since': lm } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
  });

  test('Range requests → 206 with Content-Range (http.ServeContent)', async () => {
    const body = PUBLIC['style.css'];
    const res = await rawRequest(srv.url, { path: '/style.css', headers: { Range: 'bytes=0-3' } });
    assert.equal(res.status, 206);
    assert.equal(res.text, body.slice(0, 4));
    assert.equal(res.headers['content-range'], `bytes 0-3/${Buffer.byteLength(body)}`);
    assert.equal(res.headers['accept-ranges'], 'bytes');
  });

  test('static responses carry the security headers', async () => {
    const res = await rawRequest(srv.url, { path: '/style.css' });
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
  });

  test('/ serves the root index.html', async () => {
    const res = await rawRequest(srv.url, { path: '/' });
    assert.equal(res.status, 200);
    assert.equal(mediaType(res), 'text/html');
    assert.equal(res.text, PUBLIC['index.html']);
  });

  test('a folder URL with a trailing slash serves its index.html', async () => {
    const res = await rawRequest(srv.url, { path: '/sub/' });
    assert.equal(res.status, 200);
    assert.equal(mediaType(res), 'text/html');
    assert.equal(res.text, PUBLIC['sub/index.html']);
  });

  test('a folder URL without the trailing slash → 301 to the slash form', async () => {
    const res = await rawRequest(srv.url, { path: '/sub' });
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, '/sub/');
  });

  test('…/index.html → 301 to the folder URL', async () => {
    const root = await rawRequest(srv.url, { path: '/index.html' });
    assert.equal(root.status, 301);
    assert.equal(root.headers.location, '/');
    const sub = await rawRequest(srv.url, { path: '/sub/index.html' });
    assert.equal(sub.status, 301);
    assert.equal(sub.headers.location, '/sub/');
  });

  test('a file URL with a trailing slash → 301 without it', async () => {
    const res = await rawRequest(srv.url, { path: '/style.css/' });
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, '/style.css');
  });

  test('unknown paths without an extension fall back to the root index.html', async () => {
    for (const path of ['/some/spa/route', '/login', '/users/123/edit', '/sub/unknown']) {
      const res = await rawRequest(srv.url, { path });
      assert.equal(res.status, 200, path);
      assert.equal(mediaType(res), 'text/html', path);
      assert.equal(res.text, PUBLIC['index.html'], path);
    }
  });

  test('a folder without index.html falls back to the root index.html', async () => {
    const res = await rawRequest(srv.url, { path: '/noindex/' });
    assert.equal(res.status, 200);
    assert.equal(res.text, PUBLIC['index.html']);
  });

  test('unknown paths with an extension fall back too (PocketBase indexFallback)', async () => {
    // apis.Static(fsys, true): any fs.Stat failure serves the root index.html.
    for (const path of ['/missing.js', '/sub/missing.png']) {
      const res = await rawRequest(srv.url, { path });
      assert.equal(res.status, 200, path);
      assert.equal(res.text, PUBLIC['index.html'], path);
    }
  });

  test('API routes are not shadowed by pb_public', async () => {
    const res = await rawRequest(srv.url, { path: '/api/health' });
    assert.equal(res.status, 200);
    assert.match(res.text, /API is healthy/);
  });

  test('path traversal never reaches outside pb_public', async () => {
    const attempts = [
      '/../secret.txt',
      '/../../secret.txt',
      '/sub/../../secret.txt',
      '/./../secret.txt',
      '//../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/.%2e/secret.txt',
      '/%2e./secret.txt',
      '/..%2fsecret.txt',
      '/..%2Fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/sub/%2e%2e/%2e%2e/secret.txt',
      '/sub%2f..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '/%252e%252e/secret.txt',
      '/....//secret.txt',
      '/%2e%2e%00/secret.txt',
      '/secret.txt%00.html',
      '/..%00/secret.txt',
      '/%00../secret.txt',
      '/%c0%ae%c0%ae/secret.txt',
      '/leak.txt',
      '/leakdir/secret.txt',
      '/leakdir/pb_public/leak.txt',
      '/abs-leak.txt',
      '/../pb_data/data.db',
      '/%2e%2e/pb_data/data.db',
      '/leakdir/pb_data/data.db',
    ];
    for (const path of attempts) {
      // raw socket: the request target goes out exactly as written
      const r = await rawSocket(srv.url, Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 'latin1'), {
        idleMs: 1000,
      });
      assert.ok(!r.text.includes(SECRET), `${path} leaked the secret file`);
      assert.ok(!r.text.includes('SQLite format 3'), `${path} leaked data.db`);
      assert.ok(!r.text.includes('root:x:0:0'), `${path} leaked /etc/passwd`);
      const st = statusOf(r.text);
      assert.notEqual(st, 0, `${path}: no answer`);
      assert.ok(st < 500, `${path}: ${st}`);
    }
    assert.equal(await healthStatus(srv.url), 200);
  });
});

describe('pb_public without index.html', () => {
  let srv;
  before(async () => {
    srv = await startServer({ publicFiles: { 'only.txt': 'only', 'dir/x.txt': 'x' }, files: FILES });
  });
  after(() => srv?.destroy());

  test('an existing file is served', async () => {
    const res = await rawRequest(srv.url, { path: '/only.txt' });
    assert.equal(res.status, 200);
    assert.equal(res.text, 'only');
  });

  test('unknown paths → 404 "File not found." JSON', async () => {
    for (const path of ['/nope', '/nope.txt', '/', '/dir/']) {
      const res = await rawRequest(srv.url, { path });
      assert.equal(res.status, 404, path);
      assert.match(res.headers['content-type'] ?? '', /^application\/json\b/, path);
      assert.equal(res.text, '{"data":{},"message":"File not found.","status":404}\n', path);
    }
  });

  test('traversal attempts are 404s', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt']) {
      const r = await rawSocket(srv.url, Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), {
        idleMs: 1000,
      });
      assert.ok(!r.text.includes(SECRET), path);
      assert.ok([301, 400, 404].includes(statusOf(r.text)), `${path}: ${statusOf(r.text)}`);
    }
  });
});
