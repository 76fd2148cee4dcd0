#!/usr/bin/env bash
# Issue 15: an S3 object read by ranged GETs in parallel against one streaming GET, on
# loopback: the raw read of the object (tests/aws/aws_tool get, bytes to /dev/null) and
# `csvpipe run s3://… --formats parquet` to a local folder, with CSVPIPE_S3_GETS_IN_FLIGHT
# at 1 (one streaming GET, the code before), 4 (the default) and 8; wall time, MB/s and
# peak RSS, medians of RUNS (3). Servers: bench/s3_static.py with each connection capped
# at MBPS (80) MB/s, as one S3 connection gives a Lambda about 50-100 MB/s, then uncapped;
# then moto, which copies the whole object for every ranged GET (so parts cost it
# object-size each: its rows show moto, not csvpipe). Writes bench/results/s3_get.md.
# Usage: bench/s3_get.sh [BUILD_DIR] [BYTES]   (default build, 512 MiB); env RUNS, FLIGHTS,
# MBPS, STATIC (1; 0 skips s3_static.py), MOTO (1; 0 skips moto), OUT (the results file)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_build "${1:-}"
[ -x "$build/tests/aws/aws_tool" ] || { echo "no $build/tests/aws/aws_tool (a build with -DCSVPIPE_TESTS=ON)" >&2; exit 1; }
bytes=${2:-536870912}
runs=${RUNS:-3}
flights=${FLIGHTS:-1 4 8}
bench_sales "$bytes"
mb_in=$(($(stat -c %s "$data") / 1048576))
bench_moto
if [ "${MOTO:-1}" != 0 ]; then
    echo "uploading $mb_in MB to moto" >&2
    python3 "$AWS_PY" put bench-in incoming/sales/big.csv "$data"
fi
uri=s3://bench-in/incoming/sales/big.csv
# static MBPS [ARGS...]: bench/s3_static.py serving the file; sets STATIC_URL
static() {
    local mbps=$1
    shift
    rm -f "$TMP/static.port"
    bg_start "static$mbps" python3 "$root/bench/s3_static.py" --file "$data" \
        --path /bench-in/incoming/sales/big.csv --port-file "$TMP/static.port" --mbps "$mbps" "$@"
    wait_file "$TMP/static.port" 20 || { cat "$TMP/static$mbps.log" >&2; exit 1; }
    STATIC_URL="http://127.0.0.1:$(cat "$TMP/static.port")"
}

median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
# measure NAME CMD...: RUNS runs; sets M_SECS M_MB (medians) or fails loudly
measure() {
    local name=$1 secs=() kbs=() i s kb
    shift
    for ((i = 0; i < runs; i++)); do
        if ! /usr/bin/time -f '%e %M' -o "$TMP/time" "$@" >"$TMP/out" 2>"$TMP/err"; then
            echo "$name failed:" >&2
            cat "$TMP/err" >&2
            exit 1
        fi
        read -r s kb < <(tail -n 1 "$TMP/time")
        secs+=("$s")
        kbs+=("$kb")
    done
    M_SECS=$(median "${secs[@]}")
    M_MB=$(($(median "${kbs[@]}") / 1024))
}
rate() { python3 -c "print(f'{$mb_in / $1:.0f}')"; }

rows=()
# server NAME ENDPOINT: a row per GETs-in-flight count
server() {
    local f what get_s get_mb
    for f in $flights; do
        export CSVPIPE_S3_GETS_IN_FLIGHT=$f
        what=$([ "$f" = 1 ] && echo "1 (one streaming GET)" || echo "$f x 8 MiB parts")
        AWS_ENDPOINT_URL=$2 measure "get $f" "$AWS_TOOL" get "$uri"
        grep -q "position=$(stat -c %s "$data") " "$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
        get_s=$M_SECS get_mb=$M_MB
        rm -rf "$TMP/out-run"
        AWS_ENDPOINT_URL=$2 measure "run $f" "$csvpipe" run --json --quiet --no-sql --no-nosql \
            --formats parquet --out "$TMP/out-run" "$uri"
        [ "$(json_get "$TMP/out" 'j["status"]')" = loaded ] || { cat "$TMP/out" >&2; exit 1; }
        rows+=("| $1 | $what | $get_s | $(rate "$get_s") | $get_mb | $M_SECS | $(rate "$M_SECS") | $M_MB |")
    done
}
if [ "${STATIC:-1}" != 0 ]; then
    static "${MBPS:-80}"
    server "s3_static.py, ${MBPS:-80} MB/s per connection" "$STATIC_URL"
    static 0
    server "s3_static.py, no cap" "$STATIC_URL"
fi
[ "${MOTO:-1}" != 0 ] && server moto "$MOTO_URL"

# the task of s3_lambda.sh, S3 to S3: the object from s3_static.py, the Parquet file
# uploaded through it to moto; peak RSS against the 128 MB Lambda goal
python3 "$AWS_PY" mb bench-out
lambda_rows=()
for f in 1 4; do
    export CSVPIPE_S3_GETS_IN_FLIGHT=$f
    static "${MBPS:-80}" --upstream "$MOTO_URL"
    AWS_ENDPOINT_URL=$STATIC_URL measure "s3 to s3 $f" "$csvpipe" run --json --quiet --no-sql \
        --no-nosql --formats parquet --out s3://bench-out/lake "$uri"
    [ "$(json_get "$TMP/out" 'j["status"]')" = loaded ] || { cat "$TMP/out" >&2; exit 1; }
    lambda_rows+=("| $f | $M_SECS | $(rate "$M_SECS") | $M_MB | under 128 MB: $([ "$M_MB" -lt 128 ] && echo met || echo MISSED) |")
done

out=${OUT:-$root/bench/results/s3_get.md}
{
    echo "An S3 object of $mb_in MB on loopback; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d); $($csvpipe version); medians of $runs"
    echo
    echo "| server | GETs in flight | read: time (s) | read MB/s | read peak RSS (MB) | csvpipe run → Parquet: time (s) | run MB/s | run peak RSS (MB) |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "csvpipe run s3:// → s3:// (Parquet), the task of s3_lambda.sh: the object from s3_static.py at ${MBPS:-80} MB/s per connection, the output through it to moto"
    echo
    echo "| GETs in flight | time (s) | MB/s | peak RSS (MB) | goal |"
    echo "|---|---|---|---|---|"
    printf '%s\n' "${lambda_rows[@]}"
} >"$out"
cat "$out"
