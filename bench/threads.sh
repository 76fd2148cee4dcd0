#!/usr/bin/env bash
# threads.sh [BUILD_DIR] - CSV -> Parquet at 1, 2 (and more) threads: csvpipe --threads N
# against DuckDB with SET threads = N, on the files of compare.sh (the 2M-row sales file,
# its regional Windows-1252 twin and the 200-column file), with peak RSS (issue 15,
# acceptance 1). GNU time gives the whole-process wall time and peak RSS; the tools
# alternate within each round; medians of RUNS (3).
# Env: RUNS (3), THREADS ("1 2"), ROWS (2000000), WIDE_COLS (200), WIDE_ROWS (ROWS/20),
# TASKS ("parquet regional wide"), OUT (bench/results/threads.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
runs=${RUNS:-3}
threads=${THREADS:-1 2}
rows=${ROWS:-2000000}
wide_cols=${WIDE_COLS:-200}
wide_rows=${WIDE_ROWS:-$((rows / 20))}
tasks=${TASKS:-parquet regional wide}
result=${OUT:-$root/bench/results/threads.md}
csvpipe="$build/csvpipe"
gen="$build/tools/gen_sales"
[ -x "$csvpipe" ] && [ -x "$gen" ] || { echo "no $csvpipe or $gen: make build" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed" >&2; exit 1; }
"$root/scripts/node-deps.sh" "$root/tests/js" >&2

data="$root/bench/data"
mkdir -p "$data"
gen_once() {
    local file=$1
    shift
    [ -s "$file" ] && return 0
    echo "generating $file" >&2
    "$gen" "$@" >"$file.tmp" 2>/dev/null
    mv "$file.tmp" "$file"
}
sales="$data/sales-$rows-rows.csv"
regional="$data/sales-regional-$rows-rows.csv"
wide="$data/sales-wide$wide_cols-$wide_rows-rows.csv"
gen_once "$sales" --rows "$rows" --style utf8 --seed 1
gen_once "$regional" --rows "$rows" --style regional --seed 1
gen_once "$wide" --rows "$wide_rows" --wide "$wide_cols" --seed 1

work=$(mktemp -d "${TMPDIR:-/tmp}/cp-threads.XXXXXX")
trap 'rm -rf "$work"' EXIT
input() {
    case $1 in parquet) echo "$sales" ;; regional) echo "$regional" ;; wide) echo "$wide" ;; esac
}

# once TASK TOOL THREADS: one timed run; appends "TASK TOOL THREADS secs kb" to $work/runs.
once() {
    local task=$1 tool=$2 n=$3 csv
    csv=$(input "$task")
    rm -rf "$work/out"
    mkdir -p "$work/out"
    if [ "$tool" = csvpipe ]; then
        /usr/bin/time -f '%e %M' -o "$work/time" "$csvpipe" run --threads "$n" --formats parquet \
            --no-sql --no-nosql --quiet --out "$work/out" "$csv" >/dev/null
    else
        local style=""
        [ "$task" = regional ] && style=regional
        /usr/bin/time -f '%e %M' -o "$work/time" node "$root/bench/compete.mjs" duckdb "$n" \
            parquet "$csv" "$work/out/x" $style >/dev/null
    fi
    echo "$task $tool $n $(tail -1 "$work/time")" >>"$work/runs"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$work/runs"
for ((r = 1; r <= runs; r++)); do
    for task in $tasks; do
        for n in $threads; do
            once "$task" csvpipe "$n"
            once "$task" duckdb "$n"
        done
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$work/runs" "$result" "$runs" "$load_before" "$load_after" "$(nproc)" \
    "$("$csvpipe" version)" "$(node "$root/bench/compete.mjs" duckdb-version)" <<'PY'
import sys, statistics, datetime, platform
runs_file, out, runs, lb, la, cores, cpv, ddv = sys.argv[1:9]
rows = [l.split() for l in open(runs_file)]
by = {}
for task, tool, n, secs, kb in rows:
    by.setdefault((task, tool, int(n)), []).append((float(secs), int(kb) / 1024))
cpu = "?"
for l in open("/proc/cpuinfo"):
    if l.startswith("model name"):
        cpu = l.split(":", 1)[1].strip()
        break
names = {"parquet": "sales, 2M rows × 10 cols", "regional": "regional twin (cp1252 ;)",
         "wide": "wide, 200 cols"}
o = []
o.append("# CSV → Parquet by thread count: csvpipe against DuckDB (bench/threads.sh)\n")
o.append(f"{runs} runs per row, tools alternating; {cores} cores, {cpu}; "
         f"{datetime.date.today()}; load average (1, 5, 15 min) before {lb}, after {la} "
         f"(other work on the machine: with a load above the core count every number here "
         f"is slowed, the multi-thread ones most).\n")
o.append(f"csvpipe: {cpv}; DuckDB: {ddv} (`SET threads = N`, COPY … (FORMAT parquet, "
         f"COMPRESSION snappy), whole process including Node start-up).\n")
o.append("| input | threads | csvpipe median (s) | csvpipe min–max (s) | csvpipe peak RSS (MB) "
         "| DuckDB median (s) | DuckDB peak RSS (MB) | DuckDB / csvpipe time | csvpipe 1 thread / N threads |")
o.append("|---|---|---|---|---|---|---|---|---|")
for task in ["parquet", "regional", "wide"]:
    for n in sorted({k[2] for k in by if k[0] == task}):
        c = by.get((task, "csvpipe", n), [])
        d = by.get((task, "duckdb", n), [])
        c1 = by.get((task, "csvpipe", 1), [])
        if not c:
            continue
        cm = statistics.median(x[0] for x in c)
        cr = max(x[1] for x in c)
        dm = statistics.median(x[0] for x in d) if d else float("nan")
        dr = max(x[1] for x in d) if d else float("nan")
        s1 = statistics.median(x[0] for x in c1) / cm if c1 else float("nan")
        o.append(f"| {names[task]} | {n} | {cm:.2f} | {min(x[0] for x in c):.2f}–"
                 f"{max(x[0] for x in c):.2f} | {cr:.0f} | {dm:.2f} | {dr:.0f} | "
                 f"{dm / cm:.2f}× | {s1:.2f}× |")
open(out, "w").write("\n".join(o) + "\n")
print("\n".join(o))
PY
