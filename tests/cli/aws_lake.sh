#!/usr/bin/env bash
# Issue 16 against moto (S3 and Glue; acceptance 1): `csvpipe run` of a file on S3 with
# --out s3://... --partition-by 'month(order_date)' --catalog glue:lake:
#   - the Parquet files are in one folder per month, downloaded and read by DuckDB with
#     hive_partitioning=true: every row and the exact sums;
#   - glue get-table (boto3): the typed columns (bigint, date, timestamp, decimal(18,2),
#     double, boolean, string; TIMESTAMPTZ as timestamp), the dataset's S3 location, the
#     Parquet SerDe and formats, the partition key order_date_month string; get-partitions
#     one per month present, each at its folder;
#   - a second file of the same dataset adds only its new months' partitions (the others
#     exist and stay);
#   - a new version of the first file with fewer months: no stale object of it left in
#     the months it no longer has, and the partitions left empty leave the table;
#   - a later file's new column is added and a wider decimal widens its column
#     (UpdateTable), which keeps the Parameters, Description and Owner a user set
#     (update-table between the loads); a column that changes kind (bigint to text) fails
#     the load before any file is published;
#   - a partition column's key is string: a file with region 1,2 then one with EU both
#     register under it;
#   - a crash after the table step, then the retry: the partitions are there once; and
#     kill -9 at every point of a new version's load (fewer months, with the ledger), then
#     the rerun: only the new version's objects and partitions are left;
#   - the Lambda path (acceptance 3): `csvpipe lambda` with CSVPIPE_PARTITION_BY and
#     CSVPIPE_CATALOG, as the template sets them, loads an S3 event's object the same way:
#     one object per month, the table and its partitions in Glue;
#   - --catalog with a local output, or a value that is not glue:DB, is a usage error.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/fault_lib.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
source "$CP_SOURCE_DIR/tests/aws/lambda_lib.bash"
cd "$TMP"
moto_start
AWS_PY="$CP_SOURCE_DIR/tests/aws/awspy.py"
python3 "$AWS_PY" mb inbox
python3 "$AWS_PY" mb lake
python3 - <<'PY'
import boto3, os
boto3.client("glue", endpoint_url=os.environ["AWS_ENDPOINT_URL"]).create_database(DatabaseInput={"Name": "lake"})
PY

glue() {
    python3 - "$@" <<'PY'
import boto3, json, os, sys
g = boto3.client("glue", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
what, table = sys.argv[1], sys.argv[2]
if what == "table":
    t = g.get_table(DatabaseName="lake", Name=table)["Table"]
    sd = t["StorageDescriptor"]
    print(" ".join(f'{c["Name"]}:{c["Type"]}' for c in sd["Columns"]))
    print(sd["Location"])
    print(sd["InputFormat"], sd["OutputFormat"], sd["SerdeInfo"]["SerializationLibrary"])
    print(" ".join(f'{c["Name"]}:{c["Type"]}' for c in t["PartitionKeys"]))
else:
    ps = g.get_partitions(DatabaseName="lake", TableName=table)["Partitions"]
    for p in sorted(ps, key=lambda p: p["Values"]):
        print("/".join(p["Values"]), p["StorageDescriptor"]["Location"])
PY
}

cat >orders.csv <<'EOF2'
order_id,order_date,created_at,paid_at,amount,ratio,paid,customer
1,2024-01-05,2024-01-05 10:00:00,2024-01-05T10:00:00Z,10.50,5e-1,true,Ana
2,2024-01-20,2024-01-20 11:00:00,2024-01-20T11:00:00+02:00,20.25,1.25e0,false,Bruno
3,2024-02-03,2024-02-03 12:00:00,2024-02-03T12:00:00Z,5.00,2.5e0,true,Carla
4,2024-03-15,2024-03-15 13:00:00,2024-03-15T13:00:00Z,7.75,3.75e0,true,Davi
5,,2024-03-16 14:00:00,2024-03-16T14:00:00Z,1.00,4.5e0,false,Eva
EOF2
python3 "$AWS_PY" put inbox orders/orders.csv orders.csv
lake() {
    run "$CSVPIPE" run --quiet --json --no-sql --no-nosql --out s3://lake/warehouse \
        --table orders --partition-by 'month(order_date)' --catalog glue:lake "$@"
}
lake s3://inbox/orders/orders.csv
expect_rc "run s3:// with --partition-by and --catalog" 0
expect_eq "the Parquet objects, one folder per month" \
    "$(python3 "$AWS_PY" ls lake warehouse/parquet/ | tr '\n' ' ')" \
    "warehouse/parquet/orders/order_date_month=2024-01/orders.parquet warehouse/parquet/orders/order_date_month=2024-02/orders.parquet warehouse/parquet/orders/order_date_month=2024-03/orders.parquet warehouse/parquet/orders/order_date_month=__HIVE_DEFAULT_PARTITION__/orders.parquet "
mkdir tree
for key in $(python3 "$AWS_PY" ls lake warehouse/parquet/); do
    mkdir -p "tree/$(dirname "$key")"
    python3 "$AWS_PY" get lake "$key" "tree/$key"
done
expect_eq "DuckDB over the downloaded tree: rows and exact sums per month" \
    "$(node "$CP_SOURCE_DIR/tests/js/hive_query.mjs" "SELECT order_date_month, count(*), sum(amount) FROM read_parquet('tree/warehouse/parquet/orders/**/*.parquet', hive_partitioning=true) GROUP BY 1 ORDER BY 1" | tr '\n' ' ')" \
    '["2024-01","2","30.75"] ["2024-02","1","5.00"] ["2024-03","1","7.75"] [null,"1","1.00"] '
expect_eq "get-table: typed columns, location, SerDe, partition keys" "$(glue table orders)" \
    "order_id:bigint order_date:date created_at:timestamp paid_at:timestamp amount:decimal(18,2) ratio:double paid:boolean customer:string
s3://lake/warehouse/parquet/orders/
org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe
order_date_month:string"
expect_eq "get-partitions: one per month present" "$(glue partitions orders)" \
    "2024-01 s3://lake/warehouse/parquet/orders/order_date_month=2024-01/
2024-02 s3://lake/warehouse/parquet/orders/order_date_month=2024-02/
2024-03 s3://lake/warehouse/parquet/orders/order_date_month=2024-03/
__HIVE_DEFAULT_PARTITION__ s3://lake/warehouse/parquet/orders/order_date_month=__HIVE_DEFAULT_PARTITION__/"

# what a user sets on the table (partition projection, a description, an owner) survives
# the UpdateTable of an evolving load
python3 - <<'PY'
import boto3, os
g = boto3.client("glue", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
t = g.get_table(DatabaseName="lake", Name="orders")["Table"]
ti = {k: t[k] for k in ("Name", "TableType", "StorageDescriptor", "PartitionKeys", "Parameters")}
ti["Parameters"] = dict(ti["Parameters"], **{"projection.enabled": "false", "team": "sales"})
ti["Description"] = "orders lake"
ti["Owner"] = "ana"
g.update_table(DatabaseName="lake", TableInput=ti)
PY
table_extras() {
    python3 - <<'PY'
import boto3, os
g = boto3.client("glue", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
t = g.get_table(DatabaseName="lake", Name="orders")["Table"]
p = t.get("Parameters", {})
print(p.get("projection.enabled"), p.get("team"), p.get("classification"), t.get("Description"), t.get("Owner"))
PY
}

# a second file: only its new month is added; a new column updates the table
cat >more.csv <<'EOF2'
order_id,order_date,created_at,paid_at,amount,ratio,paid,customer,channel
6,2024-03-20,2024-03-20 10:00:00,2024-03-20T10:00:00Z,3.125,5e-1,true,Fabio,web
7,2024-04-02,2024-04-02 10:00:00,2024-04-02T10:00:00Z,4.000,5e-1,true,Gil,store
EOF2
python3 "$AWS_PY" put inbox orders/more.csv more.csv
run env CSVPIPE_LOG=info "$CSVPIPE" run --quiet --json --no-sql --no-nosql --out s3://lake/warehouse \
    --table orders --partition-by 'month(order_date)' --catalog glue:lake s3://inbox/orders/more.csv
expect_rc "a second file" 0
expect_err "it says one partition of two is new" "lake.orders: 2 partitions, 1 new"
expect_eq "get-partitions: its new month added" "$(glue partitions orders | cut -d' ' -f1 | tr '\n' ' ')" \
    "2024-01 2024-02 2024-03 2024-04 __HIVE_DEFAULT_PARTITION__ "
expect_eq "get-table: a column widened, the new one added (UpdateTable)" "$(glue table orders | head -n 1)" \
    "order_id:bigint order_date:date created_at:timestamp paid_at:timestamp amount:decimal(19,3) ratio:double paid:boolean customer:string channel:string"
expect_eq "UpdateTable kept the table's parameters, description and owner" "$(table_extras)" \
    "false sales parquet orders lake ana"

# a partition column's key is string in Glue whatever the first file's values were: a
# later file with text values registers under it
printf 'id,region\n1,1\n2,2\n' >reg_a.csv
printf 'id,region\n3,EU\n' >reg_b.csv
python3 "$AWS_PY" put inbox reg/reg_a.csv reg_a.csv
python3 "$AWS_PY" put inbox reg/reg_b.csv reg_b.csv
for f in reg_a reg_b; do
    run "$CSVPIPE" run --quiet --json --no-sql --no-nosql --out s3://lake/regions \
        --table reg --partition-by region --catalog glue:lake "s3://inbox/reg/$f.csv"
    expect_rc "$f: partitioned by a column" 0
done
expect_eq "get-table: the column's partition key is string" "$(glue table reg | sed -n 4p)" "region:string"
expect_eq "get-partitions: both files' values" "$(glue partitions reg | cut -d' ' -f1 | tr '\n' ' ')" "1 2 EU "

# a column that changes kind (bigint to text) is refused, as the relational side refuses it
printf 'order_id,order_date\nA-8,2024-05-01\n' >text_id.csv
python3 "$AWS_PY" put inbox orders/text_id.csv text_id.csv
lake s3://inbox/orders/text_id.csv
expect_rc "a file whose order_id is text" 1
expect_out "the load says which column and both types" \
    'column order_id is bigint in the table and string in this file'
expect_eq "the table keeps its type" "$(glue table orders | head -n 1 | cut -d' ' -f1)" "order_id:bigint"
expect_eq "nothing of it published (checked before the files)" \
    "$(python3 "$AWS_PY" ls lake warehouse/parquet/ | grep -c text_id)" "0"

# a new version of the first file with fewer months: its stale objects go
head -n 3 orders.csv >orders2.csv
python3 "$AWS_PY" put inbox orders/orders.csv orders2.csv
lake s3://inbox/orders/orders.csv
expect_rc "a new version with January only" 0
expect_eq "no stale object of it left" \
    "$(python3 "$AWS_PY" ls lake warehouse/parquet/ | tr '\n' ' ')" \
    "warehouse/parquet/orders/order_date_month=2024-01/orders.parquet warehouse/parquet/orders/order_date_month=2024-03/more.parquet warehouse/parquet/orders/order_date_month=2024-04/more.parquet "
expect_eq "the partitions it left empty are no longer registered; those with another file stay" \
    "$(glue partitions orders | cut -d' ' -f1 | tr '\n' ' ')" "2024-01 2024-03 2024-04 "

# a crash after the table step: the retry registers the partitions
python3 "$AWS_PY" put inbox orders/late.csv more.csv
crash_at "crash after the table step" catalog-table \
    "$CSVPIPE" run --quiet --no-sql --no-nosql --out s3://lake/warehouse --table late \
    --partition-by 'month(order_date)' --catalog glue:lake s3://inbox/orders/late.csv
expect_eq "the table is there, no partition yet" "$(glue partitions late)" ""
run "$CSVPIPE" run --quiet --no-sql --no-nosql --out s3://lake/warehouse --table late \
    --partition-by 'month(order_date)' --catalog glue:lake s3://inbox/orders/late.csv
expect_rc "the retry" 0
expect_eq "the retry registered them" "$(glue partitions late | cut -d' ' -f1 | tr '\n' ' ')" \
    "2024-03 2024-04 "

# the Lambda path, with the template's variables
python3 "$AWS_PY" put inbox "incoming/lam/orders.csv" orders.csv
python3 - <<'PY'
import json
rec = {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
       "s3": {"bucket": {"name": "inbox"},
              "object": {"key": "incoming/lam/orders.csv", "size": 1, "sequencer": "01"}}}
json.dump({"Records": [rec]}, open("event.json", "w"))
PY
export CSVPIPE_OUT=s3://lake/fromlambda/ CSVPIPE_INPUT_PREFIX=incoming/ \
    CSVPIPE_PARTITION_BY='month(order_date)' CSVPIPE_CATALOG=glue:lake
lambda_invoke lam -- event.json
expect_rc "csvpipe lambda: one invocation" 0
unset CSVPIPE_OUT CSVPIPE_INPUT_PREFIX CSVPIPE_PARTITION_BY CSVPIPE_CATALOG
expect_eq "the Lambda's response: loaded" \
    "$(json_get "$TMP/lam.record.json" '[f["status"] for f in j["invocations"][0]["body"]["files"]]')" "['loaded']"
expect_eq "the Lambda wrote one object per month" \
    "$(python3 "$AWS_PY" ls lake fromlambda/parquet/ | tr '\n' ' ')" \
    "fromlambda/parquet/lam/order_date_month=2024-01/orders.parquet fromlambda/parquet/lam/order_date_month=2024-02/orders.parquet fromlambda/parquet/lam/order_date_month=2024-03/orders.parquet fromlambda/parquet/lam/order_date_month=__HIVE_DEFAULT_PARTITION__/orders.parquet "
expect_eq "the Lambda registered the table" "$(glue table lam | sed -n '2p;4p' | tr '\n' ' ')" \
    "s3://lake/fromlambda/parquet/lam/ order_date_month:string "
expect_eq "the Lambda registered its partitions" "$(glue partitions lam | cut -d' ' -f1 | tr '\n' ' ')" \
    "2024-01 2024-02 2024-03 __HIVE_DEFAULT_PARTITION__ "

# kill -9 at every point of a new version's load (fewer months), then the rerun: each
# time only the new version's objects, and its partitions, are left
sweep() { # sweep NAME [ENV...]: v1 then v2 of s3://inbox/sweep/NAME.csv into dataset NAME
    local name=$1
    shift
    run env "$@" "$CSVPIPE" run --quiet --json --sql "sqlite:$TMP/sweep.db" --no-nosql \
        --out s3://lake/sweep --partition-by 'month(order_date)' --catalog glue:lake \
        "s3://inbox/sweep/$name.csv"
}
python3 "$AWS_PY" put inbox sweep/clean.csv orders.csv
sweep clean
expect_rc "sweep: the first version" 0
python3 "$AWS_PY" put inbox sweep/clean.csv orders2.csv
sweep clean CSVPIPE_TRACE_POINTS="$TMP/sweep.trace"
expect_rc "sweep: a clean new version" 0
points=$(unique_points "$TMP/sweep.trace")
expect_eq "sweep: the points of a catalogued partitioned load" "$points" \
    "locked streaming streamed parquet-written json-written parquet-partition-published parquet-published json-partition-published json-published json-stale-removed catalog-table catalog-registered parquet-stale-removed rejects-published ledger-row committed"
for p in $points; do
    python3 "$AWS_PY" put inbox "sweep/$p.csv" orders.csv
    sweep "$p"
    expect_rc "$p: the first version" 0
    python3 "$AWS_PY" put inbox "sweep/$p.csv" orders2.csv
    crash_at "$p" "$p" env "$CSVPIPE" run --quiet --json --sql "sqlite:$TMP/sweep.db" --no-nosql \
        --out s3://lake/sweep --partition-by 'month(order_date)' --catalog glue:lake \
        "s3://inbox/sweep/$p.csv"
    sweep "$p"
    expect_rc "$p: the rerun" 0
    ds=${p//-/_} # the dataset: the file's name, normalized
    expect_eq "$p: the new version's objects only" \
        "$(python3 "$AWS_PY" ls lake "sweep/" | grep "/$ds/" | tr '\n' ' ')" \
        "sweep/json/$ds/order_date_month=2024-01/$p.jsonl sweep/parquet/$ds/order_date_month=2024-01/$p.parquet "
    expect_eq "$p: its partitions only" "$(glue partitions "$ds" | cut -d' ' -f1 | tr '\n' ' ')" "2024-01 "
done

# usage errors
run "$CSVPIPE" run --quiet --no-sql --no-nosql --out local --catalog glue:lake orders.csv
expect_rc "--catalog with a local output" 2
expect_err "it says the output must be on S3" "the output must be on S3"
run env CSVPIPE_CATALOG=hive:lake "$CSVPIPE" run --quiet --no-sql --no-nosql --out s3://lake/x orders.csv
expect_rc "CSVPIPE_CATALOG not glue:DB" 2
expect_err "it says what to use" 'use glue:DATABASE'
finish
