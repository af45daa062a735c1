// A throwaway PostgreSQL 15 for the tests that need one (tests/pg/pg.sh):
// whether it can run here, and starting and stopping one.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './server.mjs';

export const PGBIN = process.env.PGBIN || '/usr/lib/postgresql/15/bin';
const PG_SH = path.join(REPO_ROOT, 'tests/pg/pg.sh');
export const PG_SKIP = fs.existsSync(path.join(PGBIN, 'initdb')) && fs.existsSync('/usr/bin/psql')
  ? false
  : 'PostgreSQL 15 (postgresql, postgresql-client) not installed';

/** Starts one; resolves { dir, url }. Its own folder in the temp dir: as
 * root, pg.sh hands it to the postgres user, who cannot enter the
 * private test root. */
export function startPg() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'basalt-pg-'));
  const url = execFileSync('sh', [PG_SH, 'start', dir], { encoding: 'utf8' }).trim();
  return { dir, url };
}

/** Stops the one in dir and removes the folder. */
export function stopPg(dir) {
  if (dir) execFileSync('sh', [PG_SH, 'stop', dir]);
}
