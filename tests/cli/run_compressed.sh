#!/usr/bin/env bash
# Issue 14, compressed uploads: a sales file as .csv.gz, .csv.zst, .csv.bz2, .csv.xz, as two
# gzip members (`cat a.gz b.gz`), and gzip under a plain .csv name loads to exactly what
# the uncompressed file loads to (Parquet and NDJSON byte for byte, the SQLite rows, the
# items, the schema), under the dataset and stem "sales"; `inspect` and the summary say the
# compression; standard input may be gzip; a folder's .csv.gz files are taken, and watch
# loads one from its inbox; the ledger skips a repeat; a column widened after the sample
# restarts inside the compressed file; corrupt and truncated files fail with the file and
# the byte, and publish nothing.
source "$(dirname "$0")/lib.bash"
cd "$TMP"

"$GEN_SALES" --rows 14000 --seed 3 >sales.csv # 1.2 MB: past the 1 MiB sample, two batches
mkdir plain gzip zstd bzip2 xz members named
cp sales.csv plain/sales.csv
gzip -c sales.csv >gzip/sales.csv.gz
zstd -q -c sales.csv >zstd/sales.csv.zst
bzip2 -c sales.csv >bzip2/sales.csv.bz2
xz -c sales.csv >xz/sales.csv.xz
{ head -n 7000 sales.csv | gzip -c; tail -n +7001 sales.csv | gzip -c; } >members/sales.csv.gz
gzip -c sales.csv >named/sales.csv # a .csv that is really gzip

# rows of the SQLite table without _source, and items with the source path taken out
table_rows() {
    python3 - "$1" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cols = [r[1] for r in db.execute(f'PRAGMA table_info("{sys.argv[2]}")') if r[1] != "_source"]
for r in db.execute(f'SELECT {",".join(cols)} FROM "{sys.argv[2]}" ORDER BY _row'):
    print("|".join("" if v is None else repr(v) for v in r))
PY
}
items() {
    python3 - "$1" "$2" <<'PY'
import sqlite3, sys
for pk, sk, item in sqlite3.connect(sys.argv[1]).execute("SELECT pk, sk, item FROM items ORDER BY sk"):
    print(pk.replace(sys.argv[2], "SRC"), sk, item.replace(sys.argv[2], "SRC"))
PY
}

# load NAME FILE: csvpipe run into out-NAME, the summary in NAME.json
load() {
    run "$CSVPIPE" run --json --quiet --out "out-$1" "$2"
    cp "$TMP/out" "$1.json"
}

# same_as_plain NAME PLAIN: every output of out-NAME equals out-PLAIN's
same_as_plain() {
    local n=$1 p=${2:-plain}
    expect_same_files "out-$n" "out-$p" parquet/sales/sales.parquet json/sales/sales.jsonl
    table_rows "out-$p/warehouse.db" sales >"$p.rows"
    table_rows "out-$n/warehouse.db" sales >"$n.rows"
    if [ -s "$n.rows" ] && cmp -s "$p.rows" "$n.rows"; then
        pass "$n: the same $(wc -l <"$n.rows") SQLite rows"
    else
        fail "$n: SQLite rows differ"
    fi
    items "out-$p/items.db" "$(json_get "$p.json" 'j["source_uri"]')" >"$p.items"
    items "out-$n/items.db" "$(json_get "$n.json" 'j["source_uri"]')" >"$n.items"
    if [ -s "$n.items" ] && cmp -s "$p.items" "$n.items"; then
        pass "$n: the same $(wc -l <"$n.items") items"
    else
        fail "$n: items differ"
    fi
    expect_eq "$n: the same schema" "$(json_get "$n.json" 'j["schema"]')" "$(json_get "$p.json" 'j["schema"]')"
}

load plain plain/sales.csv
expect_rc "plain CSV" 0
expect_eq "plain: compression none" "$(json_get plain.json 'j["detected"]["compression"]')" "none"
for c in gzip zstd bzip2 xz; do
    f=$(ls $c/sales.csv.*)
    load "$c" "$f"
    expect_rc "$f" 0
    expect_eq "$c: dataset sales" "$(json_get "$c.json" 'j["dataset"]')" "sales"
    expect_eq "$c: detected" "$(json_get "$c.json" 'j["detected"]["compression"]')" "$c"
    expect_eq "$c: 14000 rows" "$(json_get "$c.json" 'j["rows"]')" "14000"
    expect_eq "$c: bytes is the compressed size" "$(json_get "$c.json" 'j["bytes"]')" "$(stat -c %s "$f")"
    expect_eq "$c: the ledger row" "$(sql "out-$c/warehouse.db" 'SELECT dataset, status, rows_loaded, size_bytes FROM csvpipe_loads')" \
        "sales|loaded|14000|$(stat -c %s "$f")"
    same_as_plain "$c"
done

load members members/sales.csv.gz
expect_rc "two gzip members" 0
expect_eq "both members read" "$(json_get members.json 'j["rows"]')" "14000"
same_as_plain members

load named named/sales.csv
expect_rc "gzip named .csv" 0
expect_eq "found by its bytes" "$(json_get named.json 'j["detected"]["compression"]')" "gzip"
same_as_plain named

# the text summary says it, and the version is the file's: a repeat is skipped
run "$CSVPIPE" run --out out-gzip gzip/sales.csv.gz
expect_rc "repeat of the .csv.gz" 0
expect_out "repeat skipped" 'dataset "sales": skipped'
cp gzip/sales.csv.gz gzip/again.csv.gz
run "$CSVPIPE" run --no-sql --no-nosql --out out-again gzip/again.csv.gz
expect_rc "text summary" 0
expect_out "text summary names the compression" 'detected  gzip, utf-8'
expect_out "and both sizes" '\([0-9.]+ [KM]B gzip, [0-9.]+ MB of CSV, in '
expect_out "stem without .csv.gz" 'out-again/parquet/again/again.parquet'

# standard input
run "$CSVPIPE" run --json --quiet --no-sql --no-nosql --out out-stdin - <sales.csv
expect_rc "plain stdin" 0
gzip -c sales.csv >stdin.gz
run "$CSVPIPE" run --json --quiet --no-sql --no-nosql --out out-stdin-gz - <stdin.gz
expect_rc "gzip on stdin" 0
expect_eq "stdin: gzip" "$(json_get "$TMP/out" 'j["detected"]["compression"]')" "gzip"
if cmp -s out-stdin/parquet/stdin/stdin.parquet out-stdin-gz/parquet/stdin/stdin.parquet &&
    cmp -s out-stdin/json/stdin/stdin.jsonl out-stdin-gz/json/stdin/stdin.jsonl; then
    pass "stdin gzip: the same Parquet and NDJSON"
else
    fail "stdin gzip: outputs differ"
fi

# inspect, text and JSON, files and standard input
for c in gzip zstd bzip2 xz; do
    run "$CSVPIPE" inspect --json $c/sales.csv.*
    expect_rc "inspect --json $c" 0
    expect_eq "inspect --json: $c" "$(json_get "$TMP/out" '(j["compression"], j["rows"])')" "('$c', 14000)"
done
run "$CSVPIPE" inspect plain/sales.csv
expect_rc "inspect a plain file" 0
expect_out "inspect: compression none" '^compression: +none$'
run "$CSVPIPE" inspect named/sales.csv
expect_rc "inspect gzip named .csv" 0
expect_out "inspect: compression gzip" '^compression: +gzip$'
zstd -q -c sales.csv >stdin.zst
run "$CSVPIPE" inspect --json - <stdin.zst
expect_rc "inspect zstd on stdin" 0
expect_eq "inspect stdin: zstd" "$(json_get "$TMP/out" '(j["compression"], j["rows"])')" "('zstd', 14000)"

# a folder: its .csv.gz and .csv.zst files are CSV files, its other files are not
mkdir folder
head -n 100 sales.csv >folder/a.csv
head -n 200 sales.csv | gzip -c >folder/b.csv.gz
head -n 300 sales.csv | zstd -q -c >folder/c.CSV.zst
head -n 50 sales.csv | gzip -c >folder/notes.txt.gz
run "$CSVPIPE" run --json --quiet --out out-folder folder
expect_rc "a folder" 0
expect_eq "three CSV files, by dataset" \
    "$(sql out-folder/warehouse.db 'SELECT dataset, status FROM csvpipe_loads ORDER BY dataset' | tr '\n' ' ')" \
    "a|loaded b|loaded c|loaded "

# watch: a .csv.gz in the inbox is dataset "orders"
mkdir inbox
head -n 50 sales.csv | gzip -c >inbox/orders.csv.gz
run "$CSVPIPE" watch --once --json --quiet --out out-watch inbox
expect_rc "watch --once" 0
expect_eq "watch: loaded as orders, gzip" \
    "$(json_get "$TMP/out" '(j["status"], j["dataset"], j["detected"]["compression"])')" "('loaded', 'orders', 'gzip')"
expect_eq "watch: the Parquet stem" "$(ls out-watch/parquet/orders)" "orders.parquet"

# a column that widens after the sample: the compressed file is read again from its start
{
    echo "id,code,amount"
    for i in $(seq 1 25000); do echo "$i,$i,$i.50"; done
    echo "25001,X-17,1.25"
    for i in $(seq 25002 25100); do echo "$i,$i,2.00"; done
} >widen.csv
mkdir widen-plain widen-gz
cp widen.csv widen-plain/sales.csv
gzip -c widen.csv >widen-gz/sales.csv.gz
load wplain widen-plain/sales.csv
expect_rc "widen, plain" 0
for c in gz xz; do
    [ $c = xz ] && xz -c widen.csv >widen-gz/sales.csv.gz
    load "w$c" widen-gz/sales.csv.gz
    expect_rc "widen inside a compressed file ($c)" 0
    expect_eq "w$c: one restart, code widened to STRING" \
        "$(json_get "w$c.json" '(j["restarts"], j["schema"][1]["type"], j["rows"])')" "(1, 'STRING', 25100)"
    same_as_plain "w$c" wplain
done

# damage: a byte flipped in the middle of a gzip file is found by the end-of-member check,
# after the garbage it decoded to has already failed the text; the error is the damage
python3 - <<'PY'
d = bytearray(open("gzip/sales.csv.gz", "rb").read())
d[len(d) // 2] ^= 0x55
open("damaged.csv.gz", "wb").write(d)
PY
run "$CSVPIPE" run --json --quiet --out out-bad damaged.csv.gz
expect_rc "a corrupt gzip file fails" 1
cp "$TMP/out" damaged.json
expect_eq "failed" "$(json_get damaged.json 'j["status"]')" "failed"
err=$(json_get damaged.json 'j["error"]')
if [[ "$err" =~ ^damaged\.csv\.gz:\ (line\ [0-9]+:\ )?corrupt\ gzip\ data\ found\ at\ byte\ [0-9]+\ of\ the\ compressed\ file ]]; then
    pass "the error names the file, the damage and the byte: $err"
else
    fail "unexpected error: $err"
fi
expect_eq "nothing published" "$(find out-bad/parquet out-bad/json -type f 2>/dev/null | wc -l)" "0"
expect_eq "no table" "$(sql out-bad/warehouse.db "SELECT count(*) FROM sqlite_master WHERE name = 'damaged'")" "0"
expect_eq "no items" "$(sql out-bad/items.db 'SELECT count(*) FROM items')" "0"
expect_eq "the ledger says failed" "$(sql out-bad/warehouse.db 'SELECT status, rows_loaded FROM csvpipe_loads')" "failed|0"
expect_eq "error.json says why" "$(json_get out-bad/rejected/damaged/damaged.error.json 'j["error"]')" "$err"
run "$CSVPIPE" inspect damaged.csv.gz
expect_rc "inspect of the corrupt file" 1
expect_err "inspect names the damage" 'damaged\.csv\.gz: (line [0-9]+: )?corrupt gzip data found at byte [0-9]+ '

# stored (uncompressed) deflate data overwritten with zeros inside the sample: the sample
# looks binary first, yet the error is the damage that gzip's check finds at the end
python3 - <<'PY'
import zlib
text = open("sales.csv", "rb").read()
z = zlib.compressobj(0, zlib.DEFLATED, 31)
d = bytearray(z.compress(text) + z.flush())
i = d.find(text[2000:2064])
assert i > 0
d[i:i + 4096] = bytes(4096)
open("stored.csv.gz", "wb").write(d)
PY
run "$CSVPIPE" run --json --quiet --out out-stored stored.csv.gz
expect_rc "damaged stored data fails" 1
expect_eq "the damage, not the text, is the error" "$(json_get "$TMP/out" 'j["error"]')" \
    "stored.csv.gz: corrupt gzip data found at byte $(($(stat -c %s stored.csv.gz) - 4)) of the compressed file (incorrect data check); the file is damaged (test a copy with gzip -t)"
expect_eq "stored: nothing published" "$(find out-stored/parquet out-stored/json -type f 2>/dev/null | wc -l)" "0"
run "$CSVPIPE" inspect stored.csv.gz
expect_rc "inspect of the damaged stored data" 1
expect_err "inspect: the damage, not the text" '^csvpipe: error: stored\.csv\.gz: corrupt gzip data found at byte'

size=$(stat -c %s zstd/sales.csv.zst)
head -c $((size / 2)) zstd/sales.csv.zst >cut.csv.zst
run "$CSVPIPE" run --json --quiet --out out-cut cut.csv.zst
expect_rc "a truncated zstd file fails" 1
err=$(json_get "$TMP/out" 'j["error"]')
if [[ "$err" =~ ^cut\.csv\.zst:\ (line\ [0-9]+:\ )?the\ zstd\ data\ ends\ early,\ at\ byte\ $((size / 2))\ of\ the\ compressed\ file ]]; then
    pass "truncated: the file, the line reached and the byte: $err"
else
    fail "truncated: unexpected error: $err"
fi
expect_eq "truncated: nothing published" "$(find out-cut/parquet out-cut/json -type f 2>/dev/null | wc -l)" "0"
expect_eq "truncated: no table" "$(sql out-cut/warehouse.db "SELECT count(*) FROM sqlite_master WHERE name = 'cut'")" "0"

# damage inside the sample
head -c 100 gzip/sales.csv.gz >tiny.csv.gz
run "$CSVPIPE" inspect tiny.csv.gz
expect_rc "inspect of a file cut in its sample" 1
expect_err "cut in the sample" '^csvpipe: error: tiny\.csv\.gz: the gzip data ends early, at byte 100 of the compressed file'
: >empty.csv
gzip -c empty.csv >empty.csv.gz
run "$CSVPIPE" inspect empty.csv.gz
expect_rc "an empty file, gzipped" 1
expect_err "empty" 'empty\.csv\.gz: the file is empty'
finish
