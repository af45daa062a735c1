// Custom routes, groups and middlewares from C: examples/routes.c (built
// as build/examples/routes), a program of its own on libbasalt, started
// with its own command line (the basalt one, plus its `hello` command).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { client, exampleBin, runCli, startServer } from './lib/server.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };

/** A GET without fetch's automatic decompression: { headers, body }. */
function rawGet(url, headers) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

describe('examples/routes: routes, groups and middlewares', () => {
  const bin = exampleBin('routes');
  let srv;
  let su;
  let user;
  let userToken;

  before(async () => {
    srv = await startServer({ bin });
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir], { bin });
    assert.equal(r.code, 0, r.stderr);
    su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    user = await su.collection('users').create({
      email: 'u@example.com',
      password: 'user-pass-123',
      passwordConfirm: 'user-pass-123',
    });
    const pb = client(srv.url);
    userToken = (await pb.collection('users').authWithPassword('u@example.com', 'user-pass-123')).token;
  });
  after(async () => {
    await srv?.destroy();
  });

  const get = (p, headers = {}) => fetch(srv.url + p, { headers });

  test('a path parameter and the built-in API beside it', async () => {
    const res = await get('/api/demo/hello/Ann%20Lee');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { message: 'Hello, Ann Lee!' });
    assert.equal((await get('/api/health')).status, 200);
    assert.equal((await get('/api/demo/nope')).status, 404);
  });

  test('require auth: 401 for a guest, the request info for a user', async () => {
    const guest = await get('/api/demo/me');
    assert.equal(guest.status, 401);
    assert.deepEqual(await guest.json(), {
      data: {},
      message: 'The request requires valid record authorization token.',
      status: 401,
    });
    const res = await get('/api/demo/me?q=1&x=two', { Authorization: userToken, 'X-Custom-Thing': 'v' });
    assert.equal(res.status, 200);
    const info = await res.json();
    assert.equal(info.auth.id, user.id);
    assert.equal(info.auth.collectionName, 'users');
    assert.equal(info.auth.email, 'u@example.com');
    assert.equal(info.auth.password, undefined);
    assert.equal(info.auth.tokenKey, undefined);
    assert.deepEqual(info.query, { q: '1', x: 'two' });
    assert.equal(info.headers.x_custom_thing, 'v');
    assert.equal(info.method, 'GET');
    assert.equal(info.context, 'default');
  });

  test('require superuser or owner', async () => {
    const own = await get(`/api/demo/users/${user.id}`, { Authorization: userToken });
    assert.equal(own.status, 200);
    assert.equal((await own.json()).id, user.id);
    const other = await get('/api/demo/users/someoneelse123', { Authorization: userToken });
    assert.equal(other.status, 403);
    assert.equal((await other.json()).message, 'The authorized record is not allowed to perform this action.');
    const bySu = await get(`/api/demo/users/${user.id}`, { Authorization: su.authStore.token });
    assert.equal(bySu.status, 200);
    const missing = await get('/api/demo/users/someoneelse123', { Authorization: su.authStore.token });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).message, "The requested resource wasn't found.");
    assert.equal((await get(`/api/demo/users/${user.id}`)).status, 401);
  });

  test('a group requiring a superuser, with SQL through the query API', async () => {
    assert.equal((await get('/api/demo/admin/stats')).status, 401);
    assert.equal((await get('/api/demo/admin/stats', { Authorization: userToken })).status, 403);
    const res = await get('/api/demo/admin/stats', { Authorization: su.authStore.token });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { users: 1, unverified: 1 });
  });

  test('body limit: 413 past 64 bytes, the parsed body below', async () => {
    const post = (body, type = 'application/json') =>
      fetch(srv.url + '/api/demo/echo', { method: 'POST', headers: { 'Content-Type': type }, body });
    const small = await post(JSON.stringify({ a: 1, b: 'x' }));
    assert.equal(small.status, 200);
    assert.deepEqual(await small.json(), { a: 1, b: 'x' });
    const form = await post('a=1&b=two', 'application/x-www-form-urlencoded');
    assert.deepEqual(await form.json(), { a: '1', b: 'two' });
    const big = await post(JSON.stringify({ a: 'x'.repeat(100) }));
    assert.equal(big.status, 413);
    assert.equal((await big.json()).status, 413);
  });

  test('gzip for a client that accepts it, plain otherwise', async () => {
    const zipped = await rawGet(srv.url + '/api/demo/big', { 'Accept-Encoding': 'gzip' });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    const text = zlib.gunzipSync(zipped.body).toString();
    assert.equal(text.length, 4095);
    assert.ok(zipped.body.length < 200);
    const plain = await rawGet(srv.url + '/api/demo/big', { 'Accept-Encoding': 'identity' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), text);
  });

  test('an error helper with field data', async () => {
    const res = await get('/api/demo/teapot');
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      data: { pot: { code: 'validation_teapot', message: 'Short and stout.' } },
      message: "I'm a teapot.",
      status: 400,
    });
  });

  test('route and group middlewares run by priority, whatever the binding order', async () => {
    const res = await get('/api/demo/order');
    assert.equal(res.status, 204);
    // c (group, -1) is outermost, b (route, 5) innermost.
    assert.equal(res.headers.get('x-inner'), 'b');
    assert.equal(res.headers.get('x-outer'), 'c');
  });

  test('the program has the basalt command line plus its own command', async () => {
    const help = await runCli(['--help'], { bin });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /serve/);
    assert.match(help.stdout, /superuser/);
    assert.match(help.stdout, /hello\s+NAME/);
    const hello = await runCli(['hello', 'Bob', '--dir', srv.dir], { bin });
    assert.equal(hello.code, 0, hello.stderr);
    assert.match(hello.stdout, /Hello, Bob! There are 1 users\./);
    const bad = await runCli(['frobnicate', '--dir', srv.dir], { bin });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown command "frobnicate"/);
  });
});
