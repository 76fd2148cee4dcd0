#!/usr/bin/env bash
# Issue 6, acceptance 4: the whole pipeline through tests/aws/fault_proxy.py in front of
# moto (signature checking on), with 30% of requests faulted: S3 GETs reset mid-stream,
# DynamoDB calls throttled or answered with UnprocessedItems, 500s. `csvpipe run` from S3
# to S3, DynamoDB and PostgreSQL: every item written exactly once, every row loaded once,
# the outputs complete.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
cd "$TMP"
pg_start
moto_start
moto_enable_auth
"$GEN_SALES" --rows 4000 --seed 42 >sales.csv
python3 "$AWS_PY" mb faults-in
python3 "$AWS_PY" mb faults-out
python3 "$AWS_PY" put faults-in incoming/sales/sales.csv sales.csv
"$AWS_TOOL" ddb-create faults-items
export CSVPIPE_AWS_MAX_ATTEMPTS=12

proxy_start --rate 0.3 --seed 7 --faults reset,throttle,unprocessed,500
AWS_ENDPOINT_URL=$PROXY_URL run "$CSVPIPE" run --json --quiet --out s3://faults-out/lake \
    --sql "$PG_URL" --nosql dynamodb:faults-items s3://faults-in/incoming/sales/sales.csv
expect_rc "load through the faults" 0
cp "$TMP/out" summary.json
expect_eq "loaded" "$(json_get summary.json 'j["status"]')" "loaded"
expect_eq "rows" "$(json_get summary.json 'j["rows"]')" "4000"
faults=$(($(proxy_stat reset) + $(proxy_stat throttle) + $(proxy_stat unprocessed_items) + $(proxy_stat 500)))
expect_eq "the proxy injected faults ($faults)" "$((faults > 0))" 1
expect_eq "DynamoDB items were left unprocessed and resent ($(proxy_stat unprocessed_items))" \
    "$(($(proxy_stat unprocessed_items) > 0))" 1

python3 "$AWS_PY" get faults-out lake/parquet/sales/sales.parquet out.parquet
python3 "$AWS_PY" get faults-out lake/json/sales/sales.jsonl out.jsonl
read_parquet out.parquet >pq.ndjson
python3 "$AWS_PY" ddb-scan faults-items items.ndjson
check_load --csv sales.csv --types "$SALES_TYPES" --summary summary.json --parquet-rows pq.ndjson --ndjson out.jsonl \
    --ddb-items items.ndjson
expect_eq "every row once in PostgreSQL" "$(pg_psql 'SELECT count(*), count(DISTINCT _row) FROM sales')" "4000|4000"
expect_eq "no multipart upload left behind" "$(python3 "$AWS_PY" uploads faults-out)" 0

# The same object again, still through the faults: a repeat, nothing duplicated.
AWS_ENDPOINT_URL=$PROXY_URL run "$CSVPIPE" run --json --quiet --out s3://faults-out/lake \
    --sql "$PG_URL" --nosql dynamodb:faults-items s3://faults-in/incoming/sales/sales.csv
expect_rc "repeat skipped" 0
expect_eq "repeat skipped" "$(json_get "$TMP/out" 'j["status"]')" "skipped"
python3 "$AWS_PY" ddb-scan faults-items items2.ndjson
expect_eq "still one item per row" "$(wc -l <items2.ndjson)" "4000"

# A file rejected for its bad rows leaves no item behind, although DynamoDB has no
# transactions: items are written only once a file is known to load.
python3 -c 'print("id,name"); [print(f"{i},n{i}" + (",x" if i % 20 == 0 else "")) for i in range(1, 1001)]' >bad.csv
python3 "$AWS_PY" put faults-in incoming/bad/bad.csv bad.csv
run "$CSVPIPE" run --json --quiet --out s3://faults-out/lake --no-sql \
    --nosql dynamodb:faults-items s3://faults-in/incoming/bad/bad.csv
expect_rc "5% bad rows: rejected" 1
expect_eq "rejected status" "$(json_get "$TMP/out" 'j["status"]')" "rejected"
python3 "$AWS_PY" ddb-scan faults-items items3.ndjson
expect_eq "no item of the rejected file" \
    "$(grep -c 'incoming/bad/bad.csv' items3.ndjson || true)" "0"
expect_eq "its error.json in the output bucket" \
    "$(python3 "$AWS_PY" exists faults-out lake/rejected/bad/bad.error.json)" "yes"

# A row whose item would pass DynamoDB's 400 KB limit is a rejected row, for every sink
# alike: the other 199 rows load everywhere, the rejects file names its line and why.
python3 -c 'print("id,note"); [print(f"{i}," + ("x" * 500000 if i == 77 else f"n{i}")) for i in range(1, 201)]' >wide.csv
run "$CSVPIPE" run --json --quiet --out "$TMP/wide-out" --sql "$PG_URL" \
    --nosql dynamodb:faults-items wide.csv
expect_rc "a 500 KB row with DynamoDB items" 0
expect_eq "199 rows loaded, 1 rejected" "$(json_get "$TMP/out" '(j["rows"], j["rejected_rows"])')" "(199, 1)"
expect_eq "the rejects file says which row and why" \
    "$(python3 -c 'import csv,sys; csv.field_size_limit(1 << 24); r=list(csv.DictReader(open(sys.argv[1]))); print(len(r), r[0]["line"], "400 KB" in r[0]["reason"])' "$TMP/wide-out/rejected/wide/wide.rejects.csv")" "1 78 True"
python3 "$AWS_PY" ddb-scan faults-items items4.ndjson
expect_eq "199 items" "$(grep -c '/wide.csv"' items4.ndjson || true)" "199"
expect_eq "199 rows in PostgreSQL, numbered 1..199" \
    "$(pg_psql 'SELECT count(*), max(_row), count(*) FILTER (WHERE id = 77) FROM wide')" "199|199|0"
finish
