#!/usr/bin/env bash
# Issue 12, acceptance 3 (database roles): `csvpipe db-setup`, as an RDS-like master user
# (CREATEROLE, CREATEDB, owner of the database, not a superuser) with the secrets in
# Secrets Manager (moto), over TLS verified against the server's CA (sslmode=verify-full,
# SCRAM passwords, plain TCP refused), sets up the loader, the read-only reader and
# Grafana's own role. Checked against the real PostgreSQL: the loader loads (and owns the
# tables a master-user load made before the roles existed); the reader SELECTs and cannot
# INSERT, UPDATE, DELETE, TRUNCATE, DROP, CREATE or make temporary tables, even after
# turning read-only off; Grafana's role owns its own database and cannot enter csvpipe's;
# a stranger role cannot connect; a second run rotates passwords. Then the same as the
# stack's custom resource (--lambda): Create answers SUCCESS to the presigned ResponseURL,
# a broken secret answers FAILED with the reason, Delete answers SUCCESS and changes nothing.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
source "$CP_SOURCE_DIR/tests/aws/lambda_lib.bash"
pg_start
pg_enable_tls
trap 'pg_cleanup; aws_cleanup' EXIT
cd "$TMP"
moto_start
moto_enable_auth

pg_psql "CREATE ROLE rdsmaster LOGIN CREATEROLE CREATEDB PASSWORD 'master-pw'"
pg_psql "CREATE DATABASE warehouse OWNER rdsmaster"
export PGSSLMODE=verify-full PGSSLROOTCERT="$PG_CA"
unset PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD

secret() { # NAME JSON
    python3 "$AWS_PY" secret "$1" "$2"
}
secret test/master "{\"engine\":\"postgres\",\"username\":\"rdsmaster\",\"password\":\"master-pw\",\"host\":\"localhost\",\"port\":$PG_PORT,\"dbname\":\"warehouse\"}"
secret test/loader '{"username":"csvpipe_loader","password":"loader-pw-1","dbname":"warehouse"}'
secret test/reader '{"username":"csvpipe_reader","password":"reader-pw","dbname":"warehouse"}'
secret test/grafana '{"username":"csvpipe_grafana","password":"grafana-pw","dbname":"grafana"}'
export CSVPIPE_SETUP_MASTER_SECRET_ARN=test/master CSVPIPE_SETUP_LOADER_SECRET_ARN=test/loader \
    CSVPIPE_SETUP_READER_SECRET_ARN=test/reader CSVPIPE_SETUP_GRAFANA_SECRET_ARN=test/grafana

# psql as the test superuser in csvpipe's database
wsql() {
    psql "postgresql://csvpipe@127.0.0.1:$PG_PORT/warehouse" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"
}

# psql as a role over verified TLS: as USER PASSWORD DB SQL (rc, out, err as for run)
as() {
    PGPASSWORD=$2 run psql "host=localhost port=$PG_PORT user=$1 dbname=$3" -X -q -t -A \
        -v ON_ERROR_STOP=1 -c "$4"
}

# Before the roles: a load as the master user (a deployment from before this change).
"$GEN_SALES" --rows 50 --seed 3 >old.csv
"$GEN_SALES" --rows 70 --seed 4 >sales.csv
PGPASSWORD=master-pw run "$CSVPIPE" run --json --no-nosql --formats none \
    --sql "postgresql://rdsmaster@localhost:$PG_PORT/warehouse" --table old old.csv
expect_rc "a load as the master user, before the roles exist" 0

run "$CSVPIPE" db-setup
expect_rc "db-setup" 0
expect_out "the loader role is created" "^role csvpipe_loader created"
expect_out "the master user's tables go to the loader" "^table csvpipe_loads now belongs to csvpipe_loader"
expect_out "the dataset's table goes to the loader" "^table old now belongs to csvpipe_loader"
expect_out "the Grafana database is created" "^database grafana created, owned by csvpipe_grafana"
expect_eq "no password in the report" "$(grep -c -- '-pw' "$TMP/out" || true)" "0"
expect_eq "passwords stored as SCRAM verifiers" \
    "$(pg_psql "SELECT count(*) FROM pg_authid WHERE rolname LIKE 'csvpipe\_%' AND rolpassword LIKE 'SCRAM-SHA-256\$%'")" "3"
expect_eq "the roles are plain logins (no superuser, createrole, createdb)" \
    "$(pg_psql "SELECT string_agg(rolname || ':' || (rolsuper OR rolcreaterole OR rolcreatedb OR NOT rolcanlogin), ' ' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'csvpipe\_%'")" \
    "csvpipe_grafana:false csvpipe_loader:false csvpipe_reader:false"

# The loader: its secret names no host; PGHOST/PGPORT give it (as the RDS Proxy endpoint does).
export PGHOST=localhost PGPORT=$PG_PORT
CSVPIPE_SQL_SECRET_ARN=test/loader run "$CSVPIPE" run --json --no-nosql --formats none sales.csv
expect_rc "the loader loads a new dataset (secret without host: PGHOST)" 0
expect_out "loaded" '"status":"loaded"'
CSVPIPE_SQL_SECRET_ARN=test/loader run "$CSVPIPE" run --json --no-nosql --formats none --table old sales.csv
expect_rc "the loader evolves and reloads the table the master user made" 0
expect_eq "tables owned by the loader" \
    "$(wsql "SELECT string_agg(tablename || ':' || tableowner, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")" \
    "csvpipe_columns:csvpipe_loader,csvpipe_loads:csvpipe_loader,old:csvpipe_loader,sales:csvpipe_loader"
expect_eq "the ledger's indexes, (dataset, finished_at) among them" \
    "$(wsql "SELECT string_agg(indexdef, ' | ' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'csvpipe_loads' AND indexname <> 'csvpipe_loads_pkey'")" \
    "CREATE INDEX csvpipe_loads_dataset_finished ON public.csvpipe_loads USING btree (dataset, finished_at) | CREATE INDEX csvpipe_loads_source_status ON public.csvpipe_loads USING btree (source_uri, status)"

# The reader: SELECT only.
as csvpipe_reader reader-pw warehouse "SELECT count(*) FROM sales"
expect_rc "reader: SELECT a loaded table" 0
expect_eq "reader sees the rows" "$(cat "$TMP/out")" "70"
as csvpipe_reader reader-pw warehouse "SELECT count(*) FROM csvpipe_loads WHERE status = 'loaded'"
expect_rc "reader: SELECT the ledger" 0
denied() { # NAME SQL: the reader's statement fails for lack of privilege
    as csvpipe_reader reader-pw warehouse "$2"
    expect_rc "reader cannot $1" 1
    expect_err "reader cannot $1: for lack of privilege" "permission denied|must be owner|read-only transaction"
}
for mode in "" "SET default_transaction_read_only = off; "; do
    denied "INSERT${mode:+ (read-only off)}" "${mode}INSERT INTO sales (_source, _row) VALUES ('x', 1)"
    denied "UPDATE${mode:+ (read-only off)}" "${mode}UPDATE sales SET _row = _row + 1000"
    denied "DELETE${mode:+ (read-only off)}" "${mode}DELETE FROM csvpipe_loads"
    denied "TRUNCATE${mode:+ (read-only off)}" "${mode}TRUNCATE sales"
    denied "DROP TABLE${mode:+ (read-only off)}" "${mode}DROP TABLE sales"
    denied "ALTER TABLE${mode:+ (read-only off)}" "${mode}ALTER TABLE sales ADD COLUMN x int"
    denied "CREATE TABLE${mode:+ (read-only off)}" "${mode}CREATE TABLE public.mine (x int)"
    denied "CREATE TEMP TABLE${mode:+ (read-only off)}" "${mode}CREATE TEMP TABLE mine (x int)"
done
denied "DROP the ledger" "SET default_transaction_read_only = off; DROP TABLE csvpipe_loads"
as csvpipe_reader reader-pw grafana "SELECT 1"
expect_rc "reader cannot connect to Grafana's database" 2
as csvpipe_reader wrong warehouse "SELECT 1"
expect_rc "reader with a wrong password is refused (SCRAM, not trust)" 2

# Grafana's own role: its database only.
as csvpipe_grafana grafana-pw grafana "CREATE TABLE dashboard_state (id int); INSERT INTO dashboard_state VALUES (1); SELECT count(*) FROM dashboard_state"
expect_rc "Grafana's role keeps its state in its database" 0
as csvpipe_grafana grafana-pw warehouse "SELECT 1"
expect_rc "Grafana's role cannot connect to csvpipe's database" 2
expect_err "refused for lack of CONNECT" "permission denied for database"
pg_psql "CREATE ROLE stranger LOGIN PASSWORD 'stranger-pw'"
as stranger stranger-pw warehouse "SELECT 1"
expect_rc "a role with no grant cannot connect (PUBLIC has nothing)" 2

# Loads after the roles: the reader sees the loader's new tables (default privileges).
"$GEN_SALES" --rows 9 --seed 5 >later.csv
CSVPIPE_SQL_SECRET_ARN=test/loader run "$CSVPIPE" run --json --no-nosql --formats none later.csv
expect_rc "the loader makes a new table" 0
as csvpipe_reader reader-pw warehouse "SELECT count(*) FROM later"
expect_rc "the reader reads the loader's new table" 0
expect_eq "the reader sees its rows" "$(cat "$TMP/out")" "9"

# TLS is verified: another CA, or none, is refused.
PGSSLROOTCERT="$PG_OTHER_CA" CSVPIPE_SQL_SECRET_ARN=test/loader run "$CSVPIPE" run --json --no-nosql --formats none later.csv
expect_rc "verify-full with the wrong CA fails" 1
expect_err "the certificate check is named" "certificate verify failed"
PGSSLMODE=disable CSVPIPE_SQL_SECRET_ARN=test/loader run "$CSVPIPE" run --json --no-nosql --formats none later.csv
expect_rc "without TLS the server refuses" 1

# A second run rotates the passwords from the secrets.
python3 - <<'PY'
import boto3, os
boto3.client("secretsmanager", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1").put_secret_value(
    SecretId="test/loader", SecretString='{"username":"csvpipe_loader","password":"loader-pw-2","dbname":"warehouse"}')
PY
unset PGHOST PGPORT
run "$CSVPIPE" db-setup
expect_rc "db-setup again" 0
expect_out "the loader exists: its password is set again" "^role csvpipe_loader exists: password set"
expect_out "the Grafana database is kept" "^database grafana exists, owned by csvpipe_grafana"
as csvpipe_loader loader-pw-1 warehouse "SELECT 1"
expect_rc "the old loader password no longer works" 2
as csvpipe_loader loader-pw-2 warehouse "SELECT count(*) FROM later"
expect_rc "the new one does" 0
expect_eq "with the data kept" "$(cat "$TMP/out")" "9"

# Bad settings.
secret test/bad-name '{"username":"Robert\"); DROP","password":"x"}'
CSVPIPE_SETUP_READER_SECRET_ARN=test/bad-name run "$CSVPIPE" db-setup
expect_rc "a role name that is not a plain identifier" 1
expect_err "it is refused before connecting" 'role name "Robert"\); DROP" is not usable'
secret test/same '{"username":"rdsmaster","password":"x"}'
CSVPIPE_SETUP_LOADER_SECRET_ARN=test/same run "$CSVPIPE" db-setup
expect_rc "the master user as the loader" 1
expect_err "is refused" "is the master user itself"
CSVPIPE_SETUP_READER_SECRET_ARN= run "$CSVPIPE" db-setup
expect_rc "a missing secret variable" 1
expect_err "names it" "CSVPIPE_SETUP_READER_SECRET_ARN is not set"

# As the custom resource behind the stack (--lambda), answering to a presigned URL.
rm -f "$TMP/cfn.port" "$TMP/cfn.jsonl"
bg_start cfn python3 "$CP_SOURCE_DIR/tests/aws/capture_server.py" --port-file "$TMP/cfn.port" \
    --record "$TMP/cfn.jsonl" --lifetime 120
wait_file "$TMP/cfn.port" 20 || { fail "capture server did not start"; finish; }
RESPONSE="http://127.0.0.1:$(cat "$TMP/cfn.port")/cloudformation-response?X-Amz-Signature=abc"
cfn_event() { # FILE TYPE
    printf '{"RequestType":"%s","ServiceToken":"arn:aws:lambda:us-east-1:123456789012:function:setup","ResponseURL":"%s","StackId":"arn:aws:cloudformation:us-east-1:123456789012:stack/cp/1","RequestId":"req-%s","LogicalResourceId":"DatabaseRoles","ResourceType":"Custom::DatabaseRoles","ResourceProperties":{"Version":"1"}%s}' \
        "$2" "$RESPONSE" "$2" "$([ "$2" = Create ] || echo ',"PhysicalResourceId":"DatabaseRoles-csvpipe-db-roles"')" >"$1"
}
cfn_event create.json Create
cfn_event update.json Update
cfn_event delete.json Delete
cfn_answer() { # N EXPR: a Python expression over answer N (0-based), `a` the body, `r` the request
    python3 -c 'import json,sys
rs=[json.loads(l) for l in open(sys.argv[1])]; r=rs[int(sys.argv[2])]; a=json.loads(r["body"])
print(eval(sys.argv[3]))' "$TMP/cfn.jsonl" "$1" "$2"
}
setup_lambda() { # NAME EVENTS...
    local name=$1
    shift
    REC="$TMP/$name.record.json"
    rm -f "$TMP/$name.port" "$REC"
    python3 "$HARNESS" --record "$REC" --port-file "$TMP/$name.port" --timeout 60 "$@" &
    local hpid=$!
    wait_file "$TMP/$name.port" 10
    AWS_LAMBDA_RUNTIME_API=$(cat "$TMP/$name.port") run timeout 60 "$CSVPIPE" db-setup --lambda \
        --max-invocations $#
    wait "$hpid" || fail "$name: the harness failed"
}
setup_lambda cr create.json update.json delete.json
expect_rc "db-setup --lambda: three requests" 0
expect_eq "three answers PUT to the ResponseURL" "$(wc -l <"$TMP/cfn.jsonl")" "3"
expect_eq "Create: SUCCESS, with the request's ids" \
    "$(cfn_answer 0 '(r["method"], r["path"].startswith("/cloudformation-response?"), a["Status"], a["RequestId"], a["LogicalResourceId"], a["StackId"].endswith("stack/cp/1"))')" \
    "('PUT', True, 'SUCCESS', 'req-Create', 'DatabaseRoles', True)"
expect_eq "the PUT has no content type (the URL was presigned without one)" \
    "$(cfn_answer 0 '"content-type" in r["headers"]')" "False"
expect_eq "Update keeps the physical id" \
    "$(cfn_answer 1 'a["Status"] + " " + a["PhysicalResourceId"]')" "SUCCESS DatabaseRoles-csvpipe-db-roles"
expect_eq "Delete: SUCCESS" "$(cfn_answer 2 'a["Status"] + " " + a["Reason"][:6]')" "SUCCESS Delete"
expect_eq "Lambda got a response for each" "$(rec '[i["outcome"] for i in j["invocations"]]')" \
    "['response', 'response', 'response']"
expect_eq "the roles survive the Delete" \
    "$(pg_psql "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'csvpipe\_%'")" "3"
CSVPIPE_SETUP_MASTER_SECRET_ARN=test/missing setup_lambda cr-fail create.json
expect_rc "a failing Create still ends the invocation" 0
expect_eq "Create with a missing master secret: FAILED with the reason" \
    "$(cfn_answer 3 'a["Status"] + " " + str("test/missing" in a["Reason"])')" "FAILED True"
expect_eq "no password in any answer" "$(grep -c -- '-pw' "$TMP/cfn.jsonl" || true)" "0"
finish
