# Shared helpers for the command-line tests. Each test script sources this file.
# Environment (set by ctest): CSVPIPE (the binary), CP_SOURCE_DIR, CP_BUILD_DIR, CP_TEST_DATA.
set -euo pipefail

: "${CSVPIPE:?CSVPIPE must name the csvpipe binary}"
: "${CP_SOURCE_DIR:?}"
: "${CP_BUILD_DIR:?}"

# The Python test tools (moto, boto3, cfn-lint): from the virtual environment that
# scripts/deps.sh made under the build folder when the machine's python3 lacked them
# (tests/requirements.txt); otherwise the machine's own. This is the one place that says so.
if [ -f "$CP_BUILD_DIR/venv/csvpipe-requirements.txt" ]; then
    export PATH="$CP_BUILD_DIR/venv/bin:$PATH"
fi

# A sanitizer report must never look like csvpipe's own exit code 1.
export ASAN_OPTIONS="exitcode=66:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=67"

GEN_SALES="$CP_BUILD_DIR/tools/gen_sales"
# The column types of gen_sales's files (of a few hundred rows or more) and of
# examples/vendas.csv, for the oracles: known here, not taken from csvpipe.
SALES_TYPES="INT64 DATE TIMESTAMP STRING STRING DECIMAL(18,2) INT64 BOOLEAN DECIMAL(18,2) STRING"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/csvpipe-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

failures=0
passes=0

pass() {
    passes=$((passes + 1))
    echo "ok - $*"
}

fail() {
    failures=$((failures + 1))
    echo "not ok - $*"
}

# The command of the last `run` whose exit code no expect_rc has looked at yet.
_unchecked=""

# Fails the test when the previous `run` went unchecked: every exit code is asserted.
_check_pending() {
    if [ -n "$_unchecked" ]; then
        fail "the exit code ($rc) of '$_unchecked' was never checked (expect_rc)"
        _unchecked=""
    fi
}

# run CMD...: runs a command, keeping its exit code in $rc, stdout in $TMP/out, stderr in
# $TMP/err. An expect_rc must follow (before the next run or finish), so no exit code goes
# unchecked; a sanitizer's exit code (ASan 66, UBSan 67) fails the test at once.
run() {
    _check_pending
    set +e
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    set -e
    _unchecked="$*"
    if [ "$rc" -eq 66 ] || [ "$rc" -eq 67 ]; then
        fail "a sanitizer reported (exit $rc) in: $*"
        sed 's/^/    stderr: /' "$TMP/err" | head -40
    elif [ "$rc" -ge 64 ]; then
        echo "--- stderr of: $*" >&2
        cat "$TMP/err" >&2
    fi
}

# expect_rc NAME CODE: the last run exited with CODE.
expect_rc() {
    _unchecked=""
    if [ "$rc" -eq "$2" ]; then
        pass "$1 (exit $rc)"
    else
        fail "$1: exit $rc, expected $2"
        sed 's/^/    stderr: /' "$TMP/err" | head -20
    fi
}

# expect_exit NAME PID CODE [STDERR_FILE]: waits for the background process PID, which
# must exit with CODE (137 for one killed by SIGKILL, 143 by SIGTERM).
expect_exit() {
    set +e
    wait "$2"
    rc=$?
    set -e
    if [ "$rc" -eq "$3" ]; then
        pass "$1 (exit $rc)"
    else
        fail "$1: exit $rc, expected $3"
        [ -n "${4:-}" ] && sed 's/^/    stderr: /' "$4" | head -20
    fi
    return 0
}

# expect_err NAME PATTERN: stderr of the last run matches the extended regex PATTERN.
expect_err() {
    if grep -Eq -- "$2" "$TMP/err"; then
        pass "$1"
    else
        fail "$1: stderr does not match /$2/"
        sed 's/^/    stderr: /' "$TMP/err" | head -20
    fi
}

# expect_out NAME PATTERN: stdout of the last run matches the extended regex PATTERN.
expect_out() {
    if grep -Eq -- "$2" "$TMP/out"; then
        pass "$1"
    else
        fail "$1: stdout does not match /$2/"
        sed 's/^/    stdout: /' "$TMP/out" | head -20
    fi
}

# json_get FILE EXPR: prints a Python expression over the JSON document `j` in FILE.
json_get() {
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# expect_eq NAME GOT WANT
expect_eq() {
    if [ "$2" == "$3" ]; then
        pass "$1"
    else
        fail "$1: got '$2', expected '$3'"
    fi
}

# expect_same_files A B FILE...: each FILE under folder A is there and byte for byte the one under B
expect_same_files() {
    local a=$1 b=$2 f
    shift 2
    for f in "$@"; do
        if [ -f "$a/$f" ] && cmp -s "$b/$f" "$a/$f"; then
            pass "$a/$f is the same as $b's"
        else
            fail "$a/$f differs from $b's (or is missing)"
        fi
    done
}

# wide_csv SEED ROWS: a CSV on stdout, id,amount,day,note with a random 9000-character note a
# row (some 9 KB a row: few rows fill multipart parts), the same for the same SEED
wide_csv() {
    python3 -c 'import random, sys
r = random.Random(int(sys.argv[1]))
print("id,amount,day,note")
for i in range(1, int(sys.argv[2]) + 1):
    print(f"{i},{r.randrange(1000, 100000) / 100:.2f},2024-{1 + i % 12:02d}-{1 + i % 28:02d},"
          + "".join(r.choice("0123456789abcdef") for _ in range(9000)))' "$1" "$2"
}

finish() {
    _check_pending
    echo "$passes passed, $failures failed"
    [ "$failures" -eq 0 ]
}

# read_parquet FILE [READER]: the rows of a Parquet file as NDJSON, read by an independent
# reader (DuckDB by default) from tests/js.
read_parquet() {
    node "$CP_SOURCE_DIR/tests/js/read_parquet.mjs" "$1" --reader "${2:-duckdb}"
}

# sql DB QUERY: one SQLite query, rows as text.
sql() {
    python3 -c 'import sqlite3,sys
for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join("" if v is None else str(v) for v in r))' "$1" "$2"
}

# check_load ARGS...: the independent oracle over csvpipe's outputs (check_load.py).
check_load() {
    if python3 "$CP_SOURCE_DIR/tests/cli/check_load.py" "$@" >"$TMP/check.out" 2>&1; then
        pass "oracle: $(grep -c '^ok' "$TMP/check.out") checks"
    else
        fail "oracle found differences"
        grep -v '^ok' "$TMP/check.out" | sed 's/^/    /' | head -20
    fi
}
