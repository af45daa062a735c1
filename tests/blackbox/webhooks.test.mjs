// Webhooks (a Basalt extension, docs/webhooks.md) against a local
// receiver: the superuser API and its validation, signed deliveries,
// retries with backoff, the delivery log and a manual retry, filters, a
// rolled-back batch that delivers nothing, and kill -9: every committed
// change is delivered after a restart, and an acknowledged delivery is
// never sent again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import { startServer, runCli } from './lib/server.mjs';
import { superuserClient } from './lib/assert.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A receiver: `mode(path, deliveryId, attempt)` returns the status to
// answer. Every request is kept with its raw body and headers.
async function receiver(mode) {
  const r = { requests: [], mode, attempts: new Map() };
  r.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString();
      const id = req.headers['x-basalt-delivery'];
      const attempt = (r.attempts.get(id) || 0) + 1;
      r.attempts.set(id, attempt);
      const status = r.mode(req.url, id, attempt);
      r.requests.push({ path: req.url, headers: req.headers, raw, status, attempt });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise((ok) => r.server.listen(0, '127.0.0.1', ok));
  r.url = `http://127.0.0.1:${r.server.address().port}`;
  r.acked = () => r.requests.filter((q) => q.status >= 200 && q.status < 300);
  r.close = () => new Promise((ok) => r.server.close(ok));
  return r;
}

async function until(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function api(srv, token, method, path, body) {
  const res = await fetch(srv.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function setup(t, env) {
  const srv = await startServer({ env });
  t.after(() => srv.destroy());
  const su = await superuserClient(srv, ADMIN);
  await su.collections.create({
    name: 'posts',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '',
    updateRule: '',
    deleteRule: '',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'note', type: 'text', hidden: true },
    ],
  });
  return { srv, su, token: su.authStore.token };
}

test('the API: superusers only, validation in PocketBase error shape, CRUD', async (t) => {
  const { srv, su, token } = await setup(t);
  assert.equal((await api(srv, null, 'GET', '/api/webhooks')).status, 401);
  assert.equal((await api(srv, null, 'POST', '/api/webhooks', {})).status, 401);
  // A signed-in user who is not a superuser: 403.
  await su.collection('users').create({ email: 'user@example.com', password: 'user-pass-123', passwordConfirm: 'user-pass-123' });
  const user = (await (await fetch(`${srv.url}/api/collections/users/auth-with-password`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity: 'user@example.com', password: 'user-pass-123' }),
  })).json()).token;
  assert.equal((await api(srv, user, 'GET', '/api/webhooks')).status, 403);
  assert.equal((await api(srv, user, 'POST', '/api/webhooks', {})).status, 403);

  const bad = await api(srv, token, 'POST', '/api/webhooks', {
    collection: 'missing', events: ['create', 'boom'], url: 'javascript:alert(1)',
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.status, 400);
  assert.equal(typeof bad.body.message, 'string');
  assert.equal(bad.body.data.collection.code, 'validation_invalid_collection');
  assert.equal(bad.body.data.events.code, 'validation_invalid_event');
  assert.equal(bad.body.data.url.code, 'validation_invalid_url');
  const badFilter = await api(srv, token, 'POST', '/api/webhooks', {
    collection: 'posts', events: ['create'], url: 'https://example.com/x', filter: 'nope = ',
  });
  assert.equal(badFilter.status, 400);
  assert.equal(badFilter.body.data.filter.code, 'validation_invalid_filter');

  const made = await api(srv, token, 'POST', '/api/webhooks', {
    collection: 'posts', events: ['create', 'delete'], url: 'https://example.com/hook', secret: 's3cret',
  });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  const hook = made.body;
  assert.equal(hook.collectionName, 'posts');
  assert.deepEqual(hook.events, ['create', 'delete']);
  assert.equal(hook.active, true);
  assert.equal(hook.secret, 's3cret');
  assert.equal((await api(srv, token, 'GET', `/api/webhooks/${hook.id}`)).body.url, 'https://example.com/hook');

  const upd = await api(srv, token, 'PATCH', `/api/webhooks/${hook.id}`, { active: false, events: ['update'] });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.active, false);
  assert.deepEqual(upd.body.events, ['update']);
  assert.equal(upd.body.url, 'https://example.com/hook');

  const list = await api(srv, token, 'GET', '/api/webhooks?page=1&perPage=10');
  assert.equal(list.status, 200);
  assert.equal(list.body.totalItems, 1);
  assert.equal(list.body.items[0].id, hook.id);

  // Webhooks live in data.db: a restart keeps them.
  await srv.restart();
  const su2 = await superuserClient(srv, ADMIN);
  const again = await api(srv, su2.authStore.token, 'GET', `/api/webhooks/${hook.id}`);
  assert.equal(again.status, 200);
  assert.equal(again.body.active, false);

  assert.equal((await api(srv, su2.authStore.token, 'DELETE', `/api/webhooks/${hook.id}`)).status, 204);
  assert.equal((await api(srv, su2.authStore.token, 'GET', `/api/webhooks/${hook.id}`)).status, 404);
});

test('signed deliveries, retries with backoff, filter, rolled-back batch, log and manual retry', async (t) => {
  // Each delivery to /flaky fails twice, then succeeds; /down always fails
  // until `downFixed`.
  let downFixed = false;
  const rx = await receiver((path, id, attempt) => {
    if (path === '/flaky') return attempt <= 2 ? 500 : 204;
    return downFixed ? 200 : 503;
  });
  t.after(() => rx.close());
  const { srv, su, token } = await setup(t, {
    BASALT_WEBHOOK_RETRY_MS: '100',
    BASALT_WEBHOOK_MAX_ATTEMPTS: '3',
  });
  await su.settings.update({ batch: { enabled: true, maxRequests: 50 } });
  const hook = (await api(srv, token, 'POST', '/api/webhooks', {
    collection: 'posts', events: ['create', 'update', 'delete'], url: `${rx.url}/flaky`,
    filter: "title != 'skip'", secret: 'topsecret',
  })).body;

  const a = await su.collection('posts').create({ title: 'hello', note: 'hidden' });
  await su.collection('posts').create({ title: 'skip' });
  await su.collection('posts').update(a.id, { title: 'hello 2' });
  await su.collection('posts').delete(a.id);
  // A batch whose second item fails is rolled back whole: no delivery.
  const batch = su.createBatch();
  batch.collection('posts').create({ title: 'in a failed batch' });
  batch.collection('posts').create({ title: '' });
  await assert.rejects(batch.send());

  await until('three acknowledged deliveries', () => rx.acked().length >= 3);
  await sleep(400); // anything else that might come
  const acked = rx.acked();
  assert.equal(acked.length, 3);
  const bodies = acked.map((q) => JSON.parse(q.raw));
  assert.deepEqual(bodies.map((b) => b.action).sort(), ['create', 'delete', 'update']);
  for (const q of acked) {
    const b = JSON.parse(q.raw);
    assert.equal(q.attempt, 3, 'two failures, then the third attempt');
    assert.equal(q.headers['content-type'], 'application/json');
    assert.equal(q.headers['x-basalt-webhook'], hook.id);
    assert.equal(q.headers['x-basalt-delivery'], b.id);
    const ts = q.headers['x-basalt-timestamp'];
    assert.match(ts, /^\d+$/);
    const want = crypto.createHmac('sha256', 'topsecret').update(`${ts}.${q.raw}`).digest('hex');
    assert.equal(q.headers['x-basalt-signature'], `sha256=${want}`);
    assert.equal(b.webhook, hook.id);
    assert.equal(b.collection, 'posts');
    assert.equal(b.record.id, a.id);
    assert.equal(b.record.note, 'hidden', 'the superuser view of the record');
    assert.ok(b.created);
  }
  // No request for the filtered-out record or the rolled-back batch.
  assert.ok(rx.requests.every((q) => JSON.parse(q.raw).record.id === a.id));
  // Retries of one delivery carry the same body.
  const forCreate = rx.requests.filter((q) => JSON.parse(q.raw).action === 'create');
  assert.equal(new Set(forCreate.map((q) => q.raw)).size, 1);

  const log = await until('the log to record every acknowledgement', async () => {
    const l = await api(srv, token, 'GET', `/api/webhooks/${hook.id}/deliveries`);
    return l.body.items.every((d) => d.status === 'delivered') && l.body;
  });
  assert.equal(log.totalItems, 3);
  for (const d of log.items) {
    assert.equal(d.attempts, 3);
    assert.equal(d.lastCode, 204);
    assert.equal(d.record, a.id);
  }

  // A delivery that exhausts its attempts is failed; a retry queues it
  // again. (The first webhook is switched off: it would get this create.)
  assert.equal((await api(srv, token, 'PATCH', `/api/webhooks/${hook.id}`, { active: false })).status, 200);
  const down = (await api(srv, token, 'POST', '/api/webhooks', {
    collection: 'posts', events: ['create'], url: `${rx.url}/down`,
  })).body;
  await su.collection('posts').create({ title: 'to the down receiver' });
  const failed = await until('the delivery to fail', async () => {
    const l = await api(srv, token, 'GET', `/api/webhooks/${down.id}/deliveries?status=failed`);
    return l.body.items[0];
  });
  assert.equal(failed.attempts, 3);
  assert.equal(failed.lastCode, 503);
  assert.match(failed.lastError, /503/);
  downFixed = true;
  const retry = await api(srv, token, 'POST', `/api/webhooks/${down.id}/deliveries/${failed.id}/retry`);
  assert.equal(retry.status, 204);
  // Pending or delivered by now: not failed, so no second retry.
  const again = await api(srv, token, 'POST', `/api/webhooks/${down.id}/deliveries/${failed.id}/retry`);
  assert.equal(again.status, 400);
  await until('the retried delivery', async () => {
    const l = await api(srv, token, 'GET', `/api/webhooks/${down.id}/deliveries?status=delivered`);
    return l.body.totalItems === 1;
  });

  const metrics = await fetch(`${srv.url}/api/metrics`, { headers: { authorization: token } });
  const text = await metrics.text();
  assert.match(text, /basalt_webhook_deliveries_total\{result="delivered"\} 4/);
  assert.match(text, /basalt_webhook_deliveries_total\{result="failed"\} 1/);
});

test('kill -9: every committed change is delivered after a restart, none twice once acknowledged', async (t) => {
  let up = false;
  const rx = await receiver(() => (up ? 200 : 503));
  t.after(() => rx.close());
  const env = { BASALT_WEBHOOK_RETRY_MS: '150', BASALT_WEBHOOK_MAX_ATTEMPTS: '1000' };
  const { srv, su, token } = await setup(t, env);
  const hook = (await api(srv, token, 'POST', '/api/webhooks', {
    collection: 'posts', events: ['create'], url: `${rx.url}/in`,
  })).body;
  const K = 40;
  const made = await Promise.all(
    Array.from({ length: K }, (_, i) => su.collection('posts').create({ title: `t${i}` })),
  );
  const ids = new Set(made.map((r) => r.id));
  await until('some failed attempts', () => rx.requests.length >= 5);
  await srv.kill9();

  up = true;
  await srv.start();
  await until('every committed create', () => {
    const seen = new Set(rx.acked().map((q) => JSON.parse(q.raw).record.id));
    return [...ids].every((id) => seen.has(id));
  }, 30000);
  const su2 = await superuserClient(srv, ADMIN);
  await until('the log to record every delivery', async () => {
    const l = await api(srv, su2.authStore.token, 'GET', `/api/webhooks/${hook.id}/deliveries?status=delivered&perPage=500`);
    return l.body.totalItems === K;
  });
  const acked = rx.acked();
  const byDelivery = new Map();
  for (const q of acked) byDelivery.set(q.headers['x-basalt-delivery'], (byDelivery.get(q.headers['x-basalt-delivery']) || 0) + 1);
  assert.equal(byDelivery.size, K);
  assert.ok([...byDelivery.values()].every((n) => n === 1), 'each delivery acknowledged once');

  // Once recorded, acknowledged deliveries are not sent again, even after
  // another crash.
  const count = rx.requests.length;
  await srv.kill9();
  await srv.start();
  await sleep(1500);
  assert.equal(rx.requests.length, count);
});

test('every write path: JavaScript hooks, a rolled-back JavaScript transaction, the command line', async (t) => {
  const rx = await receiver(() => 200);
  t.after(() => rx.close());
  const srv = await startServer({
    env: { BASALT_WEBHOOK_RETRY_MS: '100' },
    hooks: {
      'main.pb.js': `
routerAdd("POST", "/api/test/js-save", (e) => {
  const rec = new Record($app.findCollectionByNameOrId("posts"));
  rec.set("title", "saved by js");
  $app.save(rec);
  return e.json(200, { id: rec.id });
});
routerAdd("POST", "/api/test/js-rollback", (e) => {
  try {
    $app.runInTransaction((txApp) => {
      const a = new Record(txApp.findCollectionByNameOrId("posts"));
      a.set("title", "rolled back in js");
      txApp.save(a);
      throw new Error("roll back");
    });
  } catch (err) {}
  return e.json(200, {});
});
`,
    },
  });
  t.after(() => srv.destroy());
  const su = await superuserClient(srv, ADMIN);
  await su.collections.create({ name: 'posts', type: 'base', fields: [{ name: 'title', type: 'text' }] });
  const token = su.authStore.token;
  for (const collection of ['posts', '_superusers']) {
    const made = await api(srv, token, 'POST', '/api/webhooks', { collection, events: ['create'], url: `${rx.url}/${collection}` });
    assert.equal(made.status, 200, JSON.stringify(made.body));
  }
  const js = await api(srv, null, 'POST', '/api/test/js-save');
  assert.equal(js.status, 200);
  assert.equal((await api(srv, null, 'POST', '/api/test/js-rollback')).status, 200);
  // Another process: the command line writes the row, the server's
  // sender finds it.
  const cli = await runCli(['superuser', 'create', 'second@example.com', 'another-pass-123', '--dir', srv.dir]);
  assert.equal(cli.code, 0, cli.stderr);
  await until('the JavaScript save and the command-line create', () => rx.acked().length >= 2);
  await sleep(500);
  const bodies = rx.acked().map((q) => JSON.parse(q.raw));
  assert.equal(bodies.length, 2);
  const post = bodies.find((b) => b.collection === 'posts');
  assert.equal(post.record.id, js.body.id);
  assert.equal(post.record.title, 'saved by js');
  const su2 = bodies.find((b) => b.collection === '_superusers');
  assert.equal(su2.record.email, 'second@example.com');
  assert.equal(su2.record.password, undefined);
  assert.equal(su2.record.tokenKey, undefined);
});

test('creates sent together (group commit): only the ones that committed are delivered', async (t) => {
  const rx = await receiver(() => 200);
  t.after(() => rx.close());
  const srv = await startServer();
  t.after(() => srv.destroy());
  const su = await superuserClient(srv, ADMIN);
  await su.collections.create({
    name: 'items', type: 'base', createRule: '',
    fields: [{ name: 'code', type: 'text' }],
    indexes: ['CREATE UNIQUE INDEX idx_items_code ON items (code)'],
  });
  await api(srv, su.authStore.token, 'POST', '/api/webhooks', { collection: 'items', events: ['create'], url: `${rx.url}/in` });
  await su.collection('items').create({ code: 'taken' });
  const ok = new Set();
  for (let round = 0; round < 4; round++) {
    const codes = Array.from({ length: 24 }, (_, i) => (i % 6 === 3 ? 'taken' : `r${round}-${i}`));
    const results = await Promise.all(codes.map((code) =>
      fetch(`${srv.url}/api/collections/items/records`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }),
      }).then(async (res) => ({ status: res.status, body: await res.json() }))));
    results.forEach((r, i) => {
      assert.equal(r.status, codes[i] === 'taken' ? 400 : 200, JSON.stringify(r.body));
      if (r.status === 200) ok.add(r.body.id);
    });
  }
  await until('every committed create', () => rx.acked().length >= ok.size + 1);
  await sleep(300);
  const delivered = rx.acked().map((q) => JSON.parse(q.raw).record);
  assert.equal(delivered.length, ok.size + 1);
  assert.ok(delivered.every((r) => ok.has(r.id) || r.code === 'taken'));
});
