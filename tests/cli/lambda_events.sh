#!/usr/bin/env bash
# Issue 6 (Lambda): `csvpipe lambda` against the Runtime API harness. S3 test events are
# ignored, keys under the output prefix are refused with a log line and no work, a
# malformed event is an invocation error, and objects named directly, through SQS and
# through EventBridge are loaded from moto's S3 into moto's S3, with an EMF record and a
# log line per file.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
source "$CP_SOURCE_DIR/tests/aws/lambda_lib.bash"
cd "$TMP"
moto_start

mkdir -p s3/in/incoming/vendas s3/data/out/parquet/vendas
printf 'id,produto,preco\n1,café,1.50\n2,pão,2.25\n3,leite,4.00\n' \
    >"s3/in/incoming/vendas/relatório março.csv"
printf 'id,x\n1,2\n' >s3/data/out/parquet/vendas/loop.csv
printf 'a,b\n1,2\n3,4,5,6\n7,8,9\n' >s3/in/incoming/vendas/broken.csv
python3 "$AWS_PY" mb csv-in
python3 "$AWS_PY" mb csv-out
for f in "incoming/vendas/relatório março.csv" incoming/vendas/broken.csv; do
    python3 "$AWS_PY" put csv-in "$f" "s3/in/$f"
done
python3 "$AWS_PY" put csv-out out/parquet/vendas/loop.csv s3/data/out/parquet/vendas/loop.csv

python3 - <<'EOF'
import json
def s3_record(bucket, key, seq="0055AED6DCD90281E5"):
    return {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": bucket},
                   "object": {"key": key, "size": 64, "eTag": "e1", "sequencer": seq}}}
def save(name, obj):
    json.dump(obj, open(name, "w"))
key = "incoming/vendas/relat%C3%B3rio+mar%C3%A7o.csv"
save("test_event.json", {"Service": "Amazon S3", "Event": "s3:TestEvent",
                         "Time": "2024-01-01T00:00:00.000Z", "Bucket": "csv-in",
                         "RequestId": "r", "HostId": "h"})
save("refused.json", {"Records": [s3_record("csv-out", "out/parquet/vendas/loop.csv")]})
save("direct.json", {"Records": [s3_record("csv-in", key)]})
save("eventbridge.json", {"version": "0", "source": "aws.s3", "detail-type": "Object Created",
                          "detail": {"bucket": {"name": "csv-in"},
                                     "object": {"key": key, "size": 64, "etag": "e1",
                                                "sequencer": "0055AED6DCD90281E5"}}})
save("sqs.json", {"Records": [
    {"eventSource": "aws:sqs", "messageId": "m-ok", "body": json.dumps({"Records": [s3_record("csv-in", key)]})},
    {"eventSource": "aws:sqs", "messageId": "m-missing",
     "body": json.dumps({"Records": [s3_record("csv-in", "incoming/vendas/missing.csv")]})},
    {"eventSource": "aws:sqs", "messageId": "m-garbage", "body": "not json"},
    {"eventSource": "aws:sqs", "messageId": "m-test",
     "body": json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "csv-in"})},
    {"eventSource": "aws:sqs", "messageId": "m-removed",
     "body": json.dumps({"Records": [dict(s3_record("csv-in", key), eventName="ObjectRemoved:Delete")]})}]})
save("rejected.json", {"Records": [s3_record("csv-in", "incoming/vendas/broken.csv")]})
EOF
printf '{"Records":[{"eventSource":"aws:s3",' >malformed.json

export CSVPIPE_OUT=s3://csv-out/out

# --- no work at all: test event, refused key, malformed event -----------------------------
# The pipeline opens no database here; with CSVPIPE_OUT on S3 nothing local can be written.
lambda_invoke nowork -- test_event.json refused.json malformed.json
expect_rc "three invocations, then exit" 0
expect_eq "three answers" "$(rec 'len(j["invocations"])')" "3"
expect_eq "test event: success" "$(rec 'j["invocations"][0]["outcome"]')" "response"
expect_eq "test event: no files" "$(rec 'j["invocations"][0]["body"]["files"]')" "[]"
expect_eq "test event: shown as ignored" \
    "$(rec 'j["invocations"][0]["body"]["ignored"][0]["status"]')" "ignored"
expect_eq "refused key: success (nothing to retry)" "$(rec 'j["invocations"][1]["outcome"]')" "response"
expect_eq "refused key: no files" "$(rec 'j["invocations"][1]["body"]["files"]')" "[]"
expect_eq "refused key: reported as refused" \
    "$(rec 'j["invocations"][1]["body"]["ignored"][0]["status"]')" "refused"
expect_eq "refused key: one log line saying so" \
    "$(log_lines 'l.get("status")=="refused" and l["source"]=="s3://csv-out/out/parquet/vendas/loop.csv" and "output location" in l["message"]' | wc -l)" "1"
expect_eq "refused key: no EMF record, no load" "$(log_lines '"_aws" in l' | wc -l)" "0"
expect_eq "refused key: nothing written" "$(python3 "$AWS_PY" ls csv-out out/)" "out/parquet/vendas/loop.csv"
expect_eq "no local output folder made" "$(test -e s3:/ && echo yes || echo no)" "no"
expect_eq "malformed event: invocation error" "$(rec 'j["invocations"][2]["outcome"]')" "error"
expect_eq "malformed event: error type header" "$(rec 'j["invocations"][2]["error_type"]')" \
    "Csvpipe.InvalidEvent"
expect_eq "malformed event: documented error body" \
    "$(rec 'sorted(j["invocations"][2]["body"].keys())')" "['errorMessage', 'errorType', 'stackTrace']"
expect_eq "malformed event: the message says why" \
    "$(rec '"not valid JSON" in j["invocations"][2]["body"]["errorMessage"]')" "True"
expect_eq "no protocol errors" "$(rec 'j["protocol_errors"]')" "[]"
expect_eq "no next after the last" "$(rec 'j["extra_next"]')" "0"

# --- real loads from S3 to S3, SQLite ledger and item store --------------------------------
export CSVPIPE_OUT=s3://csv-out/out CSVPIPE_SQL="sqlite:$TMP/w.db" CSVPIPE_NOSQL="sqlite:$TMP/items.db"
export CSVPIPE_INPUT_PREFIX=incoming/
lambda_invoke loads -- direct.json eventbridge.json sqs.json rejected.json
expect_rc "four invocations" 0
expect_eq "direct: success" "$(rec 'j["invocations"][0]["outcome"]')" "response"
expect_eq "direct: loaded, dataset from the input prefix" \
    "$(rec '[(f["status"], f["dataset"], f["rows"]) for f in j["invocations"][0]["body"]["files"]]')" \
    "[('loaded', 'vendas', 3)]"
expect_eq "key URL-decoded ('+' and %C3%B3)" \
    "$(python3 "$AWS_PY" exists csv-out "out/parquet/vendas/relatório março.parquet")" "yes"
python3 "$AWS_PY" get csv-out "out/parquet/vendas/relatório março.parquet" got.parquet
expect_eq "the Parquet read back by DuckDB" "$(read_parquet got.parquet | tr '\n' ' ')" \
    '{"id":1,"produto":"café","preco":"1.50"} {"id":2,"produto":"pão","preco":"2.25"} {"id":3,"produto":"leite","preco":"4.00"} '
expect_eq "NDJSON in the output bucket" \
    "$(python3 "$AWS_PY" exists csv-out "out/json/vendas/relatório março.jsonl")" "yes"
expect_eq "rejected file: error.json in the output bucket" \
    "$(python3 "$AWS_PY" exists csv-out out/rejected/vendas/broken.error.json)" "yes"
expect_eq "EventBridge: the same version again is skipped" \
    "$(rec '[f["status"] for f in j["invocations"][1]["body"]["files"]]')" "['skipped']"
expect_eq "SQS: answer names the failed messages only" \
    "$(rec 'sorted(x["itemIdentifier"] for x in j["invocations"][2]["body"]["batchItemFailures"])')" \
    "['m-garbage', 'm-missing']"
expect_eq "SQS: answer is only batchItemFailures" \
    "$(rec 'list(j["invocations"][2]["body"].keys())')" "['batchItemFailures']"
expect_eq "rejected file: invocation error" "$(rec 'j["invocations"][3]["outcome"]')" "error"
expect_eq "rejected file: error type" "$(rec 'j["invocations"][3]["error_type"]')" "Csvpipe.LoadFailed"
expect_eq "rows loaded once" "$(sql w.db 'SELECT count(*) FROM vendas')" "3"
expect_eq "items loaded once" "$(sql items.db 'SELECT count(*) FROM items')" "3"
expect_eq "ledger" "$(sql w.db 'SELECT status FROM csvpipe_loads ORDER BY id' | tr '\n' ' ')" \
    "loaded skipped skipped failed rejected "
expect_eq "one EMF record per file" "$(log_lines '"_aws" in l' | wc -l)" "5"
expect_eq "EMF of the load" \
    "$(log_lines '"_aws" in l and l["FilesLoaded"]==1' | python3 -c 'import json,sys; l=json.loads(sys.stdin.read()); print(l["dataset"], l["RowsLoaded"], l["FilesRejected"], [m["Name"] for m in l["_aws"]["CloudWatchMetrics"][0]["Metrics"]])')" \
    "vendas 3 0 ['FilesLoaded', 'FilesRejected', 'RowsLoaded', 'RowsRejected', 'BytesRead', 'DurationMs', 'Restarts']"
expect_eq "one log line per file, with the request id" \
    "$(log_lines '"_aws" not in l and l.get("dataset") and l.get("requestId")' | wc -l)" "5"
expect_eq "log lines of SQS records carry the message id" \
    "$(log_lines '"_aws" not in l and l.get("messageId")' | python3 -c 'import sys,json; print(sorted({json.loads(x)["messageId"] for x in sys.stdin}))')" \
    "['m-garbage', 'm-missing', 'm-ok', 'm-removed', 'm-test']"
expect_eq "every stdout line is JSON" \
    "$(python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print("ok")' "$TMP/out")" "ok"
finish
