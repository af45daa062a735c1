// Reproduces the expand amplification finding and measures one request.
//
// A collection whose multi-relation points at itself, N records each
// related to all the others, listed with a nested expand: the response
// grows as perPage * (N-1)^depth while the data stays tiny. Prints the
// response status and size, its duration, the slowest /api/health answer
// seen while it ran, and the server's peak RSS (VmHWM from
// /proc/PID/status, read after the request, on a freshly started server).
//
//   node bench/expand_amplification.mjs [--bin build/basalt] [--n 121]
//        [--per-page 30] [--expand rel.rel] [--parallel 1] [--fields ...]
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith('--') ? [...a, [v.slice(2), all[i + 1]]] : a), []),
);
const BIN = path.resolve(args.bin ?? 'build/basalt');
const N = Number(args.n ?? 121);
const PER_PAGE = Number(args['per-page'] ?? 30);
const EXPAND = args.expand ?? 'rel.rel';
const PARALLEL = Number(args.parallel ?? 1);
const FIELDS = args.fields;
const ADMIN = ['admin@example.com', 'admin-pass-123'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function start(dir) {
  const port = await freePort();
  const proc = spawn(BIN, ['serve', `--http=127.0.0.1:${port}`, `--dir=${dir}`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) return { proc, url };
    } catch {
      /* not yet */
    }
    await sleep(25);
  }
  throw new Error('server did not start');
}

async function api(url, method, p, body, token) {
  const res = await fetch(url + p, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'basalt-expand-'));
const dir = path.join(root, 'pb_data');
try {
  execFileSync(BIN, ['superuser', 'upsert', ...ADMIN, '--dir', dir]);
  let srv = await start(dir);
  const { token } = await api(srv.url, 'POST', '/api/collections/_superusers/auth-with-password', {
    identity: ADMIN[0],
    password: ADMIN[1],
  });
  const col = await api(srv.url, 'POST', '/api/collections', {
    name: 'nodes', listRule: '', viewRule: '', fields: [{ name: 'title', type: 'text' }],
  }, token);
  await api(srv.url, 'PATCH', `/api/collections/${col.id}`, {
    fields: [...col.fields, { name: 'rel', type: 'relation', collectionId: col.id, maxSelect: 999 }],
  }, token);
  const ids = [];
  for (let i = 0; i < N; i++)
    ids.push((await api(srv.url, 'POST', '/api/collections/nodes/records', { title: `node ${i} ${'x'.repeat(40)}` }, token)).id);
  for (const id of ids)
    await api(srv.url, 'PATCH', `/api/collections/nodes/records/${id}`, { rel: ids.filter((x) => x !== id) }, token);

  // A fresh process, so VmHWM is this request's peak.
  srv.proc.kill('SIGTERM');
  await new Promise((r) => srv.proc.once('exit', r));
  srv = await start(dir);
  const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8'))[1]);
  const base = hwm();

  let done = false;
  let worst = 0;
  const prober = (async () => {
    while (!done) {
      const t = performance.now();
      await (await fetch(`${srv.url}/api/health`)).text();
      worst = Math.max(worst, performance.now() - t);
      await sleep(10);
    }
  })();
  const q = `perPage=${PER_PAGE}&expand=${encodeURIComponent(EXPAND)}${FIELDS ? `&fields=${encodeURIComponent(FIELDS)}` : ''}`;
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      const res = await fetch(`${srv.url}/api/collections/nodes/records?${q}`);
      const buf = Buffer.from(await res.arrayBuffer());
      return { status: res.status, bytes: buf.length, head: buf.subarray(0, 160).toString() };
    }),
  );
  const ms = performance.now() - t0;
  done = true;
  await prober;
  console.log(JSON.stringify({
    bin: BIN, n: N, perPage: PER_PAGE, expand: EXPAND, parallel: PARALLEL, fields: FIELDS ?? null,
    status: results.map((r) => r.status), responseBytes: results.map((r) => r.bytes),
    ms: Math.round(ms), worstHealthMs: Math.round(worst),
    rssPeakMB: +(hwm() / 1024).toFixed(1), rssIdleMB: +(base / 1024).toFixed(1),
    head: results[0].status !== 200 ? results[0].head : undefined,
  }));
  srv.proc.kill('SIGKILL');
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
