#!/usr/bin/env bash
# `make run`'s script (scripts/run-example.sh) in a copy of the repo: the main job on the
# embedded defaults with the shipped example prints what it did, the loaded table and the
# ledger; a second run skips the same file.
source "$(dirname "$0")/lib.bash"
mkdir -p "$TMP/repo"
cp -r "$CP_SOURCE_DIR/examples" "$CP_SOURCE_DIR/scripts" "$TMP/repo/"
run bash "$TMP/repo/scripts/run-example.sh" "$CSVPIPE"
expect_rc "make run's script" 0
expect_out "the load" 'examples/vendas.csv -> dataset "vendas": loaded'
expect_out "what was detected" "detected  windows-1252, delimiter ;, header row, decimal ','"
expect_out "the loaded table, by category" "^Vestuário +[0-9]+ +[0-9]+ +[0-9.]+"
expect_out "the first rows" "^1 +1 +2023-11-18 +Beatriz Conceição +3178.44 +1"
expect_out "the ledger" "vendas +loaded +3000 +0"
expect_eq "outputs in ./csvpipe-out" "$(ls "$TMP/repo/csvpipe-out" | tr '\n' ' ')" "items.db json parquet warehouse.db warehouse.db-csvpipe-lock "
run bash "$TMP/repo/scripts/run-example.sh" "$CSVPIPE"
expect_rc "second run: skipped" 0
expect_out "second run: skipped" 'dataset "vendas": skipped'
finish
