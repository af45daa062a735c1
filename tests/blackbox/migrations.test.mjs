// pb_migrations: files applied at start-up, the `migrate` command, the
// history in _migrations, a failing file, and --automigrate.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { client, makeTempRoot, removeTempRoot, runCli, startServer, REPO_ROOT } from './lib/server.mjs';
import { sqlite3, sqliteColumn, SQLITE3_SKIP } from './lib/db.mjs';

const ADMIN = { email: 'mig@example.com', password: 'migrations-pass-1' };
const SET = path.join(REPO_ROOT, 'tests/migrations/v023');

function readSet() {
  const out = {};
  for (const f of fs.readdirSync(SET)) out[f] = fs.readFileSync(path.join(SET, f), 'utf8');
  return out;
}

async function superuser(srv) {
  const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
  assert.equal(r.code, 0, r.stderr);
  const su = client(srv.url);
  await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
  return su;
}

function strip(v) {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort())
      if (!['created', 'updated', 'secret'].includes(k)) o[k] = strip(v[k]);
    return o;
  }
  return v;
}

/** The non-system collections as /api/collections shows them, comparable. */
async function schema(srv) {
  const su = await superuser(srv);
  const list = await su.collections.getFullList();
  return strip(list.filter((c) => !c.system).sort((a, b) => a.name.localeCompare(b.name)));
}

const appFiles = (dbPath) =>
  sqliteColumn(dbPath, "SELECT file FROM _migrations WHERE file LIKE '%.js' ORDER BY file");

describe('migrations', { skip: SQLITE3_SKIP }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ migrations: readSet() });
  });
  after(async () => srv && srv.destroy());

  test('a PocketBase-style set is applied at start-up and recorded', async () => {
    const names = (await schema(srv)).map((c) => c.name);
    for (const n of ['authors', 'books', 'members', 'notes']) assert.ok(names.includes(n), n);
    const books = (await schema(srv)).find((c) => c.name === 'books');
    const fields = books.fields.map((f) => f.name);
    assert.ok(fields.includes('status') && fields.includes('isbn'), fields.join());
    assert.ok(!fields.includes('pages'));
    assert.equal(books.listRule, "status = 'published'");
    const db = path.join(srv.dir, 'data.db');
    assert.deepEqual(appFiles(db), Object.keys(readSet()).sort());
    assert.deepEqual(sqliteColumn(db, 'SELECT name FROM authors ORDER BY name'), ['Italo', 'Ursula']);
    const members = (await schema(srv)).find((c) => c.name === 'members');
    assert.equal(members.type, 'auth');
    assert.ok(members.fields.some((f) => f.name === 'email'));
  });

  test('a restart applies nothing again', async () => {
    const db = path.join(srv.dir, 'data.db');
    const before = sqlite3(db, 'SELECT file, applied FROM _migrations ORDER BY file');
    await srv.restart();
    assert.equal(sqlite3(db, 'SELECT file, applied FROM _migrations ORDER BY file'), before);
  });

  test('migrate down 1 and down 2 revert, up re-applies', async () => {
    await srv.stop();
    const db = path.join(srv.dir, 'data.db');
    let r = await runCli(['migrate', 'down', '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sqliteColumn(db, "SELECT count(*) FROM _collections WHERE name = 'notes'")[0], '0');
    assert.ok(!appFiles(db).includes('1718000500_legacy_notes.js'));
    r = await runCli(['migrate', 'down', '2', '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sqliteColumn(db, "SELECT count(*) FROM _collections WHERE name = 'members'")[0], '0');
    assert.deepEqual(sqliteColumn(db, 'SELECT count(*) FROM authors'), ['0']);
    r = await runCli(['migrate', 'up', '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Applied 3 migrations/);
    assert.equal(appFiles(db).length, 6);
    await srv.start();
  });

  test('create writes a blank template', async () => {
    const r = await runCli(['migrate', 'create', 'add things', '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    const made = fs.readdirSync(srv.migrationsDir).filter((f) => /^\d+_add_things\.js$/.test(f));
    assert.equal(made.length, 1);
    const text = fs.readFileSync(path.join(srv.migrationsDir, made[0]), 'utf8');
    assert.match(text, /migrate\(\(app\) => \{[\s\S]*\}, \(app\) => \{[\s\S]*\}\)/);
    fs.unlinkSync(path.join(srv.migrationsDir, made[0]));
  });

  test('a collections snapshot re-creates the same schema on a fresh dir', async () => {
    const out = makeTempRoot();
    try {
      const r = await runCli(['migrate', 'collections', '--dir', srv.dir, '--migrationsDir', out]);
      assert.equal(r.code, 0, r.stderr);
      const files = fs.readdirSync(out);
      assert.equal(files.length, 1);
      assert.match(files[0], /^\d+_collections_snapshot\.js$/);
      const fresh = await startServer({ migrations: { [files[0]]: fs.readFileSync(path.join(out, files[0]), 'utf8') } });
      try {
        assert.deepEqual(await schema(fresh), await schema(srv));
      } finally {
        await fresh.destroy();
      }
    } finally {
      removeTempRoot(out);
    }
  });

  test('history-sync forgets files that are gone', async () => {
    const db = path.join(srv.dir, 'data.db');
    fs.unlinkSync(path.join(srv.migrationsDir, '1718000500_legacy_notes.js'));
    const r = await runCli(['migrate', 'history-sync', '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!appFiles(db).includes('1718000500_legacy_notes.js'));
    assert.equal(appFiles(db).length, 5);
    assert.ok(sqliteColumn(db, 'SELECT file FROM _migrations').includes('1640988000_init.go'));
  });
});

describe('migration history and failures', { skip: SQLITE3_SKIP }, () => {
  test('a file already in _migrations is skipped (history carried over)', async () => {
    const root = makeTempRoot();
    try {
      const dir = path.join(root, 'pb_data');
      const r = await runCli(['migrate', 'history-sync', '--dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      sqlite3(path.join(dir, 'data.db'),
        "INSERT INTO _migrations (file, applied) VALUES ('1700000000_done_elsewhere.js', 1700000000000000)",
        { readonly: false });
      fs.mkdirSync(path.join(root, 'pb_migrations'));
      fs.writeFileSync(path.join(root, 'pb_migrations', '1700000000_done_elsewhere.js'),
        'migrate((app) => { throw new Error("must not run"); }, (app) => {})\n');
      fs.writeFileSync(path.join(root, 'pb_migrations', '1700000100_new.js'),
        'migrate((app) => { app.db().newQuery("CREATE TABLE marker (x TEXT)").execute(); }, (app) => {})\n');
      const u = await runCli(['migrate', 'up', '--dir', dir]);
      assert.equal(u.code, 0, u.stderr);
      assert.match(u.stdout, /Applied 1 migration\b/);
      assert.deepEqual(sqliteColumn(path.join(dir, 'data.db'), "SELECT count(*) FROM sqlite_master WHERE name = 'marker'"), ['1']);
    } finally {
      removeTempRoot(root);
    }
  });

  test('a failing migration stops start-up, names its file and leaves nothing half-applied', async () => {
    const migrations = {
      '1700000000_ok.js': `migrate((app) => {
  app.save(new Collection({ name: "kept", type: "base", fields: [{ name: "a", type: "text" }] }));
}, (app) => {})
`,
      '1700000100_broken.js': `migrate((app) => {
  app.save(new Collection({ name: "halfway", type: "base" }));
  app.db().newQuery("CREATE TABLE halfway_extra (x TEXT)").execute();
  throw new Error("boom in the middle");
}, (app) => {})
`,
    };
    const root = makeTempRoot();
    try {
      const dir = path.join(root, 'pb_data');
      for (const [f, text] of Object.entries(migrations)) {
        fs.mkdirSync(path.join(root, 'pb_migrations'), { recursive: true });
        fs.writeFileSync(path.join(root, 'pb_migrations', f), text);
      }
      // A start-up that went on would serve until the timeout: the test
      // then fails on the exit code.
      const r = await runCli(['serve', '--http=127.0.0.1:0', '--dir', dir], { timeout: 20000 });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /1700000100_broken\.js/);
      assert.match(r.stderr, /boom in the middle/);
      const db = path.join(dir, 'data.db');
      assert.deepEqual(sqliteColumn(db, "SELECT name FROM _collections WHERE name IN ('kept', 'halfway')"), ['kept']);
      assert.deepEqual(sqliteColumn(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'halfway%'"), ['0']);
      assert.deepEqual(appFiles(db), ['1700000000_ok.js']);
    } finally {
      removeTempRoot(root);
    }
  });
});

describe('automigrate', { skip: SQLITE3_SKIP }, () => {
  test('--dev writes files that re-create the schema on a fresh dir', async () => {
    const srv = await startServer({ args: ['--dev'] });
    let fresh;
    try {
      const su = await superuser(srv);
      const tags = await su.collections.create({
        name: 'tags', type: 'base', listRule: '', fields: [{ name: 'label', type: 'text', required: true }],
      });
      const posts = await su.collections.create({
        name: 'posts', type: 'base',
        fields: [{ name: 'title', type: 'text' },
                 { name: 'tags', type: 'relation', collectionId: tags.id, maxSelect: 5 }],
        indexes: ['CREATE INDEX idx_posts_title ON posts (title)'],
      });
      const p = await su.collections.getOne(posts.id);
      p.fields.push({ name: 'views', type: 'number' });
      p.viewRule = '';
      await su.collections.update(posts.id, { fields: p.fields, viewRule: '' });
      const afterFirstUpdate = await schema(srv);
      // A second update removes a field, moves one and changes another
      // (signed in again: schema() set the password anew).
      const su2 = await superuser(srv);
      const q = await su2.collections.getOne(posts.id);
      const views = q.fields.find((f) => f.name === 'views');
      const title = q.fields.find((f) => f.name === 'title');
      title.max = 120;
      const rest = q.fields.filter((f) => f !== views && f.name !== 'tags');
      await su2.collections.update(posts.id, { fields: [rest[0], views, ...rest.slice(1)] });
      const tmp = await su2.collections.create({ name: 'scratch', type: 'base' });
      await su2.collections.delete(tmp.id);

      const files = fs.readdirSync(srv.migrationsDir).sort();
      const kinds = files.map((f) => f.replace(/^\d+_/, ''));
      assert.deepEqual(kinds, ['created_tags.js', 'created_posts.js', 'updated_posts.js',
                               'updated_posts.js', 'created_scratch.js', 'deleted_scratch.js']);
      assert.deepEqual(appFiles(path.join(srv.dir, 'data.db')), files);

      // An update file holds the differences only, as PocketBase writes it.
      const up1 = fs.readFileSync(path.join(srv.migrationsDir, files[2]), 'utf8');
      const [upPart, downPart] = up1.split('}, (app) => {');
      assert.match(upPart, /"viewRule": ""/);
      assert.match(upPart, /collection\.fields\.addAt\(\d+, new Field\([^]*"name": "views"/);
      assert.doesNotMatch(upPart, /"name": "title"/);
      assert.match(downPart, /collection\.fields\.removeById\(/);
      const up2 = fs.readFileSync(path.join(srv.migrationsDir, files[3]), 'utf8').split('}, (app) => {')[0];
      assert.match(up2, /collection\.fields\.removeById\(/);
      assert.match(up2, /"max": 120/);

      const set = {};
      for (const f of files) set[f] = fs.readFileSync(path.join(srv.migrationsDir, f), 'utf8');
      fresh = await startServer({ migrations: set });
      assert.deepEqual(await schema(fresh), await schema(srv));
      // Their down functions undo them: three steps back is the schema
      // after the first update.
      await fresh.stop();
      const down = await runCli(['migrate', 'down', '3', '--dir', fresh.dir]);
      assert.equal(down.code, 0, down.stderr);
      // (serve would apply the reverted files again)
      for (const f of files.slice(3)) fs.unlinkSync(path.join(fresh.migrationsDir, f));
      await fresh.start();
      assert.deepEqual(await schema(fresh), afterFirstUpdate);
    } finally {
      await srv.destroy();
      if (fresh) await fresh.destroy();
    }
  });

  test('without --dev no file is written', async () => {
    const srv = await startServer({});
    try {
      const su = await superuser(srv);
      await su.collections.create({ name: 'quiet', type: 'base' });
      assert.ok(!fs.existsSync(srv.migrationsDir) || fs.readdirSync(srv.migrationsDir).length === 0);
    } finally {
      await srv.destroy();
    }
  });
});

describe('migrate and the hooks', { skip: SQLITE3_SKIP }, () => {
  test('migrate up loads pb_hooks (not watched), so their record hooks run, and writes types.d.ts', async () => {
    const root = makeTempRoot();
    try {
      fs.mkdirSync(path.join(root, 'pb_hooks'));
      fs.mkdirSync(path.join(root, 'pb_migrations'));
      fs.writeFileSync(path.join(root, 'pb_hooks', 'stamp.pb.js'),
        'onRecordCreate((e) => { e.record.set("note", "stamped by a hook"); e.next(); }, "jobs");\n');
      fs.writeFileSync(path.join(root, 'pb_migrations', '100_jobs.js'),
        'migrate((app) => {\n' +
        '  app.save(new Collection({name: "jobs", fields: [{name: "note", type: "text"}]}));\n' +
        '}, (app) => { app.delete(app.findCollectionByNameOrId("jobs")); })\n');
      fs.writeFileSync(path.join(root, 'pb_migrations', '200_seed.js'),
        'migrate((app) => {\n' +
        '  const r = new Record(app.findCollectionByNameOrId("jobs"));\n' +
        '  r.set("note", "plain");\n' +
        '  app.save(r);\n' +
        '})\n');
      const dir = path.join(root, 'pb_data');
      const r = await runCli(['migrate', 'up', '--dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(sqliteColumn(path.join(dir, 'data.db'), 'SELECT note FROM jobs'), ['stamped by a hook']);
      assert.match(fs.readFileSync(path.join(dir, 'types.d.ts'), 'utf8'), /declare function onRecordCreate\(/);
      // A hooks file that does not load stops the command, as it would stop serve.
      fs.writeFileSync(path.join(root, 'pb_hooks', 'broken.pb.js'), 'routerAdd("GET", "/x", (e) => {\n');
      const bad = await runCli(['migrate', 'up', '--dir', dir]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /broken\.pb\.js/);
    } finally {
      removeTempRoot(root);
    }
  });
});
