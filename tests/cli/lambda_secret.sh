#!/usr/bin/env bash
# Issue 6 (Lambda): CSVPIPE_SQL_SECRET_ARN. At start, `csvpipe lambda` reads the RDS secret
# from Secrets Manager (moto, signatures checked) and connects with it; a database that
# cannot be reached or a missing secret is an init error, and the password never appears
# in what is reported or logged.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
source "$CP_SOURCE_DIR/tests/aws/lambda_lib.bash"
cd "$TMP"
moto_start
moto_enable_auth
printf '{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"in"}' >test_event.json

closed_port=$(free_port) # nothing listens there
python3 "$AWS_PY" secret csvpipe/rds \
    "{\"engine\":\"postgres\",\"username\":\"loader\",\"password\":\"s3cr'et-PW\",\"host\":\"127.0.0.1\",\"port\":$closed_port,\"dbname\":\"warehouse\"}"

no_password() { # NAME: neither the record nor csvpipe's output holds the password
    if grep -q "s3cr" "$REC" "$TMP/out" "$TMP/err"; then
        fail "$1: the password leaked"
    else
        pass "$1: no password in the report or the logs"
    fi
}

CSVPIPE_OUT=s3://out/prefix CSVPIPE_SQL_SECRET_ARN=csvpipe/rds lambda_invoke unreachable -- test_event.json
expect_rc "secret read, database unreachable: exit" 1
expect_eq "unreachable: init error" "$(rec 'j["init_error"]["error_type"]')" "Csvpipe.InitFailed"
expect_eq "unreachable: it tried the secret's host and port" \
    "$(rec '"cannot connect to PostgreSQL" in j["init_error"]["body"]["errorMessage"] and "'"$closed_port"'" in j["init_error"]["body"]["errorMessage"]')" "True"
no_password unreachable

CSVPIPE_OUT=s3://out/prefix CSVPIPE_SQL_SECRET_ARN=csvpipe/missing lambda_invoke missing -- test_event.json
expect_rc "missing secret: exit" 1
expect_eq "missing secret: init error" "$(rec 'j["init_error"]["error_type"]')" "Csvpipe.Configuration"
expect_eq "missing secret: names it" \
    "$(rec '"csvpipe/missing" in j["init_error"]["body"]["errorMessage"]')" "True"
expect_eq "missing secret: no event taken" "$(rec 'len(j["invocations"])')" "0"
finish
