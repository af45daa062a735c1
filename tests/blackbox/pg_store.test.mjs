// The PostgreSQL store end to end: `basalt serve --db postgres://...` on
// a throwaway PostgreSQL 15 (tests/pg/pg.sh), driven through the
// official SDK. A superuser created from the command line signs in; a
// base collection with text, number, bool, json and relation fields is
// created; records are created, read, updated, listed with a filter, a
// sort and paging, and deleted; a unique index refuses a duplicate with
// PocketBase's validation error. PostgreSQL itself is checked to hold
// the data with the column types of docs/scale.md, and the node's
// data.db to hold none of it. After PostgreSQL restarts, the node
// reconnects on the next request. Realtime messages pass the API rules
// that need SQL as a list does: in PostgreSQL's SQL, with parameters
// typed by the columns they meet. Request logs stay in the node's
// SQLite auxiliary.db and filter there. Statements kept prepared on a
// connection are prepared again when a field is added. A create rule compares the
// submitted values as their columns hold them. A JavaScript hook finds records
// by a filter without a limit. What the store does not support yet
// answers with a clear error, and the node keeps serving.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EventSource } from 'eventsource';
import { PGBIN, PG_SKIP, startPg, stopPg } from './lib/pg.mjs';
import { startServer, client, runCli } from './lib/server.mjs';
import { sleep, until, collect, signedInUser } from './lib/realtime.mjs';

globalThis.EventSource = EventSource;

const SKIP = PG_SKIP;

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };

describe('PostgreSQL store', { skip: SKIP }, () => {
  let pgDir, url, srv, su;
  const psql = (sql) => execFileSync('psql', [url, '-XAtq', '-c', sql], { encoding: 'utf8' }).trim();

  before(async () => {
    ({ dir: pgDir, url: url } = startPg());
    srv = await startServer({
      args: ['--db', url],
      hooks: {
        // $app.findRecordsByFilter without a limit (LIMIT -1 is SQLite's).
        'find.pb.js': `routerAdd("GET", "/api/pgtest/find", (e) => {
          const all = $app.findRecordsByFilter("users", "name != {:no}", "name", 0, 0, { no: "nobody" });
          return e.json(200, { names: all.map((r) => r.get("name")) });
        });`,
      },
    });
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir, '--db', url]);
    assert.equal(r.code, 0, r.stderr);
    su = client(srv.url);
  });
  after(async () => {
    await srv?.destroy();
    stopPg(pgDir);
  });

  test('the system tables live in PostgreSQL, not in data.db', () => {
    assert.equal(psql("SELECT count(*) FROM _superusers WHERE email = 'admin@example.com'"), '1');
    assert.match(psql('SELECT string_agg(name, \',\' ORDER BY name) FROM _collections'), /_superusers.*users/);
    assert.equal(fs.existsSync(path.join(srv.dir, 'data.db')), false);
  });

  test('superuser sign-in with a password; a wrong password is refused', async () => {
    // A second upsert finds the superuser by e-mail without regard to
    // case (COLLATE NOCASE on SQLite, a case-insensitive collation here).
    const r = await runCli(['superuser', 'upsert', 'ADMIN@example.com', ADMIN.password, '--dir', srv.dir, '--db', url]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(psql('SELECT count(*) FROM _superusers'), '1');
    await assert.rejects(su.collection('_superusers').authWithPassword(ADMIN.email, 'wrong-password-1'),
      (e) => e.status === 400);
    const auth = await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    assert.equal(auth.record.email, ADMIN.email);
    assert.ok(su.authStore.isValid);
  });

  test('list pages in rowid order read an index: every table has one on "_rowid"', async () => {
    await su.collections.create({ name: 'indexed', listRule: '', fields: [{ name: 'n', type: 'number' }] });
    for (const t of ['indexed', 'users', '_superusers', '_collections'])
      assert.equal(psql(`SELECT count(*) FROM pg_indexes WHERE tablename = '${t}' AND indexdef LIKE '%(_rowid)'`), '1', t);
    await su.collections.delete('indexed');
  });

  test('a collection and its records: create, getOne, update, list, delete', async () => {
    const users = await su.collections.getOne('users');
    const ann = await su.collection('users').create({
      email: 'ann@example.com', password: 'ann-pass-1234', passwordConfirm: 'ann-pass-1234', name: 'Ann',
    });
    const posts = await su.collections.create({
      name: 'posts',
      listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'views', type: 'number' },
        { name: 'published', type: 'bool' },
        { name: 'meta', type: 'json' },
        { name: 'author', type: 'relation', collectionId: users.id, maxSelect: 1 },
        { name: 'created', type: 'autodate', onCreate: true },
        { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
      ],
      indexes: ['CREATE UNIQUE INDEX `idx_posts_title` ON `posts` (`title`)'],
    });
    assert.equal(posts.name, 'posts');
    const types = psql("SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'posts'");
    assert.equal(types, '_rowid:bigint,author:text,created:text,id:text,meta:text,published:boolean,title:text,updated:text,views:double precision');

    const guest = client(srv.url);
    const made = [];
    for (let i = 0; i < 7; i++) {
      made.push(await guest.collection('posts').create({
        title: `post ${i}`, views: i * 1.5, published: i % 2 === 0,
        meta: { n: i, tags: ['a', i] }, author: i % 3 ? ann.id : '',
      }));
    }
    const first = made[1];
    assert.equal(first.views, 1.5);
    assert.equal(first.published, false);
    assert.deepEqual(first.meta, { n: 1, tags: ['a', 1] });
    assert.equal(first.author, ann.id);
    assert.match(first.created, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);

    const one = await su.collection('posts').getOne(made[2].id, { expand: 'author' });
    assert.equal(one.title, 'post 2');
    assert.equal(one.views, 3);
    assert.equal(one.published, true);
    assert.equal(one.expand.author.name, 'Ann');

    const upd = await guest.collection('posts').update(made[2].id, { title: 'post two', views: 42, published: false, meta: null });
    assert.equal(upd.title, 'post two');
    assert.equal(upd.views, 42);
    assert.equal(upd.published, false);
    assert.equal(upd.meta, null);
    assert.equal(psql(`SELECT title || '|' || views || '|' || published FROM posts WHERE id = '${made[2].id}'`), 'post two|42|false');

    // Filter, sort and paging: published posts with views over 1, by views descending.
    const page = await guest.collection('posts').getList(1, 2, { filter: 'published = true && views > 1', sort: '-views' });
    assert.equal(page.totalItems, 2);
    assert.deepEqual(page.items.map((p) => p.title), ['post 6', 'post 4']);
    const p2 = await guest.collection('posts').getList(2, 3, { sort: 'title' });
    assert.equal(p2.totalItems, 7);
    assert.equal(p2.totalPages, 3);
    assert.deepEqual(p2.items.map((p) => p.title), ['post 4', 'post 5', 'post 6']); // 'post two' sorts last
    const like = await su.collection('posts').getFullList({ filter: "title ~ 'TWO' || author.name = 'Ann'", sort: '@rowid' });
    assert.deepEqual(like.map((p) => p.title), ['post 1', 'post two', 'post 4', 'post 5']);
    const json = await guest.collection('posts').getFullList({ filter: 'meta.n >= 5', sort: '-created,id' });
    assert.equal(json.length, 2);

    // A unique index: PocketBase's validation error on the field.
    await assert.rejects(guest.collection('posts').create({ title: 'post 1' }), (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.response.data.title.code, 'validation_not_unique');
      return true;
    });
    // A required field.
    await assert.rejects(guest.collection('posts').create({ views: 1 }), (e) => e.status === 400 && e.response.data.title?.code === 'validation_required');

    await guest.collection('posts').delete(made[0].id);
    await assert.rejects(guest.collection('posts').getOne(made[0].id), (e) => e.status === 404);
    assert.equal(psql('SELECT count(*) FROM posts'), '6');
  });

  test('a select field changed from one value to many and back keeps its values', async () => {
    const field = (maxSelect) => ({ name: 'tag', type: 'select', values: ['a', 'b', 'c'], maxSelect });
    await su.collections.create({ name: 'tagged', fields: [{ name: 'title', type: 'text' }, field(1)] });
    const one = await su.collection('tagged').create({ title: 'one', tag: 'b' });
    const none = await su.collection('tagged').create({ title: 'none' });
    await su.collections.update('tagged', { fields: [{ name: 'title', type: 'text' }, field(3)] });
    assert.deepEqual((await su.collection('tagged').getOne(one.id)).tag, ['b']);
    assert.deepEqual((await su.collection('tagged').getOne(none.id)).tag, []);
    await su.collection('tagged').update(one.id, { tag: ['a', 'c'] });
    await su.collections.update('tagged', { fields: [{ name: 'title', type: 'text' }, field(1)] });
    assert.equal((await su.collection('tagged').getOne(one.id)).tag, 'c', 'the last value stays');
    assert.equal((await su.collection('tagged').getOne(none.id)).tag, '');
    await su.collections.delete('tagged');
  });

  // Regression: the realtime broker compiled such rules for SQLite and
  // bound their parameters as the text columns of a VALUES table, so on
  // PostgreSQL `n > 5` failed (double precision > text) and nobody
  // received anything.
  test('realtime: rules decided in SQL see numbers, ~ and request data as a list does', async () => {
    const users = await su.collections.getOne('users');
    const owned = 'owner = @request.auth.id && n > 5';
    await su.collections.create({
      name: 'scores', listRule: owned, viewRule: owned,
      fields: [
        { name: 'owner', type: 'relation', collectionId: users.id, maxSelect: 1 },
        { name: 'n', type: 'number' },
      ],
    });
    await su.collections.create({
      name: 'gauges', listRule: "n >= @request.query.min && tag ~ 'blue'",
      fields: [{ name: 'n', type: 'number' }, { name: 'tag', type: 'text' }],
    });
    const a = await signedInUser(su, srv.url, { email: 'rt-a@example.com', password: 'rt-a-pass-123' });
    const b = await signedInUser(su, srv.url, { email: 'rt-b@example.com', password: 'rt-b-pass-123' });
    const mine = await su.collection('scores').create({ owner: a.record.id, n: 6 });
    const subs = {
      aAll: await collect(a.pb, 'scores', '*'),
      bAll: await collect(b.pb, 'scores', '*'),
      aOne: await collect(a.pb, 'scores', mine.id),
      bOne: await collect(b.pb, 'scores', mine.id),
      // Query values arrive as text; the rule compares them as numbers.
      aMin5: await collect(a.pb, 'gauges', '*', { query: { min: '5' } }),
      bMin8: await collect(b.pb, 'gauges', '*', { query: { min: 8 } }),
    };
    for (const [who, n] of [[a, 3], [a, 7], [b, 9], [b, 1]])
      await su.collection('scores').create({ owner: who.record.id, n });
    await su.collection('scores').update(mine.id, { n: 8 });
    for (const [n, tag] of [[4, 'blue'], [6, 'Deep BLUE'], [9, 'light blue'], [10, 'red']])
      await su.collection('gauges').create({ n, tag });
    const seen = (x) => x.got.map((e) => `${e.action} ${e.record.n}`);
    const want = {
      aAll: ['create 7', 'update 8'],
      bAll: ['create 9'],
      aOne: ['update 8'],
      bOne: [],
      aMin5: ['create 6', 'create 9'],
      bMin8: ['create 9'],
    };
    await until(() => Object.keys(want).every((k) => subs[k].got.length >= want[k].length), 'the allowed messages')
      .catch(() => {});
    await sleep(300);
    for (const k of Object.keys(want)) assert.deepEqual(seen(subs[k]), want[k], k);
    // The same rules through the records API agree.
    const list = async (pb, coll, query) => (await pb.collection(coll).getFullList({ sort: 'n', query })).map((r) => r.n);
    assert.deepEqual(await list(a.pb, 'scores'), [7, 8]);
    assert.deepEqual(await list(b.pb, 'scores'), [9]);
    assert.deepEqual(await list(a.pb, 'gauges', { min: '5' }), [6, 9]);
    assert.deepEqual(await list(b.pb, 'gauges', { min: 8 }), [9]);
    for (const x of Object.values(subs)) await x.unsub();
    a.pb.realtime.unsubscribe().catch(() => {});
    b.pb.realtime.unsubscribe().catch(() => {});
  });

  test('request logs (SQLite beside PostgreSQL) take filters and stats', async () => {
    await fetch(`${srv.url}/api/health?logged=1`);
    // Log rows are written in the background: ask until the row is there.
    let page;
    for (let i = 0; i < 50; i++) {
      page = await su.logs.getList(1, 5, { filter: "data.url ~ 'logged=1' && data.status = 200", sort: '-created' });
      if (page.items.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(page.items.length, 1);
    const stats = await su.logs.getStats({ filter: 'data.status >= 200' });
    assert.ok(stats.length >= 1 && stats[0].total >= 1);
  });

  test('after PostgreSQL restarts, the next reads and writes reconnect', async () => {
    const asOwner = process.getuid() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
    const ctl = [...asOwner, path.join(PGBIN, 'pg_ctl'), '-D', path.join(pgDir, 'data'), '-m', 'fast', '-w', 'restart'];
    execFileSync(ctl[0], ctl.slice(1), { stdio: 'ignore' });
    // Every connection of the node is broken now: each read and the
    // write find out and reconnect on the spot.
    const guest = client(srv.url);
    for (let i = 0; i < 12; i++) {
      const page = await guest.collection('posts').getList(1, 1, { sort: 'title' });
      assert.equal(page.totalItems, 6);
    }
    const made = await guest.collection('posts').create({ title: 'after the restart', views: 1 });
    assert.equal((await su.collection('posts').getOne(made.id)).title, 'after the restart');
  });

  test('request logs stay in SQLite and filter with SQLite\'s SQL', async () => {
    await fetch(`${srv.url}/api/health?pg-logs=1`);
    const filter = 'data.url = "/api/health?pg-logs=1" && data.status = 200';
    let found;
    for (let i = 0; i < 50 && !found; i++) {
      found = (await su.logs.getList(1, 10, { filter, sort: '-created' })).items[0];
      if (!found) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(found, 'the request was logged and found with a filter');
    const stats = await su.logs.getStats({ filter: 'data.status >= 200 && level = 0' });
    assert.ok(stats.reduce((n, s) => n + s.total, 0) >= 1);
    assert.equal(psql("SELECT count(*) FROM pg_tables WHERE tablename = '_logs'"), '0');
  });

  test('a create rule compares the submitted values with their columns\' types', async () => {
    await su.collections.create({
      name: 'gated', createRule: 'n > 5 && flag = true && title ~ "ok"', listRule: '',
      fields: [{ name: 'n', type: 'number' }, { name: 'flag', type: 'bool' }, { name: 'title', type: 'text' }],
    });
    const guest = client(srv.url);
    const made = await guest.collection('gated').create({ n: 7, flag: true, title: 'ok then' });
    assert.equal(made.n, 7);
    for (const body of [{ n: 3, flag: true, title: 'ok' }, { n: 9, flag: false, title: 'ok' }, { n: 9, flag: true, title: 'no' }])
      await assert.rejects(guest.collection('gated').create(body), (e) => e.status === 400, JSON.stringify(body));
    assert.equal((await guest.collection('gated').getList(1, 10)).totalItems, 1);
    await su.collections.delete('gated');
  });

  test('reads kept prepared on the connections see a field added later', async () => {
    await su.collections.create({ name: 'shapes', listRule: '', viewRule: '', fields: [{ name: 'a', type: 'text' }] });
    const guest = client(srv.url);
    const rec = await su.collection('shapes').create({ a: 'one' });
    // Enough reads for every reader connection to keep the statements.
    for (let i = 0; i < 12; i++) {
      assert.equal((await guest.collection('shapes').getList(1, 10)).items[0].a, 'one');
      assert.equal((await guest.collection('shapes').getOne(rec.id)).a, 'one');
    }
    await su.collections.update('shapes', { fields: [...(await su.collections.getOne('shapes')).fields, { name: 'b', type: 'number' }] });
    for (let i = 0; i < 12; i++) {
      const item = (await guest.collection('shapes').getList(1, 10)).items[0];
      assert.equal(item.a, 'one');
      assert.equal(item.b, 0);
      assert.equal((await guest.collection('shapes').getOne(rec.id)).b, 0);
    }
    await su.collections.delete('shapes');
  });

  test('JavaScript hooks find records by a filter without a limit', async () => {
    const r = await fetch(`${srv.url}/api/pgtest/find`);
    assert.equal(r.status, 200, await r.clone().text());
    const { names } = await r.json();
    assert.ok(names.includes('Ann'), JSON.stringify(names));
  });

  test('what the store does not support yet fails with a clear error', async () => {
    const sql = await fetch(`${srv.url}/api/sql`, {
      method: 'POST', headers: { Authorization: su.authStore.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ query: 'SELECT 1' }),
    });
    assert.equal(sql.status, 400);
    assert.match((await sql.json()).message, /PostgreSQL/);
    await assert.rejects(su.backups.create('x.zip'), (e) => e.status === 400 && /PostgreSQL/.test(e.message));
    await assert.rejects(su.collections.create({ name: 'v', type: 'view', viewQuery: 'SELECT id FROM posts' }),
      (e) => e.status === 400 && /PostgreSQL/.test(JSON.stringify(e.response)));
    await assert.rejects(su.collections.create({ name: 's', fields: [{ name: 'body', type: 'text', searchable: true }] }),
      (e) => e.status === 400 && /PostgreSQL/.test(JSON.stringify(e.response)));
    const wh = await fetch(`${srv.url}/api/webhooks`, {
      method: 'POST', headers: { Authorization: su.authStore.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ collection: 'users', events: ['create'], url: 'http://127.0.0.1:9/hook' }),
    });
    assert.equal(wh.status, 400);
    assert.match((await wh.json()).message, /PostgreSQL/);
    // The node still serves.
    const health = await fetch(`${srv.url}/api/health`);
    assert.equal(health.status, 200);
  });
});
