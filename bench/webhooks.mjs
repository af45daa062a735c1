// Webhooks: what the outbox costs a write, how fast the sender drains a
// backlog, and the latency from a create's answer to its delivery.
//
// A local receiver (node:http, answers 204). Three runs on one server:
//  1. N creates in batches of 200 with no webhook, then N with one
//     active webhook on the collection: the write time of each;
//  2. the time from the first of those webhook writes until the
//     receiver has all N deliveries (the backlog drained);
//  3. 200 single creates one after another, each waited for: the time
//     from the create's answer to its delivery, p50 and p99.
//
//   node bench/webhooks.mjs [--bin build/basalt] [--n 10000]
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith('--') ? [...a, [v.slice(2), all[i + 1]]] : a), []),
);
const here = path.dirname(fileURLToPath(import.meta.url));
process.env.BASALT_BIN = path.resolve(args.bin || path.join(here, '../build/basalt'));
const { startServer } = await import('../tests/blackbox/lib/server.mjs');
const { superuserClient } = await import('../tests/blackbox/lib/assert.mjs');
const N = Number(args.n || 10000);

const arrivals = new Map();
const rx = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString());
    arrivals.set(body.record.id, performance.now());
    res.writeHead(204);
    res.end();
  });
});
await new Promise((ok) => rx.listen(0, '127.0.0.1', ok));
const srv = await startServer();
try {
  const su = await superuserClient(srv, { email: 'bench@example.com', password: 'bench-pass-123' });
  await su.settings.update({ batch: { enabled: true, maxRequests: 1000 } });
  await su.collections.create({ name: 'posts', type: 'base', fields: [{ name: 'title', type: 'text' }] });
  const writeAll = async (tag) => {
    const t0 = performance.now();
    for (let b = 0; b < N / 200; b++) {
      const batch = su.createBatch();
      for (let i = 0; i < 200; i++) batch.collection('posts').create({ title: `${tag}${b}-${i}` });
      await batch.send();
    }
    return { t0, ms: performance.now() - t0 };
  };
  const plain = await writeAll('plain');
  await su.send('/api/webhooks', {
    method: 'POST',
    body: { collection: 'posts', events: ['create'], url: `http://127.0.0.1:${rx.address().port}/in` },
  });
  const hooked = await writeAll('hooked');
  while (arrivals.size < N) await new Promise((r) => setTimeout(r, 5));
  const drained = Math.max(...arrivals.values()) - hooked.t0;
  console.log(`${N} creates in batches of 200: ${plain.ms.toFixed(0)} ms without a webhook, ${hooked.ms.toFixed(0)} ms with one`);
  console.log(`backlog of ${N} delivered ${drained.toFixed(0)} ms after the first write: ${Math.round(N / (drained / 1000))} deliveries/s`);

  const lat = [];
  for (let i = 0; i < 200; i++) {
    const r = await su.collection('posts').create({ title: `single${i}` });
    const answered = performance.now();
    while (!arrivals.has(r.id)) await new Promise((res) => setImmediate(res));
    lat.push(arrivals.get(r.id) - answered);
  }
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  console.log(`create answered -> delivered: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms (200 single creates)`);
} finally {
  await srv.destroy();
  rx.close();
}
