#!/usr/bin/env bash
# Issue 8, acceptance 4 (PostgreSQL half): after real loads into a throwaway PostgreSQL
# (tests/pg/pg.bash) with `csvpipe run --sql postgresql://...` (loaded, skipped and rejected
# files in two datasets), every PostgreSQL query of the Grafana dashboards, with Grafana's
# macros and variables expanded as Grafana does, runs and returns rows.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
pg_start
cd "$TMP"
mkdir in
"$GEN_SALES" --rows 400 --seed 21 >in/sales.csv
"$GEN_SALES" --rows 150 --seed 22 >in/sales-feb.csv
python3 - <<'PY'
# 10% malformed rows: over the reject threshold, the whole file is rejected.
with open("in/broken.csv", "w") as f:
    f.write("id,name,value\n")
    for i in range(1, 201):
        f.write(f"{i},name {i},{i},extra\n" if i % 10 == 0 else f"{i},name {i},{i}\n")
PY
cp "$CP_SOURCE_DIR/examples/vendas.csv" in/vendas.csv

run "$CSVPIPE" run --json --sql "$PG_URL" in/sales.csv
expect_rc "load sales" 0
run "$CSVPIPE" run --json --sql "$PG_URL" --table sales in/sales-feb.csv
expect_rc "load a second file of sales" 0
run "$CSVPIPE" run --json --sql "$PG_URL" in/sales.csv
expect_rc "the same file again (skipped)" 0
run "$CSVPIPE" run --json --sql "$PG_URL" in/vendas.csv
expect_rc "load vendas" 0
run "$CSVPIPE" run --json --sql "$PG_URL" in/broken.csv
expect_rc "a broken file is rejected" 1
expect_eq "ledger statuses" "$(pg_psql "SELECT string_agg(status, ' ' ORDER BY id) FROM csvpipe_loads")" \
    "loaded loaded skipped loaded rejected"

run python3 "$CP_SOURCE_DIR/tests/deploy/check_dashboards.py" --pg "$PG_URL"
cat "$TMP/out"
expect_rc "every PostgreSQL panel query runs and returns rows" 0
sed 's/^/    stderr: /' "$TMP/err" | head -20
finish
