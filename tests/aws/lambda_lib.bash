# Helpers for the `csvpipe lambda` tests (tests/cli/lambda_*.sh); sourced after lib.bash.
# Each invocation runs the Runtime API harness on a free loopback port and csvpipe against
# it, both bounded in time, and leaves the harness's record in $REC.

HARNESS="$CP_SOURCE_DIR/tests/aws/runtime_harness.py"

# Keeps csvpipe's environment clean of the caller's Lambda settings.
unset AWS_LAMBDA_RUNTIME_API CSVPIPE_OUT CSVPIPE_SQL CSVPIPE_SQL_SECRET_ARN CSVPIPE_NOSQL \
    CSVPIPE_TABLE CSVPIPE_KEY CSVPIPE_FORMATS CSVPIPE_COMPRESSION CSVPIPE_INPUT_PREFIX \
    CSVPIPE_DEADLINE_MARGIN_MS CSVPIPE_SCHEMA_PREFIX CSVPIPE_PARTITION_BY CSVPIPE_CATALOG

# lambda_invoke NAME [HARNESS OPTIONS...] -- EVENT_FILE...
# Runs the harness with the events and `csvpipe lambda --max-invocations N` against it
# (environment from the caller), at most 60 s each. Sets rc (csvpipe's exit code), REC
# (the record), and csvpipe's stdout/stderr in $TMP/out and $TMP/err.
lambda_invoke() {
    local name=$1
    shift
    local hopts=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        hopts+=("$1")
        shift
    done
    shift
    REC="$TMP/$name.record.json"
    rm -f "$TMP/$name.port" "$REC"
    python3 "$HARNESS" --record "$REC" --port-file "$TMP/$name.port" --timeout 60 \
        "${hopts[@]}" "$@" &
    local hpid=$!
    for _ in $(seq 1 200); do
        [ -s "$TMP/$name.port" ] && break
        sleep 0.05
    done
    AWS_LAMBDA_RUNTIME_API=$(cat "$TMP/$name.port") run timeout 60 "$CSVPIPE" lambda \
        --max-invocations $# 
    wait "$hpid" || fail "$name: the harness failed"
    cp "$TMP/out" "$TMP/$name.stdout"
}

# rec EXPR: a Python expression over the record `j`.
rec() {
    json_get "$REC" "$1"
}

# log_lines FILTER: the JSON lines of csvpipe's stdout whose Python predicate FILTER on `l`
# holds, one per line, as compact JSON.
log_lines() {
    python3 -c 'import json,sys
for line in open(sys.argv[1]):
    line = line.strip()
    if not line: continue
    l = json.loads(line)
    if eval(sys.argv[2]): print(json.dumps(l, sort_keys=True))' "$TMP/out" "$1"
}
