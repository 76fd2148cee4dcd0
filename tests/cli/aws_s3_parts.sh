#!/usr/bin/env bash
# Issue 15, section 2: the parts of an S3 multipart upload go out several at once
# (CSVPIPE_S3_PUTS_IN_FLIGHT), through tests/aws/fault_proxy.py in front of moto with
# signature checking on. The proxy holds the first parts until that many are open at once
# (so a client that sends one part at a time fails the check), fails chosen parts a given
# number of times or for good. Checks: the object equals the bytes written; a part that
# fails twice is retried and the upload completes; a part that fails for good fails the
# upload, leaves no object and no multipart upload in progress; `csvpipe run` to S3 with
# 5 MiB parts, 3 in flight, writes the same bytes as to a local folder, at 1, 2 and 3 threads,
# and a part that fails for good fails the load with nothing published.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
cd "$TMP"

moto_start
moto_enable_auth
python3 "$AWS_PY" mb parts-out
head -c 23000000 /dev/urandom >big # four full parts of 5 MiB and a short fifth
want=$(md5sum <big | cut -d' ' -f1)
part=5242880

# put_through KEY ARGS...: aws_tool put of big through a new proxy started with ARGS.
put_through() {
    local key=$1
    shift
    proxy_start --rate 0 "$@"
    AWS_ENDPOINT_URL=$PROXY_URL run "$AWS_TOOL" put "s3://parts-out/$key" big $part
}

CSVPIPE_S3_PUTS_IN_FLIGHT=3 put_through three.bin --barrier-parts 3 --barrier-timeout 20
expect_rc "an upload with 3 parts in flight" 0
expect_err "five parts" "bytes=23000000 parts=5"
expect_eq "the first 3 parts were open at once" "$(proxy_stat barrier_met)/$(proxy_stat barrier_timeout)" 3/0
expect_eq "boto3 reads back the object" "$(python3 "$AWS_PY" md5 parts-out three.bin)" "$want"
etag=$(python3 "$AWS_PY" parts-md5 parts-out three.bin)
expect_eq "assembled from 5 parts in order" "${etag##*-}" 5

# The control: one part at a time never has 3 open, so the same check fails.
CSVPIPE_S3_PUTS_IN_FLIGHT=1 put_through one.bin --barrier-parts 3 --barrier-timeout 3
expect_rc "an upload with 1 part in flight" 0
expect_eq "one at a time: the proxy waited for 3 parts in vain" \
    "$(($(proxy_stat barrier_timeout) > 0))" 1
expect_eq "and the object is still right" "$(python3 "$AWS_PY" md5 parts-out one.bin)" "$want"

CSVPIPE_S3_PUTS_IN_FLIGHT=3 put_through retried.bin --fail-part 2:2
expect_rc "part 2 failing twice" 0
expect_eq "part 2 was failed twice" "$(proxy_stat part_failed)" 2
expect_eq "and retried: the object is complete" "$(python3 "$AWS_PY" md5 parts-out retried.bin)" "$want"

CSVPIPE_AWS_MAX_ATTEMPTS=3 CSVPIPE_S3_PUTS_IN_FLIGHT=3 put_through failed.bin --fail-part 2
expect_rc "part 2 failing for good" 1
expect_err "the error names the part" "UploadPart 2 \(attempt 3\): HTTP 500 InternalError"
expect_eq "it was tried 3 times" "$(proxy_stat part_failed)" 3
expect_eq "no object" "$(python3 "$AWS_PY" exists parts-out failed.bin)" no
expect_eq "no multipart upload left" "$(python3 "$AWS_PY" uploads parts-out)" 0

# The pipeline: the same bytes on S3 as in a local folder, at 1, 2 and 3 threads.
wide_csv 15 2200 >wide.csv
python3 "$AWS_PY" mb parts-in
python3 "$AWS_PY" put parts-in wide.csv wide.csv
opts=(--json --quiet --no-sql --no-nosql --formats parquet,json)
run "$CSVPIPE" run "${opts[@]}" --threads 1 --out "$TMP/local" s3://parts-in/wide.csv
expect_rc "the local outputs" 0
local_pq=$(md5sum <local/parquet/wide/wide.parquet | cut -d' ' -f1)
local_js=$(md5sum <local/json/wide/wide.jsonl | cut -d' ' -f1)
expect_eq "NDJSON spans several parts" "$(($(stat -c %s local/json/wide/wide.jsonl) > 3 * part))" 1
for t in 1 2 3; do
    run env CSVPIPE_S3_PART_SIZE=$part CSVPIPE_S3_PUTS_IN_FLIGHT=3 "$CSVPIPE" run "${opts[@]}" \
        --threads $t --out "s3://parts-out/t$t" s3://parts-in/wide.csv
    expect_rc "S3 outputs at $t threads" 0
    expect_eq "Parquet on S3 at $t threads equals the local file" \
        "$(python3 "$AWS_PY" md5 parts-out "t$t/parquet/wide/wide.parquet")" "$local_pq"
    expect_eq "NDJSON on S3 at $t threads equals the local file" \
        "$(python3 "$AWS_PY" md5 parts-out "t$t/json/wide/wide.jsonl")" "$local_js"
done

proxy_start --rate 0 --fail-part 3
AWS_ENDPOINT_URL=$PROXY_URL run env CSVPIPE_AWS_MAX_ATTEMPTS=2 CSVPIPE_S3_PART_SIZE=$part \
    CSVPIPE_S3_PUTS_IN_FLIGHT=3 "$CSVPIPE" run "${opts[@]}" --out s3://parts-out/failed \
    s3://parts-in/wide.csv
expect_rc "a part failing for good fails the load" 1
expect_out "with the part's error" '"error":"[^"]*: UploadPart 3 \(attempt 2\): HTTP 500 InternalError'
expect_eq "no Parquet published" "$(python3 "$AWS_PY" exists parts-out failed/parquet/wide/wide.parquet)" no
expect_eq "no NDJSON published" "$(python3 "$AWS_PY" exists parts-out failed/json/wide/wide.jsonl)" no
expect_eq "no multipart upload left by the load" "$(python3 "$AWS_PY" uploads parts-out)" 0

finish
