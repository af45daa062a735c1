// Cluster mode of the harness (BASALT_TEST_CLUSTER=1, `make
// blackbox-cluster`): startServer() starts, instead of one node, a server
// set of the scale-out setup of docs/scale.md and returns it behind the
// interface of one server:
//
//   - a fresh database on one throwaway PostgreSQL 15 per test process
//     (tests/pg/pg.sh, stopped and removed at exit);
//   - BASALT_TEST_CLUSTER_NODES nodes (default 2) on it, sharing one
//     nats-server per test process with a NATS prefix of their own;
//   - nginx round-robin in front of them: `url` and `port` are its;
//   - one s3rver per test process, and settings.s3 enabled on the set's
//     database before the nodes start (nodes sharing PostgreSQL refuse
//     record files on disk), except for a fixture set, whose files are
//     on disk (copied into every node's data dir).
//
// `dir`, `root`, `publicDir`, `hooksDir`, `migrationsDir` and `proc` are
// node 1's; the other nodes read node 1's pb_public (a symlink), hooks and
// migrations (--hooksDir, --migrationsDir). output() is every node's
// output; stop(), kill9(), restart() and destroy() act on every node
// (restarted nodes keep their ports, so nginx keeps its upstreams).
// `nodes` are the nodes themselves, `dbUrl` the set's database. runCli()
// given a node's --dir runs on the set's database (BASALT_DB_URL).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSingle, freePort, BASALT_BIN, clusterDbs } from './server.mjs';
import { PG_SKIP, startPg } from './pg.mjs';
import { NATS_BIN, NATS_SKIP, NGINX_SKIP, portOpen, startBalancer } from './cluster.mjs';
import { until } from './realtime.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const NODES = Math.max(1, Number(process.env.BASALT_TEST_CLUSTER_NODES) || 2);
const BUCKET = 'basalt-bb';

let shared = null; // { pgDir, pgUrl, nats, natsUrl, s3, s3port, s3dir }
let sets = 0;
const balancers = new Set(); // nginx of the sets not destroyed yet

function sh(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function startShared() {
  const missing = PG_SKIP || NATS_SKIP || NGINX_SKIP;
  if (missing) throw new Error(`cluster mode: ${missing}`);
  const s = {};
  process.on('exit', () => {
    // Synchronous, as exit handlers must be.
    for (const lb of balancers) {
      try {
        lb.proc.kill('SIGKILL');
        fs.rmSync(lb.dir, { recursive: true, force: true });
      } catch {
        /* gone */
      }
    }
    for (const p of [s.nats, s.s3]) {
      try {
        p?.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (s.pgDir) {
      try {
        sh('sh', [path.join(here, '../../pg/pg.sh'), 'stop', s.pgDir]);
      } catch {
        /* best effort */
      }
    }
    if (s.s3dir) fs.rmSync(s.s3dir, { recursive: true, force: true });
  });
  ({ dir: s.pgDir, url: s.pgUrl } = startPg());
  // nats-server and s3rver run as children that do not hold this
  // process's event loop (a test file ends when its tests do) and are
  // killed at exit.
  const natsPort = await freePort();
  s.nats = spawn(NATS_BIN, ['-a', '127.0.0.1', '-p', String(natsPort)], { stdio: 'ignore' });
  s.nats.unref();
  s.natsUrl = `nats://127.0.0.1:${natsPort}`;
  s.s3dir = fs.mkdtempSync(path.join(os.tmpdir(), 'basalt-bb-s3-'));
  s.s3port = await freePort();
  const s3main = `import S3rver from 's3rver';
await new S3rver({ address: '127.0.0.1', port: ${s.s3port}, silent: true, directory: ${JSON.stringify(s.s3dir)},
  configureBuckets: [{ name: '${BUCKET}' }] }).run();`;
  s.s3 = spawn(process.execPath, ['--input-type=module', '-e', s3main], { cwd: path.join(here, '..'), stdio: ['ignore', 'ignore', process.env.BASALT_TEST_CLUSTER_DEBUG ? 'inherit' : 'ignore'] });
  s.s3.unref();
  await until(() => portOpen(natsPort), 'nats-server to listen', 8000);
  await until(() => portOpen(s.s3port), 's3rver to listen', 8000);
  return s;
}

/** The S3 settings every non-fixture set starts with. */
function s3Settings(port) {
  return {
    s3: {
      enabled: true,
      bucket: BUCKET,
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      accessKey: 'S3RVER',
      secret: 'S3RVER',
      forcePathStyle: true,
    },
  };
}

export async function startClusterServer(options = {}) {
  shared ??= await startShared();
  const n = ++sets;
  const dbName = `bb${n}`;
  sh('psql', [shared.pgUrl, '-XAtq', '-c', `CREATE DATABASE ${dbName}`]);
  const u = new URL(shared.pgUrl);
  u.pathname = `/${dbName}`;
  const dbUrl = u.href;
  const prefix = `bb${process.pid}x${n}`;
  const cluster = ['--db', dbUrl, '--nats', shared.natsUrl, '--natsPrefix', prefix];
  const env = { BASALT_NATS_RECONNECT_MS: '100', ...(options.env || {}) };

  // Node 1: the test's own layout; its database is made ready before it
  // starts (the fixture exported into it, or the system tables and the
  // S3 settings).
  const first = await startSingle(
    { ...options, env, args: [...cluster, ...(options.args || [])] },
    {
      prepare(root, dir) {
        clusterDbs.set(path.resolve(dir), dbUrl);
        if (options.fixture) {
          sh(options.bin || BASALT_BIN, ['pg', 'export', '--db', dbUrl, '--dir', dir]);
          return;
        }
        // The system tables, from a folder of its own without migrations.
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'basalt-bb-migrate-'));
        try {
          sh(options.bin || BASALT_BIN, ['migrate', 'up', '--dir', path.join(tmp, 'pb_data'), '--db', dbUrl,
            '--migrationsDir', path.join(tmp, 'none')]);
        } finally {
          fs.rmSync(tmp, { recursive: true, force: true });
        }
        if (process.env.BASALT_TEST_CLUSTER_S3 !== '0') {
          const value = JSON.stringify(s3Settings(shared.s3port)).replace(/'/g, "''");
          sh('psql', [dbUrl, '-XAtq', '-c',
            `INSERT INTO _params (id, value, created, updated) VALUES ('settings', '${value}', '', '') ` +
            'ON CONFLICT (id) DO UPDATE SET value = excluded.value']);
        }
      },
    },
  );
  first.fixedPort = first.port;
  const has = (flag) => (options.args || []).some((a) => a === flag || a.startsWith(`${flag}=`));
  const shareArgs = [
    ...(has('--hooksDir') ? [] : ['--hooksDir', first.hooksDir]),
    ...(has('--migrationsDir') ? [] : ['--migrationsDir', first.migrationsDir]),
  ];
  const nodes = [first];
  try {
    const rest = await Promise.all(
      Array.from({ length: NODES - 1 }, () =>
        startSingle(
          { fixture: options.fixture, files: options.files, bin: options.bin, env, args: [...cluster, ...shareArgs, ...(options.args || [])] },
          {
            prepare(root, dir) {
              clusterDbs.set(path.resolve(dir), dbUrl);
              fs.symlinkSync(first.publicDir, path.join(root, 'pb_public'));
            },
          },
        ),
      ),
    );
    for (const node of rest) {
      node.fixedPort = node.port;
      nodes.push(node);
    }
  } catch (e) {
    for (const node of nodes) await node.destroy().catch(() => {});
    throw e;
  }
  let lb;
  try {
    lb = await startBalancer(nodes.map((x) => x.port));
  } catch (e) {
    for (const node of nodes) await node.destroy().catch(() => {});
    throw e;
  }
  balancers.add(lb);
  const lbPort = Number(new URL(lb.url).port);

  const set = {
    root: first.root,
    dir: first.dir,
    publicDir: first.publicDir,
    hooksDir: first.hooksDir,
    migrationsDir: first.migrationsDir,
    port: lbPort,
    url: lb.url,
    nodes,
    dbUrl,
    balancer: lb,
    get proc() {
      return first.proc;
    },
    get exitInfo() {
      return first.exitInfo;
    },
    output() {
      return nodes.map((x) => x.output()).join('');
    },
    async start() {
      await first.start();
      await Promise.all(nodes.slice(1).map((x) => x.start()));
      return this;
    },
    async stop(signal = 'SIGTERM') {
      const infos = await Promise.all(nodes.map((x) => x.stop(signal)));
      return infos[0];
    },
    async kill9() {
      const infos = await Promise.all(nodes.map((x) => x.kill9()));
      return infos[0];
    },
    async restart() {
      await Promise.all(nodes.map((x) => (x.proc && x.proc.exitCode === null && x.proc.signalCode === null ? x.stop() : null)));
      return this.start();
    },
    async destroy() {
      try {
        balancers.delete(lb);
        await lb.stop();
      } finally {
        for (const x of nodes) {
          clusterDbs.delete(path.resolve(x.dir));
          await x.destroy();
        }
      }
    },
  };
  return set;
}

