#!/usr/bin/env python3
"""Checks that the layers of src/ only look down.

Each folder of src/ is a layer. Two rules, both run by `make check-layers`
(and first by `make test`):

1. Includes. An `#include "../X/..."` in src/Y must name a layer below Y
   (or Y itself). One that points up, or sideways to another folder of
   the same level, fails; so does a folder missing from LAYERS.

2. The engine. `sqlite3_` belongs to src/db and the filter's SQLite
   dialect (src/filter/dialect.c and its header). Elsewhere it fails,
   except in the folders of SQLITE_INFO (src/core), where the uses are
   only counted until they move behind the store.

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
    ["cli"],
]

# Where sqlite3_ may appear.
SQLITE_ALLOWED = ["src/db/", "src/filter/dialect.c", "src/filter/dialect.h"]
# Where it is still counted, not failed: SQLite calls there are being
# moved behind src/db.
SQLITE_INFO = ["src/core/"]

INCLUDE = re.compile(r'^\s*#\s*include\s+"\.\./([^/"]+)/([^"]*)"')
SQLITE = re.compile(r"sqlite3_")


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
    info = {}

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
            elif target != layer and level[target] >= level[layer]:
                way = "up" if level[target] > level[layer] else "sideways"
                print(f"{rel}:{n}: {layer} includes ../{target}/"
                      f"{m.group(2)}, which is {way} (layers: {order})")
                failures += 1

        if any(rel == a or rel.startswith(a) for a in SQLITE_ALLOWED):
            continue
        hits = [n for n, line in enumerate(lines, 1) if SQLITE.search(line)]
        if not hits:
            continue
        folder = next((f for f in SQLITE_INFO if rel.startswith(f)), None)
        if folder:
            info.setdefault(folder, []).append((rel, len(hits)))
            continue
        for n in hits:
            print(f"{rel}:{n}: sqlite3_ outside src/db and the filter "
                  f"dialect: {lines[n - 1].strip()}")
            failures += 1

    for folder in SQLITE_INFO:
        files = info.get(folder, [])
        total = sum(count for _, count in files)
        print(f"info: {total} lines with sqlite3_ in {len(files)} files of "
              f"{folder} (to move behind src/db)")
        for rel, count in files:
            print(f"info:   {rel}: {count}")

    if failures:
        print(f"check-layers: {failures} problem(s)")
        return 1
    print("check-layers: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
