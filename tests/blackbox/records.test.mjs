// The records API through the official SDK on a fresh data dir: list
// queries (paging, skipTotal, sort, the filter language, expand, the
// fields picker), view, create, update with modifiers, delete with
// cascade and relation clean-up, hidden fields, emailVisibility, every
// API rule form, and bad input answered with PocketBase's errors while
// nothing is written.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ClientResponseError } from 'pocketbase';
import { startServer, client, runCli, rawRequest } from './lib/server.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const ALICE = { email: 'alice@example.com', password: 'alice-pass-123', name: 'Alice' };
const BOB = { email: 'bob@example.com', password: 'bob-pass-1234', name: 'Bob' };

const MSG_400 = 'Something went wrong while processing your request.';
const MSG_403 = 'Only superusers can perform this action.';
const MSG_404 = "The requested resource wasn't found.";
const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function rejectsWith(promise, status, check) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ClientResponseError, String(err));
    assert.equal(err.status, status, JSON.stringify(err.response));
    check?.(err.response);
    return true;
  });
}

/** The exact generic 400 PocketBase answers for a bad list query. */
const generic400 = (body) => assert.deepEqual(body, { data: {}, message: MSG_400, status: 400 });

describe('records API', () => {
  let srv;
  let su; // superuser client
  let guest;
  let alice; // user records
  let bob;
  let asAlice; // clients
  let asBob;
  let postsCol;
  let commentsCol;
  const P = {}; // name -> post record
  const C = {}; // name -> comment record

  /** Post names of a list of records, in order. */
  const names = (items) =>
    items.map((r) => Object.keys(P).find((k) => P[k].id === r.id) ?? `?${r.id}`);
  /** Post names matching a filter (superuser, sorted by title for a stable order). */
  const match = async (filter, pbc = su) =>
    names(await pbc.collection('posts').getFullList({ filter, sort: 'title' }));
  const sorted = (...a) => a.sort((x, y) => P[x].title.localeCompare(P[y].title));
  const countOf = async (col) => (await su.collection(col).getList(1, 1)).totalItems;

  before(async () => {
    srv = await startServer();
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    guest = client(srv.url);

    // Users sign up as guests through the users collection's "" create rule.
    alice = await guest.collection('users').create({
      ...ALICE,
      passwordConfirm: ALICE.password,
      emailVisibility: true,
    });
    bob = await guest.collection('users').create({ ...BOB, passwordConfirm: BOB.password });
    asAlice = client(srv.url);
    await asAlice.collection('users').authWithPassword(ALICE.email, ALICE.password);
    asBob = client(srv.url);
    await asBob.collection('users').authWithPassword(BOB.email, BOB.password);

    postsCol = await su.collections.create({
      name: 'posts',
      listRule: '',
      viewRule: '',
      fields: [
        { name: 'title', type: 'text', required: true, min: 2 },
        { name: 'body', type: 'editor' },
        { name: 'views', type: 'number' },
        { name: 'public', type: 'bool' },
        { name: 'tags', type: 'select', values: ['a', 'b', 'c', 'd'], maxSelect: 3 },
        { name: 'author', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
        { name: 'meta', type: 'json' },
        { name: 'published', type: 'date' },
        { name: 'secret', type: 'text', hidden: true },
        // Collections created through the API get no created/updated
        // unless asked for (PocketBase >= 0.23).
        { name: 'created', type: 'autodate', onCreate: true },
        { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
      ],
    });
    commentsCol = await su.collections.create({
      name: 'comments',
      listRule: '',
      viewRule: '',
      fields: [
        { name: 'post', type: 'relation', collectionId: postsCol.id, maxSelect: 1, cascadeDelete: true },
        { name: 'text', type: 'text' },
      ],
    });

    const posts = su.collection('posts');
    P.alpha = await posts.create({
      title: 'Alpha',
      body: '<p>Hello <b>world</b>, this is long</p>',
      views: 10,
      public: true,
      tags: ['a', 'b'],
      author: alice.id,
      meta: { k: 1 },
      published: '2020-01-01 10:00:00.000Z',
      secret: 's-alpha',
    });
    P.beta = await posts.create({
      title: 'Beta 50% off',
      views: 5,
      tags: ['c'],
      author: bob.id,
      meta: { k: 2 },
      published: '2021-06-15 12:00:00.000Z',
      secret: 's-beta',
    });
    P.gamma = await posts.create({
      title: 'Gamma 50_x',
      views: 20,
      public: true,
      tags: ['a', 'c', 'd'],
      author: alice.id,
      published: '2099-01-01 00:00:00.000Z',
    });
    P.delta = await posts.create({ title: 'Delta 500', views: 0 }); // no author, no date, no tags
    P.epsilon = await posts.create({
      title: 'Epsilon',
      body: '<p>Short</p>',
      views: 7,
      public: true,
      tags: ['b', 'd'],
      author: bob.id,
      published: '2022-03-03 03:03:03.000Z',
    });
    const comments = su.collection('comments');
    C.c1 = await comments.create({ post: P.alpha.id, text: 'first xyz' });
    C.c2 = await comments.create({ post: P.alpha.id, text: 'second' });
    C.c3 = await comments.create({ post: P.gamma.id, text: 'hello x' });
    C.c4 = await comments.create({ post: P.beta.id, text: 'nothing' });
  });
  after(() => srv?.destroy());

  // ------------------------------------------------------------ list

  test('getList: page, perPage, totalItems, totalPages', async () => {
    const page = await su.collection('posts').getList(2, 2, { sort: '+title' });
    assert.equal(page.page, 2);
    assert.equal(page.perPage, 2);
    assert.equal(page.totalItems, 5);
    assert.equal(page.totalPages, 3);
    assert.deepEqual(names(page.items), ['delta', 'epsilon']);
    const last = await su.collection('posts').getList(3, 2, { sort: '+title' });
    assert.deepEqual(names(last.items), ['gamma']);
    const beyond = await su.collection('posts').getList(9, 2);
    assert.deepEqual(beyond.items, []);
    assert.equal(beyond.totalItems, 5);
    // Defaults: page 1, perPage 30.
    const res = await fetch(`${srv.url}/api/collections/posts/records`);
    const body = await res.json();
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(body), ['items', 'page', 'perPage', 'totalItems', 'totalPages']);
    assert.equal(body.page, 1);
    assert.equal(body.perPage, 30);
    assert.equal(body.totalPages, 1);
  });

  test('skipTotal: totalItems and totalPages are -1', async () => {
    const r = await su.collection('posts').getList(1, 2, { skipTotal: true, sort: '-views' });
    assert.equal(r.totalItems, -1);
    assert.equal(r.totalPages, -1);
    assert.deepEqual(names(r.items), ['gamma', 'alpha']);
  });

  test('sort: -views, +title, relation path author.name, @random', async () => {
    const byViews = await su.collection('posts').getFullList({ sort: '-views' });
    assert.deepEqual(names(byViews), ['gamma', 'alpha', 'epsilon', 'beta', 'delta']);
    const byTitle = await su.collection('posts').getFullList({ sort: '+title' });
    assert.deepEqual(names(byTitle), ['alpha', 'beta', 'delta', 'epsilon', 'gamma']);
    const byAuthor = await su.collection('posts').getFullList({
      sort: '-author.name,title',
      filter: "author != ''",
      expand: 'author',
    });
    assert.deepEqual(names(byAuthor), ['beta', 'epsilon', 'alpha', 'gamma']);
    assert.deepEqual(
      byAuthor.map((r) => r.expand.author.name),
      ['Bob', 'Bob', 'Alice', 'Alice'],
    );
    const random = await su.collection('posts').getFullList({ sort: '@random' });
    assert.deepEqual(names(random).sort(), ['alpha', 'beta', 'delta', 'epsilon', 'gamma']);
  });

  test('filter: comparison operators', async () => {
    assert.deepEqual(await match("title = 'Alpha'"), ['alpha']);
    assert.deepEqual(await match("title != 'Alpha'"), sorted('beta', 'gamma', 'delta', 'epsilon'));
    assert.deepEqual(await match('views > 5'), sorted('alpha', 'gamma', 'epsilon'));
    assert.deepEqual(await match('views >= 7 && views <= 10'), sorted('alpha', 'epsilon'));
    assert.deepEqual(await match('views < 7'), sorted('beta', 'delta'));
    assert.deepEqual(await match('public = true'), sorted('alpha', 'gamma', 'epsilon'));
    assert.deepEqual(await match("(views > 15 || title = 'Delta 500') && views != 20"), ['delta']);
    assert.deepEqual(await match('meta.k = 2'), ['beta']);
  });

  test('filter: ~ and !~ with % and _ taken literally unless the value has a %', async () => {
    // No % in the value: wrapped in %...%, and "_" / "%" match themselves.
    assert.deepEqual(await match("title ~ '50_'"), ['gamma']);
    assert.deepEqual(await match("title ~ '50%'"), []); // has a %: a LIKE pattern, not wrapped
    assert.deepEqual(await match("title ~ '%50%'"), sorted('beta', 'gamma', 'delta'));
    assert.deepEqual(await match("title ~ 'Beta%'"), ['beta']);
    assert.deepEqual(await match("title ~ 'ALPHA'"), ['alpha']); // case-insensitive
    assert.deepEqual(await match("title !~ 'a'"), ['epsilon']);
  });

  test('filter: multi-valued select with ?=, :length and :each', async () => {
    // Without a modifier the operand is the stored JSON array itself
    // (PocketBase's resolver), so ?= on the bare field matches nothing and
    // ~ searches the JSON text.
    assert.deepEqual(await match("tags ?= 'a'"), []);
    assert.deepEqual(await match("tags ~ 'd'"), sorted('gamma', 'epsilon'));
    assert.deepEqual(await match("tags:each ?= 'a'"), sorted('alpha', 'gamma'));
    assert.deepEqual(await match("tags:each ?= 'd'"), sorted('gamma', 'epsilon'));
    assert.deepEqual(await match('tags:length = 2'), sorted('alpha', 'epsilon'));
    assert.deepEqual(await match('tags:length = 0'), ['delta']);
    assert.deepEqual(await match('tags:length > 2'), ['gamma']);
    assert.deepEqual(await match("tags:length > 0 && tags:each != 'c'"), sorted('alpha', 'epsilon'));
    assert.deepEqual(await match("tags:length > 0 && tags:each ~ 'c'"), ['beta']);
  });

  test('filter: relation paths and back-relations', async () => {
    assert.deepEqual(await match("author.email = 'bob@example.com'"), sorted('beta', 'epsilon'));
    assert.deepEqual(await match("author.name = 'Alice'"), sorted('alpha', 'gamma'));
    assert.deepEqual(await match("comments_via_post.text ?~ 'x'"), sorted('alpha', 'gamma'));
    assert.deepEqual(await match("comments_via_post.text ?= 'nothing'"), ['beta']);
    // Filters on the comments side through the relation.
    const cs = await su.collection('comments').getFullList({ filter: "post.author.name = 'Alice'", sort: 'text' });
    assert.deepEqual(cs.map((c) => c.text), ['first xyz', 'hello x', 'second']);
  });

  test('filter: null and empty are the same', async () => {
    assert.deepEqual(await match('author = null'), ['delta']);
    assert.deepEqual(await match("author = ''"), ['delta']);
    assert.deepEqual(await match('author != null'), sorted('alpha', 'beta', 'gamma', 'epsilon'));
    assert.deepEqual(await match('published = null'), ['delta']);
    assert.deepEqual(await match('published = ""'), ['delta']);
    assert.deepEqual(await match("body = ''"), sorted('beta', 'gamma', 'delta'));
  });

  test('filter: datetime macros', async () => {
    // '' < any date: a post without a date matches < @now, as in PocketBase.
    assert.deepEqual(await match('published < @now'), sorted('alpha', 'beta', 'delta', 'epsilon'));
    assert.deepEqual(await match("published != '' && published < @now"), sorted('alpha', 'beta', 'epsilon'));
    assert.deepEqual(await match('published > @now'), ['gamma']);
    assert.deepEqual(await match('published > @yearEnd'), ['gamma']);
    assert.deepEqual(await match("published < @todayStart && published != ''"), sorted('alpha', 'beta', 'epsilon'));
  });

  // ------------------------------------------------------------ expand

  test('expand: single relation, nested path, back-relation, missing ignored', async () => {
    const p = await su.collection('posts').getOne(P.alpha.id, { expand: 'author' });
    assert.equal(p.expand.author.id, alice.id);
    assert.equal(p.expand.author.collectionName, 'users');
    assert.equal(p.expand.author.email, ALICE.email);
    assert.equal(p.author, alice.id); // the field itself keeps the id

    const c = await su.collection('comments').getOne(C.c1.id, { expand: 'post.author' });
    assert.equal(c.expand.post.id, P.alpha.id);
    assert.equal(c.expand.post.expand.author.name, 'Alice');

    const back = await su.collection('posts').getOne(P.alpha.id, { expand: 'comments_via_post' });
    assert.ok(Array.isArray(back.expand.comments_via_post));
    assert.deepEqual(back.expand.comments_via_post.map((x) => x.id).sort(), [C.c1.id, C.c2.id].sort());

    const list = await su.collection('posts').getList(1, 10, {
      filter: `id = '${P.alpha.id}'`,
      expand: 'author,comments_via_post',
    });
    assert.equal(list.items[0].expand.author.id, alice.id);
    assert.equal(list.items[0].expand.comments_via_post.length, 2);

    const missing = await su.collection('posts').getOne(P.alpha.id, { expand: 'nope,author.nope' });
    assert.equal(missing.id, P.alpha.id);
    assert.equal(missing.expand?.nope, undefined);
    const delta = await su.collection('posts').getOne(P.delta.id, { expand: 'author' });
    assert.equal(delta.expand?.author, undefined); // empty relation
  });

  test("expand: the related collection's viewRule applies", async () => {
    // users' viewRule is `id = @request.auth.id`.
    const g = await guest.collection('posts').getOne(P.alpha.id, { expand: 'author' });
    assert.equal(g.expand?.author, undefined);
    const own = await asAlice.collection('posts').getOne(P.alpha.id, { expand: 'author' });
    assert.equal(own.expand.author.id, alice.id);
    assert.equal(own.expand.author.email, ALICE.email);
    const other = await asAlice.collection('posts').getOne(P.beta.id, { expand: 'author' });
    assert.equal(other.expand?.author, undefined);
  });

  // ------------------------------------------------------------ fields

  test('fields picker: plain list, * with :excerpt, expand paths', async () => {
    const a = await su.collection('posts').getOne(P.alpha.id, { fields: 'id,title' });
    assert.deepEqual(a, { id: P.alpha.id, title: 'Alpha' });

    const list = await su.collection('posts').getList(1, 2, { fields: 'id,views', sort: '-views' });
    assert.deepEqual(list.items, [
      { id: P.gamma.id, views: 20 },
      { id: P.alpha.id, views: 10 },
    ]);
    assert.equal(list.totalItems, 5);

    const ex = await su.collection('posts').getOne(P.alpha.id, { fields: '*,body:excerpt(10,true)' });
    assert.equal(ex.body, 'Hello worl...');
    assert.equal(ex.title, 'Alpha');
    assert.equal(ex.views, 10);
    assert.equal(ex.collectionName, 'posts');
    const short = await su.collection('posts').getOne(P.epsilon.id, { fields: 'body:excerpt(10,true)' });
    assert.deepEqual(short, { body: 'Short' });
    const noDots = await su.collection('posts').getOne(P.alpha.id, { fields: 'body:excerpt(5)' });
    assert.deepEqual(noDots, { body: 'Hello' });

    const withExpand = await su.collection('posts').getOne(P.alpha.id, {
      expand: 'author',
      fields: 'id,expand.author.name',
    });
    assert.deepEqual(withExpand, { id: P.alpha.id, expand: { author: { name: 'Alice' } } });
  });

  // ------------------------------------------------------------ view, create

  test('getOne, getFirstListItem, getFullList', async () => {
    const one = await guest.collection('posts').getOne(P.gamma.id);
    assert.equal(one.title, 'Gamma 50_x');
    await rejectsWith(guest.collection('posts').getOne('missingmissing1'), 404, (b) =>
      assert.deepEqual(b, { data: {}, message: MSG_404, status: 404 }),
    );
    const first = await su.collection('posts').getFirstListItem("title ~ 'eps'");
    assert.equal(first.id, P.epsilon.id);
    await rejectsWith(su.collection('posts').getFirstListItem("title = 'none'"), 404);
    const all = await su.collection('posts').getFullList({ batch: 2, sort: 'views' });
    assert.deepEqual(names(all), ['delta', 'beta', 'epsilon', 'alpha', 'gamma']);
  });

  test('create returns the record with collectionId/collectionName and sorted keys', async () => {
    const res = await fetch(`${srv.url}/api/collections/posts/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: su.authStore.token },
      body: JSON.stringify({ title: 'Zeta <b>&', views: 1.5, tags: ['d', 'a'], meta: [1, 'x'] }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    const rec = JSON.parse(text);
    assert.deepEqual(Object.keys(rec), [...Object.keys(rec)].sort());
    assert.deepEqual(Object.keys(rec), [
      'author', 'body', 'collectionId', 'collectionName', 'created', 'id', 'meta', 'public',
      'published', 'secret', 'tags', 'title', 'updated', 'views',
    ]);
    assert.equal(rec.collectionId, postsCol.id);
    assert.equal(rec.collectionName, 'posts');
    assert.match(rec.id, /^[a-z0-9]{15}$/);
    assert.match(rec.created, DATE_RE);
    assert.match(rec.updated, DATE_RE);
    assert.equal(rec.title, 'Zeta <b>&');
    assert.ok(text.includes('"title":"Zeta \\u003cb\\u003e\\u0026"'), text); // Go's HTML escaping
    assert.equal(rec.views, 1.5);
    assert.deepEqual(rec.tags, ['d', 'a']);
    assert.deepEqual(rec.meta, [1, 'x']);
    assert.equal(rec.author, '');
    assert.equal(rec.published, '');
    assert.equal(rec.public, false);
    const again = await su.collection('posts').getOne(rec.id);
    assert.deepEqual(again, rec);
    await su.collection('posts').delete(rec.id);

    // A custom id is kept.
    const custom = await su.collection('posts').create({ id: 'customid1234567', title: 'Custom' });
    assert.equal(custom.id, 'customid1234567');
    await su.collection('posts').delete(custom.id);
  });

  // ------------------------------------------------------------ update, delete

  test('update with modifiers: views+, views-, tags+, +tags, tags-', async () => {
    const posts = su.collection('posts');
    const p = await posts.create({ title: 'Mods', views: 5, tags: ['a'] });
    let r = await posts.update(p.id, { 'views+': 3 });
    assert.equal(r.views, 8);
    r = await posts.update(p.id, { 'views-': 2 });
    assert.equal(r.views, 6);
    r = await posts.update(p.id, { 'tags+': 'b' });
    assert.deepEqual(r.tags, ['a', 'b']);
    r = await posts.update(p.id, { '+tags': 'c' });
    assert.deepEqual(r.tags, ['c', 'a', 'b']);
    r = await posts.update(p.id, { 'tags-': ['a'] });
    assert.deepEqual(r.tags, ['c', 'b']);
    r = await posts.update(p.id, { title: 'Mods 2', 'views+': 10 });
    assert.equal(r.title, 'Mods 2');
    assert.equal(r.views, 16);
    assert.ok(r.updated >= p.updated);
    const stored = await posts.getOne(p.id);
    assert.equal(stored.views, 16);
    assert.deepEqual(stored.tags, ['c', 'b']);
    // Going over maxSelect through a modifier is a validation error.
    await rejectsWith(posts.update(p.id, { 'tags+': ['a', 'd'] }), 400, (b) =>
      assert.equal(b.data.tags.code, 'validation_too_many_values'),
    );
    await posts.delete(p.id);
  });

  test('delete answers 204, then the record is gone (404)', async () => {
    const p = await su.collection('posts').create({ title: 'Doomed' });
    const res = await fetch(`${srv.url}/api/collections/posts/records/${p.id}`, {
      method: 'DELETE',
      headers: { authorization: su.authStore.token },
    });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    await rejectsWith(su.collection('posts').getOne(p.id), 404);
    await rejectsWith(su.collection('posts').delete(p.id), 404, (b) =>
      assert.deepEqual(b, { data: {}, message: MSG_404, status: 404 }),
    );
  });

  test('delete: cascade, clean-up of a non-cascade relation, required reference', async () => {
    const favorites = await su.collections.create({
      name: 'favorites',
      fields: [
        { name: 'label', type: 'text' },
        { name: 'posts', type: 'relation', collectionId: postsCol.id, maxSelect: 5 },
      ],
    });
    await su.collections.create({
      name: 'pins',
      fields: [{ name: 'post', type: 'relation', collectionId: postsCol.id, maxSelect: 1, required: true }],
    });
    const doomed = await su.collection('posts').create({ title: 'Has comments' });
    const keep = await su.collection('posts').create({ title: 'Pinned' });
    const k1 = await su.collection('comments').create({ post: doomed.id, text: 'k1' });
    const k2 = await su.collection('comments').create({ post: doomed.id, text: 'k2' });
    const other = await su.collection('comments').create({ post: keep.id, text: 'stays' });
    const fav = await su.collection('favorites').create({ label: 'f', posts: [doomed.id, keep.id] });
    const pin = await su.collection('pins').create({ post: keep.id });
    assert.equal(favorites.name, 'favorites');

    await su.collection('posts').delete(doomed.id);
    await rejectsWith(su.collection('comments').getOne(k1.id), 404);
    await rejectsWith(su.collection('comments').getOne(k2.id), 404);
    assert.equal((await su.collection('comments').getOne(other.id)).post, keep.id);
    assert.deepEqual((await su.collection('favorites').getOne(fav.id)).posts, [keep.id]);

    // A required, non-cascading reference blocks the delete; nothing changes.
    await rejectsWith(su.collection('posts').delete(keep.id), 400, (b) =>
      assert.deepEqual(b, {
        data: {},
        message: 'Failed to delete record. Make sure that the record is not part of a required relation reference.',
        status: 400,
      }),
    );
    assert.equal((await su.collection('posts').getOne(keep.id)).title, 'Pinned');
    assert.equal((await su.collection('comments').getOne(other.id)).post, keep.id);
    assert.deepEqual((await su.collection('favorites').getOne(fav.id)).posts, [keep.id]);

    await su.collection('pins').delete(pin.id);
    await su.collection('posts').delete(keep.id);
    await rejectsWith(su.collection('comments').getOne(other.id), 404);
    assert.deepEqual((await su.collection('favorites').getOne(fav.id)).posts, []);
    await su.collections.delete('pins');
    await su.collections.delete('favorites');
  });

  // ------------------------------------------------------------ visibility

  test('hidden fields: absent for guests and users, present for superusers, not filterable', async () => {
    const g = await guest.collection('posts').getOne(P.alpha.id);
    assert.ok(!('secret' in g), JSON.stringify(g));
    const u = await asAlice.collection('posts').getList(1, 50);
    for (const it of u.items) assert.ok(!('secret' in it));
    const s = await su.collection('posts').getOne(P.alpha.id);
    assert.equal(s.secret, 's-alpha');
    assert.deepEqual(await match("secret = 's-beta'"), ['beta']);

    await rejectsWith(guest.collection('posts').getList(1, 10, { filter: "secret = 's-beta'" }), 400, generic400);
    await rejectsWith(asAlice.collection('posts').getList(1, 10, { filter: "secret != ''" }), 400, generic400);
    await rejectsWith(guest.collection('posts').getList(1, 10, { sort: 'secret' }), 400, generic400);
    // fields=secret does not reveal it either.
    const picked = await guest.collection('posts').getOne(P.alpha.id, { fields: 'id,secret' });
    assert.deepEqual(picked, { id: P.alpha.id });
    // A hidden field sent by a non-superuser is ignored.
    await su.collections.update('posts', { createRule: '' });
    try {
      const made = await guest.collection('posts').create({ title: 'By guest', secret: 'leak' });
      const seen = await su.collection('posts').getOne(made.id);
      assert.equal(seen.secret, '');
      await su.collection('posts').delete(made.id);
    } finally {
      await su.collections.update('posts', { createRule: null });
    }
  });

  test('emailVisibility of auth records', async () => {
    await su.collections.update('users', { listRule: '', viewRule: '' });
    try {
      const list = await guest.collection('users').getFullList({ sort: 'name' });
      const byName = Object.fromEntries(list.map((u) => [u.name, u]));
      assert.equal(byName.Alice.email, ALICE.email); // emailVisibility true
      assert.ok(!('email' in byName.Bob), JSON.stringify(byName.Bob)); // hidden
      assert.equal(byName.Bob.emailVisibility, false);
      // Bob sees his own email, Alice does not see it.
      assert.equal((await asBob.collection('users').getOne(bob.id)).email, BOB.email);
      assert.ok(!('email' in (await asAlice.collection('users').getOne(bob.id))));
      // The superuser sees every email.
      assert.equal((await su.collection('users').getOne(bob.id)).email, BOB.email);
      // Filtering by a hidden email finds nothing for others.
      const g1 = await guest.collection('users').getList(1, 10, { filter: `email = '${BOB.email}'` });
      assert.equal(g1.totalItems, 0);
      const g2 = await guest.collection('users').getList(1, 10, { filter: `email = '${ALICE.email}'` });
      assert.equal(g2.totalItems, 1);
      const s1 = await su.collection('users').getList(1, 10, { filter: `email = '${BOB.email}'` });
      assert.equal(s1.totalItems, 1);
      // Never any password or tokenKey.
      for (const u of list) {
        assert.ok(!('password' in u) && !('tokenKey' in u));
      }
    } finally {
      await su.collections.update('users', {
        listRule: 'id = @request.auth.id',
        viewRule: 'id = @request.auth.id',
      });
    }
  });

  // ------------------------------------------------------------ bad input

  test('bad filters: malformed, unknown field, too long, bad sort', async () => {
    const posts = su.collection('posts');
    await rejectsWith(posts.getList(1, 10, { filter: 'title = ' }), 400, generic400);
    await rejectsWith(posts.getList(1, 10, { filter: "(title = 'x'" }), 400, generic400);
    await rejectsWith(posts.getList(1, 10, { filter: "title = 'x' &&" }), 400, generic400);
    await rejectsWith(posts.getList(1, 10, { filter: "title === 'x'" }), 400, generic400);
    await rejectsWith(posts.getList(1, 10, { filter: 'nope = 1' }), 400, generic400);
    await rejectsWith(posts.getList(1, 10, { filter: "author.nope = 'x'" }), 400, generic400);
    await rejectsWith(posts.getList(1, 10, { filter: `title = '${'a'.repeat(3600)}'` }), 400, generic400);
    await rejectsWith(posts.getList(1, 10, { sort: 'nope' }), 400, generic400);
    await rejectsWith(posts.getList(1, 10, { filter: "title = 'x'' OR 1=1 --'" }), 400, generic400);
    // User text is never SQL.
    const inj = await posts.getList(1, 10, { filter: `title = "x' OR '1'='1"` });
    assert.equal(inj.totalItems, 0);
    // Just under the length limit is fine.
    const ok = await posts.getList(1, 10, { filter: `title != '${'a'.repeat(3000)}'` });
    assert.equal(ok.totalItems, 5);
  });

  test('invalid JSON body: the generic 400, nothing written', async () => {
    const before = await countOf('posts');
    for (const body of ['{"title": "Broken",', '[1,2]', '{"title": "x" "y"}']) {
      const res = await rawRequest(srv.url, {
        method: 'POST',
        path: '/api/collections/posts/records',
        headers: { 'content-type': 'application/json', authorization: su.authStore.token },
        body,
      });
      assert.equal(res.status, 400, body);
      // PocketBase: RequestInfo() fails to bind the body -> BadRequestError("", err).
      assert.deepEqual(JSON.parse(res.text), { data: {}, message: MSG_400, status: 400 }, body);
    }
    assert.equal(await countOf('posts'), before);
  });

  test('bad bodies: missing relation, validation errors; nothing written', async () => {
    const before = await countOf('posts');
    await rejectsWith(su.collection('posts').create({ title: 'Orphan', author: 'missingmissing1' }), 400, (b) => {
      assert.equal(b.message, 'Failed to create record.');
      assert.deepEqual(b.data, {
        author: {
          code: 'validation_missing_rel_records',
          message: 'Failed to find all relation records with the provided ids.',
        },
      });
    });
    await rejectsWith(su.collection('posts').create({ views: 3 }), 400, (b) => {
      assert.equal(b.data.title.code, 'validation_required');
    });
    await rejectsWith(su.collection('posts').create({ title: 'x' }), 400, (b) => {
      assert.equal(b.data.title.code, 'validation_min_text_constraint');
    });
    await rejectsWith(su.collection('posts').create({ title: 'Bad tag', tags: ['z'] }), 400, (b) => {
      assert.equal(b.data.tags.code, 'validation_invalid_value');
    });
    await rejectsWith(su.collection('posts').create({ title: 'Many', tags: ['a', 'b', 'c', 'd'] }), 400, (b) => {
      assert.equal(b.data.tags.code, 'validation_too_many_values');
    });
    assert.equal(await countOf('posts'), before);
    // A failed update leaves the record as it was.
    await rejectsWith(su.collection('posts').update(P.alpha.id, { title: 'x', views: 99 }), 400);
    const a = await su.collection('posts').getOne(P.alpha.id);
    assert.equal(a.title, 'Alpha');
    assert.equal(a.views, 10);
    // Unknown collection and bad ids.
    await rejectsWith(su.collection('nope').getList(1, 1), 404, (b) =>
      assert.deepEqual(b, { data: {}, message: 'Missing collection context.', status: 404 }),
    );
    await rejectsWith(su.collection('posts').getOne('../../etc'), 404);
  });

  test('wrong types are cast like PocketBase', async () => {
    const r = await su.collection('posts').create({
      title: 12345,
      views: 'abc',
      public: 'true',
      meta: 'plain text',
      published: 'yesterday', // unparsable dates are dropped, not errors
    });
    assert.equal(r.title, '12345');
    assert.equal(r.views, 0);
    assert.equal(r.public, true);
    assert.equal(r.meta, 'plain text');
    assert.equal(r.published, '');
    const r2 = await su.collection('posts').update(r.id, { views: '12.5', public: 'yes' });
    assert.equal(r2.views, 12.5);
    assert.equal(r2.public, false);
    const r3 = await su.collection('posts').update(r.id, { tags: 'b' }); // a single value for a multiple select
    assert.deepEqual(r3.tags, ['b']);
    await su.collection('posts').delete(r.id);
  });

  test('multipart/form-data create with @jsonPayload', async () => {
    const fd = new FormData();
    fd.append('@jsonPayload', JSON.stringify({ title: 'From form', tags: ['a', 'b'], meta: { k: 9 } }));
    fd.append('views', '7');
    fd.append('public', 'true');
    const r = await su.collection('posts').create(fd);
    assert.equal(r.title, 'From form');
    assert.deepEqual(r.tags, ['a', 'b']);
    assert.deepEqual(r.meta, { k: 9 });
    assert.equal(r.views, 7);
    assert.equal(r.public, true);
    const stored = await su.collection('posts').getOne(r.id);
    assert.deepEqual(stored, r);
    // urlencoded bodies work too.
    const res = await fetch(`${srv.url}/api/collections/posts/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: su.authStore.token },
      body: 'title=Encoded&views=3&tags=c&tags=d',
    });
    const enc = await res.json();
    assert.equal(res.status, 200, JSON.stringify(enc));
    assert.equal(enc.title, 'Encoded');
    assert.equal(enc.views, 3);
    assert.deepEqual(enc.tags, ['c', 'd']);
    await su.collection('posts').delete(r.id);
    await su.collection('posts').delete(enc.id);
  });
});

describe('API rules', () => {
  let srv;
  let su;
  let guest;
  let alice;
  let bob;
  let asAlice;
  let asBob;

  const forbidden = (b) => assert.deepEqual(b, { data: {}, message: MSG_403, status: 403 });
  const notFound = (b) => assert.deepEqual(b, { data: {}, message: MSG_404, status: 404 });

  before(async () => {
    srv = await startServer();
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    guest = client(srv.url);
    alice = await guest.collection('users').create({ ...ALICE, passwordConfirm: ALICE.password });
    bob = await guest.collection('users').create({ ...BOB, passwordConfirm: BOB.password });
    asAlice = client(srv.url);
    const auth = await asAlice.collection('users').authWithPassword(ALICE.email, ALICE.password);
    assert.equal(auth.record.id, alice.id);
    asBob = client(srv.url);
    await asBob.collection('users').authWithPassword(BOB.email, BOB.password);

    const plain = [{ name: 'title', type: 'text' }];
    await su.collections.create({ name: 'locked', fields: plain }); // all rules null
    await su.collections.create({
      name: 'open',
      fields: plain,
      listRule: '',
      viewRule: '',
      createRule: '',
      updateRule: '',
      deleteRule: '',
    });
    const own = "author = @request.auth.id";
    await su.collections.create({
      name: 'notes',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'public', type: 'bool' },
        { name: 'author', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
      ],
      listRule: own,
      viewRule: own,
      createRule: "@request.auth.id != '' && @request.body.public:isset = true && @request.body.author = @request.auth.id",
      updateRule: own,
      deleteRule: own,
    });
    await su.collections.create({
      name: 'members',
      fields: [{ name: 'user', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 }],
    });
    await su.collections.create({
      name: 'club',
      fields: plain,
      listRule: '@collection.members.user ?= @request.auth.id',
      viewRule: "@request.auth.name = 'Alice'",
    });
    await su.collections.create({
      name: 'gated',
      fields: plain,
      listRule: "@request.headers.x_token = 'secret' && @request.method = 'GET'",
      viewRule: "@request.query.key = 'k1'",
    });
    await su.collection('gated').create({ id: 'gated0000000001', title: 'g' });
    await su.collection('locked').create({ id: 'locked000000001', title: 'l' });
    await su.collection('members').create({ user: alice.id });
    await su.collection('club').create({ id: 'club00000000001', title: 'c1' });
    await su.collection('club').create({ id: 'club00000000002', title: 'c2' });
  });
  after(() => srv?.destroy());

  test('null rule: superusers only, 403 for users and guests', async () => {
    for (const pbc of [guest, asAlice]) {
      const col = pbc.collection('locked');
      await rejectsWith(col.getList(1, 10), 403, forbidden);
      await rejectsWith(col.getOne('locked000000001'), 403, forbidden);
      await rejectsWith(col.create({ title: 'x' }), 403, forbidden);
      await rejectsWith(col.update('locked000000001', { title: 'x' }), 403, forbidden);
      await rejectsWith(col.delete('locked000000001'), 403, forbidden);
    }
    const all = await su.collection('locked').getFullList();
    assert.deepEqual(all.map((r) => [r.id, r.title]), [['locked000000001', 'l']]);
  });

  test('empty rule: everyone, guests included', async () => {
    const col = guest.collection('open');
    const r = await col.create({ title: 'by guest' });
    assert.equal((await col.getOne(r.id)).title, 'by guest');
    assert.equal((await col.getList(1, 10)).totalItems, 1);
    assert.equal((await col.update(r.id, { title: 'edited' })).title, 'edited');
    assert.equal(await col.delete(r.id), true);
    assert.equal((await col.getList(1, 10)).totalItems, 0);
  });

  test('list rule folded into the query; view/update/delete misses are 404', async () => {
    const a1 = await asAlice.collection('notes').create({ title: 'a1', public: true, author: alice.id });
    const a2 = await asAlice.collection('notes').create({ title: 'a2', public: false, author: alice.id });
    const b1 = await asBob.collection('notes').create({ title: 'b1', public: true, author: bob.id });

    const mine = await asAlice.collection('notes').getList(1, 10, { sort: 'title' });
    assert.deepEqual(mine.items.map((r) => r.title), ['a1', 'a2']);
    assert.equal(mine.totalItems, 2);
    const filtered = await asAlice.collection('notes').getList(1, 10, { filter: 'public = true' });
    assert.deepEqual(filtered.items.map((r) => r.title), ['a1']);
    assert.equal(filtered.totalItems, 1);
    // Bob's row stays invisible even when asked for by id.
    const sneaky = await asAlice.collection('notes').getList(1, 10, { filter: `id = '${b1.id}'` });
    assert.equal(sneaky.totalItems, 0);
    assert.deepEqual((await asBob.collection('notes').getFullList()).map((r) => r.title), ['b1']);
    const g = await guest.collection('notes').getList(1, 10);
    assert.equal(g.totalItems, 0);
    assert.deepEqual(g.items, []);
    assert.equal((await su.collection('notes').getList(1, 10)).totalItems, 3);

    await rejectsWith(asAlice.collection('notes').getOne(b1.id), 404, notFound);
    await rejectsWith(guest.collection('notes').getOne(a1.id), 404, notFound);
    await rejectsWith(asAlice.collection('notes').update(b1.id, { title: 'hacked' }), 404, notFound);
    await rejectsWith(asAlice.collection('notes').delete(b1.id), 404, notFound);
    assert.equal((await su.collection('notes').getOne(b1.id)).title, 'b1');

    assert.equal((await asAlice.collection('notes').getOne(a2.id)).title, 'a2');
    assert.equal((await asAlice.collection('notes').update(a2.id, { title: 'a2!' })).title, 'a2!');
    assert.equal(await asAlice.collection('notes').delete(a2.id), true);
    await rejectsWith(su.collection('notes').getOne(a2.id), 404);
  });

  test('create rule with @request.body: 400 when not satisfied, nothing written', async () => {
    const before = (await su.collection('notes').getList(1, 1)).totalItems;
    const fail = (b) => assert.deepEqual(b, { data: {}, message: 'Failed to create record.', status: 400 });
    await rejectsWith(asAlice.collection('notes').create({ title: 'no public', author: alice.id }), 400, fail);
    await rejectsWith(asAlice.collection('notes').create({ title: 'other', public: true, author: bob.id }), 400, fail);
    await rejectsWith(guest.collection('notes').create({ title: 'guest', public: true }), 400, fail);
    assert.equal((await su.collection('notes').getList(1, 1)).totalItems, before);
    // public: false is set, so the rule holds.
    const ok = await asAlice.collection('notes').create({ title: 'set', public: false, author: alice.id });
    assert.equal(ok.public, false);
    assert.equal((await su.collection('notes').getList(1, 1)).totalItems, before + 1);
  });

  test('@collection rule and @request.auth.* rule', async () => {
    const a = await asAlice.collection('club').getList(1, 10, { sort: 'title' });
    assert.deepEqual(a.items.map((r) => r.title), ['c1', 'c2']);
    const b = await asBob.collection('club').getList(1, 10);
    assert.equal(b.totalItems, 0);
    assert.equal((await guest.collection('club').getList(1, 10)).totalItems, 0);
    // viewRule: @request.auth.name = 'Alice'
    assert.equal((await asAlice.collection('club').getOne('club00000000001')).title, 'c1');
    await rejectsWith(asBob.collection('club').getOne('club00000000001'), 404, notFound);
    await rejectsWith(guest.collection('club').getOne('club00000000001'), 404, notFound);
    // create/update/delete rules are null.
    await rejectsWith(asAlice.collection('club').create({ title: 'x' }), 403, forbidden);
    // Bob becomes a member: the @collection rule now lets him list.
    await su.collection('members').create({ user: bob.id });
    assert.equal((await asBob.collection('club').getList(1, 10)).totalItems, 2);
  });

  test('@request.headers, @request.query and @request.method rules', async () => {
    const col = guest.collection('gated');
    assert.equal((await col.getList(1, 10)).totalItems, 0);
    assert.equal((await col.getList(1, 10, { headers: { 'X-Token': 'wrong' } })).totalItems, 0);
    const ok = await col.getList(1, 10, { headers: { 'X-Token': 'secret' } });
    assert.deepEqual(ok.items.map((r) => r.title), ['g']);
    await rejectsWith(col.getOne('gated0000000001'), 404, notFound);
    await rejectsWith(col.getOne('gated0000000001', { key: 'k2' }), 404, notFound);
    assert.equal((await col.getOne('gated0000000001', { key: 'k1' })).title, 'g');
  });

  test('superusers bypass every rule', async () => {
    const notes = await su.collection('notes').getFullList();
    assert.ok(notes.length >= 2);
    const n = await su.collection('notes').create({ title: 'admin note' }); // no public, no author
    assert.equal(n.title, 'admin note');
    await su.collection('notes').delete(n.id);
    assert.equal((await su.collection('club').getOne('club00000000002')).title, 'c2');
  });
});
