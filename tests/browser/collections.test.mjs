// The collection editor: a base collection with every field type of a
// base collection, options, an API rule written with autocomplete, a
// unique multi-column index; the server's errors shown in place (on save,
// and for a saved collection's rule while it is typed); view collections.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../blackbox/lib/server.mjs';
import { launch, newPage, shot, checkA11y, signIn, createSuperuser, adminClient } from './lib.mjs';

let browser, srv;
before(async () => {
  browser = await launch();
  srv = await startServer();
  await createSuperuser(srv);
});
after(async () => {
  await browser?.close();
  await srv?.destroy();
});

const TYPES = ['text', 'editor', 'number', 'bool', 'email', 'url', 'date', 'autodate', 'select', 'file', 'relation', 'json', 'geoPoint'];

test('create a collection with every field type, a rule and an index', async () => {
  const page = await newPage(browser);
  await signIn(page, srv.url);
  await page.getByRole('button', { name: 'New collection' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('posts');
  for (const type of TYPES) {
    await dialog.getByLabel('New field type').selectOption(type);
    await dialog.getByRole('button', { name: 'Add field' }).click();
    await dialog.getByLabel('Field name').last().fill(`f_${type}`);
  }
  // Options of the select field: its choices and how many may be picked.
  const selectRow = dialog.locator('.fieldrow[data-name="f_select"]');
  await selectRow.getByRole('button', { name: 'Options' }).click();
  await selectRow.getByLabel('Choices (comma-separated)').fill('news, blog');
  await selectRow.getByLabel('Max selected').fill('2');
  await selectRow.getByLabel('Required').check();

  // A unique index over two columns.
  await dialog.getByRole('checkbox', { name: 'f_text', exact: true }).check();
  await dialog.getByRole('checkbox', { name: 'f_number', exact: true }).check();
  await dialog.getByRole('checkbox', { name: 'Unique', exact: true }).check();
  await dialog.getByRole('button', { name: 'Add index' }).click();
  await shot(page, 'collection-editor');
  await checkA11y(page, 'collection editor');

  // A rule naming a field that does not exist: the server's error shows
  // beside the rule and nothing is saved.
  await dialog.getByRole('tab', { name: 'API rules' }).click();
  // New collections start locked to superusers.
  await dialog.locator('[data-rule="listRule"]').getByRole('button', { name: 'Unlock' }).click();
  await dialog.locator('[data-rule="viewRule"]').getByRole('button', { name: 'Unlock' }).click();
  const list = dialog.getByLabel('List/Search rule');
  await list.fill('missing_field = 1');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await dialog.locator('.rule.has-error').first().waitFor();
  page.allowHttpErrors(400);

  // The rule again, with autocomplete (Tab takes the highlighted word).
  await list.fill('');
  await list.pressSequentially('@request.au');
  await dialog.getByRole('option', { name: '@request.auth.id', selected: true }).waitFor();
  await list.press('Tab');
  await list.pressSequentially(' != "" && f_s');
  await dialog.getByRole('option', { name: 'f_select', exact: true, selected: true }).waitFor();
  await list.press('Tab');
  await list.pressSequentially(' ?= "news"');
  assert.equal(await list.inputValue(), '@request.auth.id != "" && f_select ?= "news"');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await dialog.waitFor({ state: 'detached' });

  const pb = await adminClient(srv);
  const col = await pb.collections.getOne('posts');
  for (const type of TYPES) assert.ok(col.fields.some((f) => f.name === `f_${type}` && f.type === type), type);
  const sel = col.fields.find((f) => f.name === 'f_select');
  assert.deepEqual(sel.values, ['news', 'blog']);
  assert.equal(sel.maxSelect, 2);
  assert.equal(sel.required, true);
  assert.equal(col.fields.find((f) => f.name === 'f_relation').collectionId, (await pb.collections.getOne('users')).id);
  assert.equal(col.listRule, '@request.auth.id != "" && f_select ?= "news"');
  assert.equal(col.viewRule, '');
  assert.equal(col.createRule, null);
  assert.equal(col.indexes.length, 1);
  assert.match(col.indexes[0], /^CREATE UNIQUE INDEX .* \(`f_text`, `f_number`\)/);

  // Editing a saved collection: a bad rule is reported while typed.
  await page.getByRole('button', { name: 'Edit collection' }).click();
  await dialog.getByRole('tab', { name: 'API rules' }).click();
  await dialog.locator('[data-rule="deleteRule"]').getByRole('button', { name: 'Unlock' }).click();
  await dialog.getByLabel('Delete rule').fill('nope_field > 1');
  await dialog.getByText(/^Server:/).waitFor();
  page.allowHttpErrors(400);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  page.assertClean();
});

test('a view collection from a query, with a preview', async () => {
  const page = await newPage(browser);
  await signIn(page, srv.url);
  await page.getByRole('button', { name: 'New collection' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('user_emails');
  await dialog.getByLabel('Type', { exact: true }).selectOption('view');
  await dialog.getByLabel('SELECT query').fill('SELECT id, email FROM users');
  await dialog.getByRole('button', { name: 'Preview' }).click();
  await dialog.locator('pre.code').waitFor();
  await dialog.getByRole('button', { name: 'Create' }).click();
  await dialog.waitFor({ state: 'detached' });
  const pb = await adminClient(srv);
  const col = await pb.collections.getOne('user_emails');
  assert.equal(col.type, 'view');
  assert.ok(col.fields.some((f) => f.name === 'email'));
  page.assertClean();
});
