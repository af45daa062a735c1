// Opening PocketBase's own test data dir: it must serve, accept the
// fixture's tokens, and leave every user data table and file untouched.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, client, copyFixture, makeTempRoot, removeTempRoot, TOKENS, FIXTURE_SKIP } from './lib/server.mjs';
import { dumpUserData, hashTree, sqliteColumn, SQLITE3_SKIP } from './lib/db.mjs';

/**
 * A second, never served copy of the fixture to compare with. (The shared
 * fixture itself is never opened: even a read-only sqlite3 open of a WAL
 * database may create -shm/-wal files next to it.)
 */
function pristineCopy(t) {
  const root = makeTempRoot();
  t.after(() => removeTempRoot(root));
  const dir = path.join(root, 'pb_data');
  copyFixture(dir);
  return dir;
}

describe('the PocketBase fixture', { skip: FIXTURE_SKIP }, () => {
  test('serves: health 200, superuser settings with the fixture token', async (t) => {
    const srv = await startServer({ fixture: true });
    t.after(() => srv.destroy());
    const pb = client(srv.url);
    const h = await pb.health.check();
    assert.equal(h.code, 200);
    const su = client(srv.url, TOKENS.superuser);
    const s = await su.settings.getAll();
    assert.equal(s.meta.appName, 'acme_test');
    assert.equal(s.meta.senderAddress, 'support@example.com');
  });

  test('a start/stop cycle leaves user data and files unchanged', { skip: SQLITE3_SKIP }, async (t) => {
    const srv = await startServer({ fixture: true });
    t.after(() => srv.destroy());
    await srv.stop();
    const db = path.join(srv.dir, 'data.db');
    const before = dumpUserData(db);
    const filesBefore = hashTree(path.join(srv.dir, 'storage'));
    assert.ok(Object.keys(before).length > 10, `few user tables found: ${Object.keys(before).join(', ')}`);

    await srv.restart();
    // Touch the server a little (reads only) before stopping it again.
    await client(srv.url, TOKENS.superuser).settings.getAll();
    await client(srv.url).health.check();
    const info = await srv.stop();
    assert.equal(info.code, 0, srv.output());

    const after = dumpUserData(db);
    assert.deepEqual(Object.keys(after).sort(), Object.keys(before).sort(), 'the same tables and views');
    for (const name of Object.keys(before)) assert.equal(after[name], before[name], `${name} changed`);
    assert.deepEqual(hashTree(path.join(srv.dir, 'storage')), filesBefore, 'storage/ changed');
  });

  test('the very first start on a pristine copy changes no user data', { skip: SQLITE3_SKIP }, async (t) => {
    // Same as above, but compares against the untouched fixture copy, so a
    // change made by the first bootstrap (migrations, rewrites) shows up.
    const srv = await startServer({ fixture: true });
    t.after(() => srv.destroy());
    await srv.stop();
    const pristineDir = pristineCopy(t);
    const pristine = dumpUserData(path.join(pristineDir, 'data.db'));
    const opened = dumpUserData(path.join(srv.dir, 'data.db'));
    assert.deepEqual(Object.keys(opened).sort(), Object.keys(pristine).sort(), 'the same tables and views');
    for (const name of Object.keys(pristine)) assert.equal(opened[name], pristine[name], `${name} changed`);
    assert.deepEqual(hashTree(path.join(srv.dir, 'storage')), hashTree(path.join(pristineDir, 'storage')));
  });

  test('collections and their definitions are kept', { skip: SQLITE3_SKIP }, async (t) => {
    const srv = await startServer({ fixture: true });
    t.after(() => srv.destroy());
    await srv.stop();
    const pristineDir = pristineCopy(t);
    const q = 'SELECT id, name, type, system, fields, indexes, listRule, viewRule, createRule, updateRule, deleteRule, options FROM _collections ORDER BY id;';
    assert.deepEqual(
      sqliteColumn(path.join(srv.dir, 'data.db'), q),
      sqliteColumn(path.join(pristineDir, 'data.db'), q),
    );
  });
});
