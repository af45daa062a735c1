// The backups API (PocketBase's apis/backup*.go) through the SDK's
// pb.backups: create, list, download with a superuser file token, delete,
// upload, and restore, which swaps pb_data and restarts the process in
// place (same pid). Hostile and corrupt archives are refused with nothing
// changed; a second backup while one runs is a 400; scheduled backups
// keep cronMaxKeep (BASALT_CRON_MINUTE_MS makes a cron minute last 1 s).
// Zips are inspected and forged with python3's zipfile.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import S3rver from 's3rver';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { client, freePort, startServer } from './lib/server.mjs';
import { rejectsWith, superuserClient } from './lib/assert.mjs';
import { startSink } from './lib/smtp.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a python3 snippet with argv. */
function py(code, ...args) {
  return execFileSync('python3', ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
}

/** The entry names of a zip. */
function zipNames(file) {
  return py('import sys,zipfile\nprint("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', file)
    .trim()
    .split('\n');
}

/** Writes a zip with entries given as [name, text | {zeros: n} | {symlink: target}]. */
function forgeZip(file, entries) {
  py(
    `import json,sys,zipfile
z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=9)
for name, v in json.loads(sys.argv[2]):
    if isinstance(v, str):
        z.writestr(zipfile.ZipInfo(name), v)
    elif "zeros" in v:
        i = zipfile.ZipInfo(name); i.compress_type = zipfile.ZIP_DEFLATED
        with z.open(i, "w", force_zip64=True) as w:
            block = bytes(1 << 20)
            for _ in range(v["zeros"] >> 20): w.write(block)
    else:
        i = zipfile.ZipInfo(name); i.create_system = 3
        i.external_attr = (0o120777 << 16)
        z.writestr(i, v["symlink"])
z.close()`,
    file,
    JSON.stringify(entries),
  );
}

async function waitHealthy(url, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url + '/api/health');
      if (r.status === 200) return;
    } catch {
      /* restarting */
    }
    if (Date.now() > end) throw new Error('server did not come back');
    await sleep(100);
  }
}

/** Waits until the server's output matches re (after `from` chars). */
async function waitOutput(srv, re, from = 0, ms = 20000) {
  const end = Date.now() + ms;
  while (!re.test(srv.output().slice(from))) {
    if (Date.now() > end) throw new Error(`no ${re} in output: ${srv.output().slice(-1500)}`);
    await sleep(100);
  }
}

describe('backups', () => {
  let srv, su, userToken;

  before(async () => {
    srv = await startServer({ env: { BASALT_CRON_MINUTE_MS: '1000' } });
    su = await superuserClient(srv, ADMIN);
    const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
    await su.collections.create({
      name: 'notes',
      ...open,
      fields: [
        { name: 'title', type: 'text' },
        { name: 'doc', type: 'file', maxSelect: 1, maxSize: 1 << 20 },
      ],
    });
    await su.collection('users').create({ email: 'u@example.com', password: 'user-pass-123', passwordConfirm: 'user-pass-123' });
    userToken = (await client(srv.url).collection('users').authWithPassword('u@example.com', 'user-pass-123')).token;
  });
  after(async () => {
    await srv?.destroy();
  });

  const backupsDir = () => path.join(srv.dir, 'backups');

  test('guests get 401 and users 403 on every superuser route', async () => {
    for (const [method, p] of [
      ['GET', '/api/backups'],
      ['POST', '/api/backups'],
      ['POST', '/api/backups/upload'],
      ['DELETE', '/api/backups/x.zip'],
      ['POST', '/api/backups/x.zip/restore'],
    ]) {
      const g = await fetch(srv.url + p, { method });
      assert.equal(g.status, 401, `${method} ${p}`);
      assert.deepEqual((await g.json()).data, {});
      const u = await fetch(srv.url + p, { method, headers: { Authorization: userToken } });
      assert.equal(u.status, 403, `${method} ${p}`);
    }
  });

  test('create, list, download with a file token (ranges too), delete', async () => {
    const note = await su.collection('notes').create({ title: 'kept', doc: new File(['file body'], 'a.txt') });
    await su.backups.create('');
    await su.backups.create('named_1.zip');
    const list = await su.backups.getFullList();
    const keys = list.map((b) => b.key);
    assert.ok(keys.includes('named_1.zip'), JSON.stringify(list));
    const auto = keys.find((k) => /^pb_backup_acme_\d{14}\.zip$/.test(k));
    assert.ok(auto, JSON.stringify(keys));
    for (const b of list) {
      assert.ok(b.size > 0);
      assert.match(b.modified, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);
    }

    // The download needs a superuser's file token.
    const url = su.backups.getDownloadURL(await su.files.getToken(), 'named_1.zip');
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') || '', /attachment/);
    const zip = path.join(srv.root, 'dl.zip');
    fs.writeFileSync(zip, Buffer.from(await res.arrayBuffer()));
    const names = zipNames(zip);
    assert.ok(names.includes('data.db') && names.includes('auxiliary.db'), names.join());
    assert.ok(names.includes(`storage/${note.collectionId}/${note.id}/${note.doc}`), names.join());
    assert.ok(!names.some((n) => n.startsWith('backups') || n.includes('-wal') || n.includes('.tmp/')), names.join());
    const part = await fetch(url, { headers: { Range: 'bytes=0-3' } });
    assert.equal(part.status, 206);
    assert.deepEqual([...new Uint8Array(await part.arrayBuffer())], [0x50, 0x4b, 0x03, 0x04]);

    // No token, an auth token, a user's file token: 403. A missing key: 404.
    const bare = su.backups.getDownloadURL('', 'named_1.zip');
    assert.equal((await fetch(bare)).status, 403);
    assert.equal((await fetch(su.backups.getDownloadURL(su.authStore.token, 'named_1.zip'))).status, 403);
    const userPb = client(srv.url, userToken);
    assert.equal((await fetch(su.backups.getDownloadURL(await userPb.files.getToken(), 'named_1.zip'))).status, 403);
    assert.equal((await fetch(su.backups.getDownloadURL(await su.files.getToken(), 'missing.zip'))).status, 404);

    await su.backups.delete('named_1.zip');
    await rejectsWith(su.backups.delete('named_1.zip'), 400);
    assert.ok(!(await su.backups.getFullList()).some((b) => b.key === 'named_1.zip'));
    await su.backups.delete(auto);
  });

  test('names: the pattern, the length and uniqueness are checked', async () => {
    await rejectsWith(su.backups.create('!bad.zip'), 400, (b) => assert.equal(b.data.name.code, 'validation_match_invalid'));
    await rejectsWith(su.backups.create('x'.repeat(147) + '.zip'), 400, (b) =>
      assert.equal(b.data.name.code, 'validation_length_out_of_range'),
    );
    await su.backups.create('dup.zip');
    await rejectsWith(su.backups.create('dup.zip'), 400, (b) => assert.equal(b.data.name.code, 'validation_backup_name_exists'));
    await su.backups.delete('dup.zip');
  });

  test('upload: a zip is stored under its name; other files and duplicates are refused', async () => {
    const zip = path.join(srv.root, 'up.zip');
    forgeZip(zip, [['data.db', 'x']]);
    const body = fs.readFileSync(zip);
    await su.backups.upload({ file: new File([body], 'uploaded.zip') });
    const got = (await su.backups.getFullList()).find((b) => b.key === 'uploaded.zip');
    assert.equal(got?.size, body.length);
    await rejectsWith(su.backups.upload({ file: new File([body], 'uploaded.zip') }), 400, (b) =>
      assert.equal(b.data.file.code, 'validation_backup_name_exists'),
    );
    await rejectsWith(su.backups.upload({ file: new File(['not a zip at all'], 'text.zip') }), 400, (b) =>
      assert.equal(b.data.file.code, 'validation_invalid_mime_type'),
    );
    await rejectsWith(su.backups.upload({}), 400, (b) => assert.ok(b.data.file));
    // A guest's upload is refused without spooling its body.
    const fd = new FormData();
    fd.append('file', new File([body], 'guest.zip'));
    assert.equal((await fetch(srv.url + '/api/backups/upload', { method: 'POST', body: fd })).status, 401);
    assert.ok(!fs.existsSync(path.join(backupsDir(), 'text.zip')));
    assert.ok(!fs.existsSync(path.join(backupsDir(), 'guest.zip')));
    await su.backups.delete('uploaded.zip');
  });

  test('a second backup while one runs is a 400, and health says canBackup: false', async () => {
    // Incompressible storage so the zip takes a while.
    const big = path.join(srv.dir, 'storage', 'bulk');
    fs.mkdirSync(big, { recursive: true });
    for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(big, `r${i}`), crypto.randomBytes(32 << 20));
    let finished = false;
    try {
      // requestKey: null, so the SDK does not cancel this request when
      // the next POST /api/backups goes out.
      const running = su.backups.create('slow.zip', { requestKey: null }).finally(() => (finished = true));
      let seen = false;
      for (let i = 0; i < 400 && !seen; i++) {
        const h = await su.health.check({ requestKey: null });
        seen = h.data.canBackup === false;
        if (!seen) await sleep(5);
      }
      assert.ok(seen, 'canBackup never went false');
      const refused = await Promise.allSettled([
        su.backups.create('other.zip', { requestKey: null }),
        su.backups.restore('slow.zip', { requestKey: null }),
        su.backups.delete('slow.zip', { requestKey: null }),
      ]);
      assert.equal(finished, false, 'the slow backup ended too soon for this test');
      for (const r of refused) assert.equal(r.reason?.status, 400, JSON.stringify(r));
      // Writes go on meanwhile.
      await su.collection('notes').create({ title: 'during' }, { requestKey: null });
      await running;
      assert.equal((await su.health.check()).data.canBackup, true);
      assert.ok(!fs.existsSync(path.join(backupsDir(), 'other.zip')));
    } finally {
      fs.rmSync(big, { recursive: true, force: true });
    }
    await su.backups.delete('slow.zip');
  });

  test('hostile and corrupt archives are refused and nothing changes', async () => {
    const pid = srv.proc.pid;
    const marker = await su.collection('notes').create({ title: 'must survive' });
    const cases = {
      'traversal.zip': [['data.db', 'x'], ['../escaped.txt', 'owned']],
      'absolute.zip': [['/tmp/basalt-absolute.txt', 'owned']],
      'symlink.zip': [['data.db', 'x'], ['storage/link', { symlink: '/etc/passwd' }]],
      'bomb.zip': [['data.db', { zeros: 300 << 20 }]],
      'nodb.zip': [['storage/a.txt', 'x']],
      'baddb.zip': [['data.db', 'SQLite format 3\u0000 but not really a database file at all.'.repeat(200)]],
    };
    fs.mkdirSync(backupsDir(), { recursive: true });
    for (const [name, entries] of Object.entries(cases)) forgeZip(path.join(backupsDir(), name), entries);
    fs.writeFileSync(path.join(backupsDir(), 'garbage.zip'), crypto.randomBytes(4096));
    for (const name of [...Object.keys(cases), 'garbage.zip']) {
      const from = srv.output().length;
      await su.backups.restore(name);
      await waitOutput(srv, new RegExp(`Restore of ${name.replace('.', '\\.')} refused`), from);
      assert.equal(srv.proc.pid, pid);
      assert.equal(srv.proc.exitCode, null);
      const still = await su.collection('notes').getOne(marker.id);
      assert.equal(still.title, 'must survive', name);
    }
    assert.ok(!fs.existsSync(path.join(srv.dir, 'escaped.txt')));
    assert.ok(!fs.existsSync(path.join(srv.root, 'escaped.txt')));
    assert.ok(!fs.existsSync('/tmp/basalt-absolute.txt'));
    // No temp folder is left behind.
    const tmp = path.join(srv.dir, '.pb_temp_to_delete');
    assert.deepEqual(fs.existsSync(tmp) ? fs.readdirSync(tmp) : [], []);
    assert.match(srv.output(), /bomb\.zip refused.*zip bomb/);
    assert.match(srv.output(), /traversal\.zip refused.*outside/);
    assert.match(srv.output(), /symlink\.zip refused.*link/);
    for (const name of [...Object.keys(cases), 'garbage.zip']) await su.backups.delete(name);
  });

  test('restore: data and files come back, the process restarts in place', async () => {
    const keep = await su.collection('notes').create({ title: 'before', doc: new File(['original bytes'], 'orig.txt') });
    await su.backups.create('point.zip');
    // Changes after the backup: all undone by the restore.
    await su.collection('notes').update(keep.id, { title: 'changed' });
    const later = await su.collection('notes').create({ title: 'later' });
    await su.collections.create({ name: 'added_later', type: 'base', fields: [] });
    const pid = srv.proc.pid;
    const from = srv.output().length;
    await su.backups.restore('point.zip');
    await waitOutput(srv, /Restore of point\.zip: data swapped in, restarting/, from);
    await waitOutput(srv, /Server started/, from);
    await waitHealthy(srv.url);
    assert.equal(srv.proc.pid, pid, 'restarted in place');
    assert.equal(srv.proc.exitCode, null);
    const pb = await superuserClient(srv, ADMIN);
    const got = await pb.collection('notes').getOne(keep.id);
    assert.equal(got.title, 'before');
    const file = await fetch(pb.files.getURL(got, got.doc));
    assert.equal(await file.text(), 'original bytes');
    await rejectsWith(pb.collection('notes').getOne(later.id), 404);
    await rejectsWith(pb.collections.getOne('added_later'), 404);
    // The backups folder itself was kept; the replaced data is gone.
    assert.ok((await pb.backups.getFullList()).some((b) => b.key === 'point.zip'));
    const tmp = path.join(srv.dir, '.pb_temp_to_delete');
    assert.deepEqual(fs.existsSync(tmp) ? fs.readdirSync(tmp) : [], []);
    su = pb;
    await su.backups.delete('point.zip');
  });

  test('restore of a missing backup is a 400', async () => {
    await rejectsWith(su.backups.restore('nope.zip'), 400);
  });

  test('scheduled backups: __pbAutoBackup__ runs on backups.cron and keeps cronMaxKeep', async () => {
    await su.settings.update({ backups: { cron: '* * * * *', cronMaxKeep: 2 } });
    const crons = await su.crons.getFullList();
    assert.ok(crons.some((c) => c.id === '__pbAutoBackup__' && c.expression === '* * * * *'), JSON.stringify(crons));
    const autos = async () => (await su.backups.getFullList()).filter((b) => b.key.startsWith('@auto_pb_backup_acme_'));
    let seen = new Set();
    for (let i = 0; i < 150 && seen.size < 4; i++) {
      for (const b of await autos()) seen.add(b.key);
      await sleep(100);
    }
    assert.ok(seen.size >= 4, `only ${[...seen]}`);
    await su.settings.update({ backups: { cron: '' } });
    assert.ok(!(await su.crons.getFullList()).some((c) => c.id === '__pbAutoBackup__'));
    await sleep(1500); // a job already started ends
    const left = await autos();
    assert.equal(left.length, 2, JSON.stringify(left));
    // The newest are kept.
    const newest = [...seen].sort().slice(-2);
    assert.deepEqual(left.map((b) => b.key).sort(), newest);
  });
});

describe('backups on S3 (s3rver)', () => {
  const BUCKET = 'backups-bucket';
  let s3, s3dir, s3port, srv, su;

  // The object keys s3rver holds at the bucket's root.
  const s3Keys = () =>
    fs.existsSync(path.join(s3dir, BUCKET))
      ? fs
          .readdirSync(path.join(s3dir, BUCKET))
          .filter((n) => n.endsWith('._S3rver_object'))
          .map((n) => n.slice(0, -'._S3rver_object'.length))
          .sort()
      : [];

  before(async () => {
    s3dir = fs.mkdtempSync(path.join(os.tmpdir(), 'basalt-s3rver-'));
    s3port = await freePort();
    s3 = new S3rver({
      address: '127.0.0.1',
      port: s3port,
      silent: true,
      directory: s3dir,
      configureBuckets: [{ name: BUCKET }],
    });
    await s3.run();
    srv = await startServer();
    su = await superuserClient(srv, ADMIN);
    await su.settings.update({
      backups: {
        s3: {
          enabled: true,
          bucket: BUCKET,
          region: 'us-east-1',
          endpoint: `http://127.0.0.1:${s3port}`,
          accessKey: 'S3RVER',
          secret: 'S3RVER',
          forcePathStyle: true,
        },
      },
    });
    await su.collections.create({ name: 'items', type: 'base', fields: [{ name: 'n', type: 'number' }] });
  });
  after(async () => {
    await srv?.destroy();
    await s3?.close();
    if (s3dir) fs.rmSync(s3dir, { recursive: true, force: true });
  });

  test('create, list, download, delete and restore through the bucket', async () => {
    const rec = await su.collection('items').create({ n: 1 });
    await su.backups.create('on_s3.zip');
    assert.deepEqual(s3Keys(), ['on_s3.zip']);
    assert.ok(!fs.existsSync(path.join(srv.dir, 'backups', 'on_s3.zip')));
    const list = await su.backups.getFullList();
    assert.deepEqual(list.map((b) => b.key), ['on_s3.zip']);
    assert.ok(list[0].size > 0);
    await rejectsWith(su.backups.create('on_s3.zip'), 400, (b) => assert.equal(b.data.name.code, 'validation_backup_name_exists'));

    const url = su.backups.getDownloadURL(await su.files.getToken(), 'on_s3.zip');
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const zip = path.join(srv.root, 's3.zip');
    fs.writeFileSync(zip, Buffer.from(await res.arrayBuffer()));
    assert.equal(fs.statSync(zip).size, list[0].size);
    assert.ok(zipNames(zip).includes('data.db'));
    const part = await fetch(url, { headers: { Range: 'bytes=0-1' } });
    assert.equal(part.status, 206);

    await su.collection('items').update(rec.id, { n: 2 });
    const pid = srv.proc.pid;
    const from = srv.output().length;
    await su.backups.restore('on_s3.zip');
    await waitOutput(srv, /Restore of on_s3\.zip: data swapped in, restarting/, from);
    await waitOutput(srv, /Server started/, from);
    await waitHealthy(srv.url);
    assert.equal(srv.proc.pid, pid);
    su = await superuserClient(srv, ADMIN);
    assert.equal((await su.collection('items').getOne(rec.id)).n, 1);

    await su.backups.delete('on_s3.zip');
    assert.deepEqual(s3Keys(), []);
    await rejectsWith(su.backups.delete('on_s3.zip'), 400);
  });
});

describe('a running backup holds no HTTP worker thread', () => {
  // A stand-in for S3 that holds the backup's upload until the test lets
  // it go, so the backup is certainly still running while other requests
  // are made (no timing involved).
  let s3, srv, su;
  let uploadStarted, releaseUpload;
  const started = new Promise((r) => (uploadStarted = r));
  const released = new Promise((r) => (releaseUpload = r));
  const keys = [];

  before(async () => {
    s3 = http.createServer((req, res) => {
      if (req.method !== 'PUT') {
        res.writeHead(404).end();
        return;
      }
      req.resume();
      req.on('end', async () => {
        keys.push(decodeURIComponent(new URL(req.url, 'http://x').pathname));
        uploadStarted();
        await released;
        res.writeHead(200, { ETag: '"x"' }).end();
      });
    });
    await new Promise((r) => s3.listen(0, '127.0.0.1', r));
    srv = await startServer();
    su = await superuserClient(srv, ADMIN);
    await su.settings.update({
      backups: {
        s3: {
          enabled: true,
          bucket: 'held',
          region: 'us-east-1',
          endpoint: `http://127.0.0.1:${s3.address().port}`,
          accessKey: 'k',
          secret: 's',
          forcePathStyle: true,
        },
      },
    });
  });
  after(async () => {
    releaseUpload();
    await srv?.destroy();
    s3?.closeAllConnections();
    await new Promise((r) => s3.close(r));
  });

  test('kept-alive connections are answered while POST /api/backups waits', async () => {
    // Sixteen kept-alive connections, opened before the backup: the
    // server's worker threads each hold some of them. The backup's POST
    // goes out on one of them; before the answer was deferred, the others
    // of its worker thread waited for the backup.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const request = (method, url, body) =>
      new Promise((resolve, reject) => {
        const req = http.request(
          `${srv.url}${url}`,
          { method, agent, headers: { Authorization: su.authStore.token, 'Content-Type': 'application/json' } },
          (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
          },
        );
        req.on('error', reject);
        req.end(body ? JSON.stringify(body) : undefined);
      });
    const wave = async (n) => {
      const all = await Promise.all(Array.from({ length: n }, () => request('GET', '/api/health')));
      for (const r of all) assert.equal(r.status, 200);
      return all;
    };
    await wave(16);
    const sockets = () => Object.values(agent.sockets).flat().length + Object.values(agent.freeSockets).flat().length;
    assert.equal(sockets(), 16);

    const running = request('POST', '/api/backups', { name: 'held.zip' });
    await started;
    // If a request were stuck behind the backup, the upload is let go
    // after a while so that the test ends (and fails) instead of hanging.
    let answeredFirst = true;
    const fallback = setTimeout(() => {
      answeredFirst = false;
      releaseUpload();
    }, 15000);
    for (let round = 0; round < 3; round++) {
      for (const r of await wave(15)) assert.equal(r.body.data.canBackup, false);
    }
    clearTimeout(fallback);
    assert.ok(answeredFirst, 'a request waited for the backup');
    assert.equal(sockets(), 16, 'the same kept-alive connections were used');
    // Another backup is refused at once while this one runs.
    await rejectsWith(su.backups.create('other.zip', { requestKey: null }), 400, (b) =>
      assert.match(b.message, /^Try again later - another backup\/restore process has already been started/),
    );
    releaseUpload();
    assert.equal((await running).status, 204);
    assert.deepEqual(keys, ['/held/held.zip']);
    // The request log has the answer the client got, logged once it was
    // sent (after the refused second backup).
    let logged = [];
    for (let i = 0; i < 100 && logged.length < 2; i++) {
      logged = (await su.logs.getList(1, 10, { filter: 'data.url = "/api/backups" && data.method = "POST"', sort: 'created' })).items;
      if (logged.length < 2) await sleep(100);
    }
    assert.deepEqual(logged.map((l) => l.data.status).sort(), [204, 400]);
    const at = (status) => logged.find((l) => l.data.status === status).created;
    assert.ok(at(204) >= at(400), 'the backup was logged before it was answered');
    assert.equal((await su.health.check()).data.canBackup, true);
    agent.destroy();
  });
});

describe('a failed scheduled backup', () => {
  let sink, srv, su;
  before(async () => {
    sink = await startSink();
    srv = await startServer();
    su = await superuserClient(srv, ADMIN);
    await su.collection('_superusers').create({ email: 'second@example.com', password: 'second-pass-123', passwordConfirm: 'second-pass-123' });
    await su.settings.update({
      meta: { appName: 'Acme', appURL: 'http://acme.test', senderName: 'Acme', senderAddress: 'noreply@acme.test' },
      smtp: { enabled: true, host: '127.0.0.1', port: sink.port, tls: false },
      // A schedule that never comes during the test: the job is run on demand.
      backups: { cron: '0 0 1 1 *' },
    });
  });
  after(async () => {
    await srv?.destroy();
    await sink?.close();
  });

  test('mails every superuser, with the backup name and the cause', async () => {
    // The backups folder cannot be made: a file is in its place.
    fs.writeFileSync(path.join(srv.dir, 'backups'), 'in the way');
    const from = sink.mails.length;
    await su.crons.run('__pbAutoBackup__');
    const first = await sink.wait((m) => m.rcpt.includes(ADMIN.email), from);
    const second = await sink.wait((m) => m.rcpt.includes('second@example.com'), from);
    for (const m of [first, second]) {
      assert.equal(m.rcpt.length, 1);
      assert.match(m.subject, /^Acme: Automated backup failed$/);
      assert.match(m.html, /@auto_pb_backup_acme_\d{14}\.zip/);
      assert.match(m.text, /could not be created/);
      assert.match(m.headers.from, /noreply@acme\.test/);
    }
    assert.match(srv.output(), /\[Backup cron\] Failed to create backup @auto_pb_backup_acme_\d{14}\.zip/);

    // Once the cause is gone the job stores its backup.
    fs.rmSync(path.join(srv.dir, 'backups'));
    await su.crons.run('__pbAutoBackup__');
    let keys = [];
    for (let i = 0; i < 100 && keys.length === 0; i++) {
      keys = (await su.backups.getFullList()).map((b) => b.key);
      if (keys.length === 0) await sleep(100);
    }
    assert.equal(keys.length, 1);
    assert.match(keys[0], /^@auto_pb_backup_acme_\d{14}\.zip$/);
  });
});
