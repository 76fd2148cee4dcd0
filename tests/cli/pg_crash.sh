#!/usr/bin/env bash
# Issue 5, acceptance 3: the server is stopped with `pg_ctl stop -m immediate` in the middle
# of a COPY. (a) It comes back a second later: csvpipe says the connection was lost,
# reconnects and restarts the file's load, and every row is there exactly once. (b) It stays
# down: csvpipe gives up after its bounded retries with a clear error and exit code 1,
# nothing of the load is visible; once the server is back a rerun loads every row once.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
pg_start

cd "$TMP"
"$GEN_SALES" --rows 300000 --seed 5 >big.csv

# Waits (at most 60 s) until a COPY into the dataset is running; prints its seconds.
wait_for_copy() {
    local i
    for ((i = 0; i < 600; i++)); do
        if [ "$(pg_psql "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY \"$1\"%'" 2>/dev/null)" = 1 ]; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# (a) the server comes back: the load is retried and succeeds
"$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none --table crash big.csv >a.json 2>a.err &
pid=$!
if wait_for_copy crash; then pass "(a) COPY is running"; else fail "(a) COPY never seen running"; fi
sleep 0.5
if kill -0 $pid 2>/dev/null && wait_for_copy crash; then
    pass "(a) csvpipe is alive and its COPY still running when the server stops"
else
    fail "(a) the load was over before the server stopped"
fi
pg_ctl_run -m immediate -w -t 30 stop >/dev/null
sleep 1
pg_restart
expect_exit "(a) exit code" $pid 0 a.err
expect_eq "(a) status after retry" "$(json_get a.json 'j["status"]')" "loaded"
rows=$(json_get a.json 'j["rows"]')
expect_eq "(a) rows" "$rows" "300000"
if grep -q "connection was lost" a.err && grep -q "starting the load again" a.err; then
    pass "(a) says the connection was lost and that it retries"
else
    fail "(a) stderr does not explain the retry"
    sed 's/^/    stderr: /' a.err | head -10
fi
expect_eq "(a) every row exactly once" "$(pg_psql "SELECT count(*), count(DISTINCT _row), min(_row), max(_row) FROM crash")" "$rows|$rows|1|$rows"
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none --table crash big.csv
expect_rc "(a) rerun is skipped" 0
expect_eq "(a) rerun is skipped" "$(json_get "$TMP/out" 'j["status"]')" "skipped"
expect_eq "(a) still exactly once" "$(pg_psql "SELECT count(*) FROM crash")" "$rows"

# (b) the server stays down: bounded retries, a clear error, nothing loaded
cp big.csv big2.csv
"$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none --table crash2 big2.csv >b.json 2>b.err &
pid=$!
if wait_for_copy crash2; then pass "(b) COPY is running"; else fail "(b) COPY never seen running"; fi
sleep 0.5
if kill -0 $pid 2>/dev/null && wait_for_copy crash2; then
    pass "(b) csvpipe is alive and its COPY still running when the server stops"
else
    fail "(b) the load was over before the server stopped"
fi
pg_ctl_run -m immediate -w -t 30 stop >/dev/null
expect_exit "(b) exit code" $pid 1 b.err
# the last attempt fails on connecting, before the file: the error is on stderr, no summary
err=$(tail -1 b.err)
if [[ "$err" == *PostgreSQL*127.0.0.1*"connection was lost"* ]]; then
    pass "(b) the error names the server and the lost connection: $err"
else
    fail "(b) unclear error: $err"
    sed 's/^/    stderr: /' b.err | head -10
fi
expect_eq "(b) three retries" "$(grep -c 'starting the load again' b.err)" "3"
pg_restart
expect_eq "(b) nothing of the load is visible (not even the table)" "$(pg_psql "SELECT to_regclass('crash2') IS NULL")" "t"
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none --table crash2 big2.csv
expect_rc "(b) rerun" 0
expect_eq "(b) rerun loads" "$(json_get "$TMP/out" 'j["status"]')" "loaded"
expect_eq "(b) every row exactly once" "$(pg_psql "SELECT count(*), count(DISTINCT _row), max(_row) FROM crash2")" "$rows|$rows|$rows"
expect_eq "(b) one loaded ledger row" "$(pg_psql "SELECT count(*) FROM csvpipe_loads WHERE dataset = 'crash2' AND status = 'loaded'")" "1"
finish
