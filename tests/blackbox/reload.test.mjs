// Changes another process commits to data.db reach a running server
// without a restart: `basalt collections import` on the live data dir
// adds a collection the server then serves, and settings written by
// another process are picked up the same way.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, client, runCli } from './lib/server.mjs';
import { superuserClient } from './lib/assert.mjs';
import { sqlite3, SQLITE3_SKIP } from './lib/db.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };

/** Polls fn until it returns a truthy value or the deadline passes. */
async function eventually(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('changes made by another process', () => {
  let srv;
  let su;

  before(async () => {
    srv = await startServer();
    su = await superuserClient(srv, ADMIN);
  });

  after(async () => {
    await srv?.destroy();
  });

  test('a collection imported with the command line is served without a restart', async () => {
    const guest = client(srv.url);
    await assert.rejects(guest.collection('notes').getList(1, 1), (e) => e.status === 404);
    const file = path.join(srv.root, 'import.json');
    fs.writeFileSync(
      file,
      JSON.stringify([
        {
          name: 'notes',
          type: 'base',
          listRule: '',
          viewRule: '',
          createRule: '',
          fields: [{ name: 'title', type: 'text' }],
        },
      ]),
    );
    const r = await runCli(['collections', 'import', file, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    const list = await eventually(() => guest.collection('notes').getList(1, 1));
    assert.ok(list, 'the running server never saw the imported collection');
    assert.equal(list.totalItems, 0);
    const rec = await guest.collection('notes').create({ title: 'hello' });
    assert.equal(rec.title, 'hello');
    const cols = await su.collections.getFullList();
    assert.ok(cols.some((c) => c.name === 'notes'));
  });

  test('settings written by another process are reloaded', { skip: SQLITE3_SKIP }, async () => {
    // Saved once through the API, so that the settings row exists.
    await su.settings.update({ meta: { appName: 'First name' } });
    const want = 'Renamed elsewhere';
    sqlite3(
      path.join(srv.dir, 'data.db'),
      `UPDATE _params SET value = json_set(value, '$.meta.appName', '${want}') WHERE id = 'settings';`,
      { readonly: false },
    );
    const got = await eventually(async () => (await su.settings.getAll()).meta.appName === want);
    assert.ok(got, 'the running server kept the old settings');
  });
});
