#!/usr/bin/env bash
# Issue 4, acceptance 1: the main job on the embedded defaults with the shipped example:
# the SQLite table has the rows with the right types, the Parquet file reads back in DuckDB
# (and the other independent readers) equal to the source, every NDJSON line parses and
# equals the source, and every item equals the source.
source "$(dirname "$0")/lib.bash"

cp "$CP_SOURCE_DIR/examples/vendas.csv" "$TMP/vendas.csv"
cd "$TMP"
run "$CSVPIPE" run --json vendas.csv
expect_rc "run on the example" 0
cp "$TMP/out" "$TMP/summary.json"
S="$TMP/summary.json"
expect_eq "status" "$(json_get "$S" 'j["status"]')" "loaded"
expect_eq "dataset from the file name" "$(json_get "$S" 'j["dataset"]')" "vendas"
expect_eq "rows" "$(json_get "$S" 'j["rows"]')" "3000"
expect_eq "types" "$(json_get "$S" '" ".join(c["type"] for c in j["schema"])')" \
    "INT64 DATE TIMESTAMP STRING STRING DECIMAL(18,2) INT64 BOOLEAN DECIMAL(18,2) STRING"
expect_eq "parquet path" "$(json_get "$S" 'j["outputs"]["parquet"]')" "./csvpipe-out/parquet/vendas/vendas.parquet"
expect_eq "json path" "$(json_get "$S" 'j["outputs"]["json"]')" "./csvpipe-out/json/vendas/vendas.jsonl"
expect_eq "no rejects file" "$(json_get "$S" 'j["outputs"]["rejects"]')" "None"

for reader in duckdb hyparquet parquet-wasm; do
    read_parquet csvpipe-out/parquet/vendas/vendas.parquet $reader >"$TMP/pq-$reader.ndjson"
done
check_load --csv vendas.csv --types "$SALES_TYPES" --encoding cp1252 --delimiter ';' --decimal , --date-order dmy \
    --summary "$S" --parquet-rows "$TMP/pq-duckdb.ndjson" --ndjson csvpipe-out/json/vendas/vendas.jsonl \
    --sqlite csvpipe-out/warehouse.db --items csvpipe-out/items.db
expect_eq "hyparquet reads the same rows" "$(cmp -s "$TMP/pq-duckdb.ndjson" "$TMP/pq-hyparquet.ndjson" && echo same)" "same"
expect_eq "parquet-wasm reads the same rows" "$(cmp -s "$TMP/pq-duckdb.ndjson" "$TMP/pq-parquet-wasm.ndjson" && echo same)" "same"

# The ledger row.
expect_eq "ledger row" "$(sql csvpipe-out/warehouse.db "SELECT dataset, status, rows_loaded, rows_rejected FROM csvpipe_loads")" \
    "vendas|loaded|3000|0"
# The human summary says what was detected and written where.
run "$CSVPIPE" run --no-sql --no-nosql --out "$TMP/human" vendas.csv
expect_rc "human summary" 0
expect_out "summary: detected" "detected  windows-1252, delimiter ;, header row, decimal ','"
expect_out "summary: rows" "rows      3000 loaded, 0 rejected, 0 restarts"
expect_out "summary: parquet" "parquet   $TMP/human/parquet/vendas/vendas.parquet"

finish
