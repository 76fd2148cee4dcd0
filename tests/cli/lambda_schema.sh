#!/usr/bin/env bash
# Issue 14, type overrides in Lambda: CSVPIPE_SCHEMA_PREFIX (moto's S3) holds
# <dataset>.json schema files, read for every file by one warm `csvpipe lambda` process:
#   - vendas.json forces types and a rename: Parquet (DECIMAL(12,2), read back by DuckDB),
#     NDJSON and PostgreSQL's column types follow it, and the summary names the file;
#   - a dataset without a schema file is inferred;
#   - the schema edited between two uploads counts for the next one (no stale cache): a
#     forced INT64 over decimal values rejects the file, with the rejects file in S3
#     naming lines and reasons, and nothing in PostgreSQL;
#   - a broken schema file fails that file's load with an error naming it;
#   - the schema file removed: inference again.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
source "$CP_SOURCE_DIR/tests/aws/lambda_lib.bash"
cd "$TMP"
pg_start
moto_start

python3 "$AWS_PY" mb csv-in
python3 "$AWS_PY" mb csv-out
printf 'id;produto;preço\n001;café;1,5\n002;pão;2,25\n003;leite;4\n' >jan.csv
printf 'id;produto;preço\n004;açúcar;3,10\n005;sal;1,99\n006;arroz;12\n' >feb.csv
cp feb.csv mar.csv
cp feb.csv apr.csv
printf 'codigo,nome,desde\n7,Ana,2021-03-04\n8,Bia,2022-11-30\n' >clientes.csv
for f in jan feb mar apr; do
    python3 "$AWS_PY" put csv-in "incoming/vendas/$f.csv" $f.csv
done
python3 "$AWS_PY" put csv-in incoming/clientes/c1.csv clientes.csv
cat >v1.json <<'EOF'
{"delimiter": ";", "decimal_separator": ",", "header": true,
 "columns": [{"source_name": "id", "type": "STRING"},
             {"source_name": "produto", "name": "product"},
             {"source_name": "preço", "name": "price", "type": "DECIMAL(12,2)"}]}
EOF
sed 's/"DECIMAL(12,2)"/"int64"/' v1.json >v2.json
printf '{"columns": [{"source_name": "id", "type": "STRING"},' >v3.json
python3 "$AWS_PY" put csv-in schemas/vendas.json v1.json

python3 - <<'PY'
import json
for name, key in [("jan", "incoming/vendas/jan.csv"), ("c1", "incoming/clientes/c1.csv"),
                  ("feb", "incoming/vendas/feb.csv"), ("mar", "incoming/vendas/mar.csv"),
                  ("apr", "incoming/vendas/apr.csv")]:
    json.dump({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
                            "eventName": "ObjectCreated:Put",
                            "s3": {"bucket": {"name": "csv-in"},
                                   "object": {"key": key, "size": 80}}}]},
              open(name + ".json", "w"))
PY

export CSVPIPE_OUT=s3://csv-out/lake CSVPIPE_SQL="$PG_URL" CSVPIPE_INPUT_PREFIX=incoming/
export CSVPIPE_SCHEMA_PREFIX=s3://csv-in/schemas/
put="python3 $AWS_PY put csv-in schemas/vendas.json"
lambda_invoke five --before "2:$put v2.json" --before "3:$put v3.json" \
    --before "4:python3 $AWS_PY rm csv-in schemas/vendas.json" \
    -- jan.json c1.json feb.json mar.json apr.json
expect_rc "five invocations, one process" 0
expect_eq "the schema edits between invocations ran" "$(rec 'j["protocol_errors"]')" "[]"
file() { # file N EXPR: EXPR over the summary `f` of invocation N's only file
    rec "(lambda f: $2)(j['invocations'][$1]['body']['files'][0] if j['invocations'][$1]['outcome'] == 'response' else None)"
}

# 1. jan.csv with schemas/vendas.json v1.
expect_eq "jan: loaded with the schema file" "$(file 0 '(f["status"], f["rows"], f["schema_file"])')" \
    "('loaded', 3, 's3://csv-in/schemas/vendas.json')"
expect_eq "jan: the types and names of the schema" "$(file 0 '[(c["name"], c["type"]) for c in f["schema"]]')" \
    "[('id', 'STRING'), ('product', 'STRING'), ('price', 'DECIMAL(12,2)')]"
python3 "$AWS_PY" get csv-out lake/parquet/vendas/jan.parquet jan.parquet
python3 "$AWS_PY" get csv-out lake/json/vendas/jan.jsonl jan.jsonl
expect_eq "jan: Parquet read back by DuckDB, scale 2" "$(read_parquet jan.parquet)" \
    '{"id":"001","product":"café","price":"1.50"}
{"id":"002","product":"pão","price":"2.25"}
{"id":"003","product":"leite","price":"4.00"}'
expect_eq "jan: NDJSON" "$(cat jan.jsonl)" \
    '{"id":"001","product":"café","price":1.50}
{"id":"002","product":"pão","price":2.25}
{"id":"003","product":"leite","price":4.00}'
columns() { # columns TABLE [N]: the first N columns of TABLE with their types
    pg_psql "SELECT string_agg(column_name || ' ' || CASE WHEN data_type = 'numeric' THEN 'numeric(' || numeric_precision || ',' || numeric_scale || ')' ELSE data_type END, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '$1' AND ordinal_position <= ${2:-1000}"
}
expect_eq "jan: PostgreSQL column types" "$(columns vendas 5)" \
    "id text, product text, price numeric(12,2), _source text, _row bigint"
expect_eq "jan: PostgreSQL rows" "$(pg_psql "SELECT string_agg(id || '=' || price, ' ' ORDER BY id) FROM vendas")" \
    "001=1.50 002=2.25 003=4.00"

# 2. A dataset without a schema file: inferred.
expect_eq "clientes: inferred" "$(file 1 '(f["status"], f["schema_file"], [c["type"] for c in f["schema"]])')" \
    "('loaded', None, ['INT64', 'STRING', 'DATE'])"
expect_eq "clientes: PostgreSQL" "$(columns clientes)" "codigo bigint, nome text, desde date, _source text, _row bigint"

# 3. The schema edited before feb.csv: price forced INT64, which 3,10 and 1,99 do not fit.
expect_eq "feb: the edited schema counts: rejected" "$(rec 'j["invocations"][2]["outcome"]')" "error"
expect_eq "feb: the error" "$(rec 'j["invocations"][2]["body"]["errorMessage"]')" \
    "1 of 1 record failed; the first: s3://csv-in/incoming/vendas/feb.csv: 2 of 3 rows (66.67%) could not be parsed, more than the 1.00% allowed; the first at line 2: value \"3,10\" in column 3 (price) is not INT64, the type forced for it"
python3 "$AWS_PY" get csv-out lake/rejected/vendas/feb.rejects.csv feb.rejects.csv
expect_eq "feb: the rejects file in S3" "$(cat feb.rejects.csv)" \
    'line,reason,row
2,"value ""3,10"" in column 3 (price) is not INT64, the type forced for it","004;açúcar;3,10"
3,"value ""1,99"" in column 3 (price) is not INT64, the type forced for it","005;sal;1,99"'
expect_eq "feb: nothing loaded" "$(python3 "$AWS_PY" exists csv-out lake/parquet/vendas/feb.parquet) $(pg_psql "SELECT count(*) FROM vendas WHERE _source LIKE '%feb.csv'")" "no 0"
expect_eq "feb: the ledger row" "$(pg_psql "SELECT status FROM csvpipe_loads WHERE source_uri LIKE '%feb.csv'")" "rejected"

# 4. A broken schema file: that file fails, naming the schema file.
expect_eq "mar: failed" "$(rec 'j["invocations"][3]["outcome"]')" "error"
if rec 'j["invocations"][3]["body"]["errorMessage"]' |
    grep -qF "mar.csv: s3://csv-in/schemas/vendas.json: line 1, column"; then
    pass "mar: the error names the schema file and where it breaks"
else
    fail "mar: $(rec 'j["invocations"][3]["body"]["errorMessage"]')"
fi
python3 "$AWS_PY" get csv-out lake/rejected/vendas/mar.error.json mar.error.json
expect_eq "mar: error.json" "$(json_get mar.error.json '(j["status"], j["error"].split(":")[0:2])')" \
    "('failed', ['s3', '//csv-in/schemas/vendas.json'])"
expect_eq "mar: a log line says so" \
    "$(log_lines '"source" in l and l["source"].endswith("mar.csv") and l.get("status")=="failed" and "schemas/vendas.json" in (l.get("error") or "")' | wc -l)" "1"

# 5. The schema file removed: inference again. Without the rename, produto and preço are new
# columns of the table; id stays text, the table's type.
expect_eq "apr: inferred again" \
    "$(file 4 '(f["status"], f["schema_file"], [(c["name"], c["type"]) for c in f["schema"]][1:])')" \
    "('loaded', None, [('produto', 'STRING'), ('preco', 'DECIMAL(18,2)')])"
expect_eq "apr: PostgreSQL" "$(columns vendas)" \
    "id text, product text, price numeric(12,2), _source text, _row bigint, produto text, preco numeric(18,2)"
finish
