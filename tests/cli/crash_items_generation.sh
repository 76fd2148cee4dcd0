#!/usr/bin/env bash
# The item store's generations (issue 15, section 3): a keyless file's items are committed
# in several transactions, invisible until the last one switches the source to them. A
# load of a new version killed between two of its commits (crash point
# items-part-committed, with a tiny CSVPIPE_ITEMS_COMMIT_BYTES) leaves the previous version
# in the view, item for item, and its own blocks as invisible orphans; the next load of the
# source shows exactly the new version (the same items as a store that only ever loaded
# it) and removes the orphans.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/fault_lib.bash"
cd "$TMP"
# 40,000 rows: about 310 items a partition key, so every block of 256 items is written
# during the stream
"$GEN_SALES" --rows 40000 --seed 41 >v1.csv 2>/dev/null
"$GEN_SALES" --rows 40000 --seed 42 >v2.csv 2>/dev/null
opts=(--quiet --no-sql --formats none --out "$TMP/lake")

# dump DB: every item of the view, in key order
dump() {
    sqlite3 "$1" "SELECT pk || '|' || sk || '|' || item FROM items ORDER BY pk, sk"
}

cp v1.csv sales.csv
run "$CSVPIPE" run "${opts[@]}" --nosql "sqlite:$TMP/items.db" sales.csv
expect_rc "version 1 loads" 0
dump items.db >v1.items
expect_eq "version 1: one item a row" "$(wc -l <v1.items)" 40000

cp v2.csv sales.csv
run "$CSVPIPE" run "${opts[@]}" --nosql "sqlite:$TMP/ref.db" sales.csv
expect_rc "version 2 into a store of its own" 0
dump ref.db >v2.items
expect_eq "the versions differ" "$(cmp -s v1.items v2.items && echo same || echo differ)" differ

crash_at "version 2, killed between two commits" items-part-committed@2 \
    env CSVPIPE_ITEMS_COMMIT_BYTES=4096 "$CSVPIPE" run "${opts[@]}" --nosql "sqlite:$TMP/items.db" \
    sales.csv
dump items.db >after-crash.items
expect_eq "after the kill: version 1, item for item" \
    "$(cmp -s v1.items after-crash.items && echo same || echo differ)" same
expect_eq "after the kill: blocks of version 2 committed, not shown" \
    "$(sqlite3 items.db "SELECT count(*) > 0 FROM item_blocks WHERE gen > (SELECT max(gen) FROM item_live)")" 1

run "$CSVPIPE" run "${opts[@]}" --nosql "sqlite:$TMP/items.db" sales.csv
expect_rc "version 2 loads again" 0
dump items.db >after-rerun.items
expect_eq "after the rerun: version 2, item for item" \
    "$(cmp -s v2.items after-rerun.items && echo same || echo differ)" same
expect_eq "after the rerun: only the live generation's blocks" \
    "$(sqlite3 items.db "SELECT count(*) FROM item_blocks AS b WHERE gen <> (SELECT gen FROM item_live AS l WHERE l.pk = b.pk)")" 0
finish
