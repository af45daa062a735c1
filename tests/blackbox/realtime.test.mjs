// Realtime (GET/POST /api/realtime) through the official SDK's subscribe():
// the PB_CONNECT frame, "*" and record topics, the API rules per auth
// state, topic options (filter, expand, fields, query, headers), the
// order of create/update/delete messages, no message for a rolled-back
// batch, the auth upgrade rules of the subscribe request, keep-alive
// comments, the idle timeout, and the server forgetting a client that
// went away.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { EventSource } from 'eventsource';
import { startServer, client, runCli, rawRequest } from './lib/server.mjs';
import { sleep, until, collect, signedInUser } from './lib/realtime.mjs';

globalThis.EventSource = EventSource;

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const USER = { email: 'user@example.com', password: 'user-pass-1234' };
const OTHER = { email: 'other@example.com', password: 'other-pass-1234' };

/**
 * A raw event stream: resolves with {frames, res, req, text()} once the
 * response starts; frames are parsed as they arrive.
 */
function rawStream(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url + '/api/realtime', { headers }, (res) => {
      const s = { res, req, buf: '', frames: [], ended: false };
      res.setEncoding('utf8');
      res.on('data', (d) => {
        s.buf += d;
        let i;
        while ((i = s.buf.indexOf('\n\n')) >= 0) {
          const block = s.buf.slice(0, i);
          s.buf = s.buf.slice(i + 2);
          const f = {};
          for (const line of block.split('\n')) {
            const c = line.indexOf(':');
            const k = c < 0 ? line : line.slice(0, c);
            f[k === '' ? 'comment' : k] = c < 0 ? '' : line.slice(c + 1);
          }
          s.frames.push(f);
        }
      });
      res.on('end', () => (s.ended = true));
      res.on('close', () => (s.ended = true));
      resolve(s);
    });
    req.on('error', reject);
  });
}

async function postSubs(url, body, token, extra = {}) {
  const headers = { 'content-type': 'application/json', ...extra };
  if (token) headers.authorization = token;
  return rawRequest(url, { method: 'POST', path: '/api/realtime', headers, body: JSON.stringify(body) });
}

describe('realtime', () => {
  let srv, su, asUser, asOther, user, other;

  before(async () => {
    srv = await startServer({ env: { BASALT_REALTIME_PING_MS: '400' } });
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    ({ record: user, pb: asUser } = await signedInUser(su, srv.url, USER, { name: 'U' }));
    ({ record: other, pb: asOther } = await signedInUser(su, srv.url, OTHER));
    await su.collections.create({
      name: 'posts',
      listRule: '',
      viewRule: '',
      createRule: '',
      updateRule: '',
      deleteRule: '',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'secret', type: 'text', hidden: true },
        { name: 'owner', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
      ],
    });
    await su.collections.create({
      name: 'members',
      listRule: "@request.auth.id != ''",
      viewRule: "@request.auth.id != ''",
      fields: [{ name: 'title', type: 'text' }],
    });
    await su.collections.create({
      name: 'owned',
      listRule: 'owner = @request.auth.id',
      viewRule: 'owner = @request.auth.id',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'owner', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
      ],
    });
    await su.collections.create({
      name: 'gated',
      listRule: "@request.query.key = 'open' && @request.headers.x_token = 'abc'",
      fields: [{ name: 'title', type: 'text' }],
    });
    await su.collections.create({ name: 'closed', fields: [{ name: 'title', type: 'text' }] });
    await su.collections.create({
      name: 'mixed',
      listRule: "@request.auth.collectionName = 'users' && (owner = @request.auth.id || title = 'all')",
      fields: [
        { name: 'title', type: 'text' },
        { name: 'owner', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
      ],
    });
    await su.collections.create({
      name: 'verifiedonly',
      listRule: '@request.auth.verified = true',
      fields: [{ name: 'title', type: 'text' }],
    });
    await su.collections.create({
      name: 'byname',
      listRule: "@request.auth.name = 'U'",
      fields: [{ name: 'title', type: 'text' }],
    });
  });
  after(() => srv?.destroy());

  test('PB_CONNECT first, with the 40-character client id on every frame', async () => {
    const s = await rawStream(srv.url);
    assert.equal(s.res.statusCode, 200);
    assert.match(s.res.headers['content-type'], /^text\/event-stream/);
    assert.equal(s.res.headers['cache-control'], 'no-store');
    await until(() => s.frames.length >= 1, 'PB_CONNECT');
    const f = s.frames[0];
    assert.equal(f.event, 'PB_CONNECT');
    assert.match(f.id, /^[a-z0-9]{40}$/);
    assert.deepEqual(JSON.parse(f.data), { clientId: f.id });
    // Keep-alive comments follow while nothing else happens.
    await until(() => s.frames.some((x) => 'comment' in x), 'a keep-alive comment');
    s.req.destroy();
  });

  test('subscribe validation and unknown clients', async () => {
    let r = await postSubs(srv.url, {});
    assert.equal(r.status, 400);
    const b = JSON.parse(r.body);
    assert.equal(b.data.clientId.code, 'validation_required');
    assert.equal(b.data.subscriptions, undefined);
    r = await postSubs(srv.url, { clientId: 'missing', subscriptions: ['a'] });
    assert.equal(r.status, 404);
    assert.deepEqual(JSON.parse(r.body), { data: {}, message: 'Missing or invalid client id.', status: 404 });

    const s = await rawStream(srv.url);
    await until(() => s.frames.length >= 1, 'PB_CONNECT');
    const id = s.frames[0].id;
    r = await postSubs(srv.url, { clientId: id, subscriptions: Array.from({ length: 1001 }, (_, i) => `t${i}`) });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).data.subscriptions.code, 'validation_length_too_long');
    r = await postSubs(srv.url, { clientId: id, subscriptions: ['abc', 'a'.repeat(2501)] });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).data.subscriptions['1'].code, 'validation_length_too_long');
    r = await postSubs(srv.url, { clientId: id, subscriptions: ['abc', 'a'.repeat(2500)] });
    assert.equal(r.status, 204);
    s.req.destroy();
  });

  test('auth upgrade: guest to auth only; another auth or back to guest is 403', async () => {
    const s = await rawStream(srv.url);
    await until(() => s.frames.length >= 1, 'PB_CONNECT');
    const id = s.frames[0].id;
    assert.equal((await postSubs(srv.url, { clientId: id, subscriptions: ['x'] })).status, 204);
    assert.equal((await postSubs(srv.url, { clientId: id, subscriptions: ['x'] }, asUser.authStore.token)).status, 204);
    assert.equal((await postSubs(srv.url, { clientId: id, subscriptions: ['x'] }, asUser.authStore.token)).status, 204);
    let r = await postSubs(srv.url, { clientId: id, subscriptions: ['x'] }, asOther.authStore.token);
    assert.equal(r.status, 403);
    assert.deepEqual(JSON.parse(r.body), {
      data: {},
      message: "The current and the previous request authorization don't match.",
      status: 403,
    });
    r = await postSubs(srv.url, { clientId: id, subscriptions: ['x'] });
    assert.equal(r.status, 403);
    s.req.destroy();
  });

  test('"*" topic: create, update and delete in order, shaped as the REST API', async () => {
    const pb = client(srv.url);
    const { got, unsub } = await collect(pb, 'posts', '*');
    const rec = await su.collection('posts').create({ title: 'one', secret: 's' });
    await su.collection('posts').update(rec.id, { title: 'two' });
    await su.collection('posts').delete(rec.id);
    await until(() => got.length >= 3, 'three messages');
    assert.deepEqual(
      got.map((e) => [e.action, e.record.title]),
      [
        ['create', 'one'],
        ['update', 'two'],
        ['delete', 'two'],
      ],
    );
    assert.equal(got[0].record.id, rec.id);
    assert.equal(got[0].record.collectionName, 'posts');
    assert.equal(got[0].record.secret, undefined, 'hidden field left out for a guest');
    await unsub();
  });

  test('record topic: only that record; topic by collection id too', async () => {
    const pb = client(srv.url);
    const a = await su.collection('posts').create({ title: 'a' });
    const b = await su.collection('posts').create({ title: 'b' });
    const { got, unsub } = await collect(pb, 'posts', a.id);
    const col = await su.collections.getOne('posts');
    const byId = [];
    const unsub2 = await pb.collection(col.id).subscribe('*', (e) => byId.push(e));
    await su.collection('posts').update(b.id, { title: 'b2' });
    await su.collection('posts').update(a.id, { title: 'a2' });
    await until(() => got.length >= 1 && byId.length >= 2, 'messages');
    assert.deepEqual(
      got.map((e) => e.record.title),
      ['a2'],
    );
    assert.deepEqual(
      byId.map((e) => e.record.title),
      ['b2', 'a2'],
    );
    await unsub();
    await unsub2();
  });

  test('rules per auth state: guest, any auth, owner', async () => {
    const guest = client(srv.url);
    const u = client(srv.url);
    u.authStore.save(asUser.authStore.token, asUser.authStore.record);
    const o = client(srv.url);
    o.authStore.save(asOther.authStore.token, asOther.authStore.record);
    const g1 = await collect(guest, 'members', '*');
    const u1 = await collect(u, 'members', '*');
    const g2 = await collect(guest, 'owned', '*');
    const u2 = await collect(u, 'owned', '*');
    const o2 = await collect(o, 'owned', '*');
    const s1 = await collect(su, 'closed', '*');
    const g3 = await collect(guest, 'closed', '*');
    await su.collection('members').create({ title: 'm' });
    await su.collection('owned').create({ title: 'mine', owner: user.id });
    await su.collection('closed').create({ title: 'c' });
    await until(() => u1.got.length && u2.got.length && s1.got.length, 'allowed messages');
    await sleep(300);
    assert.equal(g1.got.length, 0, 'guest on an auth-only rule');
    assert.equal(g2.got.length, 0, 'guest on an owner rule');
    assert.equal(o2.got.length, 0, 'another user on an owner rule');
    assert.equal(g3.got.length, 0, 'guest on a superuser-only collection');
    assert.equal(u2.got[0].record.title, 'mine');
    for (const x of [g1, u1, g2, u2, o2, s1, g3]) await x.unsub();
  });

  test('rules decided in memory and in SQL; hidden fields for superusers only', async () => {
    const u = client(srv.url);
    u.authStore.save(asUser.authStore.token, asUser.authStore.record);
    const o = client(srv.url);
    o.authStore.save(asOther.authStore.token, asOther.authStore.record);
    const guest = client(srv.url);
    const um = await collect(u, 'mixed', '*');
    const om = await collect(o, 'mixed', '*');
    const gm = await collect(guest, 'mixed', '*');
    const ub = await collect(u, 'byname', '*');
    const ob = await collect(o, 'byname', '*');
    const sp = await collect(su, 'posts', '*');
    const up = await collect(u, 'posts', '*');
    const gp = await collect(guest, 'posts', '*');
    await su.collection('mixed').create({ title: 'mine', owner: user.id });
    await su.collection('mixed').create({ title: 'all' });
    await su.collection('byname').create({ title: 'b' });
    await su.collection('posts').create({ title: 'hidden inside', secret: 's3' });
    await until(() => um.got.length >= 2 && om.got.length >= 1 && ub.got.length && sp.got.length && up.got.length && gp.got.length, 'messages');
    await sleep(300);
    assert.deepEqual(um.got.map((x) => x.record.title), ['mine', 'all']);
    assert.deepEqual(om.got.map((x) => x.record.title), ['all']);
    assert.equal(gm.got.length, 0);
    assert.equal(ub.got.length, 1);
    assert.equal(ob.got.length, 0, 'a rule on another auth field (SQL)');
    assert.equal(sp.got[0].record.secret, 's3');
    assert.equal(up.got[0].record.secret, undefined);
    assert.equal(gp.got[0].record.secret, undefined);
    for (const x of [um, om, gm, ub, ob, sp, up, gp]) await x.unsub();
  });

  test('the client auth follows its record: refreshed on update, dropped on a new tokenKey', async () => {
    const third = await su.collection('users').create({
      email: 'third@example.com', password: 'third-pass-123', passwordConfirm: 'third-pass-123',
    });
    const t = client(srv.url);
    await t.collection('users').authWithPassword('third@example.com', 'third-pass-123');
    const v = await collect(t, 'verifiedonly', '*');
    const m = await collect(t, 'members', '*');
    await su.collection('verifiedonly').create({ title: 'before' });
    await su.collection('members').create({ title: 'signed in' });
    await until(() => m.got.length >= 1, 'the members message');
    await sleep(200);
    assert.equal(v.got.length, 0, 'not verified yet');
    await su.collection('users').update(third.id, { verified: true });
    await sleep(200);
    await su.collection('verifiedonly').create({ title: 'after' });
    await until(() => v.got.length >= 1, 'a message under the refreshed auth');
    assert.deepEqual(v.got.map((x) => x.record.title), ['after']);
    // A new password renews the tokenKey: the client is a guest again.
    await su.collection('users').update(third.id, { password: 'third-pass-456', passwordConfirm: 'third-pass-456' });
    await sleep(200);
    await su.collection('members').create({ title: 'signed out' });
    await su.collection('posts').create({ title: 'still subscribed' });
    const p = await collect(t, 'posts', '*');
    await su.collection('posts').create({ title: 'as a guest' });
    await until(() => p.got.length >= 1, 'a public message');
    await sleep(200);
    assert.deepEqual(m.got.map((x) => x.record.title), ['signed in']);
    for (const x of [v, m, p]) await x.unsub().catch(() => {});
    t.realtime.unsubscribe().catch(() => {});
  });

  test('the filter option has the client privileges: hidden fields only for superusers', async () => {
    const u = client(srv.url);
    u.authStore.save(asUser.authStore.token, asUser.authStore.record);
    const uf = await collect(u, 'posts', '*', { filter: "secret = 'pass'" });
    const sf = await collect(su, 'posts', '*', { filter: "secret = 'pass'" });
    const st = await collect(su, 'posts', '*', { filter: "title = 'second'" });
    await su.collection('posts').create({ title: 'first', secret: 'pass' });
    await su.collection('posts').create({ title: 'second', secret: 'other' });
    await until(() => sf.got.length >= 1 && st.got.length >= 1, 'superuser messages');
    await sleep(300);
    assert.equal(uf.got.length, 0, 'a filter on a hidden field refuses a regular user');
    assert.deepEqual(sf.got.map((x) => x.record.title), ['first']);
    assert.deepEqual(st.got.map((x) => x.record.title), ['second'], 'a superuser is filtered too');
    for (const x of [uf, sf, st]) await x.unsub();
  });

  test('options: filter, expand, fields, query and headers', async () => {
    const pb = client(srv.url);
    pb.authStore.save(asUser.authStore.token, asUser.authStore.record);
    const f = await collect(pb, 'posts', '*', { filter: "title ~ 'keep'" });
    const e = await collect(pb, 'posts', '*', { expand: 'owner', fields: 'id,title,expand.owner.name' });
    const gated = await collect(client(srv.url), 'gated', '*', { query: { key: 'open' }, headers: { 'X-Token': 'abc' } });
    const shut = await collect(client(srv.url), 'gated', '*', { query: { key: 'shut' }, headers: { 'X-Token': 'abc' } });
    await su.collection('posts').create({ title: 'drop me' });
    await su.collection('posts').create({ title: 'keep me', owner: user.id });
    await su.collection('gated').create({ title: 'g' });
    await until(() => f.got.length >= 1 && e.got.length >= 2 && gated.got.length >= 1, 'messages');
    await sleep(300);
    assert.deepEqual(
      f.got.map((x) => x.record.title),
      ['keep me'],
    );
    const kept = e.got.find((x) => x.record.title === 'keep me');
    assert.deepEqual(Object.keys(kept.record).sort(), ['expand', 'id', 'title']);
    assert.deepEqual(kept.record.expand, { owner: { name: 'U' } });
    assert.equal(shut.got.length, 0);
    for (const x of [f, e, gated, shut]) await x.unsub();
  });

  test('no message for a rolled-back batch', async () => {
    await su.settings.update({ batch: { enabled: true, maxRequests: 50 } });
    const pb = client(srv.url);
    const { got, unsub } = await collect(pb, 'posts', '*');
    const batch = su.createBatch();
    batch.collection('posts').create({ title: 'rolled back' });
    batch.collection('posts').update('missing-id-123', { title: 'x' });
    await assert.rejects(batch.send());
    const ok = su.createBatch();
    ok.collection('posts').create({ title: 'committed' });
    await ok.send();
    await until(() => got.length >= 1, 'the committed message');
    await sleep(200);
    assert.deepEqual(
      got.map((x) => x.record.title),
      ['committed'],
    );
    await unsub();
  });

  test('owner rule: the owner, superusers and record topics only; an unowned record by the rule', async () => {
    const guest = client(srv.url);
    const u = client(srv.url);
    u.authStore.save(asUser.authStore.token, asUser.authStore.record);
    const o = client(srv.url);
    o.authStore.save(asOther.authStore.token, asOther.authStore.record);
    const first = await su.collection('owned').create({ title: 'first', owner: user.id });
    const ua = await collect(u, 'owned', '*');
    const ur = await collect(u, 'owned', first.id);
    const oa = await collect(o, 'owned', '*');
    const sa = await collect(su, 'owned', '*');
    const ga = await collect(guest, 'owned', '*');
    await su.collection('owned').update(first.id, { title: 'first, again' });
    await su.collection('owned').create({ title: 'theirs', owner: other.id });
    // With no owner, `owner = @request.auth.id` holds for guests ('' = '').
    const unowned = await su.collection('owned').create({ title: 'nobody' });
    const list = await guest.collection('owned').getList(1, 10, { filter: `id = "${unowned.id}"` });
    await until(() => ua.got.length >= 1 && ur.got.length >= 1 && oa.got.length >= 1 && sa.got.length >= 3, 'owner messages');
    await sleep(300);
    assert.deepEqual(ua.got.map((x) => x.record.title), ['first, again']);
    assert.deepEqual(ur.got.map((x) => x.record.title), ['first, again']);
    assert.deepEqual(oa.got.map((x) => x.record.title), ['theirs']);
    assert.deepEqual(sa.got.map((x) => x.record.title), ['first, again', 'theirs', 'nobody']);
    assert.deepEqual(ga.got.map((x) => x.record.title), list.items.map((x) => x.title), 'guests get what the list API shows them');
    for (const x of [ua, ur, oa, sa, ga]) await x.unsub();
  });

  test('a rule decided in SQL follows a change of the rule', async () => {
    const u = client(srv.url);
    u.authStore.save(asUser.authStore.token, asUser.authStore.record);
    const ub = await collect(u, 'byname', '*');
    await su.collection('byname').create({ title: 'as U' });
    await until(() => ub.got.length >= 1, 'a message under the first rule');
    await su.collections.update('byname', { listRule: "@request.auth.name = 'V'" });
    await su.collection('byname').create({ title: 'V only' });
    await su.collections.update('byname', { listRule: "@request.auth.name = 'U' && title != 'skip'" });
    await su.collection('byname').create({ title: 'skip' });
    await su.collection('byname').create({ title: 'U again' });
    await until(() => ub.got.length >= 2, 'a message under the third rule');
    await sleep(200);
    assert.deepEqual(ub.got.map((x) => x.record.title), ['as U', 'U again']);
    await su.collections.update('byname', { listRule: "@request.auth.name = 'U'" });
    await ub.unsub();
  });

  test("the client auth is dropped on its collection's new token secret and on its deletion", async () => {
    const signIn = async (name) => {
      await su.collections.create({ name, type: 'auth', fields: [], passwordAuth: { enabled: true, identityFields: ['email'] } });
      await su.collection(name).create({ email: `a@${name}.example.com`, password: 'crew-pass-123', passwordConfirm: 'crew-pass-123' });
      const c = client(srv.url);
      await c.collection(name).authWithPassword(`a@${name}.example.com`, 'crew-pass-123');
      return c;
    };
    const crew = await signIn('crew');
    const staff = await signIn('staff');
    const cm = await collect(crew, 'members', '*');
    const sm = await collect(staff, 'members', '*');
    const cp = await collect(crew, 'posts', '*');
    await su.collection('members').create({ title: 'one' });
    await until(() => cm.got.length >= 1 && sm.got.length >= 1, 'messages while signed in');
    // Another change of the collection keeps its clients signed in.
    await su.collections.update('crew', { listRule: '' });
    await su.collection('members').create({ title: 'two' });
    await until(() => cm.got.length >= 2 && sm.got.length >= 2, 'messages after an unrelated change');
    await su.collections.update('crew', { authToken: { secret: 'a-new-secret-of-more-than-thirty-characters' } });
    await su.collections.delete('staff');
    await sleep(200);
    await su.collection('members').create({ title: 'three' });
    await su.collection('posts').create({ title: 'public' });
    await until(() => cp.got.length >= 1, 'a public message to the signed-out client');
    await sleep(300);
    assert.deepEqual(cm.got.map((x) => x.record.title), ['one', 'two']);
    assert.deepEqual(sm.got.map((x) => x.record.title), ['one', 'two']);
    for (const x of [cm, cp]) await x.unsub().catch(() => {});
    crew.realtime.unsubscribe().catch(() => {});
    staff.realtime.unsubscribe().catch(() => {});
  });

  test('a subscribe request from another address than the stream is 400', async () => {
    await su.settings.update({ trustedProxy: { headers: ['x-test-ip'] } });
    try {
      const s = await rawStream(srv.url, { 'x-test-ip': '127.0.0.1' });
      await until(() => s.frames.length >= 1, 'PB_CONNECT');
      const id = s.frames[0].id;
      const bad = await postSubs(srv.url, { clientId: id, subscriptions: ['test'] }, null, { 'x-test-ip': '127.0.0.2' });
      assert.equal(bad.status, 400);
      assert.deepEqual(JSON.parse(bad.text), { data: {}, message: 'Invalid realtime client.', status: 400 });
      const good = await postSubs(srv.url, { clientId: id, subscriptions: ['test'] }, null, { 'x-test-ip': '127.0.0.1' });
      assert.equal(good.status, 204);
      s.req.destroy();
    } finally {
      await su.settings.update({ trustedProxy: { headers: [] } });
    }
  });

  test('a client that goes away is forgotten', async () => {
    const s = await rawStream(srv.url);
    await until(() => s.frames.length >= 1, 'PB_CONNECT');
    const id = s.frames[0].id;
    assert.equal((await postSubs(srv.url, { clientId: id, subscriptions: ['posts/*'] })).status, 204);
    s.req.destroy();
    // The server notices at its next write (a message or a keep-alive).
    await su.collection('posts').create({ title: 'after close' });
    await until(async () => (await postSubs(srv.url, { clientId: id, subscriptions: [] })).status === 404, 'the client to be removed');
  });
});

describe('realtime idle timeout', () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: { BASALT_REALTIME_IDLE_MS: '700' } });
  });
  after(() => srv?.destroy());

  test('a stream with no message for the idle timeout is closed', async () => {
    const s = await rawStream(srv.url);
    await until(() => s.frames.length >= 1, 'PB_CONNECT');
    await until(() => s.ended, 'the stream to end');
    const id = s.frames[0].id;
    const r = await postSubs(srv.url, { clientId: id, subscriptions: [] });
    assert.equal(r.status, 404);
  });
});

describe('realtime maximum lifetime', () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: { BASALT_REALTIME_MAX_MS: '900', BASALT_REALTIME_PING_MS: '100' } });
  });
  after(() => srv?.destroy());

  test('a stream ends after its maximum lifetime even while it receives data', async () => {
    const s = await rawStream(srv.url);
    await until(() => s.frames.length >= 1, 'PB_CONNECT');
    await until(() => s.frames.some((f) => 'comment' in f), 'a keep-alive comment');
    await until(() => s.ended, 'the stream to end');
    const r = await postSubs(srv.url, { clientId: s.frames[0].id, subscriptions: [] });
    assert.equal(r.status, 404);
  });
});
