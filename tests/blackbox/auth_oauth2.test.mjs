// OAuth2 login through the official SDK against a tiny OAuth2 / OpenID
// Connect provider started here on 127.0.0.1: auth-methods, the PKCE code
// exchange, user creation and linking, the provider's profile in meta,
// and an id_token-only provider verified with its JWKS.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { ClientResponseError } from 'pocketbase';
import { startServer, client, freePort, rawRequest } from './lib/server.mjs';
import { sqlite3, SQLITE3_SKIP } from './lib/db.mjs';

const CLIENT_ID = 'basalt-client';
const CLIENT_SECRET = 'basalt-secret';
const REDIRECT = 'http://app.test/oauth2-done';
// A 1x1 PNG: the provider's avatar picture.
const AVATAR = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/**
 * The provider: /authorize redirects with a code (remembering the PKCE
 * challenge), /token checks client, code, verifier and redirect URI,
 * /userinfo answers for the access token, /jwks serves the RSA key that
 * signs id_tokens.
 */
async function startProvider() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  const codes = new Map(); // code -> {challenge, redirect, user}
  const tokens = new Map(); // access token -> user
  const calls = [];
  let port;
  const user = {
    sub: 'ext-123',
    name: 'Ada Lovelace',
    preferred_username: 'ada',
    email: 'ada@example.com',
    email_verified: true,
    picture: '', // set once the port is known
  };
  const idToken = (claims) => {
    const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const head = enc({ alg: 'RS256', kid: 'k1', typ: 'JWT' });
    const body = enc(claims);
    const sig = crypto.sign('sha256', Buffer.from(`${head}.${body}`), privateKey).toString('base64url');
    return `${head}.${body}.${sig}`;
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls.push({ path: url.pathname, headers: req.headers, body });
      const json = (status, v) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      if (url.pathname === '/authorize') {
        const code = crypto.randomBytes(8).toString('hex');
        codes.set(code, {
          challenge: url.searchParams.get('code_challenge'),
          redirect: url.searchParams.get('redirect_uri'),
          clientId: url.searchParams.get('client_id'),
        });
        const to = new URL(url.searchParams.get('redirect_uri'));
        to.searchParams.set('code', code);
        to.searchParams.set('state', url.searchParams.get('state'));
        res.writeHead(302, { location: to.toString() });
        res.end();
        return;
      }
      if (url.pathname === '/token' && req.method === 'POST') {
        const form = new URLSearchParams(body);
        let id = form.get('client_id');
        let secret = form.get('client_secret');
        const basic = /^Basic (.+)$/.exec(req.headers.authorization || '');
        if (basic) {
          const [u, p] = Buffer.from(basic[1], 'base64').toString().split(':');
          id = decodeURIComponent(u);
          secret = decodeURIComponent(p);
        }
        if (id !== CLIENT_ID || secret !== CLIENT_SECRET) return json(401, { error: 'invalid_client' });
        const c = codes.get(form.get('code'));
        codes.delete(form.get('code'));
        if (!c || form.get('grant_type') !== 'authorization_code') return json(400, { error: 'invalid_grant' });
        if (c.redirect !== form.get('redirect_uri')) return json(400, { error: 'invalid_grant', reason: 'redirect' });
        const verifier = form.get('code_verifier') || '';
        const expect = crypto.createHash('sha256').update(verifier).digest('base64url');
        if (c.challenge && expect !== c.challenge) return json(400, { error: 'invalid_grant', reason: 'pkce' });
        const access = crypto.randomBytes(12).toString('hex');
        tokens.set(access, user);
        const now = Math.floor(Date.now() / 1000);
        return json(200, {
          access_token: access,
          token_type: 'Bearer',
          expires_in: 3600,
          refresh_token: 'refresh-' + access,
          id_token: idToken({ ...user, iss: `http://127.0.0.1:${port}`, aud: CLIENT_ID, iat: now, exp: now + 600 }),
        });
      }
      if (url.pathname === '/userinfo') {
        const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
        const u = m && tokens.get(m[1]);
        return u ? json(200, u) : json(401, { error: 'invalid_token' });
      }
      if (url.pathname === '/jwks') return json(200, { keys: [jwk] });
      if (url.pathname === '/ada.png') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(AVATAR);
        return;
      }
      json(404, {});
    });
  });
  port = await freePort();
  user.picture = `http://127.0.0.1:${port}/ada.png`;
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    user,
    calls,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Plays the browser: follows the provider's authorize URL, returns the code. */
async function authorize(authURL) {
  const res = await fetch(authURL + encodeURIComponent(REDIRECT), { redirect: 'manual' });
  assert.equal(res.status, 302);
  const to = new URL(res.headers.get('location'));
  return { code: to.searchParams.get('code'), state: to.searchParams.get('state') };
}

describe('OAuth2 against a local provider', { skip: SQLITE3_SKIP }, () => {
  let srv, idp;

  before(async () => {
    idp = await startProvider();
    srv = await startServer();
    await srv.stop();
    const providers = [
      {
        name: 'oidc',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        authURL: `${idp.base}/authorize`,
        tokenURL: `${idp.base}/token`,
        userInfoURL: `${idp.base}/userinfo`,
        displayName: 'Local IdP',
        pkce: true,
      },
      {
        name: 'oidc2',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        authURL: `${idp.base}/authorize`,
        tokenURL: `${idp.base}/token`,
        userInfoURL: '',
        displayName: 'Local IdP (id_token)',
        pkce: true,
        extra: { jwksURL: `${idp.base}/jwks`, issuers: [idp.base] },
      },
    ];
    const oauth2 = { enabled: true, providers, mappedFields: { name: 'name', avatarURL: 'avatar' } };
    sqlite3(
      path.join(srv.dir, 'data.db'),
      `UPDATE _collections SET options = json_set(options, '$.oauth2', json('${JSON.stringify(oauth2)}')) WHERE name = 'users';`,
      { readonly: false },
    );
    await srv.restart();
  });
  after(async () => {
    await srv?.destroy();
    await idp?.close();
  });

  test('auth-methods lists the providers with PKCE data', async () => {
    const m = await client(srv.url).collection('users').listAuthMethods();
    assert.equal(m.oauth2.enabled, true);
    assert.deepEqual(
      m.oauth2.providers.map((p) => p.name),
      ['oidc', 'oidc2'],
    );
    const p = m.oauth2.providers[0];
    assert.equal(p.displayName, 'Local IdP');
    assert.match(p.logo, /^<svg/);
    assert.equal(p.codeChallengeMethod, 'S256');
    assert.equal(p.codeChallenge, crypto.createHash('sha256').update(p.codeVerifier).digest('base64url'));
    const u = new URL(p.authURL);
    assert.equal(u.origin + u.pathname, `${idp.base}/authorize`);
    assert.equal(u.searchParams.get('client_id'), CLIENT_ID);
    assert.equal(u.searchParams.get('response_type'), 'code');
    assert.equal(u.searchParams.get('state'), p.state);
    assert.equal(u.searchParams.get('scope'), 'openid email profile');
    assert.ok(p.authURL.endsWith('&redirect_uri='));
    // The legacy fields, without logos.
    const raw = JSON.parse((await rawRequest(srv.url, { path: '/api/collections/users/auth-methods' })).text);
    assert.equal(raw.authProviders.length, 2);
    assert.equal(raw.authProviders[0].logo, '');
    assert.equal(raw.emailPassword, true);
  });

  test('first login creates the user, the next one finds it', async () => {
    const pb = client(srv.url);
    const methods = await pb.collection('users').listAuthMethods();
    const p = methods.oauth2.providers.find((x) => x.name === 'oidc');
    const { code, state } = await authorize(p.authURL);
    assert.equal(state, p.state);
    const res = await pb.collection('users').authWithOAuth2Code('oidc', code, p.codeVerifier, REDIRECT, {
      emailVisibility: true,
    });
    assert.equal(res.meta.isNew, true);
    assert.equal(res.meta.id, 'ext-123');
    assert.equal(res.meta.email, 'ada@example.com');
    assert.equal(res.meta.name, 'Ada Lovelace');
    assert.equal(res.meta.username, 'ada');
    assert.equal(res.meta.accessToken.length, 24);
    assert.equal(res.meta.rawUser.sub, 'ext-123');
    assert.ok(res.meta.expiry);
    assert.equal(res.record.email, 'ada@example.com');
    assert.equal(res.record.verified, true);
    assert.equal(res.record.name, 'Ada Lovelace');
    assert.equal(pb.authStore.record.id, res.record.id);
    // The provider's picture, downloaded into the mapped file field.
    assert.match(res.record.avatar, /^ada_[a-z0-9]{10}\.png$/);
    const file = await fetch(pb.files.getURL(res.record, res.record.avatar));
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), AVATAR);
    // Keys of the response in PocketBase's order.
    assert.deepEqual(Object.keys(res), ['meta', 'record', 'token']);
    // The token request carried the client credentials and the verifier.
    const tokenCall = idp.calls.filter((c) => c.path === '/token').at(-1);
    assert.match(tokenCall.body, /code_verifier=/);

    const again = client(srv.url);
    const p2 = (await again.collection('users').listAuthMethods()).oauth2.providers[0];
    const second = await authorize(p2.authURL);
    const res2 = await again.collection('users').authWithOAuth2Code('oidc', second.code, p2.codeVerifier, REDIRECT);
    assert.equal(res2.meta.isNew, false);
    assert.equal(res2.record.id, res.record.id);
  });

  test('an id_token-only provider is checked against its JWKS', async () => {
    const pb = client(srv.url);
    const p = (await pb.collection('users').listAuthMethods()).oauth2.providers.find((x) => x.name === 'oidc2');
    const { code } = await authorize(p.authURL);
    const res = await pb.collection('users').authWithOAuth2Code('oidc2', code, p.codeVerifier, REDIRECT);
    // The same email: linked to the user made by the first provider.
    assert.equal(res.meta.isNew, false);
    assert.equal(res.record.email, 'ada@example.com');
    assert.equal(res.meta.rawUser.iss, idp.base);
  });

  test('bad codes, verifiers and providers are refused', async () => {
    const pb = client(srv.url);
    const p = (await pb.collection('users').listAuthMethods()).oauth2.providers[0];
    const check = async (promise, status, message) =>
      assert.rejects(promise, (err) => {
        assert.ok(err instanceof ClientResponseError);
        assert.equal(err.status, status, JSON.stringify(err.response));
        if (message) assert.equal(err.response.message, message);
        return true;
      });
    await check(pb.collection('users').authWithOAuth2Code('oidc', 'nope', p.codeVerifier, REDIRECT), 400, 'Failed to fetch OAuth2 token.');
    const { code } = await authorize(p.authURL);
    await check(pb.collection('users').authWithOAuth2Code('oidc', code, 'wrong-verifier', REDIRECT), 400, 'Failed to fetch OAuth2 token.');
    await check(pb.collection('users').authWithOAuth2Code('github', 'x', 'y', REDIRECT), 400);
    const res = await rawRequest(srv.url, {
      method: 'POST',
      path: '/api/collections/users/auth-with-oauth2',
      headers: { 'content-type': 'application/json' },
      body: '{"provider":"missing"}',
    });
    assert.equal(res.status, 400);
    const body = JSON.parse(res.text);
    assert.equal(body.data.provider.code, 'validation_invalid_provider');
    assert.equal(body.data.code.code, 'validation_required');
  });

  test('authWithOAuth2 all in one: the redirect page hands the code to the realtime client', async () => {
    const { EventSource } = await import('eventsource');
    globalThis.EventSource ??= EventSource;
    const pb = client(srv.url);
    let page;
    const auth = await pb.collection('users').authWithOAuth2({
      provider: 'oidc',
      // Plays the browser: the provider redirects to /api/oauth2-redirect.
      urlCallback: async (url) => {
        const res = await fetch(url);
        page = { status: res.status, text: await res.text() };
      },
    });
    assert.equal(auth.record.email, idp.user.email);
    assert.ok(pb.authStore.isValid);
    assert.equal(page.status, 200);
    assert.match(page.text, /Auth completed/);
    pb.realtime.unsubscribe();
  });

  test('an avatar that cannot be downloaded does not block the sign-up', async () => {
    const saved = { ...idp.user };
    Object.assign(idp.user, { sub: 'ext-456', email: 'bob@example.com', preferred_username: 'bob', picture: `${idp.base}/missing.png` });
    try {
      const pb = client(srv.url);
      const p = (await pb.collection('users').listAuthMethods()).oauth2.providers.find((x) => x.name === 'oidc');
      const { code } = await authorize(p.authURL);
      const res = await pb.collection('users').authWithOAuth2Code('oidc', code, p.codeVerifier, REDIRECT);
      assert.equal(res.meta.isNew, true);
      assert.equal(res.record.email, 'bob@example.com');
      assert.equal(res.record.avatar, '');
    } finally {
      Object.assign(idp.user, saved);
    }
  });

  test('the redirect page answers without a realtime client', async () => {
    const res = await rawRequest(srv.url, { path: '/api/oauth2-redirect?state=abc&code=123' });
    assert.equal(res.status, 200);
    assert.match(res.text, /Failed to authenticate/);
  });
});
