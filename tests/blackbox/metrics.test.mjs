// GET /api/metrics: who may scrape (a superuser, or BASALT_METRICS_TOKEN
// as a bearer token), the output parsed by a Prometheus text parser from
// npm, and counters that move after known requests: requests by route
// pattern and status class, write transactions, realtime clients and
// messages, cron runs, backups, request log rows.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startServer } from './lib/server.mjs';
import { superuserClient } from './lib/assert.mjs';

globalThis.EventSource = EventSource;

const TOKEN = 'metrics-scraper-token-0123456789';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('metrics', () => {
  let srv, su;
  before(async () => {
    srv = await startServer({ env: { BASALT_METRICS_TOKEN: TOKEN } });
    su = await superuserClient(srv, { email: 'metrics@example.com', password: 'a-long-password-1' });
    await su.collections.create({ name: 'notes', type: 'base', listRule: '', viewRule: '', createRule: '',
      fields: [{ name: 'text', type: 'text' }] });
  });
  after(() => srv?.destroy());

  async function scrapeText(auth = `Bearer ${TOKEN}`) {
    const res = await fetch(`${srv.url}/api/metrics`, { headers: auth ? { Authorization: auth } : {} });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  }

  /** The parsed families by name. */
  async function scrape() {
    const r = await scrapeText();
    assert.equal(r.status, 200);
    const byName = {};
    for (const f of parsePrometheusTextFormat(r.text)) byName[f.name] = f;
    return { families: byName, text: r.text };
  }

  /** The value of a counter or gauge sample whose labels include `labels`. */
  function value(m, name, labels = {}) {
    const f = m.families[name];
    assert.ok(f, `${name} is exposed`);
    const hit = f.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
    return hit ? Number(hit.value) : 0;
  }

  test('who may scrape: the token or a superuser; nobody else', async () => {
    assert.equal((await scrapeText(null)).status, 401);
    assert.equal((await scrapeText('Bearer not-the-token')).status, 401);
    assert.equal((await scrapeText(`Bearer ${TOKEN}x`)).status, 401);
    await su.collection('users').create({ email: 'u@example.com', password: 'a-long-password-1', passwordConfirm: 'a-long-password-1' });
    const user = await fetch(`${srv.url}/api/collections/users/auth-with-password`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: 'u@example.com', password: 'a-long-password-1' }),
    }).then((r) => r.json());
    assert.equal((await scrapeText(user.token)).status, 403);
    const bySu = await scrapeText(su.authStore.token);
    assert.equal(bySu.status, 200);
    const byToken = await scrapeText();
    assert.equal(byToken.status, 200);
    assert.match(byToken.type, /^text\/plain; version=0\.0\.4/);
  });

  test('the text parses, with a type for every family', async () => {
    const m = await scrape();
    const types = Object.fromEntries(Object.values(m.families).map((f) => [f.name, f.type]));
    assert.equal(types.basalt_http_requests_total, 'COUNTER');
    assert.equal(types.basalt_http_request_duration_seconds, 'HISTOGRAM');
    assert.equal(types.basalt_db_write_queue, 'GAUGE');
    assert.equal(types.basalt_db_write_transaction_seconds, 'HISTOGRAM');
    assert.equal(types.basalt_realtime_clients, 'GAUGE');
    assert.equal(types.basalt_logs_rows_total, 'COUNTER');
    assert.equal(types.basalt_backups_total, 'COUNTER');
    assert.equal(types.basalt_cron_runs_total, 'COUNTER');
    assert.equal(types.basalt_db_statement_cache_total, 'COUNTER');
  });

  test('requests are counted by route pattern and status class, with latencies', async () => {
    const route = '/api/collections/{collection}/records/{id}';
    const ok = { method: 'GET', route: '/api/health', status: '2xx' };
    const missing = { method: 'GET', route, status: '4xx' };
    const before = await scrape();
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${srv.url}/api/health`)).status, 200);
    for (let i = 0; i < 2; i++)
      assert.equal((await fetch(`${srv.url}/api/collections/notes/records/nosuchid`)).status, 404);
    const after = await scrape();
    assert.equal(value(after, 'basalt_http_requests_total', ok) - value(before, 'basalt_http_requests_total', ok), 3);
    assert.equal(value(after, 'basalt_http_requests_total', missing) - value(before, 'basalt_http_requests_total', missing), 2);
    // The histogram of that route: cumulative buckets ending at its count.
    const esc = route.replace(/[{}/]/g, (c) => `\\${c}`);
    const lines = after.text.split('\n').filter((l) =>
      new RegExp(`^basalt_http_request_duration_seconds_bucket\\{method="GET",route="${esc}",`).test(l));
    assert.equal(lines.length, 17);
    const counts = lines.map((l) => Number(l.split(' ').pop()));
    for (let i = 1; i < counts.length; i++) assert.ok(counts[i] >= counts[i - 1]);
    assert.match(lines.at(-1), /le="\+Inf"\} \d+$/);
    assert.ok(counts.at(-1) >= 2);
  });

  test('write transactions and their latency move after a create', async () => {
    const before = await scrape();
    await su.collection('notes').create({ text: 'one' });
    const after = await scrape();
    assert.ok(value(after, 'basalt_db_transactions_total', { result: 'commit' }) >
      value(before, 'basalt_db_transactions_total', { result: 'commit' }));
    const count = (m) => Number(m.families.basalt_db_write_transaction_seconds.metrics[0].count);
    assert.ok(count(after) > count(before));
    assert.equal(value(after, 'basalt_db_write_queue'), 0);
    assert.ok(value(after, 'basalt_db_statement_cache_total', { result: 'hit' }) > 0);
  });

  test('realtime clients and messages', async () => {
    const before = await scrape();
    const es = new EventSource(`${srv.url}/api/realtime`);
    const clientId = await new Promise((resolve, reject) => {
      es.addEventListener('PB_CONNECT', (e) => resolve(JSON.parse(e.data).clientId));
      es.onerror = reject;
    });
    const got = new Promise((resolve) => es.addEventListener('notes/*', resolve));
    const sub = await fetch(`${srv.url}/api/realtime`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId, subscriptions: ['notes/*'] }) });
    assert.equal(sub.status, 204);
    await su.collection('notes').create({ text: 'two' });
    await got;
    const during = await scrape();
    es.close();
    assert.equal(value(during, 'basalt_realtime_clients') - value(before, 'basalt_realtime_clients'), 1);
    assert.equal(value(during, 'basalt_realtime_connections_total') - value(before, 'basalt_realtime_connections_total'), 1);
    // PB_CONNECT and the create.
    assert.ok(value(during, 'basalt_realtime_messages_total') - value(before, 'basalt_realtime_messages_total') >= 2);
  });

  test('cron runs and backups are counted by outcome', async () => {
    const before = await scrape();
    const job = { job: '__pbOTPCleanup__' };
    assert.equal((await fetch(`${srv.url}/api/crons/__pbOTPCleanup__`, { method: 'POST',
      headers: { Authorization: su.authStore.token } })).status, 204);
    await su.backups.create('metrics_1.zip');
    let after;
    // The job runs on a worker: wait until it is counted (bounded).
    for (let i = 0; i < 100; i++) {
      after = await scrape();
      if (value(after, 'basalt_cron_runs_total', job) > value(before, 'basalt_cron_runs_total', job)) break;
      await sleep(50);
    }
    assert.equal(value(after, 'basalt_cron_runs_total', job) - value(before, 'basalt_cron_runs_total', job), 1);
    const ok = { operation: 'create', result: 'success' };
    assert.equal(value(after, 'basalt_backups_total', ok) - value(before, 'basalt_backups_total', ok), 1);
  });

  test('request log rows written are counted; a successful scrape is not logged', async () => {
    await fetch(`${srv.url}/api/collections/notes/records?filter=bad((`);
    let m;
    for (let i = 0; i < 100; i++) {
      m = await scrape();
      if (value(m, 'basalt_logs_rows_total', { result: 'written' }) > 0) break;
      await sleep(50);
    }
    assert.ok(value(m, 'basalt_logs_rows_total', { result: 'written' }) > 0);
    assert.equal(value(m, 'basalt_logs_rows_total', { result: 'dropped' }), 0);
    const logs = await su.logs.getList(1, 200, { filter: 'data.url ~ "/api/metrics"' });
    assert.ok(logs.items.every((l) => l.data.status >= 400), 'only refused scrapes are logged');
  });
});
