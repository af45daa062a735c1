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
    await su.collections.update('users', { otp: { enabled: true }, oauth2: { enabled: true } });
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

  // Security review: expanded records were deep-copied per parent, so a
  // few records related to each other made one `expand` request build and
  // send hundreds of megabytes (121 records: 263 MB, 4.7 GB RSS) and
  // stall the server. Related records are now shared, and an expansion
  // whose response would pass the limit is a 400 before anything is
  // written, while other requests are still answered.
  test('expand: shared related records, a bounded response', async () => {
    const N = 8;
    const col = await su.collections.create({
      name: 'web', listRule: '', viewRule: '', fields: [{ name: 'title', type: 'text' }],
    });
    await su.collections.update(col.id, {
      fields: [...col.fields, { name: 'rel', type: 'relation', collectionId: col.id, maxSelect: 99 }],
    });
    const ids = [];
    for (let i = 0; i < N; i++) ids.push((await su.collection('web').create({ title: `w${i}` })).id);
    for (const id of ids) await su.collection('web').update(id, { rel: ids.filter((x) => x !== id).reverse() });

    // Correct nesting: each level lists the related records in the order
    // of the field's ids, and a record shared by many parents is shown
    // the same under each of them.
    const list = await su.collection('web').getList(1, N, { expand: 'rel,rel.rel' });
    assert.equal(list.items.length, N);
    const shown = new Map();
    for (const r of list.items) {
      assert.deepEqual(r.expand.rel.map((x) => x.id), r.rel);
      for (const x of r.expand.rel) {
        assert.deepEqual(x.expand.rel.map((y) => y.id), x.rel);
        assert.equal(x.expand.rel[0].expand, undefined);
        const seen = shown.get(x.id);
        if (seen) assert.deepEqual(x, seen);
        else shown.set(x.id, x);
      }
    }
    assert.equal(shown.size, N);
    const one = await su.collection('web').getOne(ids[0], { expand: 'rel.rel,web_via_rel' });
    assert.deepEqual(one.expand.rel.map((x) => x.id), one.rel);
    assert.deepEqual(new Set(one.expand.web_via_rel.map((x) => x.id)), new Set(ids.slice(1)));

    // 8 * 7^5 records to spell out (tens of megabytes): refused with
    // PocketBase's error shape, two at once, while health checks answer.
    const deep = `${srv.url}/api/collections/web/records?perPage=${N}&expand=rel.rel.rel.rel.rel`;
    let done = false;
    let healthy = 0;
    const prober = (async () => {
      while (!done) {
        assert.equal((await call(`${srv.url}/api/health`)).status, 200);
        healthy++;
      }
    })();
    const answers = await Promise.all([call(deep), call(deep)]);
    done = true;
    await prober;
    for (const res of answers) {
      assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 300));
      assert.deepEqual(Object.keys(res.body).sort(), ['data', 'message', 'status']);
      assert.deepEqual(res.body.data, {});
      assert.equal(res.body.status, 400);
      assert.match(res.body.message, /too large/);
    }
    assert.ok(healthy >= 1);
    assert.equal((await call(`${srv.url}/api/health`)).status, 200);
    await su.collections.delete(col.id);
  });

  // Security review: auth request bodies read their fields leniently, so
  // {"identity": ["user@example.com"]} signed in. PocketBase binds JSON
  // into a struct of strings and answers any other type with its 400
  // "An error occurred while loading the submitted data.".
  test('auth bodies: a JSON field of the wrong type is a 400', async () => {
    const LOADING = { data: {}, message: 'An error occurred while loading the submitted data.', status: 400 };
    const users = `${srv.url}/api/collections/users`;
    const user = await su.collection('users').getFirstListItem(`email = "${USER.email}"`);
    const cases = [
      ['auth-with-password', { identity: [USER.email], password: USER.password }],
      ['auth-with-password', { identity: USER.email, password: [USER.password] }],
      ['auth-with-password', { identity: { email: USER.email }, password: USER.password }],
      ['auth-with-password', { identity: 7, password: USER.password }],
      ['auth-with-password', { identity: USER.email, password: USER.password, identityField: ['email'] }],
      ['request-otp', { email: [USER.email] }],
      ['auth-with-otp', { otpId: ['x'], password: 'y' }],
      ['request-password-reset', { email: [USER.email] }],
      ['request-verification', { email: [USER.email] }],
      ['confirm-verification', { token: ['x'] }],
      ['confirm-password-reset', { token: 'x', password: ['a'], passwordConfirm: 'a' }],
      ['auth-with-oauth2', { provider: ['google'], code: 'c', redirectURL: 'http://x' }],
    ];
    for (const [action, body] of cases) {
      const res = await call(`${users}/${action}`, jsonPost(body));
      assert.deepEqual(res.body, LOADING, `${action} ${JSON.stringify(body)}`);
    }
    // Impersonation takes an integer duration from JSON, text from a form.
    const auth = { authorization: su.authStore.token };
    for (const duration of ['3600', [3600], 1.5, true]) {
      const res = await call(`${users}/impersonate/${user.id}`, jsonPost({ duration }, auth));
      assert.deepEqual(res.body, LOADING, JSON.stringify(duration));
    }
    const imp = await call(`${users}/impersonate/${user.id}`, jsonPost({ duration: 3600 }, auth));
    assert.equal(imp.status, 200, JSON.stringify(imp.body));
    const fd = new FormData();
    fd.append('duration', '3600');
    const impForm = await call(`${users}/impersonate/${user.id}`, { method: 'POST', headers: auth, body: fd });
    assert.equal(impForm.status, 200, JSON.stringify(impForm.body));
    // Strings still sign in, and so does a form that repeats a key (its
    // first value binds, as Go's form binder does).
    const ok = await call(`${users}/auth-with-password`, jsonPost({ identity: USER.email, password: USER.password }));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const form = new URLSearchParams();
    form.append('identity', USER.email);
    form.append('identity', 'other@example.com');
    form.append('password', USER.password);
    const okForm = await call(`${users}/auth-with-password`, { method: 'POST', body: form });
    assert.equal(okForm.status, 200, JSON.stringify(okForm.body));
  });

  // Security review: a multipart body without its final boundary, or cut
  // off inside a part, created a record from what had arrived. It is
  // PocketBase's 400 and nothing is stored.
  test('multipart: a body cut short is a 400 and stores nothing', async () => {
    const B = 'XbasaltBoundary42';
    const part = (name, value, file) =>
      `--${B}\r\nContent-Disposition: form-data; name="${name}"` +
      (file ? `; filename="${file}"\r\nContent-Type: text/plain` : '') +
      `\r\n\r\n${value}\r\n`;
    const whole = part('title', 'cut-short') + part('doc', 'file body', 'a.txt') + `--${B}--\r\n`;
    const bodies = {
      'no final boundary': part('title', 'cut-short') + part('doc', 'file body', 'a.txt'),
      'final boundary without its dashes': part('title', 'cut-short') + `--${B}\r\n`,
      'cut inside a value': part('title', 'cut-short').slice(0, -6),
      'cut inside a file': whole.slice(0, whole.indexOf('file body') + 4),
      'cut inside the headers': `--${B}\r\nContent-Disposition: form-da`,
      'cut inside the final boundary': whole.slice(0, -5),
    };
    const before = (await su.collection('notes').getList(1, 1)).totalItems;
    for (const [what, body] of Object.entries(bodies)) {
      const bytes = Buffer.from(body, 'latin1');
      const req =
        `POST /api/collections/notes/records HTTP/1.1\r\nHost: x\r\nConnection: close\r\n` +
        `Content-Type: multipart/form-data; boundary=${B}\r\n` +
        `Content-Length: ${bytes.length}\r\n\r\n`;
      const res = await rawSocket(srv.url, Buffer.concat([Buffer.from(req, 'latin1'), bytes]));
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(res.text)?.[1]);
      assert.equal(status, 400, `${what}: ${res.text}`);
      const json = JSON.parse(res.text.slice(res.text.indexOf('\r\n\r\n') + 4));
      // The records API answers an unreadable body with PocketBase's
      // generic message (it fails while reading the request info).
      assert.deepEqual(json, { data: {}, message: MSG_400, status: 400 }, what);
    }
    assert.equal((await su.collection('notes').getList(1, 1)).totalItems, before);
    // The complete body still creates the record.
    const ok = await call(`${srv.url}/api/collections/notes/records`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${B}` },
      body: whole,
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.title, 'cut-short');
    await su.collection('notes').delete(ok.body.id);
    // So do url-encoded bodies, which have no final marker.
    for (const [body, title] of [['title=plain%20form&x=1', 'plain form'], ['title=last', 'last']]) {
      const form = await call(`${srv.url}/api/collections/notes/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      assert.equal(form.status, 200, JSON.stringify(form.body));
      assert.equal(form.body.title, title);
      await su.collection('notes').delete(form.body.id);
    }
  });
});
