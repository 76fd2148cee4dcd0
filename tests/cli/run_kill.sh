#!/usr/bin/env bash
# Issue 4, acceptance 6: `kill -9` of csvpipe run in the middle of a large load, then a
# rerun: every row exactly once, outputs complete.
source "$(dirname "$0")/lib.bash"
cd "$TMP"
"$GEN_SALES" --bytes 40000000 --seed 21 >big.csv 2>gen.err
want=$(sed -n 's/^gen_sales: \([0-9]*\) rows$/\1/p' gen.err)
W=csvpipe-out/warehouse.db

"$CSVPIPE" run --quiet big.csv >/dev/null 2>run.err &
pid=$!
# Wait until the load is under way (a temporary output exists), at most 60 s.
started=no
for _ in $(seq 1 600); do
    if ls csvpipe-out/parquet/big/ 2>/dev/null | grep -q 'tmp-'; then
        started=yes
        break
    fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
done
expect_eq "the load is under way (a temporary Parquet file exists)" "$started" "yes"
sleep 1
if kill -0 $pid 2>/dev/null; then pass "still loading 1 s later"; else fail "csvpipe ended before the kill"; fi
expect_eq "nothing published yet" "$(test -f csvpipe-out/parquet/big/big.parquet && echo yes || echo no)" "no"
kill -9 $pid
# 137: ended by the SIGKILL, so it was alive and had not finished when killed
expect_exit "killed mid-load" $pid 137 run.err
expect_eq "killed before finishing: no final parquet" "$(test -f csvpipe-out/parquet/big/big.parquet && echo yes || echo no)" "no"
expect_eq "killed before finishing: no committed table" \
    "$(if [ -f $W ]; then sql $W "SELECT count(*) FROM sqlite_master WHERE name='big'"; else echo "no database"; fi)" "0"

run "$CSVPIPE" run --json big.csv
expect_rc "rerun" 0
cp "$TMP/out" summary.json
expect_eq "rerun loaded" "$(json_get summary.json 'j["status"]')" "loaded"
expect_eq "every row once" "$(sql $W 'SELECT count(*), count(DISTINCT _row), max(_row) FROM big')" "$want|$want|$want"
expect_eq "items once" "$(sql csvpipe-out/items.db 'SELECT count(*) FROM items')" "$want"
expect_eq "parquet complete" "$(read_parquet csvpipe-out/parquet/big/big.parquet | wc -l)" "$want"
expect_eq "ndjson complete" "$(wc -l <csvpipe-out/json/big/big.jsonl)" "$want"
expect_eq "one loaded ledger row" "$(sql $W "SELECT count(*) FROM csvpipe_loads WHERE status='loaded'")" "1"
expect_eq "no temporary files left" "$(find csvpipe-out -name '*.tmp-*' | wc -l)" "0"
finish
