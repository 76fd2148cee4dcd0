#!/usr/bin/env bash
# Issue 4, acceptances 2 and 3: the same file twice is skipped the second time with no
# duplicate rows or items; a changed file under the same name replaces its rows and deletes
# its stale items, with exact counts.
source "$(dirname "$0")/lib.bash"
cd "$TMP"
mkdir in
"$GEN_SALES" --rows 500 --seed 11 >in/sales.csv
W=csvpipe-out/warehouse.db
I=csvpipe-out/items.db

run "$CSVPIPE" run --json in/sales.csv
expect_rc "first load" 0
expect_eq "first load status" "$(json_get "$TMP/out" 'j["status"]')" "loaded"
run "$CSVPIPE" run --json in/sales.csv
expect_rc "second load" 0
expect_eq "same file is skipped" "$(json_get "$TMP/out" 'j["status"]')" "skipped"
expect_eq "rows once" "$(sql $W 'SELECT count(*) FROM sales')" "500"
expect_eq "items once" "$(sql $I 'SELECT count(*) FROM items')" "500"
expect_eq "ledger: loaded then skipped" "$(sql $W 'SELECT status FROM csvpipe_loads ORDER BY id' | tr '\n' ' ')" "loaded skipped "

# A new version with fewer rows replaces the old one.
"$GEN_SALES" --rows 300 --seed 12 >in/sales.csv
run "$CSVPIPE" run --json in/sales.csv
expect_rc "changed file" 0
cp "$TMP/out" summary.json
expect_eq "changed file loaded" "$(json_get summary.json 'j["status"]')" "loaded"
expect_eq "rows replaced" "$(sql $W 'SELECT count(*), min(_row), max(_row) FROM sales')" "300|1|300"
expect_eq "stale items deleted" "$(sql $I 'SELECT count(*) FROM items')" "300"
check_load --csv in/sales.csv --types "$SALES_TYPES" --summary summary.json --sqlite $W --items $I \
    --ndjson csvpipe-out/json/sales/sales.jsonl

# A second file of the same dataset adds rows beside the first.
"$GEN_SALES" --rows 200 --seed 13 >in/other.csv
run "$CSVPIPE" run --json --table sales in/other.csv
expect_rc "second source" 0
expect_eq "second source" "$(sql $W 'SELECT count(*) FROM sales')" "500"
expect_eq "items of both" "$(sql $I 'SELECT count(*) FROM items')" "500"

# Keyed items: a later file with the same business key updates the item.
printf 'id,name\n1,a\n2,b\n' >in/k1.csv
printf 'id,name\n2,B\n3,c\n' >in/k2.csv
run "$CSVPIPE" run --json --table people --key id in/k1.csv in/k2.csv
expect_rc "keyed loads" 0
expect_eq "keyed items" "$(sql $I "SELECT pk, json_extract(item, '\$.name') FROM items WHERE pk LIKE 'people#%' ORDER BY pk" | tr '\n' ' ')" \
    "people#1|a people#2|B people#3|c "

finish
