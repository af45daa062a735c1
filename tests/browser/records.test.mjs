// The records view: create (with a file dropped on the form and a
// relation picked in the picker), edit, filter, sort, bulk delete, and a
// change by another client showing up without a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../blackbox/lib/server.mjs';
import { launch, newPage, shot, checkA11y, signIn, createSuperuser, adminClient } from './lib.mjs';

// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

let browser, srv, pb, users;
before(async () => {
  browser = await launch();
  srv = await startServer();
  await createSuperuser(srv);
  pb = await adminClient(srv);
  users = await pb.collections.getOne('users');
  await pb.collection('users').create({ email: 'ada@example.com', name: 'Ada', password: 'password-123', passwordConfirm: 'password-123' });
  await pb.collection('users').create({ email: 'bob@example.com', name: 'Bob', password: 'password-123', passwordConfirm: 'password-123' });
  await pb.collections.create({
    name: 'notes',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'title', type: 'text', required: true, presentable: true },
      { name: 'score', type: 'number' },
      { name: 'done', type: 'bool' },
      { name: 'tags', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
      { name: 'meta', type: 'json' },
      { name: 'due', type: 'date' },
      { name: 'place', type: 'geoPoint' },
      { name: 'cover', type: 'file', maxSelect: 1, maxSize: 1 << 20 },
      { name: 'owner', type: 'relation', collectionId: users.id, maxSelect: 1 },
    ],
  });
  for (const [title, score] of [['alpha', 3], ['beta', 1], ['gamma', 2]]) await pb.collection('notes').create({ title, score });
});
after(async () => {
  await browser?.close();
  await srv?.destroy();
});

const rowTitles = (page) => page.locator('tbody td[data-field="title"]').allTextContents();

test('create, edit, filter, sort and delete records', async () => {
  const page = await newPage(browser);
  await signIn(page, srv.url);
  await page.getByRole('link', { name: /notes/ }).click();
  await page.getByRole('heading', { name: /notes/ }).waitFor();
  await page.locator('tbody td[data-field="title"]').first().waitFor();

  // Create: every kind of input, a dropped file, a picked relation.
  await page.getByRole('button', { name: 'New record' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('title *').fill('delta');
  await dialog.getByLabel('score').fill('7');
  await dialog.getByLabel('done').check();
  await dialog.getByLabel('b', { exact: true }).check();
  await dialog.getByLabel('meta').fill('{"k": [1, 2]}');
  await dialog.getByLabel('due (UTC)').fill('2030-05-06T07:08');
  await dialog.getByLabel('Longitude').fill('2.35');
  await dialog.getByLabel('Latitude').fill('48.85');
  const drop = await page.evaluateHandle((b64) => {
    const dt = new DataTransfer();
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], 'pixel.png', { type: 'image/png' }));
    return dt;
  }, PNG.toString('base64'));
  await dialog.locator('.dropzone').dispatchEvent('drop', { dataTransfer: drop });
  await dialog.getByText('pixel.png').waitFor();
  await dialog.getByRole('button', { name: 'Pick users' }).click();
  const picker = page.getByRole('dialog', { name: 'Pick users' });
  await picker.getByLabel('Search').fill('bob');
  await picker.getByRole('radio', { name: /bob@example.com|Bob/ }).check();
  await picker.getByRole('button', { name: 'Select' }).click();
  await dialog.getByText(/bob@example\.com|Bob/).first().waitFor();
  await dialog.getByRole('button', { name: 'Create' }).click();
  await dialog.waitFor({ state: 'detached' });

  const delta = await pb.collection('notes').getFirstListItem('title="delta"');
  assert.equal(delta.score, 7);
  assert.equal(delta.done, true);
  assert.deepEqual(delta.tags, ['b']);
  assert.deepEqual(delta.meta, { k: [1, 2] });
  assert.equal(delta.due, '2030-05-06 07:08:00.000Z');
  assert.deepEqual(delta.place, { lon: 2.35, lat: 48.85 });
  assert.match(delta.cover, /^pixel_\w+\.png$/);
  const bob = await pb.collection('users').getFirstListItem('email="bob@example.com"');
  assert.equal(delta.owner, bob.id);

  // Column picking: show the file column; the new row has a thumbnail.
  await page.getByText('Columns', { exact: true }).click();
  await page.getByRole('checkbox', { name: 'cover', exact: true }).check();
  await page.getByRole('checkbox', { name: 'owner', exact: true }).check();
  await page.getByText('Columns', { exact: true }).click();
  await page.locator('tbody td[data-field="owner"]', { hasText: /bob@example\.com|Bob/ }).waitFor();
  await page.locator('tbody td[data-field="cover"] img').first().waitFor();
  await checkA11y(page, 'records');

  // Edit.
  await page.locator('tbody td[data-field="title"]', { hasText: 'delta' }).click();
  await dialog.getByLabel('title *').fill('delta2');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await pb.collection('notes').getOne(delta.id)).title, 'delta2');

  // Sort by score, both ways.
  await page.getByRole('button', { name: /^score/ }).click();
  await page.waitForFunction(() => document.querySelector('th[aria-sort="ascending"]'));
  await page.waitForFunction(() => [...document.querySelectorAll('tbody td[data-field="title"]')].map((t) => t.textContent).join() === 'beta,gamma,alpha,delta2');
  await page.getByRole('button', { name: /^score/ }).click();
  await page.waitForFunction(() => [...document.querySelectorAll('tbody td[data-field="title"]')].map((t) => t.textContent).join() === 'delta2,alpha,gamma,beta');

  // Filter, with autocomplete of the field name.
  const filter = page.getByLabel('Filter records');
  await filter.pressSequentially('sco');
  await page.getByRole('option', { name: 'score', exact: true, selected: true }).waitFor();
  await filter.press('Tab');
  await filter.pressSequentially(' >= 2 && title != "alpha"');
  assert.equal(await filter.inputValue(), 'score >= 2 && title != "alpha"');
  await filter.press('Enter');
  await page.waitForFunction(() => [...document.querySelectorAll('tbody td[data-field="title"]')].map((t) => t.textContent).sort().join() === 'delta2,gamma');
  await shot(page, 'records');

  // Bulk delete the filtered rows.
  await page.getByLabel('Select all on this page').check();
  await page.getByRole('button', { name: 'Delete selected (2)' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await page.getByText('No records found.').waitFor();
  const left = await pb.collection('notes').getFullList({ sort: 'title' });
  assert.deepEqual(left.map((r) => r.title), ['alpha', 'beta']);
  page.assertClean();
});

test('the table follows changes made elsewhere (realtime)', async () => {
  const page = await newPage(browser);
  await signIn(page, srv.url);
  await page.getByRole('link', { name: /notes/ }).click();
  await page.locator('tbody td[data-field="title"]').first().waitFor();
  await page.waitForTimeout(300); // let the subscription register
  await pb.collection('notes').create({ title: 'from-elsewhere', score: 100 });
  await page.locator('tbody td[data-field="title"]', { hasText: 'from-elsewhere' }).waitFor();
  const titles = await rowTitles(page);
  assert.ok(titles.includes('from-elsewhere'));
  page.assertClean();
});
