// The basalt command line: help, version, bad input, superuser management,
// and what `serve` does on a fresh data dir.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, startServer, makeTempRoot, removeTempRoot } from './lib/server.mjs';
import { sqliteColumn, SQLITE3_SKIP } from './lib/db.mjs';

describe('basic flags', () => {
  test('--help exits 0 and prints the usage', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /usage/i);
    assert.match(r.stdout, /serve/);
    assert.match(r.stdout, /superuser/);
  });

  test('--version exits 0 and prints a version', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\d+\.\d+\.\d+/);
  });

  test('an unknown flag exits non-zero with a message on stderr', async () => {
    const r = await runCli(['serve', '--no-such-flag']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--no-such-flag/);
    assert.match(r.stderr, /unknown|invalid/i);
  });

  test('an unknown command exits non-zero with a message on stderr', async () => {
    const r = await runCli(['frobnicate']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /frobnicate/);
    assert.match(r.stderr, /unknown/i);
  });

  test('an unknown superuser subcommand exits non-zero', async () => {
    const root = makeTempRoot();
    try {
      const r = await runCli(['superuser', 'explode', 'a@example.com', '--dir', path.join(root, 'pb_data')]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /explode/);
    } finally {
      removeTempRoot(root);
    }
  });
});

describe('superuser commands on a fresh data dir', () => {
  test('create, update, upsert, delete', async (t) => {
    const root = makeTempRoot();
    t.after(() => removeTempRoot(root));
    const dir = path.join(root, 'pb_data');
    const su = (...args) => runCli(['superuser', ...args, '--dir', dir]);

    let r = await su('create', 'admin@example.com', '1234567890');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /admin@example\.com/);
    assert.ok(fs.existsSync(path.join(dir, 'data.db')), 'data.db created');

    r = await su('create', 'admin@example.com', '1234567890');
    assert.notEqual(r.code, 0, 'creating the same superuser twice must fail');
    assert.match(r.stderr, /admin@example\.com|exist/i);

    r = await su('update', 'admin@example.com', 'new-password-123');
    assert.equal(r.code, 0, r.stderr);

    r = await su('update', 'missing@example.com', 'new-password-123');
    assert.notEqual(r.code, 0, 'updating a missing superuser must fail');
    assert.match(r.stderr, /missing@example\.com/);

    r = await su('upsert', 'admin@example.com', 'another-pass-456');
    assert.equal(r.code, 0, r.stderr);
    r = await su('upsert', 'second@example.com', 'another-pass-456');
    assert.equal(r.code, 0, r.stderr);

    r = await su('delete', 'second@example.com');
    assert.equal(r.code, 0, r.stderr);

    // PocketBase: deleting a missing superuser only warns
    // ("superuser ... is missing or already deleted") and exits 0.
    r = await su('delete', 'second@example.com');
    assert.equal(r.code, 0, `delete of a missing superuser: ${r.stderr}`);
    assert.match(r.stdout + r.stderr, /second@example\.com/);

    // The command saves through the record model: the last superuser
    // cannot be deleted.
    r = await su('delete', 'admin@example.com');
    assert.notEqual(r.code, 0, 'deleting the only superuser must fail');
    assert.match(r.stderr, /only existing superuser/);
  });

  test('bad input is refused', async (t) => {
    const root = makeTempRoot();
    t.after(() => removeTempRoot(root));
    const dir = path.join(root, 'pb_data');
    const su = (...args) => runCli(['superuser', ...args, '--dir', dir]);

    let r = await su('create', 'short@example.com', 'short');
    assert.notEqual(r.code, 0, 'a 5-character password must be refused');
    assert.match(r.stderr, /password/i);

    r = await su('upsert', 'short@example.com', '1234567');
    assert.notEqual(r.code, 0, 'a 7-character password must be refused (min 8)');

    r = await su('create', 'not-an-email', '1234567890');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /email/i);

    r = await su('delete', 'not-an-email');
    assert.notEqual(r.code, 0);

    r = await su('create', 'noargs@example.com');
    assert.notEqual(r.code, 0, 'create without a password must fail');

    r = await su('create');
    assert.notEqual(r.code, 0);
  });

  test('superusers are stored in _superusers with bcrypt hashes, verified', { skip: SQLITE3_SKIP }, async (t) => {
    const root = makeTempRoot();
    t.after(() => removeTempRoot(root));
    const dir = path.join(root, 'pb_data');
    const r = await runCli(['superuser', 'upsert', 'hash@example.com', '1234567890', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    const rows = sqliteColumn(
      path.join(dir, 'data.db'),
      "SELECT email || '|' || substr(password, 1, 4) || '|' || length(tokenKey) || '|' || verified FROM _superusers;",
    );
    assert.equal(rows.length, 1);
    const [email, prefix, keyLen, verified] = rows[0].split('|');
    assert.equal(email, 'hash@example.com');
    assert.match(prefix, /^\$2[aby]\$/);
    assert.ok(Number(keyLen) >= 30, 'a tokenKey is set');
    assert.equal(verified, '1', 'superusers are always verified');
  });
});

describe('serve on a fresh data dir', () => {
  test('prints how to create a superuser, creates data.db and the system collections', async (t) => {
    const srv = await startServer();
    t.after(() => srv.destroy());
    assert.match(srv.output(), /superuser/i);
    assert.match(srv.output(), /superuser (upsert|create)/);
    assert.ok(fs.existsSync(path.join(srv.dir, 'data.db')), 'data.db exists');
    assert.ok(fs.existsSync(path.join(srv.dir, 'auxiliary.db')), 'auxiliary.db exists');
    await srv.stop();
    if (SQLITE3_SKIP) {
      t.diagnostic(`collections not checked: ${SQLITE3_SKIP}`);
      return;
    }
    const names = sqliteColumn(path.join(srv.dir, 'data.db'), 'SELECT name FROM _collections ORDER BY name;');
    for (const n of ['_authOrigins', '_externalAuths', '_mfas', '_otps', '_superusers', 'users'])
      assert.ok(names.includes(n), `collection ${n} missing (have ${names.join(', ')})`);
    const tables = sqliteColumn(path.join(srv.dir, 'data.db'), "SELECT name FROM sqlite_master WHERE type='table';");
    for (const n of ['_collections', '_params', '_migrations', '_superusers', 'users'])
      assert.ok(tables.includes(n), `table ${n} missing`);
  });

  test('once a superuser exists, serve no longer asks for one', async (t) => {
    // Prepare the dir through the CLI, then serve it.
    const srv = await startServer();
    t.after(() => srv.destroy());
    await srv.stop();
    const r = await runCli(['superuser', 'create', 'first@example.com', '1234567890', '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    srv._out.length = 0;
    await srv.restart();
    assert.doesNotMatch(srv.output(), /No superuser/i);
  });
});
