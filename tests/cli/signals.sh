#!/usr/bin/env bash
# Issue 13, section 2: SIGINT and SIGTERM during `run` and `watch`. The load in hand stops
# itself mid-stream at a pause point (CSVPIPE_PAUSE_AT=streaming), so the signal arrives
# while it is loading for sure; then it goes on: the load rolls back (nothing published,
# no row, no item, no temporary file, no error.json), the exit code is 130 or 143, and the
# next run loads the file. A later file of the same run is not started. A load waiting for
# the lock of its source stops too. A second signal ends the process at once.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/fault_lib.bash"
cd "$TMP"
"$GEN_SALES" --rows 20000 --seed 41 >a.csv 2>/dev/null
"$GEN_SALES" --rows 500 --seed 42 >b.csv 2>/dev/null
OUT="$TMP/lake"
W="$OUT/warehouse.db"
opts=(--json --quiet --out "$OUT")

# nothing_of NAME STEM SOURCE: no store holds anything of the file.
nothing_of() {
    local name=$1 stem=$2 src=$3 ds=${2//-/_}
    ds=${ds,,}
    expect_eq "$name: no file published" \
        "$(find "$OUT" -name "$stem.parquet" -o -name "$stem.jsonl" -o -name "$stem.error.json" | head -3)" ""
    expect_eq "$name: no temporary file left" "$(find "$OUT" -name '*.tmp-*' | head -3)" ""
    expect_eq "$name: no table" "$(sqlite_q "$W" "SELECT count(*) FROM sqlite_master WHERE name = '$ds'")" 0
    expect_eq "$name: no item" \
        "$(sqlite_q "$OUT/items.db" "SELECT count(*) FROM items WHERE json_extract(item, '\$._source') = '$src'")" 0
    expect_eq "$name: not loaded in the ledger" \
        "$(sqlite_q "$W" "SELECT count(*) FROM csvpipe_loads WHERE source_uri = '$src' AND status = 'loaded'")" 0
}

# stop_mid_load NAME SIGNAL CODE FILE...: `run` of the files, stopped by SIGNAL while it
# streams the first; exits CODE.
stop_mid_load() {
    local name=$1 sig=$2 code=$3
    shift 3
    bg "$name" env CSVPIPE_PAUSE_AT=streaming "$CSVPIPE" run "${opts[@]}" "$@"
    local pid=$BG_PID
    wait_stopped "$name: the load stopped itself mid-stream" $pid
    kill -"$sig" $pid
    kill -CONT $pid
    expect_exit "$name: exit code" $pid "$code" "$TMP/$name.err"
    expect_eq "$name: its summary says it was interrupted and rolled back" \
        "$(json_get "$TMP/$name.out" '(j["status"], j["error"])')" \
        "('failed', 'interrupted; the load was rolled back')"
}

for sig in TERM INT; do
    code=$([ $sig = TERM ] && echo 143 || echo 130)
    cp a.csv "a-$sig.csv"
    cp b.csv "b-$sig.csv"
    stop_mid_load "run $sig" $sig $code "a-$sig.csv" "b-$sig.csv"
    nothing_of "run $sig" "a-$sig" "$TMP/a-$sig.csv"
    expect_eq "run $sig: the second file was not started" \
        "$(sqlite_q "$W" "SELECT count(*) FROM csvpipe_loads WHERE source_uri = '$TMP/b-$sig.csv'")" 0
    run "$CSVPIPE" run "${opts[@]}" "a-$sig.csv" "b-$sig.csv"
    expect_rc "run $sig: the next run" 0
    expect_eq "run $sig: loads both" "$(grep -c '"status":"loaded"' "$TMP/out")" 2
    head -1 "$TMP/out" >"a-$sig.summary"
    read_parquet "$OUT/parquet/a_${sig,,}/a-$sig.parquet" >"a-$sig.pq.ndjson"
    check_load --csv "a-$sig.csv" --summary "a-$sig.summary" --parquet-rows "a-$sig.pq.ndjson" \
        --ndjson "$OUT/json/a_${sig,,}/a-$sig.jsonl" --sqlite "$W" --items "$OUT/items.db" \
        "${ORACLE_TYPES[@]}"
done

# watch: stopped while it loads a file of the inbox; the file stays in the inbox.
for sig in TERM INT; do
    code=$([ $sig = TERM ] && echo 143 || echo 130)
    inbox="$TMP/inbox-$sig"
    mkdir -p "$inbox"
    cp a.csv "$inbox/w-$sig.csv"
    bg "watch-$sig" env CSVPIPE_PAUSE_AT=streaming "$CSVPIPE" watch "${opts[@]}" "$inbox"
    pid=$BG_PID
    wait_stopped "watch $sig: the load stopped itself mid-stream" $pid
    kill -"$sig" $pid
    kill -CONT $pid
    expect_exit "watch $sig: exit code" $pid "$code" "$TMP/watch-$sig.err"
    expect_eq "watch $sig: the file stays in the inbox" "$(cd "$inbox" && find . -type f | sort)" \
        "./w-$sig.csv"
    nothing_of "watch $sig" "w-$sig" "$inbox/w-$sig.csv"
    run "$CSVPIPE" watch --once "${opts[@]}" "$inbox"
    expect_rc "watch $sig: the next start" 0
    expect_eq "watch $sig: loads it" "$(json_get "$TMP/out" '(j["status"], j["rows"])')" \
        "('loaded', 20000)"
    expect_eq "watch $sig: and moves it to processed/" "$(cd "$inbox" && find . -type f | sort)" \
        "./processed/w-$sig.csv"
done

# watch with nothing to do stops the same way.
mkdir -p idle
bg idle "$CSVPIPE" watch "${opts[@]}" idle
pid=$BG_PID
for _ in $(seq 1 600); do
    grep -q 'watching' "$TMP/idle.err" && break
    sleep 0.1
done
kill -TERM $pid
expect_exit "watch with nothing to do: SIGTERM" $pid 143 "$TMP/idle.err"

# A load waiting for the lock of its source stops too.
cp b.csv locked.csv
bg holder env CSVPIPE_PAUSE_AT=locked "$CSVPIPE" run "${opts[@]}" locked.csv
holder=$BG_PID
wait_stopped "a load holds the lock of locked.csv" $holder
bg waiter env CSVPIPE_TRACE_POINTS="$TMP/waiter.trace" "$CSVPIPE" run "${opts[@]}" locked.csv
waiter=$BG_PID
wait_point "another load of it waits for the lock" "$TMP/waiter.trace" lock-wait $waiter
kill -TERM $waiter
expect_exit "the waiting load stops on SIGTERM" $waiter 143 "$TMP/waiter.err"
expect_eq "and says why" "$(json_get "$TMP/waiter.out" 'j["error"]')" \
    "interrupted while waiting for the lock on $TMP/locked.csv (another load of it is under way)"
kill -CONT $holder
expect_exit "the holder loads it" $holder 0 "$TMP/holder.err"
expect_eq "loaded once" \
    "$(sql "$W" "SELECT status FROM csvpipe_loads WHERE source_uri = '$TMP/locked.csv' ORDER BY id" | tr '\n' ' ')" \
    "failed loaded "

# A second signal ends the process at once, as without a handler (which of the two is
# handled first is the kernel's choice).
cp a.csv twice.csv
bg twice env CSVPIPE_PAUSE_AT=streaming "$CSVPIPE" run "${opts[@]}" twice.csv
pid=$BG_PID
wait_stopped "a load stopped itself mid-stream" $pid
kill -TERM $pid
kill -INT $pid
kill -CONT $pid
set +e
wait $pid
rc=$?
set -e
expect_eq "two signals: ended by the second one (130 or 143, exit $rc)" \
    "$([ $rc = 130 ] || [ $rc = 143 ] && echo yes)" yes
expect_eq "before it printed a summary" "$(wc -c <"$TMP/twice.out")" 0
run "$CSVPIPE" run "${opts[@]}" twice.csv
expect_rc "the next run" 0
expect_eq "loads it" "$(json_get "$TMP/out" 'j["status"]')" loaded
expect_eq "no temporary file left" "$(find "$OUT" -name '*.tmp-*' | head -3)" ""
finish
