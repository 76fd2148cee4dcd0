#!/usr/bin/env bash
# Issue 5, acceptance 5: headers such as `a"; DROP TABLE x; --` and dataset names with quotes
# and spaces load safely into PostgreSQL and the database is otherwise untouched (every
# other table, its rows and the catalog as before). tests/unit/test_sql_postgres.c also
# feeds raw, unnormalized hostile names straight to the loader.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
pg_start
cd "$TMP"

pg_psql "CREATE TABLE x (v int); INSERT INTO x VALUES (42); CREATE TABLE \"Robert'); DROP TABLE x; --\" (v int)"
catalog() {
    pg_psql "SELECT string_agg(c.relname || ':' || c.relkind::text, ',' ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND c.relname NOT LIKE 'csvpipe%' AND c.relname NOT LIKE 'my_%' AND c.relname NOT LIKE 'sales_2024_q1%'"
}
before=$(catalog)

cat >hostile.csv <<'CSV'
"a""; DROP TABLE x; --",b'); DELETE FROM x; --,"c"" text, ""d"" int); --",Robert'); DROP TABLE x; --
"'); DROP TABLE x; --",1,"x""y",z
"Robert""); DROP TABLE x",2,";",--
CSV
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none --table "my \"odd\" table; DROP TABLE x; --" hostile.csv
expect_rc "hostile headers and dataset name" 0
cp "$TMP/out" s.json
ds=$(json_get s.json 'j["dataset"]')
expect_eq "status" "$(json_get s.json 'j["status"]')" "loaded"
expect_eq "x untouched" "$(pg_psql "SELECT string_agg(v::text, ',') FROM x")" "42"
expect_eq "catalog untouched" "$(catalog)" "$before"
cols=$(json_get s.json '",".join(c["name"] for c in j["schema"])')
expect_eq "the table has the schema's columns" \
    "$(pg_psql "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '$ds' AND column_name NOT IN ('_source', '_row')")" "$cols"
if python3 "$CP_SOURCE_DIR/tests/pg/check_pg.py" --pg "$PG_URL" --csv hostile.csv --types "STRING INT64 STRING STRING" --summary s.json >check.out 2>&1; then
    pass "values equal the source (oracle: $(grep -c '^ok' check.out) checks)"
else
    fail "oracle found differences"
    grep -v '^ok' check.out | sed 's/^/    /'
fi
# Dataset names with quotes and spaces that survive normalization unchanged do not exist
# (names are [a-z_][a-z0-9_]*); the loader's quoting of raw names is tested in
# test_sql_postgres (test_hostile_names), which pg_api.sh runs.
cp hostile.csv hostile2.csv
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none --table "Sales 2024 \"Q1\"" hostile2.csv
expect_rc "dataset with spaces and quotes" 0
expect_eq "dataset with spaces and quotes" "$(json_get "$TMP/out" 'j["dataset"]')|$(json_get "$TMP/out" 'j["status"]')" "sales_2024_q1|loaded"
expect_eq "x still untouched" "$(pg_psql "SELECT count(*) FROM x")|$(catalog)" "1|$before"
finish
