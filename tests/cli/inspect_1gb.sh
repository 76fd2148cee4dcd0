#!/usr/bin/env bash
# Issue 2, acceptance 5: a 1 GB file streams through inspect under the sanitizers with the
# exact row count. (Its peak memory is measured by bench/inspect_memory.sh on the release
# build; tests check behaviour, not speed or size.)
source "$(dirname "$0")/lib.bash"

"$GEN_SALES" --bytes 1073741824 --style regional --seed 3 >"$TMP/big.csv" 2>"$TMP/gen.err"
want=$(sed -n 's/^gen_sales: \([0-9]*\) rows$/\1/p' "$TMP/gen.err")
run "$CSVPIPE" inspect --json "$TMP/big.csv"
expect_rc "1 GB inspect" 0
expect_eq "1 GB rows" "$(json_get "$TMP/out" 'j["rows"]')" "$want"
expect_eq "1 GB encoding" "$(json_get "$TMP/out" 'j["encoding"]')" "windows-1252"
expect_eq "1 GB nothing rejected" "$(json_get "$TMP/out" 'j["rejected_rows"]')" "0"
rm -f "$TMP/big.csv"
finish
