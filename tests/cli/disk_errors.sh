#!/usr/bin/env bash
# Issue 13, section 2: full disks and failing disks. Version 1 of a file is loaded; then
# version 2 is loaded while the writes into one output fail with ENOSPC or EIO (the test
# build's CSVPIPE_FAIL_WRITE, src/util/fault.h: every write, every write from the Nth on,
# or only the fsync before the rename). Each time: exit 1, an error naming the output's
# path and the cause, no temporary file left, version 1 still in every store (the Parquet
# and NDJSON files, the table, the items) and the ledger's loaded row still version 1's.
# The databases get a file size limit instead (writes past it fail with EFBIG): the error
# names the database, which keeps version 1. At last version 2 loads cleanly.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/fault_lib.bash"
cd "$TMP"
"$GEN_SALES" --rows 20 --seed 1 >data.csv 2>/dev/null
opts=(--quiet --out "$TMP/o" --table t --key id)
run "$CSVPIPE" run "${opts[@]}" data.csv
expect_rc "version 1 loads" 0

# what the stores hold, apart from failed loads' ledger rows and error files
state() {
    {
        md5sum <"$TMP/o/parquet/t/data.parquet"
        md5sum <"$TMP/o/json/t/data.jsonl"
        sql "$TMP/o/warehouse.db" "SELECT count(*), sum(id) FROM t"
        sql "$TMP/o/items.db" "SELECT count(*) FROM items"
        sql "$TMP/o/warehouse.db" "SELECT version, rows_loaded FROM csvpipe_loads WHERE status = 'loaded'"
        find "$TMP/o" -name '*.tmp-*'
    } 2>&1
}
state >v1.state
expect_eq "version 1: one loaded ledger row" \
    "$(sql o/warehouse.db "SELECT count(*) FROM csvpipe_loads WHERE status = 'loaded'")" 1

# version 2: more rows, and one row with two fields too many (a reject); a new inode
"$GEN_SALES" --rows 300 --seed 2 >v2.csv 2>/dev/null
echo "$(sed -n 2p v2.csv),x,y" >>v2.csv
mv v2.csv data.csv

# fails NAME TEXT:ERR PATH CAUSE [OPTIONS...]: version 2 loaded with the writes into PATH
# failing: exit 1, PATH and CAUSE in the error, version 1 everywhere, nothing left over.
fails() {
    local name=$1 fault=$2 path=$3 cause=$4
    shift 4
    run env CSVPIPE_FAIL_WRITE="$fault" "$CSVPIPE" run "${opts[@]}" "$@" data.csv
    expect_rc "$name: the load fails" 1
    if grep -qF "$path" "$TMP/out" "$TMP/err" && grep -qF "$cause" "$TMP/out" "$TMP/err"; then
        pass "$name: the error names $path and says '$cause'"
    else
        fail "$name: the error does not name $path with '$cause'"
        sed 's/^/    /' "$TMP/out" "$TMP/err" | head -10
    fi
    expect_eq "$name: version 1 in every store, no temporary file, ledger unchanged" \
        "$(state)" "$(cat v1.state)"
}
P=o/parquet/t/data.parquet J=o/json/t/data.jsonl R=o/rejected/t/data.rejects.csv
fails "Parquet, disk full" "/parquet/:ENOSPC" $P "No space left on device"
fails "Parquet, I/O error part-way" "/parquet/:EIO@3" $P "Input/output error"
fails "Parquet, I/O error at the fsync" "/parquet/:EIO@fsync" $P "fsync failed: Input/output error"
fails "NDJSON, I/O error" "/json/:EIO" $J "Input/output error"
fails "NDJSON, disk full at the fsync" "/json/:ENOSPC@fsync" $J "fsync failed: No space left on device"
fails "rejects file, disk full" "rejects.csv:ENOSPC" $R "No space left on device"
fails "rejects file, I/O error at the fsync" "rejects.csv:EIO@fsync" $R "fsync failed: Input/output error"

# error.json of a rejected load, its disk full (the error.json of the loads above removed)
rm -f o/rejected/t/data.error.json
# error.json of a rejected load, its disk full: the load's own error is still told, and
# the failure to record it names the path; no error.json half-written.
fails "error.json, disk full" "error.json:ENOSPC" o/rejected/t/data.error.json \
    "its error record was not written" --max-rejects 0
expect_err "error.json, disk full: the cause" "No space left on device"
expect_eq "error.json, disk full: no error.json" "$(find o -name '*.error.json*' | wc -l)" 0

# The databases, one at a time: files limited to 8 KiB, which the write-ahead log of
# version 2's 300 rows outgrows (the database files are only read past that size).
for db in warehouse items; do
    limit=16
    other=--no-nosql
    [ $db = items ] && other=--no-sql
    run bash -c "ulimit -f $limit; trap '' XFSZ; exec \"\$@\"" - "$CSVPIPE" run "${opts[@]}" \
        --formats none $other data.csv
    expect_rc "$db.db past its size limit: the load fails" 1
    if grep -qF "$TMP/o/$db.db" "$TMP/out" "$TMP/err"; then
        pass "$db.db past its size limit: the error names it"
    else
        fail "$db.db past its size limit: the error does not name it"
        sed 's/^/    /' "$TMP/out" "$TMP/err" | head -10
    fi
    expect_eq "$db.db past its size limit: version 1 rows, items and ledger row" \
        "$(state | tail -n +3)" "$(tail -n +3 v1.state)"
done

run "$CSVPIPE" run "${opts[@]}" data.csv
expect_rc "version 2 loads without a fault" 0
expect_eq "version 2 everywhere: 300 rows, 300 items, one more loaded row" \
    "$(sql o/warehouse.db "SELECT count(*) FROM t") $(sql o/items.db "SELECT count(*) FROM items") $(sql o/warehouse.db "SELECT count(*) FROM csvpipe_loads WHERE status = 'loaded'")" \
    "300 300 2"
finish
