#!/usr/bin/env bash
# Issue 13, acceptance 1: racing loads of one source, into SQLite and into PostgreSQL.
#
# Duplicates: one version loaded by four processes at once ends in one `loaded` and three
# `skipped` ledger rows. Made deterministic with a pause point: the first load stops itself
# mid-stream (CSVPIPE_PAUSE_AT=streaming), the three others start and must wait for the
# source lock (their trace shows lock-wait) instead of loading too, then the first goes on.
# Then four at once with no pause at all.
#
# Versions: a re-upload while the first upload is loading. Old first: the load of version 1
# stops mid-stream, the file is replaced by a shorter version 2, a second load starts and
# waits; the first commits version 1, then the second loads version 2, and every store
# (Parquet, NDJSON, the table, the item store) holds exactly version 2. New first: version 2
# is in place when both loads start (the late event of version 1 finds version 2): one loads
# it, the other skips it.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/fault_lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
pg_start
cd "$TMP"

"$GEN_SALES" --rows 3000 --seed 11 >v1.csv 2>/dev/null
"$GEN_SALES" --rows 2000 --seed 12 >v2.csv 2>/dev/null
"$GEN_SALES" --rows 8000 --seed 13 >free.csv 2>/dev/null

# The oracles over every store of backend $1 for the load summarized in $2 of file $3.
oracles() {
    local backend=$1 summary=$2 csv=$3 out=$4
    read_parquet "$out/parquet/sales/$(basename "${csv%.csv}").parquet" >"$TMP/pq.ndjson"
    local args=(--csv "$csv" --summary "$summary" --parquet-rows "$TMP/pq.ndjson"
        --ndjson "$out/json/sales/$(basename "${csv%.csv}").jsonl" --items "$out/items.db")
    [ "$backend" = sqlite ] && args+=(--sqlite "$out/warehouse.db")
    check_load "${args[@]}" "${ORACLE_TYPES[@]}"
    if [ "$backend" = pg ]; then
        if python3 "$CP_SOURCE_DIR/tests/pg/check_pg.py" --csv "$csv" --summary "$summary" \
            --pg "$PG_URL" "${ORACLE_TYPES[@]}" >"$TMP/check_pg.out" 2>&1; then
            pass "PostgreSQL oracle: $(grep -c '^ok' "$TMP/check_pg.out") checks"
        else
            fail "PostgreSQL oracle found differences"
            grep -v '^ok' "$TMP/check_pg.out" | sed 's/^/    /' | head -20
        fi
    fi
}

# ledger BACKEND OUT QUERY: a query over the ledger of the backend.
ledger() {
    if [ "$1" = sqlite ]; then sql "$2/warehouse.db" "$3"; else pg_psql "$3"; fi
}

statuses() {
    for f in "$@"; do json_get "$f" 'j["status"]'; done | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}'
}

for backend in sqlite pg; do
    out="$TMP/out-$backend"
    opts=(--json --quiet --table sales --out "$out")
    [ "$backend" = pg ] && opts+=(--sql "$PG_URL")

    # ---- duplicates, interleaved by a pause point ----
    cp v1.csv dup.csv
    bg dup1 env CSVPIPE_PAUSE_AT=streaming "$CSVPIPE" run "${opts[@]}" dup.csv
    p1=$BG_PID
    wait_stopped "$backend: the first load stopped mid-stream" $p1
    pids=()
    for i in 2 3 4; do
        bg "dup$i" env CSVPIPE_TRACE_POINTS="$TMP/dup$i.trace" "$CSVPIPE" run "${opts[@]}" dup.csv
        pids+=($BG_PID)
    done
    for i in 2 3 4; do
        wait_point "$backend: duplicate $i waits for the source lock" "$TMP/dup$i.trace" lock-wait \
            "${pids[$((i - 2))]}"
    done
    kill -CONT $p1
    expect_exit "$backend: the first load" $p1 0 "$TMP/dup1.err"
    for i in 2 3 4; do
        expect_exit "$backend: duplicate $i" "${pids[$((i - 2))]}" 0 "$TMP/dup$i.err"
    done
    expect_eq "$backend: the first loads, the three duplicates are skipped" \
        "$(statuses "$TMP"/dup[1234].out)" "loaded:1 skipped:3 "
    expect_eq "$backend: the ledger says so" \
        "$(ledger $backend "$out" "SELECT status, count(*) FROM csvpipe_loads WHERE source_uri = '$TMP/dup.csv' GROUP BY status ORDER BY status")" \
        "$(printf 'loaded|1\nskipped|3')"
    oracles $backend "$TMP/dup1.out" "$TMP/dup.csv" "$out"

    # ---- duplicates, free-running ----
    pids=()
    for i in 1 2 3 4; do
        bg "free$i" "$CSVPIPE" run "${opts[@]}" free.csv
        pids+=($BG_PID)
    done
    for i in 1 2 3 4; do
        expect_exit "$backend: free-running load $i" "${pids[$((i - 1))]}" 0 "$TMP/free$i.err"
    done
    expect_eq "$backend: four at once: one loaded, three skipped" \
        "$(statuses "$TMP"/free[1234].out)" "loaded:1 skipped:3 "
    expect_eq "$backend: the ledger says so" \
        "$(ledger $backend "$out" "SELECT status, count(*) FROM csvpipe_loads WHERE source_uri = '$TMP/free.csv' GROUP BY status ORDER BY status")" \
        "$(printf 'loaded|1\nskipped|3')"

    # ---- versions: the load of the old one first ----
    cp v1.csv ver.csv
    bg old env CSVPIPE_PAUSE_AT=streaming "$CSVPIPE" run "${opts[@]}" ver.csv
    pold=$BG_PID
    wait_stopped "$backend: the load of version 1 stopped mid-stream" $pold
    cp v2.csv ver.csv.new
    mv ver.csv.new ver.csv # a new inode, as an upload that replaces the file
    bg new env CSVPIPE_TRACE_POINTS="$TMP/new.trace" "$CSVPIPE" run "${opts[@]}" ver.csv
    pnew=$BG_PID
    wait_point "$backend: the load of version 2 waits for the source lock" "$TMP/new.trace" \
        lock-wait $pnew
    kill -CONT $pold
    expect_exit "$backend: the load of version 1" $pold 0 "$TMP/old.err"
    expect_exit "$backend: the load of version 2" $pnew 0 "$TMP/new.err"
    expect_eq "$backend: version 1 then version 2 loaded" \
        "$(json_get "$TMP/old.out" '(j["status"], j["rows"])') $(json_get "$TMP/new.out" '(j["status"], j["rows"])')" \
        "('loaded', 3000) ('loaded', 2000)"
    expect_eq "$backend: the ledger's last load is version 2" \
        "$(ledger $backend "$out" "SELECT version FROM csvpipe_loads WHERE source_uri = '$TMP/ver.csv' AND status = 'loaded' ORDER BY id DESC LIMIT 1")" \
        "$(json_get "$TMP/new.out" 'j["version"]')"
    oracles $backend "$TMP/new.out" "$TMP/ver.csv" "$out"

    # ---- versions: the load of the new one first (the old one's event comes late) ----
    cp v1.csv late.csv
    cp v2.csv late.csv.new
    mv late.csv.new late.csv
    bg first env CSVPIPE_PAUSE_AT=streaming "$CSVPIPE" run "${opts[@]}" late.csv
    pfirst=$BG_PID
    wait_stopped "$backend: the load of version 2 stopped mid-stream" $pfirst
    bg late env CSVPIPE_TRACE_POINTS="$TMP/late.trace" "$CSVPIPE" run "${opts[@]}" late.csv
    plate=$BG_PID
    wait_point "$backend: the late load waits for the source lock" "$TMP/late.trace" lock-wait $plate
    kill -CONT $pfirst
    expect_exit "$backend: the load of version 2" $pfirst 0 "$TMP/first.err"
    expect_exit "$backend: the late load" $plate 0 "$TMP/late.err"
    expect_eq "$backend: version 2 loaded, the late event skipped" \
        "$(json_get "$TMP/first.out" '(j["status"], j["rows"])') $(json_get "$TMP/late.out" 'j["status"]')" \
        "('loaded', 2000) skipped"
    oracles $backend "$TMP/first.out" "$TMP/late.csv" "$out"
done
finish
