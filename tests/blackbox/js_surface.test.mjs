// More of the pb_hooks surface, run by the real binary: mails sent from a
// hook ($app.newMailClient() and $mails) caught by an SMTP sink, the file
// functions of $os and $filepath on a temporary directory, and raw SQL
// into DynamicModel values with the null* helpers.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { client, runCli, startServer } from './lib/server.mjs';
import { startSink } from './lib/smtp.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };

const MAIN = `
routerAdd("POST", "/api/js/mail", (e) => {
  const body = e.requestInfo().body;
  const message = new MailerMessage({
    from: { address: $app.settings().meta.senderAddress, name: $app.settings().meta.senderName },
    to: [{ address: body.to }],
    subject: body.subject,
    html: "<p>" + body.text + "</p>",
  });
  $app.newMailClient().send(message);
  return e.json(200, { sent: true });
});

routerAdd("POST", "/api/js/reset/{id}", (e) => {
  const user = $app.findRecordById("users", e.request.pathValue("id"));
  $mails.sendRecordPasswordReset($app, user);
  return e.json(200, { sent: true });
});

routerAdd("POST", "/api/js/mails-bad", (e) => {
  const note = new Record($app.findCollectionByNameOrId("notes"));
  try { $mails.sendRecordVerification($app, note); } catch (err) { return e.json(200, { error: err.message }); }
  return e.json(200, { error: "" });
});

routerAdd("POST", "/api/js/files", (e) => {
  const root = e.requestInfo().body.root;
  const out = {};
  $os.mkdirAll($filepath.join(root, "a", "b"));
  $os.writeFile($filepath.join(root, "a", "one.txt"), "héllo");
  $os.writeFile($filepath.join(root, "a", "b", "two.bin"), [1, 2, 3]);
  out.read = toString($os.readFile($filepath.join(root, "a", "one.txt")));
  out.bytes = $os.readFile($filepath.join(root, "a", "b", "two.bin"));
  const st = $os.stat($filepath.join(root, "a", "one.txt"));
  out.stat = { name: st.name(), size: st.size(), dir: st.isDir(), fresh: Date.now() - st.modTime().unix() * 1000 < 60000 };
  out.list = $os.readDir($filepath.join(root, "a")).map((d) => d.name() + (d.isDir() ? "/" : ""));
  out.glob = $filepath.glob($filepath.join(root, "a", "*.txt")).map((p) => $filepath.rel(root, p));
  out.match = [$filepath.match("*.txt", "x.txt"), $filepath.match("*.txt", "d/x.txt"), $filepath.match("a?c", "abc")];
  out.rel = [$filepath.rel("/a/b", "/a/b/c/d"), $filepath.rel("/a/b", "/a/x"), $filepath.rel("a", "a")];
  out.splitList = [$filepath.splitList("/bin:/usr/bin"), $filepath.splitList("")];
  out.walk = [];
  $filepath.walkDir(root, (p, d, err) => { out.walk.push($filepath.rel(root, p) + (d.isDir() ? "/" : "")); });
  $os.rename($filepath.join(root, "a", "one.txt"), $filepath.join(root, "a", "uno.txt"));
  $os.truncate($filepath.join(root, "a", "uno.txt"), 1);
  out.truncated = toString($os.readFile($filepath.join(root, "a", "uno.txt")));
  try { $os.readFile($filepath.join(root, "missing")); } catch (err) { out.missing = err.message; }
  try { $os.remove($filepath.join(root, "a")); } catch (err) { out.notEmpty = err.message.startsWith("remove "); }
  $os.removeAll($filepath.join(root, "a"));
  $os.removeAll($filepath.join(root, "never-there"));
  out.after = $os.readDir(root).map((d) => d.name());
  out.tempDir = typeof $os.tempDir() === "string" && $os.tempDir().length > 0;
  return e.json(200, out);
});

routerAdd("GET", "/api/js/sql", (e) => {
  const rows = arrayOf(new DynamicModel({ id: "", body: "", score: 0, done: false, tag: nullString(), n: nullInt(), meta: nullObject() }));
  $app.db().newQuery("SELECT id, body, score, done, NULLIF(tag, '') AS tag, NULLIF(score, 0) AS n, CASE WHEN meta IN ('', 'null') THEN NULL ELSE meta END AS meta FROM notes ORDER BY body").all(rows);
  const one = new DynamicModel({ total: 0, missing: nullString() });
  $app.db().newQuery("SELECT COUNT(*) AS total, NULL AS missing FROM notes WHERE score >= {:min}").bind({ min: 2 }).one(one);
  return e.json(200, { rows, one });
});
`;

describe('JavaScript hooks: mails, files and DynamicModel', () => {
  let srv;
  let sink;
  let su;
  before(async () => {
    sink = await startSink();
    srv = await startServer({ hooks: { 'main.pb.js': MAIN } });
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    await su.settings.update({
      meta: { appName: 'Hooks', appURL: 'http://hooks.test', senderName: 'Hooks', senderAddress: 'hooks@hooks.test' },
      smtp: { enabled: true, host: '127.0.0.1', port: sink.port, tls: false },
    });
    await su.collections.create({
      name: 'notes', type: 'base',
      fields: [{ name: 'body', type: 'text' }, { name: 'score', type: 'number' },
               { name: 'done', type: 'bool' }, { name: 'tag', type: 'text' }, { name: 'meta', type: 'json' }],
    });
  });
  after(async () => {
    await srv?.destroy();
    await sink?.close();
  });

  test('a mail sent with $app.newMailClient() arrives', async () => {
    const from = sink.mails.length;
    const res = await fetch(`${srv.url}/api/js/mail`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'reader@example.com', subject: 'From a hook', text: 'Hello there' }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const mail = await sink.wait((m) => m.subject === 'From a hook', from);
    assert.deepEqual(mail.rcpt, ['reader@example.com']);
    assert.match(mail.html, /<p>Hello there<\/p>/);
    assert.match(mail.headers.from, /hooks@hooks\.test/);
  });

  test('$mails.sendRecordPasswordReset sends the collection template', async () => {
    const user = await su.collection('users').create({
      email: 'forgetful@example.com', password: 'forgetful-123', passwordConfirm: 'forgetful-123',
    });
    const from = sink.mails.length;
    const res = await fetch(`${srv.url}/api/js/reset/${user.id}`, { method: 'POST' });
    assert.equal(res.status, 200, await res.clone().text());
    const mail = await sink.wait((m) => m.rcpt.includes('forgetful@example.com'), from);
    assert.match(mail.subject, /Reset your Hooks password/);
    assert.match(mail.html, /http:\/\/hooks\.test\/_\/#\/auth\/confirm-password-reset\/[\w-]+\.[\w-]+\.[\w-]+/);
    const bad = await (await fetch(`${srv.url}/api/js/mails-bad`, { method: 'POST' })).json();
    assert.equal(bad.error, '$mails.sendRecordVerification: notes is not an auth collection');
  });

  test('$os and $filepath read, write, list and remove files', async () => {
    const root = path.join(srv.root, 'scratch');
    fs.mkdirSync(root);
    const res = await fetch(`${srv.url}/api/js/files`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ root }),
    });
    const out = await res.json();
    assert.equal(res.status, 200, JSON.stringify(out));
    assert.equal(out.read, 'héllo');
    assert.deepEqual(out.bytes, [1, 2, 3]);
    assert.deepEqual(out.stat, { name: 'one.txt', size: 6, dir: false, fresh: true });
    assert.deepEqual(out.list, ['b/', 'one.txt']);
    assert.deepEqual(out.glob, ['a/one.txt']);
    assert.deepEqual(out.match, [true, false, true]);
    assert.deepEqual(out.rel, ['c/d', '../x', '.']);
    assert.deepEqual(out.splitList, [['/bin', '/usr/bin'], []]);
    assert.deepEqual(out.walk, ['./', 'a/', 'a/b/', 'a/b/two.bin', 'a/one.txt']);
    assert.equal(out.truncated, 'h');
    assert.equal(out.missing, `open ${path.join(root, 'missing')}: no such file or directory`);
    assert.equal(out.notEmpty, true);
    assert.deepEqual(out.after, []);
    assert.equal(out.tempDir, true);
    assert.equal(fs.existsSync(path.join(root, 'a')), false);
  });

  test('raw SQL fills DynamicModel values, nulls through the null* helpers', async () => {
    for (const n of [{ body: 'a', score: 3, done: true, tag: 'x', meta: { k: 1 } }, { body: 'b', score: 0, done: false }]) {
      await su.collection('notes').create(n);
    }
    const res = await fetch(`${srv.url}/api/js/sql`);
    const out = await res.json();
    assert.equal(res.status, 200, JSON.stringify(out));
    assert.equal(out.rows.length, 2);
    const [a, b] = out.rows;
    assert.deepEqual({ ...a, id: undefined }, { id: undefined, body: 'a', score: 3, done: true, tag: 'x', n: 3, meta: { k: 1 } });
    assert.deepEqual({ ...b, id: undefined }, { id: undefined, body: 'b', score: 0, done: false, tag: null, n: null, meta: null });
    assert.deepEqual(out.one, { total: 1, missing: null });
  });
});
