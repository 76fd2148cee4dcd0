#!/usr/bin/env bash
# Issue 14, type overrides: `--type COL=TYPE` and `--schema FILE` for inspect, run and
# watch, and CSVPIPE_SCHEMA_PREFIX (a folder of <dataset>.json) for run and watch.
#   - a forced type is what every output holds (Parquet's logical type and DECIMAL scale
#     read back by DuckDB, NDJSON's values, SQLite's declared types and csvpipe_columns);
#   - inspect --json, edited, read back with --schema: types, renames and the dialect count
#     (an option on the command line wins); a schema whose columns are not the file's
#     fails the file naming the difference;
#   - a value that does not fit a forced type is a rejected row with its line and reason,
#     in the sample or after it, never a widening and never a restart; past --max-rejects
#     the file is rejected and nothing is loaded;
#   - an unknown column or type is a usage error (exit 2) that names it, and nothing of
#     the file is loaded or recorded.
source "$(dirname "$0")/lib.bash"
cd "$TMP"

# An order export as shops send it: codes with leading zeros, money with one or no
# decimal place, a discount that is sometimes empty.
python3 - <<'PY'
import random
r = random.Random(14)
names = ["Ana Souza", "Bob Lee", "Chen Wu", "Dana Smith", "Émile Roy", "Farah Khan"]
with open("orders.csv", "w") as f:
    f.write("Order ID,Customer,ZIP,Quantity,Unit Price,Discount,Ordered At,Paid\n")
    for i in range(40):
        price = r.choice(["19.9", "250", "3.5", "1200", "0.5", "42.1"])
        disc = r.choice(["0", "0.05", "0.1", ""])
        f.write(f"{1001 + i},{names[i % 6]},{r.choice(['02134', '10001', '94105', '60601'])},"
                f"{r.randint(1, 20)},{price},{disc},2024-03-{1 + i % 28:02d} "
                f"{8 + i % 10:02d}:{i % 60:02d}:00,{'true' if i % 3 else 'false'}\n")
PY
# pq_types FILE [N]: the first N (default all) columns of a Parquet file with the types
# DuckDB reads, "name TYPE, ...".
pq_types() {
    node --input-type=module -e "
import { readParquet } from '$CP_SOURCE_DIR/tests/js/lib/readers.mjs';
const r = await readParquet(process.argv[1], 'duckdb');
const n = process.argv[2] ? +process.argv[2] : r.names.length;
console.log(r.names.slice(0, n).map((c, i) => c + ' ' + r.types[i]).join(', '));" "$1" "${2:-}"
}
# files DIR...: how many files the folders hold (0 when they do not exist).
files() {
    find "$@" -type f 2>/dev/null | wc -l
}
TYPES=(--type "Order ID=STRING" --type "unit_price=decimal(12, 2)" --type Discount=DOUBLE)

# --- inspect ---------------------------------------------------------------------------
run "$CSVPIPE" inspect --json orders.csv
expect_rc "inspect without overrides" 0
expect_eq "what sniffing decides" "$(json_get "$TMP/out" '[c["type"] for c in j["columns"]]')" \
    "['INT64', 'STRING', 'STRING', 'INT64', 'DECIMAL(18,1)', 'DECIMAL(18,2)', 'TIMESTAMP', 'BOOLEAN']"
run "$CSVPIPE" inspect --json "${TYPES[@]}" orders.csv
expect_rc "inspect --type" 0
expect_eq "inspect --type: the forced types" \
    "$(json_get "$TMP/out" '[c["type"] for c in j["columns"]]')" \
    "['STRING', 'STRING', 'STRING', 'INT64', 'DECIMAL(12,2)', 'DOUBLE', 'TIMESTAMP', 'BOOLEAN']"
expect_eq "inspect --type: every row fits" "$(json_get "$TMP/out" '(j["rows"], j["rejected_rows"])')" "(40, 0)"
run "$CSVPIPE" inspect "${TYPES[@]}" orders.csv
expect_rc "inspect --type (text)" 0
expect_out "text marks forced types" "unit_price +Unit Price +DECIMAL\(12,2\)\* "
expect_out "text explains the mark" "forced type"
run "$CSVPIPE" inspect --type Quantidade=INT64 orders.csv
expect_rc "inspect: unknown column" 2
expect_err "unknown column named, with the columns" \
    'no column "Quantidade" \(its columns: "order_id", "customer", "zip", "quantity"'
run "$CSVPIPE" inspect --type quantity=INTEGER orders.csv
expect_rc "inspect: unknown type" 2
expect_err "unknown type named, with the types" "unknown type 'INTEGER' \(types: BOOLEAN, INT64, DECIMAL\(p,s\)"
run "$CSVPIPE" inspect --type quantity orders.csv
expect_rc "inspect: --type without =TYPE" 2
run "$CSVPIPE" inspect --schema missing.json orders.csv
expect_rc "inspect: a missing schema file" 2
expect_err "missing schema file named" "missing.json: cannot open"

# --- run: every output holds the forced types -------------------------------------------
run "$CSVPIPE" run --json --quiet --out o1 "${TYPES[@]}" orders.csv
expect_rc "run --type" 0
expect_eq "run --type: loaded, no restart" "$(json_get "$TMP/out" '(j["status"], j["rows"], j["restarts"])')" \
    "('loaded', 40, 0)"
expect_eq "Parquet types read back" "$(pq_types o1/parquet/orders/orders.parquet)" \
    "order_id VARCHAR, customer VARCHAR, zip VARCHAR, quantity BIGINT, unit_price DECIMAL(12,2), discount DOUBLE, ordered_at TIMESTAMP, paid BOOLEAN"
read_parquet o1/parquet/orders/orders.parquet >pq.ndjson
expect_eq "Parquet DECIMAL(12,2) values carry scale 2" \
    "$(python3 -c 'import json
rows = [json.loads(l) for l in open("pq.ndjson")]
print(rows[0]["order_id"], sorted({r["unit_price"] for r in rows}))')" \
    "1001 ['0.50', '1200.00', '19.90', '250.00', '3.50', '42.10']"
expect_eq "NDJSON: the code a string, the price with two places" \
    "$(head -1 o1/json/orders/orders.jsonl | grep -oE '"(order_id|unit_price)":[^,]*' | tr '\n' ' ')" \
    "\"order_id\":\"1001\" \"unit_price\":$(sed -n 2p orders.csv | cut -d, -f5 | python3 -c 'import sys; print(format(float(sys.stdin.read()), ".2f"))') "
expect_eq "SQLite declared types" \
    "$(sql o1/warehouse.db "SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('orders')")" \
    "order_id TEXT, customer TEXT, zip TEXT, quantity INTEGER, unit_price TEXT, discount REAL, ordered_at TEXT, paid INTEGER, _source TEXT, _row INTEGER"
expect_eq "SQLite: csvpipe's column types" \
    "$(sql o1/warehouse.db "SELECT group_concat(column_name || ' ' || type, ', ') FROM (SELECT * FROM csvpipe_columns WHERE dataset = 'orders' ORDER BY column_name)")" \
    "customer STRING, discount DOUBLE, order_id STRING, ordered_at TIMESTAMP, paid BOOLEAN, quantity INT64, unit_price DECIMAL(12,2), zip STRING"
expect_eq "SQLite values" "$(sql o1/warehouse.db "SELECT typeof(order_id), unit_price, typeof(discount) FROM orders WHERE _row = 1")" \
    "text|$(sed -n 2p orders.csv | cut -d, -f5 | python3 -c 'import sys; print(format(float(sys.stdin.read()), ".2f"))')|real"

run "$CSVPIPE" run --json --quiet --out o2 --type Quantidade=INT64 orders.csv
expect_rc "run: unknown column" 2
expect_err "run: unknown column named" '--type Quantidade=INT64: orders.csv has no column "Quantidade"'
expect_eq "run: unknown column: nothing written, nothing recorded" \
    "$(files o2/parquet o2/json o2/rejected) $(sql o2/warehouse.db 'SELECT count(*) FROM csvpipe_loads')" "0 0"

# --- the schema file workflow: inspect --json, edit, run --schema -------------------------
run "$CSVPIPE" inspect --json orders.csv
expect_rc "inspect --json > schema.json" 0
cp "$TMP/out" schema.json
python3 - <<'PY'
import json
s = json.load(open("schema.json"))
cols = {c["source_name"]: c for c in s["columns"]}
cols["Order ID"]["type"] = "STRING"
cols["Unit Price"]["type"] = "DECIMAL(12,2)"
cols["Customer"]["name"] = "client_name"
del cols["Discount"]["type"]          # no type: sniffing decides, per file
s["columns"].reverse()                # the order of the list does not matter
json.dump(s, open("schema.json", "w"), indent=2)
PY
run "$CSVPIPE" run --json --quiet --out o3 --schema schema.json orders.csv
expect_rc "run --schema" 0
expect_eq "run --schema: the summary names the schema file" "$(json_get "$TMP/out" 'j["schema_file"]')" "schema.json"
expect_eq "run --schema: renamed and typed" \
    "$(json_get "$TMP/out" '[(c["name"], c["type"]) for c in j["schema"]][:6]')" \
    "[('order_id', 'STRING'), ('client_name', 'STRING'), ('zip', 'STRING'), ('quantity', 'INT64'), ('unit_price', 'DECIMAL(12,2)'), ('discount', 'DECIMAL(18,2)')]"
expect_eq "run --schema: Parquet" "$(pq_types o3/parquet/orders/orders.parquet 5)" \
    "order_id VARCHAR, client_name VARCHAR, zip VARCHAR, quantity BIGINT, unit_price DECIMAL(12,2)"
expect_eq "run --schema: SQLite" \
    "$(sql o3/warehouse.db "SELECT group_concat(name, ',') FROM pragma_table_info('orders')")" \
    "order_id,client_name,zip,quantity,unit_price,discount,ordered_at,paid,_source,_row"
expect_eq "run --schema: NDJSON" "$(head -1 o3/json/orders/orders.jsonl | cut -d, -f1-2)" \
    "{\"order_id\":\"1001\",\"client_name\":\"Ana Souza\""
# inspect with the schema prints what run uses; its JSON is a schema again.
run "$CSVPIPE" inspect --json --schema schema.json orders.csv
expect_rc "inspect --schema" 0
cp "$TMP/out" schema2.json
run "$CSVPIPE" inspect --json --schema schema2.json orders.csv
expect_rc "inspect --schema of inspect --schema's JSON" 0
expect_eq "the schema round-trips" "$(json_get "$TMP/out" '[(c["name"], c["type"]) for c in j["columns"]]')" \
    "$(json_get schema2.json '[(c["name"], c["type"]) for c in j["columns"]]')"
# --type after --schema: the command line has the last word.
run "$CSVPIPE" inspect --json --schema schema.json --type client_name=BOOLEAN orders.csv
expect_rc "--type over --schema" 0
expect_eq "--type over --schema: rows rejected" "$(json_get "$TMP/out" '(j["columns"][1]["type"], j["rejected_rows"])')" \
    "('BOOLEAN', 40)"

# A file whose columns are not the schema's fails, naming the difference; nothing loads.
python3 -c 'import csv, sys
rows = list(csv.reader(open("orders.csv")))
w = csv.writer(open("orders_v2.csv", "w"), lineterminator="\n")
for r in rows: w.writerow(r[:5] + ["Coupon" if r[0] == "Order ID" else "X1"] + r[6:])'
run "$CSVPIPE" run --json --quiet --out o4 --schema schema.json orders_v2.csv
expect_rc "columns differ: the file fails" 1
expect_eq "columns differ: status" "$(json_get "$TMP/out" '(j["status"], j["rows"])')" "('failed', 0)"
expect_eq "columns differ: the message names the difference" "$(json_get "$TMP/out" 'j["error"]')" \
    "orders_v2.csv has a column not in schema.json: \"Coupon\"; schema.json lists a column not in orders_v2.csv's header: \"Discount\" (a schema file lists every column of the file)"
expect_eq "columns differ: nothing published, error.json kept" \
    "$(files o4/parquet o4/json) $(json_get o4/rejected/orders_v2/orders_v2.error.json 'j["status"]')" "0 failed"

# The schema's dialect is applied; an option on the command line wins over it.
printf 'Data;Valor\n01/02/2024;1234,50\n03/04/2024;7,25\n' >extrato.csv
printf '{"delimiter": ";", "decimal_separator": ",", "date_order": "day-first", "header": true,
 "columns": [{"source_name": "Data", "type": "DATE"}, {"source_name": "Valor", "type": "DECIMAL(10,2)"}]}' >extrato.json
run "$CSVPIPE" run --json --quiet --out o5 --formats json --schema extrato.json extrato.csv
expect_rc "schema dialect" 0
expect_eq "schema dialect: dates day-first, decimal comma" "$(cat o5/json/extrato/extrato.jsonl)" \
    "$(printf '{"data":"2024-02-01","valor":1234.50}\n{"data":"2024-04-03","valor":7.25}')"
run "$CSVPIPE" inspect --json --date-order mdy --schema extrato.json extrato.csv
expect_rc "--date-order with --schema" 0
expect_eq "--date-order wins over the schema" "$(json_get "$TMP/out" 'j["date_order"]')" "month-first"
printf '{"delimter": ";"}' >typo.json
run "$CSVPIPE" run --out o6 --schema typo.json extrato.csv
expect_rc "a misspelt key" 2
expect_err "a misspelt key named" 'typo.json: unknown key "delimter"'
printf '{"columns": [{"source_name": "Data", "type": "DATE"},]}' >broken.json
run "$CSVPIPE" run --out o6 --schema broken.json extrato.csv
expect_rc "broken JSON" 2
expect_err "broken JSON: line and column" "broken.json: line 1, column [0-9]+"

# --- rejects: values that do not fit a forced type ---------------------------------------
# A stock count where people typed words: in the sample (line 5) and far after it.
python3 - <<'PY'
with open("stock.csv", "w") as f:
    f.write("sku,count,note\n")
    for i in range(1, 30001):
        count = {4: "n/a", 12: "twelve", 29000: "-"}.get(i, str(i % 97))
        f.write(f"A{i:05d},{count},ok\n")
PY
run "$CSVPIPE" inspect --json stock.csv
expect_rc "stock: inferred" 0
expect_eq "stock: without --type the column is text" "$(json_get "$TMP/out" '(j["columns"][1]["type"], j["restarts"])')" "('STRING', 0)"
run "$CSVPIPE" run --json --quiet --out o7 --type count=INT64 --max-rejects 10 stock.csv
expect_rc "forced INT64 with words: loaded" 0
expect_eq "loaded without the three rows, no restart" \
    "$(json_get "$TMP/out" '(j["status"], j["rows"], j["rejected_rows"], j["restarts"], j["schema"][1]["type"])')" \
    "('loaded', 29997, 3, 0, 'INT64')"
expect_eq "the rejects file: line, reason, row" "$(cat o7/rejected/stock/stock.rejects.csv)" \
    'line,reason,row
5,"value ""n/a"" in column 2 (count) is not INT64, the type forced for it","A00004,n/a,ok"
13,"value ""twelve"" in column 2 (count) is not INT64, the type forced for it","A00012,twelve,ok"
29001,"value ""-"" in column 2 (count) is not INT64, the type forced for it","A29000,-,ok"'
expect_eq "SQLite: the column is INTEGER, 29,997 rows" \
    "$(sql o7/warehouse.db "SELECT (SELECT type FROM pragma_table_info('stock') WHERE name = 'count'), count(*), sum(typeof(count) = 'integer') FROM stock")" \
    "INTEGER|29997|29997"
run "$CSVPIPE" run --json --quiet --out o8 --type count=INT64 --max-rejects 2 stock.csv
expect_rc "past --max-rejects: the file is rejected" 1
expect_eq "rejected: nothing loaded" "$(json_get "$TMP/out" '(j["status"], j["rows"], j["outputs"]["parquet"], j["outputs"]["json"])')" \
    "('rejected', 0, None, None)"
expect_eq "rejected: no output files, no rows, the rejects kept" \
    "$(files o8/parquet o8/json) $(sql o8/warehouse.db "SELECT count(*) FROM sqlite_master WHERE name = 'stock'") $(wc -l <o8/rejected/stock/stock.rejects.csv)" \
    "0 0 4"
expect_eq "rejected: error.json says why" "$(json_get o8/rejected/stock/stock.error.json 'j["error"]')" \
    "more than 2 rows could not be parsed (the first at line 29001)"
# The same words widen the column to text when its type is not forced (a restart).
sed '5s/,n\/a,/,4,/;13s/,twelve,/,12,/' stock.csv >late.csv
run "$CSVPIPE" run --json --quiet --out o9 --formats none --no-nosql late.csv
expect_rc "not forced: widened after the sample" 0
expect_eq "not forced: a restart, text" "$(json_get "$TMP/out" '(j["restarts"], j["schema"][1]["type"])')" "(1, 'STRING')"
run "$CSVPIPE" run --json --quiet --out o10 --formats none --no-nosql --type count=INT64 late.csv
expect_rc "forced: no restart" 0
expect_eq "forced: no restart, one reject" "$(json_get "$TMP/out" '(j["restarts"], j["rejected_rows"], j["schema"][1]["type"])')" "(0, 1, 'INT64')"

# --- CSVPIPE_SCHEMA_PREFIX: a folder of <dataset>.json, read for every file ----------------
mkdir schemas
printf '{"columns": [{"source_name": "sku", "type": "STRING"}, {"source_name": "count", "name": "units", "type": "INT64"}, {"source_name": "note"}]}' >schemas/stock.json
head -100 stock.csv | sed '5s/,n\/a,/,4,/;13s/,twelve,/,12,/' >stock_small.csv
CSVPIPE_SCHEMA_PREFIX="$TMP/schemas" run "$CSVPIPE" run --json --quiet --out o11 --table stock stock_small.csv orders.csv
expect_rc "schema prefix: one file does not fit it" 1
expect_eq "schema prefix: applied to its dataset only" \
    "$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    j = json.loads(l); print(j["dataset"], j["schema_file"], [c["name"] for c in j["schema"]][:2])' "$TMP/out")" \
    "stock $TMP/schemas/stock.json ['sku', 'units']
stock $TMP/schemas/stock.json ['order_id', 'customer']"
expect_eq "schema prefix: a file of the dataset whose columns differ fails" \
    "$(python3 -c 'import json, sys
print([json.loads(l)["status"] for l in open(sys.argv[1])])' "$TMP/out")" "['loaded', 'failed']"
# A compressed file is named by its stem: stock.csv.gz is dataset stock.
mkdir gz
gzip -c stock_small.csv >gz/stock.csv.gz
CSVPIPE_SCHEMA_PREFIX="$TMP/schemas" run "$CSVPIPE" run --json --quiet --out o11gz gz/stock.csv.gz
expect_rc "schema prefix, gzip" 0
expect_eq "schema prefix, gzip: the dataset's schema" \
    "$(json_get "$TMP/out" '(j["dataset"], j["status"], j["schema"][1]["name"], j["schema"][1]["type"])')" \
    "('stock', 'loaded', 'units', 'INT64')"
CSVPIPE_SCHEMA_PREFIX="$TMP/schemas/" run "$CSVPIPE" run --json --quiet --out o12 orders.csv
expect_rc "schema prefix without a file for the dataset" 0
expect_eq "no schema file: inferred" "$(json_get "$TMP/out" '(j["schema_file"], j["schema"][0]["type"])')" "(None, 'INT64')"
printf '{"columns": [' >schemas/orders.json
CSVPIPE_SCHEMA_PREFIX="$TMP/schemas" run "$CSVPIPE" run --json --quiet --out o13 orders.csv
expect_rc "a broken schema file fails that file" 1
expect_eq "broken schema file: named in the error" "$(json_get "$TMP/out" '(j["status"], j["error"].split(":")[0])')" \
    "('failed', '$TMP/schemas/orders.json')"
rm schemas/orders.json

# --- watch --------------------------------------------------------------------------------
mkdir -p inbox/stock
cp stock_small.csv inbox/stock/day1.csv
cp orders.csv inbox/orders.csv
run "$CSVPIPE" watch --once --json --out w1 "${TYPES[@]}" --type sku=STRING inbox
expect_rc "watch --type: a file without the column stops the watch" 2
expect_err "watch: the column named" '--type .*=STRING: inbox/orders.csv has no column "sku"|--type Order ID=STRING: inbox/stock/day1.csv has no column "Order ID"'
expect_eq "watch: that file stays in the inbox for a corrected command" "$(ls inbox/stock inbox | grep -c '\.csv$')" "2"
rm inbox/stock/day1.csv
run "$CSVPIPE" watch --once --json --out w1 "${TYPES[@]}" inbox
expect_rc "watch --type" 0
expect_eq "watch --type: loaded with the forced types" \
    "$(json_get "$TMP/out" '(j["status"], [c["type"] for c in j["schema"]][4:6])')" "('loaded', ['DECIMAL(12,2)', 'DOUBLE'])"
expect_eq "watch --type: Parquet" "$(pq_types w1/parquet/orders/orders.parquet 6)" \
    "order_id VARCHAR, customer VARCHAR, zip VARCHAR, quantity BIGINT, unit_price DECIMAL(12,2), discount DOUBLE"
cp stock_small.csv inbox/stock/day2.csv
sed '5s/^A00004,4/A00004,four/' stock_small.csv >inbox/stock/day3.csv
CSVPIPE_SCHEMA_PREFIX="$TMP/schemas" run "$CSVPIPE" watch --once --json --out w2 --max-reject-percent 5 inbox
expect_rc "watch with a schema prefix" 0
expect_eq "watch: each file of dataset stock with its schema" \
    "$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    j = json.loads(l); print(j["source"].split("/")[-1], j["status"], j["schema"][1]["name"], j["schema"][1]["type"], j["rejected_rows"])' "$TMP/out")" \
    "day2.csv loaded units INT64 0
day3.csv loaded units INT64 1"
expect_eq "watch: the rejects of day3 name the line" "$(sed -n 2p w2/rejected/stock/day3.rejects.csv | cut -d, -f1)" "5"
run "$CSVPIPE" watch --once --out w3 --schema missing.json inbox
expect_rc "watch: a missing schema file" 2

finish
