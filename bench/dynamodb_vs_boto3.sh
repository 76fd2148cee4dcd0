#!/usr/bin/env bash
# Loading DynamoDB (issue 15, acceptance 3): items per second of csvpipe's DynamoDB item
# store against boto3's Table.batch_writer() on the same local server, both one process:
#   csvpipe run --no-sql --formats none --nosql dynamodb:TABLE FILE      (AIMD window)
#   python3 bench/dynamodb_boto3.py TABLE FILE.jsonl                     (batch_writer)
# The items are the same: boto3 reads csvpipe's --json-style dynamodb NDJSON of the same
# CSV (made once, untimed), which holds the items csvpipe's sink writes. Each run gets a
# fresh server and a fresh table (created untimed), the tools alternate, RUNS times each
# (default 3); every run is checked to leave one item per row in the table. Items/s is rows
# divided by the whole-process wall time (GNU time); csvpipe's includes its two passes over
# the CSV (DynamoDB is written in the second), boto3's includes reading the NDJSON. The
# csvpipe rows add what its writer reported (CSVPIPE_LOG=debug): requests, the most in
# flight at once, the window's halvings. A third row runs csvpipe with at most 8 requests
# in flight (CSVPIPE_DYNAMODB_INFLIGHT=8), the fixed number before the AIMD window.
#
# SERVER: dynalite (default; npm, pinned by bench/dynamodb/package-lock.json, in memory) or
# moto (moto_server, as the tests use). Prints a Markdown table, writes it to
# bench/results/dynamodb.md and into its section of bench/results/latest.md.
#
# Usage: bench/dynamodb_vs_boto3.sh [BUILD_DIR]. Env: RUNS (3), ROWS (20000), SERVER.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_build "${1:-}"
runs=${RUNS:-3}
rows=${ROWS:-20000}
server=${SERVER:-dynalite}
python3 -c 'import boto3' || { echo "boto3 is needed (scripts/deps.sh installs it)" >&2; exit 1; }
case $server in
dynalite) "$root/scripts/node-deps.sh" "$root/bench/dynamodb" ;;
moto) command -v moto_server >/dev/null || { echo "moto_server is needed" >&2; exit 1; } ;;
*) echo "SERVER is dynalite or moto" >&2; exit 1 ;;
esac

data="$root/bench/data"
mkdir -p "$data" "$root/bench/results"
csv="$data/sales-$rows-rows.csv"
if [ ! -f "$csv" ]; then
    echo "generating $csv" >&2
    "$gen" --rows "$rows" --style utf8 --seed 1 >"$csv.tmp"
    mv "$csv.tmp" "$csv"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cp-ddb.XXXXXX")
pid=
stop_server() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=
    fi
}
trap 'stop_server; rm -rf "$work"' EXIT

export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_S3
export AWS_SHARED_CREDENTIALS_FILE="$work/none" AWS_CONFIG_FILE="$work/none"
export AWS_EC2_METADATA_DISABLED=true no_proxy='*'

"$csvpipe" run --quiet --no-sql --no-nosql --formats json --json-style dynamodb \
    --table sales --out "$work/ndjson" "$csv" >/dev/null
jsonl=$(find "$work/ndjson" -name '*.jsonl')
nitems=$(wc -l <"$jsonl")

# start_server: a fresh server on a free loopback port, with an empty table "sales-items".
start_server() {
    local port i
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    if [ "$server" = dynalite ]; then
        node "$root/bench/dynamodb/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$port" \
            --createTableMs 0 >"$work/server.log" 2>&1 &
    else
        moto_server -H 127.0.0.1 -p "$port" >"$work/server.log" 2>&1 &
    fi
    pid=$!
    endpoint="http://127.0.0.1:$port"
    for ((i = 0; i < 300; i++)); do
        curl -s -o /dev/null --max-time 1 "$endpoint" && break
        sleep 0.1
    done
    export AWS_ENDPOINT_URL_DYNAMODB=$endpoint
    python3 - "$endpoint" <<'PY'
import boto3, sys
c = boto3.client("dynamodb", endpoint_url=sys.argv[1])
c.create_table(TableName="sales-items", BillingMode="PAY_PER_REQUEST",
               AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "S"}],
               KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}])
c.get_waiter("table_exists").wait(TableName="sales-items", WaiterConfig={"Delay": 0.2})
PY
}

count_items() {
    python3 - "$endpoint" <<'PY'
import boto3, sys
c = boto3.client("dynamodb", endpoint_url=sys.argv[1])
n, kw = 0, {"TableName": "sales-items", "Select": "COUNT"}
while True:
    r = c.scan(**kw)
    n += r["Count"]
    if "LastEvaluatedKey" not in r:
        break
    kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]
print(n)
PY
}

# timed NAME CMD...: runs CMD under GNU time against a fresh server; appends
# "NAME wall kb extra" to $work/runs, extra from the writer's debug line for csvpipe.
timed() {
    local name=$1 extra=-
    shift
    start_server
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/stdout" 2>"$work/stderr" || {
        echo "$name failed:" >&2
        tail -20 "$work/stderr" >&2
        exit 1
    }
    local n
    n=$(count_items)
    stop_server
    [ "$n" = "$nitems" ] || { echo "$name: $n items in the table, $nitems expected" >&2; exit 1; }
    if [ "$name" != boto3 ]; then
        extra=$(grep -o 'in [0-9]* requests.*' "$work/stderr" | tail -1 | tr ' ' '_')
    fi
    echo "$name $(cat "$work/time") $extra" >>"$work/runs"
    echo "  $name: $(cat "$work/time") (s, KB) $extra" >&2
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= runs; r++)); do
    CSVPIPE_LOG=debug timed csvpipe "$csvpipe" run --quiet --no-sql --formats none \
        --table sales --nosql dynamodb:sales-items --out "$work/out" "$csv"
    CSVPIPE_LOG=debug CSVPIPE_DYNAMODB_INFLIGHT=8 timed csvpipe-8 "$csvpipe" run --quiet \
        --no-sql --formats none --table sales --nosql dynamodb:sales-items --out "$work/out" "$csv"
    timed boto3 python3 "$root/bench/dynamodb_boto3.py" sales-items "$jsonl"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
server_version=$(if [ "$server" = dynalite ]; then
    node -p "'dynalite ' + require('$root/bench/dynamodb/node_modules/dynalite/package.json').version"
else
    python3 -c 'import moto; print("moto_server", moto.__version__)'
fi)

table=$(python3 - "$work/runs" "$nitems" "$runs" "$load_before" "$load_after" \
    "$("$csvpipe" --version | head -1)" "$(python3 -c 'import boto3; print(boto3.__version__)')" \
    "$server_version" "$(nproc)" <<'PY'
import datetime, statistics, sys
path, n, runs, lb, la, version, boto3v, serverv, cores = sys.argv[1:]
n = int(n)
r = {}
for line in open(path):
    name, wall, kb, extra = line.split()
    r.setdefault(name, []).append((float(wall), int(kb), extra))
cpu = open("/proc/cpuinfo").read().split("model name")[1].split(":")[1].split("\n")[0].strip()
print(f"{n:,} items (the 10-column sales file, about 330 bytes of DynamoDB JSON each) into a "
      f"fresh on-demand table of {serverv} on loopback, {runs} runs each, alternating; "
      f"{cores} cores, {cpu}; {datetime.date.today()}; load average before {lb}, after {la} "
      f"(the machine is shared, and the server runs on it too).\n")
print("| tool | how | time median (s) | time min–max (s) | items/s (median) | peak RSS median (MB) | items/s csvpipe / tool |")
print("|---|---|---|---|---|---|---|")
med = {k: statistics.median(x[0] for x in v) for k, v in r.items()}
for name, how in (("csvpipe", f"{version}: `run --formats none --nosql dynamodb:TABLE`, AIMD window of requests in flight (at most 64); last run: {r['csvpipe'][-1][2].replace('_', ' ')}"),
                  ("csvpipe-8", f"the same with `CSVPIPE_DYNAMODB_INFLIGHT=8`: at most 8 in flight, what the fixed window was before; last run: {r['csvpipe-8'][-1][2].replace('_', ' ')}"),
                  ("boto3", f"boto3 {boto3v} `Table.batch_writer()` over the same items (NDJSON)")):
    v = [x[0] for x in r[name]]
    ratio = "" if name == "csvpipe" else f"{med[name] / med['csvpipe']:.1f}"
    print(f"| {name} | {how} | {med[name]:.2f} | {min(v):.2f}–{max(v):.2f} | {n / med[name]:,.0f} | "
          f"{statistics.median(x[1] for x in r[name]) / 1024:.0f} | {ratio} |")
PY
)
printf '%s\n' "$table"
printf '# DynamoDB: csvpipe against boto3 batch_writer (bench/dynamodb_vs_boto3.sh, %s)\n\n%s\n' \
    "$server" "$table" >"$root/bench/results/dynamodb-$server.md"
printf '## DynamoDB: csvpipe against boto3 batch_writer (bench/dynamodb_vs_boto3.sh, %s)\n\n%s\n' \
    "$server" "$table" |
    python3 "$root/bench/results_section.py" "dynamodb_vs_boto3_$server" "$root/bench/results/latest.md"
