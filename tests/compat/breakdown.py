#!/usr/bin/env python3
"""Per-file breakdown of a pbcompat results file, or the difference of two.

  python3 tests/compat/breakdown.py [build/compat/results.json]
      one line per PocketBase test file: passed / failed / skipped / total
  python3 tests/compat/breakdown.py OLD.json NEW.json
      the scenarios that started or stopped passing between two runs
  python3 tests/compat/breakdown.py --fails FILE_REGEX [RESULTS.json]
      the failing scenarios of the matching files with what went wrong
"""
import collections
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "..", "..", "build", "compat", "results.json")


def load(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)["results"]


def file_of(res):
    return res["id"].split(":", 1)[0]


def table(results):
    rows = collections.OrderedDict()
    for r in results:
        c = rows.setdefault(file_of(r), collections.Counter())
        c[r["result"] if r["result"] in ("pass", "skip") else "fail"] += 1
    width = max([len(f) for f in rows] + [4])
    print("%-*s %6s %6s %6s %6s" % (width, "file", "pass", "fail", "skip", "total"))
    tot = collections.Counter()
    for f in sorted(rows):
        c = rows[f]
        tot.update(c)
        print("%-*s %6d %6d %6d %6d" % (width, f, c["pass"], c["fail"], c["skip"], sum(c.values())))
    print("%-*s %6d %6d %6d %6d" % (width, "total", tot["pass"], tot["fail"], tot["skip"], sum(tot.values())))


def diff(old, new):
    o = {r["id"]: r for r in old}
    n = {r["id"]: r for r in new}
    lost = [i for i in n if n[i]["result"] != "pass" and o.get(i, {}).get("result") == "pass"]
    won = [i for i in n if n[i]["result"] == "pass" and o.get(i, {}).get("result") != "pass"]
    for i in lost:
        print("NOW FAILING %s %s: %s" % (i, json.dumps(n[i]["name"]), "; ".join(n[i].get("errors", []))))
    for i in won:
        print("NOW PASSING %s %s" % (i, json.dumps(n[i]["name"])))
    print("%d now failing, %d now passing" % (len(lost), len(won)))


def fails(rx, results):
    for r in results:
        if r["result"] not in ("pass", "skip") and rx.search(r["id"]):
            print("FAIL %s %s: %s" % (r["id"], json.dumps(r["name"]), "; ".join(r.get("errors", []))))
            if "status" in r:
                print("     got %s: %s" % (r["status"], r.get("body_preview", "")))


def main(argv):
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if argv and argv[0] == "--fails":
        if len(argv) < 2:
            print(__doc__.strip(), file=sys.stderr)
            return 2
        fails(re.compile(argv[1]), load(argv[2] if len(argv) > 2 else DEFAULT))
        return 0
    if len(argv) == 2:
        diff(load(argv[0]), load(argv[1]))
        return 0
    table(load(argv[0] if argv else DEFAULT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
