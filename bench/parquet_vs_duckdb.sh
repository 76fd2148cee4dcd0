#!/usr/bin/env bash
# CSV to Parquet, csvpipe against DuckDB (issue 3, acceptance 4). The same generated
# 2,000,000-row, 10-column sales CSV goes through
#   csvpipe run --no-sql --no-nosql --formats parquet --quiet      (single-threaded)
#   DuckDB  COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet, COMPRESSION snappy)
# DuckDB with SET threads = 1 (csvpipe's thread count: the ratio) and, as extra
# information, with every core. Each is run RUNS times (default 3) under GNU time for the
# wall time and the peak resident memory; the Markdown table (median, min, max, ratios) is
# printed and written to bench/results/parquet_vs_duckdb.md.
#
# Usage: bench/parquet_vs_duckdb.sh [BUILD_DIR]   (default build/, built with `make` when
#        its csvpipe or tools/gen_sales is missing). Env: RUNS, ROWS (default 2000000).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_build "${1:-}"
runs=${RUNS:-3}
rows=${ROWS:-2000000}
"$root/scripts/node-deps.sh" "$root/tests/js"
duck() { node "$root/bench/duckdb_copy.mjs" "$@"; }

data="$root/bench/data"
mkdir -p "$data" "$root/bench/results"
csv="$data/sales-$rows-rows.csv"
if [ ! -f "$csv" ]; then
    echo "generating $csv" >&2
    "$gen" --rows "$rows" --style utf8 --seed 1 >"$csv.tmp"
    mv "$csv.tmp" "$csv"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cp-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# measure NAME OUTPUT CMD...: runs CMD $runs times (OUTPUT removed before each run) and
# appends "NAME secs kb" lines to $work/runs.
measure() {
    local name=$1 output=$2
    shift 2
    for ((i = 1; i <= runs; i++)); do
        rm -rf "$output"
        /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/stdout" 2>"$work/stderr" || {
            echo "$name failed:" >&2
            cat "$work/stderr" >&2
            exit 1
        }
        # the conversion's own time, without process start-up: csvpipe's summary
        # (timings_ms.total), duckdb_copy.mjs's second number
        local inner
        inner=$(python3 -c 'import json,sys
t = open(sys.argv[1]).read().split()
print(json.loads(" ".join(t))["timings_ms"]["total"] if t and t[0].startswith("{") else (t[1] if len(t) > 1 else 0))' "$work/stdout")
        echo "$name $(tail -1 "$work/time") $inner" >>"$work/runs"
        echo "  $name run $i: $(tail -1 "$work/time") (s, KB)" >&2
    done
}

ncores=$(nproc)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "csvpipe" >&2
measure csvpipe "$work/csvpipe" "$csvpipe" run --no-sql --no-nosql --formats parquet --quiet \
    --json --out "$work/csvpipe" "$csv"
cp_out=$(find "$work/csvpipe/parquet" -name '*.parquet')
cp_rows=$(duck count "$cp_out")
cp_size=$(stat -c %s "$cp_out")
echo "DuckDB, 1 thread" >&2
measure duckdb1 "$work/duckdb1.parquet" node "$root/bench/duckdb_copy.mjs" copy 1 "$csv" "$work/duckdb1.parquet"
d1_rows=$(duck count "$work/duckdb1.parquet")
d1_size=$(stat -c %s "$work/duckdb1.parquet")
echo "DuckDB, all $ncores threads" >&2
measure duckdbN "$work/duckdbN.parquet" node "$root/bench/duckdb_copy.mjs" copy all "$csv" "$work/duckdbN.parquet"
dn_rows=$(duck count "$work/duckdbN.parquet")
dn_size=$(stat -c %s "$work/duckdbN.parquet")
echo "Node + DuckDB start-up" >&2
measure baseline "$work/none" node "$root/bench/duckdb_copy.mjs" baseline 1
for n in "$cp_rows" "$d1_rows" "$dn_rows"; do
    [ "$n" = "$rows" ] || { echo "an output has $n rows, expected $rows" >&2; exit 1; }
done

python3 - "$work/runs" "$root/bench/results/parquet_vs_duckdb.md" <<PY
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, secs, kb, inner = line.split()
    runs.setdefault(name, []).append((float(secs), int(kb), float(inner) / 1000))
def stat(name):
    t = [r[0] for r in runs[name]]
    m = [r[1] / 1024 for r in runs[name]]
    i = [r[2] for r in runs[name]]
    return statistics.median(t), min(t), max(t), statistics.median(m), max(m), statistics.median(i)
cp = stat("csvpipe")
d1 = stat("duckdb1")
rows = [
    ("$("$csvpipe" --version | head -1 | tr -d '|')", "1", "csvpipe", $cp_size),
    ("DuckDB $(duck version) COPY", "1", "duckdb1", $d1_size),
    ("DuckDB $(duck version) COPY (extra: every core)", "$ncores", "duckdbN", $dn_size),
    ("Node + DuckDB start-up only (inside both DuckDB rows)", "1", "baseline", None),
]
out = []
out.append("CSV to Parquet (snappy): $rows rows, 10 columns, $(($(stat -c %s "$csv") / 1048576)) MB "
           "(gen_sales --rows $rows --style utf8 --seed 1); $runs runs each; "
           "$ncores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); "
           "$(date -u +%Y-%m-%d); load average before the runs $load_before, after "
           "$(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes the runs vary).")
out.append("")
out.append("| tool | threads | time median (s) | time min-max (s) | conversion only, median (s) | peak RSS median (MB) | peak RSS max (MB) | output (MB) | time ratio csvpipe/tool | conversion-only time ratio | memory ratio csvpipe/tool |")
out.append("|---|---|---|---|---|---|---|---|---|---|---|")
for label, threads, key, size in rows:
    s = stat(key)
    tool = key.startswith("duckdb")
    ratio_t = f"{cp[0] / s[0]:.2f}" if tool else ""
    ratio_i = f"{cp[5] / s[5]:.2f}" if tool else ""
    ratio_m = f"{cp[3] / s[3]:.2f}" if tool else ""
    sz = f"{size / 1048576:.1f}" if size else ""
    inner = f"{s[5]:.2f}" if key != "baseline" else ""
    out.append(f"| {label} | {threads} | {s[0]:.2f} | {s[1]:.2f}-{s[2]:.2f} | {inner} | {s[3]:.0f} | {s[4]:.0f} | {sz} | {ratio_t} | {ratio_i} | {ratio_m} |")
out.append("")
out.append("Ratios are csvpipe divided by the tool (below 1: csvpipe is faster or smaller); the "
           "1-thread DuckDB row is the comparison at the same thread count. Time and peak RSS "
           "are GNU time's for the whole process, so DuckDB's include starting Node and loading "
           "DuckDB (the start-up row); 'conversion only' is the time inside the process "
           "(csvpipe's summary total, the COPY statement for DuckDB).")
text = "\n".join(out) + "\n"
open(sys.argv[2], "w").write(text)
print(text, end="")
PY
