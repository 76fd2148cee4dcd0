#!/usr/bin/env bash
# Issue 5, acceptance 4: schema evolution in PostgreSQL. A second file that adds a column
# and widens one (integer to decimal) loads with the old rows intact (ADD COLUMN, ALTER
# COLUMN ... TYPE numeric in the load's transaction); an incompatible change (an integer
# column gets text) is rejected with nothing loaded and an error naming the column and why.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
pg_start
cd "$TMP"

columns() {
    pg_psql "SELECT string_agg(column_name || ' ' || CASE WHEN data_type = 'numeric' THEN 'numeric(' || numeric_precision || ',' || numeric_scale || ')' ELSE data_type END, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'orders'"
}

printf 'id,qty,day\n1,5,2024-01-31\n2,-3,2024-02-01\n3,,2024-02-02\n' >jan.csv
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none --table orders jan.csv
expect_rc "first file" 0
expect_eq "first types" "$(columns)" "id bigint, qty bigint, day date, _source text, _row bigint"

printf 'id,qty,day,note\n4,2.50,2024-03-01,new\n5,7.25,2024-03-02 10:30:00,"with, comma"\n' >feb.csv
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none --table orders feb.csv
expect_rc "second file: new column, integer to decimal, date to timestamp" 0
expect_eq "second status" "$(json_get "$TMP/out" 'j["status"]')" "loaded"
expect_eq "evolved types" "$(columns)" \
    "id bigint, qty numeric(21,2), day timestamp without time zone, _source text, _row bigint, note text"
expect_eq "old rows intact, converted exactly" \
    "$(pg_psql "SELECT string_agg(concat_ws(' ', id, coalesce(qty::text, 'NULL'), day, coalesce(note, 'NULL')), '; ' ORDER BY id) FROM orders")" \
    "1 5.00 2024-01-31 00:00:00 NULL; 2 -3.00 2024-02-01 00:00:00 NULL; 3 NULL 2024-02-02 00:00:00 NULL; 4 2.50 2024-03-01 00:00:00 new; 5 7.25 2024-03-02 10:30:00 with, comma"

# A reload of the first file fits the wider table as it is.
touch -d '2020-01-01' jan.csv
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none --table orders jan.csv
expect_rc "first file again (new version)" 0
expect_eq "first file again (new version)" "$(json_get "$TMP/out" 'j["status"]')" "loaded"
expect_eq "types unchanged" "$(columns)" \
    "id bigint, qty numeric(21,2), day timestamp without time zone, _source text, _row bigint, note text"
expect_eq "rows" "$(pg_psql "SELECT count(*) FROM orders")" "5"

before=$(pg_psql "SELECT string_agg(t::text, ';' ORDER BY _source, _row) FROM orders t")
printf 'id,qty,day,extra\nA-1,1,2024-04-01,x\n7,2,2024-04-02,y\n' >bad.csv
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none --table orders bad.csv
expect_rc "incompatible change" 1
expect_eq "status" "$(json_get "$TMP/out" 'j["status"]')" "failed"
err=$(json_get "$TMP/out" 'j["error"]')
if [[ "$err" == *'column "id" of table "orders" is INT64 but this file has STRING values'* && "$err" == *"nothing was loaded"* ]]; then
    pass "the error names the column and why: $err"
else
    fail "unclear error: $err"
fi
expect_eq "nothing loaded: rows unchanged" "$(pg_psql "SELECT string_agg(t::text, ';' ORDER BY _source, _row) FROM orders t")" "$before"
expect_eq "nothing loaded: no new column" "$(columns)" \
    "id bigint, qty numeric(21,2), day timestamp without time zone, _source text, _row bigint, note text"
expect_eq "ledger says why" "$(pg_psql "SELECT status, error LIKE '%column \"id\"%' FROM csvpipe_loads WHERE source_uri LIKE '%/bad.csv'")" "failed|t"
finish
