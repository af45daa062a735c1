// Record authentication through the official SDK on a fresh data dir:
// password login, authStore, refresh, impersonation, the mail flows
// (password reset, verification, email change, OTP, login alerts, the
// settings' test email) followed through real mails caught by an SMTP
// sink started here, MFA, and rate limiting.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ClientResponseError } from 'pocketbase';
import { startServer, client, runCli, rawRequest } from './lib/server.mjs';
import { startSink } from './lib/smtp.mjs';
import { sqlite3, SQLITE3_SKIP } from './lib/db.mjs';

const ADMIN = { email: 'admin@example.com', password: 'admin-pass-123' };

function tokenFrom(mail, action) {
  const m = new RegExp(`/auth/${action}/([A-Za-z0-9_\\-.]+)`).exec(mail.html);
  assert.ok(m, `no ${action} link in ${mail.html}`);
  return m[1];
}

function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

async function rejectsWith(promise, status, check) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ClientResponseError, String(err));
    assert.equal(err.status, status, JSON.stringify(err.response));
    check?.(err.response);
    return true;
  });
}

/** Sets collection options through SQL while the server is stopped. */
async function setUsersOptions(srv, patch) {
  await srv.stop();
  const db = path.join(srv.dir, 'data.db');
  for (const [p, v] of Object.entries(patch))
    sqlite3(db, `UPDATE _collections SET options = json_set(options, '$.${p}', json('${JSON.stringify(v)}')) WHERE name = 'users';`, {
      readonly: false,
    });
  await srv.restart();
}

describe('record auth on a fresh data dir', { skip: SQLITE3_SKIP }, () => {
  let srv, sink, su;

  before(async () => {
    sink = await startSink();
    srv = await startServer();
    const r = await runCli(['superuser', 'upsert', ADMIN.email, ADMIN.password, '--dir', srv.dir]);
    assert.equal(r.code, 0, r.stderr);
    await setUsersOptions(srv, { 'otp.enabled': true });
    su = client(srv.url);
    await su.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    await su.settings.update({
      meta: { appName: 'BasaltTest', appURL: 'http://app.test', senderName: 'Tester', senderAddress: 'noreply@app.test' },
      smtp: { enabled: true, host: '127.0.0.1', port: sink.port, tls: false },
    });
  });
  after(async () => {
    await srv?.destroy();
    await sink?.close();
  });

  async function signup(email, password = 'pass-12345') {
    const pb = client(srv.url);
    const rec = await pb.collection('users').create({ email, password, passwordConfirm: password, name: 'N' });
    assert.match(rec.id, /^[a-z0-9]{15}$/);
    return rec;
  }

  test('superuser login: response shape, token claims, authStore', async () => {
    const pb = client(srv.url);
    const res = await pb.collection('_superusers').authWithPassword(ADMIN.email, ADMIN.password);
    assert.deepEqual(Object.keys(res), ['record', 'token']);
    assert.equal(res.record.email, ADMIN.email);
    assert.equal(res.record.verified, true);
    assert.ok(!('password' in res.record) && !('tokenKey' in res.record));
    const c = claimsOf(res.token);
    assert.deepEqual(Object.keys(c), ['collectionId', 'exp', 'id', 'refreshable', 'type']);
    assert.equal(c.type, 'auth');
    assert.equal(c.refreshable, true);
    assert.equal(c.id, res.record.id);
    assert.ok(Math.abs(c.exp - Date.now() / 1000 - 86400) < 60, 'superuser token lasts 86400 s');
    assert.equal(pb.authStore.isValid, true);
    assert.equal(pb.authStore.isSuperuser, true);
    assert.equal(pb.authStore.record.id, res.record.id);
  });

  test('wrong password and unknown identity get the same 400', async () => {
    await signup('same400@example.com');
    const pb = client(srv.url);
    let a, b;
    await rejectsWith(pb.collection('users').authWithPassword('same400@example.com', 'wrong-pass'), 400, (r) => (a = r));
    await rejectsWith(pb.collection('users').authWithPassword('nobody@example.com', 'wrong-pass'), 400, (r) => (b = r));
    assert.deepEqual(a, { data: {}, message: 'Failed to authenticate.', status: 400 });
    assert.deepEqual(b, a);
  });

  test('validation errors of auth-with-password', async () => {
    const pb = client(srv.url);
    await rejectsWith(pb.collection('users').authWithPassword('', ''), 400, (r) => {
      assert.equal(r.data.identity.code, 'validation_required');
      assert.equal(r.data.password.code, 'validation_required');
    });
    const res = await rawRequest(srv.url, {
      method: 'POST',
      path: '/api/collections/users/auth-with-password',
      headers: { 'content-type': 'application/json' },
      body: '{"identity',
    });
    assert.equal(res.status, 400);
  });

  test('password login, authStore, refresh and a bad token', async () => {
    const rec = await signup('login@example.com');
    const pb = client(srv.url);
    const res = await pb.collection('users').authWithPassword('login@example.com', 'pass-12345');
    assert.equal(res.record.id, rec.id);
    assert.equal(res.record.email, 'login@example.com');
    assert.equal(pb.authStore.record.email, 'login@example.com');
    assert.equal(pb.authStore.isSuperuser, false);
    const refreshed = await pb.collection('users').authRefresh();
    assert.equal(refreshed.record.id, rec.id);
    assert.equal(claimsOf(refreshed.token).refreshable, true);
    assert.equal(pb.authStore.token, refreshed.token);
    // A refresh needs a token of the same collection.
    await rejectsWith(client(srv.url, pb.authStore.token).collection('_superusers').authRefresh(), 403);
    await rejectsWith(client(srv.url).collection('users').authRefresh(), 401);
    const tampered = pb.authStore.token.slice(0, -3) + 'abc';
    await rejectsWith(client(srv.url, tampered).collection('users').authRefresh(), 401);
  });

  test('impersonate: superusers only, non-refreshable, custom duration', async () => {
    const rec = await signup('imp@example.com');
    const imp = await su.collection('users').impersonate(rec.id, 100);
    const c = claimsOf(imp.authStore.token);
    assert.equal(c.refreshable, false);
    assert.ok(Math.abs(c.exp - Date.now() / 1000 - 100) < 30);
    assert.equal(imp.authStore.record.id, rec.id);
    // A non-refreshable token comes back unchanged from auth-refresh.
    const again = await imp.collection('users').authRefresh();
    assert.equal(again.token, imp.authStore.token);
    const user = client(srv.url);
    await user.collection('users').authWithPassword('imp@example.com', 'pass-12345');
    await rejectsWith(user.collection('users').impersonate(rec.id, 10), 403);
    await rejectsWith(client(srv.url).collection('users').impersonate(rec.id, 10), 401);
    await rejectsWith(su.collection('users').impersonate(rec.id, -1), 400, (r) =>
      assert.equal(r.data.duration.code, 'validation_min_greater_equal_than_required'),
    );
  });

  test('password reset through the mailed token', async () => {
    const rec = await signup('reset@example.com', 'old-pass-123');
    const pb = client(srv.url);
    await pb.collection('users').authWithPassword('reset@example.com', 'old-pass-123');
    const oldToken = pb.authStore.token;
    const from = sink.mails.length;
    assert.equal(await pb.collection('users').requestPasswordReset('reset@example.com'), true);
    const mail = await sink.wait((m) => m.rcpt.includes('reset@example.com'), from);
    assert.equal(mail.subject, 'Reset your BasaltTest password');
    assert.match(mail.headers.from, /Tester.*noreply@app\.test/);
    const token = tokenFrom(mail, 'confirm-password-reset');
    assert.match(mail.html, /http:\/\/app\.test\/_\/#\/auth\/confirm-password-reset\//);
    const c = claimsOf(token);
    assert.equal(c.type, 'passwordReset');
    assert.equal(c.email, 'reset@example.com');
    assert.equal(c.id, rec.id);
    await client(srv.url).collection('users').confirmPasswordReset(token, 'new-pass-456', 'new-pass-456');
    await client(srv.url).collection('users').authWithPassword('reset@example.com', 'new-pass-456');
    await rejectsWith(client(srv.url).collection('users').authWithPassword('reset@example.com', 'old-pass-123'), 400);
    // The password change renewed the tokenKey: old tokens are dead.
    await rejectsWith(client(srv.url, oldToken).collection('users').authRefresh(), 401);
    // The reset token is single-use.
    await rejectsWith(
      client(srv.url).collection('users').confirmPasswordReset(token, 'other-pass-789', 'other-pass-789'),
      400,
      (r) => assert.equal(r.data.token.code, 'validation_invalid_token'),
    );
  });

  test('request endpoints do not reveal unknown emails', async () => {
    const pb = client(srv.url);
    assert.equal(await pb.collection('users').requestPasswordReset('ghost@example.com'), true);
    assert.equal(await pb.collection('users').requestVerification('ghost@example.com'), true);
    const otp = await pb.collection('users').requestOTP('ghost@example.com');
    assert.match(otp.otpId, /^[a-z0-9]{15}$/);
    await rejectsWith(pb.collection('users').requestPasswordReset('not-an-email'), 400, (r) =>
      assert.equal(r.data.email.code, 'validation_is_email'),
    );
  });

  test('verification through the mailed token', async () => {
    const rec = await signup('verify@example.com');
    assert.equal(rec.verified, false);
    const from = sink.mails.length;
    await client(srv.url).collection('users').requestVerification('verify@example.com');
    const mail = await sink.wait((m) => m.rcpt.includes('verify@example.com'), from);
    assert.equal(mail.subject, 'Verify your BasaltTest email');
    assert.match(mail.text, /Verify/);
    const token = tokenFrom(mail, 'confirm-verification');
    assert.equal(claimsOf(token).type, 'verification');
    await client(srv.url).collection('users').confirmVerification(token);
    const pb = client(srv.url);
    const res = await pb.collection('users').authWithPassword('verify@example.com', 'pass-12345');
    assert.equal(res.record.verified, true);
    // A token without an email claim, and one signed with another key.
    await rejectsWith(client(srv.url).collection('users').confirmVerification('bad.token.here'), 400, (r) =>
      assert.equal(r.data.token.code, 'validation_invalid_token_claims'),
    );
    const forged = token.split('.').slice(0, 2).join('.') + '.' + Buffer.alloc(32).toString('base64url');
    await rejectsWith(client(srv.url).collection('users').confirmVerification(forged), 400, (r) =>
      assert.equal(r.data.token.code, 'validation_invalid_token'),
    );
  });

  test('email change through the mailed token', async () => {
    await signup('change-old@example.com');
    const pb = client(srv.url);
    await pb.collection('users').authWithPassword('change-old@example.com', 'pass-12345');
    await rejectsWith(pb.collection('users').requestEmailChange('change-old@example.com'), 400);
    const from = sink.mails.length;
    await pb.collection('users').requestEmailChange('change-new@example.com');
    const mail = await sink.wait((m) => m.rcpt.includes('change-new@example.com'), from);
    assert.equal(mail.subject, 'Confirm your BasaltTest new email address');
    const token = tokenFrom(mail, 'confirm-email-change');
    const c = claimsOf(token);
    assert.equal(c.newEmail, 'change-new@example.com');
    assert.equal(c.email, 'change-old@example.com');
    await rejectsWith(client(srv.url).collection('users').confirmEmailChange(token, 'wrong-pass'), 400, (r) =>
      assert.equal(r.data.password.code, 'validation_invalid_password'),
    );
    await client(srv.url).collection('users').confirmEmailChange(token, 'pass-12345');
    const res = await client(srv.url).collection('users').authWithPassword('change-new@example.com', 'pass-12345');
    assert.equal(res.record.email, 'change-new@example.com');
    assert.equal(res.record.verified, true);
    await rejectsWith(client(srv.url).collection('users').authWithPassword('change-old@example.com', 'pass-12345'), 400);
    // Guests cannot ask for an email change.
    await rejectsWith(client(srv.url).collection('users').requestEmailChange('x@example.com'), 401);
  });

  test('OTP login with the mailed code; codes are single-use', async () => {
    const rec = await signup('otp@example.com');
    const pb = client(srv.url);
    const from = sink.mails.length;
    const { otpId } = await pb.collection('users').requestOTP('otp@example.com');
    const mail = await sink.wait((m) => m.rcpt.includes('otp@example.com'), from);
    assert.equal(mail.subject, 'OTP for BasaltTest');
    const code = /one-time password is: (\d+)/.exec(mail.text)?.[1];
    assert.ok(code && code.length === 8, mail.text);
    await rejectsWith(pb.collection('users').authWithOTP(otpId, '00000000'), 400, (r) =>
      assert.equal(r.message, 'Invalid or expired OTP'),
    );
    const res = await pb.collection('users').authWithOTP(otpId, code);
    assert.equal(res.record.id, rec.id);
    // The code went to the record's own address: it is verified now.
    assert.equal(res.record.verified, true);
    assert.equal(pb.authStore.record.id, rec.id);
    await rejectsWith(client(srv.url).collection('users').authWithOTP(otpId, code), 400);
  });

  test('a login from a new device mails an alert', async () => {
    await signup('alert@example.com');
    // First login: no alert (no earlier origin).
    await client(srv.url).collection('users').authWithPassword('alert@example.com', 'pass-12345');
    const from = sink.mails.length;
    const res = await rawRequest(srv.url, {
      method: 'POST',
      path: '/api/collections/users/auth-with-password',
      headers: { 'content-type': 'application/json', 'user-agent': 'AnotherDevice/1.0' },
      body: JSON.stringify({ identity: 'alert@example.com', password: 'pass-12345' }),
    });
    assert.equal(res.status, 200, res.text);
    const mail = await sink.wait((m) => m.rcpt.includes('alert@example.com'), from);
    assert.equal(mail.subject, 'Login from a new location');
    assert.match(mail.html, /AnotherDevice\/1\.0/);
  });

  test('settings test email: validation and delivery', async () => {
    await rejectsWith(su.settings.testEmail('users', '', ''), 400, (r) => {
      assert.equal(r.data.email.code, 'validation_required');
      assert.equal(r.data.template.code, 'validation_required');
    });
    await rejectsWith(su.settings.testEmail('nope', 'x@example.com', 'verification'), 400, (r) =>
      assert.equal(r.data.collection.code, 'validation_invalid_auth_collection'),
    );
    const from = sink.mails.length;
    assert.equal(await su.settings.testEmail('users', 'probe@example.com', 'password-reset'), true);
    const mail = await sink.wait((m) => m.rcpt.includes('probe@example.com'), from);
    assert.equal(mail.subject, 'Reset your BasaltTest password');
    const user = client(srv.url);
    await user.collection('users').authWithPassword('login@example.com', 'pass-12345');
    await rejectsWith(user.settings.testEmail('users', 'probe@example.com', 'otp'), 403);
  });

  test('auth-methods of the users collection', async () => {
    const m = await client(srv.url).collection('users').listAuthMethods();
    assert.equal(m.password.enabled, true);
    assert.deepEqual(m.password.identityFields, ['email']);
    assert.equal(m.otp.enabled, true);
    assert.equal(m.mfa.enabled, false);
    assert.equal(m.oauth2.enabled, false);
    assert.deepEqual(m.oauth2.providers, []);
  });

  test('rate limits from the settings answer 429', async () => {
    await su.settings.update({
      rateLimits: { enabled: true, rules: [{ label: 'users:authWithPassword', maxRequests: 2, duration: 60 }] },
    });
    try {
      const pb = client(srv.url);
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        try {
          await pb.collection('users').authWithPassword('ghost@example.com', 'whatever-1');
        } catch (e) {
          statuses.push(e.status);
        }
      }
      assert.deepEqual(statuses, [400, 400, 429]);
      // Superusers are not limited.
      await rejectsWith(su.collection('users').authWithPassword('ghost@example.com', 'whatever-1'), 400);
    } finally {
      await su.settings.update({ rateLimits: { enabled: false } });
    }
  });

  test('MFA: a password login asks for a second factor', async () => {
    const rec = await signup('mfa@example.com');
    await setUsersOptions(srv, { 'mfa.enabled': true });
    const pb = client(srv.url);
    let mfaId;
    await rejectsWith(pb.collection('users').authWithPassword('mfa@example.com', 'pass-12345'), 401, (r) => {
      mfaId = r.mfaId;
    });
    assert.match(mfaId, /^[a-z0-9]{15}$/);
    // The same method twice does not pass.
    await rejectsWith(pb.collection('users').authWithPassword('mfa@example.com', 'pass-12345', { mfaId }), 400, (r) =>
      assert.equal(r.message, 'A different authentication method is required.'),
    );
    const from = sink.mails.length;
    const { otpId } = await pb.collection('users').requestOTP('mfa@example.com');
    const mail = await sink.wait((m) => m.rcpt.includes('mfa@example.com'), from);
    const code = /one-time password is: (\d+)/.exec(mail.text)[1];
    const res = await pb.collection('users').authWithOTP(otpId, code, { mfaId });
    assert.equal(res.record.id, rec.id);
    assert.ok(pb.authStore.isValid);
    await rejectsWith(client(srv.url).collection('users').authWithOTP(otpId, code, { mfaId }), 400);
  });
});
