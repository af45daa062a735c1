#!/usr/bin/env python3
"""Server wrapper for ported setup-class scenarios (see README.md).

replay.py starts this in place of basalt, as

  apply.py --spec SPEC.json --dir {dir} --port {port} -- BASALT serve --dir={dir} --http=127.0.0.1:{port}

It prepares the fixture copy {dir} as the scenario's Go BeforeTestFunc
would, then execs the real server command (same pid, so replay.py's
SIGTERM to the process group reaches basalt):

1. "settings": a JSON merge patch applied to the stored settings
   (_params row "settings" in data.db): objects merge, anything else
   (arrays, scalars) replaces - like assigning app.Settings().X = Y in Go;
2. "sql": statements run on data.db, "aux_sql" on auxiliary.db, in one
   transaction each;
3. "http": requests sent to a temporary server started on another port
   (same command, port swapped), which is then stopped; each step may check
   "expectStatus";
4. "files": copies inside the data dir, [{"copy": FROM, "to": TO}] with
   paths relative to it (e.g. a backup under a name the API refuses).

Any failure exits 1 with a message, which replay.py reports as a startup
error of the scenario. Only the temp dir replay.py made is touched; the kit
is never modified.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request


def die(msg):
    print("apply.py: %s" % msg, file=sys.stderr, flush=True)
    sys.exit(1)


def merge(dst, patch):
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            merge(dst[k], v)
        else:
            dst[k] = v


def apply_settings(db_path, patch):
    con = sqlite3.connect(db_path)
    try:
        row = con.execute("SELECT value FROM _params WHERE id = 'settings'").fetchone()
        if row is None:
            die("no settings row in _params of %s" % db_path)
        raw = row[0]
        was_blob = isinstance(raw, (bytes, bytearray))
        cur = json.loads(bytes(raw).decode("utf-8") if was_blob else raw)
        merge(cur, patch)
        text = json.dumps(cur, separators=(",", ":"), ensure_ascii=False)
        value = text.encode("utf-8") if was_blob else text  # keep the stored type
        with con:
            con.execute("UPDATE _params SET value = ? WHERE id = 'settings'", (value,))
    finally:
        con.close()


def run_sql(db_path, statements):
    if not os.path.exists(db_path):
        die("%s does not exist" % db_path)
    con = sqlite3.connect(db_path, isolation_level=None)
    try:
        con.execute("BEGIN")
        for st in statements:
            try:
                con.execute(st)  # one statement per entry
            except sqlite3.Error as e:
                con.execute("ROLLBACK")
                die("SQL failed on %s: %s\n  %s" % (os.path.basename(db_path), e, st))
        con.execute("COMMIT")
    finally:
        con.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_steps(cmd, port, steps):
    tmp_port = free_port()
    needle = "127.0.0.1:%d" % port
    tmp_cmd = [a.replace(needle, "127.0.0.1:%d" % tmp_port) for a in cmd]
    if tmp_cmd == cmd:
        die("cannot find %s in the server command to start the setup server" % needle)
    proc = subprocess.Popen(tmp_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 10
        while True:
            if proc.poll() is not None:
                die("the setup server exited with %s" % proc.returncode)
            try:
                socket.create_connection(("127.0.0.1", tmp_port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline:
                    die("the setup server did not listen")
                time.sleep(0.02)
        base = "http://127.0.0.1:%d" % tmp_port
        for i, st in enumerate(steps):
            body = st.get("body")
            if body is not None and not isinstance(body, str):
                body = json.dumps(body)
            headers = {"Content-Type": "application/json"}
            headers.update(st.get("headers", {}))
            req = urllib.request.Request(base + st["url"], method=st.get("method", "GET"),
                                         data=body.encode("utf-8") if body is not None else None,
                                         headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=30) as res:
                    status, text = res.status, res.read().decode("utf-8", "replace")
            except urllib.error.HTTPError as e:
                status, text = e.code, e.read().decode("utf-8", "replace")
            want = st.get("expectStatus")
            if want is not None and status != want:
                die("setup step %d %s %s: status %d, want %d: %s"
                    % (i, st.get("method", "GET"), st["url"], status, want, text[:300]))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def inside(root, rel):
    path = os.path.normpath(os.path.join(root, rel))
    if os.path.isabs(rel) or not path.startswith(os.path.normpath(root) + os.sep):
        die("file step path %r is not inside the data dir" % rel)
    return path


def file_steps(root, steps):
    for st in steps:
        src, dst = inside(root, st["copy"]), inside(root, st["to"])
        try:
            shutil.copyfile(src, dst)
        except OSError as e:
            die("cannot copy %s to %s: %s" % (st["copy"], st["to"], e))


def wrapper_args(usage, add_options, fail=die):
    """Reads `OPTIONS -- SERVER COMMAND...` from the command line: the
    options (add_options declares them on a parser) and the command;
    fail(message) ends the program otherwise."""
    argv = sys.argv[1:]
    if "--" not in argv:
        fail("usage: " + usage)
    i = argv.index("--")
    ap = argparse.ArgumentParser()
    add_options(ap)
    args = ap.parse_args(argv[:i])
    cmd = argv[i + 1:]
    if not cmd:
        fail("no server command")
    return args, cmd


def main():
    def options(ap):
        ap.add_argument("--spec", required=True)
        ap.add_argument("--dir", required=True)
        ap.add_argument("--port", type=int, required=True)

    args, cmd = wrapper_args("apply.py --spec SPEC --dir DIR --port PORT -- SERVER COMMAND...", options)
    with open(args.spec, encoding="utf-8") as fh:
        spec = json.load(fh)

    data_db = os.path.join(args.dir, "data.db")
    aux_db = os.path.join(args.dir, "auxiliary.db")
    if spec.get("settings"):
        apply_settings(data_db, spec["settings"])
    if spec.get("sql"):
        run_sql(data_db, spec["sql"])
    if spec.get("aux_sql"):
        run_sql(aux_db, spec["aux_sql"])
    if spec.get("http"):
        http_steps(cmd, args.port, spec["http"])
    if spec.get("files"):
        file_steps(args.dir, spec["files"])
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(cmd[0], cmd)
    except OSError as e:
        die("cannot run %s: %s" % (cmd[0], e))


if __name__ == "__main__":
    main()
