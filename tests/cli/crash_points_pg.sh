#!/usr/bin/env bash
# Issue 13, section 1: kill -9 at every named step of the commit (src/util/fault.h) with
# the rows in PostgreSQL (files local, items in the SQLite item store). As
# crash_points_local.sh: a clean load lists its points (the COPY's among them: part-way,
# ended), a copy of the file is loaded by a process that kills itself at each point and
# loaded again; then check_pg.py (the table as PostgreSQL renders it) and check_load.py
# (Parquet, NDJSON, items) find every row once and equal to the source, the ledger one
# `loaded` row, and no temporary file is left, nor a session of the killed process holding
# a lock. The file is large enough (10,000 rows) for the COPY to reach the server before
# the file has streamed.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/fault_lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
pg_start
cd "$TMP"
"$GEN_SALES" --rows 10000 --seed 32 >base.csv 2>/dev/null
OUT="$TMP/lake"
opts=(--json --quiet --out "$OUT" --sql "$PG_URL")

loaded_rows() {
    pg_psql "SELECT count(*) FROM csvpipe_loads WHERE source_uri = '$1' AND status = 'loaded'"
}

# check NAME STEM: every store holds the copy STEM.csv exactly once, as the clean load did.
check() {
    local name=$1 stem=$2 ds=${2//-/_}
    summary_as clean.json "$TMP/$stem.csv" "$ds" >"$stem.summary"
    check_load --csv "$stem.csv" --summary "$stem.summary" \
        --parquet-rows "$OUT/parquet/$ds/$stem.parquet.ndjson" \
        --ndjson "$OUT/json/$ds/$stem.jsonl" --items "$OUT/items.db" "${ORACLE_TYPES[@]}"
    if python3 "$CP_SOURCE_DIR/tests/pg/check_pg.py" --csv "$stem.csv" --summary "$stem.summary" \
        --pg "$PG_URL" "${ORACLE_TYPES[@]}" >"$TMP/check_pg.out" 2>&1; then
        pass "$name: PostgreSQL oracle: $(grep -c '^ok' "$TMP/check_pg.out") checks"
    else
        fail "$name: PostgreSQL oracle found differences"
        grep -v '^ok' "$TMP/check_pg.out" | sed 's/^/    /' | head -20
    fi
    expect_eq "$name: one loaded ledger row" "$(loaded_rows "$TMP/$stem.csv")" 1
}

cp base.csv clean.csv
run env CSVPIPE_TRACE_POINTS="$TMP/clean.trace" "$CSVPIPE" run "${opts[@]}" clean.csv
expect_rc "a clean load" 0
cp "$TMP/out" clean.json
points=$(unique_points clean.trace)
expect_eq "the points of a load, in order" "$points" \
    "locked copy-sent streaming streamed parquet-written json-written copy-ended parquet-published json-published rejects-published items-committed ledger-row committed"

for p in $points; do
    cp base.csv "at-$p.csv"
    crash_at "$p" "$p" "$CSVPIPE" run "${opts[@]}" "at-$p.csv"
    expect_eq "$p: loaded in the ledger only once committed" "$(loaded_rows "$TMP/at-$p.csv")" \
        "$([ "$p" = committed ] && echo 1 || echo 0)"
    # the server ends the killed load's session, and its locks, once it sees the socket close
    for _ in $(seq 1 300); do
        [ "$(pg_psql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" = 0 ] && break
        sleep 0.1
    done
    expect_eq "$p: no session of the killed load is left holding a lock" \
        "$(pg_psql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" 0
    run "$CSVPIPE" run "${opts[@]}" "at-$p.csv"
    expect_rc "$p: the rerun" 0
    expect_eq "$p: the rerun's status" "$(json_get "$TMP/out" 'j["status"]')" \
        "$([ "$p" = committed ] && echo skipped || echo loaded)"
    expect_eq "$p: no temporary file left" "$(find "$OUT" -name '*.tmp-*' | head -3)" ""
done

# The oracles, over every copy at the end (DuckDB starts once for all the Parquet files).
files=("$OUT/parquet/clean/clean.parquet")
for p in $points; do
    files+=("$OUT/parquet/at_${p//-/_}/at-$p.parquet")
done
read_parquets "${files[@]}"
check clean clean
for p in $points; do
    check "$p" "at-$p"
done
finish
