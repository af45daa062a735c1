// Hostile clients: many idle connections, slowloris header tricklers, and
// a per-address connection cap. The server must keep answering everyone
// else and drop connections that do not send a complete request head in
// time (PocketBase: Go's ReadHeaderTimeout of 30 s).
//
// Deadlines below detect hangs; they are not performance assertions. The
// observed health-check latency under load is only reported (t.diagnostic).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { startServer, rawSocket, statusOf, healthStatus } from './lib/server.mjs';

const IDLE = 2000;
const TRICKLERS = 200;
const HANG_MS = 5000; // "answers at all", not a latency figure

/** The soft limit on open files of this process (from /proc). */
function openFileLimit() {
  try {
    const m = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : Infinity;
  } catch {
    return Infinity;
  }
}

const NEED_FDS = IDLE + TRICKLERS + 200;
const FD_SKIP =
  openFileLimit() < NEED_FDS
    ? `needs ${NEED_FDS} open files, ulimit -n is ${openFileLimit()} (run.sh raises it to the hard limit)`
    : false;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when p settles within ms, false otherwise. */
function within(p, ms) {
  let timer;
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise((r) => {
      timer = setTimeout(() => r(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Opens a TCP connection; resolves the socket once connected. */
function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Tracks when a socket is closed by the server (end or error). */
function watchClose(s) {
  s.closedAt = 0;
  const mark = () => {
    if (!s.closedAt) s.closedAt = Date.now();
  };
  s.on('end', mark);
  s.on('close', mark);
  s.on('error', mark);
  s.on('data', () => {});
  s.gone = new Promise((r) => s.once('close', r));
  return s;
}

/** GET /api/health through fetch with an abort deadline; resolves
 * { status, ms } or { status: 0, ms } on a timeout or error. */
async function timedHealth(url, ms) {
  const t0 = Date.now();
  try {
    const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(ms) });
    await res.arrayBuffer();
    return { status: res.status, ms: Date.now() - t0 };
  } catch {
    return { status: 0, ms: Date.now() - t0 };
  }
}

describe('2,000 idle connections and 200 header tricklers', { skip: FD_SKIP }, () => {
  let srv;
  const socks = [];
  let trickle;
  before(async () => {
    // The default 30 s head deadline: every hostile connection is still
    // open while the health check runs, so the check proves there is no
    // connection cap near 1,024, not that the deadline freed slots.
    srv = await startServer();
    for (let i = 0; i < IDLE; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => connect(srv.port)));
      for (const s of batch) socks.push(watchClose(s));
    }
    const tricklers = await Promise.all(Array.from({ length: TRICKLERS }, () => connect(srv.port)));
    for (const s of tricklers) {
      watchClose(s);
      s.write('GET /api/health HTTP/1.1\r\nHost: x\r\n');
      socks.push(s);
    }
    let n = 0;
    trickle = setInterval(() => {
      for (const s of tricklers) if (!s.closedAt) s.write(`X-Slow-${n}: 1\r\n`);
      n++;
    }, 1000);
  });
  after(async () => {
    clearInterval(trickle);
    for (const s of socks) s.destroy();
    await srv?.destroy();
  });

  test('a normal client still gets its health check', async (t) => {
    await sleep(300); // let the server register every connection
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await timedHealth(srv.url, HANG_MS));
    t.diagnostic(`health latency with ${IDLE + TRICKLERS} hostile connections: ${results.map((r) => r.ms).join(', ')} ms`);
    const pid = srv.proc.pid;
    try {
      const rss = /VmRSS:\s+(\d+ kB)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (rss) t.diagnostic(`server RSS with ${IDLE + TRICKLERS} connections: ${rss[1]}`);
    } catch {
      /* not Linux */
    }
    for (const r of results) assert.equal(r.status, 200, `health check answered (took ${r.ms} ms)`);
    const dropped = socks.filter((s) => s.closedAt).length;
    assert.equal(dropped, 0, 'the hostile connections were all still open during the check');
  });
});

describe('the request head deadline (shortened to 1.5 s)', () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: { BASALT_HEAD_TIMEOUT_MS: '1500' } });
  });
  after(() => srv?.destroy());

  test('a header trickler is disconnected', async () => {
    const s = watchClose(await connect(srv.port));
    const t0 = Date.now();
    s.write('GET /api/health HTTP/1.1\r\nHost: x\r\n');
    let n = 0;
    const timer = setInterval(() => {
      if (!s.closedAt) s.write(`X-Slow-${n++}: 1\r\n`);
    }, 300);
    const closed = await within(s.gone, 10000);
    clearInterval(timer);
    s.destroy();
    assert.ok(closed, 'the trickler was still connected after 10 s');
    assert.ok(s.closedAt - t0 >= 1000, `closed after ${s.closedAt - t0} ms, before its deadline`);
    assert.equal(await healthStatus(srv.url), 200);
  });

  test('a connection that sends nothing is disconnected', async () => {
    const s = watchClose(await connect(srv.port));
    const closed = await within(s.gone, 10000);
    s.destroy();
    assert.ok(closed, 'the idle connection was still open after 10 s');
  });

  test('a kept-alive connection idle between requests is disconnected', async () => {
    const s = watchClose(await connect(srv.port));
    const first = await new Promise((resolve) => {
      s.once('data', (d) => resolve(d.toString('latin1')));
      s.write('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    assert.equal(statusOf(first), 200);
    const closed = await within(s.gone, 10000);
    s.destroy();
    assert.ok(closed, 'the kept-alive connection was still open after 10 s');
  });

  test('the deadline covers the head only: a slow body is not cut', async () => {
    const s = watchClose(await connect(srv.port));
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    s.write('POST /api/nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n');
    await sleep(2500); // past the head deadline
    s.write('{}');
    await within(
      new Promise((r) => {
        const check = () => (Buffer.concat(chunks).includes('\r\n\r\n{') ? r() : setTimeout(check, 20));
        check();
      }),
      HANG_MS,
    );
    s.destroy();
    const text = Buffer.concat(chunks).toString('latin1');
    assert.equal(statusOf(text), 404, JSON.stringify(text));
  });

  test('a request that sends its head at once is answered normally', async () => {
    const r = await rawSocket(srv.url, 'GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(statusOf(r.text), 200);
  });
});

describe('BASALT_PER_IP_LIMIT caps connections per client address', () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: { BASALT_PER_IP_LIMIT: '8' } });
  });
  after(() => srv?.destroy());

  test('the 9th connection from one address is refused; closing one frees a slot', async () => {
    await sleep(200); // the readiness probe's connection is gone
    const socks = [];
    for (let i = 0; i < 8; i++) socks.push(watchClose(await connect(srv.port)));
    const extra = watchClose(await connect(srv.port));
    const refused = await within(extra.gone, HANG_MS);
    extra.destroy();
    assert.ok(refused, 'the connection over the cap was not closed');
    for (const s of socks) assert.equal(s.closedAt, 0, 'connections under the cap stay open');
    socks.pop().destroy();
    await sleep(200);
    const r = await timedHealth(srv.url, HANG_MS);
    assert.equal(r.status, 200);
    for (const s of socks) s.destroy();
  });
});
