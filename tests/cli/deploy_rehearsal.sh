#!/usr/bin/env bash
# Issue 12, section 2: the deployed system rehearsed whole. `make image` builds the Lambda
# image (buildah, no daemon); the image's own ENTRYPOINT runs with the environment the
# CloudFormation template gives the ingest function (tests/deploy/rehearsal.py resolves it:
# parameters to their defaults, every bucket, table, secret and database to a local stand-in
# chosen by its type) against the Runtime API harness, moto (S3, DynamoDB, Secrets Manager
# holding the database secret as the stack makes it) and a real PostgreSQL that accepts the
# secret's password only, over TLS only (as RDS does). Nothing here names a resource of the
# template: buckets, tables and databases are found from the template (the notification's
# bucket, the stand-ins' types), so a setting missing from the template fails the test.
#
# Before the cases, the database roles are set up as the stack does: the image's
# `csvpipe db-setup` with the environment of the function behind the template's custom
# resource (the master secret, the role secrets, the proxy's endpoint), and the function's
# PGHOST (RDS Proxy's endpoint, port 5432) is the test's PostgreSQL, its certificate from a
# CA added to the container's copy of the image's CA bundle (PGSSLROOTCERT, verify-full).
#
# One function per case: rehearse_normal (a Windows-1252 ';' file under incoming/vendas/,
# loaded by the Lambda) and rehearse_big (a file too big for the invocation's time at the
# stack's LambdaThroughputMBps, handed to an ECS task: moto's ECS through
# AWS_ENDPOINT_URL_ECS and a recording proxy; then the task's command run in the image as
# ECS would, from the task definition moto holds, registered from the template).
#
# CP_REHEARSAL_TEMPLATE names another template (to show that a template without a variable
# the run needs fails this test).
#
# SKIPPED (exit 0) only where buildah cannot be installed.
source "$(dirname "$0")/lib.bash"
cd "$TMP"

if ! command -v buildah >/dev/null 2>&1 || ! command -v podman >/dev/null 2>&1 ||
    ! command -v mmdebstrap >/dev/null 2>&1; then
    if ! "$CP_SOURCE_DIR/scripts/deps.sh" image >"$TMP/deps.log" 2>&1; then
        echo "SKIPPED: buildah, podman or mmdebstrap cannot be installed here:"
        sed 's/^/    /' "$TMP/deps.log" | tail -5
        exit 0
    fi
fi

source "$CP_SOURCE_DIR/tests/pg/pg.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
HARNESS="$CP_SOURCE_DIR/tests/aws/runtime_harness.py"
REHEARSAL="$CP_SOURCE_DIR/tests/deploy/rehearsal.py"
TEMPLATE=${CP_REHEARSAL_TEMPLATE:-$CP_SOURCE_DIR/deploy/cloudformation/csvpipe.yaml}

CTR=
cleanup() {
    [ -n "$CTR" ] && buildah rm "$CTR" >/dev/null 2>&1
    pg_cleanup
    aws_cleanup # kills moto and removes $TMP
}

# ---- the image, as `make image` builds it ----
# On Debian 12 (CI) the build stage runs on this machine (scripts/image.sh --stage host: the
# Dockerfile's final stage from the tree the build stage's own commands assemble here, with
# this machine's packages even where the archive has newer ones), which takes a minute where
# the Dockerfile's build stage in a container takes several on a fresh machine;
# tests/cli/deploy_image.sh checks that the two are the same stage. Elsewhere, the container.
stage=container
if [ -r /etc/os-release ] && [ "$(. /etc/os-release && echo "${ID:-}:${VERSION_ID:-}")" = debian:12 ]; then
    stage=host
fi
start=$(date +%s)
IMAGE_BUILDER=buildah IMAGE_BUILD_STAGE=$stage IMAGE_ID_FILE="$TMP/iid" \
    run make -C "$CP_SOURCE_DIR" --no-print-directory image
expect_rc "make image (buildah, build stage: $stage; $(($(date +%s) - start)) s)" 0
grep -A20 '^image.sh: .* older than the archive' "$TMP/err" | grep '^    ' | sed 's/^    /# older here than in the archive: /' || true
if [ "$rc" -ne 0 ] || [ ! -s "$TMP/iid" ]; then
    sed 's/^/    /' "$TMP/err" | tail -30
    finish
    exit 1
fi
IID=$(sed 's/^sha256://' "$TMP/iid")
buildah inspect --type image "$IID" >"$TMP/image.json"
img() { json_get "$TMP/image.json" "$1"; }
size=$(podman image inspect --format '{{.Size}}' "$IID")
if [ "$size" -le $((40 * 1000 * 1000)) ]; then
    pass "image size $((size / 1000)) kB, at most 40 MB"
else
    fail "image size $((size / 1000)) kB, more than 40 MB"
fi
mapfile -t ENTRYPOINT < <(img '"\n".join(j["OCIv1"]["config"]["Entrypoint"])')
USER_SPEC=$(img 'j["OCIv1"]["config"].get("User", "")')
expect_eq "the image's entrypoint" "${ENTRYPOINT[*]}" "/usr/local/bin/csvpipe lambda"
expect_eq "the image's labels: title and the commit" \
    "$(img '" ".join(str((j["OCIv1"]["config"].get("Labels") or {}).get("org.opencontainers.image." + k)) for k in ("title", "revision"))')" \
    "csvpipe-lambda $(git -C "$CP_SOURCE_DIR" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git -C "$CP_SOURCE_DIR" diff-index --quiet HEAD -- 2>/dev/null || echo -dirty)"
case "$USER_SPEC" in
"" | 0 | 0:* | root | root:*) fail "the image runs as root ('$USER_SPEC')" ;;
*) pass "the image runs as user $USER_SPEC" ;;
esac
CTR=$(buildah from --pull=never --name "csvpipe-rehearsal-$$" "$IID")
trap cleanup EXIT
hash=$(git -C "$CP_SOURCE_DIR" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
run buildah run --isolation=chroot "$CTR" -- "${ENTRYPOINT[0]}" version
expect_rc "csvpipe version in the image" 0
expect_out "the image carries the commit $hash" "^csvpipe version .* \(build $hash(-dirty)?\)$"

# ---- the services and the stand-ins ----
pg_start
moto_start
trap cleanup EXIT # after pg_start's and moto.bash's own traps
# ECS requests recorded on their way to moto (no faults): the RunTask is checked whole.
proxy_start --rate 0 --record "$TMP/ecs.jsonl" --lifetime 900
# The database as RDS serves it: over TCP only with TLS (rds.force_ssl, the default from
# PostgreSQL 15) and a password. The certificate is signed by a CA of the test's own
# ($TMP/pg-ca.crt). The test's own queries use the unix socket as the superuser.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/pg-ca.key" -out "$TMP/pg-ca.crt" \
    -subj /CN=csvpipe-rehearsal-ca -days 2 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$TMP/server.key" -out "$TMP/server.csr" \
    -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$TMP/san.ext"
openssl x509 -req -in "$TMP/server.csr" -CA "$TMP/pg-ca.crt" -CAkey "$TMP/pg-ca.key" \
    -CAcreateserial -out "$TMP/server.crt" -days 2 -extfile "$TMP/san.ext" 2>/dev/null
install -m 600 ${PG_OWNER:+-o "$PG_OWNER"} "$TMP/server.key" "$PG_DIR/server.key"
install -m 644 ${PG_OWNER:+-o "$PG_OWNER"} "$TMP/server.crt" "$PG_DIR/server.crt"
pg_psql "ALTER SYSTEM SET ssl = on" >/dev/null
pg_psql "ALTER SYSTEM SET ssl_cert_file = '$PG_DIR/server.crt'" >/dev/null
pg_psql "ALTER SYSTEM SET ssl_key_file = '$PG_DIR/server.key'" >/dev/null
pg_psql "ALTER SYSTEM SET log_connections = on" >/dev/null
cat >"$PG_DATA/pg_hba.conf" <<'EOF'
local all all trust
hostssl all all 127.0.0.1/32 scram-sha-256
hostssl all all ::1/128 scram-sha-256
EOF
pg_ctl_run reload >/dev/null
ADMIN="host=$PG_DIR port=$PG_PORT user=csvpipe"
db_psql() { # db_psql DB SQL
    psql "$ADMIN dbname=$1" -X -q -t -A -v ON_ERROR_STOP=1 -c "$2"
}

# stage: the template's function environment, resolved against fresh stand-ins in STAGE.
# LambdaThroughputMBps (a parameter of the stack) at 1 KB/s: the 244 KB file needs about 4
# minutes of the 15, the big one (976 KB) more than 15, so it goes to an ECS task.
stage() {
    run python3 "$REHEARSAL" stage --template "$TEMPLATE" --out "$TMP/stage.json" \
        --param "ImageTag=$hash" --param LambdaThroughputMBps=0.001 \
        --pg-admin "$ADMIN" --pg-host localhost --pg-port "$PG_PORT"
    expect_rc "the template's environment resolved to local stand-ins" 0
    [ "$rc" -eq 0 ] || { sed 's/^/    /' "$TMP/err"; finish; exit 1; }
    echo "# template environment: $(json_get "$TMP/stage.json" 'sorted(j["environment"])')"
    echo "# stand-ins: $(json_get "$TMP/stage.json" '", ".join(k + "=" + v["name"] for k, v in sorted(j["standins"].items()))')"
    json_get "$TMP/stage.json" '"\n".join("# mapped: " + m for m in j["mapped"])'
}
st() { json_get "$TMP/stage.json" "$1"; }

# image_env PORT KIND [ARN CONTAINER] [NAME=VALUE...]: --env options for buildah run: the environment KIND
# (lambda: the function's and the Lambda service's; setup: the role set-up function's;
# task ARN CONTAINER: the container's of the task definition moto holds, plus what ECS adds)
# and moto's endpoint and credentials (the only settings AWS would not give).
image_env() {
    python3 - "$TMP/stage.json" "$@" <<'PY'
import json, os, sys
import boto3
stage, port, kind, extra = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4:]
region = os.environ["AWS_REGION"]
service = {k: v for k, v in stage["lambda_environment"].items()
           if k in ("AWS_REGION", "AWS_DEFAULT_REGION", "TZ", "LANG", "PATH")}
if kind == "lambda":
    env = dict(stage["lambda_environment"])
    env.update(stage["environment"])
elif kind == "setup":
    env = dict(service)
    env.update(stage["setup"]["environment"])
elif kind == "task":
    arn, container, extra = extra[0], extra[1], extra[2:]
    ecs = boto3.client("ecs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=region)
    td = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    c = next(c for c in td["containerDefinitions"] if c["name"] == container)
    # What ECS on Fargate adds to a container's environment (credentials aside).
    env = {"AWS_EXECUTION_ENV": "AWS_ECS_FARGATE", "AWS_DEFAULT_REGION": region, "PATH": service["PATH"]}
    env.update({e["name"]: e["value"] for e in c.get("environment", [])})
else:
    raise SystemExit(f"image_env: {kind}?")
if port:
    env["AWS_LAMBDA_RUNTIME_API"] = port
env.update({"AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
            "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
            "AWS_SESSION_TOKEN": "rehearsal"})
env.update(dict(e.split("=", 1) for e in extra))
for k, v in sorted(env.items()):
    print("--env")
    print(f"{k}={v}")
PY
}

# setup_roles: the stack's database role set-up (custom resource), as its function runs it
# but without the custom resource protocol (cli/pg_roles tests that): the image's db-setup
# with that function's environment.
setup_roles() {
    local envs=() cmd=()
    [ "$(st 'j["setup"] is not None')" = True ] || { fail "the template has no db-setup custom resource"; return; }
    mapfile -t envs < <(image_env "" setup)
    mapfile -t cmd < <(st '"\n".join(w for w in j["setup"]["command"] if w != "--lambda")')
    run timeout -k 10 120 buildah run --isolation=chroot "${envs[@]}" "$CTR" -- "${cmd[@]}"
    expect_rc "the database roles set up by the image's db-setup ($(st 'j["setup"]["function"]')'s environment)" 0
    [ "$rc" -eq 0 ] || sed 's/^/    /' "$TMP/err" | tail -5
}

# The proxy's certificate comes from a CA the image's bundle trusts (on AWS, Amazon's roots
# are in Debian's bundle); here the test's CA joins the container's copy of the bundle.
trust_test_ca() {
    local mnt bundle
    bundle=$(st 'j["environment"].get("PGSSLROOTCERT", "")')
    mnt=$(buildah mount "$CTR") || { fail "buildah mount"; return; }
    if [ -n "$bundle" ] && [ -f "$mnt$bundle" ]; then
        cat "$TMP/pg-ca.crt" >>"$mnt$bundle"
        pass "the test's CA added to the container's $bundle (the template's PGSSLROOTCERT)"
    else
        fail "the template's PGSSLROOTCERT ('$bundle') is not a file in the image"
    fi
    buildah umount "$CTR" >/dev/null
}

# image_invoke NAME -- EVENT...: the harness hands out the events; the image's ENTRYPOINT
# runs with the template's and the Lambda service's environment (plus moto's endpoint and
# credentials, and LD_DEBUG for the library check) and stops after the last one. Sets rc,
# REC (the harness's record), $TMP/NAME.stdout and $TMP/NAME.stderr.
image_invoke() {
    local name=$1
    shift 2
    REC="$TMP/$name.record.json"
    rm -f "$TMP/$name.port" "$REC"
    python3 "$HARNESS" --record "$REC" --port-file "$TMP/$name.port" --timeout 120 \
        --deadline-ms "$(($(st 'j["timeout_s"]') * 1000))" "$@" &
    local hpid=$!
    wait_file "$TMP/$name.port" 20 || fail "$name: the harness did not start"
    local envs=()
    # ECS through the recording proxy in front of moto; LD_DEBUG for the library check.
    mapfile -t envs < <(image_env "$(cat "$TMP/$name.port")" lambda LD_DEBUG=files \
        "AWS_ENDPOINT_URL_ECS=$PROXY_URL")
    run timeout -k 10 120 buildah run --isolation=chroot "${envs[@]}" "$CTR" -- \
        "${ENTRYPOINT[@]}" --max-invocations $#
    cp "$TMP/out" "$TMP/$name.stdout"
    cp "$TMP/err" "$TMP/$name.stderr"
    local hrc=0
    wait "$hpid" || hrc=$?
    expect_eq "$name: the harness exited 0" "$hrc" "0"
}
rec() { json_get "$REC" "$1"; }

# libraries_found NAME: every library the process looked for (LD_DEBUG=files: "needed by"
# or "dynamically loaded by") was found in the image ("generating link map").
libraries_found() {
    python3 - "$TMP/$1.stderr" <<'PY'
import re, sys
wanted, found = {}, set()
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"file=(\S+) \[\d+\];\s+(needed by|dynamically loaded by|generating link map)", line)
    if m:
        if m.group(2) == "generating link map":
            found.add(m.group(1))
        else:
            wanted.setdefault(m.group(1), m.group(2))
missing = sorted(set(wanted) - found)
dl = sorted(k for k, v in wanted.items() if v.startswith("dynamically"))
print(f"{len(wanted)} {len(dl)} {' '.join(missing) or '-'} {' '.join(dl) or '-'}")
PY
}

# ---- case 1: a normal file, loaded by the Lambda ----
rehearse_normal() {
    local key="incoming/vendas/março 2024.csv" src="$TMP/source.csv"
    cp "$CP_SOURCE_DIR/examples/vendas.csv" "$src" # Windows-1252, ';', decimal comma
    local in_bucket
    in_bucket=$(st 'j["notifications"][0]["bucket"]')
    expect_eq "the template notifies the function of new objects, filtered to the key" \
        "$(python3 - "$TMP/stage.json" "$key" <<'PY'
import fnmatch, json, sys
n = json.load(open(sys.argv[1]))["notifications"][0]
key = sys.argv[2]
print(fnmatch.fnmatch("s3:ObjectCreated:Put", n["event"]) and key.startswith(n["prefix"]) and key.endswith(n["suffix"]))
PY
)" "True"
    python3 - "$in_bucket" "$key" "$src" "$TMP/event.json" <<'PY'
import json, os, sys, urllib.parse
import boto3
bucket, key, path, out = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
put = s3.put_object(Bucket=bucket, Key=key, Body=open(path, "rb").read())
obj = {"key": urllib.parse.quote_plus(key, safe="/"), "size": os.path.getsize(path),
       "eTag": put["ETag"].strip('"'), "sequencer": "0065E1F0A1B2C3D4E5"}
if put.get("VersionId"):
    obj["versionId"] = put["VersionId"]
event = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": os.environ["AWS_REGION"],
                      "eventTime": "2024-03-01T12:00:00.000Z", "eventName": "ObjectCreated:Put",
                      "userIdentity": {"principalId": "AWS:REHEARSAL"},
                      "s3": {"s3SchemaVersion": "1.0", "configurationId": "rehearsal",
                             "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"}, "object": obj}}]}
json.dump(event, open(out, "w"))
PY
    echo "# event key: $(json_get "$TMP/event.json" 'j["Records"][0]["s3"]["object"]["key"]')"

    image_invoke normal -- "$TMP/event.json"
    expect_rc "normal: the image's entrypoint exits after the invocation" 0
    [ "$rc" -eq 0 ] || sed 's/^/    stdout: /' "$TMP/normal.stdout" | grep -v '^\s*[0-9]*:' | head -20
    expect_eq "normal: no init error, no protocol error" \
        "$(rec '(j["init_error"], j["protocol_errors"], j["extra_next"], j["timed_out"])')" "(None, [], 0, False)"
    expect_eq "normal: the invocation answered: loaded into dataset vendas" \
        "$(rec '[(i["outcome"], [(f["status"], f["dataset"], f["rows"]) for f in i["body"]["files"]]) for i in j["invocations"]]' 2>&1)" \
        "[('response', [('loaded', 'vendas', 3000)])]"
    rec 'json.dumps(j["invocations"][0]["body"]["files"][0])' >"$TMP/summary.json" 2>/dev/null || echo '{}' >"$TMP/summary.json"
    expect_eq "normal: one EMF record of the load on stdout" \
        "$(python3 - "$TMP/normal.stdout" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    try:
        l = json.loads(line)
    except ValueError:
        continue
    if isinstance(l, dict) and "_aws" in l and l.get("dataset") == "vendas" and l.get("FilesLoaded") == 1 \
            and l.get("RowsLoaded") == 3000 and l.get("RowsRejected") == 0:
        n += 1
print(n)
PY
)" "1"
    read -r nlibs ndl missing dl < <(libraries_found normal)
    expect_eq "normal: every library of the $nlibs the process looked for is in the image" "$missing" "-"
    echo "# libraries loaded at run time (dlopen): $dl ($ndl)"

    # Parquet and NDJSON: in a stand-in bucket other than the input, under the dataset's folder.
    python3 - "$TMP/stage.json" "$in_bucket" >"$TMP/outputs.txt" <<'PY'
import json, os, sys
import boto3
stage, in_bucket = json.load(open(sys.argv[1])), sys.argv[2]
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
for v in stage["standins"].values():
    if v["type"] == "AWS::S3::Bucket":
        for o in s3.list_objects_v2(Bucket=v["name"]).get("Contents", []):
            print(f"{v['name']}\t{o['Key']}")
PY
    expect_eq "normal: the input bucket holds the upload only" \
        "$(awk -F'\t' -v b="$in_bucket" '$1 == b {print $2}' "$TMP/outputs.txt")" "$key"
    expect_eq "normal: the output bucket holds the Parquet and the NDJSON under vendas/" \
        "$(awk -F'\t' -v b="$in_bucket" '$1 != b {print $2}' "$TMP/outputs.txt" | sort | tr '\n' ' ')" \
        "json/vendas/março 2024.jsonl parquet/vendas/março 2024.parquet "
    local out_bucket f
    out_bucket=$(awk -F'\t' -v b="$in_bucket" '$1 != b {print $1; exit}' "$TMP/outputs.txt")
    : >"$TMP/out.parquet"
    : >"$TMP/out.jsonl"
    : >"$TMP/pq.ndjson"
    for f in "parquet/vendas/março 2024.parquet" "json/vendas/março 2024.jsonl"; do
        if grep -qxF "$out_bucket"$'\t'"$f" "$TMP/outputs.txt"; then
            python3 "$AWS_PY" get "$out_bucket" "$f" "$TMP/out.${f##*.}"
        fi
    done
    [ -s "$TMP/out.parquet" ] && read_parquet "$TMP/out.parquet" >"$TMP/pq.ndjson"

    # Items: in the stand-in tables, from this object only.
    : >"$TMP/items.ndjson"
    for t in $(st '" ".join(v["name"] for v in j["standins"].values() if v["type"] == "AWS::DynamoDB::Table")'); do
        python3 "$AWS_PY" ddb-scan "$t" "$TMP/items.$t.ndjson"
        cat "$TMP/items.$t.ndjson" >>"$TMP/items.ndjson"
    done
    local nitems
    nitems=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["_source"]["S"] == sys.argv[2]))' \
        "$TMP/items.ndjson" "s3://$in_bucket/$key")
    expect_eq "normal: 3000 items in DynamoDB, all from the upload" "$nitems" "3000"
    if [ "$nitems" != 3000 ]; then # which rows, and whether a Scan missed them or moto lost them
        for t in $(st '" ".join(v["name"] for v in j["standins"].values() if v["type"] == "AWS::DynamoDB::Table")'); do
            python3 "$AWS_PY" ddb-missing "$t" vendas "s3://$in_bucket/$key" 3000 2>&1 | sed "s/^/    $t: /"
        done
    fi
    check_load --csv "$src" --types "$SALES_TYPES" --encoding cp1252 --delimiter ';' --decimal , --date-order dmy \
        --summary "$TMP/summary.json" --parquet-rows "$TMP/pq.ndjson" --ndjson "$TMP/out.jsonl" \
        --ddb-items "$TMP/items.ndjson"

    # PostgreSQL: table vendas and the ledger, in the database the stack's secret names.
    local db="" d
    for d in $(st '" ".join(j["postgres"]["databases"])'); do
        if [ "$(db_psql "$d" "SELECT to_regclass('vendas') IS NOT NULL")" = t ]; then
            db=$d
        fi
    done
    if [ -n "$db" ]; then
        pass "normal: table vendas in database $db (the stack's DBName)"
    else
        fail "normal: no table vendas in the stack's databases ($(st 'j["postgres"]["databases"]'))"
        db=$(st 'j["postgres"]["databases"][0] if j["postgres"]["databases"] else "postgres"')
    fi
    local want
    want=$(python3 - "$src" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="cp1252", newline=""), delimiter=";"))[1:]
print(f"{len(rows)}|{sum(int(r[6]) for r in rows)}")
PY
)
    expect_eq "normal: rows in vendas and the sum of Quantidade" \
        "$(db_psql "$db" 'SELECT count(*), sum(quantidade) FROM vendas' 2>&1)" "$want"
    if python3 "$CP_SOURCE_DIR/tests/pg/check_pg.py" --pg "postgresql:///$db?host=$PG_DIR&port=$PG_PORT&user=csvpipe" \
        --csv "$src" --types "$SALES_TYPES" --encoding cp1252 --delimiter ';' --decimal , --date-order dmy \
        --summary "$TMP/summary.json" >"$TMP/pg.out" 2>&1; then
        pass "normal: PostgreSQL rows equal the source ($(grep -c '^ok' "$TMP/pg.out") checks)"
    else
        fail "normal: PostgreSQL rows differ from the source"
        grep -v '^ok' "$TMP/pg.out" | head | sed 's/^/    /'
    fi
    local master
    master=$(python3 - "$TMP/stage.json" <<'PY'
import json, os, sys
import boto3
stage = json.load(open(sys.argv[1]))
sm = boto3.client("secretsmanager", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
print(json.loads(sm.get_secret_value(SecretId=stage["environment"]["CSVPIPE_SQL_SECRET_ARN"])["SecretString"])["username"])
PY
)
    if grep -qE "connection authorized: user=$master database=$db .*SSL enabled" "$PG_LOG"; then
        pass "normal: the loader connected as the secret's user ($master) over TLS (PostgreSQL's log)"
    else
        fail "normal: no TLS connection of $master to $db in PostgreSQL's log"
        grep "connection authorized" "$PG_LOG" | tail -5 | sed 's/^/    /'
    fi
    expect_eq "normal: the ledger row" \
        "$(db_psql "$db" "SELECT status, dataset, source_uri, rows_loaded, rows_rejected, version IS NOT NULL, sequencer FROM csvpipe_loads" 2>&1)" \
        "loaded|vendas|s3://$in_bucket/$key|3000|0|$(json_get "$TMP/event.json" '"t" if "versionId" in j["Records"][0]["s3"]["object"] else "f"')|0065E1F0A1B2C3D4E5"
}

# ---- case 2: a file too big for the invocation, handed to an ECS task ----
rehearse_big() {
    local key="incoming/vendas/ano 2024.csv" src="$TMP/big.csv" in_bucket
    in_bucket=$(st 'j["notifications"][0]["bucket"]')
    # vendas.csv's rows four times: 12000 rows, 976 KB (976 s at 1 KB/s), Windows-1252 ';'.
    python3 - "$CP_SOURCE_DIR/examples/vendas.csv" "$src" <<'PY'
import sys
lines = open(sys.argv[1], "rb").read().splitlines(keepends=True)
open(sys.argv[2], "wb").write(b"".join(lines[:1] + lines[1:] * 4))
PY
    python3 - "$in_bucket" "$key" "$src" "$TMP/big-event.json" <<'PY'
import json, os, sys, urllib.parse
import boto3
bucket, key, path, out = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
put = s3.put_object(Bucket=bucket, Key=key, Body=open(path, "rb").read())
obj = {"key": urllib.parse.quote_plus(key, safe="/"), "size": os.path.getsize(path),
       "eTag": put["ETag"].strip('"'), "sequencer": "0065E1F0A1B2C3D4F6"}
if put.get("VersionId"):
    obj["versionId"] = put["VersionId"]
event = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": os.environ["AWS_REGION"],
                      "eventTime": "2024-12-31T12:00:00.000Z", "eventName": "ObjectCreated:Put",
                      "userIdentity": {"principalId": "AWS:REHEARSAL"},
                      "s3": {"s3SchemaVersion": "1.0", "configurationId": "rehearsal",
                             "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"}, "object": obj}}]}
json.dump(event, open(out, "w"))
PY
    local size
    size=$(stat -c %s "$src")

    image_invoke big -- "$TMP/big-event.json"
    expect_rc "big: the image's entrypoint exits after the invocation" 0
    [ "$rc" -eq 0 ] || sed 's/^/    stdout: /' "$TMP/big.stdout" | grep -v '^\s*[0-9]*:' | head -20
    expect_eq "big: answered handed_off, dataset vendas, with an ECS task" \
        "$(rec '[(f["status"], f["dataset"], f.get("outputs", {}).get("ecs_task", "").startswith("arn:aws:ecs:")) for i in j["invocations"] for f in i["body"]["files"]]' 2>&1)" \
        "[('handed_off', 'vendas', True)]"
    local task
    task=$(rec 'j["invocations"][0]["body"]["files"][0]["outputs"]["ecs_task"]' 2>/dev/null || true)
    if [ -z "$task" ]; then
        rec 'json.dumps(j["invocations"])' | cut -c1-2000 | sed 's/^/    answer: /'
        grep -v '^\s*[0-9]*:' "$TMP/big.stdout" | tail -5 | sed 's/^/    stdout: /'
        grep -h -B2 -A12 'Traceback' "$TMP"/moto*.log 2>/dev/null | tail -20 | sed 's/^/    moto: /'
        finish
        exit 1
    fi

    # The RunTask request, whole, against what the template says.
    python3 - "$TMP/ecs.jsonl" "$TMP/stage.json" "s3://$in_bucket/$key" >"$TMP/runtask.txt" <<'PY'
import json, sys
rec, stage, uri = [json.loads(l) for l in open(sys.argv[1])], json.load(open(sys.argv[2])), sys.argv[3]
runs = [r for r in rec if r["target"].endswith(".RunTask")]
print(len(runs))
r = runs[0]
b = json.loads(r["body"])
b.pop("clientToken", None)
print(r["method"], r["signed"], r["status"])
print(json.dumps(b, sort_keys=True))
by_type = lambda t: {v["ref"] for v in stage["standins"].values() if v["type"] == t}
tds = list(stage["task_definitions"].values())
env = stage["environment"]
net = b.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
print(b.get("cluster") in by_type("AWS::ECS::Cluster") and b.get("cluster") == env.get("CSVPIPE_ECS_CLUSTER"))
print(len(tds) == 1 and b.get("taskDefinition") == tds[0]["arn"])
# The private subnets are the function's own (its VpcConfig); the groups, stand-ins
print(net.get("subnets") == stage["vpc"]["subnets"],
      bool(net.get("securityGroups")) and set(net["securityGroups"]) <= by_type("AWS::EC2::SecurityGroup"),
      net.get("assignPublicIp"))
co = b.get("overrides", {}).get("containerOverrides", [{}])
print(len(co) == 1 and len(tds) == 1 and co[0].get("name") in [c["name"] for c in tds[0]["containers"]])
print(json.dumps(co[0].get("command")))
# the lake's settings of the template, passed on as the Lambda reads them
lake = [a for k, flag in (("CSVPIPE_PARTITION_BY", "--partition-by"), ("CSVPIPE_CATALOG", "--catalog"))
        if env.get(k) for a in (flag, env[k])]
print(json.dumps(["run", "--handed-off", "--json", "--quiet", "--table", "vendas", "--formats", "parquet,json",
                  "--compression", "snappy", "--json-style", "plain", *lake, uri]))
print(b.get("launchType"), b.get("count"), b.get("startedBy"))
print(co[0].get("name"))
PY
    sed 's/^/# RunTask: /' "$TMP/runtask.txt" | sed -n 3p
    expect_eq "big: one RunTask to ECS through AWS_ENDPOINT_URL_ECS" "$(sed -n 1p "$TMP/runtask.txt")" "1"
    expect_eq "big: RunTask POSTed, signed, answered 200 by moto" "$(sed -n 2p "$TMP/runtask.txt")" "POST True 200"
    expect_eq "big: RunTask's cluster is the template's cluster" "$(sed -n 4p "$TMP/runtask.txt")" "True"
    expect_eq "big: RunTask's task definition is the template's" "$(sed -n 5p "$TMP/runtask.txt")" "True"
    expect_eq "big: RunTask's network: the function's private subnets, the template's security group, no public IP" \
        "$(sed -n 6p "$TMP/runtask.txt")" "True True DISABLED"
    expect_eq "big: RunTask overrides the task definition's container" "$(sed -n 7p "$TMP/runtask.txt")" "True"
    expect_eq "big: RunTask's command: run --handed-off with the Lambda's settings and the object" \
        "$(sed -n 8p "$TMP/runtask.txt")" "$(sed -n 9p "$TMP/runtask.txt")"
    expect_eq "big: Fargate, one task, started by csvpipe-lambda" "$(sed -n 10p "$TMP/runtask.txt")" "FARGATE 1 csvpipe-lambda"
    expect_eq "big: moto's ECS holds the task answered" \
        "$(python3 -c 'import boto3,json,os,sys
ecs = boto3.client("ecs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
ts = ecs.describe_tasks(cluster=sys.argv[1], tasks=[sys.argv[2]])["tasks"]
print([(t["taskArn"] == sys.argv[2], t["overrides"]["containerOverrides"][0]["command"][:2]) for t in ts])' \
            "$(st 'j["environment"]["CSVPIPE_ECS_CLUSTER"]')" "$task" 2>&1)" "[(True, ['run', '--handed-off'])]"
    local db
    db=$(st 'j["postgres"]["databases"][0] if j["postgres"]["databases"] else "postgres"')
    expect_eq "big: the ledger's handed_off row: the task, the version, the event's sequencer, the size" \
        "$(db_psql "$db" "SELECT status, dataset, outputs::json->>'ecs_task' = '$task', version IS NOT NULL, sequencer, size_bytes FROM csvpipe_loads WHERE source_uri = 's3://$in_bucket/$key' ORDER BY id" 2>&1)" \
        "handed_off|vendas|t|t|0065E1F0A1B2C3D4F6|$size"
    expect_eq "big: no EMF record of a load in the Lambda (the task's load has it)" \
        "$(grep -c '"_aws".*"FilesLoaded":1' "$TMP/big.stdout")" "0"

    # The task, as ECS on Fargate runs it: the image with the task definition's entry point
    # and environment (moto's copy, registered from the template), RunTask's command, and a
    # task metadata endpoint naming the task.
    local container td_arn envs=() words=() entry=()
    container=$(sed -n 11p "$TMP/runtask.txt")
    td_arn=$(st 'next(iter(j["task_definitions"].values()))["arn"]')
    printf '{"Cluster":"%s","TaskARN":"%s","Family":"%s"}' "$(st 'j["environment"]["CSVPIPE_ECS_CLUSTER"]')" \
        "$task" "$(st 'next(iter(j["task_definitions"].values()))["family"]')" >"$TMP/task.json"
    rm -f "$TMP/meta.port"
    bg_start meta python3 "$CP_SOURCE_DIR/tests/aws/capture_server.py" --port-file "$TMP/meta.port" \
        --record "$TMP/meta.jsonl" --json-get "/v4/rehearsal/task=$TMP/task.json" --lifetime 600
    wait_file "$TMP/meta.port" 20 || fail "big: the task metadata stand-in did not start"
    mapfile -t envs < <(image_env "" task "$td_arn" "$container" \
        "ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:$(cat "$TMP/meta.port")/v4/rehearsal")
    mapfile -t entry < <(python3 -c 'import boto3,os,sys
ecs = boto3.client("ecs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
c = next(c for c in ecs.describe_task_definition(taskDefinition=sys.argv[1])["taskDefinition"]["containerDefinitions"] if c["name"] == sys.argv[2])
print("\n".join(c.get("entryPoint", [])))' "$td_arn" "$container")
    mapfile -t words < <(python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])))' "$(sed -n 8p "$TMP/runtask.txt")")
    echo "# task: ${entry[*]} ${words[*]}"
    run timeout -k 10 300 buildah run --isolation=chroot "${envs[@]}" "$CTR" -- "${entry[@]}" "${words[@]}"
    expect_rc "big: the task's command in the image exits 0" 0
    [ "$rc" -eq 0 ] || sed 's/^/    /' "$TMP/err" | tail -10
    expect_eq "big: the task loaded the file: 12000 rows into vendas" \
        "$(python3 -c 'import json,sys
for line in open(sys.argv[1]):
    try:
        j = json.loads(line)
    except ValueError:
        continue
    if isinstance(j, dict) and "source_uri" in j:
        print(j["status"], j["dataset"], j["rows"], j["source_uri"] == sys.argv[2])' "$TMP/out" "s3://$in_bucket/$key")" \
        "loaded vendas 12000 True"
    expect_eq "big: the task asked the metadata endpoint who it is" \
        "$(grep -c '"path": "/v4/rehearsal/task"' "$TMP/meta.jsonl" 2>/dev/null)" "1"
    expect_eq "big: the task's EMF record on stdout" \
        "$(grep -c '"_aws".*"FilesLoaded":1.*' "$TMP/out") $(grep -o '"RowsLoaded":[0-9]*' "$TMP/out" | head -1)" \
        '1 "RowsLoaded":12000'
    local want
    want=$(python3 - "$src" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="cp1252", newline=""), delimiter=";"))[1:]
print(f"{len(rows)}|{sum(int(r[6]) for r in rows)}")
PY
)
    expect_eq "big: rows in vendas from the file and the sum of Quantidade" \
        "$(db_psql "$db" "SELECT count(*), sum(quantidade) FROM vendas WHERE _source = 's3://$in_bucket/$key'" 2>&1)" "$want"
    expect_eq "big: the ledger: handed_off, then loaded by the task with the hand-off's version and the event's sequencer" \
        "$(db_psql "$db" "SELECT string_agg(status, ' ' ORDER BY id), count(DISTINCT version), max(sequencer) FROM csvpipe_loads WHERE source_uri = 's3://$in_bucket/$key'" 2>&1)" \
        "handed_off loaded|1|0065E1F0A1B2C3D4F6"
    python3 - "$TMP/stage.json" "$in_bucket" >"$TMP/outputs.txt" <<'PY'
import json, os, sys
import boto3
stage, in_bucket = json.load(open(sys.argv[1])), sys.argv[2]
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
for v in stage["standins"].values():
    if v["type"] == "AWS::S3::Bucket" and v["name"] != in_bucket:
        for o in s3.list_objects_v2(Bucket=v["name"]).get("Contents", []):
            print(o["Key"])
PY
    expect_eq "big: the task's Parquet and NDJSON under vendas/ in the output bucket" \
        "$(grep 'ano 2024' "$TMP/outputs.txt" | sort | tr '\n' ' ')" \
        "json/vendas/ano 2024.jsonl parquet/vendas/ano 2024.parquet "
    local t n=0
    for t in $(st '" ".join(v["name"] for v in j["standins"].values() if v["type"] == "AWS::DynamoDB::Table")'); do
        python3 "$AWS_PY" ddb-scan "$t" "$TMP/big-items.$t.ndjson"
        n=$((n + $(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["_source"]["S"] == sys.argv[2]))' \
            "$TMP/big-items.$t.ndjson" "s3://$in_bucket/$key")))
    done
    expect_eq "big: the task's items in DynamoDB" "$n" "12000"
}

stage
trust_test_ca
setup_roles
rehearse_normal
rehearse_big
finish
