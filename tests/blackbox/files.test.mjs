// File fields through the official SDK: uploads (FormData with Blobs),
// replace, append, prepend and remove, downloads with their headers and
// ranges, thumbs, protected files with and without a file token, batch
// with files, the storage layout with its .attrs sidecars, and bad input
// (oversize, too many files, wrong type, hostile names, truncated bodies,
// a client gone mid-upload) that must leave nothing behind.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startServer, client, rawRequest } from './lib/server.mjs';
import { rejectsWith, superuserClient } from './lib/assert.mjs';
import { png } from './lib/images.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const USER = { email: 'user@example.com', password: 'user-pass-1234' };

function pngSize(buf) {
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

describe('files', () => {
  let srv, su, asUser, guest, docs, users;
  const storage = () => path.join(srv.dir, 'storage');
  const tmpFiles = () => {
    const d = path.join(storage(), '.tmp');
    return fs.existsSync(d) ? fs.readdirSync(d) : [];
  };
  const recordDir = (rec) => path.join(storage(), rec.collectionId, rec.id);
  const listDir = (rec) => (fs.existsSync(recordDir(rec)) ? fs.readdirSync(recordDir(rec)).sort() : []);

  before(async () => {
    srv = await startServer();
    su = await superuserClient(srv, ADMIN);
    users = await su.collections.getOne('users');
    await su.collection('users').create({ ...USER, passwordConfirm: USER.password });
    asUser = client(srv.url);
    await asUser.collection('users').authWithPassword(USER.email, USER.password);
    guest = client(srv.url);
    const everyone = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
    docs = await su.collections.create({
      name: 'docs',
      ...everyone,
      fields: [
        { name: 'title', type: 'text' },
        { name: 'one', type: 'file', maxSelect: 1, maxSize: 2000 },
        { name: 'many', type: 'file', maxSelect: 3, maxSize: 2000 },
        { name: 'image', type: 'file', maxSelect: 1, maxSize: 1 << 20, mimeTypes: ['image/png', 'image/jpeg'], thumbs: ['20x10', '0x8', '8x0f', '20x10t'] },
      ],
    });
    await su.collections.create({
      name: 'secret',
      listRule: '', viewRule: '@request.auth.id != ""', createRule: '',
      fields: [{ name: 'doc', type: 'file', maxSelect: 1, protected: true }],
    });
  });
  after(() => srv?.destroy());

  test('upload through the SDK: sanitized names, layout, .attrs', async () => {
    const rec = await guest.collection('docs').create({
      title: 'a',
      one: new File(['hello world'], 'My Report.final.txt', { type: 'text/plain' }),
      many: [new File(['x1'], 'a.txt'), new File(['x2'], 'bb.txt')],
    });
    assert.match(rec.one, /^my_report_[a-z0-9]{10}\.final\.txt$/);
    assert.equal(rec.many.length, 2);
    assert.match(rec.many[0], /^a[a-z0-9]{10}_[a-z0-9]{10}\.txt$/);
    const files = listDir(rec);
    assert.ok(files.includes(rec.one) && files.includes(rec.one + '.attrs'), files.join());
    const attrs = JSON.parse(fs.readFileSync(path.join(recordDir(rec), rec.one + '.attrs'), 'utf8'));
    assert.equal(attrs['user.content_type'], 'text/plain; charset=utf-8');
    assert.deepEqual(attrs['user.metadata'], { 'original-filename': 'My Report.final.txt' });
    assert.equal(attrs.md5, 'XrY7u+Ae7tCTyyK7j1rNww==');
    assert.deepEqual(tmpFiles(), []);
  });

  test('replace, append, prepend, remove; old files removed after the save', async () => {
    let rec = await guest.collection('docs').create({ many: [new File(['1'], 'one.txt')] });
    const first = rec.many[0];
    rec = await guest.collection('docs').update(rec.id, { 'many+': new File(['2'], 'two.txt') });
    assert.equal(rec.many.length, 2);
    assert.equal(rec.many[0], first);
    rec = await guest.collection('docs').update(rec.id, { '+many': new File(['0'], 'zero.txt') });
    assert.match(rec.many[0], /^zero_/);
    assert.equal(rec.many.length, 3);
    rec = await guest.collection('docs').update(rec.id, { 'many-': [first] });
    assert.equal(rec.many.length, 2);
    assert.ok(!listDir(rec).includes(first));
    const before = rec.many.slice();
    rec = await guest.collection('docs').update(rec.id, { many: [new File(['n'], 'new.txt')] });
    assert.equal(rec.many.length, 1);
    for (const f of before) assert.ok(!listDir(rec).includes(f));
    rec = await guest.collection('docs').update(rec.id, { one: new File(['s'], 'single.txt') });
    const single = rec.one;
    rec = await guest.collection('docs').update(rec.id, { one: new File(['t'], 'other.txt') });
    assert.notEqual(rec.one, single);
    assert.ok(!listDir(rec).includes(single));
    rec = await guest.collection('docs').update(rec.id, { one: null, many: [] });
    assert.equal(rec.one, '');
    assert.deepEqual(listDir(rec), []);
  });

  test('download: content, type, disposition, cache, etag, range', async () => {
    const rec = await guest.collection('docs').create({
      one: new File(['0123456789'], 'digits.txt'),
      image: new File([png(40, 20)], 'pic.png'),
    });
    const url = guest.files.getURL(rec, rec.one);
    let res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '0123456789');
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename=${rec.one}`);
    assert.equal(res.headers.get('cache-control'), 'max-age=2592000, stale-while-revalidate=86400');
    assert.match(res.headers.get('content-security-policy'), /sandbox/);
    const etag = res.headers.get('etag');
    assert.ok(etag && res.headers.get('last-modified'));
    res = await fetch(url, { headers: { 'If-None-Match': etag } });
    assert.equal(res.status, 304);
    res = await fetch(url, { headers: { Range: 'bytes=2-4' } });
    assert.equal(res.status, 206);
    assert.equal(await res.text(), '234');
    assert.equal(res.headers.get('content-range'), 'bytes 2-4/10');
    res = await fetch(guest.files.getURL(rec, rec.image));
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('content-disposition'), `inline; filename=${rec.image}`);
    res = await fetch(guest.files.getURL(rec, rec.image, { download: true }));
    assert.match(res.headers.get('content-disposition'), /^attachment/);
    for (const bad of ['missing.txt', '..%2F..%2Fdata.db', '.attrs', rec.one + '.attrs']) {
      res = await fetch(`${srv.url}/api/files/docs/${rec.id}/${bad}`);
      assert.equal(res.status, 404, bad);
    }
    res = await fetch(`${srv.url}/api/files/docs/nope/${rec.one}`);
    assert.equal(res.status, 404);
    res = await fetch(`${srv.url}/api/files/nope/${rec.id}/${rec.one}`);
    assert.equal(res.status, 404);
  });

  test('thumbs: listed sizes only, cached, png out; concurrent first hits', async () => {
    const rec = await guest.collection('docs').create({ image: new File([png(40, 20)], 'pic.png') });
    const get = async (thumb) => Buffer.from(await (await fetch(guest.files.getURL(rec, rec.image, { thumb }))).arrayBuffer());
    const all = await Promise.all([get('20x10'), get('20x10'), get('20x10'), get('20x10')]);
    for (const b of all) assert.deepEqual(pngSize(b), [20, 10]);
    assert.deepEqual(pngSize(await get('0x8')), [16, 8]);
    assert.deepEqual(pngSize(await get('8x0f')), [8, 4]);
    assert.deepEqual(pngSize(await get('20x10t')), [20, 10]);
    assert.deepEqual(pngSize(await get('100x100')), [100, 100]);
    assert.deepEqual(pngSize(await get('30x30')), [40, 20]); // not listed: original
    assert.deepEqual(pngSize(await get('bogus')), [40, 20]);
    const thumbs = fs.readdirSync(path.join(recordDir(rec), `thumbs_${rec.image}`)).sort();
    assert.ok(thumbs.includes(`20x10_${rec.image}`) && thumbs.includes(`20x10_${rec.image}.attrs`), thumbs.join());
    assert.ok(!thumbs.some((f) => f.includes('.part')));
    // Replacing the image drops its thumbs.
    await guest.collection('docs').update(rec.id, { image: new File([png(4, 4)], 'b.png') });
    assert.ok(!fs.existsSync(path.join(recordDir(rec), `thumbs_${rec.image}`)));
  });

  test('protected files: 404 without a token, served with one', async () => {
    const rec = await su.collection('secret').create({ doc: new File(['classified'], 'plan.txt') });
    const url = `${srv.url}/api/files/secret/${rec.id}/${rec.doc}`;
    assert.equal((await fetch(url)).status, 404);
    assert.equal((await fetch(url + '?token=garbage')).status, 404);
    const token = await asUser.files.getToken();
    assert.ok(token.split('.').length === 3);
    const res = await fetch(asUser.files.getURL(rec, rec.doc, { token }));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'classified');
    await rejectsWith(guest.files.getToken(), 401);
  });

  test('a view collection serves the files of the records it selects', async () => {
    const src = await su.collection('secret').create({ doc: new File(['from the view'], 'viewed.txt') });
    const many = await guest.collection('docs').create({ many: [new File(['m1'], 'm1.txt'), new File(['m2'], 'm2.txt')] });
    await su.collections.create({ name: 'secret_view', type: 'view', viewRule: '@request.auth.id != ""', viewQuery: 'select s.id, s.doc from secret s' });
    await su.collections.create({ name: 'docs_view', type: 'view', viewRule: '', viewQuery: 'select id, many as files from docs' });
    await su.collections.create({ name: 'view_of_view', type: 'view', viewRule: '', viewQuery: 'select v.id, v.files as attached from docs_view v' });
    const url = `${srv.url}/api/files/secret_view/${src.id}/${src.doc}`;
    assert.equal((await fetch(url)).status, 404);
    const token = await asUser.files.getToken();
    const res = await fetch(`${url}?token=${token}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'from the view');
    const m = await fetch(`${srv.url}/api/files/docs_view/${many.id}/${many.many[1]}`);
    assert.equal(await m.text(), 'm2');
    const vv = await fetch(`${srv.url}/api/files/view_of_view/${many.id}/${many.many[0]}`);
    assert.equal(await vv.text(), 'm1');
    // A name the view's record does not hold is not served.
    assert.equal((await fetch(`${srv.url}/api/files/docs_view/${many.id}/${src.doc}`)).status, 404);
    for (const v of ['view_of_view', 'docs_view', 'secret_view']) await su.collections.delete(v);
  });

  test('batch with files', async () => {
    await su.settings.update({ batch: { enabled: true, maxRequests: 10 } });
    const batch = su.createBatch();
    batch.collection('docs').create({ title: 'b1', one: new File(['b'], 'b.txt') });
    batch.collection('docs').create({ title: 'b2', many: [new File(['c'], 'c.txt'), new File(['d'], 'd.txt')] });
    const res = await batch.send();
    assert.match(res[0].body.one, /^b[a-z0-9]{10}_[a-z0-9]{10}\.txt$/);
    assert.equal(res[1].body.many.length, 2);
    // A failing batch stores nothing.
    const bad = su.createBatch();
    bad.collection('docs').create({ title: 'ok', one: new File(['k'], 'kept.txt') });
    bad.collection('docs').create({ one: new File(['x'.repeat(3000)], 'big.txt') });
    await assert.rejects(bad.send());
    const kept = await su.collection('docs').getList(1, 1, { filter: 'title = "ok"' });
    assert.equal(kept.totalItems, 0);
    assert.deepEqual(tmpFiles(), []);
  });

  test('bad input: 400 with the validation shape, nothing written', async () => {
    const countFiles = () => {
      const d = path.join(storage(), docs.id);
      return fs.existsSync(d) ? fs.readdirSync(d, { recursive: true }).length : 0;
    };
    const before = countFiles();
    await rejectsWith(guest.collection('docs').create({ one: new File(['x'.repeat(2001)], 'big.txt') }), 400, (b) => {
      assert.equal(b.data.one.code, 'validation_file_size_limit');
    });
    await rejectsWith(
      guest.collection('docs').create({ many: [1, 2, 3, 4].map((i) => new File([String(i)], `${i}.txt`)) }),
      400,
      (b) => assert.equal(b.data.many.code, 'validation_too_many_files'),
    );
    await rejectsWith(guest.collection('docs').create({ image: new File(['not an image'], 'x.png') }), 400, (b) => {
      assert.equal(b.data.image.code, 'validation_invalid_mime_type');
    });
    await rejectsWith(guest.collection('docs').create({ title: new File(['t'], 't.txt') }), 400, (b) => {
      assert.equal(b.data.title.code, 'validation_invalid_value');
    });
    await rejectsWith(guest.collection('docs').create({ one: 'made_up.txt' }), 400, (b) => {
      assert.equal(b.data.one.code, 'validation_invalid_file');
    });
    // Hostile names are reduced to a safe stored name.
    const rec = await guest.collection('docs').create({ one: new File(['plain text content'], '../../../etc/pass\u0001wd') });
    assert.match(rec.one, /^pass_wd_[a-z0-9]{10}\.txt$/);
    assert.ok(fs.existsSync(path.join(recordDir(rec), rec.one)));
    // A truncated body.
    const boundary = 'XyZ';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="one"; filename="t.txt"\r\nContent-Type: text/plain\r\n\r\nabc`;
    const res = await rawRequest(srv.url, {
      method: 'POST',
      path: '/api/collections/docs/records',
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
      body: head,
    });
    assert.equal(res.status, 400);
    assert.equal(countFiles(), before + 3); // only the hostile-name record: its folder, file, .attrs
    assert.deepEqual(tmpFiles(), []);
  });

  test('a client gone mid-upload leaves no temp file', async () => {
    const boundary = 'Qq';
    const sock = net.connect(Number(new URL(srv.url).port), '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    sock.write(
      `POST /api/collections/docs/records HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 100000\r\n\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="one"; filename="t.txt"\r\n\r\n` +
        'x'.repeat(1000),
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(tmpFiles().length, 1);
    sock.destroy();
    for (let i = 0; i < 50 && tmpFiles().length; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(tmpFiles(), []);
  });

  test('deleting a record, then its collection, removes the files', async () => {
    const rec = await guest.collection('docs').create({ one: new File(['z'], 'z.txt') });
    assert.ok(fs.existsSync(recordDir(rec)));
    await guest.collection('docs').delete(rec.id);
    assert.ok(!fs.existsSync(recordDir(rec)));
    assert.ok(fs.existsSync(path.join(storage(), docs.id)));
    await su.collections.delete('docs');
    assert.ok(!fs.existsSync(path.join(storage(), docs.id)));
  });

  test('the users avatar field works as in the seed', async () => {
    const me = asUser.authStore.record;
    const rec = await asUser.collection('users').update(me.id, { avatar: new File([png(8, 8)], 'me.png') });
    assert.match(rec.avatar, /^me[a-z0-9]{10}_[a-z0-9]{10}\.png$/); // short bases are padded
    assert.equal(rec.collectionId, users.id);
    const res = await fetch(asUser.files.getURL(rec, rec.avatar, { thumb: '100x100' }));
    assert.equal(res.status, 200);
  });
});
