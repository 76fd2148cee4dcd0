#!/usr/bin/env bash
# Issue 14, compressed uploads from S3 (moto): a .csv.gz object streams to the same Parquet
# and NDJSON as the plain file loaded locally, also through a proxy that resets half of the
# GETs mid-body (ranged resumes inside the compressed stream); a column widened after the
# sample rereads the compressed object from byte 0 (through the resets too); a corrupt
# object fails with its URI and the byte and publishes nothing; `csvpipe lambda` loads a
# .csv.zst key of an S3 event under the dataset of its folder.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
source "$CP_SOURCE_DIR/tests/aws/lambda_lib.bash"
cd "$TMP"
moto_start
python3 "$AWS_PY" mb csv-in
python3 "$AWS_PY" mb csv-out

"$GEN_SALES" --rows 14000 --seed 4 >sales.csv
gzip -c sales.csv >sales.csv.gz
zstd -q -c sales.csv >sales.csv.zst
python3 "$AWS_PY" put csv-in incoming/sales/sales.csv.gz sales.csv.gz
python3 "$AWS_PY" put csv-in incoming/sales/sales.csv.zst sales.csv.zst
{
    echo "id,code,amount"
    for i in $(seq 1 25000); do echo "$i,$i,$i.50"; done
    echo "25001,X-17,1.25"
    for i in $(seq 25002 25100); do echo "$i,$i,2.00"; done
} >widen.csv
gzip -c widen.csv >widen.csv.gz
python3 "$AWS_PY" put csv-in incoming/widen/widen.csv.gz widen.csv.gz
python3 - <<'PY'
d = bytearray(open("sales.csv.gz", "rb").read())
d[len(d) // 2] ^= 0x55
open("damaged.csv.gz", "wb").write(d)
PY
python3 "$AWS_PY" put csv-in incoming/sales/damaged.csv.gz damaged.csv.gz

local_run() { # NAME FILE: the plain file, loaded locally
    run "$CSVPIPE" run --json --quiet --no-sql --no-nosql --out "out-$1" "$2"
    expect_rc "local $2" 0
}
# same NAME PLAIN DATASET STEM: out-NAME's Parquet and NDJSON are out-PLAIN's
same() { expect_same_files "out-$1" "out-$2" "parquet/$3/$4.parquet" "json/$3/$4.jsonl"; }
local_run plain sales.csv
local_run wplain widen.csv

URI=s3://csv-in/incoming/sales/sales.csv.gz
run "$CSVPIPE" run --json --quiet --no-nosql --out out-s3 "$URI"
expect_rc "a .csv.gz object" 0
cp "$TMP/out" s3.json
expect_eq "loaded under dataset sales" "$(json_get s3.json '(j["status"], j["dataset"], j["rows"])')" \
    "('loaded', 'sales', 14000)"
expect_eq "detected gzip" "$(json_get s3.json 'j["detected"]["compression"]')" "gzip"
expect_eq "bytes: the object's size" "$(json_get s3.json 'j["bytes"]')" "$(stat -c %s sales.csv.gz)"
expect_eq "version: the ETag" "$(json_get s3.json 'j["version"]')" "$(md5sum <sales.csv.gz | cut -d' ' -f1)"
same s3 plain sales sales

# most object GETs reset after a random part of the body
proxy_start --rate 0.6 --seed 3 --faults reset
AWS_ENDPOINT_URL=$PROXY_URL run "$CSVPIPE" run --json --quiet --no-sql --no-nosql --out out-resets "$URI"
expect_rc "through resets" 0
expect_eq "the proxy reset GETs ($(proxy_stat reset))" "$(($(proxy_stat reset) > 0))" 1
same resets plain sales sales

AWS_ENDPOINT_URL=$PROXY_URL run "$CSVPIPE" run --json --quiet --no-sql --no-nosql --out out-widen \
    s3://csv-in/incoming/widen/widen.csv.gz
expect_rc "widen inside a compressed object, through resets" 0
expect_eq "one restart, widened, every row" \
    "$(json_get "$TMP/out" '(j["restarts"], j["schema"][1]["type"], j["rows"])')" "(1, 'STRING', 25100)"
same widen wplain widen widen

run "$CSVPIPE" run --json --quiet --out out-bad s3://csv-in/incoming/sales/damaged.csv.gz
expect_rc "a corrupt object fails" 1
err=$(json_get "$TMP/out" 'j["error"]')
if [[ "$err" =~ ^s3://csv-in/incoming/sales/damaged\.csv\.gz:\ (line\ [0-9]+:\ )?corrupt\ gzip\ data\ found\ at\ byte\ [0-9]+\  ]]; then
    pass "the error names the object and the byte: $err"
else
    fail "unexpected error: $err"
fi
expect_eq "nothing published" "$(find out-bad/parquet out-bad/json -type f 2>/dev/null | wc -l)" "0"
expect_eq "the ledger says failed" "$(sql out-bad/warehouse.db 'SELECT dataset, status FROM csvpipe_loads')" "damaged|failed"

# Lambda, an S3 event for a .csv.zst key
python3 - <<'PY'
import json
rec = {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
       "s3": {"bucket": {"name": "csv-in"},
              "object": {"key": "incoming/sales/sales.csv.zst", "size": 1, "eTag": "e",
                         "sequencer": "0055AED6DCD90281E5"}}}
json.dump({"Records": [rec]}, open("zst_event.json", "w"))
PY
export CSVPIPE_OUT=s3://csv-out/out CSVPIPE_SQL="sqlite:$TMP/w.db" CSVPIPE_NOSQL="sqlite:$TMP/items.db"
export CSVPIPE_INPUT_PREFIX=incoming/
lambda_invoke zst -- zst_event.json
expect_rc "lambda: one invocation" 0
expect_eq "lambda: loaded into dataset sales" \
    "$(rec '[(f["status"], f["dataset"], f["rows"]) for f in j["invocations"][0]["body"]["files"]]')" \
    "[('loaded', 'sales', 14000)]"
mkdir -p out-lambda/parquet/sales out-lambda/json/sales
python3 "$AWS_PY" get csv-out out/parquet/sales/sales.parquet out-lambda/parquet/sales/sales.parquet
python3 "$AWS_PY" get csv-out out/json/sales/sales.jsonl out-lambda/json/sales/sales.jsonl
same lambda plain sales sales
finish
