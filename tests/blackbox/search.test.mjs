// Full-text search (a Basalt extension): fields marked `searchable`, the
// records list's `search` option through the official SDK, relevance
// sort with @rank, the index kept in step by every write path (REST,
// batch, a rolled-back batch, collection changes), API rules, and 400s
// for search text the checker refuses.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ClientResponseError } from 'pocketbase';
import { startServer, client, runCli } from './lib/server.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };

async function rejects400(promise, pattern) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ClientResponseError, String(err));
    assert.equal(err.status, 400, JSON.stringify(err.response));
    assert.equal(err.response.status, 400);
    assert.deepEqual(err.response.data, {});
    if (pattern) assert.match(err.response.message, pattern);
    return true;
  });
}

describe('full-text search', () => {
  let srv;
  let su;
  let guest;
  let col;

  const found = async (search, opts = {}, pb = su) =>
    (await pb.collection('posts').getList(1, 50, { search, sort: 'title', ...opts })).items.map(
      (r) => r.title,
    );

  before(async () => {
    srv = await startServer();
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    await su.settings.update({ batch: { enabled: true, maxRequests: 50 } });
    guest = client(srv.url);
    col = await su.collections.create({
      name: 'posts',
      listRule: "status = 'public'",
      viewRule: '',
      fields: [
        { name: 'title', type: 'text', searchable: true },
        { name: 'body', type: 'editor', searchable: true },
        { name: 'summary', type: 'text' },
        { name: 'status', type: 'text' },
      ],
    });
    for (const [title, body, status] of [
      ['alpha', 'The quick brown fox jumps over the lazy dog', 'public'],
      ['beta', 'A lazy afternoon with foxes and hounds', 'public'],
      ['gamma', 'Nothing to see here: database internals', 'draft'],
      ['delta', 'Fox fox fox, the fox again', 'public'],
    ]) {
      await su.collection('posts').create({ title, body, status, summary: `${title} summary` });
    }
  });
  after(() => srv?.destroy());

  test('the searchable flag is kept and shown only where set', async () => {
    const got = await su.collections.getOne('posts');
    const byName = Object.fromEntries(got.fields.map((f) => [f.name, f]));
    assert.equal(byName.title.searchable, true);
    assert.equal(byName.body.searchable, true);
    assert.equal('searchable' in byName.summary, false);
    assert.equal('searchable' in byName.id, false);
  });

  test('words, prefixes, phrases and operators', async () => {
    assert.deepEqual(await found('fox'), ['alpha', 'delta']);
    assert.deepEqual(await found('fox*'), ['alpha', 'beta', 'delta']);
    assert.deepEqual(await found('"lazy dog"'), ['alpha']);
    assert.deepEqual(await found('lazy AND fox*'), ['alpha', 'beta']);
    assert.deepEqual(await found('lazy fox*'), ['alpha', 'beta']);
    assert.deepEqual(await found('fox OR database'), ['alpha', 'delta', 'gamma']);
    assert.deepEqual(await found('fox* NOT lazy'), ['delta']);
    assert.deepEqual(await found('(fox OR hounds) AND lazy'), ['alpha', 'beta']);
    assert.deepEqual(await found('gamma'), ['gamma'], 'the title is indexed too');
    assert.deepEqual(await found('summary'), [], 'fields not marked are not indexed');
    assert.deepEqual(await found('title'), [], 'words are not column filters');
  });

  test('search combines with filter, paging, fields and the total', async () => {
    const page = await su
      .collection('posts')
      .getList(1, 1, { search: 'fox*', filter: "title != 'alpha'", sort: 'title', fields: 'title' });
    assert.equal(page.totalItems, 2);
    assert.deepEqual(page.items, [{ title: 'beta' }]);
  });

  test('@rank sorts by relevance', async () => {
    const ranked = await found('fox', { sort: '@rank' });
    assert.deepEqual(ranked, ['delta', 'alpha']);
    assert.deepEqual(await found('fox', { sort: '-@rank' }), ['alpha', 'delta']);
    assert.deepEqual(await found('fox*', { sort: '@rank,title' }), (await found('fox*', { sort: '@rank,title' })));
    await rejects400(su.collection('posts').getList(1, 5, { sort: '@rank' }), /@rank/);
  });

  test('the list rule applies to search results', async () => {
    assert.deepEqual(await found('database OR fox', {}, guest), ['alpha', 'delta']);
    assert.deepEqual(await found('database', {}, guest), []);
  });

  test('snippets: field:snippet(n) in fields marks the matches in safe HTML', async () => {
    const html = await su.collection('posts').create({
      title: 'Tom & <Jerry>',
      body: '<p>An <b>otter</b> &amp; a "seal" <i>swim</i> together</p>',
      status: 'public',
    });
    try {
      let page = await su.collection('posts').getList(1, 10, { search: 'otter', fields: 'title,body:snippet(16)' });
      assert.deepEqual(page.items, [
        { title: 'Tom & <Jerry>', body: 'An <mark>otter</mark> &amp; a &quot;seal&quot; swim together' },
      ]);
      page = await su.collection('posts').getList(1, 10, { search: 'jerry', fields: 'title:snippet(8)' });
      assert.deepEqual(page.items, [{ title: 'Tom &amp; &lt;<mark>Jerry</mark>&gt;' }]);
      // A long text is cut around the match, with ellipses.
      page = await su.collection('posts').getList(1, 10, { search: 'lazy', sort: 'title', fields: 'title,body:snippet(3)' });
      const alpha = page.items.find((r) => r.title === 'alpha');
      assert.match(alpha.body, /^\u2026.*<mark>lazy<\/mark>/);
      assert.ok(alpha.body.length < 'The quick brown fox jumps over the lazy dog'.length);
      // Records that match in another field keep their field's start.
      page = await su.collection('posts').getList(1, 10, { search: 'gamma', fields: 'body:snippet(64)' });
      assert.deepEqual(page.items, [{ body: 'Nothing to see here: database internals' }]);
      // Without a search the field is returned as it is.
      const plain = await su.collection('posts').getOne(html.id, { fields: 'body:snippet(5)' });
      assert.equal(plain.body, html.body);
      await rejects400(
        su.collection('posts').getList(1, 5, { search: 'fox', fields: 'summary:snippet(5)' }),
        /not searchable/,
      );
    } finally {
      await su.collection('posts').delete(html.id);
    }
  });

  test('hidden fields and auth emails are searched for superusers only', async () => {
    await su.collections.create({
      name: 'notes',
      listRule: '',
      fields: [
        { name: 'title', type: 'text', searchable: true },
        { name: 'secret', type: 'text', searchable: true, hidden: true },
      ],
    });
    await su.collection('notes').create({ title: 'meeting', secret: 'classified plans' });
    const members = await su.collections.create({ name: 'members', type: 'auth', listRule: '' });
    members.fields.find((f) => f.name === 'email').searchable = true;
    await su.collections.update('members', { fields: members.fields });
    await su.collection('members').create({
      email: 'walrus.keeper@example.com',
      password: 'a-long-password-1',
      passwordConfirm: 'a-long-password-1',
    });
    try {
      const hits = async (col, search, pb) => (await pb.collection(col).getList(1, 10, { search })).totalItems;
      assert.equal(await hits('notes', 'classified', su), 1);
      assert.equal(await hits('notes', 'classified', guest), 0);
      assert.equal(await hits('notes', 'meeting OR classified', guest), 1);
      assert.equal(await hits('members', 'walrus', su), 1);
      await rejects400(guest.collection('members').getList(1, 10, { search: 'walrus' }), /no searchable fields/);
      const page = await guest.collection('notes').getList(1, 10, { search: 'meeting', fields: 'title,secret:snippet(5)' });
      assert.deepEqual(page.items, [{ title: 'meeting' }]);
    } finally {
      await su.collections.delete('notes');
      await su.collections.delete('members');
    }
  });

  test('creates, updates and deletes through REST keep the index current', async () => {
    const rec = await su.collection('posts').create({ title: 'epsilon', body: 'zebra crossing', status: 'public' });
    assert.deepEqual(await found('zebra'), ['epsilon']);
    await su.collection('posts').update(rec.id, { body: 'giraffe crossing' });
    assert.deepEqual(await found('zebra'), []);
    assert.deepEqual(await found('giraffe'), ['epsilon']);
    await su.collection('posts').update(rec.id, { status: 'draft' });
    assert.deepEqual(await found('giraffe'), ['epsilon'], 'an update of other fields keeps the entry');
    await su.collection('posts').delete(rec.id);
    assert.deepEqual(await found('giraffe OR crossing'), []);
  });

  test('a batch is indexed, a rolled-back batch leaves nothing', async () => {
    const ok = su.createBatch();
    ok.collection('posts').create({ title: 'zeta', body: 'walrus colony', status: 'public' });
    ok.collection('posts').create({ title: 'eta', body: 'walrus tusks', status: 'public' });
    await ok.send();
    assert.deepEqual(await found('walrus'), ['eta', 'zeta']);

    const bad = su.createBatch();
    bad.collection('posts').create({ title: 'theta', body: 'narwhal pod', status: 'public' });
    bad.collection('posts').update('missing-record-id', { body: 'narwhal' });
    await assert.rejects(bad.send());
    assert.deepEqual(await found('narwhal'), []);
    const all = await su.collection('posts').getFullList({ filter: "title = 'theta'" });
    assert.equal(all.length, 0);
  });

  test('refused search text is a 400 in the usual error shape', async () => {
    for (const q of ['title:fox', '(fox', 'fox)', 'fox AND', 'NOT fox', '^fox', '"fox', 'fo*x', '*', 'a + b', '{title}: fox', 'fox OR OR dog']) {
      await rejects400(su.collection('posts').getList(1, 5, { search: q }), /search/i);
    }
    await rejects400(su.collection('posts').getList(1, 5, { search: 'x'.repeat(1100) }), /too long/);
    await rejects400(su.collection('users').getList(1, 5, { search: 'fox' }), /no searchable fields/);
  });

  test('changing searchable fields rebuilds the index', async () => {
    let c = await su.collections.getOne('posts');
    c.fields.find((f) => f.name === 'summary').searchable = true;
    c.fields.find((f) => f.name === 'title').searchable = false;
    await su.collections.update('posts', { fields: c.fields });
    assert.deepEqual(await found('summary'), ['alpha', 'beta', 'delta', 'gamma']);
    assert.deepEqual(await found('gamma'), ['gamma'], 'found through the summary now');
    assert.deepEqual(await found('fox'), ['alpha', 'delta']);

    c = await su.collections.getOne('posts');
    c.fields.find((f) => f.name === 'summary').name = 'abstract';
    c.fields = c.fields.filter((f) => f.name !== 'body');
    await su.collections.update('posts', { name: 'articles', fields: c.fields });
    const hits = await su.collection('articles').getList(1, 10, { search: 'delta' });
    assert.deepEqual(hits.items.map((r) => r.title), ['delta']);
    await su.collection('articles').create({ title: 'iota', abstract: 'okapi' });
    assert.equal((await su.collection('articles').getList(1, 10, { search: 'okapi' })).totalItems, 1);
    assert.equal((await su.collection('articles').getList(1, 10, { search: 'fox' })).totalItems, 0);
    await su.collections.update('articles', { name: 'posts' });
  });

  test('export and import keep the flag', async () => {
    const exported = (await su.collections.getFullList()).filter((c) => !c.system);
    await su.collections.delete('posts');
    await su.collections.import(exported, false);
    const back = await su.collections.getOne('posts');
    assert.equal(back.fields.find((f) => f.name === 'abstract').searchable, true);
    await su.collection('posts').create({ title: 'kappa', abstract: 'quokka' });
    assert.deepEqual(await found('quokka'), ['kappa']);
  });
});
