#!/usr/bin/env bash
# Issue 15, section 2: S3 to S3 with Parquet + NDJSON outputs (moto on loopback), the
# parts of each upload sent CSVPIPE_S3_PUTS_IN_FLIGHT at once and the S3 outputs written on
# the worker threads. Whole-process wall time and peak RSS of `csvpipe run s3:// --out
# s3://` at --threads 1 and 2, with 1 part in flight (the default: one part goes out while
# the next fills), 2 and 4, and, when BEFORE names another csvpipe binary (a build of the code before this
# change), that binary too. Medians of RUNS (3). moto's own speed says little (Python, same
# 2 cores): the ratios and the memory are the point. Writes bench/results/s3_puts.md.
# Usage: bench/s3_puts.sh [BUILD_DIR] [BYTES]   (default build, 200 MiB)
# Env: BEFORE (another csvpipe), RUNS (3), CONFIGS ("1:1 2:1 1:2 2:2 2:4": threads:in flight),
# OUT (bench/results/s3_puts.md).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_build "${1:-}"
bytes=${2:-209715200}
runs=${RUNS:-3}
bench_sales "$bytes"
bench_moto
python3 "$AWS_PY" mb bench-out
python3 "$AWS_PY" put bench-in incoming/sales/big.csv "$data"
load_avg() { cut -d' ' -f1 /proc/loadavg; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }

# one LABEL BINARY THREADS IN_FLIGHT: a table row, medians of $runs runs
rows_md=()
n=0
one() {
    local label=$1 bin=$2 threads=$3 flight=$4 secs=() mbs=() status=ok
    for i in $(seq 1 "$runs"); do
        n=$((n + 1)) # a new output prefix each run (its own ledger), the last one's removed
        for k in $(python3 "$AWS_PY" ls bench-out "r$((n - 1))/"); do
            python3 "$AWS_PY" rm bench-out "$k"
        done
        CSVPIPE_S3_PUTS_IN_FLIGHT=$flight /usr/bin/time -f '%e %M' -o "$TMP/time" "$bin" run \
            --json --quiet --no-sql --no-nosql --formats parquet,json --threads "$threads" \
            --out s3://bench-out/r$n s3://bench-in/incoming/sales/big.csv >"$TMP/summary.json" \
            2>"$TMP/run.err" || status="failed: $(head -c 300 "$TMP/run.err")"
        read -r s kb < <(tail -n 1 "$TMP/time")
        secs+=("$s")
        mbs+=($((kb / 1024)))
    done
    rows_md+=("| $label | $threads | $flight | $status | $(median "${secs[@]}") | $(median "${mbs[@]}") | ${secs[*]} |")
}

before_load=$(load_avg)
if [ -n "${BEFORE:-}" ]; then
    one "before (parts one at a time, S3 outputs on the reading thread)" "$BEFORE" 1 1
    one "before (parts one at a time, S3 outputs on the reading thread)" "$BEFORE" 2 1
fi
for c in ${CONFIGS:-1:1 2:1 1:2 2:2 2:4}; do # threads:in-flight
    case ${c#*:} in
    1) label="this build, default (1 part in flight)" ;;
    2) label="this build, 2 in flight" ;;
    *) label="this build, ${c#*:} in flight" ;;
    esac
    one "$label" "$csvpipe" "${c%:*}" "${c#*:}"
done

out=${OUT:-$root/bench/results/s3_puts.md}
{
    echo "S3 to S3 (Parquet + NDJSON) through moto on loopback; $(nproc) cores; load average $before_load before, $(load_avg) after; $(date -u +%Y-%m-%d); $($csvpipe version); input $(($(stat -c %s "$data") / 1048576)) MB; 8 MiB parts; medians of $runs runs"
    echo
    echo "| binary | threads | parts in flight | status | wall (s) | peak RSS (MB) | all runs (s) |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows_md[@]}"
} >"$out"
cat "$out"
