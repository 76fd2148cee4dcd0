#!/usr/bin/env bash
# Issue 6, acceptances 1 and 2: a CSV uploaded to (moto's) S3 under
# incoming/vendas/relatório março.csv, its event delivered three ways (direct, SQS,
# EventBridge) to `csvpipe lambda`: Parquet and NDJSON in the output bucket (read back and
# compared with the source by an independent oracle), items in DynamoDB equal to the
# source, rows and a ledger row in PostgreSQL, the JSON summary as the response, an EMF
# line on stdout. The later deliveries of the same object are repeats: no duplicate rows
# or items.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
source "$CP_SOURCE_DIR/tests/aws/lambda_lib.bash"
cd "$TMP"
pg_start
moto_start

KEY="incoming/vendas/relatório março.csv"
cp "$CP_SOURCE_DIR/examples/vendas.csv" source.csv
python3 "$AWS_PY" mb csv-in
python3 "$AWS_PY" mb csv-out
python3 "$AWS_PY" put csv-in "$KEY" source.csv
# The DynamoDB table, made by csvpipe itself.
run "$CSVPIPE" run --create-table --nosql dynamodb:csvpipe-items --no-sql --formats none source.csv
expect_rc "create the DynamoDB table and load nothing else" 0

python3 - <<'PY'
import json
key = "incoming/vendas/relat%C3%B3rio+mar%C3%A7o.csv"
rec = {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
       "s3": {"bucket": {"name": "csv-in"},
              "object": {"key": key, "size": 244110, "sequencer": "0065A1B2C3D4E5F601"}}}
json.dump({"Records": [rec]}, open("direct.json", "w"))
json.dump({"Records": [{"eventSource": "aws:sqs", "messageId": "m1",
                        "body": json.dumps({"Records": [rec]})}]}, open("sqs.json", "w"))
json.dump({"version": "0", "source": "aws.s3", "detail-type": "Object Created",
           "detail": {"bucket": {"name": "csv-in"},
                      "object": {"key": key, "size": 244110, "sequencer": "0065A1B2C3D4E5F601"}}},
          open("eventbridge.json", "w"))
PY
# The items loaded above (by the local run) are another source; start the table afresh.
export CSVPIPE_OUT=s3://csv-out/lake CSVPIPE_SQL="$PG_URL" CSVPIPE_NOSQL=dynamodb:csvpipe-items
export CSVPIPE_INPUT_PREFIX=incoming/
lambda_invoke three -- direct.json sqs.json eventbridge.json
expect_rc "three invocations" 0
expect_eq "direct: loaded" "$(rec '[(f["status"], f["dataset"], f["rows"]) for f in j["invocations"][0]["body"]["files"]]')" \
    "[('loaded', 'vendas', 3000)]"
expect_eq "SQS: no failures" "$(rec 'j["invocations"][1]["body"]')" "{'batchItemFailures': []}"
expect_eq "EventBridge: a repeat, skipped" "$(rec '[f["status"] for f in j["invocations"][2]["body"]["files"]]')" "['skipped']"
rec 'json.dumps(j["invocations"][0]["body"]["files"][0])' >summary.json
expect_eq "EMF line of the load" \
    "$(log_lines '"_aws" in l and l["FilesLoaded"]==1 and l["RowsLoaded"]==3000 and l["dataset"]=="vendas"' | wc -l)" "1"

# Outputs in the output bucket, read back independently.
python3 "$AWS_PY" get csv-out "lake/parquet/vendas/relatório março.parquet" out.parquet
python3 "$AWS_PY" get csv-out "lake/json/vendas/relatório março.jsonl" out.jsonl
read_parquet out.parquet >pq.ndjson
python3 "$AWS_PY" ddb-scan csvpipe-items items.ndjson
check_load --csv source.csv --types "$SALES_TYPES" --encoding cp1252 --delimiter ';' --decimal , --date-order dmy \
    --summary summary.json --parquet-rows pq.ndjson --ndjson out.jsonl --ddb-items items.ndjson
if python3 "$CP_SOURCE_DIR/tests/pg/check_pg.py" --pg "$PG_URL" --csv source.csv --types "$SALES_TYPES" --encoding cp1252 \
    --delimiter ';' --decimal , --date-order dmy --summary summary.json >pg.out 2>&1; then
    pass "PostgreSQL rows equal the source ($(grep -c '^ok' pg.out) checks)"
else
    fail "PostgreSQL rows differ"
    grep -v '^ok' pg.out | head
fi
expect_eq "rows once in PostgreSQL" "$(pg_psql 'SELECT count(*), count(DISTINCT _row) FROM vendas')" "3000|3000"
expect_eq "ledger rows in PostgreSQL" \
    "$(pg_psql "SELECT status, sequencer FROM csvpipe_loads WHERE source_uri LIKE 's3://%' ORDER BY id" | tr '\n' ' ')" \
    "loaded|0065A1B2C3D4E5F601 skipped|0065A1B2C3D4E5F601 skipped|0065A1B2C3D4E5F601 "
expect_eq "items once in DynamoDB" \
    "$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["_source"]["S"].startswith("s3://")))' items.ndjson)" "3000"

# An older event of the same key (by sequencer) is skipped too.
python3 -c 'import json; e=json.load(open("direct.json")); e["Records"][0]["s3"]["object"]["sequencer"]="0065A1B2C3D4E5F500"; json.dump(e, open("older.json","w"))'
lambda_invoke older -- older.json
expect_rc "one invocation" 0
expect_eq "older event skipped" "$(rec '[f["status"] for f in j["invocations"][0]["body"]["files"]]')" "['skipped']"
expect_eq "still one copy of every row" "$(pg_psql 'SELECT count(*) FROM vendas')" "3000"
finish
