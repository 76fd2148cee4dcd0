# moto.bash - a moto server for the AWS tests (source after tests/cli/lib.bash).
#
# moto_start: starts moto's server (tests/aws/moto_server.py: moto_server with DynamoDB's
#   actions one at a time, see there) on a free loopback port (readiness wait bounded to 30 s),
#   exports AWS_ENDPOINT_URL, AWS_REGION and fake credentials, and isolates the test from
#   the user's AWS configuration (no shared file, no instance metadata).
# moto_enable_auth: creates an IAM user with an allow-all policy and an access key in moto,
#   exports that key, then switches moto's signature and IAM checking on for every later
#   request (POST /moto-api/reset-auth 0, the same as INITIAL_NO_AUTH_ACTION_COUNT=0).
# bg_start NAME CMD...: a background helper killed at exit (its pid in BG_PIDS).
# Everything started here is killed when the script exits.

MOTO_PIDS=()

aws_cleanup() {
    local pid
    for pid in "${MOTO_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${MOTO_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap aws_cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL SECONDS: until URL answers anything.
wait_http() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        if curl -s -o /dev/null --max-time 1 "$1"; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

bg_start() {
    local name=$1
    shift
    "$@" >"$TMP/$name.log" 2>&1 &
    MOTO_PIDS+=($!)
}

# expect_get RC_LABEL BYTES_LABEL MD5 ARGS...: "$AWS_TOOL" ARGS... exits 0 and its output
#   ($TMP/out) has md5sum MD5.
expect_get() {
    local rc_label=$1 bytes_label=$2 want=$3
    shift 3
    run "$AWS_TOOL" "$@"
    expect_rc "$rc_label" 0
    expect_eq "$bytes_label" "$(md5sum <"$TMP/out" | cut -d' ' -f1)" "$want"
}

moto_start() {
    MOTO_PORT=$(free_port)
    bg_start moto env -u INITIAL_NO_AUTH_ACTION_COUNT python3 "$CP_SOURCE_DIR/tests/aws/moto_server.py" \
        -H 127.0.0.1 -p "$MOTO_PORT"
    if ! wait_http "http://127.0.0.1:$MOTO_PORT/moto-api/data.json" 30; then
        echo "moto_server did not start:" >&2
        cat "$TMP/moto.log" >&2
        exit 1
    fi
    export MOTO_URL="http://127.0.0.1:$MOTO_PORT"
    export AWS_ENDPOINT_URL="$MOTO_URL"
    unset AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_SECRETS_MANAGER \
        AWS_ENDPOINT_URL_ECS AWS_ENDPOINT_URL_GLUE
    export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
    unset AWS_SESSION_TOKEN AWS_PROFILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
        AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN
    export AWS_SHARED_CREDENTIALS_FILE="$TMP/no-credentials" AWS_CONFIG_FILE="$TMP/no-config"
    export AWS_EC2_METADATA_DISABLED=true
}

moto_enable_auth() {
    local keys
    keys=$(python3 - <<'PY'
import boto3, json, os, urllib.request
ep = os.environ["MOTO_URL"]
iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1")
iam.create_user(UserName="csvpipe-test")
iam.put_user_policy(UserName="csvpipe-test", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
k = iam.create_access_key(UserName="csvpipe-test")["AccessKey"]
req = urllib.request.Request(ep + "/moto-api/reset-auth", data=b"0", method="POST",
                             headers={"Content-Type": "text/plain"})
urllib.request.urlopen(req).read()
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
)
    read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY <<<"$keys"
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
}

AWS_TOOL="$CP_BUILD_DIR/tests/aws/aws_tool"
AWS_PY="$CP_SOURCE_DIR/tests/aws/awspy.py"

# wait_file FILE SECONDS: until FILE exists.
wait_file() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# proxy_start ARGS...: the fault proxy in front of moto; sets PROXY_URL and PROXY_STATS.
proxy_start() {
    PROXY_STATS="$TMP/proxy-stats.json"
    rm -f "$TMP/proxy.port" "$PROXY_STATS"
    bg_start proxy python3 "$CP_SOURCE_DIR/tests/aws/fault_proxy.py" --upstream "$MOTO_URL" \
        --port-file "$TMP/proxy.port" --stats "$PROXY_STATS" --lifetime 150 "$@"
    wait_file "$TMP/proxy.port" 20 || { cat "$TMP/proxy.log" >&2; exit 1; }
    PROXY_URL="http://127.0.0.1:$(cat "$TMP/proxy.port")"
}

# proxy_stat NAME: one count from the proxy's statistics (0 when none).
proxy_stat() {
    if [ -s "$PROXY_STATS" ]; then
        json_get "$PROXY_STATS" "j.get('$1', 0)"
    else
        echo 0
    fi
}

# moto_auth_off / moto_auth_on: moto's signature checking off and on again (moto itself
# fails signatures of keys that need percent-encoding, so such keys are tested without).
moto_auth() {
    python3 -c 'import os,sys,urllib.request
urllib.request.urlopen(urllib.request.Request(os.environ["MOTO_URL"] + "/moto-api/reset-auth", data=sys.argv[1].encode(), method="POST", headers={"Content-Type": "text/plain"})).read()' "$1"
}
