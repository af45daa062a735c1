// /api/settings through the SDK: auth rules, secrets hidden, validation,
// persistence across restarts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ClientResponseError } from 'pocketbase';
import { startServer, client, rawRequest, TOKENS, FIXTURE_SKIP } from './lib/server.mjs';

const MSG_401 = 'The request requires valid record authorization token.';
const MSG_403 = 'The authorized record is not allowed to perform this action.';

/** Every key name anywhere in a JSON value. */
function allKeys(v, out = new Set()) {
  if (Array.isArray(v)) v.forEach((x) => allKeys(x, out));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      allKeys(x, out);
    }
  return out;
}

async function rejectsWith(promise, status, check) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ClientResponseError, String(err));
    assert.equal(err.status, status, JSON.stringify(err.response));
    check?.(err.response);
    return true;
  });
}

describe('settings on the PocketBase fixture', { skip: FIXTURE_SKIP }, () => {
  let srv;
  before(async () => {
    srv = await startServer({ fixture: true });
  });
  after(() => srv?.destroy());

  test('getAll without auth → 401', async () => {
    await rejectsWith(client(srv.url).settings.getAll(), 401, (body) =>
      assert.deepEqual(body, { data: {}, message: MSG_401, status: 401 }),
    );
  });

  test('update without auth → 401, an invalid token too', async () => {
    await rejectsWith(client(srv.url).settings.update({ meta: { appName: 'x' } }), 401);
    await rejectsWith(client(srv.url, 'invalid.token.value').settings.getAll(), 401, (body) =>
      assert.equal(body.message, MSG_401),
    );
  });

  test('a regular user → 403', async () => {
    const pb = client(srv.url, TOKENS.user);
    await rejectsWith(pb.settings.getAll(), 403, (body) =>
      assert.deepEqual(body, { data: {}, message: MSG_403, status: 403 }),
    );
    await rejectsWith(pb.settings.update({ meta: { appName: 'x' } }), 403);
  });

  test('superuser getAll: every section, no secrets', async () => {
    const s = await client(srv.url, TOKENS.superuser).settings.getAll();
    for (const k of ['meta', 'logs', 'smtp', 's3', 'backups', 'batch', 'rateLimits', 'trustedProxy', 'superuserIPs'])
      assert.ok(k in s, `missing section ${k}`);
    assert.equal(s.meta.appName, 'acme_test');
    assert.equal(typeof s.meta.appURL, 'string');
    assert.equal(typeof s.smtp.enabled, 'boolean');
    assert.equal(typeof s.batch.enabled, 'boolean');
    assert.ok(Array.isArray(s.rateLimits.rules));
    assert.equal(typeof s.backups.s3, 'object');
    const keys = allKeys(s);
    assert.ok(!keys.has('password'), 'a password field is exposed');
    assert.ok(!keys.has('secret'), 'a secret field is exposed');
  });

  test('raw GET answers JSON with the right content type', async () => {
    const res = await rawRequest(srv.url, { path: '/api/settings', headers: { Authorization: TOKENS.superuser } });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^application\/json\b/);
    assert.doesNotMatch(res.text, /"password"|"secret"/);
  });

  test('update persists, keeps the other fields, and survives a restart', async () => {
    const pb = client(srv.url, TOKENS.superuser);
    const before = await pb.settings.getAll();
    const updated = await pb.settings.update({ meta: { appName: 'Basalt Blackbox', senderName: 'BB Support' } });
    assert.equal(updated.meta.appName, 'Basalt Blackbox');
    assert.equal(updated.meta.senderName, 'BB Support');
    assert.equal(updated.meta.appURL, before.meta.appURL, 'untouched meta fields are kept');
    assert.deepEqual(updated.logs, before.logs, 'untouched sections are kept');
    assert.deepEqual(updated.rateLimits, before.rateLimits);

    const again = await pb.settings.getAll();
    assert.deepEqual(again, updated, 'getAll returns what update returned');

    await srv.restart();
    const after = await client(srv.url, TOKENS.superuser).settings.getAll();
    assert.equal(after.meta.appName, 'Basalt Blackbox');
    assert.equal(after.meta.senderName, 'BB Support');
    assert.deepEqual(after, updated, 'the same settings after a restart');
  });

  test('secrets can be set but are never sent back', async () => {
    const pb = client(srv.url, TOKENS.superuser);
    const pw = `pw-${Math.random().toString(36).slice(2)}`;
    const sk = `sk-${Math.random().toString(36).slice(2)}`;
    const updated = await pb.settings.update({ smtp: { password: pw }, s3: { secret: sk } });
    const text = JSON.stringify(updated) + JSON.stringify(await pb.settings.getAll());
    assert.ok(!text.includes(pw), 'the smtp password came back');
    assert.ok(!text.includes(sk), 'the s3 secret came back');
    assert.ok(!allKeys(updated).has('password'));
    assert.ok(!allKeys(updated).has('secret'));
  });

  test('invalid data (empty meta.appName) → 400 validation_required, nothing changed', async () => {
    const pb = client(srv.url, TOKENS.superuser);
    const before = await pb.settings.getAll();
    await rejectsWith(pb.settings.update({ meta: { appName: '', senderName: 'Should Not Stick' } }), 400, (body) => {
      assert.equal(body.status, 400);
      assert.equal(body.message, 'An error occurred while saving the new settings.');
      assert.equal(body.data?.meta?.appName?.code, 'validation_required', JSON.stringify(body));
      assert.equal(typeof body.data.meta.appName.message, 'string');
    });
    const after = await pb.settings.getAll();
    assert.deepEqual(after, before, 'a rejected update changes nothing');
  });

  test('a body that is not JSON → 400, nothing changed', async () => {
    const pb = client(srv.url, TOKENS.superuser);
    const before = await pb.settings.getAll();
    const res = await rawRequest(srv.url, {
      method: 'PATCH',
      path: '/api/settings',
      headers: { Authorization: TOKENS.superuser, 'Content-Type': 'application/json' },
      body: '{"meta":',
    });
    assert.equal(res.status, 400);
    const body = JSON.parse(res.text);
    assert.equal(body.status, 400);
    assert.equal(body.message, 'An error occurred while loading the submitted data.');
    assert.deepEqual(await pb.settings.getAll(), before);
  });
});
