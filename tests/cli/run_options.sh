#!/usr/bin/env bash
# `csvpipe run` sources and options: standard input, globs, folders, --formats, --table,
# --no-sql/--no-nosql, the DynamoDB JSON style, exit codes.
source "$(dirname "$0")/lib.bash"
cd "$TMP"
mkdir -p data/more
"$GEN_SALES" --rows 20 --seed 1 >data/a.csv
"$GEN_SALES" --rows 30 --seed 2 >data/b.csv
"$GEN_SALES" --rows 40 --seed 3 >data/more/c.CSV
echo "not a csv" >data/notes.txt

# Standard input.
run bash -c "'$CSVPIPE' run --json --out o1 - <data/a.csv"
expect_rc "stdin" 0
expect_eq "stdin source" "$(json_get "$TMP/out" 'j["source_uri"]')" "stdin"
expect_eq "stdin rows" "$(json_get "$TMP/out" 'j["rows"]')" "20"
expect_eq "stdin dataset" "$(json_get "$TMP/out" 'j["dataset"]')" "stdin"

# A glob (quoted, expanded by csvpipe) and a folder (its .csv files, any case).
run "$CSVPIPE" run --json --out o2 --no-sql --no-nosql 'data/*.csv'
expect_rc "glob" 0
expect_eq "glob files" "$(grep -c '"status":"loaded"' "$TMP/out")" "2"
run "$CSVPIPE" run --json --out o3 --no-sql --no-nosql data/more
expect_rc "folder" 0
expect_eq "folder files" "$(grep -c '"status":"loaded"' "$TMP/out")" "1"

# --formats, --table, and no databases at all.
run "$CSVPIPE" run --json --out o4 --formats parquet --table 'Vendas 2024' --no-sql --no-nosql data/a.csv
expect_rc "parquet only" 0
expect_eq "table name normalized" "$(json_get "$TMP/out" 'j["dataset"]')" "vendas_2024"
expect_eq "parquet written" "$(test -f o4/parquet/vendas_2024/a.parquet && echo yes)" "yes"
expect_eq "no json" "$(test -e o4/json && echo yes || echo no)" "no"
expect_eq "no databases, nothing else written" "$(ls o4 | tr "\n" " ")" "parquet "

# DynamoDB JSON: what DynamoDB's import from S3 reads.
run "$CSVPIPE" run --json --out o5 --formats json --json-style dynamodb --no-sql --no-nosql data/b.csv
expect_rc "dynamodb style" 0
python3 - o5/json/b/b.jsonl >"$TMP/ddb.txt" <<'PY'
import json, sys
items = [json.loads(l) for l in open(sys.argv[1])]
ok = all(list(i.keys()) == ["Item"] for i in items)
it = items[0]["Item"]
print(len(items), ok, it["pk"]["S"].startswith("b#"), it["sk"]["S"], it["id"], it["preco_unitario"],
      it["pago"], "desconto" in it or "absent")
PY
expect_eq "dynamodb items" "$(cat "$TMP/ddb.txt")" \
    "30 True True 000000000001 {'N': '1'} {'N': '$(sed -n 2p data/b.csv | cut -d, -f6)'} {'BOOL': $(sed -n 2p data/b.csv | cut -d, -f8 | sed 's/true/True/;s/false/False/')} $(sed -n 2p data/b.csv | cut -d, -f9 | grep -q . && echo True || echo absent)"

# Exit codes: usage errors are 2, a missing file is 1 with its name.
run "$CSVPIPE" run --formats xml data/a.csv
expect_rc "bad --formats" 2
run "$CSVPIPE" run --bogus data/a.csv
expect_rc "unknown option" 2
run "$CSVPIPE" run
expect_rc "no source" 2
run "$CSVPIPE" run --out o6 data/missing.csv
expect_rc "missing source" 1
expect_err "missing source named" "data/missing.csv: no such file"
run "$CSVPIPE" run --out o7 --key nope data/a.csv
expect_rc "unknown key column" 1
expect_out "unknown key column explained" 'key column "nope" is not a column of this file'
# A file wider than a SQLite table (2000 columns with _source and _row): the error says
# so and names --no-sql, which loads it.
python3 -c 'print(",".join("c%d" % i for i in range(1999))); print(",".join("1" * 1999))' \
    >data/wide.csv
run "$CSVPIPE" run --out o8 --quiet data/wide.csv
expect_rc "wider than SQLite" 1
expect_out "wider than SQLite explained" \
    'table "wide" would have 2001 columns .*more than the 2000 a SQLite table holds: load the file with --no-sql'
run "$CSVPIPE" run --out o9 --quiet --no-sql data/wide.csv
expect_rc "wide file with --no-sql" 0
expect_eq "wide file's Parquet" "$(test -s o9/parquet/wide/wide.parquet && echo written)" written
run "$CSVPIPE" run --help
expect_rc "run --help" 0
expect_out "run --help lists options" "--json-style"

finish
