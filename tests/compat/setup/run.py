#!/usr/bin/env python3
"""Runs the ported setup-class pbcompat scenarios (see README.md).

  python3 tests/compat/setup/run.py                 # every spec in scenarios/
  python3 tests/compat/setup/run.py --filter batch  # specs whose file name or ids match
  python3 tests/compat/setup/run.py --verbose       # also replay.py's detail

For every spec file in scenarios/*.json it calls the kit's replay.py once,
selecting exactly the spec's scenario ids (--class all --filter '^(id1|id2) '),
with a --server-cmd that runs apply.py (the spec's setup on the fixture
copy) and then execs basalt. The kit is only read, never modified.

Environment: BASALT_BIN (default <repo>/build/basalt), PBCOMPAT_DIR
(default <repo>/../shared/pbcompat), COMPAT_JOBS (default 2);
COMPAT_PG_URL and COMPAT_PG_TEMPLATE (set by ../run_pg.sh): run the
servers on PostgreSQL through ../pg_serve.py, which applies the specs there.
Prints one FAIL line per failing scenario and a last line
"setup: N passed, M failed"; writes build/compat/setup-results.json.
Exit status 0 whatever the results (like replay.py), 2 when it cannot run.
"""
import argparse
import glob
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--filter", help="regex on the spec file name and its ids")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--specs", default=os.path.join(HERE, "scenarios"), help="folder of spec files")
    ap.add_argument("--json", dest="json_out", default=os.path.join(REPO, "build", "compat", "setup-results.json"))
    args = ap.parse_args(argv)

    kit = os.environ.get("PBCOMPAT_DIR") or os.path.join(REPO, "..", "shared", "pbcompat")
    kit = os.path.abspath(kit)
    replay = os.path.join(kit, "replay.py")
    if not os.path.isfile(replay):
        print("setup: pbcompat kit not found at %s - skipping" % kit)
        return 0
    basalt = os.path.abspath(os.environ.get("BASALT_BIN") or os.path.join(REPO, "build", "basalt"))
    if not os.access(basalt, os.X_OK):
        print("setup: basalt binary not found at %s (run make first)" % basalt, file=sys.stderr)
        return 2

    # Set by run_pg.sh: the servers run on PostgreSQL (../pg_serve.py).
    pg_url = os.environ.get("COMPAT_PG_URL")
    pg_template = os.environ.get("COMPAT_PG_TEMPLATE")
    if pg_url and not pg_template:
        print("setup: COMPAT_PG_URL needs COMPAT_PG_TEMPLATE", file=sys.stderr)
        return 2

    with open(os.path.join(kit, "scenarios.json"), encoding="utf-8") as fh:
        known = {s["id"]: s for s in json.load(fh)}

    rx = re.compile(args.filter) if args.filter else None
    specs = sorted(glob.glob(os.path.join(args.specs, "*.json")))
    results = []
    problems = 0
    for path in specs:
        with open(path, encoding="utf-8") as fh:
            spec = json.load(fh)
        ids = spec.get("ids") or []
        name = os.path.basename(path)
        if rx and not (rx.search(name) or any(rx.search(i) for i in ids)):
            continue
        missing = [i for i in ids if i not in known]
        if not ids or missing:
            print("setup: %s: unknown or no scenario ids %s" % (name, missing or ids), file=sys.stderr)
            problems += 1
            continue
        # Each id is followed by a space in "<id> <name>": anchors exactly.
        flt = "^(%s) " % "|".join(re.escape(i) for i in ids)
        if pg_url:
            wrapper = [sys.executable, os.path.join(HERE, "..", "pg_serve.py"), "--url", pg_url,
                       "--template", pg_template, "--spec", path]
        else:
            wrapper = [sys.executable, os.path.join(HERE, "apply.py"), "--spec", path]
        wrapper += ["--dir", "{dir}", "--port", "{port}", "--",
                    basalt, "serve", "--dir={dir}", "--http=127.0.0.1:{port}"]
        server_cmd = " ".join(shlex.quote(a) if "{" not in a else a for a in wrapper)
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
            out_json = tmp.name
        try:
            cmd = [sys.executable, replay, "--server-cmd", server_cmd, "--class", "all",
                   "--filter", flt, "--jobs", os.environ.get("COMPAT_JOBS", "2"), "--json", out_json]
            if args.verbose:
                cmd.append("--verbose")
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stdout + proc.stderr, file=sys.stderr)
                print("setup: replay.py failed for %s (exit %d)" % (name, proc.returncode), file=sys.stderr)
                return 2
            lines = [l for l in proc.stdout.splitlines() if l.strip()]
            body = lines[:-1]
            for l in body:
                if args.verbose or l.startswith("FAIL "):
                    print(l)
            with open(out_json, encoding="utf-8") as fh:
                doc = json.load(fh)
        finally:
            os.unlink(out_json)
        ran = [r for r in doc["results"] if r["result"] != "skip"]
        if len(ran) != len(ids):
            print("setup: %s: %d of %d ids ran" % (name, len(ran), len(ids)), file=sys.stderr)
            problems += 1
        for r in ran:
            r["spec"] = name
        results.extend(ran)

    passed = sum(1 for r in results if r["result"] == "pass")
    failed = len(results) - passed
    os.makedirs(os.path.dirname(args.json_out), exist_ok=True)
    with open(args.json_out, "w", encoding="utf-8") as fh:
        json.dump({"passed": passed, "failed": failed, "results": results}, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print("setup: %d passed, %d failed" % (passed, failed))
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
