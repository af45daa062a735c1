// The shell: the installer link printed by `serve`, sign-in, logout,
// the command palette, the headers the dashboard is served with, and the
// dashboard behind a reverse proxy under a sub-path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, freePort, rawRequest } from '../blackbox/lib/server.mjs';
import { launch, newPage, shot, checkA11y, signIn, createSuperuser, EMAIL, PASSWORD } from './lib.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test('the installer link creates the first superuser, then sign-out and sign-in', async () => {
  const srv = await startServer();
  try {
    const m = /(http:\/\/\S+\/_\/#\/pbinstall\/\S+)/.exec(srv.output());
    assert.ok(m, `serve prints the installer link: ${srv.output()}`);
    const page = await newPage(browser);
    await page.goto(m[1]);
    await page.getByRole('heading', { name: 'Create the first superuser' }).waitFor();
    await checkA11y(page, 'installer');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password').fill(PASSWORD);
    await page.getByRole('button', { name: /Create superuser/ }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    assert.match(page.url(), /#\/collections/);

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Superuser sign-in' }).waitFor();
    await checkA11y(page, 'login');
    await shot(page, 'login');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('wrong-password-123');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();

    // The command palette goes to a page by keyboard.
    await page.keyboard.press('Control+k');
    await page.getByLabel('Type a command').fill('sql');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/settings\/sql/);
    page.allowHttpErrors(400); // the rejected sign-in, whenever the browser logs it
    page.assertClean();
  } finally {
    await srv.destroy();
  }
});

test('served with a strict CSP, cached assets, and a redirect from /_', async () => {
  const srv = await startServer();
  try {
    const redirect = await rawRequest(srv.url, { path: '/_' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '_/');
    const index = await rawRequest(srv.url, { path: '/_/' });
    assert.equal(index.status, 200);
    assert.match(index.headers['content-security-policy'], /script-src 'self'/);
    assert.doesNotMatch(index.headers['content-security-policy'], /unsafe-inline|unsafe-eval/);
    assert.equal(index.headers['cache-control'], 'no-cache');
    const js = /src="\.\/(assets\/[^"]+\.js)"/.exec(index.text)[1];
    const asset = await rawRequest(srv.url, { path: `/_/${js}`, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(asset.status, 200);
    assert.equal(asset.headers['content-encoding'], 'gzip');
    assert.match(asset.headers['cache-control'], /max-age=31536000, immutable/);
    assert.equal((await rawRequest(srv.url, { path: '/_/assets/missing.js' })).status, 404);
  } finally {
    await srv.destroy();
  }
});

test('works under a sub-path behind a reverse proxy', async () => {
  const srv = await startServer();
  const port = await freePort();
  // A minimal proxy: /basalt/... -> the server's /...
  const proxy = http.createServer((req, res) => {
    if (!req.url.startsWith('/basalt/')) {
      res.writeHead(404).end();
      return;
    }
    const up = http.request(
      { host: '127.0.0.1', port: srv.port, path: req.url.slice('/basalt'.length), method: req.method, headers: req.headers },
      (r) => (res.writeHead(r.statusCode, r.headers), r.pipe(res)),
    );
    req.pipe(up);
    up.on('error', () => res.destroy());
  });
  await new Promise((r) => proxy.listen(port, '127.0.0.1', r));
  try {
    await createSuperuser(srv);
    const page = await newPage(browser);
    const requests = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await signIn(page, `http://127.0.0.1:${port}/basalt`);
    await page.getByRole('link', { name: /users/ }).first().waitFor();
    assert.ok(requests.some((p) => p.startsWith('/basalt/api/collections')), requests.join(' '));
    assert.ok(requests.every((p) => p.startsWith('/basalt/')), requests.join(' '));
    page.assertClean();
  } finally {
    proxy.closeAllConnections?.();
    proxy.close();
    await srv.destroy();
  }
});
