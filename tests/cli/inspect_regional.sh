#!/usr/bin/env bash
# Issue 2, acceptance 3: a Windows-1252, ';'-delimited file with decimal commas,
# dd/mm/yyyy dates and dd/mm/yyyy HH:MM:SS timestamps is recognized with no options; the
# same data as UTF-8 with ',' and '.' gives the same types and names.
source "$(dirname "$0")/lib.bash"

"$GEN_SALES" --rows 5000 --style regional --seed 7 >"$TMP/regional.csv"
"$GEN_SALES" --rows 5000 --style utf8 --seed 7 >"$TMP/utf8.csv"

run "$CSVPIPE" inspect --json "$TMP/regional.csv"
expect_rc "inspect regional" 0
cp "$TMP/out" "$TMP/regional.json"
run "$CSVPIPE" inspect --json "$TMP/utf8.csv"
expect_rc "inspect utf8" 0
cp "$TMP/out" "$TMP/utf8.json"

R="$TMP/regional.json"
U="$TMP/utf8.json"
expect_eq "regional encoding" "$(json_get "$R" 'j["encoding"]')" "windows-1252"
expect_eq "regional delimiter" "$(json_get "$R" 'j["delimiter"]')" ";"
expect_eq "regional decimal separator" "$(json_get "$R" 'j["decimal_separator"]')" ","
expect_eq "regional date order" "$(json_get "$R" 'j["date_order"]')" "day-first"
expect_eq "regional header" "$(json_get "$R" 'j["header"]')" "True"
expect_eq "regional rows" "$(json_get "$R" 'j["rows"]')" "5000"
types='" ".join(c["type"].split("(")[0] for c in j["columns"])'
expect_eq "regional types" "$(json_get "$R" "$types")" \
    "INT64 DATE TIMESTAMP STRING STRING DECIMAL INT64 BOOLEAN DECIMAL STRING"
expect_eq "money is DECIMAL(p,2)" "$(json_get "$R" 'j["columns"][5]["type"].endswith(",2)")')" "True"
expect_eq "regional names" "$(json_get "$R" '" ".join(c["name"] for c in j["columns"])')" \
    "id data data_hora_registro cliente categoria preco_unitario quantidade pago desconto observacao"
expect_eq "source names transcoded" "$(json_get "$R" 'j["columns"][5]["source_name"]')" "Preço Unitário"

expect_eq "utf8 encoding" "$(json_get "$U" 'j["encoding"]')" "utf-8"
expect_eq "utf8 delimiter" "$(json_get "$U" 'j["delimiter"]')" ","
expect_eq "utf8 decimal separator" "$(json_get "$U" 'j["decimal_separator"]')" "."
expect_eq "same types" "$(json_get "$U" '[c["type"] for c in j["columns"]]')" \
    "$(json_get "$R" '[c["type"] for c in j["columns"]]')"
expect_eq "same names" "$(json_get "$U" '[c["name"] for c in j["columns"]]')" \
    "$(json_get "$R" '[c["name"] for c in j["columns"]]')"
expect_eq "same null counts" "$(json_get "$U" '[c["nulls"] for c in j["columns"]]')" \
    "$(json_get "$R" '[c["nulls"] for c in j["columns"]]')"

# Month-first is chosen by evidence: a first field above 12 anywhere settles day-first,
# a second one month-first.
printf 'when,n\n01/02/2024,1\n03/04/2024,2\n12/25/2024,3\n' >"$TMP/mdy.csv"
run "$CSVPIPE" inspect --json "$TMP/mdy.csv"
expect_rc "month-first by evidence" 0
expect_eq "month-first by evidence" "$(json_get "$TMP/out" 'j["date_order"]')" "month-first"
expect_eq "month-first column is DATE" "$(json_get "$TMP/out" 'j["columns"][0]["type"]')" "DATE"
printf 'when,n\n01/02/2024,1\n25/12/2024,3\n' >"$TMP/dmy.csv"
run "$CSVPIPE" inspect --json "$TMP/dmy.csv"
expect_rc "day-first by evidence" 0
expect_eq "day-first by evidence" "$(json_get "$TMP/out" 'j["date_order"]')" "day-first"
# No evidence: ';' chooses day-first, ',' month-first.
printf 'when;n\n01/02/2024;1\n' >"$TMP/hint.csv"
run "$CSVPIPE" inspect --json "$TMP/hint.csv"
expect_rc "regional hint" 0
expect_eq "regional hint" "$(json_get "$TMP/out" 'j["date_order"]')" "day-first"
# Overrides win.
run "$CSVPIPE" inspect --json --date-order mdy --delimiter ';' --decimal , --encoding latin1 "$TMP/regional.csv"
expect_rc "override date order" 0
expect_eq "override date order" "$(json_get "$TMP/out" 'j["date_order"]')" "month-first"
expect_eq "override encoding" "$(json_get "$TMP/out" 'j["encoding"]')" "iso-8859-1"

finish
