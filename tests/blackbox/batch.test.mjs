// The batch API (POST /api/batch) through the official SDK's createBatch():
// creates, updates, deletes and upserts in one transaction, all or
// nothing, API rules per item, files in multipart batches, and the
// settings' switch and limits, with PocketBase's response and error shapes.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ClientResponseError } from 'pocketbase';
import { startServer, client, runCli } from './lib/server.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const USER = { email: 'user@example.com', password: 'user-pass-1234' };

async function rejectsWith(promise, status, check) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ClientResponseError, String(err));
    assert.equal(err.status, status, JSON.stringify(err.response));
    check?.(err.response);
    return true;
  });
}

describe('batch API', () => {
  let srv;
  let su;
  let asUser;
  let user;

  const titles = async (col = 'items') =>
    (await su.collection(col).getFullList({ sort: 'title' })).map((r) => r.title);

  before(async () => {
    srv = await startServer();
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    user = await su.collection('users').create({ ...USER, passwordConfirm: USER.password });
    asUser = client(srv.url);
    await asUser.collection('users').authWithPassword(USER.email, USER.password);

    const everyone = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
    await su.collections.create({
      name: 'items',
      ...everyone,
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'views', type: 'number' },
      ],
    });
    await su.collections.create({ name: 'private', fields: [{ name: 'title', type: 'text' }] });
    await su.collections.create({
      name: 'docs',
      ...everyone,
      fields: [
        { name: 'title', type: 'text' },
        { name: 'file', type: 'file', maxSelect: 1, maxSize: 1000 },
      ],
    });
  });
  after(() => srv?.destroy());

  test('disabled by default: 403 and nothing written', async () => {
    const s = await su.settings.getAll();
    assert.equal(s.batch.enabled, false);
    const batch = su.createBatch();
    batch.collection('items').create({ title: 'never' });
    await rejectsWith(batch.send(), 403, (b) =>
      assert.deepEqual(b, { data: {}, message: 'Batch requests are not allowed.', status: 403 }),
    );
    assert.deepEqual(await titles(), []);
  });

  test('enable through the settings', async () => {
    const s = await su.settings.update({ batch: { enabled: true, maxRequests: 50 } });
    assert.equal(s.batch.enabled, true);
    assert.equal(s.batch.maxRequests, 50);
    assert.equal((await su.settings.getAll()).batch.enabled, true);
  });

  test('creates, updates, deletes and upserts in one call', async () => {
    const items = su.collection('items');
    const r1 = await items.create({ title: 'r1', views: 1 });
    const r2 = await items.create({ title: 'r2' });
    const r3 = await items.create({ title: 'r3' });

    const batch = su.createBatch();
    batch.collection('items').create({ title: 'b1' });
    batch.collection('items').create({ id: 'batchcreated001', title: 'b2', views: 2 });
    batch.collection('items').update(r1.id, { title: 'r1 updated', 'views+': 4 });
    batch.collection('items').delete(r2.id);
    batch.collection('items').upsert({ id: r3.id, title: 'r3 upserted' });
    batch.collection('items').upsert({ id: 'upsertcreated01', title: 'u new' });
    const res = await batch.send();

    assert.equal(res.length, 6);
    assert.deepEqual(res.map((x) => x.status), [200, 200, 200, 204, 200, 200]);
    assert.deepEqual(Object.keys(res[0]).sort(), ['body', 'status']);
    assert.equal(res[0].body.title, 'b1');
    assert.equal(res[0].body.collectionName, 'items');
    assert.match(res[0].body.id, /^[a-z0-9]{15}$/);
    assert.equal(res[1].body.id, 'batchcreated001');
    assert.equal(res[2].body.id, r1.id);
    assert.equal(res[2].body.title, 'r1 updated');
    assert.equal(res[2].body.views, 5);
    assert.equal(res[3].body, null);
    assert.equal(res[4].body.id, r3.id);
    assert.equal(res[4].body.title, 'r3 upserted');
    assert.equal(res[5].body.id, 'upsertcreated01');
    assert.equal(res[5].body.title, 'u new');

    assert.deepEqual(await titles(), ['b1', 'b2', 'r1 updated', 'r3 upserted', 'u new']);
    await rejectsWith(items.getOne(r2.id), 404);
    assert.equal((await items.getOne(r1.id)).views, 5);
  });

  test('all or nothing: a failing item rolls back the earlier ones', async () => {
    const items = su.collection('items');
    const before = await titles();
    const target = (await items.getFullList({ filter: "title = 'b1'" }))[0];

    const batch = su.createBatch();
    batch.collection('items').create({ title: 'rolled back' });
    batch.collection('items').update(target.id, { title: 'b1 changed' });
    batch.collection('items').create({ views: 1 }); // title is required
    batch.collection('items').create({ title: 'never reached' });
    await rejectsWith(batch.send(), 400, (b) =>
      assert.deepEqual(b, {
        data: {
          requests: {
            2: {
              code: 'batch_request_failed',
              message: 'Batch request failed.',
              response: {
                data: { title: { code: 'validation_required', message: 'Cannot be blank.' } },
                message: 'Failed to create record.',
                status: 400,
              },
            },
          },
        },
        message: 'Batch transaction failed.',
        status: 400,
      }),
    );
    assert.deepEqual(await titles(), before);
    assert.equal((await items.getOne(target.id)).title, 'b1');

    // A delete of a missing record fails the batch too (404 inside).
    const b2 = su.createBatch();
    b2.collection('items').delete(target.id);
    b2.collection('items').delete('missingmissing1');
    await rejectsWith(b2.send(), 400, (b) => {
      assert.deepEqual(Object.keys(b.data.requests), ['1']);
      assert.equal(b.data.requests[1].code, 'batch_request_failed');
      assert.equal(b.data.requests[1].response.status, 404);
    });
    assert.equal((await items.getOne(target.id)).title, 'b1');
    assert.deepEqual(await titles(), before);
  });

  test('API rules apply to each item, for the batch caller', async () => {
    const before = await titles();
    const batch = asUser.createBatch();
    batch.collection('items').create({ title: 'by user' });
    batch.collection('private').create({ title: 'not allowed' });
    await rejectsWith(batch.send(), 400, (b) => {
      assert.equal(b.message, 'Batch transaction failed.');
      assert.deepEqual(Object.keys(b.data.requests), ['1']);
      assert.deepEqual(b.data.requests[1].response, {
        data: {},
        message: 'Only superusers can perform this action.',
        status: 403,
      });
    });
    assert.deepEqual(await titles(), before);
    assert.deepEqual(await titles('private'), []);

    // The same caller succeeds where the rules allow it.
    const ok = asUser.createBatch();
    ok.collection('items').create({ title: 'by user' });
    const res = await ok.send();
    assert.equal(res[0].status, 200);
    assert.ok((await titles()).includes('by user'));
    assert.ok(user.id);
  });

  test('multipart batch: @jsonPayload with requests.N.file', async () => {
    const batch = su.createBatch();
    batch.collection('docs').create({ title: 'with file', file: new File(['hello'], 'note.txt', { type: 'text/plain' }) });
    batch.collection('docs').create({ title: 'plain' });
    const res = await batch.send(); // the SDK sends multipart: @jsonPayload + requests.0.file
    assert.deepEqual(res.map((x) => x.status), [200, 200]);
    assert.equal(res[0].body.title, 'with file');
    assert.match(res[0].body.file, /^note_[a-z0-9]{10}\.txt$/);
    assert.equal(res[1].body.file, '');
    const url = su.files.getURL(res[0].body, res[0].body.file);
    const got = await fetch(url);
    assert.equal(got.status, 200);
    assert.equal(await got.text(), 'hello');
  });

  test('bad batches: empty, unknown action, invalid items', async () => {
    const send = (body) => su.send('/api/batch', { method: 'POST', body });
    await rejectsWith(send({ requests: [] }), 400, (b) => {
      assert.equal(b.message, 'Invalid batch request data.');
      assert.equal(b.data.requests.code, 'validation_required');
    });
    await rejectsWith(send({ requests: [{ method: 'GET', url: '/api/collections/items/records' }] }), 400, (b) => {
      assert.equal(b.message, 'Batch transaction failed.');
      assert.equal(b.data.requests[0].code, 'batch_request_failed');
      assert.equal(b.data.requests[0].response.status, 400);
    });
    await rejectsWith(
      send({
        requests: [
          { url: '/api/collections/items/records', body: { title: 'x' } },
          { method: 'POST', url: '/api/collections/items/records', body: { title: 'y' } },
          { method: 'TRACE', url: '/api/collections/items/records' },
        ],
      }),
      400,
      (b) => {
        assert.equal(b.message, 'Invalid batch request data.');
        assert.equal(b.data.requests[0].method.code, 'validation_required');
        assert.equal(b.data.requests[1], undefined);
        assert.equal(b.data.requests[2].method.code, 'validation_in_invalid');
      },
    );
    assert.ok(!(await titles()).includes('y'));
  });

  test('maxRequests limit: 400 and nothing written', async () => {
    await su.settings.update({ batch: { enabled: true, maxRequests: 2 } });
    try {
      const before = await titles();
      const batch = su.createBatch();
      for (const t of ['m1', 'm2', 'm3']) batch.collection('items').create({ title: t });
      await rejectsWith(batch.send(), 400, (b) =>
        assert.deepEqual(b, {
          data: {
            requests: { code: 'validation_length_too_long', message: 'The length must be no more than 2.' },
          },
          message: 'Invalid batch request data.',
          status: 400,
        }),
      );
      assert.deepEqual(await titles(), before);
      // Exactly at the limit is fine.
      const two = su.createBatch();
      for (const t of ['m1', 'm2']) two.collection('items').create({ title: t });
      assert.deepEqual((await two.send()).map((x) => x.status), [200, 200]);
    } finally {
      await su.settings.update({ batch: { enabled: true, maxRequests: 50 } });
    }
  });

  test('disabled again: 403', async () => {
    await su.settings.update({ batch: { enabled: false } });
    const batch = su.createBatch();
    batch.collection('items').create({ title: 'off' });
    await rejectsWith(batch.send(), 403);
    assert.ok(!(await titles()).includes('off'));
  });
});
