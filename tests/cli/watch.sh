#!/usr/bin/env bash
# Issue 4, acceptance 7: `watch`: 20 files dropped in (one malformed, one written slowly
# over several seconds): 19 loaded, 1 in failed/ with its error file, the slow one read
# only when complete.
source "$(dirname "$0")/lib.bash"
cd "$TMP"
mkdir inbox staging
# One file waits in the inbox before the watch starts.
"$GEN_SALES" --rows 30 --seed 100 >inbox/early.csv
"$CSVPIPE" watch --quiet --json --out out inbox >watch.out 2>watch.err &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$TMP"' EXIT
sleep 0.5

# 16 more moved in complete.
for i in $(seq 1 16); do
    "$GEN_SALES" --rows $((50 + i)) --seed $i >staging/sales-$i.csv
    mv staging/sales-$i.csv inbox/
done
# One in a dataset folder.
mkdir inbox/orders
"$GEN_SALES" --rows 40 --seed 99 >staging/o.csv
mv staging/o.csv inbox/orders/o.csv
# One malformed: an unterminated quote.
printf 'a,b\n1,"never closed\n' >staging/broken.csv
mv staging/broken.csv inbox/
# One written slowly over several seconds, straight into the inbox.
"$GEN_SALES" --rows 600 --seed 77 >staging/slow.csv
(
    exec 3>inbox/slow.csv
    total=$(stat -c %s staging/slow.csv)
    step=$((total / 5 + 1))
    for k in 0 1 2 3 4; do
        dd if=staging/slow.csv bs=$step skip=$k count=1 status=none >&3
        sleep 1
    done
    exec 3>&-
) &
writer=$!

# Wait for 20 outcomes, at most 90 s.
for _ in $(seq 1 900); do
    n=$(grep -c '"status"' watch.out || true)
    [ "$n" -ge 20 ] && break
    sleep 0.1
done
wait $writer
if kill -0 $pid 2>/dev/null; then pass "watch still running"; else fail "watch ended by itself"; fi
kill -TERM $pid
expect_exit "SIGTERM stops the watch (128 + 15)" $pid 143 watch.err

expect_eq "20 summaries" "$(grep -c '"status"' watch.out)" "20"
expect_eq "19 loaded" "$(grep -c '"status":"loaded"' watch.out)" "19"
expect_eq "19 in processed/" "$(find inbox/processed -name '*.csv' | wc -l)" "19"
expect_eq "1 in failed/" "$(ls inbox/failed | grep -c '\.csv$')" "1"
expect_eq "failed one has its error file" "$(test -f inbox/failed/broken.csv.error.json && echo yes)" "yes"
expect_eq "inbox is empty" "$(find inbox -maxdepth 1 -type f | wc -l)" "0"
expect_eq "slow file loaded whole, once" \
    "$(grep '"dataset":"slow"' watch.out | python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin]; print(len(r), r[0]["rows"], r[0]["status"])')" "1 600 loaded"
expect_eq "dataset from the folder" "$(grep -c '"dataset":"orders"' watch.out)" "1"
expect_eq "stopped cleanly" "$(grep -c 'watch stopped: 19 loaded, 1 failed' watch.err)" "1"
finish
