#!/usr/bin/env python3
"""Formats bench/compare.sh's runs as one Markdown table (stdout and the results file).

Usage: compare_table.py RUNS_FILE RESULT_MD; the rest comes from compare.sh's environment.
RUNS_FILE lines: TASK TOOL WALL_S PEAK_KB INNER_S."""
import os
import statistics
import sys

env = os.environ
runs = {}
for line in open(sys.argv[1]):
    task, tool, secs, kb, inner = line.split()
    runs.setdefault((task, tool), []).append((float(secs), int(kb) / 1024, float(inner)))


def stat(key):
    r = runs[key]
    t = [x[0] for x in r]
    m = [x[1] for x in r]
    i = [x[2] for x in r]
    return dict(med=statistics.median(t), lo=min(t), hi=max(t), mem=statistics.median(m),
                memmax=max(m), inner=statistics.median(i))


rows_n = int(env["ROWS_N"])
wide_rows = int(env["WIDE_ROWS_N"])
sqlite_ok = env["SQLITE_PROBE"] == "yes"
polars_skip = env["POLARS_SKIP"]
inputs = {
    "parquet": f"sales, {rows_n:,} rows × 10 cols, {env['SALES_MB']} MB",
    "ndjson": f"sales, {rows_n:,} rows × 10 cols, {env['SALES_MB']} MB",
    "all": f"sales, {rows_n:,} rows × 10 cols, {env['SALES_MB']} MB",
    "wide": f"wide, {wide_rows:,} rows × {env['WIDE_COLS']} cols, {env['WIDE_MB']} MB",
    "regional": f"regional twin (cp1252 ;), {rows_n:,} rows, {env['REGIONAL_MB']} MB",
}
work = {
    ("parquet", "csvpipe"): "Parquet",
    ("ndjson", "csvpipe"): "NDJSON",
    ("all", "csvpipe"): "Parquet + NDJSON + SQLite, one run",
    ("wide", "csvpipe"): "Parquet",
    ("regional", "csvpipe"): "Parquet",
    ("parquet", "duckdb"): "COPY … (FORMAT parquet, COMPRESSION snappy)",
    ("ndjson", "duckdb"): "COPY … (FORMAT json)",
    ("all", "duckdb"): "two COPYs: Parquet, NDJSON" + (" + CREATE TABLE in ATTACHed SQLite" if sqlite_ok else " (no SQLite: extension not available offline)"),
    ("wide", "duckdb"): "COPY … (FORMAT parquet, COMPRESSION snappy)",
    ("regional", "duckdb"): "COPY from read_csv(delim ';', decimal_separator ',', dateformat, encoding 'latin-1')",
    ("parquet", "polars"): "scanCSV → sinkParquet (snappy)",
    ("ndjson", "polars"): "scanCSV → sinkNdJson",
    ("all", "polars"): "two passes: sinkParquet, sinkNdJson (no SQLite writer)",
    ("wide", "polars"): "scanCSV → sinkParquet (snappy)",
}
names = {"csvpipe": env["CP_VERSION"].replace("|", ""), "duckdb": f"DuckDB {env['DUCK_VERSION']}",
         "polars": f"Polars (nodejs-polars {env['POLARS_VERSION']})"}

out = []
out.append(f"# csvpipe against DuckDB and Polars (bench/compare.sh)")
out.append("")
out.append(f"{env['RUNS_N']} runs per task, tools alternating within each round; {env['HEAD_INFO']} "
           "(other work on the machine makes runs vary). Threads: 1 for every tool "
           "(csvpipe is single-threaded; DuckDB `SET threads = 1`; Polars `POLARS_MAX_THREADS=1`, "
           "which sizes its compute pool; its streaming engine's I/O runtime threads are not covered by it).")
out.append("")
full = rows_n == 2000000 and env["MEM_SMALL_B"] == "178257920" and env["MEM_BIG_B"] == "1782579200"
out.append(("Full size" if full else "**Reduced size** (the issue's sizes are ROWS=2000000, MEM_SMALL=178257920, MEM_BIG=1782579200)")
           + f": ROWS={rows_n}, WIDE_ROWS={wide_rows}, WIDE_COLS={env['WIDE_COLS']}, MEM_SMALL={env['MEM_SMALL_B']}, "
           f"MEM_BIG={env['MEM_BIG_B']}, RUNS={env['RUNS_N']}.")
out.append("")
out.append("| task | input | tool | work | threads | time median (s) | time min–max (s) | in-process median (s) | peak RSS median (MB) | peak RSS max (MB) | time csvpipe/tool | RSS csvpipe/tool |")
out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
verdicts = []
for task in env["TASKS"].split():
    cp = stat((task, "csvpipe"))
    for tool in ("csvpipe", "duckdb", "polars"):
        key = (task, tool)
        if key not in runs:
            if tool == "polars":
                why = polars_skip or ("nodejs-polars reads UTF-8 only (encoding utf8 / utf8-lossy): "
                                      "it cannot decode Windows-1252, so it cannot do this work" if task == "regional" else "not run")
                out.append(f"| {task} | {inputs[task]} | {names['polars'] if env['POLARS_VERSION'] else 'Polars'} | skipped: {why} | | | | | | | | |")
            continue
        s = stat(key)
        rt = f"{cp['med'] / s['med']:.2f}" if tool != "csvpipe" else ""
        rm = f"{cp['mem'] / s['mem']:.2f}" if tool != "csvpipe" else ""
        out.append(f"| {task} | {inputs[task]} | {names[tool]} | {work.get(key, '')} | 1 | {s['med']:.2f} | "
                   f"{s['lo']:.2f}–{s['hi']:.2f} | {s['inner']:.2f} | {s['mem']:.0f} | {s['memmax']:.0f} | {rt} | {rm} |")
if ("startup", "duckdb") in runs:
    s = stat(("startup", "duckdb"))
    out.append(f"| start-up | — | Node + loading DuckDB, `SELECT version()` only (inside the DuckDB rows' whole-process numbers) | | 1 | {s['med']:.2f} | {s['lo']:.2f}–{s['hi']:.2f} | | {s['mem']:.0f} | {s['memmax']:.0f} | | |")
out.append("")
out.append("Ratios are csvpipe divided by the tool, from the medians of the whole-process wall time and peak RSS "
           "(GNU time): below 1, csvpipe is faster or smaller; above 1, csvpipe loses. The whole-process numbers of "
           "DuckDB and Polars include starting Node and loading the library (the start-up row); 'in-process' is the "
           "work alone (csvpipe's `timings_ms.total`, the statements timed inside Node). Every output was checked for "
           "its row count. Each tool infers its own column types (csvpipe: DECIMAL(18,2) money, BOOLEAN sim/não; "
           "DuckDB/Polars: DOUBLE money; DuckDB leaves sim/não as VARCHAR).")
out.append("")
out.append("## Targets of issue 7 in this run")
out.append("")
def has(k):
    return k in runs
if has(("parquet", "csvpipe")) and has(("parquet", "duckdb")):
    cp, d = stat(("parquet", "csvpipe")), stat(("parquet", "duckdb"))
    speed = d["med"] / cp["med"]
    mem = cp["mem"] / d["mem"]
    ok = speed >= 2 and mem <= 1 / 3
    out.append(f"- 1. CSV → Parquet at least 2× DuckDB's throughput (1 thread each) with at most a third of its peak memory: "
               f"csvpipe is {speed:.2f}× DuckDB's throughput whole-process ({d['inner'] / cp['inner']:.2f}× counting the work inside the process only), at {mem:.2f}× its peak RSS — **{'met' if ok else 'not met'}**.")
if has(("all", "csvpipe")) and has(("all", "duckdb")):
    cp, d = stat(("all", "csvpipe")), stat(("all", "duckdb"))
    ok = cp["med"] < d["med"]
    out.append(f"- 2. Parquet + NDJSON + SQLite in one csvpipe run faster than DuckDB writing Parquet and NDJSON separately: "
               f"{cp['med']:.2f} s against {d['med']:.2f} s — **{'met' if ok else 'not met'}**"
               + ("" if sqlite_ok else f" (DuckDB did no SQLite: `LOAD sqlite` offline says: {env['SQLITE_PROBE']})") + ".")
small, big = f"mem{env['MEM_SMALL_B']}", f"mem{env['MEM_BIG_B']}"
if has((small, "csvpipe")) and has((big, "csvpipe")):
    a, b = stat((small, "csvpipe")), stat((big, "csvpipe"))
    r = b["memmax"] / a["memmax"]
    ok = abs(r - 1) <= 0.10
    out.append(f"- 3. Peak memory independent of size (csvpipe run --formats {env['MEM_FORMATS']}, gen_sales --bytes, seed 1): "
               f"{int(env['MEM_SMALL_B']) / 1048576:.0f} MB input → {a['memmax']:.1f} MB peak RSS ({a['med']:.1f} s); "
               f"{int(env['MEM_BIG_B']) / 1048576:.0f} MB input → {b['memmax']:.1f} MB ({b['med']:.1f} s); "
               f"ratio {r:.3f} — **{'met' if ok else 'not met'}** (target: within 10%).")
out.append("- 4. Callgrind per-row cost: not measured by this script (see bench/README.md).")
text = "\n".join(out) + "\n"
print(text, end="")
# the sections other scripts keep in the same file (bench/results_section.py) stay
import re
try:
    old = open(sys.argv[2], encoding="utf-8").read()
    blocks = [m.group(0) for m in re.finditer(r"<!-- ([\w-]+) -->\n.*?<!-- /\1 -->", old, re.S)]
except FileNotFoundError:
    blocks = []
open(sys.argv[2], "w", encoding="utf-8").write(text + "".join("\n" + b + "\n" for b in blocks))
