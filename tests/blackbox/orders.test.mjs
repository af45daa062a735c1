// The seed's orders example app (shared/seeds/pocketbase-overview.txt),
// unchanged but for TypeScript types: its pre-0.23 pb_schema.json
// imported through the SDK while `users` exists, then its lib/orders.ts
// functions (listOrders, getOrder, createOrder, updateOrderStatus,
// deleteOrder) and lib/auth.ts sign-up/sign-in run against Basalt as
// the users, guests and superuser the schema's rules name.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ClientResponseError } from 'pocketbase';
import { startServer, client, runCli } from './lib/server.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };

// The seed's pb_schema.json, as printed there.
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

/** The seed's lib/orders.ts and lib/auth.ts, bound to one SDK client. */
function seedApp(pb) {
  async function listOrders(options = {}) {
    const { page = 1, perPage = 20, status, customerId } = options;

    const filters = [];
    if (status) filters.push(`status = "${status}"`);
    if (customerId) filters.push(`customer_id = "${customerId}"`);

    return await pb.collection('orders').getList(page, perPage, {
      filter: filters.join(' && '),
      sort: '-created',
      expand: 'customer_id',
    });
  }

  async function getOrder(orderId) {
    return await pb.collection('orders').getOne(orderId, {
      expand: 'customer_id',
    });
  }

  async function createOrder(data) {
    return await pb.collection('orders').create(data);
  }

  async function updateOrderStatus(orderId, status) {
    return await pb.collection('orders').update(orderId, { status });
  }

  async function deleteOrder(orderId) {
    await pb.collection('orders').delete(orderId);
  }

  async function signIn(email, password) {
    return await pb.collection('users').authWithPassword(email, password);
  }

  async function signUp(email, password, name) {
    const user = await pb.collection('users').create({
      email,
      password,
      passwordConfirm: password,
      name,
    });

    // Auto-login after registration
    await signIn(email, password);
    return user;
  }

  function signOut() {
    pb.authStore.clear();
  }

  function getCurrentUser() {
    return pb.authStore.isValid ? pb.authStore.record : null;
  }

  return { listOrders, getOrder, createOrder, updateOrderStatus, deleteOrder, signIn, signUp, signOut, getCurrentUser };
}

async function rejectsWith(promise, status, check) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ClientResponseError, String(err));
    assert.equal(err.status, status, JSON.stringify(err.response));
    check?.(err.response);
    return true;
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('the seed orders app', () => {
  let srv;
  let su;
  let alice; // seed app instances, one client each
  let bob;
  let guest;
  let aliceUser;
  let bobUser;
  const orders = []; // alice's orders, in creation order

  before(async () => {
    srv = await startServer();
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    alice = seedApp(client(srv.url));
    bob = seedApp(client(srv.url));
    guest = seedApp(client(srv.url));
  });
  after(() => srv?.destroy());

  test('import the pre-0.23 pb_schema.json next to users', async () => {
    assert.equal(await su.collections.import(ORDERS_SCHEMA, false), true);
    const names = (await su.collections.getFullList()).map((c) => c.name);
    assert.ok(names.includes('users') && names.includes('orders'), names.join());
    const col = await su.collections.getOne('orders');
    const types = Object.fromEntries(col.fields.map((f) => [f.name, f.type]));
    assert.deepEqual(types, {
      id: 'text',
      customer_id: 'relation',
      status: 'select',
      total_cents: 'number',
      items: 'json',
      tracking_number: 'text',
      created: 'autodate',
      updated: 'autodate',
    });
    const rel = col.fields.find((f) => f.name === 'customer_id');
    assert.equal(rel.collectionId, '_pb_users_auth_');
    assert.equal(rel.maxSelect, 1);
    assert.equal(col.listRule, "@request.auth.id != '' && @request.auth.id = customer_id");
    assert.equal(col.createRule, "@request.auth.id != ''");
    assert.equal(col.deleteRule, null);
  });

  test('signUp / signIn of the seed', async () => {
    aliceUser = await alice.signUp('alice@example.com', 'alice-pass-123', 'Alice');
    bobUser = await bob.signUp('bob@example.com', 'bob-pass-1234', 'Bob');
    assert.equal(alice.getCurrentUser().id, aliceUser.id);
    assert.equal(bob.getCurrentUser().email, 'bob@example.com');
    assert.equal(guest.getCurrentUser(), null);
  });

  test('createOrder as a signed-in customer', async () => {
    const specs = [
      { status: 'pending', total_cents: 1999, items: [{ sku: 'A1', qty: 2 }] },
      { status: 'processing', total_cents: 500, items: [{ sku: 'B2', qty: 1 }], tracking_number: '' },
      { status: 'pending', total_cents: 12000, items: [{ sku: 'C3', qty: 10 }, { sku: 'A1', qty: 1 }] },
    ];
    for (const spec of specs) {
      const o = await alice.createOrder({ customer_id: aliceUser.id, ...spec });
      orders.push(o);
      await sleep(5); // distinct `created` milliseconds, so -created has one answer
    }
    const o = orders[0];
    assert.equal(o.collectionName, 'orders');
    assert.equal(o.customer_id, aliceUser.id);
    assert.equal(o.status, 'pending');
    assert.equal(o.total_cents, 1999);
    assert.deepEqual(o.items, [{ sku: 'A1', qty: 2 }]);
    assert.equal(o.tracking_number, '');
    assert.match(o.created, DATE_RE);
    assert.equal(o.expand, undefined);
    // Bob orders too.
    const b = await bob.createOrder({ customer_id: bobUser.id, status: 'pending', total_cents: 42, items: ['x'] });
    assert.equal(b.customer_id, bobUser.id);
  });

  test('listOrders: customer_id filter, -created sort, expand customer_id', async () => {
    const res = await alice.listOrders({ customerId: aliceUser.id });
    assert.equal(res.page, 1);
    assert.equal(res.perPage, 20);
    assert.equal(res.totalItems, 3);
    assert.equal(res.totalPages, 1);
    assert.deepEqual(
      res.items.map((o) => o.id),
      [...orders].reverse().map((o) => o.id),
    );
    for (const o of res.items) {
      assert.equal(o.expand.customer_id.id, aliceUser.id);
      assert.equal(o.expand.customer_id.name, 'Alice');
      assert.equal(o.expand.customer_id.email, 'alice@example.com'); // her own record
    }
    // Without a customer filter the list rule still keeps her to her orders.
    const all = await alice.listOrders();
    assert.equal(all.totalItems, 3);
    const pending = await alice.listOrders({ customerId: aliceUser.id, status: 'pending' });
    assert.deepEqual(pending.items.map((o) => o.id), [orders[2].id, orders[0].id]);
    const page2 = await alice.listOrders({ customerId: aliceUser.id, page: 2, perPage: 2 });
    assert.equal(page2.totalPages, 2);
    assert.deepEqual(page2.items.map((o) => o.id), [orders[0].id]);
  });

  test('getOrder with the customer expanded', async () => {
    const o = await alice.getOrder(orders[1].id);
    assert.equal(o.id, orders[1].id);
    assert.equal(o.status, 'processing');
    assert.equal(o.expand.customer_id.id, aliceUser.id);
    await rejectsWith(alice.getOrder('missingmissing1'), 404);
  });

  test('updateOrderStatus', async () => {
    const o = await alice.updateOrderStatus(orders[0].id, 'shipped');
    assert.equal(o.status, 'shipped');
    assert.equal(o.total_cents, 1999);
    assert.ok(o.updated >= orders[0].updated);
    const shipped = await alice.listOrders({ customerId: aliceUser.id, status: 'shipped' });
    assert.deepEqual(shipped.items.map((x) => x.id), [orders[0].id]);
    await rejectsWith(alice.updateOrderStatus(orders[0].id, 'lost'), 400, (b) =>
      assert.equal(b.data.status.code, 'validation_invalid_value'),
    );
    assert.equal((await alice.getOrder(orders[0].id)).status, 'shipped');
  });

  test("other customers and guests never see or change Alice's orders", async () => {
    const theirs = await bob.listOrders({ customerId: aliceUser.id });
    assert.equal(theirs.totalItems, 0);
    assert.deepEqual(theirs.items, []);
    const own = await bob.listOrders({ customerId: bobUser.id });
    assert.equal(own.totalItems, 1);
    assert.equal(own.items[0].expand.customer_id.id, bobUser.id);
    await rejectsWith(bob.getOrder(orders[0].id), 404);
    await rejectsWith(bob.updateOrderStatus(orders[0].id, 'cancelled'), 404);
    assert.equal((await alice.getOrder(orders[0].id)).status, 'shipped');

    const g = await guest.listOrders({ customerId: aliceUser.id });
    assert.equal(g.totalItems, 0);
    await rejectsWith(guest.getOrder(orders[0].id), 404);
    await rejectsWith(
      guest.createOrder({ customer_id: aliceUser.id, status: 'pending', total_cents: 1, items: ['x'] }),
      400,
      (b) => assert.deepEqual(b, { data: {}, message: 'Failed to create record.', status: 400 }),
    );
    // The superuser sees every order.
    const everything = await seedApp(su).listOrders();
    assert.equal(everything.totalItems, 4);
  });

  test('createOrder validation: total_cents and items are required', async () => {
    const before = (await seedApp(su).listOrders()).totalItems;
    await rejectsWith(alice.createOrder({ customer_id: aliceUser.id, status: 'pending', items: ['x'] }), 400, (b) => {
      assert.equal(b.message, 'Failed to create record.');
      assert.equal(b.data.total_cents.code, 'validation_required');
    });
    await rejectsWith(alice.createOrder({ customer_id: aliceUser.id, total_cents: 5 }), 400, (b) =>
      assert.equal(b.data.items.code, 'validation_required'),
    );
    await rejectsWith(
      alice.createOrder({ customer_id: 'missingmissing1', total_cents: 5, items: ['x'] }),
      400,
      (b) => assert.equal(b.data.customer_id.code, 'validation_missing_rel_records'),
    );
    assert.equal((await seedApp(su).listOrders()).totalItems, before);
  });

  test('deleteOrder: superusers only (deleteRule null)', async () => {
    await rejectsWith(alice.deleteOrder(orders[2].id), 403, (b) =>
      assert.deepEqual(b, { data: {}, message: 'Only superusers can perform this action.', status: 403 }),
    );
    assert.equal((await alice.getOrder(orders[2].id)).id, orders[2].id);
    await seedApp(su).deleteOrder(orders[2].id);
    await rejectsWith(alice.getOrder(orders[2].id), 404);
    const res = await alice.listOrders({ customerId: aliceUser.id });
    assert.deepEqual(res.items.map((o) => o.id), [orders[1].id, orders[0].id]);
    alice.signOut();
    assert.equal(alice.getCurrentUser(), null);
    assert.equal((await alice.listOrders()).totalItems, 0);
  });
});
