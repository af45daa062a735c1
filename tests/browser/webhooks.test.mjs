// Settings → Webhooks: create a webhook through the form (a field error
// first), see a failed delivery in its log and queue it again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer } from '../blackbox/lib/server.mjs';
import { launch, newPage, shot, checkA11y, signIn, createSuperuser, adminClient } from './lib.mjs';

let browser, srv, pb, receiver, accept = false;
before(async () => {
  browser = await launch();
  // A receiver that refuses until told otherwise.
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(accept ? 200 : 500);
      res.end();
    });
  });
  await new Promise((ok) => receiver.listen(0, '127.0.0.1', ok));
  srv = await startServer({ env: { BASALT_WEBHOOK_RETRY_MS: '50', BASALT_WEBHOOK_MAX_ATTEMPTS: '2' } });
  await createSuperuser(srv);
  pb = await adminClient(srv);
  await pb.collections.create({ name: 'orders', type: 'base', fields: [{ name: 'total', type: 'number' }] });
});
after(async () => {
  await browser?.close();
  await srv?.destroy();
  await new Promise((ok) => receiver?.close(ok));
});

test('create a webhook and retry a failed delivery', async () => {
  const page = await newPage(browser);
  await signIn(page, srv.url);
  await page.goto(`${srv.url}/_/#/settings/webhooks`);
  await page.getByText('No webhooks yet.').waitFor();
  await page.getByRole('button', { name: 'New webhook' }).click();
  await page.getByLabel('Collection').selectOption({ label: 'orders' });
  await page.getByLabel('update').uncheck();
  await page.getByLabel('URL').fill('ftp://nowhere');
  await page.getByRole('button', { name: 'Save webhook' }).click();
  await page.getByText(/http or https/).waitFor();
  page.allowHttpErrors(400);
  const url = `http://127.0.0.1:${receiver.address().port}/in`;
  await page.getByLabel('URL').fill(url);
  await page.getByLabel('Filter (optional)').fill('total > 10');
  await page.getByLabel('Secret').fill('shh');
  await checkA11y(page, 'webhook form');
  await page.getByRole('button', { name: 'Save webhook' }).click();
  await page.getByText('Webhook saved.').waitFor();
  const [hook] = (await pb.send('/api/webhooks', {})).items;
  assert.deepEqual(hook.events, ['create', 'delete']);
  assert.equal(hook.filter, 'total > 10');
  assert.equal(hook.secret, 'shh');

  await pb.collection('orders').create({ total: 5 });
  const order = await pb.collection('orders').create({ total: 50 });
  // Two refused attempts: failed.
  for (let i = 0; i < 200; i++) {
    const l = await pb.send(`/api/webhooks/${hook.id}/deliveries`, { query: { status: 'failed' } });
    if (l.totalItems === 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await page.getByRole('button', { name: `Deliveries of ${url}` }).click();
  await page.getByRole('cell', { name: order.id }).waitFor();
  assert.equal(await page.getByRole('cell', { name: 'failed', exact: true }).count(), 1);
  await checkA11y(page, 'webhook deliveries');
  await shot(page, 'webhooks');
  accept = true;
  await page.getByRole('button', { name: /^Retry / }).click();
  await page.getByText('Delivery queued again.').waitFor();
  for (let i = 0; i < 100; i++) {
    await page.getByRole('button', { name: 'Refresh' }).click();
    if (await page.getByRole('cell', { name: 'delivered', exact: true }).count()) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(await page.getByRole('cell', { name: 'delivered', exact: true }).count(), 1);
  page.assertClean();
});
