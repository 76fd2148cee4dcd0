#!/usr/bin/env bash
# README promises on AWS that no other test checks, against moto and a throwaway
# PostgreSQL: the Lambda settings CSVPIPE_TABLE, CSVPIPE_KEY, CSVPIPE_FORMATS and
# CSVPIPE_COMPRESSION; CSVPIPE_SQL_SECRET_ARN with a database that works; the per-service
# endpoint variables (AWS_ENDPOINT_URL_S3, _DYNAMODB, _SECRETS_MANAGER) over AWS_ENDPOINT_URL;
# the S3 version id as the ledger's version in a versioned bucket; and S3 outputs that stay
# invisible (no object, no multipart upload left) when a load is rejected or fails after
# its uploads started.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
source "$CP_SOURCE_DIR/tests/aws/lambda_lib.bash"
cd "$TMP"
pg_start
moto_start
DEAD=http://127.0.0.1:$(free_port) # nothing listens there

python3 "$AWS_PY" mb src-bucket
python3 "$AWS_PY" mb out-bucket
printf 'region,sku,qty,price\nnorth,1,5,1.50\nnorth,2,6,2.25\nsouth,1,7,3.00\n' >stock.csv
python3 "$AWS_PY" put src-bucket incoming/shop/stock.csv stock.csv
event() { # event KEY: a direct S3 notification for in/KEY
    printf '{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"src-bucket"},"object":{"key":"%s","size":1}}}]}' "$1"
}
event incoming/shop/stock.csv >stock.json

# --- Lambda: CSVPIPE_TABLE, CSVPIPE_KEY, CSVPIPE_FORMATS, CSVPIPE_COMPRESSION --------------
CSVPIPE_OUT=s3://out-bucket/lake CSVPIPE_SQL="sqlite:$TMP/w.db" CSVPIPE_NOSQL="sqlite:$TMP/items.db" \
    CSVPIPE_INPUT_PREFIX=incoming/ CSVPIPE_TABLE=inventory CSVPIPE_KEY=region,sku \
    CSVPIPE_FORMATS=parquet CSVPIPE_COMPRESSION=zstd lambda_invoke settings -- stock.json
expect_rc "Lambda with its settings" 0
expect_eq "CSVPIPE_TABLE names the dataset (not the prefix's folder)" \
    "$(rec '[(f["status"], f["dataset"]) for f in j["invocations"][0]["body"]["files"]]')" "[('loaded', 'inventory')]"
expect_eq "CSVPIPE_KEY keys the items by region and sku" \
    "$(sql items.db 'SELECT pk, sk FROM items ORDER BY pk' | tr '\n' ' ')" \
    "inventory#north#1|inventory inventory#north#2|inventory inventory#south#1|inventory "
expect_eq "CSVPIPE_FORMATS=parquet: the Parquet file and no NDJSON" \
    "$(python3 "$AWS_PY" ls out-bucket lake/ | tr '\n' ' ')" "lake/parquet/inventory/stock.parquet "
python3 "$AWS_PY" get out-bucket lake/parquet/inventory/stock.parquet stock.parquet
expect_eq "CSVPIPE_COMPRESSION=zstd: every chunk is ZSTD" \
    "$(node "$CP_SOURCE_DIR/tests/js/parquet_codecs.mjs" stock.parquet)" "ZSTD"
expect_eq "the rows, read back by DuckDB" "$(read_parquet stock.parquet | wc -l)" "3"
expect_eq "the rows in the table named by CSVPIPE_TABLE" "$(sql w.db 'SELECT count(*) FROM inventory')" "3"

# --- CSVPIPE_SQL_SECRET_ARN with a database that works (Secrets Manager by its own
#     endpoint variable, the common one dead) ---------------------------------------------
python3 "$AWS_PY" secret csvpipe/rds \
    "{\"engine\":\"postgres\",\"username\":\"csvpipe\",\"password\":\"not-needed\",\"host\":\"127.0.0.1\",\"port\":$PG_PORT,\"dbname\":\"postgres\"}"
python3 "$AWS_PY" put src-bucket incoming/shop/stock2.csv stock.csv
event incoming/shop/stock2.csv >stock2.json
AWS_ENDPOINT_URL=$DEAD AWS_ENDPOINT_URL_S3=$MOTO_URL AWS_ENDPOINT_URL_SECRETS_MANAGER=$MOTO_URL \
    CSVPIPE_OUT=s3://out-bucket/pg CSVPIPE_SQL_SECRET_ARN=csvpipe/rds CSVPIPE_NOSQL="sqlite:$TMP/items2.db" \
    CSVPIPE_INPUT_PREFIX=incoming/ lambda_invoke secret -- stock2.json
expect_rc "Lambda with CSVPIPE_SQL_SECRET_ARN" 0
expect_eq "no init error" "$(rec 'j["init_error"]')" "None"
expect_eq "loaded through the secret's database" \
    "$(rec '[(f["status"], f["dataset"], f["rows"]) for f in j["invocations"][0]["body"]["files"]]')" \
    "[('loaded', 'shop', 3)]"
expect_eq "the rows in PostgreSQL" "$(pg_psql 'SELECT count(*), sum(qty) FROM shop')" "3|18"
expect_eq "the ledger row in PostgreSQL" \
    "$(pg_psql "SELECT status, source_uri FROM csvpipe_loads")" "loaded|s3://src-bucket/incoming/shop/stock2.csv"

# --- the per-service endpoint variables win over AWS_ENDPOINT_URL --------------------------
"$AWS_TOOL" ddb-create ep-items
"$GEN_SALES" --rows 200 --seed 9 >sales.csv
python3 "$AWS_PY" put src-bucket ep/sales.csv sales.csv
run env AWS_ENDPOINT_URL=$DEAD AWS_ENDPOINT_URL_S3=$MOTO_URL AWS_ENDPOINT_URL_DYNAMODB=$MOTO_URL \
    "$CSVPIPE" run --json --out s3://out-bucket/ep --sql "sqlite:$TMP/ep.db" --nosql dynamodb:ep-items s3://src-bucket/ep/sales.csv
expect_rc "S3 and DynamoDB by their own variables, the common one dead" 0
expect_eq "loaded" "$(json_get "$TMP/out" '(j["status"], j["rows"])')" "('loaded', 200)"
python3 "$AWS_PY" ddb-scan ep-items ep.ndjson
expect_eq "the items in DynamoDB" "$(wc -l <ep.ndjson)" "200"
cp sales.csv sales2.csv
python3 "$AWS_PY" put src-bucket ep/sales2.csv sales2.csv
run env AWS_ENDPOINT_URL=$MOTO_URL AWS_ENDPOINT_URL_DYNAMODB=$DEAD CSVPIPE_AWS_MAX_ATTEMPTS=2 \
    "$CSVPIPE" run --json --out s3://out-bucket/ep --sql "sqlite:$TMP/ep.db" --nosql dynamodb:ep-items s3://src-bucket/ep/sales2.csv
expect_rc "a dead DynamoDB endpoint by its own variable" 1
expect_eq "the load failed on DynamoDB" "$(json_get "$TMP/out" '(j["status"], "BatchWriteItem" in j["error"] or "dynamodb" in j["error"].lower())')" \
    "('failed', True)"
run env AWS_ENDPOINT_URL=$MOTO_URL AWS_ENDPOINT_URL_S3=$DEAD CSVPIPE_AWS_MAX_ATTEMPTS=2 \
    "$CSVPIPE" run --json --out s3://out-bucket/ep --sql "sqlite:$TMP/ep.db" --no-nosql s3://src-bucket/ep/sales2.csv
expect_rc "a dead S3 endpoint by its own variable" 1
expect_eq "the error names the S3 endpoint" \
    "$(json_get "$TMP/out" '(j["status"], "'"${DEAD#http://}"'" in j["error"])')" "('failed', True)"

# --- the S3 version id is the ledger's version -------------------------------------------
python3 - <<'PY'
import boto3, os
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
s3.create_bucket(Bucket="versioned")
s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
PY
version_of() { # the current version id of versioned/KEY
    python3 -c 'import boto3,os,sys; print(boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1").head_object(Bucket="versioned", Key=sys.argv[1])["VersionId"])' "$1"
}
V=sqlite:$TMP/v.db
python3 "$AWS_PY" put versioned data/sales.csv sales.csv
v1=$(version_of data/sales.csv)
run "$CSVPIPE" run --json --out "$TMP/vout" --sql "$V" --no-nosql s3://versioned/data/sales.csv
expect_rc "versioned bucket: first version" 0
expect_eq "the summary's version is the version id" "$(json_get "$TMP/out" '(j["status"], j["version"])')" "('loaded', '$v1')"
expect_eq "the ledger's version is the version id" "$(sql v.db "SELECT version FROM csvpipe_loads")" "$v1"
run "$CSVPIPE" run --json --out "$TMP/vout" --sql "$V" --no-nosql s3://versioned/data/sales.csv
expect_rc "the same version again" 0
expect_eq "the same version id is skipped" "$(json_get "$TMP/out" 'j["status"]')" "skipped"
head -51 sales.csv >sales50.csv
python3 "$AWS_PY" put versioned data/sales.csv sales50.csv
v2=$(version_of data/sales.csv)
run "$CSVPIPE" run --json --out "$TMP/vout" --sql "$V" --no-nosql s3://versioned/data/sales.csv
expect_rc "versioned bucket: second version" 0
expect_eq "a new version id loads and replaces the rows" \
    "$(json_get "$TMP/out" '(j["status"], j["version"], j["rows"])')|$(sql v.db 'SELECT count(*) FROM sales')" \
    "('loaded', '$v2', 50)|50"
expect_eq "two different version ids in the ledger" \
    "$(sql v.db "SELECT count(DISTINCT version) FROM csvpipe_loads WHERE status = 'loaded'")|$([ "$v1" != "$v2" ] && echo differ)" "2|differ"

# --- S3 outputs stay invisible when a load is rejected or fails ----------------------------
# Rejected: more bad rows than allowed, found as the outputs are being written.
python3 -c 'print("id,name"); [print(f"{i},n{i}" + (",x" if i % 10 == 0 else "")) for i in range(1, 5001)]' >bad.csv
python3 "$AWS_PY" put src-bucket bad/bad.csv bad.csv
run "$CSVPIPE" run --json --out s3://out-bucket/inv --sql "sqlite:$TMP/inv.db" --no-nosql s3://src-bucket/bad/bad.csv
expect_rc "rejected" 1
expect_eq "rejected status" "$(json_get "$TMP/out" 'j["status"]')" "rejected"
expect_eq "rejected: only error.json and the rejects under the output prefix" \
    "$(python3 "$AWS_PY" ls out-bucket inv/ | tr '\n' ' ')" "inv/rejected/bad/bad.error.json inv/rejected/bad/bad.rejects.csv "
expect_eq "rejected: no multipart upload left" "$(python3 "$AWS_PY" uploads out-bucket)" "0"
# Failed after the uploads started: a broken quote at the end of a file whose NDJSON needs
# several 5 MiB parts.
"$GEN_SALES" --bytes 4000000 --seed 8 >big.csv 2>/dev/null
printf '999999,"never closed\n' >>big.csv
python3 "$AWS_PY" put src-bucket big/big.csv big.csv
run env CSVPIPE_S3_PART_SIZE=5242880 "$CSVPIPE" run --json --out s3://out-bucket/inv --sql "sqlite:$TMP/inv.db" \
    --no-nosql s3://src-bucket/big/big.csv
expect_rc "failed at the end of the file" 1
expect_eq "failed status" "$(json_get "$TMP/out" '(j["status"], "never closed" in j["error"])')" "('failed', True)"
expect_eq "failed: its error.json and nothing else under the output prefix" \
    "$(python3 "$AWS_PY" ls out-bucket inv/ | grep /big/ | tr '\n' ' ')" "inv/rejected/big/big.error.json "
# moto's request log: the NDJSON's multipart upload was under way, then aborted
expect_eq "failed: the NDJSON upload had started and was aborted" \
    "$(grep -c 'POST /out-bucket/inv/json/big/big.jsonl?uploads' "$TMP/moto.log") $(grep -c 'DELETE /out-bucket/inv/json/big/big.jsonl?uploadId' "$TMP/moto.log")" "1 1"
expect_eq "failed: no Parquet, no NDJSON" \
    "$(python3 "$AWS_PY" exists out-bucket inv/parquet/big/big.parquet) $(python3 "$AWS_PY" exists out-bucket inv/json/big/big.jsonl)" "no no"
expect_eq "failed: no multipart upload left" "$(python3 "$AWS_PY" uploads out-bucket)" "0"
expect_eq "failed: the ledger says so, nothing loaded" \
    "$(sql inv.db "SELECT status, rows_loaded FROM csvpipe_loads WHERE dataset = 'big'")|$(sql inv.db "SELECT count(*) FROM sqlite_master WHERE name = 'big'")" \
    "failed|0|0"
finish
