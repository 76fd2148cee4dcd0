#!/usr/bin/env bash
# Issue 5, acceptance 2: eight concurrent `csvpipe run` processes load eight files into one
# new dataset: one table, every row, no error (the per-dataset advisory lock serializes the
# table's creation; loads that need no DDL run side by side).
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
pg_start

cd "$TMP"
total=0
for i in 1 2 3 4 5 6 7 8; do
    "$GEN_SALES" --rows $((3000 + i * 250)) --seed "$i" >"part$i.csv"
done
pids=()
for i in 1 2 3 4 5 6 7 8; do
    "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none --table "all sales" \
        "part$i.csv" >"run$i.json" 2>"run$i.err" &
    pids+=($!)
done
for i in 1 2 3 4 5 6 7 8; do
    set +e
    wait "${pids[$((i - 1))]}"
    rc=$?
    set -e
    expect_eq "process $i exit code" "$rc" "0"
    expect_eq "process $i status" "$(json_get "run$i.json" 'j["status"]')" "loaded"
    expect_eq "process $i no error output" "$(grep -v '^$' "run$i.err" | head -3)" ""
    total=$((total + $(json_get "run$i.json" 'j["rows"]')))
done
expect_eq "one table" "$(pg_psql "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")" \
    "all_sales,csvpipe_columns,csvpipe_loads"
expect_eq "every row" "$(pg_psql "SELECT count(*) FROM all_sales")" "$total"
expect_eq "each row once" "$(pg_psql "SELECT count(DISTINCT (_source, _row)) FROM all_sales")" "$total"
expect_eq "eight sources" "$(pg_psql "SELECT count(DISTINCT _source) FROM all_sales")" "8"
expect_eq "ledger" "$(pg_psql "SELECT count(*), sum(rows_loaded) FROM csvpipe_loads WHERE status = 'loaded' AND dataset = 'all_sales'")" "8|$total"
expect_eq "nothing failed" "$(pg_psql "SELECT count(*) FROM csvpipe_loads WHERE status <> 'loaded'")" "0"
finish
