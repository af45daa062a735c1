#!/usr/bin/env python3
"""Checks that the layers of src/ only look down.

Each folder of src/ is a layer. Two rules, both run by `make check-layers`
(and first by `make test`):

1. Includes. An `#include "../X/..."` in src/Y must name a layer below Y
   (or Y itself). One that points up, or sideways to another folder of
   the same level, fails; so does a folder missing from LAYERS. A layer
   listed in ONLY may include just the layers named there (src/js sees
   base and the public header, nothing else).

2. The engine. SQLite (`sqlite3_` calls and types, `SQLITE_` constants,
   `<sqlite3.h>`) belongs to src/db and the filter's SQLite dialect
   (src/filter/dialect.c and its header). Anywhere else it fails: the
   layers above read rows through src/db/rows.h. libpq (`PQ...` calls,
   `PGconn`, `PGresult`, `<libpq-fe.h>`) belongs to src/db alone; the
   layers above use src/db/pg.h. libnats (`natsConnection_...`,
   `nats_...` and the library's other calls and types,
   `NATS_` constants, `<nats/nats.h>`) belongs to src/db/bus.c alone;
   the layers above use src/db/bus.h.

Prints each offence as file:line and exits 1 when there is one. Run from
the top of the tree (or pass it as the first argument).
"""
import os
import re
import sys

# The layers, lowest first; folders on one line are the same level and
# know nothing of each other.
LAYERS = [
    ["base"],
    ["db", "http"],
    ["schema"],
    ["filter"],
    ["core"],
    ["api"],
    ["js"],
    ["cli"],
]

# Layers that may include only some of the layers below them: the
# JavaScript hooks are built on the public C API (include/basalt.h) and
# the base utilities, as a program of its own would be.
ONLY = {"js": ["base", "js"]}

# Where SQLite may be named.
SQLITE_ALLOWED = ["src/db/", "src/filter/dialect.c", "src/filter/dialect.h"]

INCLUDE = re.compile(r'^\s*#\s*include\s+"\.\./([^/"]+)/([^"]*)"')
SQLITE = re.compile(r"sqlite3_|SQLITE_|<sqlite3\.h>")
LIBPQ = re.compile(r"\bPQ[a-z]\w*\s*\(|\bPG(conn|result)\b|<libpq-fe\.h>")
LIBNATS = re.compile(r"\bnats(Connection|Options|Msg|Subscription|Status|"
                     r"Statistics|Inbox|_[A-Z])\w*|\bNATS_[A-Z]|<nats/")
LIBNATS_ALLOWED = "src/db/bus.c"


def sources(root):
    for folder, _, files in sorted(os.walk(os.path.join(root, "src"))):
        for name in sorted(files):
            if name.endswith((".c", ".h")):
                path = os.path.join(folder, name)
                yield os.path.relpath(path, root).replace(os.sep, "/")


def read_lines(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8",
              errors="replace") as f:
        return f.read().split("\n")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    level = {name: i for i, names in enumerate(LAYERS) for name in names}
    order = " < ".join(", ".join(names) for names in LAYERS)
    failures = 0

    for rel in sources(root):
        layer = rel.split("/")[1]
        lines = read_lines(root, rel)
        for n, line in enumerate(lines, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            if layer not in level or target not in level:
                unknown = layer if layer not in level else target
                print(f"{rel}:{n}: src/{unknown} is not a layer; add it to "
                      f"LAYERS in scripts/check_layers.py")
                failures += 1
            elif layer in ONLY and target not in ONLY[layer]:
                print(f"{rel}:{n}: {layer} includes ../{target}/"
                      f"{m.group(2)}; it may include only "
                      f"{', '.join(ONLY[layer])} and basalt.h")
                failures += 1
            elif target != layer and level[target] >= level[layer]:
                way = "up" if level[target] > level[layer] else "sideways"
                print(f"{rel}:{n}: {layer} includes ../{target}/"
                      f"{m.group(2)}, which is {way} (layers: {order})")
                failures += 1

        if not rel.startswith("src/db/"):
            for n, line in enumerate(lines, 1):
                if LIBPQ.search(line):
                    print(f"{rel}:{n}: libpq outside src/db (use "
                          f"src/db/pg.h): {line.strip()}")
                    failures += 1
        if rel != LIBNATS_ALLOWED:
            for n, line in enumerate(lines, 1):
                if LIBNATS.search(line):
                    print(f"{rel}:{n}: libnats outside src/db/bus.c (use "
                          f"src/db/bus.h): {line.strip()}")
                    failures += 1
        if any(rel == a or rel.startswith(a) for a in SQLITE_ALLOWED):
            continue
        for n, line in enumerate(lines, 1):
            if SQLITE.search(line):
                print(f"{rel}:{n}: SQLite outside src/db and the filter "
                      f"dialect (use src/db/rows.h): {line.strip()}")
                failures += 1

    if failures:
        print(f"check-layers: {failures} problem(s)")
        return 1
    print("check-layers: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
