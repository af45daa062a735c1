// Settings and the pages around them: change a setting, run a cron job,
// export and import collections (with the diff preview), confirm a
// password reset from the link of a captured mail; and, where the server
// has them, the logs, backups and SQL console pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, rawRequest } from '../blackbox/lib/server.mjs';
import { startSink } from '../blackbox/lib/smtp.mjs';
import { launch, newPage, shot, checkA11y, signIn, createSuperuser, adminClient } from './lib.mjs';

let browser, srv, pb;
before(async () => {
  browser = await launch();
  srv = await startServer();
  await createSuperuser(srv);
  pb = await adminClient(srv);
});
after(async () => {
  await browser?.close();
  await srv?.destroy();
});

// Whether the server has an API route (other branches add some).
async function hasApi(path, method = 'GET') {
  const r = await rawRequest(srv.url, { method, path, headers: { authorization: pb.authStore.token } });
  return r.status !== 404;
}

test('change a setting', async () => {
  const page = await newPage(browser);
  await signIn(page, srv.url);
  await page.getByRole('link', { name: 'Settings' }).click();
  const name = page.getByLabel('Application name');
  await name.fill('Renamed app');
  await page.getByLabel('Max requests per batch').fill('42');
  await checkA11y(page, 'settings');
  await shot(page, 'settings');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Settings saved.').waitFor();
  const s = await pb.settings.getAll();
  assert.equal(s.meta.appName, 'Renamed app');
  assert.equal(s.batch.maxRequests, 42);
  page.assertClean();
});

test('run a cron job', async () => {
  const page = await newPage(browser);
  await signIn(page, srv.url);
  await page.goto(`${srv.url}/_/#/settings/crons`);
  const jobs = await pb.crons.getFullList();
  assert.ok(jobs.length > 0);
  await page.getByText(jobs[0].id, { exact: true }).waitFor();
  await checkA11y(page, 'crons');
  await page.getByRole('button', { name: `Run ${jobs[0].id} now` }).click();
  await page.getByText(`Started "${jobs[0].id}".`).waitFor();
  page.assertClean();
});

test('export and import collections with a diff preview', async () => {
  const page = await newPage(browser);
  await signIn(page, srv.url);
  await page.goto(`${srv.url}/_/#/settings/export-collections`);
  const exported = JSON.parse(await page.getByLabel('Collections JSON').inputValue());
  assert.ok(exported.some((c) => c.name === 'users'));
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download JSON' }).click();
  assert.equal((await download).suggestedFilename(), 'pb_schema.json');

  const next = [...exported, { name: 'imported_things', type: 'base', fields: [{ name: 'label', type: 'text' }] }];
  const users = next.find((c) => c.name === 'users');
  users.fields = [...users.fields, { name: 'nickname', type: 'text' }];
  await page.goto(`${srv.url}/_/#/settings/import-collections`);
  await page.getByLabel('Collections JSON').fill(JSON.stringify(next));
  const diff = page.locator('table.diff');
  await diff.getByRole('cell', { name: 'imported_things' }).waitFor();
  assert.match(await diff.innerText(), /added\s+imported_things/);
  assert.match(await diff.innerText(), /changed\s+users\s+.*\+ field nickname/);
  await checkA11y(page, 'import');
  await page.getByRole('button', { name: /import$/ }).click();
  await page.getByText('Collections imported.').waitFor();
  const got = await pb.collections.getOne('imported_things');
  assert.ok(got.fields.some((f) => f.name === 'label'));
  assert.ok((await pb.collections.getOne('users')).fields.some((f) => f.name === 'nickname'));
  page.assertClean();
});

test('confirm a password reset from the link in the mail', async () => {
  const sink = await startSink();
  try {
    await pb.settings.update({
      meta: { appURL: srv.url, senderAddress: 'app@example.com' },
      smtp: { enabled: true, host: '127.0.0.1', port: sink.port, tls: false },
    });
    await pb.collection('users').create({ email: 'reset@example.com', password: 'old-password-1', passwordConfirm: 'old-password-1' });
    await pb.collection('users').requestPasswordReset('reset@example.com');
    const mail = await sink.wait((m) => m.rcpt.includes('reset@example.com'));
    const link = /href="([^"]*#\/auth\/confirm-password-reset\/[^"]+)"/.exec(mail.html)[1];
    assert.ok(link.startsWith(`${srv.url}/_/#/auth/confirm-password-reset/`), link);

    const page = await newPage(browser);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    await checkA11y(page, 'password reset');
    await page.getByLabel('New password', { exact: true }).fill('new-password-2');
    await page.getByLabel('Confirm new password').fill('new-password-2');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('Your password was changed.').waitFor();
    await shot(page, 'password-reset');
    const auth = await pb.collection('users').authWithPassword('reset@example.com', 'new-password-2');
    assert.equal(auth.record.email, 'reset@example.com');
    pb.authStore.clear();
    await pb.collection('_superusers').authWithPassword('admin@example.com', 'a-long-password-1');
    page.assertClean();
  } finally {
    await sink.close();
  }
});

test('view a log entry and its chart', async (t) => {
  if (!(await hasApi('/api/logs'))) return t.skip('this server has no logs API');
  await pb.health.check();
  const page = await newPage(browser);
  await signIn(page, srv.url);
  await page.getByRole('link', { name: 'Logs' }).click();
  await page.locator('tbody tr.clickable').first().click();
  await page.getByRole('dialog', { name: 'Log entry' }).waitFor();
  await checkA11y(page, 'logs');
  await shot(page, 'logs');
  page.assertClean();
});

test('create and download a backup', async (t) => {
  if (!(await hasApi('/api/backups'))) return t.skip('this server has no backups API');
  const page = await newPage(browser);
  await signIn(page, srv.url);
  await page.goto(`${srv.url}/_/#/settings/backups`);
  await page.getByLabel(/^Name/).fill('from_browser.zip');
  await page.getByRole('button', { name: 'Create backup' }).click();
  await page.getByText('from_browser.zip').waitFor();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download from_browser.zip' }).click();
  const file = await (await download).path();
  assert.ok(file);
  await checkA11y(page, 'backups');
  page.assertClean();
});

test('run a SQL query', async (t) => {
  if (!(await hasApi('/api/sql', 'POST'))) return t.skip('this server has no SQL API');
  const page = await newPage(browser);
  await signIn(page, srv.url);
  await page.goto(`${srv.url}/_/#/settings/sql`);
  await page.getByLabel('Query').fill("SELECT 40 + 2 AS answer, 'x' AS letter");
  await page.getByRole('button', { name: 'Run' }).click();
  await page.getByRole('cell', { name: '42' }).waitFor();
  await checkA11y(page, 'sql');
  page.assertClean();
});
