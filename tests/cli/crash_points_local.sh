#!/usr/bin/env bash
# Issue 13, section 1: kill -9 at every named step of the commit (src/util/fault.h), local
# files and SQLite (the warehouse and the item store). A clean load lists the points it
# passes; then for each point a copy of the file is loaded by a process that kills itself
# there (it must die by SIGKILL saying so), and loaded again. After the rerun the
# independent oracle (check_load.py: Parquet read back by DuckDB, NDJSON, the table, the
# items) finds every row exactly once and the outputs equal to the source; the ledger has
# one `loaded` row for the file and no temporary file is left. Then the same for the steps
# of `watch`: killed before and after it moves the file to processed/.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/fault_lib.bash"
cd "$TMP"
"$GEN_SALES" --rows 3000 --seed 31 >base.csv 2>/dev/null
OUT="$TMP/lake"
W="$OUT/warehouse.db"
opts=(--json --quiet --out "$OUT")

loaded_rows() {
    sqlite_q "$W" "SELECT count(*) FROM csvpipe_loads WHERE source_uri = '$1' AND status = 'loaded'"
}

# check NAME STEM SOURCE_URI: every store holds the copy STEM.csv (loaded from SOURCE_URI)
# exactly once, as the clean load did (its summary is the template of the copy's).
check() {
    local name=$1 stem=$2 ds=${2//-/_}
    summary_as clean.json "$3" "$ds" >"$stem.summary"
    check_load --csv "$stem.csv" --summary "$stem.summary" \
        --parquet-rows "$OUT/parquet/$ds/$stem.parquet.ndjson" \
        --ndjson "$OUT/json/$ds/$stem.jsonl" --sqlite "$W" --items "$OUT/items.db" \
        "${ORACLE_TYPES[@]}"
    expect_eq "$name: one loaded ledger row" "$(loaded_rows "$3")" 1
}

cp base.csv clean.csv
run env CSVPIPE_TRACE_POINTS="$TMP/clean.trace" "$CSVPIPE" run "${opts[@]}" clean.csv
expect_rc "a clean load" 0
cp "$TMP/out" clean.json
points=$(unique_points clean.trace)
expect_eq "the points of a load, in order" "$points" \
    "locked streaming streamed parquet-written json-written parquet-published json-published rejects-published items-committed ledger-row committed"

for p in $points; do
    cp base.csv "at-$p.csv"
    crash_at "$p" "$p" "$CSVPIPE" run "${opts[@]}" "at-$p.csv"
    expect_eq "$p: loaded in the ledger only once committed" "$(loaded_rows "$TMP/at-$p.csv")" \
        "$([ "$p" = committed ] && echo 1 || echo 0)"
    run "$CSVPIPE" run "${opts[@]}" "at-$p.csv"
    expect_rc "$p: the rerun" 0
    expect_eq "$p: the rerun's status" "$(json_get "$TMP/out" 'j["status"]')" \
        "$([ "$p" = committed ] && echo skipped || echo loaded)"
    expect_eq "$p: no temporary file left" "$(find "$OUT" -name '*.tmp-*' | head -3)" ""
done

# watch: killed after the load, before and after the move to processed/
for p in watch-moving watch-moved; do
    inbox="$TMP/inbox-$p"
    mkdir -p "$inbox"
    cp base.csv "$inbox/at-$p.csv"
    crash_at "$p" "$p" "$CSVPIPE" watch --once "${opts[@]}" "$inbox"
    expect_eq "$p: where the file is" "$(cd "$inbox" && find . -name '*.csv' | sort)" \
        "$([ $p = watch-moving ] && echo "./at-$p.csv" || echo "./processed/at-$p.csv")"
    run "$CSVPIPE" watch --once "${opts[@]}" "$inbox"
    expect_rc "$p: watch again" 0
    expect_eq "$p: a skip, or nothing to do" "$(grep -c '"status":"loaded"' "$TMP/out" || true)" 0
    expect_eq "$p: the file in processed/" "$(cd "$inbox" && find . -name '*.csv' | sort)" \
        "./processed/at-$p.csv"
    cp base.csv "at-$p.csv" # the oracle's copy of the source (the same bytes)
done
expect_eq "no temporary file left" "$(find "$OUT" -name '*.tmp-*' | head -3)" ""

# The oracles, over every copy at the end (DuckDB starts once for all the Parquet files).
copies=(clean $points watch-moving watch-moved)
files=()
for c in "${copies[@]}"; do
    stem=at-$c
    [ $c = clean ] && stem=clean
    files+=("$OUT/parquet/${stem//-/_}/$stem.parquet")
done
read_parquets "${files[@]}"
for c in "${copies[@]}"; do
    case $c in
    clean) check clean clean "$TMP/clean.csv" ;;
    watch-*) check "$c" "at-$c" "$TMP/inbox-$c/at-$c.csv" ;; # loaded from the inbox
    *) check "$c" "at-$c" "$TMP/at-$c.csv" ;;
    esac
done
finish
