#!/usr/bin/env bash
# Issue 8, acceptance 3: moto's CloudFormation accepts the template (validate-template) and
# creates the stack for every resource type moto models. The types moto cannot model are
# listed (tests/deploy/moto_stack.py prints them, and the properties moto ignores), never
# skipped silently. moto_server runs on a free loopback port and is killed at exit.
source "$(dirname "$0")/lib.bash"
TEMPLATE="$CP_SOURCE_DIR/deploy/cloudformation/csvpipe.yaml"

for tool in moto_server aws; do
    command -v "$tool" >/dev/null 2>&1 || { fail "$tool is not installed (preinstalled with Python 3.11 here)"; finish; }
done

MOTO_PID=
stop_moto() {
    if [ -n "$MOTO_PID" ]; then
        kill "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap stop_moto EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
moto_server -H 127.0.0.1 -p "$PORT" >"$TMP/moto.log" 2>&1 &
MOTO_PID=$!
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_SESSION_TOKEN=testing AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
ready=0
for _ in $(seq 1 150); do # 30 s
    if python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1; then
        ready=1
        break
    fi
    kill -0 "$MOTO_PID" 2>/dev/null || break
    sleep 0.2
done
if [ "$ready" != 1 ]; then
    fail "moto_server did not answer on port $PORT within 30 s"
    sed 's/^/    moto: /' "$TMP/moto.log" | tail -20
    finish
fi
pass "moto_server on 127.0.0.1:$PORT"

# The YAML template as deploy.sh sends it.
run aws --endpoint-url "$AWS_ENDPOINT_URL" cloudformation validate-template \
    --template-body "file://$TEMPLATE" --output json
expect_rc "moto validate-template accepts the template" 0
expect_out "validate-template returns the description" '"Description": "csvpipe: event-driven CSV ingestion'

run timeout 300 python3 "$CP_SOURCE_DIR/tests/deploy/moto_stack.py"
cat "$TMP/out"
expect_rc "stack created in moto for every modeled resource type" 0
if [ "$rc" != 0 ]; then
    sed 's/^/    stderr: /' "$TMP/err" | tail -30
    grep -A5 Traceback "$TMP/moto.log" | sed 's/^/    moto: /' | tail -30
fi
finish
