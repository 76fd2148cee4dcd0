# Helpers for the tests that drive the fault injection of the test build (src/util/fault.h:
# crash and pause points, failing allocations and writes) and processes in the background.
# Source after lib.bash.

# The binary must have been built with CSVPIPE_FAULTS (make test does so).
if ! grep -qa CSVPIPE_CRASH_AT "$CSVPIPE"; then
    echo "not ok - $CSVPIPE was built without CSVPIPE_FAULTS (cmake -DCSVPIPE_FAULTS=ON)"
    exit 1
fi

# bg NAME CMD...: starts CMD in the background, stdout in $TMP/NAME.out, stderr in
# $TMP/NAME.err; its pid in BG_PID. Each must be waited for with expect_exit.
bg() {
    local name=$1
    shift
    "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    BG_PID=$!
}

# proc_state PID: the process's state letter (R, S, T...), or "gone".
proc_state() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
        echo gone
        return
    }
    stat=${stat##*) }
    echo "${stat%% *}"
}

# wait_stopped NAME PID: until PID stopped itself at a pause point (at most 120 s); a pass
# or a fail named NAME.
wait_stopped() {
    local i s
    for ((i = 0; i < 1200; i++)); do
        s=$(proc_state "$2")
        if [ "$s" = T ] || [ "$s" = t ]; then
            pass "$1"
            return 0
        fi
        [ "$s" = gone ] && break
        [ "$s" = Z ] && break
        sleep 0.1
    done
    fail "$1: the process did not stop (state $(proc_state "$2"))"
    return 0
}

# wait_point NAME FILE POINT PID: until the trace FILE (CSVPIPE_TRACE_POINTS) lists POINT,
# or PID ended (at most 120 s). Passes when the point was reached.
wait_point() {
    local i s
    for ((i = 0; i < 1200; i++)); do
        if [ -f "$2" ] && grep -qx -- "$3" "$2"; then
            pass "$1"
            return 0
        fi
        s=$(proc_state "$4")
        [ "$s" = gone ] || [ "$s" = Z ] && break
        sleep 0.1
    done
    fail "$1: point $3 not reached (the process is $(proc_state "$4"))"
    return 0
}

# The column types of gen_sales's files for the oracles (--types), once they take them.
: "${SALES_TYPES:=INT64 DATE TIMESTAMP STRING STRING DECIMAL(18,2) INT64 BOOLEAN DECIMAL(18,2) STRING}"
ORACLE_TYPES=()
if grep -q -- '"--types"' "$CP_SOURCE_DIR/tests/cli/check_load.py"; then
    ORACLE_TYPES=(--types "$SALES_TYPES")
fi

# sqlite_q DB QUERY: one SQLite query, rows as text ("" when the file does not exist).
sqlite_q() {
    if [ -f "$1" ]; then sql "$1" "$2"; fi
}

# read_parquets FILE...: each Parquet FILE read back by DuckDB (tests/js) into FILE.ndjson,
# rows as read_parquet.mjs prints them; one node process for all (DuckDB starts once).
read_parquets() {
    node --input-type=module -e '
import { writeFileSync } from "node:fs";
const { readParquet } = await import(process.argv[1]);
for (const file of process.argv.slice(2)) {
  const { names, rows } = await readParquet(file, "duckdb");
  const keys = names.map((n) => JSON.stringify(n));
  writeFileSync(file + ".ndjson",
    rows.map((r) => "{" + r.map((cell, i) => `${keys[i]}:${cell}`).join(",") + "}\n").join(""));
}' "$CP_SOURCE_DIR/tests/js/lib/readers.mjs" "$@"
}

# summary_as FILE SOURCE_URI DATASET: the JSON summary in FILE as the load of another copy
# of the same file would have it (the oracles read the schema, dataset, source and rows).
summary_as() {
    python3 -c 'import json,sys
j = json.loads(open(sys.argv[1]).readline())
j["source_uri"], j["dataset"] = sys.argv[2], sys.argv[3]
print(json.dumps(j))' "$@"
}

# crash_at NAME POINT CMD...: runs CMD with CSVPIPE_CRASH_AT=POINT; it must die by SIGKILL
# (exit 137) saying it reached POINT.
crash_at() {
    local name=$1 point=$2
    shift 2
    run env CSVPIPE_CRASH_AT="$point" "$@"
    expect_rc "$name: killed at $point" 137
    expect_err "$name: it died at that point" "^csvpipe: fault: crash point ${point%@*}\$"
}

# unique_points FILE: the points of a trace, each once, in the order first reached.
unique_points() {
    awk '!seen[$0]++' "$1" | tr '\n' ' ' | sed 's/ $//'
}

# s3_put_many BUCKET FILE KEY...: FILE uploaded at each KEY (moto, one Python for all).
# s3_get_many BUCKET DIR KEY...: each KEY downloaded to DIR/<KEY with / as _>.
s3_put_many() {
    python3 -c 'import boto3,os,sys
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
for k in sys.argv[3:]:
    s3.upload_file(sys.argv[2], sys.argv[1], k)' "$@"
}
s3_get_many() {
    python3 -c 'import boto3,os,sys
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
for k in sys.argv[3:]:
    s3.download_file(sys.argv[1], k, os.path.join(sys.argv[2], k.replace("/", "_")))' "$@"
}
