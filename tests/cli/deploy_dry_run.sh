#!/usr/bin/env bash
# Issue 8, acceptance 5: deploy/deploy.sh --dry-run prints the full command sequence of a
# first deploy and runs nothing; without --dry-run (against recording stand-ins for aws and
# docker) it runs that same sequence, skipping the bootstrap deploy when the stack exists.
source "$(dirname "$0")/lib.bash"
DEPLOY="$CP_SOURCE_DIR/deploy/deploy.sh"
TEMPLATE="$CP_SOURCE_DIR/deploy/cloudformation/csvpipe.yaml"

# Stand-ins that record every call; the dry run must make none.
mkdir -p "$TMP/bin"
cat >"$TMP/bin/aws" <<'SH'
#!/usr/bin/env bash
echo "aws $*" >>"$FAKE_CALLS"
case "$*" in
"sts get-caller-identity"*) echo 111122223333 ;;
"cloudformation describe-stacks"*"--query"*) echo "Outputs" ;;
"cloudformation describe-stacks"*) [ -f "$FAKE_STACK" ] || { echo "Stack does not exist" >&2; exit 254; } ;;
"ecr get-login-password"*) echo secret-token ;;
esac
exit 0
SH
cat >"$TMP/bin/docker" <<'SH'
#!/usr/bin/env bash
if [ "$1" = login ]; then read -r pw; echo "docker $* <<<$pw" >>"$FAKE_CALLS"; else echo "docker $*" >>"$FAKE_CALLS"; fi
exit 0
SH
chmod +x "$TMP/bin/aws" "$TMP/bin/docker"
export PATH="$TMP/bin:$PATH" FAKE_CALLS="$TMP/calls" FAKE_STACK="$TMP/stack-exists"
: >"$FAKE_CALLS"

R=eu-west-1
A=111122223333
T=abc123
REG="$A.dkr.ecr.$R.amazonaws.com"
DEPLOY_ARGS="--region $R --stack-name csvpipe-prod --template-file deploy/cloudformation/csvpipe.yaml --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset --parameter-overrides Name=csvpipe"
expected_images() {
    cat <<EOT
docker build --platform linux/amd64 --provenance=false -f Dockerfile -t csvpipe-lambda:$T .
docker tag csvpipe-lambda:$T $REG/csvpipe-lambda:$T
docker push $REG/csvpipe-lambda:$T
docker build --platform linux/amd64 --provenance=false -f deploy/grafana/Dockerfile -t csvpipe-grafana:$T deploy/grafana
docker tag csvpipe-grafana:$T $REG/csvpipe-grafana:$T
docker push $REG/csvpipe-grafana:$T
aws cloudformation deploy $DEPLOY_ARGS ImageTag=$T LambdaMemory=1024 GrafanaMaxTasks=6
EOT
}

# ---- dry run
run "$DEPLOY" --dry-run --region $R --account $A --tag $T --stack csvpipe-prod \
    --param LambdaMemory=1024 --param GrafanaMaxTasks=6
expect_rc "dry run" 0
grep -v '^#' "$TMP/out" >"$TMP/printed"
{
    echo "aws sts get-caller-identity --query Account --output text"
    echo "aws cloudformation describe-stacks --region $R --stack-name csvpipe-prod"
    echo "aws cloudformation deploy $DEPLOY_ARGS ImageTag= LambdaMemory=1024 GrafanaMaxTasks=6"
    echo "aws ecr get-login-password --region $R | docker login --username AWS --password-stdin $REG"
    expected_images
    echo "aws cloudformation describe-stacks --region $R --stack-name csvpipe-prod --query Stacks\[0\].Outputs\[\].\[OutputKey\,OutputValue\] --output table"
} >"$TMP/want"
if diff -u "$TMP/want" "$TMP/printed" >"$TMP/diff"; then
    pass "dry run prints: caller identity, stack check, bootstrap deploy, ECR login, build/tag/push of both images, deploy with ImageTag, outputs"
else
    fail "dry run command sequence"
    sed 's/^/    /' "$TMP/diff"
fi
expect_eq "dry run executes nothing" "$(wc -l <"$FAKE_CALLS" | tr -d ' ')" "0"
# Every printed shell word parses back (printf %q quoting), and the stack parameters it sets exist.
run bash -n "$TMP/printed"
expect_rc "printed commands are valid shell" 0
for p in Name ImageTag LambdaMemory GrafanaMaxTasks; do
    if grep -q "^  $p:" "$TEMPLATE"; then pass "template has parameter $p"; else fail "template lacks parameter $p"; fi
done
run "$DEPLOY" --dry-run
expect_rc "dry run with defaults (no account, no region)" 0
expect_out "account placeholder when not given" "ACCOUNT\.dkr\.ecr\.us-east-1\.amazonaws\.com/csvpipe-lambda:"

# ---- real run, first deploy (no stack yet): the same sequence, executed
run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod --param LambdaMemory=1024 --param GrafanaMaxTasks=6
expect_rc "first deploy against stand-ins" 0
{
    echo "aws sts get-caller-identity --query Account --output text"
    echo "aws cloudformation describe-stacks --region $R --stack-name csvpipe-prod"
    echo "aws cloudformation deploy $DEPLOY_ARGS ImageTag= LambdaMemory=1024 GrafanaMaxTasks=6"
    echo "aws ecr get-login-password --region $R"
    echo "docker login --username AWS --password-stdin $REG <<<secret-token"
    expected_images
    echo "aws cloudformation describe-stacks --region $R --stack-name csvpipe-prod --query Stacks[0].Outputs[].[OutputKey,OutputValue] --output table"
} >"$TMP/want"
if diff -u "$TMP/want" "$FAKE_CALLS" >"$TMP/diff"; then
    pass "first deploy runs the printed sequence (bootstrap, push, deploy)"
else
    fail "first deploy command sequence"
    sed 's/^/    /' "$TMP/diff"
fi

# ---- real run, update (the stack exists): no bootstrap deploy
touch "$FAKE_STACK"
: >"$FAKE_CALLS"
run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod --param LambdaMemory=1024 --param GrafanaMaxTasks=6
expect_rc "update against stand-ins" 0
expect_eq "update: one stack deploy, with the image tag" "$(grep -c 'cloudformation deploy' "$FAKE_CALLS")|$(grep -c "ImageTag=$T" "$FAKE_CALLS")" "1|1"
expect_eq "update: both images pushed" "$(grep -c '^docker push' "$FAKE_CALLS")" "2"

# ---- usage errors
run "$DEPLOY" --bogus
expect_rc "unknown option" 2
finish
