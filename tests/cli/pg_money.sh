#!/usr/bin/env bash
# Issue 14, acceptance 1: money as people write it and files with a preamble load into a
# real PostgreSQL as numeric(p,s) with the exact values, checked cell by cell by the
# independent oracle (tests/pg/check_pg.py, its own money parser, PostgreSQL's own
# rendering through psql): a Brazilian bank statement (sep= line, title lines, R$), a US
# export ($, parentheses, groups), an open-data download with metadata above the header.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
pg_start

oracle() {
    if python3 "$CP_SOURCE_DIR/tests/pg/check_pg.py" --pg "$PG_URL" "$@" >"$TMP/check.out" 2>&1; then
        pass "oracle: $(grep -c '^ok' "$TMP/check.out") checks"
    else
        fail "oracle found differences"
        grep -v '^ok' "$TMP/check.out" | sed 's/^/    /' | head -20
    fi
}

cd "$TMP"
data="$CP_SOURCE_DIR/tests/data/conformance"
cp "$data/money_brl_statement.csv" extrato.csv
cp "$data/money_usd_export.csv" payments.csv
cp "$data/preamble_open_data.csv" wdi.csv

run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none extrato.csv
expect_rc "bank statement into PostgreSQL" 0
cp out s1.json
expect_eq "statement: types" "$(json_get s1.json '" ".join(c["type"] for c in j["schema"])')" \
    "DATE STRING DECIMAL(18,2) DECIMAL(18,2)"
oracle --csv extrato.csv --summary s1.json --delimiter ';' --decimal , --date-order dmy \
    --types "DATE STRING DECIMAL(18,2) DECIMAL(18,2)"
expect_eq "statement: numeric(18,2) in PostgreSQL" \
    "$(pg_psql "SELECT data_type, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_name = 'extrato' AND column_name = 'valor'")" \
    "numeric|18|2"
expect_eq "statement: sums exactly" "$(pg_psql "SELECT sum(valor), min(saldo) FROM extrato")" \
    "-1003793.21|-3793.21"

run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none payments.csv
expect_rc "US export into PostgreSQL" 0
cp out s2.json
expect_eq "US export: types" "$(json_get s2.json '" ".join(c["type"] for c in j["schema"])')" \
    "DATE STRING DECIMAL(18,2) DECIMAL(18,2) DECIMAL(18,2) DECIMAL(18,3) INT64"
oracle --csv payments.csv --summary s2.json \
    --types "DATE STRING DECIMAL(18,2) DECIMAL(18,2) DECIMAL(18,2) DECIMAL(18,3) INT64"
expect_eq "US export: parentheses and grouping" \
    "$(pg_psql "SELECT amount, fee, population FROM payments WHERE description IN ('Rent', 'Transfer', 'Wire') ORDER BY _row")" \
    "$(printf -- '-1650.00|0.00|25649\n-123.45|-1.00|-1000\n1234567.89|25.00|9223372036854775807')"

run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none wdi.csv
expect_rc "open data into PostgreSQL" 0
cp out s3.json
oracle --csv wdi.csv --summary s3.json \
    --types "STRING STRING STRING STRING DECIMAL(18,5) DECIMAL(18,2) DECIMAL(18,3) STRING"
expect_eq "open data: the preamble is not data" "$(pg_psql "SELECT count(*) FROM wdi")" "4"

finish
