// docs/hooks.md's example program (examples/orders.c, built as
// build/examples/orders): the overview's Go program in C. An
// OnRecordCreate handler tagged "orders" refuses orders without items and
// forces status to "pending"; a change of status to "shipped" (seen with
// the original value) notifies the customer after the response with a
// log line and a mail through the mailer hook; GET
// /api/custom/order-stats is for superusers, with SQL through the query
// API. Started with its own command line (`orders serve --http ... --dir
// ...`, `orders superuser upsert ...`) on a free port with a temp data
// dir, driven through the official SDK with the seed's orders schema, its
// mails caught by an SMTP sink.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ClientResponseError } from 'pocketbase';
import { BASALT_BIN, REPO_ROOT, client, runCli, makeTempRoot, removeTempRoot, freePort } from './lib/server.mjs';
import { startSink } from './lib/smtp.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };

/** The example binary: $ORDERS_BIN, else beside $BASALT_BIN, else build/examples/orders. */
function ordersBin() {
  if (process.env.ORDERS_BIN) return path.resolve(process.env.ORDERS_BIN);
  const sibling = path.join(path.dirname(BASALT_BIN), 'examples/orders');
  if (fs.existsSync(sibling)) return sibling;
  return path.join(REPO_ROOT, 'build/examples/orders');
}

const ORDERS_SCHEMA = [
  {
    name: 'orders',
    type: 'base',
    schema: [
      { name: 'customer_id', type: 'relation', options: { collectionId: '_pb_users_auth_', maxSelect: 1 } },
      {
        name: 'status',
        type: 'select',
        options: { values: ['pending', 'processing', 'shipped', 'delivered', 'cancelled'] },
      },
      { name: 'total_cents', type: 'number', required: true },
      { name: 'items', type: 'json', required: true },
      { name: 'tracking_number', type: 'text' },
    ],
    listRule: "@request.auth.id != '' && @request.auth.id = customer_id",
    viewRule: "@request.auth.id != '' && @request.auth.id = customer_id",
    createRule: "@request.auth.id != ''",
    updateRule: "@request.auth.id != '' && @request.auth.id = customer_id",
    deleteRule: null,
  },
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts the example on a free port; resolves { url, proc, output(), stop() }. */
async function startExample(dataDir) {
  const bin = ordersBin();
  assert.ok(fs.existsSync(bin), `${bin} is missing: build it with make`);
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const out = [];
    const proc = spawn(bin, ['serve', '--http', `127.0.0.1:${port}`, '--dir', dataDir], {
      cwd: path.dirname(dataDir),
      detached: true, // own process group
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout.on('data', (d) => out.push(d.toString()));
    proc.stderr.on('data', (d) => out.push(d.toString()));
    const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    const kill = (sig) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      try {
        process.kill(-proc.pid, sig);
      } catch {
        /* gone */
      }
    };
    const onExit = () => kill('SIGKILL');
    process.on('exit', onExit);
    const ex = {
      url: `http://127.0.0.1:${port}`,
      proc,
      output: () => out.join(''),
      async stop() {
        kill('SIGTERM');
        let timer;
        const done = await Promise.race([
          exited,
          new Promise((r) => {
            timer = setTimeout(() => r(null), 10000);
          }),
        ]);
        clearTimeout(timer);
        if (!done) {
          kill('SIGKILL');
          await exited;
        }
        process.off('exit', onExit);
      },
    };
    const deadline = Date.now() + 15000; // readiness deadline, not a timing assertion
    let up = false;
    while (Date.now() < deadline && proc.exitCode === null && proc.signalCode === null) {
      try {
        const res = await fetch(`${ex.url}/api/health`);
        await res.arrayBuffer();
        up = true;
        break;
      } catch {
        await sleep(25);
      }
    }
    if (up) return ex;
    await ex.stop();
    lastErr = new Error(`${bin} did not answer /api/health: ${ex.output().slice(-2000)}`);
    if (!/listen|address|bind/i.test(ex.output())) break;
  }
  throw lastErr;
}

async function rejectsWith(promise, status, check) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ClientResponseError, String(err));
    assert.equal(err.status, status, JSON.stringify(err.response));
    check?.(err.response);
    return true;
  });
}

describe('examples/orders: a C hook on order creation', () => {
  let root;
  let ex;
  let su;
  let customer;
  let sink;

  const count = async () => (await su.collection('orders').getList(1, 1)).totalItems;

  before(async () => {
    root = makeTempRoot();
    const dataDir = path.join(root, 'pb_data');
    // The program's own command line, not basalt's.
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', dataDir], {
      bin: ordersBin(),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Superuser saved: admin@example\.com/);
    sink = await startSink();
    ex = await startExample(dataDir);
    su = client(ex.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    await su.settings.update({
      meta: { appName: 'Shop', appURL: 'http://shop.test', senderName: 'Shop', senderAddress: 'shop@shop.test' },
      smtp: { enabled: true, host: '127.0.0.1', port: sink.port, tls: false },
    });
    assert.equal(await su.collections.import(ORDERS_SCHEMA, false), true);
    await su.collections.create({
      name: 'notes',
      fields: [
        { name: 'items', type: 'json' },
        { name: 'status', type: 'text' },
      ],
    });
    customer = await su.collection('users').create({
      email: 'buyer@example.com',
      password: 'buyer-pass-123',
      passwordConfirm: 'buyer-pass-123',
    });
  });
  after(async () => {
    await ex?.stop();
    await sink?.close();
    if (root) removeTempRoot(root);
  });

  test('an order without items: 400 with data.items validation_required, nothing stored', async () => {
    const expected = (b) =>
      assert.deepEqual(b, {
        data: { items: { code: 'validation_required', message: 'An order needs at least one item.' } },
        message: 'Failed to create record.',
        status: 400,
      });
    await rejectsWith(
      su.collection('orders').create({ customer_id: customer.id, total_cents: 100, items: [] }),
      400,
      expected,
    );
    await rejectsWith(su.collection('orders').create({ customer_id: customer.id, total_cents: 100 }), 400, (b) =>
      assert.equal(b.data.items.code, 'validation_required'),
    );
    await rejectsWith(
      su.collection('orders').create({ customer_id: customer.id, total_cents: 100, items: { sku: 'not a list' } }),
      400,
      (b) => assert.equal(b.data.items.code, 'validation_required'),
    );
    assert.equal(await count(), 0);
  });

  test('an order as a customer through the rules: same refusal', async () => {
    const pb = client(ex.url);
    await pb.collection('users').authWithPassword('buyer@example.com', 'buyer-pass-123');
    await rejectsWith(pb.collection('orders').create({ customer_id: customer.id, total_cents: 1, items: [] }), 400, (b) =>
      assert.equal(b.data.items.code, 'validation_required'),
    );
    const o = await pb.collection('orders').create({
      customer_id: customer.id,
      total_cents: 1,
      items: [{ sku: 'Z' }],
      status: 'delivered',
    });
    assert.equal(o.status, 'pending');
    const seen = await pb.collection('orders').getList(1, 10, {
      filter: `customer_id = "${customer.id}"`,
      sort: '-created',
      expand: 'customer_id',
    });
    assert.equal(seen.totalItems, 1);
    assert.equal(seen.items[0].expand.customer_id.id, customer.id);
    await su.collection('orders').delete(o.id);
  });

  test('an order with items is stored as pending whatever status was sent', async () => {
    const o = await su.collection('orders').create({
      customer_id: customer.id,
      total_cents: 2500,
      items: [{ sku: 'A1', qty: 1 }],
      status: 'shipped',
    });
    assert.equal(o.status, 'pending');
    assert.deepEqual(o.items, [{ sku: 'A1', qty: 1 }]);
    const stored = await su.collection('orders').getOne(o.id);
    assert.equal(stored.status, 'pending');
    const none = await su.collection('orders').create({ customer_id: customer.id, total_cents: 1, items: ['x'] });
    assert.equal(none.status, 'pending');
    assert.equal(await count(), 2);
    // The hook is on create only: an update may ship it.
    const shipped = await su.collection('orders').update(o.id, { status: 'shipped' });
    assert.equal(shipped.status, 'shipped');
    assert.equal((await su.collection('orders').getOne(o.id)).status, 'shipped');
  });

  test('the hook is tagged "orders": other collections are untouched', async () => {
    const n = await su.collection('notes').create({ items: [], status: 'shipped' });
    assert.deepEqual(n.items, []);
    assert.equal(n.status, 'shipped');
  });

  test('shipping an order notifies its customer once, after the response', async () => {
    const o = await su.collection('orders').create({ customer_id: customer.id, total_cents: 900, items: ['book'] });
    const mine = (m) => m.subject === 'Your order has shipped' && m.html.includes(o.id);
    await su.collection('orders').update(o.id, { status: 'processing' });
    await su.collection('orders').update(o.id, { tracking_number: 'T-1' });
    const shipped = await su.collection('orders').update(o.id, { status: 'shipped' });
    assert.equal(shipped.status, 'shipped');
    const mail = await sink.wait(mine);
    assert.deepEqual(mail.rcpt, ['buyer@example.com']);
    assert.match(ex.output(), new RegExp(`order ${o.id} shipped, notifying customer ${customer.id} <buyer@example\\.com>`));
    // Shipped again (no change of status) and other updates: no mail.
    await su.collection('orders').update(o.id, { status: 'shipped', tracking_number: 'T-2' });
    await su.collection('orders').update(o.id, { status: 'delivered' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sink.mails.filter(mine).length, 1);
  });

  test('GET /api/custom/order-stats: superusers only, SQL through the query API', async () => {
    const url = `${ex.url}/api/custom/order-stats`;
    const guest = await fetch(url);
    assert.equal(guest.status, 401);
    const pb = client(ex.url);
    await pb.collection('users').authWithPassword('buyer@example.com', 'buyer-pass-123');
    const user = await fetch(url, { headers: { Authorization: pb.authStore.token } });
    assert.equal(user.status, 403);
    const all = await su.collection('orders').getFullList();
    const cancelled = await su.collection('orders').create({ customer_id: customer.id, total_cents: 5000, items: ['x'] });
    await su.collection('orders').update(cancelled.id, { status: 'cancelled' });
    const res = await fetch(url, { headers: { Authorization: su.authStore.token } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      total_orders: all.length,
      total_revenue: all.reduce((n, o) => n + o.total_cents, 0),
    });
  });
});
