#!/usr/bin/env python3
"""An independent oracle for csvpipe's outputs.

Parses the source CSV with Python's csv module, turns every field into the canonical
value of its column's type (the types the test knows the file has, --types, never those of
csvpipe's summary, which must agree), and compares cell by cell with: the Parquet rows as read back by an
independent reader (tests/js/read_parquet.mjs output), csvpipe's NDJSON, the SQLite table
and the SQLite item store. Prints one line per check and exits 1 on any difference.
"""
import argparse
import datetime as dt
import json
import sqlite3
import sys
from decimal import Decimal

from oracle_common import (BOOL_WORDS, NULLS, Checks, number_text, parse_date, parse_timestamp,
                           source_rows)



def ts_text(t):
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    return s + (".%06d" % t.microsecond if t.microsecond else "")


def expected(type_name, raw, args):
    """The canonical text/number of one source field, or None for a null."""
    if raw in NULLS:
        return None
    if type_name == "INT64":
        return int(number_text(raw, args.decimal, args.currency))
    if type_name.startswith("DECIMAL"):
        scale = int(type_name.split(",")[1].rstrip(")"))
        text = number_text(raw, args.decimal, args.currency)
        return str(Decimal(text).quantize(Decimal(1).scaleb(-scale)))
    if type_name == "DOUBLE":
        return float(number_text(raw, args.decimal, args.currency))
    if type_name == "BOOLEAN":
        return BOOL_WORDS[raw.lower()]
    if type_name == "DATE":
        return parse_date(raw, args.date_order).isoformat()
    if type_name == "TIMESTAMP":
        return ts_text(parse_timestamp(raw, args.date_order))
    return raw


def load_source(args, types, detected):
    header, data = source_rows(args.csv, args.encoding, args.delimiter, detected)
    out = []
    for r in data:
        r = r + [""] * (len(types) - len(r))
        out.append([expected(types[i], r[i], args) for i in range(len(types))])
    return header, out


check = Checks()


def compare_rows(name, want, got, names, convert):
    if len(want) != len(got):
        check(name, False, f"{len(got)} rows, expected {len(want)}")
        return
    for i, (w, g) in enumerate(zip(want, got)):
        g = convert(g)
        if w != g:
            for c, (a, b) in enumerate(zip(w, g)):
                if a != b:
                    check(name, False, f"row {i + 1} column {names[c]}: got {b!r}, expected {a!r}")
                    return
            check(name, False, f"row {i + 1}: got {g!r}, expected {w!r}")
            return
    check(name, True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--encoding", default="utf-8")
    ap.add_argument("--delimiter", default=",")
    ap.add_argument("--decimal", default=".")
    ap.add_argument("--date-order", default="mdy")
    ap.add_argument("--summary", required=True, help="csvpipe run --json output (one line)")
    ap.add_argument("--types", required=True,
                    help="the column types the file has, space-separated, in column order")
    ap.add_argument("--parquet-rows", help="read_parquet.mjs output")
    ap.add_argument("--ndjson")
    ap.add_argument("--sqlite")
    ap.add_argument("--items")
    ap.add_argument("--ddb-items", help="DynamoDB JSON items, one per line (awspy.py ddb-scan)")
    args = ap.parse_args()

    summary = json.loads(open(args.summary).readline())
    schema = summary["schema"]
    names = [c["name"] for c in schema]
    types = args.types.split()
    check("csvpipe's types are the file's types", [c["type"] for c in schema] == types,
          f'{" ".join(c["type"] for c in schema)} vs {args.types}')
    if len(types) != len(schema):
        sys.exit(check.finish())
    detected = summary.get("detected", {})
    args.currency = detected.get("currency")
    header, want = load_source(args, types, detected)
    if header is None:
        header = [""] * len(schema)  # no header: csvpipe names the columns column_N
    check("source header matches the schema's source names",
          header == [c["source_name"] for c in schema], f"{header} vs schema")
    check("summary row count", summary["rows"] == len(want), f"{summary['rows']} vs {len(want)}")

    def as_text_numbers(row):
        # JSON numbers that are DECIMAL columns compare as their exact text
        return [str(v) if types[i].startswith("DECIMAL") and v is not None else v
                for i, v in enumerate(row)]

    if args.parquet_rows:
        got = [json.loads(l, parse_float=str) for l in open(args.parquet_rows)]
        compare_rows("parquet read back equals the source", want,
                     [[r[n] for n in names] for r in got], names, as_text_numbers)
    if args.ndjson:
        got = [json.loads(l, parse_float=str) for l in open(args.ndjson)]
        check("every NDJSON line is an object with the schema's keys",
              all(list(r.keys()) == names for r in got))
        compare_rows("NDJSON equals the source", want, [[r[n] for n in names] for r in got],
                     names, as_text_numbers)
    if args.sqlite:
        db = sqlite3.connect(args.sqlite)
        table = summary["dataset"]
        cols = ", ".join('"%s"' % n for n in names)
        got = db.execute(f'SELECT {cols} FROM "{table}" WHERE _source = ? ORDER BY _row',
                         (summary["source_uri"],)).fetchall()

        def sqlite_row(r):
            return [bool(v) if types[i] == "BOOLEAN" and v is not None else v
                    for i, v in enumerate(r)]
        compare_rows("SQLite rows equal the source", want, [list(r) for r in got], names,
                     sqlite_row)
        kinds = {"INT64": "integer", "BOOLEAN": "integer", "DOUBLE": "real"}
        for i, n in enumerate(names):
            seen = {k for (k,) in db.execute(
                f'SELECT DISTINCT typeof("{n}") FROM "{table}" WHERE "{n}" IS NOT NULL')}
            want_kind = kinds.get(types[i].split("(")[0], "text")
            check(f"SQLite storage of {n} is {want_kind}", seen <= {want_kind}, str(seen))
        rows = db.execute(f'SELECT _row FROM "{table}" WHERE _source = ? ORDER BY _row',
                          (summary["source_uri"],)).fetchall()
        check("_row numbers the rows 1..N", [r for (r,) in rows] == list(range(1, len(want) + 1)))
    if args.items:
        db = sqlite3.connect(args.items)
        items = [json.loads(t, parse_float=str) for (t,) in db.execute(
            "SELECT item FROM items WHERE json_extract(item, '$._source') = ?",
            (summary["source_uri"],))]
        items.sort(key=lambda it: it["_row"])
        check("one item per row", len(items) == len(want), f"{len(items)} vs {len(want)}")
        compare_rows("items equal the source", want,
                     [[it.get(n) for n in names] for it in items], names, as_text_numbers)
    if args.ddb_items:
        def plain(attr, t):
            (kind, v), = attr.items()
            if kind == "BOOL":
                return v
            if kind == "N":
                return int(v) if t == "INT64" else float(v) if t == "DOUBLE" else v
            return v
        items = [json.loads(l) for l in open(args.ddb_items)]
        items = [it for it in items if it["_source"]["S"] == summary["source_uri"]]
        items.sort(key=lambda it: int(it["_row"]["N"]))
        check("one DynamoDB item per row", len(items) == len(want), f"{len(items)} vs {len(want)}")
        check("DynamoDB items carry _dataset and _row 1..N",
              [int(it["_row"]["N"]) for it in items] == list(range(1, len(want) + 1)) and
              all(it["_dataset"]["S"] == summary["dataset"] for it in items))
        compare_rows("DynamoDB items equal the source (nulls absent)", want,
                     [[plain(it[n], types[i]) if n in it else None for i, n in enumerate(names)]
                      for it in items], names, as_text_numbers)
    sys.exit(check.finish())


main()
