// Helpers for the dashboard's browser tests: one headless Chromium (the
// Debian package, driven by playwright-core) per test file, pages that
// fail the test on any console error or page error, screenshots under
// build/browser/, an axe-core accessibility check, and sign-in.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { REPO_ROOT, client, runCli } from '../blackbox/lib/server.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const SHOTS = path.join(REPO_ROOT, 'build/browser');
export const EMAIL = 'admin@example.com';
export const PASSWORD = 'a-long-password-1';

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

// A page that records console errors and uncaught exceptions; call
// page.assertClean() at the end of a test.
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.setDefaultTimeout(15000);
  page.errors = errors;
  // Drops the browser's own log lines of failed requests with status
  // (a test that provokes a server error expects exactly those).
  page.allowHttpErrors = (status) => {
    const re = new RegExp(`status of ${status}`);
    const keep = errors.filter((e) => !re.test(e));
    errors.length = 0;
    errors.push(...keep);
  };
  page.assertClean = () => {
    if (errors.length) throw new Error(`console errors:\n${errors.join('\n')}`);
  };
  return page;
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

// Runs axe-core on the page and throws on critical violations. The
// script is evaluated through the debugging protocol, which the page's
// CSP does not govern.
export async function checkA11y(page, name) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const critical = result.violations.filter((v) => v.impact === 'critical');
  if (critical.length)
    throw new Error(`${name}: critical accessibility violations:\n` +
      critical.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`).join('\n'));
  return result.violations;
}

export async function createSuperuser(srv) {
  const r = await runCli(['superuser', 'upsert', EMAIL, PASSWORD, `--dir=${srv.dir}`]);
  if (r.code !== 0) throw new Error(r.stderr);
}

// A superuser SDK client for setting up data behind the browser's back.
export async function adminClient(srv) {
  const pb = client(srv.url);
  await pb.collection('_superusers').authWithPassword(EMAIL, PASSWORD);
  return pb;
}

// Signs in through the login form and waits for the collections page.
export async function signIn(page, base) {
  await page.goto(`${base}/_/#/login`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}
