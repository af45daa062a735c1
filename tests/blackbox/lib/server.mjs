// Helpers for the black-box tests: start the real basalt binary on a free
// port with a fresh data dir, run its CLI, make SDK clients, send raw HTTP.
//
// Every server runs in its own process group, in a temp folder laid out as
//
//   <root>/pb_data     the data dir (--dir), optionally a fixture copy
//   <root>/pb_public   static files (basalt serves <parent of --dir>/pb_public)
//
// and everything is killed and removed when the test process exits, even
// when a test forgets to call destroy().

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import PocketBase from 'pocketbase';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository root (tests/blackbox/lib -> ../../..). */
export const REPO_ROOT = path.resolve(here, '../../..');

/** The basalt binary: $BASALT_BIN, else build/basalt in the repo. */
export const BASALT_BIN = process.env.BASALT_BIN
  ? path.resolve(process.env.BASALT_BIN)
  : path.join(REPO_ROOT, 'build/basalt');

/** The pbcompat kit beside the repository (CI has shared/ next to it). */
export const PBCOMPAT_DIR = process.env.PBCOMPAT_DIR
  ? path.resolve(process.env.PBCOMPAT_DIR)
  : path.resolve(REPO_ROOT, '../shared/pbcompat');

/** PocketBase's test fixture (a pb_data directory). */
export const FIXTURE_DIR = path.join(PBCOMPAT_DIR, 'fixture');

export const HAS_FIXTURE = fs.existsSync(path.join(FIXTURE_DIR, 'data.db'));

/** For test options: `{ skip: FIXTURE_SKIP }` skips cleanly without the fixture. */
export const FIXTURE_SKIP = HAS_FIXTURE
  ? false
  : `PocketBase fixture not found at ${FIXTURE_DIR} (set PBCOMPAT_DIR)`;

/** Tokens of the fixture (exp 2050), as PocketBase's own tests use them. */
export const TOKENS = {
  // _superusers sywbhecnh46rhm0 (test@example.com)
  superuser:
    'eyJhbGciOiJIUzI1NiJ9.eyJpZCI6InN5d2JoZWNuaDQ2cmhtMCIsInR5cGUiOiJhdXRoIiwiY29sbGVjdGlvbklkIjoicGJjXzMxNDI2MzU4MjMiLCJleHAiOjI1MjQ2MDQ0NjEsInJlZnJlc2hhYmxlIjp0cnVlfQ.UXgO3j-0BumcugrFjbd7j0M4MQvbrLggLlcu_YNGjoY',
  // users 4q1xlclmfloku33 (test@example.com)
  user:
    'eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IjRxMXhsY2xtZmxva3UzMyIsInR5cGUiOiJhdXRoIiwiY29sbGVjdGlvbklkIjoiX3BiX3VzZXJzX2F1dGhfIiwiZXhwIjoyNTI0NjA0NDYxLCJyZWZyZXNoYWJsZSI6dHJ1ZX0.ZT3F0Z3iM-xbGgSG3LEKiEzHrPHr8t8IuHLZGGNuxLo',
};

const START_TIMEOUT_MS = 15000; // readiness deadline, not a timing assertion
const STOP_TIMEOUT_MS = 10000;

// ---------------------------------------------------------------- cleanup

const liveProcs = new Set(); // child processes still running
const tempRoots = new Set(); // folders to remove at exit

function killGroup(proc, signal) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function cleanupSync() {
  for (const p of liveProcs) killGroup(p, 'SIGKILL');
  liveProcs.clear();
  for (const d of tempRoots) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  tempRoots.clear();
}

process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    cleanupSync();
    process.exit(128 + (os.constants.signals[sig] || 0));
  });
}

/** A fresh temp folder, removed at exit (or by the caller). */
export function makeTempRoot(prefix = 'basalt-bb-') {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempRoots.add(root);
  return root;
}

export function removeTempRoot(root) {
  fs.rmSync(root, { recursive: true, force: true });
  tempRoots.delete(root);
}

// ---------------------------------------------------------------- helpers

/** A free TCP port on 127.0.0.1 (bind port 0, read it, release it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Copies the PocketBase fixture (without NOTICE and stale WAL files). */
export function copyFixture(dest) {
  fs.cpSync(FIXTURE_DIR, dest, {
    recursive: true,
    filter: (src) => {
      const b = path.basename(src);
      return b !== 'NOTICE' && !b.endsWith('.db-shm') && !b.endsWith('.db-wal');
    },
  });
  makeWritable(dest);
}

function makeWritable(p) {
  const st = fs.lstatSync(p);
  if (st.isSymbolicLink()) return;
  fs.chmodSync(p, st.mode | 0o200 | (st.isDirectory() ? 0o700 : 0));
  if (st.isDirectory()) for (const e of fs.readdirSync(p)) makeWritable(path.join(p, e));
}

/**
 * Writes pb_public contents. `files` maps relative paths to a string or
 * Buffer (a file), null (an empty folder), or { symlink: target }.
 */
export function writeTree(base, files) {
  fs.mkdirSync(base, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(base, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (content === null) fs.mkdirSync(p, { recursive: true });
    else if (typeof content === 'object' && !Buffer.isBuffer(content) && content.symlink)
      fs.symlinkSync(content.symlink, p);
    else fs.writeFileSync(p, content);
  }
}

/** Probes GET /api/health; resolves true on any HTTP answer. */
function probe(url) {
  return new Promise((resolve) => {
    const req = http.get(`${url}/api/health`, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

// ---------------------------------------------------------------- server

/**
 * Starts `basalt serve` on a free port with a fresh data dir.
 *
 * options:
 *   fixture: true       copy PocketBase's fixture into the data dir
 *                       (check HAS_FIXTURE / use FIXTURE_SKIP first)
 *   publicFiles: {...}  create pb_public with these entries (see writeTree)
 *   files: {...}        extra entries relative to the temp root (e.g. a
 *                       secret file next to pb_public)
 *   hooks: {...}        create pb_hooks (JavaScript hooks, beside the data
 *                       dir) with these entries (see writeTree)
 *   migrations: {...}   create pb_migrations (beside the data dir) with
 *                       these entries (see writeTree)
 *   args: [...]         extra CLI args for `serve`
 *   env: {...}          extra environment variables
 *
 * Returns { url, port, dir, root, publicDir, hooksDir, proc, output(), stop(),
 * kill9(), restart(), destroy() }. url/port/proc change on restart().
 */
export async function startServer(options = {}) {
  if (CLUSTER_MODE && !sharesData(options)) {
    const { startClusterServer } = await import('./cluster_mode.mjs');
    return startClusterServer(options);
  }
  return startSingle(options);
}

/**
 * BASALT_TEST_CLUSTER=1: startServer() starts nodes on a shared
 * PostgreSQL and NATS behind nginx instead of one node (lib/cluster_mode.mjs).
 */
export const CLUSTER_MODE = process.env.BASALT_TEST_CLUSTER === '1';

/** For test options: `{ skip: clusterSkip('reason') }` skips in cluster mode only. */
export function clusterSkip(reason) {
  return CLUSTER_MODE ? `cluster mode: ${reason}` : false;
}

/** A test that chose its own store or data dir (--db, --dir) runs one node as asked. */
function sharesData(options) {
  return (options.args || []).some((a) => /^--(db|dir)(=|$)/.test(a));
}

/**
 * One node (what startServer does outside cluster mode). layout.root: an
 * existing folder to use as the root (else a fresh temp one).
 */
export async function startSingle(options = {}, layout = {}) {
  const root = layout.root || makeTempRoot();
  const dir = path.join(root, 'pb_data');
  const publicDir = path.join(root, 'pb_public');
  if (options.fixture) {
    if (!HAS_FIXTURE) throw new Error(FIXTURE_SKIP);
    copyFixture(dir);
  }
  if (options.publicFiles) writeTree(publicDir, options.publicFiles);
  if (options.files) writeTree(root, options.files);
  const hooksDir = path.join(root, 'pb_hooks');
  if (options.hooks) writeTree(hooksDir, options.hooks);
  const migrationsDir = path.join(root, 'pb_migrations');
  if (options.migrations) writeTree(migrationsDir, options.migrations);
  if (layout.prepare) layout.prepare(root, dir);

  const s = {
    root,
    dir,
    publicDir,
    hooksDir,
    migrationsDir,
    port: 0,
    url: '',
    proc: null,
    exitInfo: null, // {code, signal} of the last process once it exited
    _out: [],
    output() {
      return this._out.join('');
    },
    async start() {
      let lastErr;
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await launch(this, options);
          return this;
        } catch (e) {
          lastErr = e;
          // Another process may have taken the port between probe and bind.
          if (!/listen|address|bind/i.test(String(e.message))) break;
        }
      }
      throw lastErr;
    },
    /** SIGTERM to the process group; resolves {code, signal}. */
    async stop(signal = 'SIGTERM') {
      const p = this.proc;
      if (!p) return this.exitInfo;
      if (p.exitCode === null && p.signalCode === null) {
        killGroup(p, signal);
        // The timer is cleared once the process exits, so that a test
        // file does not stay alive for STOP_TIMEOUT_MS after a stop.
        let timer;
        const late = new Promise((resolve) => (timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS)));
        const done = await Promise.race([p.exited, late]);
        clearTimeout(timer);
        if (!done) {
          killGroup(p, 'SIGKILL');
          await p.exited;
          throw new Error(`basalt did not exit within ${STOP_TIMEOUT_MS} ms of ${signal}`);
        }
      }
      await p.exited;
      return this.exitInfo;
    },
    /** SIGKILL to the process group (a crash). */
    async kill9() {
      const p = this.proc;
      if (!p) return this.exitInfo;
      killGroup(p, 'SIGKILL');
      await p.exited;
      return this.exitInfo;
    },
    /** Stops (SIGTERM) if running, then starts again on the same dir. */
    async restart() {
      if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) await this.stop();
      return this.start();
    },
    /** Stops and removes the temp folder. */
    async destroy() {
      try {
        if (this.proc) await this.kill9();
      } finally {
        removeTempRoot(root);
      }
    },
  };
  await s.start();
  return s;
}

async function launch(s, options) {
  const port = s.fixedPort || (await freePort());
  const args = ['serve', `--http=127.0.0.1:${port}`, `--dir=${s.dir}`, ...(options.args || [])];
  // options.bin: another program built on libbasalt (same command line).
  const proc = spawn(options.bin || BASALT_BIN, args, {
    cwd: s.root,
    detached: true, // own process group, killed as a whole
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(options.env || {}) },
  });
  liveProcs.add(proc);
  proc.exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      liveProcs.delete(proc);
      s.exitInfo = { code, signal };
      resolve(s.exitInfo);
    });
    proc.on('error', (err) => {
      liveProcs.delete(proc);
      s.exitInfo = { code: null, signal: null, error: err };
      resolve(s.exitInfo);
    });
  });
  proc.stdout.on('data', (d) => s._out.push(d.toString()));
  proc.stderr.on('data', (d) => s._out.push(d.toString()));
  s.proc = proc;
  s.port = port;
  s.url = `http://127.0.0.1:${port}`;
  s.exitInfo = null;

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null || s.exitInfo) {
      await proc.exited;
      throw new Error(
        `basalt exited before answering (${JSON.stringify(s.exitInfo)}): ${s.output().slice(-2000)}`,
      );
    }
    if (await probe(s.url)) return;
    await sleep(25);
  }
  killGroup(proc, 'SIGKILL');
  await proc.exited;
  throw new Error(`basalt did not answer /api/health on ${s.url}: ${s.output().slice(-2000)}`);
}

/** An example program built beside $BASALT_BIN (build/examples/NAME), else in the tree. */
export function exampleBin(name) {
  const sibling = path.join(path.dirname(BASALT_BIN), 'examples', name);
  return fs.existsSync(sibling) ? sibling : path.join(REPO_ROOT, 'build/examples', name);
}

// ---------------------------------------------------------------- CLI

/**
 * Runs the basalt CLI; never rejects on a non-zero exit.
 * Resolves { code, signal, stdout, stderr }.
 */
let cliCwd = null; // a private temp folder, so a default ./pb_data never lands elsewhere

/** Data dirs of cluster-mode nodes -> their PostgreSQL URL (see runCli). */
export const clusterDbs = new Map();

export function runCli(args, { cwd, env, timeout = 30000, input, bin } = {}) {
  if (!cwd) cwd = cliCwd ??= makeTempRoot('basalt-cli-');
  // In cluster mode a command given a node's --dir works on its database.
  const i = args.indexOf('--dir');
  const dbUrl = i >= 0 && !args.includes('--db') ? clusterDbs.get(path.resolve(args[i + 1] || '')) : undefined;
  if (dbUrl) env = { BASALT_DB_URL: dbUrl, ...(env || {}) };
  return new Promise((resolve, reject) => {
    const child = execFile(
      bin || BASALT_BIN,
      args,
      { cwd, env: { ...process.env, ...(env || {}) }, timeout, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number' && !err.signal && err.code !== undefined) {
          reject(err); // e.g. ENOENT: the binary is missing
          return;
        }
        resolve({
          code: child.exitCode,
          signal: child.signalCode,
          stdout: String(stdout),
          stderr: String(stderr),
        });
      },
    );
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

// ---------------------------------------------------------------- clients

/** An SDK client for url, optionally authenticated with a raw token. */
export function client(url, token) {
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  if (token) pb.authStore.save(token, null);
  return pb;
}

/**
 * A raw HTTP/1.1 request through node:http (no URL normalisation beyond
 * what the path string contains, full control over headers and body).
 * Resolves { status, headers, rawHeaders, body (Buffer), text }.
 */
export function rawRequest(url, { method = 'GET', path: p = '/', headers = {}, body } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path: p, headers, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve({
            status: res.statusCode,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: buf,
            text: buf.toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/**
 * Writes raw bytes on a fresh TCP connection and collects whatever comes
 * back until the server closes or `idleMs` pass without data.
 * Resolves { data (Buffer), text, closed, error }.
 */
export function rawSocket(url, bytes, { idleMs = 1500 } = {}) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const chunks = [];
    let done = false;
    const sock = net.connect({ host: u.hostname, port: Number(u.port) });
    const finish = (closed, error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const data = Buffer.concat(chunks);
      resolve({ data, text: data.toString('latin1'), closed, error });
    };
    let timer = setTimeout(() => finish(false), idleMs);
    sock.on('data', (c) => {
      chunks.push(c);
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), idleMs);
    });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (e) => finish(true, e.code || String(e)));
    sock.on('connect', () => {
      sock.write(bytes, () => {});
    });
  });
}

/** Parses the status line of a raw HTTP response text (or 0). */
export function statusOf(text) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return m ? Number(m[1]) : 0;
}

/** GET /api/health through fetch; resolves the status (throws if down). */
export async function healthStatus(url) {
  const res = await fetch(`${url}/api/health`);
  await res.arrayBuffer();
  return res.status;
}
