// Read-only looks into a stopped server's data dir through the sqlite3 CLI
// (Debian package `sqlite3`); tests skip these checks when it is missing.

import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

function which(cmd) {
  try {
    execFileSync(cmd, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const HAS_SQLITE3 = which('sqlite3');
export const SQLITE3_SKIP = HAS_SQLITE3 ? false : 'sqlite3 CLI not installed';

/** Runs SQL (or dot-commands) on a database file; returns stdout. */
export function sqlite3(dbPath, sql, { readonly = true } = {}) {
  const args = readonly ? ['-readonly', dbPath] : [dbPath];
  return execFileSync('sqlite3', args, { input: sql, encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** One column of a query, as an array of strings. */
export function sqliteColumn(dbPath, sql) {
  return sqlite3(dbPath, sql)
    .split('\n')
    .filter((l) => l !== '');
}

// PocketBase's own bookkeeping tables: these may legitimately change when a
// server opens a data dir (applied migrations, settings params).
export const INTERNAL_TABLES = new Set(['_collections', '_params', '_migrations']);

/**
 * The data tables and views of a data.db (collections' tables, system
 * collections' tables like _superusers included), internal tables and
 * sqlite_* excluded, sorted.
 */
export function userObjects(dbPath) {
  return sqliteColumn(
    dbPath,
    "SELECT type || ' ' || name FROM sqlite_master WHERE type IN ('table','view') " +
      "AND name NOT LIKE 'sqlite_%' ORDER BY name;",
  )
    .map((l) => {
      const i = l.indexOf(' ');
      return { type: l.slice(0, i), name: l.slice(i + 1) };
    })
    .filter((o) => !INTERNAL_TABLES.has(o.name));
}

/**
 * A text dump of one table or view: its schema objects (the table, its
 * indexes and triggers) and its rows in quote mode, rows sorted so that
 * the dump does not depend on the physical order.
 */
export function dumpObject(dbPath, name) {
  const lit = `'${name.replace(/'/g, "''")}'`;
  const ident = `"${name.replace(/"/g, '""')}"`;
  const schema = sqlite3(
    dbPath,
    `.mode quote\nSELECT type, name, sql FROM sqlite_master WHERE tbl_name = ${lit} ORDER BY type, name;\n`,
  );
  const rows = sqlite3(dbPath, `.mode quote\n.headers on\nSELECT * FROM ${ident};\n`).split('\n');
  const header = rows.shift();
  return `${schema}${header}\n${rows.filter((l) => l !== '').sort().join('\n')}\n`;
}

/** { name -> dump } for every data table/view of a data.db. */
export function dumpUserData(dbPath) {
  const out = {};
  for (const o of userObjects(dbPath)) out[`${o.type} ${o.name}`] = dumpObject(dbPath, o.name);
  return out;
}

/** { relative path -> sha256 } of every file below dir (symlinks as links). */
export function hashTree(dir) {
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (e.isDirectory()) walk(p);
      else if (e.isSymbolicLink()) out[rel] = `link:${fs.readlinkSync(p)}`;
      else out[rel] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}
