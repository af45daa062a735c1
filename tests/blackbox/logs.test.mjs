// Request logs, the logs API, the SQL console and JSON 404s under /api,
// through the official SDK (pb.logs.*, pb.send) against the real binary:
// rows with PocketBase's fields, written by the background writer;
// settings.logs (maxDays 0, minLevel, logIP, logAuthId) respected; the
// logs API's own successes not logged; superuser-only routes.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { client, runCli, startServer } from './lib/server.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value (rows are written in batches).
async function eventually(fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await sleep(50);
  }
}

describe('request logs and the SQL console', () => {
  let srv;
  let su;
  let user;

  before(async () => {
    srv = await startServer({
      publicFiles: { 'index.html': '<!doctype html><title>spa</title>' },
      env: { BASALT_SQL_TIMEOUT_MS: '300' },
    });
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    await su.collections.create({
      name: 'posts', type: 'base', fields: [{ name: 'title', type: 'text' }],
    });
    await su.collection('users').create({ email: 'u@example.com', password: 'user-pass-123', passwordConfirm: 'user-pass-123' });
    user = client(srv.url);
    await user.collection('users').authWithPassword('u@example.com', 'user-pass-123');
  });
  after(async () => {
    await srv?.destroy();
  });

  const findLog = (filter) =>
    eventually(async () => (await su.logs.getList(1, 10, { filter, sort: '-created' })).items[0]);

  test('a request becomes a row with PocketBase\'s fields', async () => {
    await fetch(srv.url + '/api/health?probe=1', {
      headers: { 'User-Agent': 'probe-agent/1', Referer: 'http://example.com/x' },
    });
    const log = await findLog('data.url = "/api/health?probe=1"');
    assert.ok(log, 'the request was logged');
    assert.match(log.id, /^[a-z0-9]{15}$/);
    assert.match(log.created, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(log.level, 0);
    assert.equal(log.message, 'GET /api/health?probe=1');
    const d = log.data;
    assert.equal(d.type, 'request');
    assert.equal(d.method, 'GET');
    assert.equal(d.status, 200);
    assert.equal(typeof d.execTime, 'number');
    assert.ok(d.execTime >= 0);
    assert.equal(d.auth, '');
    assert.equal(d.userAgent, 'probe-agent/1');
    assert.equal(d.referer, 'http://example.com/x');
    assert.equal(d.userIP, '127.0.0.1');
    assert.equal(d.remoteIP, '127.0.0.1');
    assert.equal('authId' in d, false, 'logAuthId is off by default');

    const one = await su.logs.getOne(log.id);
    assert.deepEqual(one, log);
    await assert.rejects(su.logs.getOne('missing'), (e) => e.status === 404);
  });

  test('failures are kept at level 8 with the error and its data', async () => {
    await assert.rejects(
      user.collection('posts').create({ title: 'x' }),
      (e) => e.status === 403 || e.status === 400,
    );
    const log = await findLog('data.url ~ "/api/collections/posts/records" && data.method = "POST"');
    assert.ok(log);
    assert.equal(log.level, 8);
    assert.equal(log.data.auth, 'users');
    assert.ok(log.data.status >= 400);
    assert.equal(typeof log.data.error, 'string');
    assert.ok(log.data.error.length > 0);
    assert.ok('details' in log.data);
  });

  test('stats: hourly buckets, filterable', async () => {
    const stats = await su.logs.getStats();
    assert.ok(stats.length >= 1);
    assert.match(stats[0].date, /^\d{4}-\d\d-\d\d \d\d:00:00\.000Z$/);
    assert.ok(stats.reduce((n, b) => n + b.total, 0) >= 2);
    const errors = await su.logs.getStats({ filter: 'data.status >= 400' });
    const all = stats.reduce((n, b) => n + b.total, 0);
    const failed = errors.reduce((n, b) => n + b.total, 0);
    assert.ok(failed >= 1 && failed < all);
    await assert.rejects(su.logs.getStats({ filter: '(((' }), (e) => e.status === 400);
    await assert.rejects(su.logs.getList(1, 10, { filter: 'nope = 1' }), (e) => e.status === 400);
  });

  test('the logs API\'s own successes are not logged, its failures are', async () => {
    await su.logs.getList(1, 1);
    await assert.rejects(user.logs.getList(1, 1), (e) => e.status === 403);
    await findLog('data.url ~ "/api/logs" && data.status = 403');
    await sleep(400);
    const ok = await su.logs.getList(1, 1, { filter: 'data.url ~ "/api/logs" && data.status = 200' });
    assert.equal(ok.totalItems, 0);
  });

  test('logs and the SQL console are for superusers only', async () => {
    for (const p of ['/api/logs', '/api/logs/stats', '/api/logs/x']) {
      const g = await fetch(srv.url + p);
      assert.equal(g.status, 401, p);
      assert.deepEqual((await g.json()).data, {});
      await assert.rejects(user.send(p, {}), (e) => e.status === 403, p);
    }
    const body = JSON.stringify({ query: 'select 1' });
    const g = await fetch(srv.url + '/api/sql', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(g.status, 401);
    await assert.rejects(user.send('/api/sql', { method: 'POST', body: { query: 'select 1' } }), (e) => e.status === 403);
  });

  test('logAuthId and logIP', async () => {
    await su.settings.update({ logs: { logAuthId: true, logIP: false } });
    await user.collection('users').getList(1, 1, { filter: 'email = "authid-probe"' });
    const log = await findLog('data.url ~ "authid-probe"');
    assert.ok(log);
    assert.equal(log.data.auth, 'users');
    assert.equal(log.data.authId, user.authStore.record.id);
    assert.equal('userIP' in log.data, false);
    assert.equal('remoteIP' in log.data, false);
    await su.settings.update({ logs: { logAuthId: false, logIP: true } });
  });

  test('userIP follows settings.trustedProxy as soon as it changes', async () => {
    const probe = async (name) => {
      await fetch(`${srv.url}/api/health?${name}=1`, {
        headers: { 'X-Forwarded-For': '198.51.100.7, 203.0.113.9' },
      });
      return findLog(`data.url = "/api/health?${name}=1"`);
    };
    // No trusted proxy: the forwarded header is ignored.
    let log = await probe('xff-none');
    assert.equal(log.data.userIP, '127.0.0.1');
    assert.equal(log.data.remoteIP, '127.0.0.1');

    await su.settings.update({ trustedProxy: { headers: ['X-Forwarded-For'], useLeftmostIP: false } });
    log = await probe('xff-right');
    assert.equal(log.data.userIP, '203.0.113.9');
    assert.equal(log.data.remoteIP, '127.0.0.1');

    await su.settings.update({ trustedProxy: { headers: ['X-Forwarded-For'], useLeftmostIP: true } });
    log = await probe('xff-left');
    assert.equal(log.data.userIP, '198.51.100.7');

    await su.settings.update({ trustedProxy: { headers: [], useLeftmostIP: false } });
    log = await probe('xff-cleared');
    assert.equal(log.data.userIP, '127.0.0.1');
  });

  test('minLevel 8 keeps failures only; maxDays 0 keeps nothing', async () => {
    await su.settings.update({ logs: { minLevel: 8 } });
    await fetch(srv.url + '/api/health?lvl=info');
    await fetch(srv.url + '/api/nope?lvl=error');
    assert.ok(await findLog('data.url = "/api/nope?lvl=error"'));
    assert.equal((await su.logs.getList(1, 1, { filter: 'data.url = "/api/health?lvl=info"' })).totalItems, 0);

    await su.settings.update({ logs: { minLevel: 0, maxDays: 0 } });
    await fetch(srv.url + '/api/health?off=1');
    await fetch(srv.url + '/api/nope?off=1');
    await sleep(600);
    assert.equal((await su.logs.getList(1, 1, { filter: 'data.url ~ "off=1"' })).totalItems, 0);
    await su.settings.update({ logs: { maxDays: 5 } });
    await fetch(srv.url + '/api/health?on=again');
    assert.ok(await findLog('data.url = "/api/health?on=again"'));
  });

  test('unknown /api paths are JSON 404s even with pb_public/index.html', async () => {
    await assert.rejects(su.send('/api/nope', {}), (e) => {
      assert.equal(e.status, 404);
      assert.deepEqual(e.response, { data: {}, message: 'File not found.', status: 404 });
      return true;
    });
    for (const [method, p] of [['GET', '/api'], ['GET', '/api/'], ['POST', '/api/nope'], ['DELETE', '/api/a/b/c'], ['GET', '/api/logs/x/y']]) {
      const res = await fetch(srv.url + p, { method });
      assert.equal(res.status, 404, `${method} ${p}`);
      assert.match(res.headers.get('content-type'), /application\/json/);
      assert.equal((await res.json()).status, 404);
    }
    // Other missing paths still fall back to the SPA's index.html.
    const spa = await fetch(srv.url + '/some/page');
    assert.equal(spa.status, 200);
    assert.match(await spa.text(), /<title>spa<\/title>/);
  });

  const sql = (query) => su.send('/api/sql', { method: 'POST', body: { query } });

  test('SQL console: reads, writes, limits and errors', async () => {
    const r = await sql('select 1 as one, null as n, 2.5 as f');
    assert.deepEqual(r.columns, [
      { name: 'one', type: '', nullable: true },
      { name: 'n', type: '', nullable: true },
      { name: 'f', type: '', nullable: true },
    ]);
    assert.deepEqual(r.rows, [['1', null, '2.5']]);
    assert.equal(r.affectedRows, 0);
    assert.equal(typeof r.execTime, 'number');

    const big = await sql('with recursive c(x) as (select 1 union all select x+1 from c where x < 5000) select x from c');
    assert.equal(big.rows.length, 1000);

    const w = await sql('create table notes(id int primary key); insert into notes values (1), (2), (3)');
    assert.equal(w.affectedRows, 3);
    assert.deepEqual(w.rows, []);
    assert.deepEqual((await sql('select count(*) from notes')).rows, [['3']]);

    await assert.rejects(sql('insert into notes values (4); invalid'), (e) => {
      assert.equal(e.status, 400);
      assert.match(e.response.message, /^Failed to execute query\. Raw error:\nSQL logic error/);
      return true;
    });
    assert.deepEqual((await sql('select count(*) from notes')).rows, [['3']], 'rolled back');

    await assert.rejects(sql(''), (e) => e.status === 400 && e.response.data.query.code === 'validation_required');
    await assert.rejects(sql('select ' + "'" + 'a'.repeat(5000) + "'"), (e) => e.status === 400 && e.response.data.query.code === 'validation_length_too_long');
    await assert.rejects(
      sql('with recursive c(x) as (select 1 union all select x+1 from c) select count(*) from c'),
      (e) => e.status === 400 && /interrupted/.test(e.response.message),
    );
    await assert.rejects(sql("attach 'x.db' as x"), (e) => e.status === 400);
  });

  test('SQL console keeps the schema true', async () => {
    await assert.rejects(sql('drop table posts'), (e) => e.status === 400 && /not authorized/.test(e.response.message));
    await assert.rejects(sql('alter table posts drop column title'), (e) => e.status === 400);
    assert.equal((await su.collection('posts').create({ title: 'still here' })).title, 'still here');
    // A rule written by hand takes effect at once (the snapshot is reloaded).
    const guest = client(srv.url);
    await assert.rejects(guest.collection('posts').getList(1, 1), (e) => e.status === 403);
    await sql("update _collections set listRule = '' where name = 'posts'");
    assert.equal((await guest.collection('posts').getList(1, 1)).totalItems, 1);
  });
});
