// Three Basalt nodes on one PostgreSQL and one NATS, behind nginx: the
// scale-out setup of docs/scale.md, all on 127.0.0.1 (a throwaway
// PostgreSQL 15 from tests/pg/pg.sh, nats-server, nginx round-robin).
//
// Checked: three nodes starting at once on an empty database all come
// up (they take turns creating the system tables); records written
// through the balancer are read back through
// it and through each node; a collection created or a rule changed on
// one node is served by the others as soon as the change is answered
// (the schema notice over NATS, confirmed by every node), and one
// imported with the command line within seconds (no notice); a client
// subscribed on node 1 gets a change written through node 3; a client's
// auth is dropped on its node when its collection's token secret
// changes on another; a client's
// subscriptions sent to another node than its stream are set (or
// refused) by the node holding it; and node 2
// killed with kill -9 during a write load through the balancer loses no
// acknowledged write, while the realtime clients connected through the
// balancer reconnect (the SDK's own retry) and get the changes made
// after the kill; cron jobs run on one node only (the holder of a
// PostgreSQL advisory lock), and on another once it is killed; a rate
// limit counts a client's requests on every node together (a table in
// PostgreSQL), kept when another node's change reloads the snapshots;
// a collection made while NATS was down reaches the other
// nodes once it is back (each reads its snapshots again on reconnect);
// record files are refused until S3 is enabled, then any node serves
// them.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import PocketBase from 'pocketbase';
import { EventSource } from 'eventsource';
import { PG_SKIP, startPg, stopPg } from './lib/pg.mjs';
import { startServer, client, runCli, freePort } from './lib/server.mjs';
import { sleep, until, collect } from './lib/realtime.mjs';
import { NATS_SKIP, NGINX_SKIP, startNats, stopProcess, metric, startBalancer } from './lib/cluster.mjs';

globalThis.EventSource = EventSource;

const SKIP = PG_SKIP || NATS_SKIP || NGINX_SKIP;

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };

describe('three nodes on PostgreSQL and NATS behind nginx', { skip: SKIP }, () => {
  let pgDir, dbUrl, nats, natsPort, lb, token, s3, s3dir;
  const nodes = [];
  // Every client with a realtime stream, closed in after() even when a
  // test failed half-way (a stream left open retries for ever).
  const streams = [];
  const watch = async (pb, collection) => {
    streams.push(pb);
    return collect(pb, collection, '*');
  };
  const su = (url) => {
    const pb = client(url, token);
    pb.autoCancellation(false);
    return pb;
  };

  before(async () => {
    ({ dir: pgDir, url: dbUrl } = startPg());
    natsPort = await freePort();
    nats = await startNats(natsPort);
    const options = {
      args: ['--db', dbUrl, '--nats', `nats://127.0.0.1:${natsPort}`, '--natsPrefix', 'cltest'],
      // A minute of the cron clock lasts 20 ms: the hourly system jobs
      // run every 1.2 s.
      env: { BASALT_NATS_RECONNECT_MS: '100', BASALT_CRON_MINUTE_MS: '20' },
    };
    // The first node creates the system tables; the others find them.
    nodes.push(await startServer(options));
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', nodes[0].dir, '--db', dbUrl]);
    assert.equal(r.code, 0, r.stderr);
    nodes.push(await startServer(options));
    nodes.push(await startServer(options));
    lb = await startBalancer(nodes.map((n) => n.port));

    const pb = new PocketBase(lb.url);
    await pb.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    token = pb.authStore.token;
    for (const n of nodes)
      await until(async () => (await metric(n, token, 'basalt_cluster_connected')) === 1, 'NATS', 10000);
    await su(lb.url).collections.create({
      name: 'posts',
      listRule: '',
      viewRule: '',
      createRule: '',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'n', type: 'number' },
      ],
    });
    // Every node serves the new collection before the tests start.
    for (const n of nodes)
      await until(async () => (await fetch(`${n.url}/api/collections/posts/records?perPage=1`)).status === 200, 'posts everywhere');
  });

  after(async () => {
    for (const pb of streams) {
      await pb.realtime.unsubscribe().catch(() => {});
      pb.realtime.disconnect?.();
    }
    await lb?.stop();
    for (const n of nodes) await n.destroy();
    await s3?.close();
    if (s3dir) fs.rmSync(s3dir, { recursive: true, force: true });
    await stopProcess(nats, 'SIGKILL');
    stopPg(pgDir);
  });

  test('three nodes starting at once on an empty database all come up', async () => {
    execFileSync('psql', [dbUrl, '-XAtq', '-c', 'CREATE DATABASE fresh_start'], { encoding: 'utf8' });
    const fresh = new URL(dbUrl);
    fresh.pathname = '/fresh_start';
    const started = await Promise.all([0, 1, 2].map(() => startServer({ args: ['--db', fresh.href] })));
    try {
      for (const n of started) {
        const r = await fetch(`${n.url}/api/health`);
        assert.equal(r.status, 200);
      }
      const count = execFileSync('psql', [fresh.href, '-XAtq', '-c', 'SELECT count(*) FROM _migrations'], { encoding: 'utf8' }).trim();
      assert.ok(Number(count) > 0);
      const users = execFileSync('psql', [fresh.href, '-XAtq', '-c', "SELECT count(*) FROM _collections WHERE name = 'users'"], { encoding: 'utf8' }).trim();
      assert.equal(users, '1', 'the system collections are made once');
    } finally {
      for (const n of started) await n.destroy();
    }
  });

  test('records written through the balancer are read back through it and through every node', async () => {
    const pb = su(lb.url);
    const made = [];
    for (let i = 0; i < 9; i++) made.push(await pb.collection('posts').create({ title: `lb ${i}`, n: i }));
    const listed = await pb.collection('posts').getFullList({ filter: 'title ~ "lb "', sort: 'n' });
    assert.deepEqual(listed.map((r) => r.id), made.map((r) => r.id));
    for (const n of nodes) {
      const one = await new PocketBase(n.url).collection('posts').getOne(made[4].id);
      assert.equal(one.title, 'lb 4');
    }
    await pb.collection('posts').update(made[0].id, { title: 'lb changed' });
    await pb.collection('posts').delete(made[1].id);
    for (const n of nodes) {
      const p = new PocketBase(n.url);
      assert.equal((await p.collection('posts').getOne(made[0].id)).title, 'lb changed');
      await assert.rejects(p.collection('posts').getOne(made[1].id), (e) => e.status === 404);
    }
  });

  test('a collection created on one node is served by the others at once', async () => {
    await su(nodes[1].url).collections.create({
      name: 'notes',
      listRule: '',
      viewRule: '',
      fields: [{ name: 'body', type: 'text' }],
    });
    // The change is answered once the other nodes have reloaded.
    for (const n of [nodes[0], nodes[2]])
      assert.equal((await fetch(`${n.url}/api/collections/notes/records`)).status, 200, 'notes on the others');
    const rec = await su(nodes[2].url).collection('notes').create({ body: 'from node 3' });
    assert.equal((await new PocketBase(nodes[0].url).collection('notes').getOne(rec.id)).body, 'from node 3');
  });

  test('a rule changed on one node applies on every node as soon as the change is answered', async () => {
    await su(nodes[1].url).collections.create({ name: 'flips', listRule: null, fields: [{ name: 'body', type: 'text' }] });
    for (let i = 0; i < 12; i++) {
      const open = i % 2 === 0;
      await su(nodes[i % 3].url).collections.update('flips', { listRule: open ? '' : null });
      for (const n of nodes)
        assert.equal((await fetch(`${n.url}/api/collections/flips/records`)).status, open ? 200 : 403,
          `round ${i}: the rule on ${n.url}`);
    }
    await su(nodes[0].url).settings.update({ meta: { appName: 'Flipped' } });
    for (const n of nodes) assert.equal((await su(n.url).settings.getAll()).meta.appName, 'Flipped');
  });

  test('a collection imported with the command line is served by every node without a notice', async () => {
    const file = path.join(os.tmpdir(), `basalt-cluster-import-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify([{ name: 'imported', type: 'base', listRule: '', fields: [{ name: 'body', type: 'text' }] }]));
    try {
      const r = await runCli(['collections', 'import', file, '--dir', nodes[0].dir, '--db', dbUrl]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      fs.rmSync(file, { force: true });
    }
    // Each node looks at the collections' rows in PostgreSQL once a second.
    for (const n of nodes)
      await until(async () => (await fetch(`${n.url}/api/collections/imported/records`)).status === 200, 'imported everywhere', 5000);
  });

  test('a client subscribed on node 1 gets a change written through node 3', async () => {
    const pb = new PocketBase(nodes[0].url);
    const { got, unsub } = await watch(pb, 'posts');
    const rec = await su(nodes[2].url).collection('posts').create({ title: 'cross node', n: 100 });
    await until(() => got.some((e) => e.action === 'create' && e.record.id === rec.id), 'the change on node 1');
    await unsub();
  });

  test("a client's auth is dropped on its node when its collection's token secret changes on another", async () => {
    await su(nodes[0].url).collections.create({ name: 'crew', type: 'auth', fields: [], passwordAuth: { enabled: true, identityFields: ['email'] } });
    await su(nodes[0].url).collections.create({ name: 'members', listRule: "@request.auth.id != ''", fields: [{ name: 'title', type: 'text' }] });
    await su(nodes[0].url).collection('crew').create({ email: 'a@crew.example.com', password: 'crew-pass-123', passwordConfirm: 'crew-pass-123' });
    const pb = new PocketBase(nodes[2].url);
    pb.autoCancellation(false);
    await pb.collection('crew').authWithPassword('a@crew.example.com', 'crew-pass-123');
    const members = await watch(pb, 'members');
    const posts = await collect(pb, 'posts', '*');
    await su(nodes[0].url).collection('members').create({ title: 'one' });
    await until(() => members.got.length === 1, 'a message while signed in');
    await su(nodes[1].url).collections.update('crew', { authToken: { secret: 'a-new-secret-of-more-than-thirty-characters' } });
    await su(nodes[0].url).collection('members').create({ title: 'two' });
    const p = await su(nodes[0].url).collection('posts').create({ title: 'after the new secret' });
    // Changes reach node 3 in the order they were made: once the post is
    // there, the second member would have been too.
    await until(() => posts.got.some((e) => e.record.id === p.id), 'the public change');
    assert.deepEqual(members.got.map((e) => e.record.title), ['one']);
    await posts.unsub();
  });

  test('a subscription sent to another node than the stream is checked by the node holding the client', async () => {
    // The stream on node 1, signed in as the superuser.
    const pb = su(nodes[0].url);
    const { unsub } = await watch(pb, 'posts');
    const clientId = pb.realtime.clientId;
    assert.ok(clientId);
    const post = (url, body, authorization) => fetch(`${url}/api/realtime`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(body),
    });
    // The same requester through node 3: accepted by node 1.
    let r = await post(nodes[2].url, { clientId, subscriptions: ['posts', 'notes'] }, token);
    assert.equal(r.status, 204);
    // Another requester through node 2: refused by node 1's check.
    await su(lb.url).collection('users').create({ email: 'rt@example.com', password: 'rt-pass-1234', passwordConfirm: 'rt-pass-1234' });
    const user = new PocketBase(nodes[1].url);
    await user.collection('users').authWithPassword('rt@example.com', 'rt-pass-1234');
    r = await post(nodes[1].url, { clientId, subscriptions: ['posts'] }, user.authStore.token);
    assert.equal(r.status, 403);
    assert.match((await r.json()).message, /authorization don't match/);
    // A client no node holds.
    r = await post(nodes[1].url, { clientId: 'nobody-holds-this', subscriptions: ['posts'] });
    assert.equal(r.status, 404);
    assert.equal((await r.json()).message, 'Missing or invalid client id.');
    await unsub();
  });

  test('a rate limit counts the requests of a client on every node together', async () => {
    const limits = (enabled) => ({
      rateLimits: { enabled, rules: [{ label: 'notes:list', audience: '', duration: 60, maxRequests: 4 }] },
    });
    await su(nodes[0].url).settings.update(limits(true));
    try {
      for (const n of nodes)
        await until(async () => (await su(n.url).settings.getAll()).rateLimits.enabled === true, 'the limit on every node', 2000);
      // Four lists allowed in all, whichever node answers: 2 + 1 + 1.
      const list = (n) => fetch(`${n.url}/api/collections/notes/records`).then((r) => r.status);
      assert.deepEqual([await list(nodes[0]), await list(nodes[1]), await list(nodes[2]), await list(nodes[0])],
        [200, 200, 200, 200]);
      for (const n of nodes) assert.equal(await list(n), 429, 'over the limit on every node');
      // A change of the schema on node 2 makes nodes 1 and 3 read their
      // snapshots again: the counts under the same rules stay.
      const reloads = 'basalt_cluster_received_total{result="reload"}';
      const before = await Promise.all([nodes[0], nodes[2]].map((n) => metric(n, token, reloads)));
      await su(nodes[1].url).collections.create({ name: 'limits_stay', fields: [{ name: 'body', type: 'text' }] });
      for (const [i, n] of [nodes[0], nodes[2]].entries())
        await until(async () => (await metric(n, token, reloads)) > before[i], 'the schema notice', 5000);
      for (const n of nodes) assert.equal(await list(n), 429, 'still over the limit after a reload');
    } finally {
      await su(nodes[0].url).settings.update(limits(false));
      for (const n of nodes)
        await until(async () => (await su(n.url).settings.getAll()).rateLimits.enabled === false, 'no limit on every node', 2000);
    }
  });

  test('record files: refused until S3 is enabled, then served by every node', async () => {
    await su(nodes[0].url).collections.create({
      name: 'docs', listRule: '', viewRule: '', createRule: '',
      fields: [{ name: 'title', type: 'text' }, { name: 'file', type: 'file', maxSelect: 1 }],
    });
    for (const n of nodes)
      await until(async () => (await fetch(`${n.url}/api/collections/docs/records`)).status === 200, 'docs everywhere', 2000);
    const form = (text) => {
      const f = new FormData();
      f.append('title', text);
      f.append('file', new Blob([`body of ${text}`], { type: 'text/plain' }), `${text}.txt`);
      return f;
    };
    // On a node's own disk the file would be missing on the others.
    await assert.rejects(new PocketBase(nodes[0].url).collection('docs').create(form('local')),
      (e) => e.status === 400 && /S3/.test(e.message));
    assert.equal((await su(nodes[0].url).collection('docs').getList(1, 1)).totalItems, 0, 'nothing stored');

    s3dir = fs.mkdtempSync(path.join(os.tmpdir(), 'basalt-s3rver-'));
    const s3port = await freePort();
    s3 = new S3rver({ address: '127.0.0.1', port: s3port, silent: true, directory: s3dir, configureBuckets: [{ name: 'cluster-files' }] });
    await s3.run();
    await su(nodes[0].url).settings.update({
      s3: { enabled: true, bucket: 'cluster-files', region: 'us-east-1', endpoint: `http://127.0.0.1:${s3port}`,
        accessKey: 'S3RVER', secret: 'S3RVER', forcePathStyle: true },
    });
    for (const n of nodes)
      await until(async () => (await su(n.url).settings.getAll()).s3.enabled === true, 'S3 on every node', 2000);
    const rec = await new PocketBase(nodes[0].url).collection('docs').create(form('shared'));
    for (const n of nodes) {
      const r = await fetch(`${n.url}/api/files/docs/${rec.id}/${rec.file}`);
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'body of shared');
    }
  });

  test('a collection made while NATS was down is served by the others once it is back', async () => {
    await stopProcess(nats, 'SIGKILL');
    for (const n of nodes)
      await until(async () => (await metric(n, token, 'basalt_cluster_connected')) === 0, 'NATS gone', 10000);
    // Its notice is lost: nobody hears it.
    await su(nodes[1].url).collections.create({ name: 'made_offline', listRule: '', fields: [{ name: 'body', type: 'text' }] });
    assert.equal((await fetch(`${nodes[0].url}/api/collections/made_offline/records`)).status, 404);
    nats = await startNats(natsPort);
    for (const n of nodes)
      await until(async () => (await metric(n, token, 'basalt_cluster_connected')) === 1, 'NATS again', 15000);
    // Each node reads the schema again when the bus comes back.
    for (const n of [nodes[0], nodes[2]])
      await until(async () => (await fetch(`${n.url}/api/collections/made_offline/records`)).status === 200,
        'the collection on the others', 5000);
  });

  test('kill -9 of a node during writes through the balancer: no acknowledged write lost, realtime resumes', async () => {
    // Realtime clients through the balancer: round-robin puts them on
    // every node, node 2 included.
    const watchers = [];
    for (let i = 0; i < 3; i++) {
      const pb = new PocketBase(lb.url);
      pb.autoCancellation(false);
      watchers.push(await watch(pb, 'posts'));
    }
    const acked = [];
    let failed = 0;
    let stop = false;
    const writer = async (w) => {
      const pb = new PocketBase(lb.url);
      pb.autoCancellation(false);
      for (let i = 0; !stop; i++) {
        try {
          const r = await pb.collection('posts').create({ title: `load ${w}-${i}`, n: i });
          acked.push(r.id);
        } catch {
          failed++; // not acknowledged: it may or may not have been stored
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    try {
      await until(() => acked.length >= 100, 'writes before the kill', 20000);
      await nodes[1].kill9();
      const atKill = acked.length;
      await until(() => acked.length >= atKill + 100, 'writes after the kill', 20000);
    } finally {
      stop = true;
      await Promise.all(writers);
    }

    // Every acknowledged write is there, read through the balancer.
    const pb = su(lb.url);
    const stored = new Set((await pb.collection('posts').getFullList({ filter: 'title ~ "load "', fields: 'id', batch: 500 })).map((r) => r.id));
    const lost = acked.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged writes lost (${failed} failed)`);

    // Each realtime client gets a change made after the kill (the one on
    // node 2 once the SDK has reconnected through the balancer).
    await until(async () => {
      const rec = await pb.collection('posts').create({ title: 'after the kill', n: -1 });
      await sleep(300);
      return watchers.every((w) => w.got.some((e) => e.action === 'create' && e.record.id === rec.id));
    }, 'every realtime client to get a change after the kill', 20000);
    for (const w of watchers) await w.unsub().catch(() => {});
  });

  test('cron jobs run on one node at a time, and another takes over when it dies', async () => {
    const JOB = 'basalt_cron_runs_total{job="__pbOTPCleanup__"}';
    const runs = async (n) => (await metric(n, token, JOB)) ?? 0;
    const sum = (a) => a.reduce((x, y) => x + y, 0);
    // Two hourly runs somewhere among the live nodes; which ones ran?
    const window = async (what) => {
      const alive = nodes.filter((n) => n.exitInfo === null);
      const before = await Promise.all(alive.map(runs));
      let after = before;
      await until(async () => {
        after = await Promise.all(alive.map(runs));
        return sum(after) - sum(before) >= 2;
      }, what, 20000);
      return alive.filter((n, i) => after[i] > before[i]);
    };
    const ran = await window('cron runs');
    assert.equal(ran.length, 1, 'one node runs the cron jobs');
    await ran[0].kill9();
    const next = await window('another node to take the cron jobs over');
    assert.equal(next.length, 1, 'one node runs the cron jobs');
    assert.notEqual(next[0], ran[0]);
  });
});
