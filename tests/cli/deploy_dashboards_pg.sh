#!/usr/bin/env bash
# Issue 8, acceptance 4 (PostgreSQL half), with issue 12's roles: the database is set up as
# the stack sets it up (`csvpipe db-setup` as an RDS-like master user, secrets in moto's
# Secrets Manager, TLS verified), real `csvpipe run` loads go in as the loader role (loaded,
# skipped and rejected files in two datasets, and a big file's hand-off row), then every
# PostgreSQL query of the Grafana dashboards, with Grafana's macros and variables expanded
# as Grafana does, runs as the read-only role Grafana's datasource uses and returns rows.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
pg_start
pg_enable_tls
trap 'pg_cleanup; aws_cleanup' EXIT
cd "$TMP"
moto_start
pg_psql "CREATE ROLE rdsmaster LOGIN CREATEROLE CREATEDB PASSWORD 'master-pw'"
pg_psql "CREATE DATABASE warehouse OWNER rdsmaster"
python3 "$AWS_PY" secret t/master "{\"username\":\"rdsmaster\",\"password\":\"master-pw\",\"host\":\"localhost\",\"port\":$PG_PORT,\"dbname\":\"warehouse\"}"
python3 "$AWS_PY" secret t/loader '{"username":"csvpipe_loader","password":"loader-pw","dbname":"warehouse"}'
python3 "$AWS_PY" secret t/reader '{"username":"csvpipe_reader","password":"reader-pw","dbname":"warehouse"}'
export PGSSLMODE=verify-full PGSSLROOTCERT="$PG_CA"
CSVPIPE_SETUP_MASTER_SECRET_ARN=t/master CSVPIPE_SETUP_LOADER_SECRET_ARN=t/loader \
    CSVPIPE_SETUP_READER_SECRET_ARN=t/reader run "$CSVPIPE" db-setup
expect_rc "the roles, as the stack's custom resource sets them up" 0

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

# As the loader: its secret, the server in PGHOST/PGPORT (the proxy's endpoint in the stack).
export CSVPIPE_SQL_SECRET_ARN=t/loader PGHOST=localhost PGPORT=$PG_PORT
L=(--json --no-nosql --out "$TMP/lake")
run "$CSVPIPE" run "${L[@]}" in/sales.csv
expect_rc "load sales" 0
run "$CSVPIPE" run "${L[@]}" --table sales in/sales-feb.csv
expect_rc "load a second file of sales" 0
run "$CSVPIPE" run "${L[@]}" in/sales.csv
expect_rc "the same file again (skipped)" 0
run "$CSVPIPE" run "${L[@]}" in/vendas.csv
expect_rc "load vendas" 0
run "$CSVPIPE" run "${L[@]}" in/broken.csv
expect_rc "a broken file is rejected" 1
# A big file handed to an ECS task, not finished yet (what `csvpipe lambda` records).
PGPASSWORD=loader-pw run psql "host=localhost port=$PG_PORT user=csvpipe_loader dbname=warehouse" -X -q -v ON_ERROR_STOP=1 -c \
    "INSERT INTO csvpipe_loads (dataset, source_uri, version, sequencer, size_bytes, rows_loaded, rows_rejected, restarts, started_at, finished_at, duration_ms, status, outputs) VALUES ('vendas', 's3://in/incoming/vendas/big.csv', 'v1', '0065', 5000000000, 0, 0, 0, now(), now(), 120, 'handed_off', '{\"ecs_task\":\"arn:aws:ecs:us-east-1:123456789012:task/csvpipe/abc\"}')"
expect_rc "a hand-off row, as the loader" 0
unset CSVPIPE_SQL_SECRET_ARN PGHOST PGPORT
expect_eq "ledger statuses" \
    "$(psql "postgresql://csvpipe@127.0.0.1:$PG_PORT/warehouse" -X -t -A -c "SELECT string_agg(status, ' ' ORDER BY id) FROM csvpipe_loads")" \
    "loaded loaded skipped loaded rejected handed_off"

READER="postgresql://csvpipe_reader:reader-pw@localhost:$PG_PORT/warehouse?sslmode=verify-full&sslrootcert=$PG_CA"
run python3 "$CP_SOURCE_DIR/tests/deploy/check_dashboards.py" --pg "$READER"
cat "$TMP/out"
expect_rc "every PostgreSQL panel query runs as the read-only role and returns rows" 0
sed 's/^/    stderr: /' "$TMP/err" | head -20
finish
