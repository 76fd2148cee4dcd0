#!/usr/bin/env bash
# README promises of `csvpipe run`, `inspect` and `watch` that no other test checks: the reject
# thresholds from the command line at exactly the threshold and one row past it; --quote,
# --header/--no-header and --null; CSVPIPE_OUT, CSVPIPE_SQL and CSVPIPE_NOSQL; a composite
# business key (--key A,B); `watch --once`.
source "$(dirname "$0")/lib.bash"
cd "$TMP"
W=csvpipe-out/warehouse.db

# bad_rows FILE ROWS BAD: ROWS data rows, BAD of them (spread out) with an extra field.
bad_rows() {
    python3 - "$@" <<'PY'
import sys
path, rows, bad = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
step = rows // bad if bad else 0
with open(path, "w") as f:
    f.write("id,name\n")
    for i in range(1, rows + 1):
        f.write(f"{i},n{i},extra\n" if bad and i % step == 0 and i // step <= bad else f"{i},n{i}\n")
PY
}

# --- --max-rejects N: N bad rows load, N + 1 reject the file --------------------------------
bad_rows at5.csv 1000 5
bad_rows past5.csv 1000 6
run "$CSVPIPE" run --json --max-rejects 5 --max-reject-percent 100 at5.csv
expect_rc "--max-rejects 5 with 5 bad rows" 0
expect_eq "5 of 5 allowed: loaded" "$(json_get "$TMP/out" '(j["status"], j["rows"], j["rejected_rows"])')" \
    "('loaded', 995, 5)"
run "$CSVPIPE" run --json --max-rejects 5 --max-reject-percent 100 past5.csv
expect_rc "--max-rejects 5 with 6 bad rows" 1
expect_eq "6 of 5 allowed: rejected" "$(json_get "$TMP/out" 'j["status"]')" "rejected"
expect_eq "rejected: no table" "$(sql $W "SELECT count(*) FROM sqlite_master WHERE name = 'past5'")" "0"
expect_eq "rejected: the ledger says so" "$(sql $W "SELECT status FROM csvpipe_loads WHERE dataset = 'past5'")" "rejected"

# --- --max-reject-percent P: P% of the rows load, one more row rejects the file -------------
# 0.7% of 1000 rows is 7: in binary floating point 0.007 * 1000 is 6.999999999999999, which
# once rejected a file at exactly the threshold.
bad_rows at07.csv 1000 7
bad_rows past07.csv 1000 8
run "$CSVPIPE" run --json --max-reject-percent 0.7 at07.csv
expect_rc "--max-reject-percent 0.7 with 7 of 1000 bad" 0
expect_eq "0.7% exactly: loaded" "$(json_get "$TMP/out" '(j["status"], j["rejected_rows"])')" "('loaded', 7)"
run "$CSVPIPE" run --json --max-reject-percent 0.7 past07.csv
expect_rc "--max-reject-percent 0.7 with 8 of 1000 bad" 1
expect_eq "0.8%: rejected" "$(json_get "$TMP/out" 'j["status"]')" "rejected"
bad_rows at2.csv 400 8
bad_rows past2.csv 400 9
run "$CSVPIPE" run --json --max-reject-percent 2 at2.csv
expect_rc "--max-reject-percent 2 with 8 of 400 bad" 0
expect_eq "2% exactly: loaded" "$(json_get "$TMP/out" 'j["status"]')" "loaded"
run "$CSVPIPE" run --json --max-reject-percent 2 past2.csv
expect_rc "--max-reject-percent 2 with 9 of 400 bad" 1
expect_eq "2.25%: rejected" "$(json_get "$TMP/out" 'j["status"]')" "rejected"
# The defaults: 1% of the rows.
bad_rows at1.csv 1000 10
bad_rows past1.csv 1000 11
run "$CSVPIPE" run --json at1.csv
expect_rc "default 1% with 10 of 1000 bad" 0
run "$CSVPIPE" run --json past1.csv
expect_rc "default 1% with 11 of 1000 bad" 1

# --- --quote, --header/--no-header, --null --------------------------------------------------
printf "id,name,note\n1,'a,b',x\n2,'it''s',y\n" >quoted.csv
run "$CSVPIPE" inspect --json --quote "'" quoted.csv
expect_rc "inspect --quote \"'\"" 0
expect_eq "--quote: three columns, the quote as asked" \
    "$(json_get "$TMP/out" '(j["quote"], len(j["columns"]), j["rows"], j["rejected_rows"])')" "(\"'\", 3, 2, 0)"
run "$CSVPIPE" run --json --out q --quote "'" --formats json --no-sql --no-nosql quoted.csv
expect_rc "run --quote \"'\"" 0
expect_eq "--quote: the quoted fields" "$(python3 -c 'import json,sys; print([json.loads(l)["name"] for l in open(sys.argv[1])])' q/json/quoted/quoted.jsonl)" \
    "['a,b', \"it's\"]"

# A first row of numbers could be data or names: --header and --no-header decide.
printf '2023,2024\n10,20\n30,40\n' >years.csv
run "$CSVPIPE" inspect --json --header years.csv
expect_rc "inspect --header" 0
expect_eq "--header: the first row names the columns" \
    "$(json_get "$TMP/out" '(j["header"], [c["source_name"] for c in j["columns"]], j["rows"])')" \
    "(True, ['2023', '2024'], 2)"
run "$CSVPIPE" inspect --json --no-header years.csv
expect_rc "inspect --no-header" 0
expect_eq "--no-header: every row is data, columns named by position" \
    "$(json_get "$TMP/out" '(j["header"], [c["name"] for c in j["columns"]], j["rows"])')" \
    "(False, ['column_1', 'column_2'], 3)"
run "$CSVPIPE" run --json --out h --no-header --formats none --no-nosql years.csv
expect_rc "run --no-header" 0
expect_eq "--no-header: three rows loaded" "$(sql h/warehouse.db 'SELECT count(*), sum(column_1) FROM years')" "3|2063"

printf 'id,a,b\n1,NIL,NULL\n2,x,\n3,y,NA\n' >nulls.csv
run "$CSVPIPE" run --json --out n --null NIL --formats json --no-sql --no-nosql nulls.csv
expect_rc "run --null NIL" 0
expect_eq "--null replaces the list: NIL is null, NULL and NA are text, empty is null" \
    "$(python3 -c 'import json,sys; print([(r["a"], r["b"]) for r in map(json.loads, open(sys.argv[1]))])' n/json/nulls/nulls.jsonl)" \
    "[(None, 'NULL'), ('x', None), ('y', 'NA')]"
run "$CSVPIPE" inspect --json --null NIL --null '-' nulls.csv
expect_rc "inspect --null twice" 0
expect_eq "--null is repeatable" "$(json_get "$TMP/out" '[c["nulls"] for c in j["columns"]]')" "[0, 1, 1]"

# --- CSVPIPE_OUT, CSVPIPE_SQL, CSVPIPE_NOSQL (and the flags win over them) ------------------
"$GEN_SALES" --rows 50 --seed 3 >env.csv
run env CSVPIPE_OUT="$TMP/envout" CSVPIPE_SQL="sqlite:$TMP/env-w.db" CSVPIPE_NOSQL="sqlite:$TMP/env-i.db" \
    "$CSVPIPE" run --json env.csv
expect_rc "run with CSVPIPE_OUT/SQL/NOSQL" 0
expect_eq "CSVPIPE_OUT: outputs there" "$(ls "$TMP/envout" | tr '\n' ' ')" "json parquet "
expect_eq "CSVPIPE_SQL: rows there" "$(sql env-w.db 'SELECT count(*) FROM env')" "50"
expect_eq "CSVPIPE_NOSQL: items there" "$(sql env-i.db 'SELECT count(*) FROM items')" "50"
expect_eq "nothing in ./csvpipe-out" "$(test -e csvpipe-out/parquet/env && echo yes || echo no)" "no"
cp env.csv env2.csv
run env CSVPIPE_OUT="$TMP/envout" CSVPIPE_SQL="sqlite:$TMP/env-w.db" CSVPIPE_NOSQL="sqlite:$TMP/env-i.db" \
    "$CSVPIPE" run --json --out flagout --sql "sqlite:$TMP/flag-w.db" --no-nosql env2.csv
expect_rc "flags with the variables set" 0
expect_eq "--out and --sql win over the variables" \
    "$(test -f flagout/parquet/env2/env2.parquet && echo out) $(sql flag-w.db 'SELECT count(*) FROM env2') $(sql env-w.db "SELECT count(*) FROM sqlite_master WHERE name = 'env2'")" \
    "out 50 0"

# --- a composite business key: --key A,B ---------------------------------------------------
printf 'region,sku,qty\nnorth,1,5\nnorth,2,6\nsouth,1,7\n' >k1.csv
printf 'region,sku,qty\nnorth,2,60\nsouth,1,70\nsouth,2,8\n' >k2.csv
run "$CSVPIPE" run --json --out k --formats none --no-sql --table stock --key region,sku k1.csv k2.csv
expect_rc "--key region,sku" 0
expect_eq "one item per (region, sku); the later file wins" \
    "$(sql k/items.db "SELECT pk, sk, json_extract(item, '\$.qty') FROM items ORDER BY pk" | tr '\n' ' ')" \
    "stock#north#1|stock|5 stock#north#2|stock|60 stock#south#1|stock|70 stock#south#2|stock|8 "
run "$CSVPIPE" run --json --out k --formats none --no-sql --table stock --key region,nope k1.csv
expect_rc "--key with an unknown second column" 1
expect_out "the unknown column is named" 'key column .+nope.+ is not a column of this file'

# --- watch --once: what is in the inbox now, then exit ---------------------------------------
mkdir -p inbox/orders
"$GEN_SALES" --rows 20 --seed 1 >inbox/a.csv
"$GEN_SALES" --rows 30 --seed 2 >inbox/orders/b.csv
printf 'a,b\n1,"never closed\n' >inbox/broken.csv
run timeout 120 "$CSVPIPE" watch --once --json --out wout inbox
expect_rc "watch --once with a broken file: exit 1" 1
expect_eq "watch --once: one summary per file" "$(grep -c '"status"' "$TMP/out")" "3"
expect_eq "watch --once: loaded two" "$(grep -c '"status":"loaded"' "$TMP/out")" "2"
expect_eq "watch --once: the dataset of a folder" "$(grep -c '"dataset":"orders"' "$TMP/out")" "1"
expect_eq "watch --once: processed/ and failed/" \
    "$(cd inbox && find processed failed -type f | sort | tr '\n' ' ')" \
    "failed/broken.csv failed/broken.csv.error.json processed/a.csv processed/orders/b.csv "
"$GEN_SALES" --rows 10 --seed 4 >inbox/c.csv
run env CSVPIPE_OUT="$TMP/wout" CSVPIPE_SQL="sqlite:$TMP/watch-w.db" timeout 120 "$CSVPIPE" watch --once --json inbox
expect_rc "watch --once again (CSVPIPE_OUT, CSVPIPE_SQL): only the new file, exit 0" 0
expect_eq "watch --once again: one summary" "$(grep -c '"status":"loaded"' "$TMP/out")" "1"
expect_eq "watch honours CSVPIPE_OUT and CSVPIPE_SQL" \
    "$(test -f wout/parquet/c/c.parquet && echo out) $(sql watch-w.db 'SELECT count(*) FROM c')" "out 10"
expect_eq "the inbox is empty" "$(find inbox -maxdepth 1 -type f | wc -l)" "0"
finish
