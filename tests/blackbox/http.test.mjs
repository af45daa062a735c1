// HTTP core behaviour: 404s (never 405), CORS, security headers, body
// limit, malformed input, graceful shutdown and crash durability.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { ClientResponseError } from 'pocketbase';
import {
  startServer,
  client,
  rawRequest,
  rawSocket,
  statusOf,
  healthStatus,
  TOKENS,
  FIXTURE_SKIP,
} from './lib/server.mjs';

const NOT_FOUND = '{"data":{},"message":"The requested resource wasn\'t found.","status":404}\n';
const FILE_NOT_FOUND = '{"data":{},"message":"File not found.","status":404}\n';
const TOO_LARGE = '{"data":{},"message":"Request entity too large.","status":413}\n';
const MAX_BODY = 32 << 20; // PocketBase's DefaultMaxBodySize

const SECURITY_HEADERS = {
  'x-xss-protection': '1; mode=block',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
};

/** The Vary tokens of a response (several header lines or one list). */
function varyTokens(res) {
  const v = res.headers.vary;
  const list = Array.isArray(v) ? v.join(',') : v ?? '';
  return list
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Splits raw response bytes into HTTP/1.x responses (status line, headers,
 * Content-Length body). Returns { responses: [{status, headers}], rest }
 * where rest is whatever could not be parsed as a whole response.
 */
function parseResponses(text) {
  const responses = [];
  let rest = text;
  for (;;) {
    const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(rest);
    if (!m) break;
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const headers = {};
    for (const line of rest.slice(m[0].length, end).split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] ?? 0);
    const bodyStart = end + 4;
    if (rest.length < bodyStart + len) break;
    responses.push({ status: Number(m[1]), headers });
    rest = rest.slice(bodyStart + len);
  }
  return { responses, rest };
}

/**
 * Sends a body of `size` bytes with a Content-Length, streaming it in
 * chunks; the server may answer (and close) before it has read it all.
 */
function sendSized(url, { method = 'POST', path, size, headers = {} }) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path,
        agent: false,
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(size), ...headers },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          settled = true;
          resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() });
        });
        res.on('error', (e) => {
          if (!settled) reject(e);
        });
      },
    );
    req.on('error', (e) => {
      // EPIPE / ECONNRESET after an early answer are expected; only fail
      // when no response ever came.
      setTimeout(() => {
        if (!settled) reject(e);
      }, 500);
    });
    const chunk = Buffer.alloc(1 << 20, 0x20);
    let left = size;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('routing, CORS, headers, limits (default origins)', () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv?.destroy());

  test('unknown API route (POST) → 404 JSON error body', async () => {
    const res = await rawRequest(srv.url, { method: 'POST', path: '/api/does-not-exist', body: '{}' });
    assert.equal(res.status, 404);
    assert.match(res.headers['content-type'] ?? '', /^application\/json\b/);
    assert.equal(res.text, NOT_FOUND);
  });

  test('unknown route through pb.send → ClientResponseError 404', async () => {
    const pb = client(srv.url);
    await assert.rejects(
      pb.send('/api/does-not-exist', { method: 'DELETE' }),
      (err) => {
        assert.ok(err instanceof ClientResponseError);
        assert.equal(err.status, 404);
        assert.deepEqual(err.response, {
          data: {},
          message: "The requested resource wasn't found.",
          status: 404,
        });
        return true;
      },
    );
  });

  test('unknown GET path (no pb_public) → 404 "File not found."', async () => {
    for (const path of ['/api/does-not-exist', '/nothing/here', '/api/health/']) {
      const res = await rawRequest(srv.url, { path });
      assert.equal(res.status, 404, path);
      assert.equal(res.text, FILE_NOT_FOUND, path);
    }
  });

  test('never 405: a known path under another method is a 404', async () => {
    const cases = [
      ['POST', '/api/health'],
      ['PUT', '/api/health'],
      ['PATCH', '/api/health'],
      ['DELETE', '/api/health'],
      ['POST', '/api/settings'],
      ['PUT', '/api/settings'],
      ['DELETE', '/api/settings'],
    ];
    for (const [method, path] of cases) {
      const res = await rawRequest(srv.url, { method, path, body: method === 'DELETE' ? undefined : '{}' });
      assert.notEqual(res.status, 405, `${method} ${path}`);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.text, NOT_FOUND, `${method} ${path}`);
      assert.equal(res.headers.allow, undefined, `${method} ${path}: no Allow header`);
    }
  });

  test('an unknown method is not a 405 either', async () => {
    const res = await rawRequest(srv.url, { method: 'PROPFIND', path: '/api/health' });
    assert.notEqual(res.status, 405);
    assert.equal(res.status, 404);
  });

  test('security headers on ordinary responses (200 and 404)', async () => {
    for (const [method, path] of [
      ['GET', '/api/health'],
      ['POST', '/api/nope'],
      ['GET', '/missing'],
    ]) {
      const res = await rawRequest(srv.url, { method, path });
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers[k], v, `${method} ${path} ${k}`);
    }
  });

  test('CORS: no Origin → no Access-Control-Allow-Origin, Vary: Origin', async () => {
    const res = await rawRequest(srv.url, { path: '/api/health' });
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.ok(varyTokens(res).includes('origin'));
  });

  test('CORS: any Origin gets Access-Control-Allow-Origin: * by default', async () => {
    for (const path of ['/api/health', '/api/nope']) {
      const res = await rawRequest(srv.url, { path, headers: { Origin: 'http://example.com' } });
      assert.equal(res.headers['access-control-allow-origin'], '*', path);
      assert.ok(varyTokens(res).includes('origin'), path);
      assert.equal(res.headers['access-control-allow-credentials'], undefined);
    }
  });

  test('CORS: the SDK (fetch with Origin) sees the header', async () => {
    const res = await fetch(`${srv.url}/api/health`, { headers: { Origin: 'https://app.example.org' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    await res.arrayBuffer();
  });

  test('CORS preflight → 204, allow methods and echoed headers, no body', async () => {
    for (const path of ['/api/settings', '/api/collections/posts/records', '/anything']) {
      const res = await rawRequest(srv.url, {
        method: 'OPTIONS',
        path,
        headers: {
          Origin: 'http://example.com',
          'Access-Control-Request-Method': 'PATCH',
          'Access-Control-Request-Headers': 'content-type,authorization',
        },
      });
      assert.equal(res.status, 204, path);
      assert.equal(res.body.length, 0, path);
      assert.equal(res.headers['access-control-allow-origin'], '*', path);
      assert.equal(res.headers['access-control-allow-methods'], 'GET,HEAD,PUT,PATCH,POST,DELETE', path);
      assert.equal(res.headers['access-control-allow-headers'], 'content-type,authorization', path);
      const vary = varyTokens(res);
      for (const t of ['origin', 'access-control-request-method', 'access-control-request-headers'])
        assert.ok(vary.includes(t), `${path}: Vary has ${t}`);
      assert.equal(res.headers['access-control-max-age'], undefined);
      assert.equal(res.headers['access-control-allow-credentials'], undefined);
      // PocketBase answers preflights before the security headers middleware.
      assert.equal(res.headers['x-frame-options'], undefined, path);
    }
  });

  test('CORS preflight without Access-Control-Request-Headers has no Allow-Headers', async () => {
    const res = await rawRequest(srv.url, {
      method: 'OPTIONS',
      path: '/api/health',
      headers: { Origin: 'http://example.com', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-headers'], undefined);
  });

  test('OPTIONS without Origin → 204, no CORS headers', async () => {
    const res = await rawRequest(srv.url, { method: 'OPTIONS', path: '/api/health' });
    assert.equal(res.status, 204);
    assert.equal(res.body.length, 0);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-methods'], undefined);
    assert.ok(varyTokens(res).includes('origin'));
  });

  test('body over 32 MiB → 413 JSON before auth, and the server keeps serving', async () => {
    const res = await sendSized(srv.url, { method: 'PATCH', path: '/api/settings', size: MAX_BODY + 1 });
    assert.equal(res.status, 413);
    assert.equal(res.text, TOO_LARGE);
    assert.equal(await healthStatus(srv.url), 200);
    const res2 = await sendSized(srv.url, { method: 'POST', path: '/api/nope', size: MAX_BODY + 1024 });
    assert.equal(res2.status, 413);
    assert.equal(await healthStatus(srv.url), 200);
  });

  test('a body of exactly 32 MiB is not too large', async () => {
    const res = await sendSized(srv.url, { method: 'POST', path: '/api/nope', size: MAX_BODY });
    assert.equal(res.status, 404);
    assert.equal(res.text, NOT_FOUND);
  });

  test('malformed request lines do not kill the server', async () => {
    const junk = [
      'GARBAGE\r\n\r\n',
      'GET\r\n\r\n',
      'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
      'POST /api/nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n',
      'GET /api/health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n',
      'GET /\0/x HTTP/1.1\r\nHost: x\r\n\r\n',
      '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + 'A'.repeat(64), // a TLS ClientHello start
      '\r\n\r\n\r\n',
    ];
    for (const j of junk) {
      const r = await rawSocket(srv.url, Buffer.from(j, 'latin1'), { idleMs: 500 });
      const st = statusOf(r.text);
      // Either one well-formed 4xx answer, or the connection is dropped -
      // never a crash, never a garbled or doubled answer.
      if (st) {
        assert.ok((st >= 400 && st < 500) || st === 505, `${JSON.stringify(j)} → ${st}`);
        const { responses, rest } = parseResponses(r.text);
        assert.equal(responses.length, 1, `${JSON.stringify(j)}: one response, got ${JSON.stringify(r.text)}`);
        assert.equal(rest, '', `${JSON.stringify(j)}: bytes after the response: ${JSON.stringify(rest)}`);
      }
      assert.equal(srv.proc.exitCode, null, `server died on ${JSON.stringify(j)}`);
      assert.equal(await healthStatus(srv.url), 200, `after ${JSON.stringify(j)}`);
    }
  });

  // libmicrohttpd 0.9.75 (Debian 12) answers an invalid Content-Length
  // itself and writes its 400 header block twice. The server survives and
  // the connection is closed; the doubled answer is the library's, so the
  // strict check below is kept as a known failure until the library is
  // fixed, and survival is asserted on its own. It cannot be worked around
  // from Basalt: once the library has queued its own error it never calls
  // the access handler for that request (call_connection_handler returns
  // early), and then builds the header block a second time.
  const badLengths = [
    'GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
    'GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
  ];

  test('an invalid Content-Length does not kill the server', async () => {
    for (const j of badLengths) {
      const r = await rawSocket(srv.url, Buffer.from(j, 'latin1'), { idleMs: 500 });
      const st = statusOf(r.text);
      if (st) assert.equal(st, 400, `${JSON.stringify(j)} → ${st}`);
      assert.equal(srv.proc.exitCode, null, `server died on ${JSON.stringify(j)}`);
      assert.equal(await healthStatus(srv.url), 200, `after ${JSON.stringify(j)}`);
    }
  });

  test('an invalid Content-Length gets exactly one answer',
    { todo: 'libmicrohttpd 0.9.75 doubles the header block of its own 400' },
    async () => {
      for (const j of badLengths) {
        const r = await rawSocket(srv.url, Buffer.from(j, 'latin1'), { idleMs: 500 });
        const { responses, rest } = parseResponses(r.text);
        assert.equal(responses.length, 1, `${JSON.stringify(j)}: one response`);
        assert.equal(rest, '', `${JSON.stringify(j)}: bytes after the response`);
      }
    });

  test('a huge request line or header does not kill the server', async () => {
    const longUrl = `GET /api/health?x=${'a'.repeat(2 << 20)} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const bigHeader = `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(2 << 20)}\r\n\r\n`;
    const manyHeaders = `GET /api/health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 20000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`;
    for (const [name, j] of [
      ['long url', longUrl],
      ['big header', bigHeader],
      ['many headers', manyHeaders],
    ]) {
      const r = await rawSocket(srv.url, Buffer.from(j, 'latin1'), { idleMs: 500 });
      const st = statusOf(r.text);
      if (st) {
        assert.ok(st >= 400 && st < 500, `${name} → ${st}`);
        assert.equal(parseResponses(r.text).responses.length, 1, `${name}: one response`);
      }
      assert.equal(srv.proc.exitCode, null, `server died on ${name}`);
      assert.equal(await healthStatus(srv.url), 200, `after ${name}`);
    }
  });

  // Regression: each query argument took room in libmicrohttpd's fixed
  // per-connection pool; ~480 short ones exhausted it and the library then
  // stalled the connection until the 60 s idle timeout, with no answer.
  test('a URL with 480 short query parameters is answered', async () => {
    const qs = Array.from({ length: 480 }, (_, i) => `a${i}=1`).join('&');
    const r = await rawSocket(srv.url, `GET /api/health?${qs}&fields=code HTTP/1.1\r\nHost: x\r\n\r\n`, {
      idleMs: 5000,
    });
    assert.equal(statusOf(r.text), 200, `no answer: ${JSON.stringify(r.text.slice(0, 200))}`);
    assert.ok(r.text.endsWith('{"code":200}\n'), 'the last argument is still read');
  });

  test('12,000 empty query arguments in a 24 KB URL are answered', async () => {
    const qs = 'a&'.repeat(12000);
    const r = await rawSocket(srv.url, `GET /api/health?${qs}fields=%63ode HTTP/1.1\r\nHost: x\r\n\r\n`, {
      idleMs: 5000,
    });
    assert.equal(statusOf(r.text), 200);
    assert.ok(r.text.endsWith('{"code":200}\n'), 'the argument after them is decoded and read');
  });

  test('a 20 KB filter in the URL with a 4 KB cookie is accepted', async () => {
    const filter = encodeURIComponent(Array.from({ length: 2500 }, (_, i) => `id="x${i}"`).join('||')).slice(0, 20000);
    const res = await rawRequest(srv.url, {
      path: `/api/health?filter=${filter}`,
      headers: { Cookie: `pb_auth=${'c'.repeat(4096)}` },
    });
    assert.equal(res.status, 200);
  });

  test('a request head past the limit is answered 414/431 at once, not left hanging', async () => {
    const cases = [
      ['1 MiB URL', `GET /api/health?filter=${'a'.repeat(1 << 20)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
      ['1 MiB header', `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(1 << 20)}\r\n\r\n`, 431],
    ];
    for (const [name, j, status] of cases) {
      const r = await rawSocket(srv.url, Buffer.from(j, 'latin1'), { idleMs: 5000 });
      assert.equal(statusOf(r.text), status, name);
      assert.equal(parseResponses(r.text).responses.length, 1, `${name}: one response`);
      assert.equal(await healthStatus(srv.url), 200, `after ${name}`);
    }
  });

  // Regression: the body was read (and dropped) to its end before the 413,
  // so a large or endless upload got no answer for as long as it lasted.
  test('a Content-Length over the limit gets 413 before any body is sent', async () => {
    const r = await rawSocket(
      srv.url,
      'POST /api/nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n',
      { idleMs: 5000 },
    );
    assert.equal(statusOf(r.text), 413, JSON.stringify(r.text));
    const { responses } = parseResponses(r.text);
    assert.equal(responses.length, 1);
    assert.equal(responses[0].headers.connection, 'close');
    assert.match(responses[0].headers['content-type'] ?? '', /^application\/json\b/);
    assert.ok(r.text.endsWith(TOO_LARGE), JSON.stringify(r.text));
    assert.equal(r.closed, true, 'the connection is closed after the 413');
  });

  test('a chunked body is cut with 413 once it passes the limit', async () => {
    const s = net.connect({ host: '127.0.0.1', port: srv.port });
    const chunks = [];
    let ended = false;
    s.on('data', (d) => chunks.push(d));
    s.on('close', () => (ended = true));
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write('POST /api/nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    const piece = Buffer.concat([Buffer.from('100000\r\n'), Buffer.alloc(1 << 20, 0x20), Buffer.from('\r\n')]);
    // 48 MiB and never the last chunk: only a cut at the limit answers.
    for (let i = 0; i < 48 && !ended; i++) {
      if (!s.write(piece)) await new Promise((r) => (ended ? r() : s.once('drain', r).once('close', r)));
    }
    const deadline = Date.now() + 5000;
    while (!ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    s.destroy();
    const text = Buffer.concat(chunks).toString('latin1');
    assert.equal(statusOf(text), 413, JSON.stringify(text.slice(0, 200)));
    assert.ok(text.endsWith(TOO_LARGE), JSON.stringify(text));
    assert.ok(ended, 'the connection is closed after the 413');
    assert.equal(await healthStatus(srv.url), 200);
  });

  test('an unknown Transfer-Encoding gets 501 JSON at once', async () => {
    for (const te of ['gzip', 'chunked, gzip', 'gzip, chunked', 'identity']) {
      const r = await rawSocket(
        srv.url,
        `POST /api/nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${te}\r\n\r\n{}`,
        { idleMs: 5000 },
      );
      assert.equal(statusOf(r.text), 501, `${te}: ${JSON.stringify(r.text)}`);
      const { responses, rest } = parseResponses(r.text);
      assert.equal(responses.length, 1, te);
      assert.equal(rest, '', te);
      assert.ok(r.text.endsWith('{"data":{},"message":"Unsupported transfer encoding.","status":501}\n'), te);
    }
    // Two Transfer-Encoding lines are as unreadable as an unknown coding.
    const r = await rawSocket(
      srv.url,
      'POST /api/nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n',
      { idleMs: 5000 },
    );
    assert.equal(statusOf(r.text), 501);
    assert.equal(await healthStatus(srv.url), 200);
  });

  test('ordinary large headers (8 KiB cookie) are accepted', async () => {
    const res = await rawRequest(srv.url, {
      path: '/api/health',
      headers: { Cookie: `pb_auth=${'c'.repeat(8 * 1024)}`, 'X-Extra': 'e'.repeat(4096) },
    });
    assert.equal(res.status, 200);
  });

  test('a client that disconnects mid-request does not kill the server', async () => {
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: srv.port }, () => {
          s.write('POST /api/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"a":', () => {
            s.destroy();
            resolve();
          });
        });
        s.on('error', resolve);
      });
    }
    assert.equal(await healthStatus(srv.url), 200);
  });
});

describe('--origins restricts CORS', () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--origins=http://allowed.test,https://*.example.com'] });
  });
  after(() => srv?.destroy());

  test('an allowed origin is echoed', async () => {
    const res = await rawRequest(srv.url, { path: '/api/health', headers: { Origin: 'http://allowed.test' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], 'http://allowed.test');
  });

  test('a disallowed origin gets no Access-Control-Allow-Origin, the request still runs', async () => {
    const res = await rawRequest(srv.url, { path: '/api/health', headers: { Origin: 'http://evil.test' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.ok(varyTokens(res).includes('origin'));
  });

  test('origin matching is exact (no case folding, no prefix match)', async () => {
    for (const origin of ['http://ALLOWED.test', 'http://allowed.test.evil.com', 'https://allowed.test']) {
      const res = await rawRequest(srv.url, { path: '/api/health', headers: { Origin: origin } });
      assert.equal(res.headers['access-control-allow-origin'], undefined, origin);
    }
  });

  test('a wildcard origin pattern matches subdomains and echoes the origin', async () => {
    const res = await rawRequest(srv.url, { path: '/api/health', headers: { Origin: 'https://app.example.com' } });
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
    const bad = await rawRequest(srv.url, { path: '/api/health', headers: { Origin: 'https://example.org' } });
    assert.equal(bad.headers['access-control-allow-origin'], undefined);
  });

  test('preflight from a disallowed origin → 204 without CORS headers', async () => {
    const res = await rawRequest(srv.url, {
      method: 'OPTIONS',
      path: '/api/settings',
      headers: { Origin: 'http://evil.test', 'Access-Control-Request-Method': 'PATCH' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-methods'], undefined);
  });

  test('preflight from an allowed origin → 204 with CORS headers', async () => {
    const res = await rawRequest(srv.url, {
      method: 'OPTIONS',
      path: '/api/settings',
      headers: { Origin: 'http://allowed.test', 'Access-Control-Request-Method': 'PATCH' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], 'http://allowed.test');
    assert.equal(res.headers['access-control-allow-methods'], 'GET,HEAD,PUT,PATCH,POST,DELETE');
  });
});

describe('process life', () => {
  test('SIGTERM → graceful exit with status 0', async (t) => {
    const srv = await startServer();
    t.after(() => srv.destroy());
    assert.equal(await healthStatus(srv.url), 200);
    const info = await srv.stop('SIGTERM');
    assert.deepEqual({ code: info.code, signal: info.signal }, { code: 0, signal: null }, srv.output());
  });

  test('SIGINT → exit 0 too', async (t) => {
    const srv = await startServer();
    t.after(() => srv.destroy());
    const info = await srv.stop('SIGINT');
    assert.deepEqual({ code: info.code, signal: info.signal }, { code: 0, signal: null }, srv.output());
  });

  test('SIGTERM with an idle keep-alive connection open still exits 0', async (t) => {
    const srv = await startServer();
    t.after(() => srv.destroy());
    const sock = net.connect({ host: '127.0.0.1', port: srv.port });
    await new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.once('data', () => resolve());
      sock.write('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    sock.on('error', () => {});
    const info = await srv.stop('SIGTERM');
    sock.destroy();
    assert.deepEqual({ code: info.code, signal: info.signal }, { code: 0, signal: null }, srv.output());
  });

  test('kill -9 right after a settings PATCH: the change survives a restart', { skip: FIXTURE_SKIP }, async (t) => {
    const srv = await startServer({ fixture: true });
    t.after(() => srv.destroy());
    const name = `durable-${process.pid}-${Date.now()}`;
    const updated = await client(srv.url, TOKENS.superuser).settings.update({ meta: { appName: name } });
    assert.equal(updated.meta.appName, name);
    await srv.kill9();
    assert.equal(srv.exitInfo.signal, 'SIGKILL');
    await srv.restart();
    const got = await client(srv.url, TOKENS.superuser).settings.getAll();
    assert.equal(got.meta.appName, name);
  });
});
