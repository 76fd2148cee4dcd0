#!/usr/bin/env python3
"""An independent oracle for csvpipe's PostgreSQL loads.

Parses the source CSV with Python's csv module, turns every field into the canonical value
of its column's type (the types the test knows the file has, --types, never those of
csvpipe's summary, which must agree), and compares cell by cell with the table as PostgreSQL itself renders it: one
json_build_array per row, read with psql. Also checks the declared column types in
information_schema.columns against docs/design.md's table (data_type, numeric_precision,
numeric_scale) and that _row numbers the rows 1..N. Prints one line per check and exits 1
on any difference. Nothing here uses csvpipe's code.
"""
import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from oracle_common import (BOOL_WORDS, NULLS, Checks, number_text, parse_date,  # noqa: E402
                           parse_timestamp, source_rows)

PG_TYPES = {"INT64": ("bigint", None, None), "DOUBLE": ("double precision", None, None),
            "BOOLEAN": ("boolean", None, None), "DATE": ("date", None, None),
            "TIMESTAMP": ("timestamp without time zone", None, None),
            "TIMESTAMPTZ": ("timestamp with time zone", None, None),
            "STRING": ("text", None, None), "NULL": ("text", None, None)}


def expected(type_name, raw, args):
    if raw in NULLS:
        return None
    if type_name == "INT64":
        return int(number_text(raw, args.decimal, args.currency))
    if type_name.startswith("DECIMAL"):
        scale = int(type_name.split(",")[1].rstrip(")"))
        return Decimal(number_text(raw, args.decimal, args.currency)).quantize(
            Decimal(1).scaleb(-scale))
    if type_name == "DOUBLE":
        return float(number_text(raw, args.decimal, args.currency))
    if type_name == "BOOLEAN":
        return BOOL_WORDS[raw.lower()]
    if type_name == "DATE":
        return parse_date(raw, args.date_order)
    if type_name == "TIMESTAMP":
        return parse_timestamp(raw, args.date_order)
    if type_name == "TIMESTAMPTZ":
        return dt.datetime.fromisoformat(raw.replace(" ", "T")).astimezone(dt.timezone.utc)
    return raw


def from_pg(type_name, v):
    """PostgreSQL's JSON rendering of a value, as a Python value comparable to expected()."""
    if v is None:
        return None
    if type_name.startswith("DECIMAL"):
        return Decimal(v)
    if type_name == "DOUBLE":
        return float(v)
    if type_name == "DATE":
        return dt.date.fromisoformat(v)
    if type_name == "TIMESTAMP":
        return dt.datetime.fromisoformat(v)
    if type_name == "TIMESTAMPTZ":
        return dt.datetime.fromisoformat(v).astimezone(dt.timezone.utc)
    return v


check = Checks()


def ident(name):
    return '"' + name.replace('"', '""') + '"'


def literal(text):
    return "'" + text.replace("'", "''") + "'"


def psql(url, query):
    out = subprocess.run(["psql", url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                          "-c", query], check=True, capture_output=True, text=True).stdout
    return [line for line in out.split("\n") if line]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--encoding", default="utf-8")
    ap.add_argument("--delimiter", default=",")
    ap.add_argument("--decimal", default=".")
    ap.add_argument("--date-order", default="mdy")
    ap.add_argument("--summary", required=True, help="csvpipe run --json output (one line)")
    ap.add_argument("--pg", required=True, help="libpq URL of the database")
    ap.add_argument("--types", required=True,
                    help="the column types the file has, space-separated, in column order")
    args = ap.parse_args()

    summary = json.loads(open(args.summary).readline())
    schema = summary["schema"]
    names = [c["name"] for c in schema]
    types = args.types.split()
    check("csvpipe's types are the file's types", [c["type"] for c in schema] == types,
          f'{" ".join(c["type"] for c in schema)} vs {args.types}')
    if len(types) != len(schema):
        sys.exit(check.finish())
    table = summary["dataset"]
    detected = summary.get("detected", {})
    args.currency = detected.get("currency")
    header, data = source_rows(args.csv, args.encoding, args.delimiter, detected)
    want = [[expected(types[i], (r + [""] * len(types))[i], args) for i in range(len(types))]
            for r in data]
    if header is None:
        header = [""] * len(schema)  # no header: csvpipe names the columns column_N
    check("source header matches the schema's source names",
          header == [c["source_name"] for c in schema], f"{header} vs schema")
    check("summary row count", summary["rows"] == len(want), f"{summary['rows']} vs {len(want)}")

    # declared types
    got_types = {}
    for line in psql(args.pg, "SELECT json_build_array(column_name, data_type, numeric_precision, "
                     "numeric_scale) FROM information_schema.columns WHERE table_schema = "
                     "current_schema() AND table_name = " + literal(table)):
        n, t, p, s = json.loads(line)
        got_types[n] = (t, p, s)
    for n, t in zip(names, types):
        if t.startswith("DECIMAL"):
            p, s = t[len("DECIMAL("):-1].split(",")
            w = ("numeric", int(p), int(s))
        else:
            w = PG_TYPES[t]
        g = got_types.get(n)
        if g and w[1] is None:
            g = (g[0], None, None)
        check(f"column {n} ({t}) is {w[0]}{'' if w[1] is None else '(%d,%d)' % w[1:]}", g == w,
              f"got {g}")
    check("_source is text", got_types.get("_source", (None,))[0] == "text")
    check("_row is bigint", got_types.get("_row", (None,))[0] == "bigint")

    # values, cell by cell
    cols = ", ".join(ident(n) for n in names)
    lines = psql(args.pg, f"SELECT json_build_array(_row, {cols}) FROM {ident(table)} "
                 f"WHERE _source = {literal(summary['source_uri'])} ORDER BY _row")
    got = [json.loads(line, parse_float=str, parse_int=str) for line in lines]
    check("_row numbers the rows 1..N",
          [int(r[0]) for r in got] == list(range(1, len(want) + 1)))
    if len(got) != len(want):
        check("PostgreSQL rows equal the source", False, f"{len(got)} rows, expected {len(want)}")
    else:
        bad = None
        for i, (w, g) in enumerate(zip(want, got)):
            g = [int(v) if types[c] == "INT64" and v is not None else from_pg(types[c], v)
                 for c, v in enumerate(g[1:])]
            for c, (a, b) in enumerate(zip(w, g)):
                same = a == b and (not isinstance(a, Decimal) or str(a) == str(b))
                if not same:
                    bad = f"row {i + 1} column {names[c]}: got {b!r}, expected {a!r}"
                    break
            if bad:
                break
        check(f"PostgreSQL rows equal the source ({len(want)} rows x {len(names)} columns)",
              bad is None, bad or "")
    sys.exit(check.finish())


main()
