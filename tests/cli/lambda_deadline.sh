#!/usr/bin/env bash
# Issue 6 (Lambda): the deadline. An invocation whose deadline is already near starts no
# work; a load still running at the soft deadline is rolled back; a load stuck in a
# blocking call is reported by the watchdog, which then ends the process. In every case the
# invocation error reaches the Runtime API before the deadline and nothing is committed.
# No fixed timing: the margins leave many seconds for each report, and the rollback's
# deadline is set from how long this machine took to load the same file.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
source "$CP_SOURCE_DIR/tests/aws/lambda_lib.bash"
cd "$TMP"
moto_start

printf 'id,amount\n1,2.50\n2,3.75\n' >small.csv
"$GEN_SALES" --bytes 6000000 --seed 5 >big.csv 2>/dev/null
python3 "$AWS_PY" mb csv-in
python3 "$AWS_PY" put csv-in incoming/sales/small.csv small.csv
python3 "$AWS_PY" put csv-in incoming/sales/big.csv big.csv
# A server that accepts connections and never answers: a source stuck in a blocking call.
bg_start silent python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(600)' "$TMP/silent.port"
wait_file silent.port 10

event() { # event KEY: a direct S3 notification for in/KEY
    printf '{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"csv-in"},"object":{"key":"%s","size":1}}}]}' "$1"
}
event incoming/sales/small.csv >small.json
event incoming/sales/big.csv >big.json
event incoming/sales/stuck.csv >stuck.json

export CSVPIPE_OUT="$TMP/lout" CSVPIPE_SQL="sqlite:$TMP/w.db" CSVPIPE_NOSQL="sqlite:$TMP/items.db"
export CSVPIPE_INPUT_PREFIX=incoming

before_deadline() { # the report arrived before the invocation's deadline
    rec 'j["invocations"][0]["reported_at_ms"] is not None and j["invocations"][0]["reported_at_ms"] < j["invocations"][0]["deadline_ms"]'
}

# --- 1. the deadline is nearer than the margin: no work starts -------------------------------
CSVPIPE_DEADLINE_MARGIN_MS=60000 lambda_invoke near --deadline-ms 30000 -- small.json
expect_rc "near deadline: csvpipe goes on to the next invocation" 0
expect_eq "near deadline: invocation error" "$(rec 'j["invocations"][0]["outcome"]')" "error"
expect_eq "near deadline: error type" "$(rec 'j["invocations"][0]["error_type"]')" "Csvpipe.DeadlineExceeded"
expect_eq "near deadline: reported before the deadline" "$(before_deadline)" "True"
expect_eq "near deadline: the file was not started" \
    "$(log_lines 'l.get("status")=="not-started"' | wc -l)" "1"
expect_eq "near deadline: nothing loaded" "$(test -e lout/parquet/sales/small.parquet && echo yes || echo no)" "no"

# --- 2. a long load at the soft deadline: rolled back at the next batch, error reported ----
# How long a whole load of big.csv takes here (into other outputs, far from any deadline);
# the soft deadline then falls a third of the way into it, and the margin leaves the
# rollback and the report at least 30 s (or three loads' time).
CSVPIPE_OUT="$TMP/measure" CSVPIPE_SQL="sqlite:$TMP/measure.db" CSVPIPE_NOSQL="sqlite:$TMP/mitems.db" \
    lambda_invoke measure --deadline-ms 600000 -- big.json
expect_rc "measure: the whole load" 0
expect_eq "measure: loaded" "$(rec '[f["status"] for f in j["invocations"][0]["body"]["files"]]')" "['loaded']"
took=$(rec 'j["invocations"][0]["reported_at_ms"] - j["invocations"][0]["handed_at_ms"]')
soft=$((took / 3))
margin=$((3 * took > 30000 ? 3 * took : 30000))
echo "# a whole load took ${took} ms: soft deadline at ${soft} ms, margin ${margin} ms"
CSVPIPE_DEADLINE_MARGIN_MS=$margin lambda_invoke rollback --deadline-ms $((soft + margin)) -- big.json
expect_rc "rollback: csvpipe itself reported (no watchdog exit)" 0
expect_eq "rollback: invocation error" "$(rec 'j["invocations"][0]["outcome"]')" "error"
expect_eq "rollback: error type" "$(rec 'j["invocations"][0]["error_type"]')" "Csvpipe.DeadlineExceeded"
expect_eq "rollback: the message says the file was rolled back" \
    "$(rec '"rolled back" in j["invocations"][0]["body"]["errorMessage"]')" "True"
expect_eq "rollback: the load was under way and interrupted" \
    "$(log_lines 'l.get("status")=="failed" and "interrupted" in l.get("error","")' | wc -l)" "1"
expect_eq "rollback: reported before the deadline" "$(before_deadline)" "True"
expect_eq "rollback: no parquet published" "$(test -e lout/parquet/sales/big.parquet && echo yes || echo no)" "no"
expect_eq "rollback: no rows committed" \
    "$(sql w.db "SELECT count(*) FROM sqlite_master WHERE name='sales'")" "0"
expect_eq "rollback: no items committed" "$(sql items.db 'SELECT count(*) FROM items')" "0"
expect_eq "rollback: no temporary files left" "$(find lout -name '*.tmp-*' | wc -l)" "0"
expect_eq "rollback: EMF counts a failed file" \
    "$(log_lines '"_aws" in l and l["FilesRejected"]==1 and l["FilesLoaded"]==0' | wc -l)" "1"

# --- 3. stuck in a blocking call: the watchdog reports and ends the process ----------------
# soft deadline after 2 s, the watchdog's hard stage 4 s (a quarter of the margin) before
# the deadline: 4 s for its report.
AWS_ENDPOINT_URL_S3="http://127.0.0.1:$(cat silent.port)" CSVPIPE_DEADLINE_MARGIN_MS=16000 \
    lambda_invoke stuck --deadline-ms 18000 -- stuck.json
expect_rc "stuck: the process ended itself" 1
expect_eq "stuck: invocation error" "$(rec 'j["invocations"][0]["outcome"]')" "error"
expect_eq "stuck: error type" "$(rec 'j["invocations"][0]["error_type"]')" "Csvpipe.DeadlineExceeded"
expect_eq "stuck: reported before the deadline" "$(before_deadline)" "True"
expect_eq "stuck: one report only" "$(rec 'j["protocol_errors"]')" "[]"
expect_eq "stuck: a log line says so" "$(log_lines 'l.get("status")=="deadline"' | wc -l)" "1"
finish
