#!/usr/bin/env python3
"""Server wrapper of the compatibility replay on PostgreSQL (see README.md).

replay.py (or setup/run.py) starts this in place of basalt, as

  pg_serve.py --url ADMIN_URL --template DB [--spec SPEC.json] \
      --dir {dir} --port {port} -- BASALT serve --dir={dir} --http=127.0.0.1:{port}

1. creates a database of its own from the template (CREATE DATABASE x
   TEMPLATE t: a copy of the fixture as `basalt pg export` wrote it);
2. with --spec, prepares it as setup/apply.py prepares data.db on SQLite:
   "settings" and "sql" go to that database (the SQL with SQLite's
   mixed-case names quoted), "aux_sql", "http" and "files" as in apply.py
   (logs stay in {dir}/auxiliary.db on PostgreSQL too);
3. runs the server command with `--db URL/x` added, as its child in the
   same process group, so replay.py's SIGTERM to the group reaches both;
4. when the server has exited, drops the database (WITH (FORCE)) and exits
   with the server's status. A database left behind (SIGKILL) goes with
   the throwaway cluster.

Any failure before the server starts exits 1 with a message, which
replay.py reports as a startup error of the scenario.
"""
import json
import os
import re
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "setup"))
import apply  # noqa: E402  (setup/apply.py: merge, run_sql, http_steps, file_steps)

PSQL = os.path.join(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"), "psql")


def die(msg):
    print("pg_serve.py: %s" % msg, file=sys.stderr, flush=True)
    sys.exit(1)


def db_url(url, name):
    """URL with its database (the path) replaced by name."""
    m = re.match(r"^(postgres(?:ql)?://[^/?]*)(/[^?]*)?(\?.*)?$", url)
    if not m:
        die("cannot read the PostgreSQL URL %r" % url)
    return "%s/%s%s" % (m.group(1), name, m.group(3) or "")


def psql(url, sql, quiet=False):
    proc = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        if quiet:
            return None
        die("psql failed: %s\n  %s" % (proc.stderr.strip(), sql))
    return proc.stdout


def dollar(text):
    """text as a dollar-quoted PostgreSQL literal."""
    tag = "bs"
    while "$%s$" % tag in text:
        tag += "x"
    return "$%s$%s$%s$" % (tag, text, tag)


def pg_spelling(sql):
    """SQLite's spelling of a setup statement for PostgreSQL: backquoted
    names double-quoted and bare mixed-case names (viewRule) quoted, as
    src/db/pg_sql.c does; string literals are left alone."""
    out = []
    for i, part in enumerate(re.split(r"('(?:[^']|'')*')", sql)):
        if i % 2:
            out.append(part)
            continue
        part = part.replace("`", '"')
        out.append(re.sub(r'(?<!["\w])([A-Za-z_]\w*)(?!["\w])',
                          lambda m: '"%s"' % m.group(1)
                          if re.search(r"[a-z]", m.group(1)) and re.search(r"[A-Z]", m.group(1))
                          else m.group(1), part))
    return "".join(out)


def apply_settings(url, patch):
    raw = psql(url, "SELECT value FROM _params WHERE id = 'settings'")
    if not raw.strip():
        die("no settings row in _params")
    cur = json.loads(raw.rstrip("\n"))
    apply.merge(cur, patch)
    text = json.dumps(cur, separators=(",", ":"), ensure_ascii=False)
    psql(url, "UPDATE _params SET value = %s WHERE id = 'settings'" % dollar(text))


def main():
    def options(ap):
        ap.add_argument("--url", required=True, help="URL of the cluster (any database of it)")
        ap.add_argument("--template", required=True)
        ap.add_argument("--spec")
        ap.add_argument("--dir", required=True)
        ap.add_argument("--port", type=int, required=True)

    args, cmd = apply.wrapper_args(
        "pg_serve.py --url URL --template DB [--spec SPEC] --dir DIR --port PORT -- SERVER COMMAND...", options,
        die)

    name = "s%d_%d" % (args.port, os.getpid())
    # FILE_COPY: a copy of the template's files, several times faster
    # than PostgreSQL 15's default (which writes every page to the WAL)
    # for a small database on a cluster without fsync.
    psql(args.url, 'CREATE DATABASE "%s" TEMPLATE "%s" STRATEGY FILE_COPY' % (name, args.template))
    url = db_url(args.url, name)
    cmd = cmd + ["--db", url]

    def drop():
        psql(args.url, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name, quiet=True)

    child = None

    def on_signal(sig, _frame):
        if child is not None and child.poll() is None:
            try:
                child.send_signal(sig)
            except ProcessLookupError:
                pass
        else:
            drop()
            sys.exit(128 + sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    try:
        if args.spec:
            with open(args.spec, encoding="utf-8") as fh:
                spec = json.load(fh)
            if spec.get("settings"):
                apply_settings(url, spec["settings"])
            for st in spec.get("sql") or []:
                psql(url, pg_spelling(st))
            if spec.get("aux_sql"):
                apply.run_sql(os.path.join(args.dir, "auxiliary.db"), spec["aux_sql"])
            if spec.get("http"):
                apply.http_steps(cmd, args.port, spec["http"])
            if spec.get("files"):
                apply.file_steps(args.dir, spec["files"])
        sys.stdout.flush()
        sys.stderr.flush()
        child = subprocess.Popen(cmd)
        while True:
            try:
                rc = child.wait()
                break
            except InterruptedError:
                continue
    except SystemExit:
        drop()
        raise
    drop()
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
