// The pb_hooks corpus (tests/js_corpus): realistic hook files loaded
// unchanged into one server, each checked by its effect through the
// official SDK or plain HTTP.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { client, startServer } from './lib/server.mjs';
import { rejectsWith, superuserClient } from './lib/assert.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CORPUS = path.join(here, '../js_corpus');
const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readCorpus(dir, prefix = '') {
  const files = {};
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) Object.assign(files, readCorpus(p, prefix + name + '/'));
    else if (name.endsWith('.js')) files[prefix + name] = fs.readFileSync(p);
  }
  return files;
}

const SCHEMA = `migrate((app) => {
  const text = (name) => ({ name, type: "text" });
  const num = (name) => ({ name, type: "number" });
  const all = { listRule: "", viewRule: "", createRule: "", updateRule: "", deleteRule: "" };
  app.save(new Collection({ name: "posts", ...all,
    fields: [text("title"), text("slug"), num("views"), text("tags")] }));
  app.save(new Collection({ name: "audit", fields: [text("action"), text("target"), text("note")] }));
  app.save(new Collection({ name: "notes", ...all, fields: [text("owner"), text("body")] }));
  app.save(new Collection({ name: "orders", ...all, fields: [num("total"), num("cents")] }));
  app.save(new Collection({ name: "wallets", fields: [num("credits")] }));
  app.save(new Collection({ name: "messages", fields: [text("email"), text("message")] }));
  app.save(new Collection({ name: "categories", listRule: "", fields: [text("name")] }));
});
`;

describe('pb_hooks corpus', () => {
  let srv, admin, upstream, received = [];
  const files = readCorpus(CORPUS);

  before(async () => {
    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, body });
        res.setHeader('content-type', 'application/json');
        res.end(req.url === '/quote' ? JSON.stringify({ text: 'Keep it simple.' }) : '{"ok":true}');
      });
    });
    await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
    srv = await startServer({
      hooks: files,
      migrations: { '1700000000_corpus_schema.js': SCHEMA },
      args: ['--hooksWatch=false'],
      env: { CORPUS_WEBHOOK_URL: `http://127.0.0.1:${upstream.address().port}`,
             BASALT_CRON_MINUTE_MS: '300' },
    });
    // The first start created the collections after the bootstrap; the
    // second runs the bootstrap seed against them.
    await srv.restart();
    admin = await superuserClient(srv, ADMIN);
  });
  after(async () => {
    if (srv) await srv.destroy();
    if (upstream) upstream.close();
  });

  async function user(email) {
    const pb = client(srv.url);
    await admin.collection('users').create({ email, password: 'user-pass-123', passwordConfirm: 'user-pass-123' });
    await pb.collection('users').authWithPassword(email, 'user-pass-123');
    return pb;
  }

  test('there are at least 20 hook files and all of them loaded', () => {
    assert.ok(Object.keys(files).filter((f) => f.endsWith('.pb.js')).length >= 20);
    assert.doesNotMatch(srv.output(), /ERROR js/);
  });

  test('01 slugs, 20 ES module tags, 03 audit trail', async () => {
    const pb = client(srv.url);
    const a = await pb.collection('posts').create({ title: 'Hello, World!', tags: ' News,news , Tech ' });
    assert.equal(a.slug, 'hello-world');
    assert.equal(a.tags, 'news,tech');
    const b = await pb.collection('posts').create({ title: 'Hello world' });
    assert.match(b.slug, /^hello-world-[a-z]{4}$/);
    const audit = await admin.collection('audit').getFullList({ filter: `target = "${a.id}"` });
    assert.equal(audit.length, 1);
    assert.equal(audit[0].note, 'post Hello, World!');
    await rejectsWith(pb.collection('posts').create({ title: 'x', tags: 'a,b,c,d' }), 400);
  });

  test('04 validation refuses shouting titles', async () => {
    await rejectsWith(client(srv.url).collection('posts').create({ title: 'STOP THIS' }), 400, (body) => {
      assert.equal(body.message, 'Please do not shout.');
      assert.equal(body.data.title.code, 'validation_shouting');
    });
  });

  test('02 counter and 09 stats', async () => {
    const pb = client(srv.url);
    const p = await pb.collection('posts').create({ title: 'counted' });
    for (let i = 1; i <= 3; i++) {
      const r = await pb.send(`/api/corpus/posts/${p.id}/view`, { method: 'POST' });
      assert.equal(r.views, i);
    }
    await rejectsWith(pb.send('/api/corpus/posts/nope/view', { method: 'POST' }), 404);
    const stats = await pb.send('/api/corpus/stats', {});
    assert.equal(stats.top, 'counted');
    assert.ok(stats.views >= 3);
    assert.equal(stats.posts, (await admin.collection('posts').getList(1, 1)).totalItems);
  });

  test('05 me, 12 guarded route and 10 note owners', async () => {
    await rejectsWith(client(srv.url).send('/api/corpus/me', {}), 401);
    const pb = await user('ann@example.com');
    const me = await pb.send('/api/corpus/me', { query: { x: '1' } });
    assert.equal(me.email, 'ann@example.com');
    assert.equal(me.method, 'GET');
    assert.equal(me.hasQuery, true);
    await rejectsWith(client(srv.url).collection('notes').create({ body: 'anon' }), 401);
    const note = await pb.collection('notes').create({ body: 'mine', owner: 'someone-else' });
    assert.equal(note.owner, pb.authStore.record.id);
    assert.deepEqual(await pb.send('/api/corpus/notes/count', { method: 'POST' }), { count: 1 });
    await rejectsWith(client(srv.url).send('/api/corpus/notes/count', { method: 'POST' }), 401);
  });

  test('06 and 21: the pre-0.23 API', async () => {
    const pb = client(srv.url);
    const p = await pb.collection('posts').create({ title: 'legacy' });
    assert.equal(p.views, 0);
    assert.deepEqual(await pb.send(`/api/corpus/legacy/${p.id}`, {}), { title: 'legacy' });
    const info = await pb.send('/api/corpus/legacy-info', { query: { a: 'b' } });
    assert.equal(info.query.a, 'b');
    assert.equal(info.signedIn, false);
  });

  test('07 webhook by hand and 17 async route', async () => {
    const pb = client(srv.url);
    const o = await pb.collection('orders').create({ total: 12.5, cents: 1250 });
    const hook = received.find((r) => r.url === '/orders' && JSON.parse(r.body).id === o.id);
    assert.ok(hook, JSON.stringify(received));
    assert.equal(JSON.parse(hook.body).total, 12.5);
    assert.deepEqual(await pb.send('/api/corpus/quote', {}), { quote: 'Keep it simple.', status: 200 });
  });

  test('19 CommonJS helper', async () => {
    const o = await client(srv.url).collection('orders').create({ total: 1, cents: 1999 });
    const res = await fetch(`${srv.url}/api/corpus/orders/${o.id}/receipt`);
    assert.equal(await res.text(), 'Total: 19.99');
  });

  test('08 cron heartbeat', async () => {
    let n = 0;
    for (let i = 0; i < 50 && n === 0; i++) {
      await sleep(100);
      n = (await admin.collection('audit').getList(1, 1, { filter: 'action = "heartbeat"' })).totalItems;
    }
    assert.ok(n > 0);
  });

  test('11 search', async () => {
    const pb = client(srv.url);
    await pb.collection('posts').create({ title: 'Searchable zebra' });
    const found = await pb.send('/api/corpus/search', { query: { q: 'zebra' } });
    assert.deepEqual(found.map((f) => f.title), ['Searchable zebra']);
    await rejectsWith(pb.send('/api/corpus/search', {}), 400);
  });

  test('13 transfer in a transaction', async () => {
    const a = await admin.collection('wallets').create({ credits: 10 });
    const b = await admin.collection('wallets').create({ credits: 0 });
    const pb = client(srv.url);
    assert.deepEqual(await pb.send('/api/corpus/transfer', { method: 'POST', body: { from: a.id, to: b.id, amount: 4 } }), { ok: true });
    await rejectsWith(pb.send('/api/corpus/transfer', { method: 'POST', body: { from: a.id, to: b.id, amount: 50 } }), 409);
    assert.equal((await admin.collection('wallets').getOne(a.id)).credits, 6);
    assert.equal((await admin.collection('wallets').getOne(b.id)).credits, 4);
  });

  test('14 immutable slug and 15 delete guard', async () => {
    const pb = client(srv.url);
    const p = await pb.collection('posts').create({ title: 'Keep me' });
    const u = await pb.collection('posts').update(p.id, { slug: 'changed', title: 'Kept' });
    assert.equal(u.slug, 'keep-me');
    await admin.collection('posts').update(p.id, { views: 150 });
    await rejectsWith(pb.collection('posts').delete(p.id), 403);
    await admin.collection('posts').update(p.id, { views: 1 });
    await pb.collection('posts').delete(p.id);
  });

  test('16 contact form, 21 legacy after-hook', async () => {
    const pb = client(srv.url);
    await rejectsWith(pb.send('/api/corpus/contact', { method: 'POST', body: { email: 'nope', message: 'hi' } }), 400,
      (body) => assert.equal(body.data.email.code, 'validation_invalid_email'));
    const r = await pb.send('/api/corpus/contact', { method: 'POST', body: { email: 'bo@example.com', message: 'hi' } });
    const msg = await admin.collection('messages').getOne(r.id);
    assert.equal(msg.email, 'bo@example.com');
    // Created through the records API, the pre-0.23 after-hook runs.
    const m2 = await admin.collection('messages').create({ email: 'di@example.com', message: 'yo' });
    const rows = await admin.collection('audit').getFullList({ filter: `action = "legacy-create" && target = "${m2.id}"` });
    assert.equal(rows.length, 1);
  });

  test('18 login audit', async () => {
    const pb = await user('cy@example.com');
    const rows = await admin.collection('audit').getFullList({ filter: `action = "login" && target = "${pb.authStore.record.id}"` });
    assert.equal(rows.length, 1);
  });

  test('22 bootstrap seed', async () => {
    const list = await client(srv.url).collection('categories').getFullList();
    assert.deepEqual(list.map((c) => c.name), ['general']);
  });
});
