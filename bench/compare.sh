#!/usr/bin/env bash
# The main table of `make bench` (issue 7): csvpipe against DuckDB and Polars on the same
# generated files, in the same run, at the same thread count (1: csvpipe converts a file on
# one thread; DuckDB with SET threads = 1, Polars with POLARS_MAX_THREADS=1).
#
# Tasks (each tool does the same work, each output checked for its row count):
#   parquet   sales CSV -> Parquet (snappy)
#   ndjson    sales CSV -> NDJSON
#   all       sales CSV -> Parquet + NDJSON + SQLite in one csvpipe run, against each
#             competitor writing Parquet and NDJSON as two statements / passes (and SQLite
#             for DuckDB only if its sqlite extension loads without the network; the table
#             says which)
#   wide      the 200-column file -> Parquet (snappy)
#   regional  the Windows-1252 ';' decimal-comma dd/mm/yyyy twin -> Parquet (snappy)
# Each is run RUNS times, the tools alternating within each round, under GNU time
# (/usr/bin/time -f '%e %M': wall seconds, peak RSS). Then the memory-against-size check:
# csvpipe's peak RSS converting a ~170 MB and a ~1.7 GB sales file (target: within 10%).
# Prints one Markdown table and writes it to bench/results/latest.md.
#
# Usage: bench/compare.sh [BUILD_DIR]   (default build/; `make` if a binary is missing)
# Env:   RUNS=3  ROWS=2000000 (sales and regional rows)  WIDE_COLS=200
#        WIDE_ROWS=ROWS/20 (about the bytes of the sales file)
#        MEM_SMALL=178257920  MEM_BIG=1782579200 (bytes, gen_sales --bytes; MEM_BIG=0 skips)
#        MEM_RUNS=1  MEM_FORMATS=parquet,json  TASKS="parquet ndjson all wide regional"
#        OUT=bench/results/latest.md
# Quick run: RUNS=1 ROWS=200000 MEM_SMALL=17825792 MEM_BIG=178257920 bench/compare.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${RUNS:-3}
rows=${ROWS:-2000000}
wide_cols=${WIDE_COLS:-200}
wide_rows=${WIDE_ROWS:-$((rows / 20))}
mem_small=${MEM_SMALL:-178257920}
mem_big=${MEM_BIG:-1782579200}
mem_runs=${MEM_RUNS:-1}
mem_formats=${MEM_FORMATS:-parquet,json}
tasks=${TASKS:-parquet ndjson all wide regional}
result=${OUT:-$root/bench/results/latest.md}
csvpipe="$build/csvpipe"
gen="$build/tools/gen_sales"
if [ ! -x "$csvpipe" ] || [ ! -x "$gen" ]; then
    [ "$build" = "$root/build" ] || { echo "no $csvpipe or $gen" >&2; exit 1; }
    (cd "$root" && make build)
fi
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed" >&2; exit 1; }
"$root/scripts/node-deps.sh" "$root/tests/js"
compete() { node "$root/bench/compete.mjs" "$@"; }

# Polars: installed from bench/package-lock.json; if that fails or Polars does not run
# here, its rows say why instead of disappearing.
polars_skip=""
# (npm install, not npm ci: see bench/package.json's description; the lockfile pins both
# packages with their integrity and npm install leaves it as it is)
stamp="$root/bench/node_modules/.csvpipe-stamp"
if [ -f "$stamp" ] && [ "$stamp" -nt "$root/bench/package-lock.json" ]; then
    :
elif ! (cd "$root/bench" && npm install --no-audit --no-fund --loglevel=error >/dev/null) 2>"${TMPDIR:-/tmp}/cp-polars-install.$$"; then
    polars_skip="npm install from bench/package-lock.json failed: $(grep -m1 'npm error' "${TMPDIR:-/tmp}/cp-polars-install.$$")"
else
    touch "$stamp"
fi
if [ -n "$polars_skip" ]; then
    :
elif ! polars_version=$(compete polars-version 2>&1); then
    polars_skip="nodejs-polars does not load: $polars_version"
fi
rm -f "${TMPDIR:-/tmp}/cp-polars-install.$$"
[ -z "$polars_skip" ] || echo "Polars skipped: $polars_skip" >&2
duck_version=$(compete duckdb-version)
sqlite_probe=$(compete duckdb-sqlite-probe)

data="$root/bench/data"
mkdir -p "$data" "$(dirname "$result")"
# gen FILE ARGS...: generates FILE once (cached in bench/data, which git ignores)
gen_once() {
    local file=$1
    shift
    if [ ! -f "$file" ]; then
        echo "generating $file" >&2
        "$gen" "$@" >"$file.tmp" 2>/dev/null
        mv "$file.tmp" "$file"
    fi
}
sales="$data/sales-$rows-rows.csv"
regional="$data/sales-regional-$rows-rows.csv"
wide="$data/sales-wide$wide_cols-$wide_rows-rows.csv"
gen_once "$sales" --rows "$rows" --style utf8 --seed 1
case " $tasks " in *" regional "*) gen_once "$regional" --rows "$rows" --style regional --seed 1 ;; esac
case " $tasks " in *" wide "*) gen_once "$wide" --rows "$wide_rows" --wide "$wide_cols" --seed 1 ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/cp-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
export POLARS_MAX_THREADS=1

# once TASK TOOL DIR CMD...: one timed run into the empty DIR; appends
# "TASK TOOL secs kb inner_s" to $work/runs. The inner time is csvpipe's
# timings_ms.total or the competitor's "ROWS MS".
once() {
    local task=$1 tool=$2 dir=$3
    shift 3
    rm -rf "$dir"
    mkdir -p "$dir"
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/stdout" 2>"$work/stderr" || {
        echo "$task/$tool failed:" >&2
        cat "$work/stderr" >&2
        exit 1
    }
    local inner
    inner=$(python3 -c 'import json,sys
t = open(sys.argv[1]).read().split()
print(json.loads(" ".join(t))["timings_ms"]["total"] / 1000 if t and t[0].startswith("{") else float(t[1]) / 1000 if len(t) > 1 else 0)' "$work/stdout")
    echo "$task $tool $(tail -1 "$work/time") $inner" >>"$work/runs"
    echo "  $task $tool: $(tail -1 "$work/time") (s, KB)" >&2
}

# check N FILE KIND: FILE holds N rows (parquet, ndjson or sqlite)
check() {
    local n
    case $3 in
    parquet) n=$(compete count-parquet "$2") ;;
    ndjson) n=$(compete count-lines "$2") ;;
    sqlite) n=$(sqlite3 "$2" "SELECT count(*) FROM \"$(sqlite3 "$2" "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'csvpipe%' AND name NOT LIKE 'sqlite%' LIMIT 1")\"") ;;
    esac
    [ "$n" = "$1" ] || { echo "$2 has $n rows, expected $1" >&2; exit 1; }
}

# csvpipe's one output of a format under DIR
cpout() { find "$1/$2" -type f -name "*.$3" | head -1; }

sqlite_done=no
[ "$sqlite_probe" = yes ] && sqlite_done=yes
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for task in $tasks; do
    case $task in
    parquet | ndjson | all) in=$sales n=$rows style=utf8 ;;
    wide) in=$wide n=$wide_rows style=utf8 ;;
    regional) in=$regional n=$rows style=regional ;;
    *) echo "unknown task $task" >&2; exit 2 ;;
    esac
    case $task in
    ndjson) fmt=json ctask=ndjson ;;
    all) fmt=parquet,json ctask=both ;;
    *) fmt=parquet ctask=parquet ;;
    esac
    echo "$task ($in)" >&2
    for ((i = 1; i <= runs; i++)); do
        d="$work/csvpipe"
        sqlarg=(--no-sql)
        [ "$task" = all ] && sqlarg=(--sql "sqlite:$d/warehouse.db")
        once "$task" csvpipe "$d" "$csvpipe" run --quiet --json --no-nosql "${sqlarg[@]}" \
            --formats "$fmt" --out "$d" "$in"
        [ "$ctask" = ndjson ] || check "$n" "$(cpout "$d" parquet parquet)" parquet
        [ "$ctask" = parquet ] || check "$n" "$(cpout "$d" json jsonl)" ndjson
        [ "$task" = all ] && check "$n" "$d/warehouse.db" sqlite

        d="$work/duckdb"
        dtask=$ctask
        [ "$task" = all ] && [ "$sqlite_done" = yes ] && dtask=all
        once "$task" duckdb "$d" node "$root/bench/compete.mjs" duckdb 1 "$dtask" "$in" "$d/out" "$style"
        [ "$ctask" = ndjson ] || check "$n" "$d/out.parquet" parquet
        [ "$ctask" = parquet ] || check "$n" "$d/out.ndjson" ndjson
        [ "$dtask" = all ] && check "$n" "$d/out.sqlite" sqlite

        if [ -z "$polars_skip" ] && [ "$style" = utf8 ]; then
            d="$work/polars"
            once "$task" polars "$d" node "$root/bench/compete.mjs" polars "$ctask" "$in" "$d/out"
            [ "$ctask" = ndjson ] || check "$n" "$d/out.parquet" parquet
            [ "$ctask" = parquet ] || check "$n" "$d/out.ndjson" ndjson
        fi
    done
    rm -rf "$work/csvpipe" "$work/duckdb" "$work/polars"
done
echo "Node start-up + loading DuckDB (inside both competitors' whole-process numbers)" >&2
for ((i = 1; i <= runs; i++)); do
    once startup duckdb "$work/none" node "$root/bench/compete.mjs" duckdb-version
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# memory against size: csvpipe alone
mem_lines=()
for bytes in "$mem_small" "$mem_big"; do
    [ "$bytes" -gt 0 ] || continue
    f="$data/sales-$bytes-bytes.csv"
    gen_once "$f" --bytes "$bytes" --style utf8 --seed 1
    for ((i = 1; i <= mem_runs; i++)); do
        once "mem$bytes" csvpipe "$work/mem" "$csvpipe" run --quiet --json --no-sql --no-nosql \
            --formats "$mem_formats" --out "$work/mem" "$f"
    done
    rm -rf "$work/mem"
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
mb() { echo $(($(stat -c %s "$1") / 1048576)); }
export CP_VERSION="$("$csvpipe" --version | head -1)" DUCK_VERSION="$duck_version"
export POLARS_VERSION="${polars_version:-}" POLARS_SKIP="$polars_skip" SQLITE_PROBE="$sqlite_probe"
export ROWS_N="$rows" RUNS_N="$runs" WIDE_COLS="$wide_cols" WIDE_ROWS_N="$wide_rows"
export SALES_MB=$(mb "$sales") WIDE_MB=$([ -f "$wide" ] && mb "$wide" || echo 0)
export REGIONAL_MB=$([ -f "$regional" ] && mb "$regional" || echo 0)
export MEM_SMALL_B="$mem_small" MEM_BIG_B="$mem_big" MEM_FORMATS="$mem_formats"
export HEAD_INFO="$(nproc) cores, $cpu; $(date -u +%Y-%m-%d); load average before $load_before, after $load_after"
export TASKS="$tasks"
python3 "$root/bench/compare_table.py" "$work/runs" "$result"
