// Record files on S3-compatible storage: a local s3rver (npm) on
// 127.0.0.1 with a temp directory, basalt's settings.s3 pointed at it
// path-style and then virtual-hosted, and uploads, downloads (ranges,
// conditional requests), thumbs, replaces and deletes through the
// official SDK, plus POST /api/settings/test/s3.
//
// s3rver 3.7 checks the access key id of SigV4 requests but not their
// signature (its V4 verification is unimplemented), so these tests prove
// the protocol and the addressing, not the signature bytes.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { startServer, freePort } from './lib/server.mjs';
import { rejectsWith, superuserClient } from './lib/assert.mjs';
import { png } from './lib/images.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const BUCKET = 'basalt-files';

describe('files on S3 (s3rver)', () => {
  let s3, s3dir, s3port, srv, su;

  // The object keys s3rver holds (its file store keeps one folder per key).
  const s3Keys = () => {
    const root = path.join(s3dir, BUCKET);
    const out = [];
    const walk = (d, rel) => {
      if (!fs.existsSync(d)) return;
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(path.join(d, e.name), r);
        else if (e.name.endsWith('._S3rver_object')) out.push(r.slice(0, -'._S3rver_object'.length));
      }
    };
    walk(root, '');
    return out.sort();
  };
  const useS3 = (extra = {}) =>
    su.settings.update({
      s3: {
        enabled: true,
        bucket: BUCKET,
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${s3port}`,
        accessKey: 'S3RVER',
        secret: 'S3RVER',
        forcePathStyle: true,
        ...extra,
      },
    });

  before(async () => {
    s3dir = fs.mkdtempSync(path.join(os.tmpdir(), 'basalt-s3rver-'));
    s3port = await freePort();
    s3 = new S3rver({
      address: '127.0.0.1',
      port: s3port,
      silent: true,
      directory: s3dir,
      // <bucket>.s3.localhost is the virtual-hosted name of a bucket.
      serviceEndpoint: 'localhost',
      configureBuckets: [{ name: BUCKET }],
    });
    await s3.run();
    srv = await startServer();
    su = await superuserClient(srv, ADMIN);
    const everyone = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
    await su.collections.create({
      name: 'docs',
      ...everyone,
      fields: [
        { name: 'title', type: 'text' },
        { name: 'file', type: 'file', maxSelect: 1, maxSize: 8 << 20 },
        { name: 'image', type: 'file', maxSelect: 1, mimeTypes: ['image/png'], thumbs: ['20x10'] },
      ],
    });
  });
  after(async () => {
    await srv?.destroy();
    await s3?.close();
    if (s3dir) fs.rmSync(s3dir, { recursive: true, force: true });
  });

  test('settings test: refused while disabled, a real upload and delete once enabled', async () => {
    await rejectsWith(su.settings.testS3('storage'), 400, (b) => assert.match(b.message, /not enabled/));
    await useS3();
    assert.equal(await su.settings.testS3('storage'), true);
    // The test file went up and was removed again.
    assert.deepEqual(s3Keys(), []);
    await useS3({ accessKey: 'NOBODY' });
    await rejectsWith(su.settings.testS3('storage'), 400, (b) =>
      assert.match(b.message, /^Failed to upload a test file\. Raw error: \n.*InvalidAccessKeyId/),
    );
    await useS3();
  });

  test('upload, download with ranges and conditional requests, path-style', async () => {
    const big = Buffer.alloc(3 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 255;
    const rec = await su.collection('docs').create({ title: 'a', file: new File([big], 'Big Data.bin') });
    const key = `${rec.collectionId}/${rec.id}/${rec.file}`;
    assert.ok(s3Keys().includes(key), s3Keys().join());
    // Nothing under the local storage folder, no spool file left.
    assert.ok(!fs.existsSync(path.join(srv.dir, 'storage', rec.collectionId)));
    assert.deepEqual(fs.readdirSync(path.join(srv.dir, 'storage', '.tmp')), []);

    const url = su.files.getURL(rec, rec.file);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.equal(res.headers.get('content-length'), String(big.length));
    assert.match(res.headers.get('content-disposition'), /^attachment; filename=big_data_/);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(big));
    const etag = res.headers.get('etag');
    assert.ok(etag);

    const part = await fetch(url, { headers: { range: 'bytes=1000-1999' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${big.length}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(big.subarray(1000, 2000)));
    const tail = await fetch(url, { headers: { range: 'bytes=-10' } });
    assert.ok(Buffer.from(await tail.arrayBuffer()).equals(big.subarray(big.length - 10)));
    assert.equal((await fetch(url, { headers: { range: `bytes=${big.length}-` } })).status, 416);
    assert.equal((await fetch(url, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await fetch(`${srv.url}/api/files/docs/${rec.id}/missing.txt`)).status, 404);
  });

  test('thumbs are made once and kept on S3', async () => {
    const rec = await su.collection('docs').create({ image: new File([png(40, 40)], 'pic.png') });
    const url = su.files.getURL(rec, rec.image, { thumb: '20x10' });
    const [a, b] = await Promise.all([fetch(url), fetch(url)]);
    for (const r of [a, b]) {
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'image/png');
      const buf = Buffer.from(await r.arrayBuffer());
      assert.deepEqual([buf.readUInt32BE(16), buf.readUInt32BE(20)], [20, 10]);
    }
    const thumbKey = `${rec.collectionId}/${rec.id}/thumbs_${rec.image}/20x10_${rec.image}`;
    assert.ok(s3Keys().includes(thumbKey), s3Keys().join());
    // A size the field does not list gets the original.
    const orig = await fetch(su.files.getURL(rec, rec.image, { thumb: '30x30' }));
    const buf = Buffer.from(await orig.arrayBuffer());
    assert.deepEqual([buf.readUInt32BE(16), buf.readUInt32BE(20)], [40, 40]);
  });

  test('replacing and deleting remove the objects and their thumbs', async () => {
    let rec = await su.collection('docs').create({ image: new File([png(30, 30)], 'one.png') });
    const first = rec.image;
    await fetch(su.files.getURL(rec, first, { thumb: '20x10' }));
    const prefix = `${rec.collectionId}/${rec.id}/`;
    assert.equal(s3Keys().filter((k) => k.startsWith(prefix)).length, 2);
    rec = await su.collection('docs').update(rec.id, { image: new File([png(30, 30)], 'two.png') });
    assert.deepEqual(
      s3Keys().filter((k) => k.startsWith(prefix)),
      [prefix + rec.image],
    );
    await su.collection('docs').delete(rec.id);
    assert.deepEqual(
      s3Keys().filter((k) => k.startsWith(prefix)),
      [],
    );
  });

  test('virtual-hosted addressing', async () => {
    await useS3({ endpoint: `http://s3.localhost:${s3port}`, forcePathStyle: false });
    try {
      assert.equal(await su.settings.testS3('storage'), true);
      const rec = await su.collection('docs').create({ file: new File(['hosted'], 'v.txt') });
      assert.ok(s3Keys().includes(`${rec.collectionId}/${rec.id}/${rec.file}`));
      const res = await fetch(su.files.getURL(rec, rec.file));
      assert.equal(await res.text(), 'hosted');
    } finally {
      await useS3();
    }
  });
});
