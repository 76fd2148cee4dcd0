#!/usr/bin/env bash
# Issue 16, partitioned output (acceptance 2, and the local side of 1): --partition-by.
#   - month(data) of a 20,000-row file (3 batches) whose months come in random order, with at most 3
#     partition files open: DuckDB reads the Parquet tree with hive_partitioning=true and
#     gets every row, each row in the folder of its own month, and per month the count and
#     the exact sum that Python's csv and decimal modules compute from the CSV; the same
#     rows from the NDJSON tree; hyparquet and parquet-wasm read one partition file as
#     DuckDB does; the cap made no second file in a partition, only more row groups in
#     its one file (an evicted writer is suspended and resumed, not finished);
#   - a new version of the source with fewer months replaces its files and leaves no file
#     (nor folder) in the months it no longer has, nor the <stem>~2 files earlier
#     versions of csvpipe wrote;
#   - 20,000 rows over 50 days in random order with 4 writers: one file per day, every
#     row once in the folder of its day, _row the CSV ordinal, and the same data as with
#     64 writers (NDJSON byte for byte, Parquet read back);
#   - a load that fails (too many rejects) publishes nothing: the tree is byte for byte
#     what it was;
#   - a crash between two partition files' publish: the retry converges to the new version;
#   - NULL and empty values go to __HIVE_DEFAULT_PARTITION__ (DuckDB reads NULL), a value
#     with '/' and '=' is escaped as Hive does and read back whole;
#   - a bad EXPR is a usage error naming it; a column the file lacks, or month() of a
#     column that is not a date, fails the load naming it.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/fault_lib.bash"
cd "$TMP"
mkdir lake

hive() {
    node "$CP_SOURCE_DIR/tests/js/hive_query.mjs" "$1"
}

# oracle CSV: per month of the Data column "YYYY-MM|rows|sum of Preço Unitário", and
# "null|rows|sum" for rows without a date, sorted as DuckDB sorts (NULLs last).
oracle() {
    python3 - "$1" <<'PY'
import csv, sys
from decimal import Decimal
groups = {}
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    r = csv.reader(f)
    header = next(r)
    d, p = header.index('Data'), header.index('Preço Unitário')
    for row in r:
        k = row[d][:7] if row[d] else None
        n, s = groups.get(k, (0, Decimal(0)))
        groups[k] = (n + 1, s + Decimal(row[p] or 0))
for k in sorted(groups, key=lambda k: (k is None, k or '')):
    n, s = groups[k]
    print(f"{k if k else 'null'}|{n}|{s:.2f}")
PY
}

duck_months() {
    hive "SELECT data_month, count(*), sum(preco_unitario) FROM read_parquet('$1/**/*.parquet', hive_partitioning=true) GROUP BY 1 ORDER BY 1" |
        python3 -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l); print("|".join("null" if v is None else v for v in r))'
}

# rewrite_csv SRC DST EXPR: DST gets SRC's header, then the rows the Python expression EXPR
# makes of rows (SRC's data rows) and d (the index of their Data column).
rewrite_csv() {
    python3 - "$@" <<'PY'
import csv, sys
src, dst, expr = sys.argv[1:]
with open(src, newline='', encoding='utf-8') as f:
    header, *rows = list(csv.reader(f))
with open(dst, 'w', newline='', encoding='utf-8') as f:
    w = csv.writer(f, lineterminator='\n')
    w.writerow(header)
    w.writerows(eval(expr, {'rows': rows, 'd': header.index('Data')}))
PY
}

load() {
    run "$CSVPIPE" run --quiet --json --no-nosql --out lake --partition-writers 3 \
        --partition-by 'month(data)' "$@"
}

"$GEN_SALES" --rows 20000 --seed 16 >sales.csv
load sales.csv
expect_rc "partitioned load" 0
expect_eq "summary: the dataset's folder as its parquet output" \
    "$(json_get "$TMP/out" 'j["outputs"]["parquet"]')" "lake/parquet/sales/"
expect_eq "DuckDB: rows and exact sums per month" "$(duck_months lake/parquet/sales)" "$(oracle sales.csv)"
expect_eq "DuckDB: every row in the folder of its month" \
    "$(hive "SELECT count(*) FROM read_parquet('lake/parquet/sales/**/*.parquet', hive_partitioning=true) WHERE strftime(data, '%Y-%m') <> data_month")" \
    '["0"]'
expect_eq "NDJSON tree: every row, per month" \
    "$(hive "SELECT count(*), count(DISTINCT data_month), sum(preco_unitario::DECIMAL(18,2)) FROM read_json('lake/json/sales/**/*.jsonl', hive_partitioning=true)")" \
    "$(hive "SELECT count(*), count(DISTINCT data_month), sum(preco_unitario) FROM read_parquet('lake/parquet/sales/**/*.parquet', hive_partitioning=true)")"
# one partition file through the two other readers: the same rows as DuckDB's, all of them
part=$(find lake/parquet/sales -name sales.parquet | sort | head -n 1)
month=$(basename "$(dirname "$part")")
cp "$part" part.parquet # outside its folder: DuckDB would add the folder's key as a column
read_parquet part.parquet duckdb >part.duckdb
read_parquet part.parquet hyparquet >part.hyparquet
read_parquet part.parquet parquet-wasm >part.wasm
expect_eq "$month/sales.parquet: hyparquet reads DuckDB's rows" "$(md5sum <part.hyparquet)" "$(md5sum <part.duckdb)"
expect_eq "$month/sales.parquet: parquet-wasm reads DuckDB's rows" "$(md5sum <part.wasm)" "$(md5sum <part.duckdb)"
expect_eq "$month/sales.parquet: its rows all of that month" \
    "$(python3 -c 'import json,sys
m = sys.argv[1].split("=")[1]
print(sum(1 for l in open(sys.argv[2]) if not json.loads(l)["data"].startswith(m)))' "$month" part.duckdb)" "0"
if [ -s part.duckdb ]; then pass "$month/sales.parquet has rows"; else fail "$month/sales.parquet is empty"; fi

nmonths=$(find lake/parquet/sales -mindepth 1 -maxdepth 1 -type d -name 'data_month=*' | wc -l)
expect_eq "one folder per month" "$nmonths" "$(oracle sales.csv | wc -l)"
expect_eq "Parquet: one file per month, though 3 writers cannot hold $nmonths months" \
    "$(find lake/parquet/sales -type f | wc -l) $(find lake/parquet/sales -type f -name sales.parquet | wc -l)" \
    "$nmonths $nmonths"
expect_eq "NDJSON: one file per month" \
    "$(find lake/json/sales -type f | wc -l) $(find lake/json/sales -type f -name sales.jsonl | wc -l)" \
    "$nmonths $nmonths"
expect_eq "an evicted writer was resumed: every month's file has more than one row group" \
    "$(hive "SELECT count(*) FROM (SELECT file_name FROM parquet_metadata('lake/parquet/sales/**/*.parquet') GROUP BY 1 HAVING max(row_group_id) = 0)")" \
    '["0"]'
if find lake -name '*.tmp-*' | grep -q .; then
    fail "temporary files left: $(find lake -name '*.tmp-*' | head -3)"
else
    pass "no temporary file left"
fi

# a new version with three months only: the other months' files and folders go
rewrite_csv sales.csv sales.new "[r for r in rows if r[d][:7] in ('2024-01', '2024-02', '2024-03')]"
mv sales.new sales.csv
# what csvpipe before this version wrote when a partition's writer was evicted
cp lake/parquet/sales/data_month=2024-01/sales.parquet lake/parquet/sales/data_month=2024-01/'sales~2.parquet'
cp lake/json/sales/data_month=2024-01/sales.jsonl lake/json/sales/data_month=2024-01/'sales~2.jsonl'
load sales.csv
expect_rc "new version with fewer months" 0
expect_eq "the <stem>~2 files of an earlier csvpipe are removed" \
    "$(find lake -name 'sales~*' | wc -l)" "0"
expect_eq "DuckDB: the new version only" "$(duck_months lake/parquet/sales)" "$(oracle sales.csv)"
expect_eq "Parquet: only its three months' folders left" \
    "$(find lake/parquet/sales -mindepth 1 -maxdepth 1 | sort | tr '\n' ' ')" \
    "lake/parquet/sales/data_month=2024-01 lake/parquet/sales/data_month=2024-02 lake/parquet/sales/data_month=2024-03 "
expect_eq "NDJSON: only its three months' folders left" \
    "$(find lake/json/sales -mindepth 1 -maxdepth 1 | sort | tr '\n' ' ')" \
    "lake/json/sales/data_month=2024-01 lake/json/sales/data_month=2024-02 lake/json/sales/data_month=2024-03 "

# a failing load publishes nothing
snapshot() { (cd lake && find parquet json -type f -print0 | sort -z | xargs -0 md5sum); }
snapshot >before.txt
cp sales.csv good.csv
printf '99999,not-a-date,2024-01-01 00:00:00,X,Y,1.00,1,true,,\n' >>sales.csv
load --max-rejects 0 sales.csv
expect_rc "a load rejected for its bad row" 1
expect_eq "the failed load published nothing" "$(snapshot)" "$(cat before.txt)"

# a crash between two partition files: the retry converges
rewrite_csv good.csv sales.csv "([r[:d] + ['2025-01' + r[d][7:]] + r[d + 1:] for r in rows if r[d][:7] == '2024-01']
    + [r for r in rows if r[d][:7] == '2024-02'])"
crash_at "crash between partition files" parquet-partition-published@1 \
    "$CSVPIPE" run --quiet --json --no-nosql --out lake --partition-by 'month(data)' sales.csv
load sales.csv
expect_rc "the retry" 0
expect_eq "DuckDB: the retry's version only" "$(duck_months lake/parquet/sales)" "$(oracle sales.csv)"
expect_eq "Parquet: its months only" \
    "$(find lake/parquet/sales -mindepth 1 -maxdepth 1 | sort | tr '\n' ' ')" \
    "lake/parquet/sales/data_month=2024-02 lake/parquet/sales/data_month=2025-01 "

# NULL and escaped values
cat >odd.csv <<'EOF2'
id,day,region,amount
1,2024-03-01,EU,1.25
2,,a/b=c:d%,2.50
3,2024-03-02,,4.00
EOF2
run "$CSVPIPE" run --quiet --no-sql --no-nosql --out lake --partition-by 'region, day(day)' odd.csv
expect_rc "partition by a text column and day()" 0
expect_eq "folders: Hive's escapes and default partition" \
    "$(cd lake/parquet/odd && find . -type f | sort | tr '\n' ' ')" \
    "./region=EU/day_day=2024-03-01/odd.parquet ./region=__HIVE_DEFAULT_PARTITION__/day_day=2024-03-02/odd.parquet ./region=a%2Fb%3Dc%3Ad%25/day_day=__HIVE_DEFAULT_PARTITION__/odd.parquet "
expect_eq "DuckDB reads the values back (NULLs, the escaped text), the column out of the files" \
    "$(hive "SELECT id, region, day_day, amount FROM read_parquet('lake/parquet/odd/**/*.parquet', hive_partitioning=true) ORDER BY id")" \
    '["1","EU","2024-03-01","1.25"]
["2","a/b=c:d%",null,"2.50"]
["3",null,"2024-03-02","4.00"]'
expect_eq "the partition column is not in the files" \
    "$(hive "SELECT count(*) FROM (DESCRIBE SELECT * FROM read_parquet('lake/parquet/odd/region=EU/day_day=2024-03-01/odd.parquet', hive_partitioning=false)) WHERE column_name = 'region'")" \
    '["0"]'

# TIMESTAMP keys: Hive's yyyy-MM-dd HH:mm:ss[.ffffff], the form Athena parses, ':' escaped
printf 'id,ts\n1,2024-03-15T10:00:00\n2,2024-03-15 10:00:00.5\n3,\n' >ts.csv
run "$CSVPIPE" run --quiet --no-sql --no-nosql --out lake --partition-by ts ts.csv
expect_rc "partition by a TIMESTAMP column" 0
expect_eq "TIMESTAMP folders: no T, escaped colons, fraction only when there is one" \
    "$(cd lake/parquet/ts && find . -type f | sort | tr '\n' ' ')" \
    "./ts=2024-03-15 10%3A00%3A00.500000/ts.parquet ./ts=2024-03-15 10%3A00%3A00/ts.parquet ./ts=__HIVE_DEFAULT_PARTITION__/ts.parquet "
expect_eq "DuckDB reads the TIMESTAMP values back" \
    "$(hive "SELECT id, ts::TIMESTAMP FROM read_parquet('lake/parquet/ts/**/*.parquet', hive_partitioning=true) ORDER BY id")" \
    '["1","2024-03-15 10:00:00"]
["2","2024-03-15 10:00:00.5"]
["3",null]'

# every row keeps its source ordinal whatever partition it lands in: with --json-style
# dynamodb, _row is the CSV ordinal and the keyless (pk, sk) unique across partition files
# (plain NDJSON and Parquet carry no _row)
python3 - >ordinals.csv <<'PY'
print("id,region,amount")
for i in range(1, 3001):
    region = "abab"[i - 1] if i < 5 else "c" if i == 5 else "abacbd"[i % 6]
    print(f"{i},{region},{i}.5")
PY
run "$CSVPIPE" run --quiet --no-sql --no-nosql --out dyn --json-style dynamodb --partition-by region ordinals.csv
expect_rc "partition by region, DynamoDB JSON" 0
expect_eq "DynamoDB JSON: (pk, sk) unique across partition files, _row the CSV ordinal" \
    "$(find dyn/json/ordinals -name '*.jsonl' -exec cat {} + | python3 -c 'import json, sys
items = [json.loads(l)["Item"] for l in sys.stdin]
keys = {(i["pk"]["S"], i["sk"]["S"]) for i in items}
bad = sum(1 for i in items if i["_row"]["N"] != i["id"]["N"])
print(len(items), len(keys), bad)')" "3000 3000 0"

# more days than writers, rows in random order: one file per day whatever the cap, the same
# data (NDJSON files byte for byte: rows keep their source order within a partition)
python3 - >days.csv <<'PY'
import random
random.seed(16)
print("id,d,v")
for i in range(1, 20001):
    print(f"{i},2024-{random.randint(1, 2):02d}-{random.randint(1, 25):02d},{i}.5")
PY
for w in 4 64; do
    run "$CSVPIPE" run --quiet --no-sql --no-nosql --out "days$w" --json-style dynamodb \
        --partition-writers "$w" --partition-by 'day(d)' days.csv
    expect_rc "50 days in random order, $w writers" 0
done
expect_eq "4 writers: one Parquet and one NDJSON file per day" \
    "$(find days4/parquet/days -type f -name days.parquet | wc -l) $(find days4/json/days -type f -name days.jsonl | wc -l) $(find days4 -type f | wc -l)" \
    "50 50 100"
expect_eq "4 writers: every row once, in the folder of its day, exact sum" \
    "$(hive "SELECT count(*), count(DISTINCT id), sum(v), count(*) FILTER (WHERE d <> d_day::DATE) FROM read_parquet('days4/parquet/days/**/*.parquet', hive_partitioning=true)")" \
    "$(python3 -c 'import csv, json
from decimal import Decimal
rows = list(csv.DictReader(open("days.csv")))
print(json.dumps([str(len(rows)), str(len({r["id"] for r in rows})), str(sum(Decimal(r["v"]) for r in rows)), "0"], separators=(",", ":")))')"
expect_eq "4 writers: _row is the CSV ordinal of every item" \
    "$(find days4/json/days -name '*.jsonl' -exec cat {} + | python3 -c 'import json, sys
items = [json.loads(l)["Item"] for l in sys.stdin]
print(len(items), sum(1 for i in items if i["_row"]["N"] != i["id"]["N"]))')" "20000 0"
if diff -r days4/json days64/json >/dev/null; then
    pass "NDJSON: 4 and 64 writers write the same files"
else
    fail "NDJSON: 4 and 64 writers differ: $(diff -rq days4/json days64/json | head -3)"
fi
table() {
    hive "SELECT d_day, id, d, v FROM read_parquet('$1/parquet/days/**/*.parquet', hive_partitioning=true) ORDER BY id" | md5sum
}
expect_eq "Parquet: 4 and 64 writers hold the same rows" "$(table days4)" "$(table days64)"

# usage errors
run "$CSVPIPE" run --quiet --no-sql --no-nosql --out lake --partition-by 'mnth(day)' odd.csv
expect_rc "an unknown function" 2
expect_err "the message names the expression" '"mnth\(day\)" is not a partition expression'
run env CSVPIPE_PARTITION_BY='month(day' "$CSVPIPE" run --quiet --no-sql --no-nosql --out lake odd.csv
expect_rc "CSVPIPE_PARTITION_BY: no closing parenthesis" 2
expect_err "the message names it" '"month\(day" lacks its closing parenthesis'
run "$CSVPIPE" run --quiet --no-sql --no-nosql --out lake --partition-by 'day,' odd.csv
expect_rc "a trailing comma is fine" 0
run "$CSVPIPE" run --quiet --no-sql --no-nosql --out lake --partition-by 'month(id)' odd.csv
expect_rc "month() of a number fails the load" 1
expect_out "the message says why" 'month\(id\) needs a DATE or TIMESTAMP column; "id" is INT64'
run "$CSVPIPE" run --quiet --no-sql --no-nosql --out lake --partition-by 'nope' odd.csv
expect_rc "a column the file lacks fails the load" 1
expect_out "the message names it" '"nope" is not a column of this file'
run "$CSVPIPE" run --quiet --no-sql --no-nosql --out lake --partition-writers 0 --partition-by day odd.csv
expect_rc "--partition-writers 0" 2
finish
