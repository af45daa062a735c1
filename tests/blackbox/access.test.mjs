// Access control under a hostile client: each test pins a hole found by
// probing the server as an attacker would, through the official SDK and
// raw fetch.
//
// - An update names its record in the URL; an `id` in the body can neither
//   steer the update rule to another record nor reach validation of a
//   record the caller may not update (a password and field oracle).
// - Autodate fields (created, updated) ignore client values on create and
//   update, for users and superusers alike.
// - Sorting by an email its owner keeps private reveals nothing about it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, client } from './lib/server.mjs';
import { rejectsWith, superuserClient } from './lib/assert.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const MSG_404 = "The requested resource wasn't found.";

describe('access control', () => {
  let srv;
  let su;
  let guest;
  const users = {}; // name -> { rec, pb, password }

  async function signUp(name, email, password, extra = {}) {
    const rec = await guest.collection('users').create({
      email,
      password,
      passwordConfirm: password,
      name,
      ...extra,
    });
    const pb = client(srv.url);
    await pb.collection('users').authWithPassword(email, password);
    users[name] = { rec, pb, password };
    return rec;
  }

  before(async () => {
    srv = await startServer();
    su = await superuserClient(srv, ADMIN);
    guest = client(srv.url);
    // Public listing of users so that sorting can be probed by anyone.
    const col = await su.collections.getOne('users');
    await su.collections.update(col.id, { listRule: '', viewRule: '' });
    await signUp('alice', 'alice@example.com', 'alice-pass-123');
    await signUp('bob', 'bob@example.com', 'bob-pass-1234');
    // Private emails that sort differently from the names.
    await signUp('u1', 'zz-last@example.com', 'u1-pass-12345', { name: 'n1' });
    await signUp('u2', 'aa-first@example.com', 'u2-pass-12345', { name: 'n2' });
    await signUp('u3', 'mm-middle@example.com', 'u3-pass-12345', { name: 'n3' });
  });

  after(async () => {
    await srv?.destroy();
  });

  test("an id in the body cannot steer the update rule to the caller's own record", async () => {
    const alice = users.alice;
    const bob = users.bob;
    const before = await su.collection('users').getOne(bob.rec.id);
    for (const old of ['wrong-guess-1', bob.password]) {
      await rejectsWith(
        alice.pb.collection('users').update(bob.rec.id, {
          id: alice.rec.id,
          oldPassword: old,
          password: 'new-pass-12345',
          passwordConfirm: 'new-pass-12345',
        }),
        404,
        (body) => assert.deepEqual(body, { data: {}, message: MSG_404, status: 404 }),
      );
    }
    // Hidden values of the target are not reported either.
    await rejectsWith(
      alice.pb.collection('users').update(bob.rec.id, { id: alice.rec.id, email: 'x@example.com' }),
      404,
    );
    const after = await su.collection('users').getOne(bob.rec.id);
    assert.deepEqual(after, before);
    // Bob's password still works.
    const pb = client(srv.url);
    await pb.collection('users').authWithPassword('bob@example.com', bob.password);
  });

  test('an id in the body that differs from the URL is a plain 400 for the record owner', async () => {
    const alice = users.alice;
    await rejectsWith(
      alice.pb.collection('users').update(alice.rec.id, {
        id: 'someotherid0001',
        oldPassword: 'wrong-guess-1',
        password: 'new-pass-12345',
        passwordConfirm: 'new-pass-12345',
      }),
      400,
      (body) => {
        // Only the id is reported: nothing about the password was checked.
        assert.deepEqual(Object.keys(body.data), ['id']);
        assert.equal(body.data.id.code, 'validation_pk_change');
      },
    );
    // The same id as the URL is allowed.
    const ok = await alice.pb.collection('users').update(alice.rec.id, { id: alice.rec.id, name: 'Alice A' });
    assert.equal(ok.name, 'Alice A');
  });

  test('batch updates check the rule against the record in the URL', async () => {
    const su2 = await su.settings.getAll();
    await su.settings.update({ batch: { ...su2.batch, enabled: true } });
    const alice = users.alice;
    const bob = users.bob;
    const batch = alice.pb.createBatch();
    batch.collection('users').update(bob.rec.id, {
      id: alice.rec.id,
      oldPassword: 'wrong-guess-1',
      password: 'new-pass-12345',
      passwordConfirm: 'new-pass-12345',
    });
    await assert.rejects(batch.send(), (err) => {
      assert.equal(err.status, 400);
      const s = JSON.stringify(err.response);
      assert.ok(!s.includes('old_password'), s);
      assert.ok(s.includes('404'), s);
      return true;
    });
  });

  test('autodate fields ignore client values on create and update', async () => {
    const col = await su.collections.create({
      name: 'notes',
      listRule: '',
      viewRule: '',
      createRule: '',
      updateRule: '',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'created', type: 'autodate', onCreate: true },
        { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
        { name: 'stamped', type: 'autodate', onUpdate: true },
      ],
    });
    assert.ok(col.id);
    const fake = '2001-01-01 00:00:00.000Z';
    for (const pb of [guest, su]) {
      const rec = await pb.collection('notes').create({ title: 'a', created: fake, updated: fake, stamped: fake });
      assert.notEqual(rec.created, fake);
      assert.notEqual(rec.updated, fake);
      assert.equal(rec.stamped, '');
      const upd = await pb.collection('notes').update(rec.id, { title: 'b', created: fake, updated: fake, stamped: fake });
      assert.equal(upd.created, rec.created);
      assert.notEqual(upd.updated, fake);
      assert.notEqual(upd.stamped, fake);
      assert.notEqual(upd.stamped, '');
      const stored = await su.collection('notes').getOne(rec.id);
      assert.equal(stored.created, rec.created);
    }
  });

  test('sorting by a private email reveals nothing of it', async () => {
    const names = ['u1', 'u2', 'u3'];
    const ids = new Set(names.map((n) => users[n].rec.id));
    const order = async (pb, sort) =>
      (await pb.collection('users').getFullList({ sort: `${sort},name` })).filter((r) => ids.has(r.id)).map((r) => r.name);
    // A superuser sorts by the real emails: aa-first, mm-middle, zz-last.
    assert.deepEqual(await order(su, 'email'), ['n2', 'n3', 'n1']);
    // Guests and users see the rows in the tie-breaker's order, both ways.
    for (const pb of [guest, users.alice.pb]) {
      assert.deepEqual(await order(pb, 'email'), ['n1', 'n2', 'n3']);
      assert.deepEqual(await order(pb, '-email'), ['n1', 'n2', 'n3']);
    }
    // A visible email still sorts: alice made hers public.
    await users.alice.pb.collection('users').update(users.alice.rec.id, { emailVisibility: true });
    const all = await guest.collection('users').getFullList({ sort: '-email,name' });
    assert.equal(all[0].id, users.alice.rec.id);
  });

  test('filters on private emails and hidden fields are refused or empty', async () => {
    const list = await guest.collection('users').getFullList({ filter: 'email ~ "aa-first"' });
    assert.equal(list.length, 0);
    await rejectsWith(guest.collection('users').getList(1, 10, { filter: 'password != ""' }), 400);
    await rejectsWith(guest.collection('users').getList(1, 10, { sort: 'tokenKey' }), 400);
  });
});
