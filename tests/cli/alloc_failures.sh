#!/usr/bin/env bash
# Issue 13, section 2: allocation failures. The test build fails the Nth allocation of
# csvpipe's own code (CSVPIPE_FAIL_ALLOC, src/util/fault.h); for every N (8 at a time) until the command
# completes without reaching it:
#  - inspect and run (with --key, into Parquet, NDJSON, SQLite and the item store) on a
#    small file end in success or in a clean error: exit 1 with a message that says memory
#    ran out, never a crash, a sanitizer report or a leak (ASan's exit 66). A success must
#    give exactly the answer of a run without the fault: the same inspect output, the same
#    Parquet and NDJSON bytes, rows, items and ledger row.
#  - csvpipe lambda answering an SQS batch with a failed message (its body is no S3 event)
#    lists that message in batchItemFailures, or fails the whole invocation (so every
#    message comes again); never an answer that leaves the failed message out, which Lambda
#    would delete. Counting starts at the invocation (N@lambda-invocation).
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/fault_lib.bash"
cd "$TMP"
"$GEN_SALES" --rows 20 --seed 51 >small.csv 2>/dev/null

# attempt DIR N CMD...: runs CMD with the Nth allocation failing, in DIR (its stdout, stderr
# and exit code kept there), and writes DIR/outcome: "stop" (the fault was not reached:
# the sweep is over), "ok" (exit 0), "error" (exit 1 saying memory ran out) or "bad: ...".
# The exit code is judged here, so a sanitizer's (66, 67) is "bad".
attempt() {
    local dir=$1 n=$2
    shift 2
    mkdir -p "$dir"
    set +e
    (cd "$dir" && env CSVPIPE_FAIL_ALLOC="$n" "$@" >out 2>err)
    local rc=$?
    set -e
    echo "$rc" >"$dir/rc"
    if ! grep -q '^csvpipe: fault: allocation' "$dir/err"; then
        echo stop
    elif [ "$rc" = 0 ]; then
        echo ok
    elif [ "$rc" = 1 ] && grep -v '^csvpipe: fault: ' "$dir/err" | grep -q 'memory'; then
        echo error
    else
        echo "bad: exit $rc"
    fi >"$dir/outcome"
}

# sweep NAME CHECK CMD...: N = 1, 2, ... in batches of 8 run side by side, until an N is
# no longer reached. CHECK DIR prints why an "ok" result differs from the faultless one
# (nothing when it is the same), which fails the test. Sets n (the first N not reached) and rc (its exit code).
sweep() {
    local name=$1 check=$2
    shift 2
    local first=1 oks=0 errors=0 bad=0 stop=0
    while [ "$stop" = 0 ]; do
        for m in $(seq "$first" $((first + 7))); do
            attempt "$TMP/sweep.$m" "$m" "$@" &
        done
        wait
        for m in $(seq "$first" $((first + 7))); do
            local d="$TMP/sweep.$m" o
            o=$(cat "$d/outcome")
            if [ "$o" = stop ]; then
                stop=$m
                rc=$(cat "$d/rc")
                break
            fi
            if [ "$o" = ok ]; then
                why=$("$check" "$d" || true)
                [ -z "$why" ] || o="bad: $why"
            fi
            case $o in
            ok) oks=$((oks + 1)) ;;
            error) errors=$((errors + 1)) ;;
            *)
                bad=$((bad + 1))
                fail "$name, allocation $m failing: $o"
                { grep -v '^csvpipe: fault: ' "$d/err" || true; } | sed 's/^/    /' | head -12
                ;;
            esac
        done
        [ "$stop" = 0 ] || cp "$TMP/sweep.$stop/out" "$TMP/sweep.out"
        rm -rf "$TMP"/sweep.*/
        first=$((first + 8))
    done
    n=$stop
    expect_eq "$name: its $((n - 1)) allocations failing one by one: $oks successes, $errors clean errors" \
        "$bad" 0
}

# ---- inspect ----
run "$CSVPIPE" inspect --json "$TMP/small.csv"
expect_rc "inspect without a fault" 0
cp "$TMP/out" inspect.want
same_inspect() {
    cmp -s "$1/out" "$TMP/inspect.want" || echo "a different answer"
}
sweep inspect same_inspect "$CSVPIPE" inspect --json "$TMP/small.csv"
expect_eq "inspect with no allocation left to fail (exit $rc)" \
    "$rc $(cmp -s "$TMP/sweep.out" inspect.want && echo same)" "0 same"

# ---- run ----
opts=(--quiet --key id)
run "$CSVPIPE" run "${opts[@]}" --out "$TMP/want" "$TMP/small.csv"
expect_rc "run without a fault" 0
# the state a run leaves, as far as it does not depend on the time or the place
state() {
    local o=$1
    {
        cat "$o/parquet/small/small.parquet" "$o/json/small/small.jsonl" | md5sum
        sql "$o/warehouse.db" "SELECT count(*), sum(id), sum(quantidade) FROM small"
        sql "$o/items.db" "SELECT count(*), group_concat(pk || sk) FROM (SELECT pk, sk FROM items ORDER BY pk)"
        sql "$o/warehouse.db" "SELECT status, rows_loaded, outputs FROM csvpipe_loads" |
            sed -e "s#$o#OUT#g" -e "s#\"got/#\"OUT/#g"
        find "$o" -name '*.tmp-*' -o -name '*.error.json' -o -name '*.rejects.csv'
    } 2>&1
}
state "$TMP/want" >run.want
same_run() {
    local got
    got=$(state "$1/got")
    [ "$got" = "$(cat "$TMP/run.want")" ] ||
        { echo "the outputs differ from a run without the fault:"; diff "$TMP/run.want" - <<<"$got" | head -5; }
}
sweep run same_run "$CSVPIPE" run "${opts[@]}" --out got "$TMP/small.csv"
expect_eq "run with no allocation left to fail (exit $rc)" "$rc" 0

# try CMD...: as run, but the exit code is judged by the caller (which fails sanitizer reports).
try() {
    set +e
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    set -e
}

# ---- lambda: an SQS batch whose message fails ----
unset AWS_LAMBDA_RUNTIME_API CSVPIPE_SQL CSVPIPE_SQL_SECRET_ARN CSVPIPE_NOSQL CSVPIPE_TABLE \
    CSVPIPE_KEY CSVPIPE_INPUT_PREFIX
export CSVPIPE_OUT=s3://alloc-out/lake CSVPIPE_FORMATS=parquet
python3 -c 'import json
json.dump({"Records": [{"eventSource": "aws:sqs", "messageId": "m-bad", "body": "not an S3 event"}]},
          open("sqs.json", "w"))'
n=0 listed=0 whole=0 bad=0
while :; do
    n=$((n + 1))
    rm -f "$TMP/h.port" "$TMP/h.json"
    python3 "$CP_SOURCE_DIR/tests/aws/runtime_harness.py" --record "$TMP/h.json" \
        --port-file "$TMP/h.port" --timeout 120 sqs.json >/dev/null 2>&1 &
    hpid=$!
    for _ in $(seq 1 600); do
        [ -s "$TMP/h.port" ] && break
        sleep 0.05
    done
    try env AWS_LAMBDA_RUNTIME_API="$(cat "$TMP/h.port")" CSVPIPE_FAIL_ALLOC="$n@lambda-invocation" \
        timeout 120 "$CSVPIPE" lambda --max-invocations 1
    wait $hpid || true
    reached=$(grep -c '^csvpipe: fault: allocation' "$TMP/err" || true)
    answer=$(json_get "$TMP/h.json" '(lambda i: i["outcome"] + " " + json.dumps(i["body"]))(j["invocations"][0])' 2>&1 || true)
    if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
        bad=$((bad + 1))
        fail "lambda, allocation $n failing: exit $rc"
        sed 's/^/    /' "$TMP/err" | head -12
    elif [[ "$answer" == 'response {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}' ]]; then
        listed=$((listed + 1))
    elif [[ "$answer" == error* ]]; then
        whole=$((whole + 1))
    else
        bad=$((bad + 1))
        fail "lambda, allocation $n failing: the answer leaves the failed message out: $answer"
    fi
    [ "$reached" = 0 ] && break
done
expect_eq "lambda: its $((n - 1)) allocations failing one by one: the failed message listed $listed times, the whole batch failed $whole times" \
    "$bad" 0
expect_eq "lambda with no allocation left to fail lists the failed message" "$answer" \
    'response {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}'
finish
