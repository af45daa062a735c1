// Realtime across nodes over NATS: a real nats-server on a free port of
// 127.0.0.1 and two Basalt nodes sharing one pb_data directory (SQLite in
// WAL mode lets several processes share it; this stands in for the
// PostgreSQL store until it exists), each started with --nats.
//
// Checked: a client subscribed on node 1 gets the creates, updates and
// deletes written through node 2, filtered by node 1's rule checks (a
// guest does not get what the list rule hides, an owner rule lets each
// user see only their own records); node 2's own clients get each of its
// changes exactly once (no echo through the bus); a collection created
// on node 2 is usable at once on node 1 (the schema notice reloads its
// snapshot); and once nats-server is killed (node 2 keeps serving, its
// publishes fail and are counted) and started again, changes flow again.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { startServer, client, runCli, freePort } from './lib/server.mjs';
import { sleep, until, collect, signedInUser } from './lib/realtime.mjs';
import { NATS_SKIP, startNats, stopProcess, metric } from './lib/cluster.mjs';

globalThis.EventSource = EventSource;

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const USER = { email: 'user@example.com', password: 'user-pass-1234' };
const OTHER = { email: 'other@example.com', password: 'other-pass-1234' };

const brief = (got) => got.map((e) => `${e.action}:${e.record.title}`);

describe('realtime across nodes over NATS', { skip: NATS_SKIP }, () => {
  let nats, natsPort, node1, node2, su1, su2, user, other;
  let asUser1, asOther1;
  const extra = () => ({
    args: ['--nats', `nats://127.0.0.1:${natsPort}`, '--natsPrefix', 'bbtest'],
    env: { BASALT_NATS_RECONNECT_MS: '100' },
  });

  before(async () => {
    natsPort = await freePort();
    nats = await startNats(natsPort);
    node1 = await startServer(extra());
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', node1.dir]);
    assert.equal(r.code, 0, r.stderr);
    const o = extra();
    node2 = await startServer({ ...o, args: [`--dir=${node1.dir}`, ...o.args] });
    su1 = client(node1.url);
    await su1.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    su2 = client(node2.url, su1.authStore.token);
    for (const n of [node1, node2])
      await until(async () => (await metric(n, su1.authStore.token, 'basalt_cluster_connected')) === 1, 'NATS', 10000);

    // Written through node 2, signed in on node 1.
    ({ record: user, pb: asUser1 } = await signedInUser(su2, node1.url, USER));
    ({ record: other, pb: asOther1 } = await signedInUser(su2, node1.url, OTHER));
    await su2.collections.create({
      name: 'notes',
      listRule: '',
      viewRule: '',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'secret', type: 'text', hidden: true },
        { name: 'tags', type: 'select', values: ['a', 'b'], maxSelect: 2 },
        { name: 'n', type: 'number' },
        { name: 'ok', type: 'bool' },
      ],
    });
    await su2.collections.create({
      name: 'owned',
      listRule: 'owner = @request.auth.id',
      viewRule: 'owner = @request.auth.id',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'owner', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
      ],
    });
    await su2.collections.create({ name: 'closed', fields: [{ name: 'title', type: 'text' }] });
  });

  after(async () => {
    await node2?.destroy();
    await node1?.destroy();
    await stopProcess(nats, 'SIGKILL');
  });

  test('creates, updates and deletes written through node 2 reach node 1, with node 1 rule checks', async () => {
    const guest = client(node1.url);
    const notes = await collect(guest, 'notes', '*');
    const closedGuest = await collect(guest, 'closed', '*');
    const closedSu = await collect(su1, 'closed', '*');

    const rec = await su2.collection('notes').create({ title: 'one', secret: 's', tags: ['a', 'b'], n: 2.5, ok: true });
    await su2.collection('notes').update(rec.id, { title: 'two' });
    await su2.collection('notes').delete(rec.id);
    await su2.collection('closed').create({ title: 'hidden' });

    await until(() => notes.got.length >= 3, 'three messages on node 1');
    await until(() => closedSu.got.length >= 1, "the superuser's message on node 1");
    assert.deepEqual(brief(notes.got), ['create:one', 'update:two', 'delete:two']);
    const first = notes.got[0].record;
    assert.equal(first.id, rec.id);
    assert.equal(first.collectionName, 'notes');
    assert.deepEqual(first.tags, ['a', 'b']);
    assert.equal(first.n, 2.5);
    assert.equal(first.ok, true);
    assert.equal(first.secret, undefined, 'a hidden field went to a guest');
    assert.equal(closedSu.got[0].record.title, 'hidden');
    await sleep(300);
    assert.equal(closedGuest.got.length, 0, 'a guest got a record its list rule hides');
    await notes.unsub();
    await closedGuest.unsub();
    await closedSu.unsub();
  });

  test("an owner rule: each user on node 1 gets only their own records' changes", async () => {
    const mine = await collect(asUser1, 'owned', '*');
    const theirs = await collect(asOther1, 'owned', '*');
    const guest = await collect(client(node1.url), 'owned', '*');
    const a = await su2.collection('owned').create({ title: 'for user', owner: user.id });
    await su2.collection('owned').create({ title: 'for other', owner: other.id });
    await su2.collection('owned').delete(a.id);
    await until(() => mine.got.length >= 2 && theirs.got.length >= 1, 'the owners’ messages');
    await sleep(300);
    assert.deepEqual(brief(mine.got), ['create:for user', 'delete:for user']);
    assert.deepEqual(brief(theirs.got), ['create:for other']);
    assert.equal(guest.got.length, 0);
    await mine.unsub();
    await theirs.unsub();
    await guest.unsub();
  });

  test("node 2's own clients get each of its changes exactly once", async () => {
    const local = await collect(client(node2.url), 'notes', '*');
    const remote = await collect(client(node1.url), 'notes', '*');
    const r1 = await su2.collection('notes').create({ title: 'x' });
    await su2.collection('notes').update(r1.id, { title: 'y' });
    await until(() => remote.got.length >= 2 && local.got.length >= 2, 'both nodes');
    await sleep(400);
    assert.deepEqual(brief(local.got), ['create:x', 'update:y']);
    assert.deepEqual(brief(remote.got), ['create:x', 'update:y']);
    await local.unsub();
    await remote.unsub();
  });

  test('a collection created on node 2 is usable at once on node 1 (reloaded through the bus)', async () => {
    const token = su1.authStore.token;
    const reloads = await metric(node1, token, 'basalt_cluster_received_total{result="reload"}');
    await su2.collections.create({
      name: 'fresh',
      listRule: '',
      viewRule: '',
      createRule: '',
      fields: [{ name: 'title', type: 'text' }],
    });
    await until(
      async () => (await metric(node1, token, 'basalt_cluster_received_total{result="reload"}')) > reloads,
      'the schema notice on node 1',
    );
    const guest = client(node1.url);
    const list = await guest.collection('fresh').getList(1, 1);
    assert.equal(list.totalItems, 0);
    const fresh = await collect(guest, 'fresh', '*');
    await client(node2.url).collection('fresh').create({ title: 'hello' });
    await until(() => fresh.got.length >= 1, 'the new collection’s message on node 1');
    assert.deepEqual(brief(fresh.got), ['create:hello']);
    await fresh.unsub();
  });

  test('after nats-server is killed and started again, changes flow again', async () => {
    const token = su1.authStore.token;
    const remote = await collect(client(node1.url), 'notes', '*');
    await stopProcess(nats, 'SIGKILL');
    await until(async () => (await metric(node2, token, 'basalt_cluster_connected')) === 0, 'node 2 to see NATS gone');
    const failed = await metric(node2, token, 'basalt_cluster_published_total{result="failed"}');
    // Node 2 keeps serving; the change is committed, its message lost.
    const lost = await su2.collection('notes').create({ title: 'during outage' });
    assert.equal((await su2.collection('notes').getOne(lost.id)).title, 'during outage');
    assert.ok((await metric(node2, token, 'basalt_cluster_published_total{result="failed"}')) > failed);

    nats = await startNats(natsPort);
    for (const n of [node1, node2])
      await until(async () => (await metric(n, token, 'basalt_cluster_connected')) === 1, 'NATS again', 15000);
    // The subscription is sent again on reconnect; a change committed once
    // both are back reaches node 1.
    await until(async () => {
      await su2.collection('notes').create({ title: 'after' });
      await sleep(200);
      return remote.got.some((e) => e.record.title === 'after');
    }, 'a message after the restart');
    assert.ok(!remote.got.some((e) => e.record.title === 'during outage'));
    assert.ok(node2.output().includes('Cannot publish to NATS'), 'no warning was logged');
    await remote.unsub();
  });
});
