#!/usr/bin/env bash
# Issue 13, section 2: the slips found on reading that the allocation failures
# (alloc_failures.sh) do not reach.
#  - A size option takes digits first: "-1" was read by strtoull as the largest size, " 1"
#    with its space; both are usage errors now.
#  - `watch` watches every dataset subfolder: past 256 it ignored the new ones silently, so
#    a file landing in the 300th after the start was never loaded.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/fault_lib.bash"
cd "$TMP"
"$GEN_SALES" --rows 5 --seed 3 >small.csv 2>/dev/null

for opt in --row-group-size --page-size --dictionary-limit --max-field-size; do
    for v in -1 " 1" +1; do
        run "$CSVPIPE" run --quiet --out o --no-sql --no-nosql $opt "$v" small.csv
        expect_rc "$opt '$v' is a usage error" 2
    done
done
run "$CSVPIPE" run --quiet --out o --no-sql --no-nosql --row-group-size 1M small.csv
expect_rc "--row-group-size 1M is taken" 0

mkdir inbox staging
for i in $(seq 1 300); do mkdir "inbox/set$i"; done
bg watch env CSVPIPE_TRACE_POINTS="$TMP/trace" "$CSVPIPE" watch --quiet --out "$TMP/lake" inbox
pid=$BG_PID
wait_point "watch has scanned the 300 subfolders" "$TMP/trace" watch-waiting $pid
"$GEN_SALES" --rows 7 --seed 4 >staging/late.csv 2>/dev/null
mv staging/late.csv inbox/set300/late.csv
for _ in $(seq 1 600); do
    [ -f inbox/processed/set300/late.csv ] && break
    sleep 0.1
done
expect_eq "a file moved into the 300th subfolder after the start is loaded" \
    "$(ls inbox/processed/set300 2>/dev/null)" "late.csv"
kill -TERM $pid
expect_exit "SIGTERM stops the watch" $pid 143 "$TMP/watch.err"
expect_eq "its rows in dataset set300" "$(sql lake/warehouse.db "SELECT count(*) FROM set300")" 7
finish
