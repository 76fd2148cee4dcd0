#!/usr/bin/env bash
# Issue 15, section 2 (acceptance 2): a load gives the same outputs whatever --threads says.
#   - every file of the conformance corpus (at 1 and 3 threads) and random files (quoted fields with line ends
#     inside, a column widened late in the file, rejected rows, small row groups so that
#     row groups close inside and across batches) loaded at 1, 2 and 3 threads: the
#     Parquet and NDJSON files, the rejects file, error.json, the summary (less its
#     timings) and the ledger row and table rows (less their times) are the same bytes;
#   - a write that fails on a worker (a file size limit; the item store's too) fails the
#     load as on one thread, with the same error;
#   - the same with the file cut into small chunks (CSVPIPE_CHUNK_BYTES) that 3 threads
#     parse on 2 (at 1 and 3 threads: 2 threads parse on one): chunk starts inside quoted fields with line ends and quotes
#     (rows that look like rows inside them), CRLF, blank lines, a file of fewer chunks than
#     threads, a widening in the last chunk, rejects in many chunks, too many rejects, a
#     header repeated in the data, UTF-8 that turns out Windows-1252 past the sniffed
#     sample with several full batches after it (and a widening after that), invalid UTF-8
#     there (detected, and under --encoding utf-8: an error naming the line); the chunked
#     reading really ran; CSVPIPE_CHUNK_BYTES below 64 is 64, and garbage is ignored, named;
#   - the item store (sqlite:, written by a worker too) holds the same items, keyless and
#     keyed, after a widening and with rejected rows;
#   - CSVPIPE_THREADS=3 really starts worker threads (the debug line of the code that
#     started them), 1 starts none, and an output that cannot hold them (one format: one
#     worker) starts fewer;
#   - a thread count that is not one is a usage error, named.
source "$(dirname "$0")/lib.bash"
cd "$TMP"

# load NAME THREADS FILE [OPTIONS...]: loads FILE in its own folder t<THREADS>/<NAME>
# (relative output paths, so the summaries and ledgers of the runs compare), keeps the
# summary there as summary.json and the exit code as rc. ITEMS=1: into the item store
# out/items.db too, its items kept as items.txt.
load() {
    local name=$1 n=$2 file=$3 nosql=--no-nosql
    shift 3
    [ -z "${ITEMS:-}" ] || nosql=--nosql=sqlite:out/items.db
    mkdir -p "t$n/$name"
    (
        set +e
        cd "t$n/$name" || exit
        if [ -n "${FILE_LIMIT_KB:-}" ]; then
            trap '' XFSZ # a write past the limit fails with EFBIG instead of killing
            ulimit -f "$FILE_LIMIT_KB"
        fi
        CSVPIPE_CHUNK_BYTES=${CHUNK:-20000} CSVPIPE_LOG=debug \
            "$CSVPIPE" run --threads "$n" --json "$nosql" --out out "$@" "$file" \
            >summary.raw 2>stderr.txt
        echo $? >rc
    )
    local code
    code=$(cat "t$n/$name/rc")
    if [ "$code" -ge 64 ]; then
        fail "$name at $n threads: exit $code"
        sed 's/^/    stderr: /' "t$n/$name/stderr.txt" | head -20
    fi
    python3 - "t$n/$name" <<'PY'
import json, sqlite3, sys, os
d = sys.argv[1]
raw = open(os.path.join(d, "summary.raw")).read().strip()
j = json.loads(raw) if raw else {}
j.pop("timings_ms", None)
# the item store's messages name its absolute path, which holds the thread count
here = os.path.abspath(d)
open(os.path.join(d, "summary.json"), "w").write(json.dumps(j, sort_keys=True).replace(here, ".") + "\n")
for root, _, files in os.walk(os.path.join(d, "out", "rejected")):
    for name in files:
        if name.endswith(".error.json"):
            p = os.path.join(root, name)
            text = open(p).read()
            open(p, "w").write(text.replace(here, "."))
db = os.path.join(d, "out", "warehouse.db")
with open(os.path.join(d, "ledger.txt"), "w") as f:
    if os.path.exists(db):
        c = sqlite3.connect(db)
        for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
            cols = [r[1] for r in c.execute(f'PRAGMA table_info("{t}")')
                    if r[1] not in ("started_at", "finished_at", "duration_ms", "_loaded_at")]
            q = ",".join(f'"{x}"' for x in cols)
            for row in c.execute(f'SELECT {q} FROM "{t}" ORDER BY 1'):
                f.write(f"{t}: {row!r}\n")
items = os.path.join(d, "out", "items.db")
if os.path.exists(items):
    with open(os.path.join(d, "items.txt"), "w") as f:
        for row in sqlite3.connect(items).execute("SELECT pk, sk, item FROM items ORDER BY pk, sk"):
            f.write(f"{row!r}\n")
PY
}

# [THREADS="3"] same NAME: the outputs of NAME at 2 and 3 threads (or THREADS) are those at 1, byte for byte.
same() {
    local name=$1 n
    for n in ${THREADS:-2 3}; do
        expect_eq "$name: exit code at $n threads" "$(cat "t$n/$name/rc")" "$(cat "t1/$name/rc")"
        if diff -r "t1/$name/out" "t$n/$name/out" -x '*.db' >"diff.txt" &&
            cmp -s "t1/$name/summary.json" "t$n/$name/summary.json" &&
            cmp -s "t1/$name/ledger.txt" "t$n/$name/ledger.txt" &&
            { [ ! -e "t1/$name/items.txt" ] || cmp -s "t1/$name/items.txt" "t$n/$name/items.txt"; }; then
            pass "$name: $n threads give the bytes of 1 thread"
        else
            fail "$name: $n threads differ from 1 thread"
            head -5 diff.txt
            diff "t1/$name/summary.json" "t$n/$name/summary.json" | head -5
            diff "t1/$name/ledger.txt" "t$n/$name/ledger.txt" | head -5
            [ ! -e "t1/$name/items.txt" ] || diff "t1/$name/items.txt" "t$n/$name/items.txt" | head -5
        fi
    done
}

corpus="$CP_SOURCE_DIR/tests/data/conformance"
count=0
for f in "$corpus"/*.csv; do
    name=$(basename "$f" .csv)
    for n in 1 3; do # 2 threads parse as 1 does; the random files below run at 2
        CHUNK=64 load "$name" "$n" "$f"
    done
    THREADS="3" same "$name"
    count=$((count + 1))
done
expect_eq "the corpus is there" "$((count >= 15))" 1

# Random files; quoted and widen_late are bigger than the batches a threaded load keeps in
# flight (3 of 8192 rows).
python3 - <<'PY'
import random
rnd = random.Random(15)
def text(i):
    k = rnd.random()
    if k < 0.05:
        return '"line one\nline two, with ""quotes""\r\nand three"'
    if k < 0.1:
        return '"' + "x" * rnd.randint(0, 3000) + '"'
    if k < 0.15:
        return ""
    return "t%d" % rnd.randint(0, 500)
with open("quoted.csv", "w", newline="") as f:
    f.write("id,note,amount,day,flag\n")
    for i in range(1, 26001):
        f.write("%d,%s,%d.%02d,2024-%02d-%02d,%s\n" % (i, text(i), rnd.randint(-9999, 9999),
                rnd.randint(0, 99), rnd.randint(1, 12), rnd.randint(1, 28), rnd.choice(["true", "false", ""])))
with open("widen_late.csv", "w", newline="") as f:
    f.write("id,code,price,note\n")
    for i in range(1, 26001):
        code = str(i) if i != 25500 else "X-25500"
        price = "%d.%02d" % (i, i % 100) if i != 25000 else "1e5"
        f.write("%d,%s,%s,%s\n" % (i, code, price, text(i)))
with open("rejects.csv", "w", newline="") as f:
    f.write("id,name,qty\n")
    for i in range(1, 12001):
        if i % 500 == 7:
            f.write('%d,"broken "quote,3\n' % i)
        elif i % 700 == 11:
            f.write("%d,too,many,fields,here\n" % i)
        else:
            f.write("%d,%s,%d\n" % (i, text(i), i % 97))
# items past the item store's page cache (16 MiB): its pages reach the file while it loads
with open("big_items.csv", "w", newline="") as f:
    f.write("id,note\n")
    for i in range(1, 20001):
        f.write("%d,%s\n" % (i, "".join(rnd.choice("abcdefgh") for _ in range(1000))))
with open("too_many_rejects.csv", "w", newline="") as f:
    f.write("id,name,qty\n")
    for i in range(1, 10001):
        f.write(("%d,a,b,c,d\n" if i % 50 == 0 else "%d,x,1\n") % i)
PY
for n in 1 2 3; do
    load quoted "$n" "$TMP/quoted.csv"
    load widen_late "$n" "$TMP/widen_late.csv"
    load rejects "$n" "$TMP/rejects.csv"
    FILE_LIMIT_KB=300 load write_fails "$n" "$TMP/rejects.csv" --no-sql
    # fails a few batches before the widening: the reading thread may get there first
    FILE_LIMIT_KB=1500 load widen_write_fails "$n" "$TMP/widen_late.csv" --no-sql
    FILE_LIMIT_KB=200 load parquet_write_fails "$n" "$TMP/quoted.csv" --no-sql --formats parquet \
        --compression none
    ITEMS=1 load items "$n" "$TMP/quoted.csv"
    ITEMS=1 load items_only "$n" "$TMP/quoted.csv" --formats none --no-sql
    ITEMS=1 load items_keyed "$n" "$TMP/quoted.csv" --key id
    ITEMS=1 load items_widen_late "$n" "$TMP/widen_late.csv"
    ITEMS=1 load items_rejects "$n" "$TMP/rejects.csv" --formats none
    ITEMS=1 FILE_LIMIT_KB=2000 load items_write_fails "$n" "$TMP/big_items.csv" --formats none --no-sql
done
# the same paths at 2 threads as the loads above: 1 and 3 threads
for n in 1 3; do
    load quoted_small_groups "$n" "$TMP/quoted.csv" --row-group-size 64K --page-size 8K
    load too_many_rejects "$n" "$TMP/too_many_rejects.csv"
    load parquet_only "$n" "$TMP/quoted.csv" --formats parquet --no-sql
done
for name in quoted widen_late rejects write_fails widen_write_fails parquet_write_fails items \
    items_only items_keyed items_widen_late items_rejects items_write_fails; do
    same "$name"
done
for name in quoted_small_groups too_many_rejects parquet_only; do
    THREADS="3" same "$name"
done
# Files made for the chunks: their boundaries fall inside quoted fields, on CRLF, on blank
# lines; the last chunk widens; a file of two chunks read by three threads.
python3 - <<'PY'
import random
rnd = random.Random(16)
def lookalike(i):
    return '"%d,fake,row\n%d,""quoted"",x\n\n"' % (i, i + 1)
with open("lookalike.csv", "w", newline="") as f:
    f.write("id,body,n\n")
    for i in range(1, 8001):
        f.write("%d,%s,%d\n" % (i, lookalike(i) if rnd.random() < 0.6 else "plain", i % 13))
with open("crlf.csv", "w", newline="") as f:
    f.write("id,body,n\r\n")
    for i in range(1, 8001):
        body = '"a\r\nb ""q"", c\r\n"' if i % 3 == 0 else "t%d" % i
        f.write("%d,%s,%d\r\n" % (i, body, i % 7))
with open("blank_lines.csv", "w", newline="") as f:
    f.write("id,name\n")
    for i in range(1, 12001):
        f.write("%d,n%d\n" % (i, i) + "\n" * (i % 4 == 0) + "\r\n" * (i % 9 == 0))
    f.write("\n\n\n")
with open("widen_last.csv", "w", newline="") as f:
    f.write("id,code,note\n")
    for i in range(1, 25001):
        f.write("%d,%s,%s\n" % (i, i if i != 24990 else "late-X", '"q\nq"' if i % 5 == 0 else ""))
with open("repeated_header.csv", "w", newline="") as f:
    for part in range(4):
        f.write("id,name,qty\n")
        for i in range(1, 3001):
            f.write("%d,n%d,%d\n" % (i, i, i % 10))
with open("two_chunks.csv", "w", newline="") as f:
    f.write("id,body\n")
    for i in range(1, 801):
        f.write('%d,"x\n%d"\n' % (i, i))
# past the sniffed sample (1 MiB), an invalid byte with several full batches (8192 rows)
# after it, in a file of many chunks
def name(i, bad):
    return bad if i == 40000 else b"plain value of row %06d" % i
with open("latin_late.csv", "wb") as f:
    f.write(b"id,name\n")
    for i in range(1, 80001):
        f.write(b"%d,%s\n" % (i, name(i, b"S\xe3o Paulo")))
with open("latin_widen.csv", "wb") as f:
    f.write(b"id,name\n")
    for i in range(1, 80001):
        f.write(b"%s,%s\n" % (b"late-X" if i == 70000 else b"%d" % i, name(i, b"S\xe3o Paulo")))
with open("bad_utf8_late.csv", "wb") as f:
    f.write("id,name\n1,caf\u00e9\n".encode())
    for i in range(2, 80001):
        f.write(b"%d,%s\n" % (i, name(i, b"bad\xff")))
PY
# 2 threads parse on one thread, as 1 does: the chunks are 1 and 3 threads
for n in 1 3; do
    CHUNK=4096 load lookalike "$n" "$TMP/lookalike.csv"
    CHUNK=3000 load crlf "$n" "$TMP/crlf.csv"
    CHUNK=777 load blank_lines "$n" "$TMP/blank_lines.csv"
    CHUNK=20000 load widen_last "$n" "$TMP/widen_last.csv"
    CHUNK=4000 load repeated_header "$n" "$TMP/repeated_header.csv"
    CHUNK=6000 load two_chunks "$n" "$TMP/two_chunks.csv"
    CHUNK=100000 load latin_late "$n" "$TMP/latin_late.csv"
    CHUNK=100000 load latin_widen "$n" "$TMP/latin_widen.csv"
    CHUNK=100000 load bad_utf8_late "$n" "$TMP/bad_utf8_late.csv"
    CHUNK=100000 load bad_utf8_forced "$n" "$TMP/latin_late.csv" --encoding utf-8
    CHUNK=500 load rejects_small "$n" "$TMP/rejects.csv"
    CHUNK=500 load too_many_rejects_small "$n" "$TMP/too_many_rejects.csv"
done
for name in lookalike crlf blank_lines widen_last repeated_header two_chunks latin_late \
    latin_widen bad_utf8_late bad_utf8_forced rejects_small too_many_rejects_small; do
    THREADS="3" same "$name"
done
for name in lookalike crlf blank_lines widen_last two_chunks rejects_small latin_late \
    latin_widen bad_utf8_late bad_utf8_forced; do
    expect_eq "$name: read in chunks at 3 threads" \
        "$(grep -c 'chunks of about' "t3/$name/stderr.txt")" 1
done
expect_eq "lookalike: chunks started inside quoted fields were parsed again" \
    "$(grep -c 'parsed again from their true start' t3/lookalike/stderr.txt)" 1
expect_eq "two_chunks: 2 chunks for 3 threads" \
    "$(grep -o '[0-9]* chunks of about' t3/two_chunks/stderr.txt)" "2 chunks of about"
expect_eq "lookalike: all rows" "$(json_get t3/lookalike/summary.json 'j["rows"], j["status"]')" "(8000, 'loaded')"
expect_eq "crlf: all rows" "$(json_get t3/crlf/summary.json 'j["rows"], j["status"]')" "(8000, 'loaded')"
expect_eq "blank_lines: all rows" "$(json_get t3/blank_lines/summary.json 'j["rows"]')" 12000
expect_eq "widen_last: widened once in the last chunk" \
    "$(json_get t3/widen_last/summary.json 'j["restarts"], j["rows"], j["schema"][1]["type"]')" \
    "(1, 25000, 'STRING')"
expect_eq "repeated_header: the repeats dropped" \
    "$(json_get t3/repeated_header/summary.json 'j["rows"], j["status"]')" "(12000, 'loaded')"
expect_eq "latin_late: loaded as Windows-1252" \
    "$(json_get t3/latin_late/summary.json 'j["rows"], j["status"]')" "(80000, 'loaded')"
expect_eq "latin_late: the value decoded" "$(grep -c 'São Paulo' t3/latin_late/out/json/latin_late/latin_late.jsonl)" 1
expect_eq "latin_widen: Windows-1252, widened after the byte" \
    "$(json_get t3/latin_widen/summary.json 'j["rows"], j["status"], j["restarts"], j["schema"][0]["type"]')" \
    "(80000, 'loaded', 1, 'STRING')"
expect_eq "bad_utf8_late: failed at its line" \
    "$(json_get t3/bad_utf8_late/summary.json 'j["status"], "line 40001" in j["error"]')" "('failed', True)"
expect_eq "bad_utf8_forced: --encoding utf-8 fails at its line" \
    "$(json_get t3/bad_utf8_forced/summary.json 'j["status"], "line 40001" in j["error"]')" "('failed', True)"
expect_eq "rejects_small: the rejects" "$(json_get t3/rejects_small/summary.json 'j["rejected_rows"]')" 42
expect_eq "too_many_rejects_small: rejected" "$(json_get t3/too_many_rejects_small/summary.json 'j["status"]')" "rejected"

# The cases are what they say (at 3 threads; the other counts are the same bytes).
expect_eq "quoted: loaded" "$(json_get t3/quoted/summary.json 'j["rows"], j["status"]')" "(26000, 'loaded')"
expect_eq "small row groups: several" "$(python3 -c 'import sys
d=open(sys.argv[1],"rb").read(); print(d.count(b"PAR1"))' t3/quoted_small_groups/out/parquet/quoted/quoted.parquet)" 2
expect_eq "widen_late: widened once" "$(json_get t3/widen_late/summary.json 'j["restarts"], j["rows"], [c["type"] for c in j["schema"]][1:3]')" \
    "(1, 26000, ['STRING', 'DOUBLE'])"
expect_eq "rejects: loaded with rejects" "$(json_get t3/rejects/summary.json 'j["status"], j["rejected_rows"]')" "('loaded', 42)"
expect_eq "rejects: the rejects file" "$(wc -l <t3/rejects/out/rejected/rejects/rejects.rejects.csv)" 43
expect_eq "too many rejects: rejected" "$(json_get t3/too_many_rejects/summary.json 'j["status"]')" "rejected"
expect_eq "too many rejects: error.json" "$(ls t3/too_many_rejects/out/rejected/too_many_rejects/)" \
    "$(printf 'too_many_rejects.error.json\ntoo_many_rejects.rejects.csv')"

expect_eq "write fails: the load failed, naming the file and the cause" \
    "$(json_get t3/write_fails/summary.json 'j["status"], j["error"].split(" (")[0]')" \
    "('failed', 'out/json/rejects/rejects.jsonl: cannot write: File too large')"
expect_eq "write fails before the widening: failed, not widened" \
    "$(json_get t3/widen_write_fails/summary.json 'j["status"], j["restarts"], j["schema"][1]["type"]')" \
    "('failed', 0, 'INT64')"
expect_eq "items: one per row" "$(wc -l <t3/items_only/items.txt)" 26000
expect_eq "items, keyed: one per row" "$(wc -l <t3/items_keyed/items.txt)" 26000
expect_eq "items after a widening: one per row" "$(wc -l <t3/items_widen_late/items.txt)" 26000
expect_eq "items with rejected rows: one per loaded row" "$(wc -l <t3/items_rejects/items.txt)" \
    $((12000 - 42))
expect_eq "the item store's write fails: the load failed, naming the rows" \
    "$(json_get t3/items_write_fails/summary.json 'j["status"], __import__("re").fullmatch(r"sqlite:\./out/items\.db: putting the items of rows [0-9]+\.\.[0-9]+ of .*/big_items\.csv: disk I/O error", j["error"]) is not None')" \
    "('failed', True)"
expect_eq "Parquet write fails: the load failed" \
    "$(json_get t3/parquet_write_fails/summary.json 'j["status"], j["error"].split(" (")[0]')" \
    "('failed', 'out/parquet/quoted/quoted.parquet: cannot write: File too large')"

# CSVPIPE_CHUNK_BYTES: below 64 it is 64 (1 made 8 bytes of chunk starts per byte of the
# file); a value that is not a byte count is ignored, with a warning naming it.
for n in 1 3; do
    CHUNK=1 load chunk_one "$n" "$TMP/two_chunks.csv"
    CHUNK=lots load chunk_lots "$n" "$TMP/two_chunks.csv"
done
THREADS="3" same chunk_one
THREADS="3" same chunk_lots
expect_eq "CSVPIPE_CHUNK_BYTES=1: chunks of 64 bytes" \
    "$(grep -c 'chunks of about 64 bytes' t3/chunk_one/stderr.txt)" 1
expect_eq "CSVPIPE_CHUNK_BYTES=lots: named and ignored" \
    "$(grep -c "CSVPIPE_CHUNK_BYTES: 'lots' is not a positive whole number; ignored" t3/chunk_lots/stderr.txt)" 1
expect_eq "CSVPIPE_CHUNK_BYTES=lots: the default chunks (one for this file)" \
    "$(grep -c 'chunks of about' t3/chunk_lots/stderr.txt)" 0

# The threads are real: the line the pool logs once its threads started.
printf 'a,b\n1,x\n2,y\n' >small.csv
run env CSVPIPE_LOG=debug CSVPIPE_THREADS=3 "$CSVPIPE" run --no-sql --no-nosql --quiet --out w3 small.csv
expect_rc "CSVPIPE_THREADS=3" 0
expect_err "CSVPIPE_THREADS=3 starts two workers, one per file format" "started 2 sink worker threads"
run env CSVPIPE_LOG=debug CSVPIPE_THREADS=3 "$CSVPIPE" run --formats parquet --no-sql --no-nosql --quiet --out w3p small.csv
expect_rc "CSVPIPE_THREADS=3, one format" 0
expect_err "one format, one worker" "started 1 sink worker thread$"
run env CSVPIPE_LOG=debug CSVPIPE_THREADS=3 "$CSVPIPE" run --threads 1 --no-sql --no-nosql --quiet --out w1 small.csv
expect_rc "--threads 1 over CSVPIPE_THREADS=3" 0
expect_eq "--threads 1 starts no worker" "$(grep -c 'worker thread' "$TMP/err")" 0
run env CSVPIPE_LOG=debug "$CSVPIPE" run --threads 2 --no-sql --no-nosql --quiet --out w2 small.csv
expect_rc "--threads 2" 0
expect_err "--threads 2: one worker beside the reading thread" "started 1 sink worker thread$"

run env CSVPIPE_LOG=debug "$CSVPIPE" run --threads 2 --formats none --no-sql --nosql "sqlite:wi/items.db" \
    --quiet --out wi small.csv
expect_rc "--threads 2, items only" 0
expect_err "--threads 2: the item store is written by a worker" "started 1 sink worker thread$"

# Counts that are not counts.
for bad in 0x 257 -2 two; do
    run "$CSVPIPE" run --threads "$bad" small.csv
    expect_rc "--threads $bad" 2
    expect_err "--threads $bad is named" "--threads: '$bad' is not a thread count"
done
run env CSVPIPE_THREADS=many "$CSVPIPE" run --no-sql --no-nosql --out wx small.csv
expect_rc "CSVPIPE_THREADS=many" 2
expect_err "CSVPIPE_THREADS=many is named" "CSVPIPE_THREADS: 'many' is not a thread count"

finish
