// GET /api/health: guest and superuser answers, HEAD, through the SDK and raw.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, client, rawRequest, TOKENS, FIXTURE_SKIP } from './lib/server.mjs';

const GUEST_BODY = '{"message":"API is healthy.","code":200,"data":{}}';

describe('health on a fresh data dir', () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv?.destroy());

  test('guest GET answers exactly PocketBase\'s body', async () => {
    const res = await fetch(`${srv.url}/api/health`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
    // e.JSON() in PocketBase: json.Encoder output, so a trailing newline.
    assert.equal(await res.text(), `${GUEST_BODY}\n`);
  });

  test('a fresh server logs no error while it idles', async () => {
    // Background threads (the webhook sender polls every second) must
    // not fail on tables a fresh data dir does not have yet.
    await new Promise((r) => setTimeout(r, 2500));
    const errors = srv.output().split('\n').filter((l) => / ERROR /.test(l));
    assert.deepEqual(errors, []);
  });

  test('pb.health.check() as a guest', async () => {
    const pb = client(srv.url);
    const res = await pb.health.check();
    assert.deepEqual(res, { message: 'API is healthy.', code: 200, data: {} });
  });

  test('query parameters do not change the answer', async () => {
    const res = await fetch(`${srv.url}/api/health?x=1&y=%20`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `${GUEST_BODY}\n`);
  });

  test('an invalid token is ignored: still the guest answer', async () => {
    const res = await fetch(`${srv.url}/api/health`, { headers: { Authorization: 'Bearer not.a.token' } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `${GUEST_BODY}\n`);
  });

  test('HEAD answers 200 with the headers and no body', async () => {
    const res = await rawRequest(srv.url, { method: 'HEAD', path: '/api/health' });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^application\/json\b/);
    assert.equal(res.body.length, 0);

    const f = await fetch(`${srv.url}/api/health`, { method: 'HEAD' });
    assert.equal(f.status, 200);
    assert.equal((await f.arrayBuffer()).byteLength, 0);
  });

  test('many sequential requests on kept-alive connections', async () => {
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${srv.url}/api/health`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
  });
});

describe('health on the PocketBase fixture', { skip: FIXTURE_SKIP }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ fixture: true });
  });
  after(() => srv?.destroy());

  test('superuser gets canBackup, realIP and possibleProxyHeader', async () => {
    const pb = client(srv.url, TOKENS.superuser);
    const res = await pb.health.check();
    assert.equal(res.code, 200);
    assert.equal(res.message, 'API is healthy.');
    assert.deepEqual(Object.keys(res.data).sort(), ['canBackup', 'possibleProxyHeader', 'realIP']);
    assert.equal(res.data.canBackup, true);
    assert.equal(res.data.realIP, '127.0.0.1');
    assert.equal(res.data.possibleProxyHeader, '');
  });

  test('superuser raw body: keys sorted like a Go map', async () => {
    const res = await fetch(`${srv.url}/api/health`, { headers: { Authorization: TOKENS.superuser } });
    assert.equal(res.status, 200);
    assert.equal(
      await res.text(),
      '{"message":"API is healthy.","code":200,"data":{"canBackup":true,"possibleProxyHeader":"","realIP":"127.0.0.1"}}\n',
    );
  });

  test('superuser: a known proxy header is reported as possibleProxyHeader', async () => {
    const pb = client(srv.url, TOKENS.superuser);
    const res = await pb.health.check({ headers: { 'CF-Connecting-IP': '203.0.113.7' } });
    assert.equal(res.data.possibleProxyHeader, 'CF-Connecting-IP');
    // Without trusted proxy settings the real IP stays the remote address.
    assert.equal(res.data.realIP, '127.0.0.1');
  });

  test('a regular user gets the guest answer', async () => {
    const pb = client(srv.url, TOKENS.user);
    const res = await pb.health.check();
    assert.deepEqual(res, { message: 'API is healthy.', code: 200, data: {} });
  });

  test('HEAD as superuser answers 200 with no body', async () => {
    const res = await rawRequest(srv.url, {
      method: 'HEAD',
      path: '/api/health',
      headers: { Authorization: TOKENS.superuser },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
  });
});
