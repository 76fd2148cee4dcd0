#!/usr/bin/env bash
# Issue 6 (Lambda): starting `csvpipe lambda`. Without a Runtime API it is a usage error;
# a configuration that cannot work is reported with POST init/error (and the process
# exits) before any event is taken.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/aws/lambda_lib.bash"
cd "$TMP"
printf '{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"in"}' >test_event.json

run "$CSVPIPE" lambda --help
expect_rc "--help" 0
expect_out "--help lists the environment" "CSVPIPE_OUT"
run "$CSVPIPE" lambda --bogus
expect_rc "unknown option" 2
run "$CSVPIPE" lambda
expect_rc "no Runtime API" 2
expect_err "no Runtime API: says what is missing" "AWS_LAMBDA_RUNTIME_API is not set"
AWS_LAMBDA_RUNTIME_API="not a host" run "$CSVPIPE" lambda
expect_rc "a Runtime API that is not host:port" 2

# init_case NAME TYPE PATTERN: csvpipe (with the caller's environment) reports an init
# error of TYPE whose message matches PATTERN, takes no event and exits 1.
init_case() {
    lambda_invoke "$1" -- test_event.json
    expect_rc "$1: exit" 1
    expect_eq "$1: init error type" "$(rec 'j["init_error"]["error_type"]')" "$2"
    expect_eq "$1: documented body" "$(rec 'sorted(j["init_error"]["body"].keys())')" \
        "['errorMessage', 'errorType', 'stackTrace']"
    if rec 'j["init_error"]["body"]["errorMessage"]' | grep -Eq -- "$3"; then
        pass "$1: message says $3"
    else
        fail "$1: message '$(rec 'j["init_error"]["body"]["errorMessage"]')' lacks $3"
    fi
    expect_eq "$1: no event taken" "$(rec 'len(j["invocations"])')" "0"
    expect_eq "$1: a log line on stdout" "$(log_lines 'l["level"]=="error"' | wc -l)" "1"
}

init_case no_out Csvpipe.Configuration "CSVPIPE_OUT is not set"
CSVPIPE_OUT=s3://b/out CSVPIPE_FORMATS=orc init_case bad_formats Csvpipe.Configuration "CSVPIPE_FORMATS='orc'"
CSVPIPE_OUT=s3://b/out CSVPIPE_COMPRESSION=lz5 init_case bad_codec Csvpipe.Configuration "CSVPIPE_COMPRESSION"
CSVPIPE_OUT=s3://b/out CSVPIPE_SQL=sqlite:x.db CSVPIPE_SQL_SECRET_ARN=arn:aws:secretsmanager:us-east-1:1:secret:x \
    init_case both_sql Csvpipe.Configuration "only one"
CSVPIPE_OUT=s3://b/out CSVPIPE_FORMATS=none init_case nothing Csvpipe.Configuration "nothing to do"
CSVPIPE_OUT="$TMP/lout" CSVPIPE_SQL="nosuch:db" \
    init_case bad_db Csvpipe.InitFailed "pipeline could not start"

# A good configuration starts and answers (here: a test event).
CSVPIPE_OUT=s3://b/out lambda_invoke good -- test_event.json
expect_rc "good configuration" 0
expect_eq "good configuration: no init error" "$(rec 'j["init_error"]')" "None"
expect_eq "good configuration: answered" "$(rec 'j["invocations"][0]["outcome"]')" "response"
finish
