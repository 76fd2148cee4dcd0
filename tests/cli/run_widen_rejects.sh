#!/usr/bin/env bash
# Issue 4, acceptances 4 and 5: a column that turns from integer to text after the
# sniffer's sample is loaded once, consistently widened, with restarts 1; a file with 2%
# malformed rows is rejected whole with error.json and nothing loaded, one with 0.5% is
# loaded without those rows and rejects.csv lists their line numbers and reasons.
source "$(dirname "$0")/lib.bash"
cd "$TMP"
W=csvpipe-out/warehouse.db

{
    echo "id,code,amount"
    for i in $(seq 1 25000); do echo "$i,$i,$i.50"; done
    echo "25001,X-17,1.25"
    for i in $(seq 25002 25100); do echo "$i,$i,2.00"; done
} >widen.csv
run "$CSVPIPE" run --json widen.csv
expect_rc "widened load" 0
cp "$TMP/out" widen.json
expect_eq "restarts" "$(json_get widen.json 'j["restarts"]')" "1"
expect_eq "widened type" "$(json_get widen.json 'j["schema"][1]["type"]')" "STRING"
expect_eq "rows" "$(sql $W 'SELECT count(*), count(DISTINCT _row) FROM widen')" "25100|25100"
expect_eq "text stored as text" "$(sql $W "SELECT typeof(code), code FROM widen WHERE id = 25001")" "text|X-17"
expect_eq "early values are text too" "$(sql $W "SELECT typeof(code) FROM widen WHERE id = 1")" "text"
read_parquet csvpipe-out/parquet/widen/widen.parquet >pq.ndjson
check_load --csv widen.csv --types "INT64 STRING DECIMAL(18,2)" --summary widen.json --parquet-rows pq.ndjson \
    --ndjson csvpipe-out/json/widen/widen.jsonl --sqlite $W

# 2% malformed rows: rejected whole.
python3 - <<'PY'
import random
random.seed(5)
for name, bad in (("bad2.csv", 0.02), ("bad05.csv", 0.005)):
    with open(name, "w") as f:
        f.write("id,name,value\n")
        n = 2000
        bad_rows = set(random.sample(range(1, n + 1), int(n * bad)))
        for i in range(1, n + 1):
            f.write(f"{i},name {i},{i * 3},extra\n" if i in bad_rows else f"{i},name {i},{i * 3}\n")
PY
run "$CSVPIPE" run --json bad2.csv
expect_rc "2% malformed is rejected" 1
cp "$TMP/out" bad2.json
expect_eq "status rejected" "$(json_get bad2.json 'j["status"]')" "rejected"
expect_eq "error.json written" "$(json_get csvpipe-out/rejected/bad2/bad2.error.json 'j["status"]')" "rejected"
expect_eq "error.json says why" "$(json_get csvpipe-out/rejected/bad2/bad2.error.json '"could not be parsed" in j["error"]')" "True"
expect_eq "nothing loaded: no table rows" "$(sql $W "SELECT count(*) FROM sqlite_master WHERE name = 'bad2'")" "0"
expect_eq "nothing loaded: no parquet" "$(ls csvpipe-out/parquet/bad2/ 2>/dev/null | wc -l)" "0"
expect_eq "nothing loaded: no items" "$(sql csvpipe-out/items.db "SELECT count(*) FROM items WHERE pk LIKE 'bad2#%'")" "0"
expect_eq "ledger says rejected" "$(sql $W "SELECT status, rows_loaded FROM csvpipe_loads WHERE dataset = 'bad2'")" "rejected|0"

run "$CSVPIPE" run --json bad05.csv
expect_rc "0.5% malformed is loaded" 0
cp "$TMP/out" bad05.json
expect_eq "rows without the bad ones" "$(sql $W 'SELECT count(*) FROM bad05')" "1990"
expect_eq "rejected count" "$(json_get bad05.json 'j["rejected_rows"]')" "10"
R=csvpipe-out/rejected/bad05/bad05.rejects.csv
expect_eq "rejects.csv lists them" "$(python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(len(r), all(x["reason"]=="4 fields where the header has 3 columns" for x in r))' $R)" "10 True"
want_lines=$(grep -n ',extra$' bad05.csv | cut -d: -f1 | tr '\n' ' ')
got_lines=$(python3 -c 'import csv,sys; print(" ".join(x["line"] for x in csv.DictReader(open(sys.argv[1]))) + " ")' $R)
expect_eq "rejects.csv line numbers" "$got_lines" "$want_lines"

finish
