// The cron jobs API (PocketBase's apis/cron.go): GET /api/crons and
// POST /api/crons/{id} for superusers, with the system jobs registered
// by every app, and a program's own job (examples/routes.c, "demoTick")
// run on demand, in the background.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { client, exampleBin, runCli, startServer } from './lib/server.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('cron jobs API', () => {
  const bin = exampleBin('routes');
  let srv;
  let suToken;
  let userToken;

  before(async () => {
    srv = await startServer({ bin });
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir], { bin });
    assert.equal(r.code, 0, r.stderr);
    const su = client(srv.url);
    suToken = (await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password)).token;
    await su.collection('users').create({ email: 'u@example.com', password: 'user-pass-123', passwordConfirm: 'user-pass-123' });
    userToken = (await client(srv.url).collection('users').authWithPassword('u@example.com', 'user-pass-123')).token;
  });
  after(async () => {
    await srv?.destroy();
  });

  const req = (method, p, token) =>
    fetch(srv.url + p, { method, headers: token ? { Authorization: token } : {} });

  test('list: 401 for a guest, 403 for a user', async () => {
    const guest = await req('GET', '/api/crons');
    assert.equal(guest.status, 401);
    assert.deepEqual((await guest.json()).data, {});
    assert.equal((await req('GET', '/api/crons', userToken)).status, 403);
  });

  test('list: the program\'s jobs sorted by id, then the system jobs', async () => {
    const res = await req('GET', '/api/crons', suToken);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), [
      { id: 'demoTick', expression: '*/5 * * * *' },
      { id: '__pbDBOptimize__', expression: '0 0 * * *' },
      { id: '__pbLogsCleanup__', expression: '0 */6 * * *' },
      { id: '__pbMFACleanup__', expression: '0 * * * *' },
      { id: '__pbOTPCleanup__', expression: '0 * * * *' },
    ]);
  });

  test('run now: 204 at once, the job runs in the background', async () => {
    assert.equal((await req('POST', '/api/crons/demoTick')).status, 401);
    assert.equal((await req('POST', '/api/crons/demoTick', userToken)).status, 403);
    const before = (await (await req('GET', '/api/demo/ticks')).json()).ticks;
    const res = await req('POST', '/api/crons/demoTick', suToken);
    assert.equal(res.status, 204);
    let ticks = before;
    for (let i = 0; i < 100 && ticks === before; i++) {
      await sleep(20);
      ticks = (await (await req('GET', '/api/demo/ticks')).json()).ticks;
    }
    assert.equal(ticks, before + 1);
    assert.equal((await req('POST', '/api/crons/__pbDBOptimize__', suToken)).status, 204);
    assert.equal((await req('POST', '/api/crons/__pbOTPCleanup__', suToken)).status, 204);
    const missing = await req('POST', '/api/crons/missing', suToken);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { data: {}, message: 'Missing or invalid cron job.', status: 404 });
  });
});
