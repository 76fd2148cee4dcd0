#!/usr/bin/env bash
# Partitioned output's memory (issue 16, acceptance 4): a 2,000,000-row sales CSV whose
# Data column spreads over 60 months in random row order (month = a hash of the row's ID),
# loaded by
#   csvpipe run --no-sql --no-nosql --formats F --partition-by 'month(data)'
# for F = parquet and parquet,json, at --threads 1 and the default, with 8 writers instead
# of 64 for 60 months in random order (memory against the number of files), and once
# without --partition-by for comparison; under GNU time: wall time and peak RSS (target: under
# 150 MB with the partitions). Each partitioned run is checked: 60 month folders, one
# Parquet file each (with --partition-writers 8 too: an evicted writer is suspended and
# resumed, its file getting more, smaller row groups), every row read back by DuckDB
# (tests/js). Prints a Markdown table
# and writes it to bench/results/partition.md.
#
# Usage: bench/partition_memory.sh [BUILD_DIR]   (default build/, built with `make` when
#        its csvpipe or tools/gen_sales is missing). Env: ROWS (default 2000000).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_build "${1:-}"
rows=${ROWS:-2000000}

data="$root/bench/data"
mkdir -p "$data" "$root/bench/results"
csv="$data/sales-$rows-rows-60-months.csv"
if [ ! -f "$csv" ]; then
    echo "generating $csv" >&2
    "$gen" --rows "$rows" --style utf8 --seed 1 | python3 -c '
import csv, sys, zlib
csv.field_size_limit(1 << 30)
r = csv.reader(sys.stdin)
w = csv.writer(sys.stdout, lineterminator="\n")
header = next(r)
w.writerow(header)
d = header.index("Data")
for row in r:
    m = zlib.crc32(row[0].encode()) % 60
    if row[d]:
        row[d] = "%04d-%02d-%s" % (2020 + m // 12, m % 12 + 1, min(row[d][8:10], "28"))
    w.writerow(row)
' >"$csv.tmp"
    mv "$csv.tmp" "$csv"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cp-partition.XXXXXX")
trap 'rm -rf "$work"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
table="$work/table"

# run NAME ARGS...: one csvpipe run into a fresh $work/out; appends a table row.
run() {
    local name=$1
    shift
    rm -rf "$work/out"
    /usr/bin/time -f '%e %M' -o "$work/time" "$csvpipe" run --quiet --no-sql --no-nosql \
        --out "$work/out" "$@" "$csv" >"$work/stdout" 2>"$work/stderr" || {
        echo "$name failed:" >&2
        cat "$work/stderr" >&2
        exit 1
    }
    read -r wall kb <"$work/time"
    local check="-"
    if [ -n "$(find "$work/out/parquet" -type d -name 'data_month=*' -print -quit)" ]; then
        local folders files n
        folders=$(find "$work/out/parquet" -type d -name 'data_month=*' | wc -l)
        files=$(find "$work/out/parquet" -name '*.parquet' | wc -l)
        n=$(node "$root/tests/js/hive_query.mjs" "SELECT count(*) FROM read_parquet('$work/out/parquet/*/*/*.parquet', hive_partitioning=true)" | tr -dc '0-9')
        check="$folders folders, $files files, $n rows"
    fi
    echo "| $name | $wall | $((kb / 1024)) | $check |" >>"$table"
    echo "  $name: $wall s, $((kb / 1024)) MB, $check" >&2
}

run "parquet, not partitioned, 1 thread" --formats parquet --threads 1
run "parquet, month(data), 1 thread" --formats parquet --threads 1 --partition-by 'month(data)'
run "parquet, month(data)" --formats parquet --partition-by 'month(data)'
run "parquet+json, month(data), 1 thread" --formats parquet,json --threads 1 --partition-by 'month(data)'
run "parquet+json, month(data)" --formats parquet,json --partition-by 'month(data)'
run "parquet+json, month(data), 8 writers" --formats parquet,json --partition-by 'month(data)' \
    --partition-writers 8

out="$root/bench/results/partition.md"
{
    echo "# Partitioned output: peak memory (issue 16, acceptance 4)"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'),"
    echo "load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after."
    echo "Input: $(basename "$csv"), $rows rows over 60 months in random order"
    echo "($(du -m "$csv" | cut -f1) MB). Target: peak RSS under 150 MB with the partitions."
    echo
    echo "| run | wall s | peak RSS MB | check |"
    echo "|---|---|---|---|"
    cat "$table"
} >"$out"
cat "$out"
