#!/usr/bin/env bash
# Issue 12, acceptance 4: big files go to an ECS Fargate task. With a throughput setting
# that makes a 244 KB file too big for the invocation's time left, `csvpipe lambda` sends a
# RunTask to (moto's) ECS through AWS_ENDPOINT_URL_ECS (a recording proxy in front of moto:
# the request is checked whole, signed), records the hand-off in the ledger (handed_off, the
# task's ARN) and answers; a small file of the same invocation loads in the Lambda. The
# exactly-once rules: a duplicate event while the task runs starts no second task; once the
# task is stopped, the next event hands the file off again; the task's own command
# (`csvpipe run --handed-off ...`, with the task's environment: the loader secret, the task
# metadata endpoint) loads it only when the ledger's hand-off names that task, once, with
# the event's sequencer; a version never handed off is skipped. A RunTask that fails
# records a failed load and fails the invocation (Lambda retries), recording no hand-off.
# A compressed object is judged by the size of the CSV inside (8 times the object's).
# Killed at either crash point of the hand-off (task started; hand-off recorded), the
# retried event still ends in one load by one task.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
source "$CP_SOURCE_DIR/tests/aws/lambda_lib.bash"
source "$(dirname "$0")/fault_lib.bash"
pg_start
trap 'pg_cleanup; aws_cleanup' EXIT
cd "$TMP"
moto_start
moto_enable_auth
proxy_start --rate 0 --record "$TMP/ecs.jsonl" --lifetime 600
# Tasks stay RUNNING in moto until stopped (its default jumps straight to STOPPED).
curl -s -o /dev/null -X POST "$MOTO_URL/moto-api/state-manager/set-transition" \
    -d '{"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000}}'

cp "$CP_SOURCE_DIR/examples/vendas.csv" big.csv
"$GEN_SALES" --rows 5 --seed 8 >small.csv
# About 12 KB gzipped (42 KB of CSV): 12 s at the test's 1 KB/s fits in the invocation,
# the CSV inside it (counted CP_HANDOFF_EXPANSION = 8 times the object) does not.
"$GEN_SALES" --rows 500 --seed 8 | gzip -6 >packed.csv.gz
python3 - <<'PY'
import boto3, json, os
ep, region = os.environ["AWS_ENDPOINT_URL"], "us-east-1"
s3 = boto3.client("s3", endpoint_url=ep, region_name=region)
for b in ("csv-in", "csv-out"):
    s3.create_bucket(Bucket=b)
s3.put_bucket_versioning(Bucket="csv-in", VersioningConfiguration={"Status": "Enabled"})
for key, f in (("incoming/vendas/big.csv", "big.csv"), ("incoming/vendas/small.csv", "small.csv"),
               ("incoming/vendas/big2.csv", "big.csv"), ("incoming/vendas/never.csv", "small.csv"),
               ("incoming/vendas/packed.csv.gz", "packed.csv.gz")):
    s3.upload_file(f, "csv-in", key)
ec2 = boto3.client("ec2", endpoint_url=ep, region_name=region)
vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # as the stack's VPC
subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=c)["Subnet"]["SubnetId"]
           for c in ("10.40.64.0/20", "10.40.80.0/20")]
sg = ec2.create_security_group(GroupName="loader", Description="loader tasks", VpcId=vpc)["GroupId"]
ecs = boto3.client("ecs", endpoint_url=ep, region_name=region)
ecs.create_cluster(clusterName="cp")
ecs.register_task_definition(
    family="cp-loader", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="1024",
    memory="2048", containerDefinitions=[{"name": "csvpipe", "image": "csvpipe-lambda:latest",
                                          "entryPoint": ["/usr/local/bin/csvpipe"],
                                          "command": ["run", "--help"], "essential": True,
                                          "memory": 2048}])  # moto needs a container memory
open("ecs.env", "w").write(f"SUBNETS={subnets[0]},{subnets[1]}\nSG={sg}\n")
def event(key, seq):
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
                         "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": "csv-in"},
                                "object": {"key": key, "sequencer": seq}}}]}
json.dump(event("incoming/vendas/big.csv", "0065A1B2C3D4E5F601"), open("big.json", "w"))
json.dump(event("incoming/vendas/small.csv", "0065A1B2C3D4E5F602"), open("small.json", "w"))
json.dump(event("incoming/vendas/big2.csv", "0065A1B2C3D4E5F603"), open("big2.json", "w"))
json.dump(event("incoming/vendas/packed.csv.gz", "0065A1B2C3D4E5F604"), open("packed.json", "w"))
PY
source ecs.env

# The loader's secret (host and port in it here; the stack gives them as PGHOST/PGPORT).
python3 "$AWS_PY" secret cp/loader "{\"username\":\"csvpipe\",\"password\":\"unused\",\"host\":\"127.0.0.1\",\"port\":$PG_PORT,\"dbname\":\"postgres\"}"
export CSVPIPE_OUT=s3://csv-out/lake CSVPIPE_SQL_SECRET_ARN=cp/loader CSVPIPE_INPUT_PREFIX=incoming/
export AWS_ENDPOINT_URL_ECS=$PROXY_URL
export CSVPIPE_ECS_CLUSTER=cp CSVPIPE_ECS_TASK_DEFINITION=cp-loader CSVPIPE_ECS_SUBNETS=$SUBNETS \
    CSVPIPE_ECS_SECURITY_GROUPS=$SG
# 1 KB/s: the 244 KB file needs about 4 minutes, the invocation has 60 s; 1 KB fits.
export CSVPIPE_THROUGHPUT_MBPS=0.001

ecs_calls() { # OPERATION: how many were recorded
    python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["target"].endswith("." + sys.argv[2])))' \
        "$TMP/ecs.jsonl" "$1"
}
moto_tasks() { # EXPR over the cluster's tasks `ts` (described by boto3)
    python3 -c 'import boto3,os,sys
ecs = boto3.client("ecs", endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1")
arns = ecs.list_tasks(cluster="cp")["taskArns"]
ts = ecs.describe_tasks(cluster="cp", tasks=arns)["tasks"] if arns else []
print(eval(sys.argv[1]))' "$@"
}
ledger() { # SQL over csvpipe_loads
    pg_psql "$1"
}

lambda_invoke first -- big.json small.json
expect_rc "two invocations: a big file and a small one" 0
expect_eq "the big file: handed off, answered" \
    "$(rec '[(f["status"], f["dataset"], f["outputs"]["ecs_task"].startswith("arn:aws:ecs:us-east-1:")) for f in j["invocations"][0]["body"]["files"]]')" \
    "[('handed_off', 'vendas', True)]"
expect_eq "the small file loads in the Lambda" \
    "$(rec '[(f["status"], f["rows"]) for f in j["invocations"][1]["body"]["files"]]')" "[('loaded', 5)]"
TASK1=$(rec 'j["invocations"][0]["body"]["files"][0]["outputs"]["ecs_task"]')
expect_eq "one RunTask" "$(ecs_calls RunTask)" "1"
python3 - "$TMP/ecs.jsonl" >runtask.txt <<'PY'
import json, sys
r = next(json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["target"].endswith(".RunTask"))
b = json.loads(r["body"])
print(r["method"], r["path"], r["signed"], r["status"])
tok = b.pop("clientToken")
print(len(tok) <= 64 and all(33 <= ord(c) <= 126 for c in tok))
print(json.dumps(b, sort_keys=True))
PY
expect_eq "RunTask: POST /, signed, answered 200" "$(sed -n 1p runtask.txt)" "POST / True 200"
expect_eq "RunTask: a valid clientToken" "$(sed -n 2p runtask.txt)" "True"
expect_eq "RunTask: cluster, task definition, Fargate, private subnets, the run command" \
    "$(sed -n 3p runtask.txt)" \
    "$(python3 -c 'import json,sys
print(json.dumps({"cluster": "cp", "count": 1, "launchType": "FARGATE", "taskDefinition": "cp-loader",
  "networkConfiguration": {"awsvpcConfiguration": {"assignPublicIp": "DISABLED",
     "securityGroups": [sys.argv[2]], "subnets": sys.argv[1].split(",")}},
  "overrides": {"containerOverrides": [{"name": "csvpipe", "command": ["run", "--handed-off", "--json",
     "--quiet", "--table", "vendas", "--formats", "parquet,json", "--compression", "snappy",
     "--json-style", "plain", "s3://csv-in/incoming/vendas/big.csv"]}]},
  "startedBy": "csvpipe-lambda"}, sort_keys=True))' "$SUBNETS" "$SG")"
expect_eq "moto ran one task with those overrides" \
    "$(moto_tasks '[(t["taskArn"] == sys.argv[1] if False else t["lastStatus"], t["startedBy"], t["overrides"]["containerOverrides"][0]["command"][:2], t["launchType"]) for t in ts]')" \
    "[('RUNNING', 'csvpipe-lambda', ['run', '--handed-off'], 'FARGATE')]"
expect_eq "moto's task is the one answered" "$(moto_tasks 'ts[0]["taskArn"]')" "$TASK1"
expect_eq "ledger: handed_off with the task, the version and the event's sequencer" \
    "$(ledger "SELECT status, dataset, outputs::json->>'ecs_task' = '$TASK1', version <> '', sequencer, size_bytes FROM csvpipe_loads WHERE source_uri LIKE '%/big.csv' ORDER BY id")" \
    "handed_off|vendas|t|t|0065A1B2C3D4E5F601|244110"
expect_eq "no EMF metrics for the hand-off (the task's load has them)" \
    "$(log_lines '"_aws" in l and l.get("dataset") == "vendas" and l.get("FilesLoaded") == 0' | wc -l)" "0"
expect_eq "the log line says where it went" \
    "$(log_lines 'l.get("status") == "handed_off" and "'"$TASK1"'" in l["message"]' | wc -l)" "1"
expect_eq "nothing of it loaded yet" "$(ledger "SELECT count(*) FROM vendas WHERE _source LIKE '%/big.csv'")" "0"

lambda_invoke dup -- big.json
expect_rc "a duplicate event while the task runs" 0
expect_eq "duplicate: skipped, naming the running task" \
    "$(rec '[(f["status"], "being loaded by ECS task" in f["error"], f["outputs"]["ecs_task"]) for f in j["invocations"][0]["body"]["files"]]')" \
    "[('skipped', True, '$TASK1')]"
expect_eq "no second RunTask; one DescribeTasks" "$(ecs_calls RunTask) $(ecs_calls DescribeTasks)" "1 1"
expect_eq "still one task in ECS" "$(moto_tasks 'len(ts)')" "1"

python3 -c 'import boto3,os,sys
boto3.client("ecs", endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1").stop_task(
    cluster="cp", task=sys.argv[1], reason="Essential container in task exited")' "$TASK1"
lambda_invoke after-stop -- big.json
expect_rc "the event again, the task having died" 0
TASK2=$(rec 'j["invocations"][0]["body"]["files"][0]["outputs"]["ecs_task"]')
expect_eq "handed off again, to a new task" \
    "$(rec 'j["invocations"][0]["body"]["files"][0]["status"]') $([ "$TASK2" != "$TASK1" ] && echo new)" "handed_off new"
expect_err "the log says the earlier task is gone" "ECS task .* is gone \\(STOPPED.*Essential container"
expect_eq "two RunTasks in all" "$(ecs_calls RunTask)" "2"
expect_eq "ledger: two hand-offs, the last naming the new task" \
    "$(ledger "SELECT string_agg(status, ' ' ORDER BY id), (array_agg(outputs::json->>'ecs_task' ORDER BY id DESC))[1] = '$TASK2' FROM csvpipe_loads WHERE source_uri LIKE '%/big.csv'")" \
    "handed_off skipped handed_off|t"

# The tasks' command, as the task definition runs it: the task's environment (no Lambda
# settings but the output, the loader secret and the region) and its metadata endpoint.
task_cmd() { # the command of RunTask number N (0-based), one word per line
    python3 -c 'import json,sys
rs=[json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["target"].endswith(".RunTask")]
print("\n".join(json.loads(rs[int(sys.argv[2])]["body"])["overrides"]["containerOverrides"][0]["command"]))' \
        "$TMP/ecs.jsonl" "$1"
}
run_task() { # NAME N ARN: runs RunTask N's command as the task whose ARN is ARN
    printf '{"Cluster":"cp","TaskARN":"%s","Family":"cp-loader"}' "$3" >"$TMP/$1.task.json"
    rm -f "$TMP/$1.meta.port"
    bg_start "$1-meta" python3 "$CP_SOURCE_DIR/tests/aws/capture_server.py" --port-file "$TMP/$1.meta.port" \
        --record "$TMP/$1.meta.jsonl" --json-get "/v4/abc/task=$TMP/$1.task.json" --lifetime 90
    wait_file "$TMP/$1.meta.port" 20
    mapfile -t words < <(task_cmd "$2")
    run env -u CSVPIPE_INPUT_PREFIX -u CSVPIPE_ECS_CLUSTER -u CSVPIPE_THROUGHPUT_MBPS \
        ECS_CONTAINER_METADATA_URI_V4="http://127.0.0.1:$(cat "$TMP/$1.meta.port")/v4/abc" \
        timeout 120 "$CSVPIPE" "${words[@]}"
}
run_task dead 0 "$TASK1"
expect_rc "the first task (stopped, now run late) exits cleanly" 0
expect_out "it is skipped: the hand-off names another task" '"status":"skipped".*not handed off to this task'
expect_eq "it asked the metadata endpoint who it is" "$(grep -c '"path": "/v4/abc/task"' "$TMP/dead.meta.jsonl")" "1"
expect_eq "it loaded nothing" "$(ledger "SELECT count(*) FROM vendas WHERE _source LIKE '%/big.csv'")" "0"

run_task live 1 "$TASK2"
expect_rc "the task named by the hand-off loads" 0
expect_out "loaded, 3000 rows" '"status":"loaded".*"rows":3000'
expect_eq "its EMF record (FilesLoaded 1, 3000 rows)" \
    "$(grep -c '"_aws".*"FilesLoaded":1' "$TMP/out") $(grep -o '"RowsLoaded":[0-9]*' "$TMP/out")" "1 \"RowsLoaded\":3000"
expect_eq "rows in PostgreSQL" "$(ledger "SELECT count(*) FROM vendas WHERE _source LIKE '%/big.csv'")" "3000"
expect_eq "ledger: loaded, with the hand-off's version and the event's sequencer" \
    "$(ledger "SELECT l.status, l.sequencer, l.version = h.version FROM csvpipe_loads l JOIN csvpipe_loads h ON h.source_uri = l.source_uri AND h.status = 'handed_off' WHERE l.source_uri LIKE '%/big.csv' AND l.status = 'loaded' ORDER BY h.id DESC LIMIT 1")" \
    "loaded|0065A1B2C3D4E5F601|t"
expect_eq "Parquet and NDJSON in the output bucket" \
    "$(python3 "$AWS_PY" exists csv-out lake/parquet/vendas/big.parquet) $(python3 "$AWS_PY" exists csv-out lake/json/vendas/big.jsonl)" \
    "yes yes"
expect_eq "no local item store was made for the S3 output" "$(ls -d s3: 2>/dev/null || echo none)" "none"
run_task again 1 "$TASK2"
expect_rc "the same task's command again" 0
expect_out "skipped: loaded before" '"status":"skipped"'
expect_eq "still 3000 rows" "$(ledger "SELECT count(*) FROM vendas WHERE _source LIKE '%/big.csv'")" "3000"

lambda_invoke after-load -- big.json
expect_rc "an event after the task's load" 0
expect_eq "an event after the task's load: skipped as a repeat, no RunTask" \
    "$(rec '[f["status"] for f in j["invocations"][0]["body"]["files"]]') $(ecs_calls RunTask)" "['skipped'] 2"

# By hand (no task metadata): a version nobody handed off is not loaded.
run env -u ECS_CONTAINER_METADATA_URI_V4 "$CSVPIPE" run --handed-off --json --quiet s3://csv-in/incoming/vendas/never.csv
expect_rc "run --handed-off of an object never handed off" 0
expect_out "skipped: no hand-off in the ledger" '"status":"skipped".*no handed_off row for version'
run "$CSVPIPE" run --handed-off --json big.csv
expect_rc "--handed-off takes S3 objects only" 2

# RunTask failing: the load fails (Lambda retries the event), no hand-off is recorded.
CSVPIPE_ECS_CLUSTER=no-such-cluster lambda_invoke fails -- big2.json
expect_rc "an invocation whose RunTask fails" 0
expect_eq "the invocation fails (so Lambda retries)" "$(rec 'j["invocations"][0]["error_type"]')" "Csvpipe.LoadFailed"
expect_eq "ledger: failed, saying no task could be started, no hand-off" \
    "$(ledger "SELECT string_agg(status || ':' || (error LIKE '%no ECS task could be started%ClusterNotFoundException%')::text, ' ') FROM csvpipe_loads WHERE source_uri LIKE '%/big2.csv'")" \
    "failed:true"

# A compressed object is judged by the CSV inside: 12 KB of gzip is handed off.
CSVPIPE_LOG=info lambda_invoke packed -- packed.json
expect_rc "an invocation with a gzipped object" 0
expect_eq "the gzipped object: handed off, as dataset vendas" \
    "$(rec '[(f["status"], f["dataset"], f["bytes"] < 20000) for f in j["invocations"][0]["body"]["files"]]')" \
    "[('handed_off', 'vendas', True)]"
expect_err "the log says it was counted as the CSV inside" "compressed, counted as the CSV inside would be"
expect_eq "its RunTask runs the object's own URI" "$(task_cmd -1 | tail -1)" "s3://csv-in/incoming/vendas/packed.csv.gz"

# Killed in the hand-off (docs/design.md's crash points): after RunTask, before the
# handed_off row is committed, and after it, before the answer; the event comes again.
# Either way one task loads the file, once; a task whose hand-off was never recorded loads
# nothing.
for p in handoff-started handoff-recorded; do
    key="incoming/vendas/crash-$p.csv"
    python3 "$AWS_PY" put csv-in "$key" big.csv
    python3 -c 'import json,sys
json.dump({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
  "s3": {"bucket": {"name": "csv-in"}, "object": {"key": sys.argv[1], "sequencer": "0065A1B2C3D4E5F610"}}}]},
  open(sys.argv[2], "w"))' "$key" "$p.json"
    first=$(ecs_calls RunTask)
    rm -f "$TMP/$p.port"
    python3 "$HARNESS" --record "$TMP/$p.killed.json" --port-file "$TMP/$p.port" --timeout 60 \
        "$p.json" >/dev/null 2>&1 &
    hpid=$!
    wait_file "$TMP/$p.port" 20
    crash_at "$p" "$p" env AWS_LAMBDA_RUNTIME_API="$(cat "$TMP/$p.port")" \
        timeout 60 "$CSVPIPE" lambda --max-invocations 1
    kill $hpid 2>/dev/null || true
    wait $hpid 2>/dev/null || true
    expect_eq "$p: its RunTask was sent" "$(ecs_calls RunTask)" "$((first + 1))"
    task=$(moto_tasks '[t["taskArn"] for t in ts if t["overrides"]["containerOverrides"][0]["command"][-1].endswith("/" + sys.argv[2])]' "crash-$p.csv")
    expect_eq "$p: its task runs" "$(python3 -c 'import sys; print(len(eval(sys.argv[1])))' "$task")" 1
    task=$(python3 -c 'import sys; print(eval(sys.argv[1])[0])' "$task")
    expect_eq "$p: the ledger after the kill" \
        "$(ledger "SELECT coalesce(string_agg(status, ' ' ORDER BY id), 'nothing') FROM csvpipe_loads WHERE source_uri LIKE '%/crash-$p.csv'")" \
        "$([ $p = handoff-started ] && echo nothing || echo handed_off)"
    lambda_invoke "$p-again" -- "$p.json"
    expect_rc "$p: the event again" 0
    if [ $p = handoff-started ]; then
        expect_eq "$p: handed off again, by a second RunTask" \
            "$(rec '[f["status"] for f in j["invocations"][0]["body"]["files"]]') $(ecs_calls RunTask)" \
            "['handed_off'] $((first + 2))"
        run_task "$p-orphan" "$first" "$task"
        expect_rc "$p: the orphaned task's command" 0
        expect_out "$p: the orphaned task loads nothing" '"status":"skipped".*not handed off to this task'
        live=$((first + 1))
    else
        expect_eq "$p: a repeat while its task runs, no second RunTask" \
            "$(rec '[f["status"] for f in j["invocations"][0]["body"]["files"]]') $(ecs_calls RunTask)" \
            "['skipped'] $((first + 1))"
        live=$first
    fi
    run_task "$p-live" "$live" "$(rec 'j["invocations"][0]["body"]["files"][0]["outputs"]["ecs_task"]')"
    expect_rc "$p: the recorded task's command" 0
    expect_out "$p: it loads the file" '"status":"loaded".*"rows":3000'
    expect_eq "$p: every row once, one loaded row" \
        "$(ledger "SELECT (SELECT count(*) FROM vendas WHERE _source LIKE '%/crash-$p.csv') || ' ' || (SELECT count(*) FROM csvpipe_loads WHERE source_uri LIKE '%/crash-$p.csv' AND status = 'loaded')")" \
        "3000 1"
done

# Settings.
printf '{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"csv-in"}' >test_event.json
CSVPIPE_ECS_SUBNETS= lambda_invoke no-subnets -- test_event.json
expect_rc "no-subnets: csvpipe lambda stops at its start" 1
expect_eq "a cluster without subnets is a configuration error" \
    "$(rec 'j["init_error"]["error_type"] + " " + str("CSVPIPE_ECS_SUBNETS" in j["init_error"]["body"]["errorMessage"])')" \
    "Csvpipe.Configuration True"
CSVPIPE_SQL_SECRET_ARN= lambda_invoke no-ledger -- test_event.json
expect_rc "no-ledger: csvpipe lambda stops at its start" 1
expect_eq "a hand-off needs the ledger" \
    "$(rec '"recorded in the ledger" in j["init_error"]["body"]["errorMessage"]')" "True"
CSVPIPE_THROUGHPUT_MBPS=fast lambda_invoke bad-throughput -- test_event.json
expect_rc "bad-throughput: csvpipe lambda stops at its start" 1
expect_eq "a throughput that is not a number" \
    "$(rec '"CSVPIPE_THROUGHPUT_MBPS" in j["init_error"]["body"]["errorMessage"]')" "True"
finish
