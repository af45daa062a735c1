// Group commit seen from outside: creates sent together (which may share
// one COMMIT, see src/db/writer_queue.c) succeed or fail one by one, and
// every create the server acknowledged is still there after kill -9 and a
// restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, client } from './lib/server.mjs';
import { superuserClient } from './lib/assert.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };

async function setup(t) {
  const srv = await startServer();
  t.after(() => srv.destroy());
  const pb = await superuserClient(srv, ADMIN);
  await pb.collections.create({
    name: 'items',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '',
    fields: [{ name: 'code', type: 'text' }],
    indexes: ['CREATE UNIQUE INDEX idx_items_code ON items (code)'],
  });
  return { srv, pb };
}

function create(url, code) {
  return fetch(`${url}/api/collections/items/records`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  }).then(async (res) => ({ status: res.status, body: await res.json() }));
}

test('creates sent together: a unique violation fails only its own request', async (t) => {
  const { srv, pb } = await setup(t);
  assert.equal((await create(srv.url, 'taken')).status, 200);
  for (let round = 0; round < 5; round++) {
    const codes = Array.from({ length: 24 }, (_, i) => (i === 11 ? 'taken' : `r${round}-${i}`));
    const results = await Promise.all(codes.map((c) => create(srv.url, c)));
    results.forEach((r, i) => {
      if (codes[i] === 'taken') {
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.data.code.code, 'validation_not_unique');
      } else {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.code, codes[i]);
      }
    });
  }
  const all = await pb.collection('items').getFullList({ batch: 500 });
  assert.equal(all.length, 1 + 5 * 23);
});

test('kill -9 under concurrent creates: every acknowledged create survives', async (t) => {
  const { srv } = await setup(t);
  const acked = [];
  let stop = false;
  let n = 0;
  async function worker() {
    while (!stop) {
      const code = `c${n++}`;
      try {
        const r = await create(srv.url, code);
        if (r.status === 200) acked.push(r.body.id);
      } catch {
        return; // the server is gone
      }
    }
  }
  const workers = Array.from({ length: 32 }, worker);
  while (acked.length < 400) await new Promise((r) => setTimeout(r, 5));
  await srv.kill9();
  stop = true;
  await Promise.all(workers);
  assert.equal(srv.exitInfo.signal, 'SIGKILL');

  await srv.start(); // a new port: a new client
  const pb = client(srv.url);
  await pb.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
  const have = new Set((await pb.collection('items').getFullList({ batch: 1000, fields: 'id' })).map((r) => r.id));
  const lost = acked.filter((id) => !have.has(id));
  assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged creates lost`);
});
