#!/usr/bin/env bash
# Issue 6, acceptance 5: (1) a 2 GB object converted S3 to S3 (moto on loopback) by
# `csvpipe run s3://… --out s3://…` with its peak memory, against the 128 MB goal (the
# object is streamed: no whole-object buffering, no local disk); (2) the time from starting
# `csvpipe lambda` to its first next-invocation request, next to `python3 -c 'import boto3'`
# (the first thing a Python Lambda does). Writes bench/results/s3_lambda.md.
# Usage: bench/s3_lambda.sh [BUILD_DIR] [BYTES]   (default build, 2 GiB)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_build "${1:-}"
bytes=${2:-2147483648}
bench_sales "$bytes"
bench_moto
python3 "$AWS_PY" mb bench-out
echo "uploading $(($(stat -c %s "$data") / 1048576)) MB to moto" >&2
python3 "$AWS_PY" put bench-in incoming/sales/big.csv "$data"

/usr/bin/time -f '%e %M' -o "$TMP/time" "$csvpipe" run --json --quiet --no-sql --no-nosql \
    --formats parquet --out s3://bench-out/lake s3://bench-in/incoming/sales/big.csv >"$TMP/summary.json" \
    2>"$TMP/run.err"
rc=$?
read -r secs kb < <(tail -n 1 "$TMP/time")
if [ "$rc" != 0 ]; then
    echo "csvpipe run failed (exit $rc):" >&2
    cat "$TMP/run.err" "$TMP/summary.json" >&2
fi
rows=$(json_get "$TMP/summary.json" 'j["rows"]' 2>/dev/null || echo "?")
status=$(json_get "$TMP/summary.json" 'j["status"]' 2>/dev/null || echo "failed (exit $rc)")
mb=$((kb / 1024))
pq=$(python3 "$AWS_PY" ls bench-out lake/ | tr '\n' ' ')

# Start-up: from exec to the first GET .../invocation/next.
printf '{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"bench-in"}' >"$TMP/test.json"
start_ms=()
for i in 1 2 3 4 5; do
    rm -f "$TMP/port" "$TMP/rec.json"
    python3 "$root/tests/aws/runtime_harness.py" --record "$TMP/rec.json" --port-file "$TMP/port" \
        --timeout 30 "$TMP/test.json" &
    hp=$!
    wait_file "$TMP/port" 10
    t0=$(date +%s%3N)
    AWS_LAMBDA_RUNTIME_API=$(cat "$TMP/port") CSVPIPE_OUT="$TMP/lout" \
        "$csvpipe" lambda --max-invocations 1 >/dev/null 2>&1
    wait $hp
    start_ms+=($(($(json_get "$TMP/rec.json" 'j["invocations"][0]["handed_at_ms"]') - t0)))
done
boto_ms=()
for i in 1 2 3 4 5; do
    t0=$(date +%s%3N)
    python3 -c 'import boto3' 
    boto_ms+=($(($(date +%s%3N) - t0)))
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }

out="$root/bench/results/s3_lambda.md"
{
    echo "S3 to S3 through moto on loopback; $(nproc) cores; $(date -u +%Y-%m-%d); $($csvpipe version)"
    echo
    echo "| task | input | rows | status | time (s) | peak RSS (MB) | goal |"
    echo "|---|---|---|---|---|---|---|"
    echo "| csvpipe run s3:// → s3:// (Parquet; moto keeps every object in memory, so the NDJSON twin of a 2 GB file is left out) | $(($(stat -c %s "$data") / 1048576)) MB | $rows | $status | $secs | $mb | under 128 MB: $([ "$mb" -lt 128 ] && echo met || echo MISSED) |"
    echo
    echo "Outputs: $pq"
    echo
    echo "| start-up (5 runs, median, ms) | csvpipe lambda: exec to first next-invocation request | python3 -c 'import boto3' |"
    echo "|---|---|---|"
    echo "| median | $(median "${start_ms[@]}") | $(median "${boto_ms[@]}") |"
    echo "| all | ${start_ms[*]} | ${boto_ms[*]} |"
} >"$out"
cat "$out"
