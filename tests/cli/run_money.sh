#!/usr/bin/env bash
# Issue 14, acceptance 1: money as people write it (currency symbols, thousands groups,
# negative amounts as -R$, R$ -, $-, - $ and parentheses) is DECIMAL, or INT64 for whole
# numbers, and the exact values reach every output: Parquet read back by DuckDB and by
# hyparquet, NDJSON, the SQLite table and the item store, each compared cell by cell with
# the source by the independent oracle (check_load.py, its own money parser); so does a
# file of numbers with no header. Ambiguous values (1.234 with no decimal evidence) keep
# their old reading.
source "$(dirname "$0")/lib.bash"
cd "$TMP"
W=csvpipe-out/warehouse.db
I=csvpipe-out/items.db

load() { # FILE EXPECTED-TYPES [CHECK_LOAD OPTIONS...]: run, check the types, then the oracle
    local f=$1 want=$2 name
    shift 2
    name=$(basename "$f" .csv)
    run "$CSVPIPE" run --json "$f"
    expect_rc "load $f" 0
    cp "$TMP/out" "$name.json"
    expect_eq "$name: types" "$(json_get "$name.json" '" ".join(c["type"] for c in j["schema"])')" "$want"
    read_parquet "csvpipe-out/parquet/$name/$name.parquet" >"$name.duckdb.ndjson"
    read_parquet "csvpipe-out/parquet/$name/$name.parquet" hyparquet >"$name.hyparquet.ndjson"
    check_load --csv "$f" --summary "$name.json" --types "$want" \
        --parquet-rows "$name.duckdb.ndjson" --ndjson "csvpipe-out/json/$name/$name.jsonl" \
        --sqlite $W --items $I "$@"
    check_load --csv "$f" --summary "$name.json" --types "$want" \
        --parquet-rows "$name.hyparquet.ndjson" "$@"
}

# A Brazilian bank statement as the bank's site exports it: Excel's sep= line, a title
# and the account above the header, R$ amounts with '.' groups and ',' decimals.
printf 'sep=;\r\nExtrato de conta corrente;;;\r\nAg\xc3\xaancia 1234 Conta 56789-0;;;\r\nData;Lan\xc3\xa7amento;Valor;Saldo\r\n' >extrato.csv
cat >>extrato.csv <<'EOF'
02/01/2024;SALDO ANTERIOR;R$ 0,00;R$ 1.000.000,00
02/01/2024;PIX RECEBIDO JOAO S;R$ 1.234,56;R$ 1.001.234,56
03/01/2024;TARIFA PACOTE SERVICOS;R$ -0,05;R$ 1.001.234,51
04/01/2024;PAGAMENTO BOLETO ALUGUEL;-R$ 5.000,00;R$ 996.234,51
05/01/2024;ESTORNO;(R$ 10,00);R$ 996.224,51
05/01/2024;COMPRA CARTAO PADARIA;R$ -17,80;R$ 996.206,71
EOF
load extrato.csv "DATE STRING DECIMAL(18,2) DECIMAL(18,2)" --encoding utf-8 --delimiter ';' \
    --decimal , --date-order dmy
expect_eq "statement: dialect" \
    "$(json_get extrato.json 'j["detected"]["delimiter"], j["detected"]["skipped_lines"], j["detected"]["currency"], j["detected"]["decimal_separator"], j["rows"]')" \
    "(';', 3, 'R$', ',', 6)"
expect_eq "statement: exact in SQLite" \
    "$(sql $W "SELECT valor, saldo FROM extrato WHERE lancamento LIKE 'PAGAMENTO%' OR lancamento = 'TARIFA PACOTE SERVICOS' ORDER BY _row")" \
    "$(printf -- '-0.05|1001234.51\n-5000.00|996234.51')"
expect_eq "statement: exact in NDJSON" \
    "$(grep ESTORNO csvpipe-out/json/extrato/extrato.jsonl)" \
    '{"data":"2024-01-05","lancamento":"ESTORNO","valor":-10.00,"saldo":996224.51}'

# A US export from a spreadsheet: quoted grouped numbers, $ with the accounting format's
# trailing space, parentheses for negatives, - $ and + $ from a payments app.
cat >payments.csv <<'EOF'
Date,Description,Amount,Fee,Balance,Count
01/15/2024,Payroll,"$2,000.00 ",$0.00,"$12,345.67","1,200"
01/16/2024,Rent,"($1,650.00)",$0.00,"$10,695.67",1
01/17/2024,Coffee,- $4.50,$0.25,"$10,690.92",12
01/18/2024,Refund,+ $1.25,$0.00,"$10,692.17","12,345,678"
01/19/2024,Transfer,-$123.45,($1.00),"$10,567.72",7
01/20/2024,Dividend,$.50,$0.00,"$10,568.22",
EOF
load payments.csv "DATE STRING DECIMAL(18,2) DECIMAL(18,2) DECIMAL(18,2) INT64"
expect_eq "US export: dialect" \
    "$(json_get payments.json 'j["detected"]["currency"], j["detected"]["decimal_separator"]')" \
    "('\$', '.')"
expect_eq "US export: exact in SQLite" \
    "$(sql $W "SELECT amount, fee, balance, count FROM payments WHERE description IN ('Rent', 'Refund', 'Transfer') ORDER BY _row")" \
    "$(printf -- '-1650.00|0.00|10695.67|1\n1.25|0.00|10692.17|12345678\n-123.45|-1.00|10567.72|7')"

# Government open data: numbers right-padded with spaces, thousands grouped, rates.
cat >laus.csv <<'EOF'
LAUS Code,State FIPS Code,County FIPS Code,County Name/State Abbreviation,Year,Labor Force,Employed,Unemployed,Unemployment Rate (%)
CN0100100000000,01,001,"Autauga County, AL",2016,"25,649     ","24,297     ","1,352     ",5.3
CN0100300000000,01,003,"Baldwin County, AL",2016,"89,931     ","85,061     ","4,870     ",5.4
CN0100500000000,01,005,"Barbour County, AL",2016,"8,302     ","7,584     ",718     ,8.6
CN0100700000000,01,007,"Bibb County, AL",2016,"8,573     ","7,917     ",656     ,7.7
EOF
load laus.csv "STRING STRING STRING STRING INT64 INT64 INT64 INT64 DECIMAL(18,1)"
expect_eq "open data: padded numbers" "$(sql $W "SELECT labor_force, unemployed FROM laus ORDER BY _row LIMIT 1")" "25649|1352"

# Numbers with no header (the first row has more decimals than the rest): every row is
# data, exactly.
cat >shares.csv <<'EOF'
0.00719424460432,0.213771839671,0.261048304214
0.00792439241,0.170262766616,0.309520247353
0.0079808936,0.140118472066,0.331889014156
EOF
load shares.csv "DECIMAL(18,14) DECIMAL(18,12) DECIMAL(18,12)"
expect_eq "no header: three rows" "$(sql $W "SELECT count(*), min(column_1) FROM shares")" "3|0.00719424460432"

# Ambiguous values keep their reading: 1.234 with ';' and no decimal evidence is 1.234.
printf 'produto;peso\nA;1.234\nB;2.500\nC;10.125\n' >pesos.csv
load pesos.csv "STRING DECIMAL(18,3)" --delimiter ';'
expect_eq "ambiguous: as before" "$(sql $W "SELECT peso FROM pesos ORDER BY _row")" \
    "$(printf '1.234\n2.500\n10.125')"

# Two currencies in one column stay text, exactly as written.
printf 'item,price\nbook,$5.00\nlivre,\xe2\x82\xac5.00\nbook2,$7.50\n' >mixed.csv
load mixed.csv "STRING STRING"

finish
