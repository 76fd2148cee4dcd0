#!/usr/bin/env python3
"""The invariants of tests/soak/kill_soak.sh after each kill, and after each rerun.

Every source is a gen_sales file; a version is told by its fingerprint: the number of rows
and the sums of the columns id and quantidade, computed here from the CSV. For each source
(by its absolute path, as csvpipe's _source):

  mid   (after a kill): the table's rows of the source, its items and its NDJSON file are
        each all of one version, the previous or the current (or nothing, before the first
        load); the Parquet file is whole (PAR1 at both ends); the ledger has at most one
        `loaded` row per version, and its last `loaded` row counts as many rows as the
        table holds of the source (they commit together).
  final (after the rerun): every store holds the current version, the ledger exactly one
        `loaded` row for it, and no temporary file is left anywhere under the outputs.

Prints one line per problem and exits 1 when there is any.
"""
import argparse
import csv
import glob
import json
import os
import sqlite3
import sys


def fingerprint_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    data = [r for r in rows[1:] if r]
    return (len(data), sum(int(r[0]) for r in data), sum(int(r[6]) for r in data))


def fp_of(n, a, b):
    return (n, a or 0, b or 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", choices=["mid", "final"], required=True)
    ap.add_argument("--source", action="append", default=[],
                    help="PATH=CURRENT_CSV[,PREVIOUS_CSV]: a source and the files of its versions")
    args = ap.parse_args()
    problems = []
    wh = sqlite3.connect(os.path.join(args.out, "warehouse.db"))
    items = sqlite3.connect(os.path.join(args.out, "items.db"))
    tables = {r[0] for r in wh.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    has_items = bool(items.execute(
        "SELECT count(*) FROM sqlite_master WHERE name = 'items'").fetchone()[0])
    for spec in args.source:
        src, files = spec.split("=", 1)
        files = files.split(",")
        cur = fingerprint_csv(files[0])
        prev = fingerprint_csv(files[1]) if len(files) > 1 and files[1] else None
        allowed = {cur} if args.mode == "final" else {cur, prev or (0, 0, 0)}
        stem = os.path.splitext(os.path.basename(src))[0]
        ds = stem.replace("-", "_").lower()

        def need(what, got):
            if got not in allowed:
                problems.append(f"{src}: {what} holds {got}, expected one of {sorted(allowed)}")

        table = fp_of(*wh.execute(
            f'SELECT count(*), sum(id), sum(quantidade) FROM "{ds}" WHERE _source = ?',
            (src,)).fetchone()) if ds in tables else (0, 0, 0)
        need("the table", table)
        if has_items:
            need("the item store", fp_of(*items.execute(
                "SELECT count(*), sum(json_extract(item, '$.id')), "
                "sum(json_extract(item, '$.quantidade')) FROM items "
                "WHERE json_extract(item, '$._source') = ?", (src,)).fetchone()))
        nd = os.path.join(args.out, "json", ds, stem + ".jsonl")
        if os.path.exists(nd):
            objs = [json.loads(line) for line in open(nd)]
            need("the NDJSON file", fp_of(len(objs), sum(o["id"] for o in objs),
                                          sum(o["quantidade"] for o in objs)))
        else:
            need("the NDJSON file (absent)", (0, 0, 0))
        pq = os.path.join(args.out, "parquet", ds, stem + ".parquet")
        if os.path.exists(pq):
            with open(pq, "rb") as f:
                head = f.read(4)
                f.seek(-4, 2)
                tail = f.read(4)
            if head != b"PAR1" or tail != b"PAR1":
                problems.append(f"{src}: the Parquet file is not whole")
        elif args.mode == "final":
            problems.append(f"{src}: no Parquet file")
        if "csvpipe_loads" in tables:
            dup = wh.execute("SELECT version, count(*) FROM csvpipe_loads WHERE source_uri = ? AND "
                             "status = 'loaded' GROUP BY version HAVING count(*) > 1",
                             (src,)).fetchall()
            for v, n in dup:
                problems.append(f"{src}: version {v} loaded {n} times")
            last = wh.execute("SELECT rows_loaded FROM csvpipe_loads WHERE source_uri = ? AND "
                              "status = 'loaded' ORDER BY id DESC LIMIT 1", (src,)).fetchone()
            if (last[0] if last else 0) != table[0]:
                problems.append(f"{src}: the ledger's last load has {last} rows, the table "
                                f"{table[0]}")
            if args.mode == "final" and not last:
                problems.append(f"{src}: never loaded")
    if args.mode == "final":
        for t in glob.glob(os.path.join(args.out, "**", "*.tmp-*"), recursive=True):
            problems.append(f"temporary file left: {t}")
    for p in problems:
        print("not ok -", p)
    sys.exit(1 if problems else 0)


main()
