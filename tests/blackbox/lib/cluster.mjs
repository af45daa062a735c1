// Helpers shared by the tests that run several nodes: nats-server,
// nginx as a load balancer in front of the nodes, and a node's metrics.
// Each service runs on a free port of 127.0.0.1 from its own temp
// folder and is stopped by the test that started it.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { freePort } from './server.mjs';
import { until } from './realtime.mjs';

/** A program from PATH or the sbin folders Debian installs servers in. */
function findProgram(name) {
  const dirs = [...(process.env.PATH || '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) {
    const p = `${d}/${name}`;
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

export const NATS_BIN = findProgram('nats-server');
export const NATS_SKIP = NATS_BIN ? false : 'nats-server not found (make setup installs the nats-server package)';
export const NGINX_BIN = findProgram('nginx');
export const NGINX_SKIP = NGINX_BIN ? false : 'nginx not found (make setup installs the nginx package)';

export function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function track(proc) {
  proc.exited = new Promise((r) => proc.on('exit', r));
  return proc;
}

/** Starts nats-server on port; resolves the process once it listens. */
export async function startNats(port) {
  const proc = track(spawn(NATS_BIN, ['-a', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  }));
  await until(() => portOpen(port), 'nats-server to listen', 8000);
  return proc;
}

/** Stops a service started here (nats-server, nginx). */
export async function stopProcess(proc, signal = 'SIGTERM') {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill(signal);
  await proc.exited;
}

/** The value of one metric line of srv (name with its labels), or undefined. */
export async function metric(srv, token, name) {
  const r = await fetch(`${srv.url}/api/metrics`, { headers: { authorization: token } });
  const text = await r.text();
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ' ')) return Number(line.slice(name.length + 1));
  }
  return undefined;
}

/**
 * Starts nginx in the foreground from a temp folder as a round-robin
 * balancer in front of the given ports, passing the realtime stream
 * through unbuffered. A request that cannot reach a node (connection
 * refused: the node is down) goes to the next one, as nginx does by
 * default; one a node accepted and then lost is answered with 502.
 * Resolves { url, proc, dir, stop() }.
 */
export async function startBalancer(ports) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'basalt-nginx-'));
  // As root, nginx's workers run as nobody: their temp folders must be
  // theirs to write.
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const conf = `
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
worker_processes 1;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 32m;
  upstream basalt {
${ports.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://basalt;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_buffering off;
      proxy_read_timeout 1h;
      proxy_connect_timeout 2s;
    }
  }
}
`;
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const proc = track(spawn(NGINX_BIN, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  }));
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  await until(async () => {
    if (proc.exitCode !== null) throw new Error(`nginx exited: ${err}`);
    return portOpen(port);
  }, 'nginx to listen', 8000);
  return {
    url: `http://127.0.0.1:${port}`,
    proc,
    dir,
    async stop() {
      await stopProcess(proc, 'SIGQUIT');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
