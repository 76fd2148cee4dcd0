#!/usr/bin/env bash
# Issue 8, acceptance 5: deploy/deploy.sh --dry-run prints the full command sequence of a
# first deploy and runs nothing; without --dry-run (against recording stand-ins for aws and
# docker) it runs that same sequence, skipping the bootstrap deploy when the stack exists.
# Issue 12: a first deploy without AllowedCidr or the HTTPS domain and certificate stops
# before calling anything; the account's Lambda concurrency is read and warned about; a
# stack in ROLLBACK_COMPLETE is deleted and created again (or, with retained leftovers,
# deploy.sh says what to delete); a busy stack stops it; an image tag already pushed is
# not pushed again (immutable tags).
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
"cloudformation describe-stacks"*"StackStatus"*)
    [ -f "$FAKE_STACK" ] || { echo "Stack does not exist" >&2; exit 254; }
    cat "$FAKE_STACK" ;;
"cloudformation describe-stacks"*"--query"*) echo "Outputs" ;;
"cloudformation delete-stack"*) rm -f "$FAKE_STACK" ;;
"cloudformation describe-stack-events"*) echo "Database	Invalid master password" ;;
"lambda get-account-settings"*) echo "${FAKE_CONCURRENCY:-1000 1000}" ;;
"ecr describe-images"*) [ -f "$TMP/image-$(echo "$*" | sed 's/.*--repository-name \([^ ]*\).*/\1/')" ] || exit 254; echo sha256:1 ;;
"secretsmanager describe-secret"*|"dynamodb describe-table"*) [ -f "$FAKE_LEFTOVER" ] || exit 254 ;;
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
export PATH="$TMP/bin:$PATH" FAKE_CALLS="$TMP/calls" FAKE_STACK="$TMP/stack-status" TMP
export FAKE_LEFTOVER="$TMP/leftover"
: >"$FAKE_CALLS"

R=eu-west-1
A=111122223333
T=abc123
REG="$A.dkr.ecr.$R.amazonaws.com"
# The commit the Lambda image is built with (csvpipe version in it), as deploy.sh finds it.
COMMIT=$(cd "$CP_SOURCE_DIR" && git rev-parse --short=12 HEAD 2>/dev/null || true)
if [ -n "$COMMIT" ] && [ -n "$(cd "$CP_SOURCE_DIR" && git status --porcelain 2>/dev/null | grep -v '^??' || true)" ]; then
    COMMIT="$COMMIT-dirty"
fi
DEPLOY_ARGS="--region $R --stack-name csvpipe-prod --template-file deploy/cloudformation/csvpipe.yaml --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset --parameter-overrides Name=csvpipe"
HTTPS=(--param DomainName=grafana.example.com --param AllowedCidr=203.0.113.0/24
    --param CertificateArn=arn:aws:acm:eu-west-1:111122223333:certificate/abc)
P="DomainName=grafana.example.com AllowedCidr=203.0.113.0/24 CertificateArn=arn:aws:acm:eu-west-1:111122223333:certificate/abc"
# A command as the dry run prints it (shell-quoted) or, with RAW=1, as the stand-in records it.
cmd() {
    if [ "${RAW:-0}" = 1 ]; then echo "$*"; else printf '%q ' "$@" | sed 's/ $//'; echo; fi
}
STATUS() { cmd aws cloudformation describe-stacks --region $R --stack-name csvpipe-prod --query "Stacks[0].StackStatus" --output text; }
SETTINGS() { cmd aws lambda get-account-settings --region $R --query "AccountLimit.[ConcurrentExecutions,UnreservedConcurrentExecutions]" --output text; }
described() { # REPO
    cmd aws ecr describe-images --region $R --repository-name "csvpipe-$1" --image-ids "imageTag=$T" --query "imageDetails[0].imageDigest" --output text
}
expected_images() {
    cat <<EOT
$(described lambda)
docker build --platform linux/amd64 --provenance=false --build-arg CSVPIPE_GIT_HASH=$COMMIT -f Dockerfile -t csvpipe-lambda:$T .
docker tag csvpipe-lambda:$T $REG/csvpipe-lambda:$T
docker push $REG/csvpipe-lambda:$T
$(described grafana)
docker build --platform linux/amd64 --provenance=false -f deploy/grafana/Dockerfile -t csvpipe-grafana:$T deploy/grafana
docker tag csvpipe-grafana:$T $REG/csvpipe-grafana:$T
docker push $REG/csvpipe-grafana:$T
aws cloudformation deploy $DEPLOY_ARGS ImageTag=$T LambdaMemory=1024 GrafanaMaxTasks=6 $P
EOT
}

# ---- dry run
run "$DEPLOY" --dry-run --region $R --account $A --tag $T --stack csvpipe-prod \
    --param LambdaMemory=1024 --param GrafanaMaxTasks=6 "${HTTPS[@]}"
expect_rc "dry run" 0
grep -v '^#' "$TMP/out" >"$TMP/printed"
{
    echo "aws sts get-caller-identity --query Account --output text"
    STATUS
    SETTINGS
    echo "aws cloudformation deploy $DEPLOY_ARGS ImageTag= LambdaMemory=1024 GrafanaMaxTasks=6 $P"
    echo "aws ecr get-login-password --region $R | docker login --username AWS --password-stdin $REG"
    expected_images
    echo "aws cloudformation describe-stacks --region $R --stack-name csvpipe-prod --query Stacks\[0\].Outputs\[\].\[OutputKey\,OutputValue\] --output table"
} >"$TMP/want"
if diff -u "$TMP/want" "$TMP/printed" >"$TMP/diff"; then
    pass "dry run prints: caller identity, stack status, account concurrency, bootstrap deploy, ECR login, tag check and build/tag/push of both images, deploy with ImageTag, outputs"
else
    fail "dry run command sequence"
    sed 's/^/    /' "$TMP/diff"
fi
expect_eq "dry run executes nothing" "$(wc -l <"$FAKE_CALLS" | tr -d ' ')" "0"
# Every printed shell word parses back (printf %q quoting), and the stack parameters it sets exist.
run bash -n "$TMP/printed"
expect_rc "printed commands are valid shell" 0
for p in Name ImageTag LambdaMemory GrafanaMaxTasks DomainName AllowedCidr CertificateArn AllowPlainHttp LambdaReservedConcurrency; do
    if grep -q "^  $p:" "$TEMPLATE"; then pass "template has parameter $p"; else fail "template lacks parameter $p"; fi
done
run "$DEPLOY" --dry-run
expect_rc "dry run with defaults (no account, no region)" 0
expect_out "account placeholder when not given" "ACCOUNT\.dkr\.ecr\.us-east-1\.amazonaws\.com/csvpipe-lambda:"

# ---- a first deploy without the required parameters stops before calling anything else
run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod
expect_rc "first deploy without AllowedCidr, DomainName, CertificateArn" 2
expect_err "it names AllowedCidr" "--param AllowedCidr="
expect_err "it names DomainName" "--param DomainName="
expect_err "it names CertificateArn" "--param CertificateArn="
run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod --param AllowPlainHttp=true
expect_rc "plain HTTP (for trials) still needs AllowedCidr" 2
expect_err "only AllowedCidr is asked for" "AllowedCidr="
if grep -q "DomainName=" "$TMP/err"; then fail "plain HTTP asks for a domain"; else pass "plain HTTP needs no domain or certificate"; fi
expect_eq "nothing deployed" "$(grep -c 'cloudformation deploy' "$FAKE_CALLS" || true)" "0"
: >"$FAKE_CALLS"

# ---- real run, first deploy (no stack yet): the same sequence, executed
run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod --param LambdaMemory=1024 --param GrafanaMaxTasks=6 "${HTTPS[@]}"
expect_rc "first deploy against stand-ins" 0
{
    echo "aws sts get-caller-identity --query Account --output text"
    RAW=1 STATUS
    RAW=1 SETTINGS
    echo "aws cloudformation deploy $DEPLOY_ARGS ImageTag= LambdaMemory=1024 GrafanaMaxTasks=6 $P"
    echo "aws ecr get-login-password --region $R"
    echo "docker login --username AWS --password-stdin $REG <<<secret-token"
    RAW=1 expected_images
    echo "aws cloudformation describe-stacks --region $R --stack-name csvpipe-prod --query Stacks[0].Outputs[].[OutputKey,OutputValue] --output table"
} >"$TMP/want"
if diff -u "$TMP/want" "$FAKE_CALLS" >"$TMP/diff"; then
    pass "first deploy runs the printed sequence (bootstrap, push, deploy)"
else
    fail "first deploy command sequence"
    sed 's/^/    /' "$TMP/diff"
fi

# ---- real run, update (the stack exists): no bootstrap deploy, the parameters kept by CloudFormation
echo UPDATE_COMPLETE >"$FAKE_STACK"
: >"$FAKE_CALLS"
run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod --param LambdaMemory=1024 --param GrafanaMaxTasks=6
expect_rc "update against stand-ins" 0
expect_eq "update: one stack deploy, with the image tag" "$(grep -c 'cloudformation deploy' "$FAKE_CALLS")|$(grep -c "ImageTag=$T" "$FAKE_CALLS")" "1|1"
expect_eq "update: both images pushed" "$(grep -c '^docker push' "$FAKE_CALLS")" "2"

# ---- a tag already in a repository is not pushed again (immutable tags)
touch "$TMP/image-csvpipe-lambda"
: >"$FAKE_CALLS"
run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod
expect_rc "update with the Lambda image already pushed" 0
expect_eq "only the Grafana image is built and pushed" "$(grep -c '^docker build' "$FAKE_CALLS") $(grep -c '^docker push.*grafana' "$FAKE_CALLS")" "1 1"
expect_err "it says why" "csvpipe-lambda:$T is already in the repository \(tags are immutable\)"
rm -f "$TMP/image-csvpipe-lambda"

# ---- the account's concurrency
FAKE_CONCURRENCY="10 10" run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod
expect_rc "an account with 10 concurrent executions still deploys" 0
expect_err "a warning about the account's 10" "allows only 10 concurrent Lambda executions"
FAKE_CONCURRENCY="1000 150" run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod --param LambdaReservedConcurrency=100
expect_rc "a reservation of 100 on an account of 1000 with 150 unreserved: deployed, warnings only" 0
expect_err "a reservation leaving fewer than 100 unreserved is warned about" "LambdaReservedConcurrency=100 leaves fewer than the 100 unreserved"
FAKE_CONCURRENCY="1000 1000" run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod
expect_rc "no reservation on an account of 1000: deployed, warnings only" 0
expect_err "a thousand loads against a micro database are warned about" "up to 1000 loads may run at once"
FAKE_CONCURRENCY="1000 1000" run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod --param LambdaReservedConcurrency=20
expect_rc "a reservation of 20 on an account of 1000: deployed, warnings only" 0
if grep -q "warning" "$TMP/err"; then fail "a reservation of 20 on a large account warns: $(grep warning "$TMP/err")"; else pass "a reservation of 20 on a large account: no warning"; fi

# ---- busy, and ROLLBACK_COMPLETE
echo UPDATE_IN_PROGRESS >"$FAKE_STACK"
run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod
expect_rc "a stack being updated" 1
expect_err "says to wait" "busy \(UPDATE_IN_PROGRESS\)"
echo ROLLBACK_COMPLETE >"$FAKE_STACK"
touch "$FAKE_LEFTOVER"
: >"$FAKE_CALLS"
run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod "${HTTPS[@]}"
expect_rc "ROLLBACK_COMPLETE with the retained secret and table left over" 1
expect_err "it shows why the first deploy failed" "Database	Invalid master password"
expect_err "and what to delete" "secret csvpipe/rds .*delete-secret.*force-delete-without-recovery"
expect_eq "the stack was deleted and waited for" \
    "$(grep -c "cloudformation delete-stack --region $R --stack-name csvpipe-prod" "$FAKE_CALLS") $(grep -c 'wait stack-delete-complete' "$FAKE_CALLS")" "1 1"
rm -f "$FAKE_LEFTOVER"
echo ROLLBACK_COMPLETE >"$FAKE_STACK"
: >"$FAKE_CALLS"
run "$DEPLOY" --region $R --tag $T --stack csvpipe-prod "${HTTPS[@]}"
expect_rc "ROLLBACK_COMPLETE without leftovers" 0
expect_eq "deleted, then created again in two phases" \
    "$(grep -o 'delete-stack\|ImageTag=[a-z0-9]*' "$FAKE_CALLS" | tr '\n' ' ')" "delete-stack ImageTag= ImageTag=$T "

# ---- usage errors
run "$DEPLOY" --bogus
expect_rc "unknown option" 2
finish
