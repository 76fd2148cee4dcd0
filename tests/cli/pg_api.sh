#!/usr/bin/env bash
# Issue 5: the loader's own tests (tests/unit/test_sql_postgres.c: binary encodings of every
# type, numeric at every scale, widening ALTERs, rejections, hostile identifiers) against a
# throwaway PostgreSQL server.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
pg_start

bin="$CP_BUILD_DIR/tests/test_sql_postgres"
if [ ! -x "$bin" ]; then
    fail "no $bin (build the tests)"
    finish
fi
set +e
CP_PG_URL="$PG_URL" "$bin" >"$TMP/unit.out" 2>&1
urc=$?
set -e
if [ "$urc" -eq 0 ] && ! grep -q SKIPPED "$TMP/unit.out"; then
    pass "test_sql_postgres: $(grep -c '^\[       OK' "$TMP/unit.out") tests"
else
    fail "test_sql_postgres exited $urc"
    sed 's/^/    /' "$TMP/unit.out" | tail -40
fi
finish
