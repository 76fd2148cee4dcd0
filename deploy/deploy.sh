#!/usr/bin/env bash
# Builds and pushes the csvpipe Lambda image and the Grafana image to ECR, then creates or
# updates the CloudFormation stack (deploy/cloudformation/csvpipe.yaml) with the AWS CLI.
#
#   deploy/deploy.sh [--dry-run] [--name NAME] [--stack STACK] [--region REGION]
#                    [--account ID] [--tag TAG] [--param KEY=VALUE]...
#
# The first deploy of a stack runs in two phases: the stack is created without images
# (ImageTag empty: repositories, network, buckets, database, proxy, ...), the images are
# pushed to its repositories, then the stack is updated with ImageTag to add the functions
# (ingest, database role set-up), the big-file task and the Grafana service. Later deploys
# push and update only. A first deploy needs --param AllowedCidr=... and, for HTTPS,
# --param DomainName=... --param CertificateArn=... (or --param AllowPlainHttp=true, for
# trials only).
#
# Before deploying it reads the account's Lambda concurrency and warns when the function
# would be starved or a reservation cannot be made. A stack left in ROLLBACK_COMPLETE by a
# failed first deploy is deleted (after printing why it failed) and created again. An image
# tag already in a repository is not pushed again (tags are immutable).
#
# --dry-run prints every command instead of running it (nothing is called, not even AWS
# for the account id: pass --account, else the output says ACCOUNT); it shows a first deploy.
# Needs: aws (v1 or v2) with credentials, docker with buildx, git.
set -euo pipefail

cd "$(dirname "$0")/.."

dry_run=0
name=csvpipe
stack=""
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
account=""
tag=""
params=()

usage() {
    sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

while (($#)); do
    case "$1" in
    --dry-run) dry_run=1 ;;
    --name) name=$2; shift ;;
    --stack) stack=$2; shift ;;
    --region) region=$2; shift ;;
    --account) account=$2; shift ;;
    --tag) tag=$2; shift ;;
    --param) params+=("$2"); shift ;;
    -h | --help) usage 0 ;;
    *) echo "deploy.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
    esac
    shift
done

stack=${stack:-$name}
if [ -z "$region" ]; then
    if ((dry_run)); then
        region=us-east-1
    else
        region=$(aws configure get region || true)
        [ -n "$region" ] || { echo "deploy.sh: set --region or AWS_REGION" >&2; exit 2; }
    fi
fi
# The commit `csvpipe version` shows in the image (its build context has no .git).
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
if [ -n "$commit" ] && [ -n "$(git status --porcelain 2>/dev/null | grep -v '^??' || true)" ]; then
    commit="$commit-dirty"
fi
if [ -z "$tag" ]; then
    tag=$(git rev-parse --short=12 HEAD 2>/dev/null || echo latest)
    if [ -n "$(git status --porcelain 2>/dev/null | grep -v '^??' || true)" ]; then
        tag="$tag-dirty-$(date -u +%Y%m%d%H%M%S)"
    fi
fi

template=deploy/cloudformation/csvpipe.yaml
platform=linux/amd64

# run CMD...: prints the command (shell-quoted) in a dry run, else runs it.
run() {
    if ((dry_run)); then
        printf '%q ' "$@" | sed 's/ $//'
        echo
    else
        echo "+ $*" >&2
        "$@"
    fi
}

note() {
    echo "# $*"
}

if ((dry_run)); then
    note "dry run: every command of a first deploy, in order; nothing is executed"
    run aws sts get-caller-identity --query Account --output text
    account=${account:-ACCOUNT}
else
    account=${account:-$(aws sts get-caller-identity --query Account --output text)}
fi
registry="$account.dkr.ecr.$region.amazonaws.com"

deploy_stack() { # deploy_stack IMAGE_TAG
    run aws cloudformation deploy \
        --region "$region" \
        --stack-name "$stack" \
        --template-file "$template" \
        --capabilities CAPABILITY_IAM \
        --no-fail-on-empty-changeset \
        --parameter-overrides "Name=$name" "ImageTag=$1" ${params[@]+"${params[@]}"}
}

param() { # param KEY: the --param value given for KEY ("" when none)
    local p v=""
    for p in ${params[@]+"${params[@]}"}; do
        [ "${p%%=*}" = "$1" ] && v=${p#*=}
    done
    printf '%s' "$v"
}

warn() {
    echo "deploy.sh: warning: $*" >&2
}

# ---- the stack's state: none, ROLLBACK_COMPLETE (a failed first create), busy, or ready
status_query=(aws cloudformation describe-stacks --region "$region" --stack-name "$stack"
    --query "Stacks[0].StackStatus" --output text)
if ((dry_run)); then
    note "the stack's status (no stack yet: a first deploy follows):"
    run "${status_query[@]}"
    status=NONE
else
    status=$("${status_query[@]}" 2>/dev/null) || status=NONE
fi
case "$status" in
*_IN_PROGRESS)
    echo "deploy.sh: stack $stack is busy ($status); run again once it is done" >&2
    exit 1
    ;;
UPDATE_ROLLBACK_FAILED)
    echo "deploy.sh: stack $stack is $status: fix the cause (see its events), then" \
        "aws cloudformation continue-update-rollback --stack-name $stack" >&2
    exit 1
    ;;
ROLLBACK_COMPLETE)
    # A first create that failed: CloudFormation cannot update it, only delete it.
    echo "deploy.sh: stack $stack is ROLLBACK_COMPLETE (its first deploy failed); why:" >&2
    aws cloudformation describe-stack-events --region "$region" --stack-name "$stack" \
        --query "StackEvents[?ResourceStatus=='CREATE_FAILED'].[LogicalResourceId,ResourceStatusReason]" \
        --output text >&2 || true
    echo "deploy.sh: deleting it to create it again" >&2
    run aws cloudformation delete-stack --region "$region" --stack-name "$stack"
    run aws cloudformation wait stack-delete-complete --region "$region" --stack-name "$stack"
    # What the template keeps on deletion (DeletionPolicy Retain) would clash by name.
    left=()
    if aws secretsmanager describe-secret --region "$region" --secret-id "$name/rds" >/dev/null 2>&1; then
        left+=("the master user's secret $name/rds (aws secretsmanager delete-secret --region $region --secret-id $name/rds --force-delete-without-recovery)")
    fi
    if aws dynamodb describe-table --region "$region" --table-name "$name-items" >/dev/null 2>&1; then
        left+=("the DynamoDB table $name-items (aws dynamodb delete-table --region $region --table-name $name-items)")
    fi
    if ((${#left[@]})); then
        echo "deploy.sh: the failed deploy left resources the stack keeps on deletion; they hold" \
            "nothing yet if the first deploy never succeeded. Delete them, then run deploy.sh again:" >&2
        printf '  - %s\n' "${left[@]}" >&2
        exit 1
    fi
    status=NONE
    ;;
esac

if [ "$status" = NONE ]; then
    # What CloudFormation would only say after minutes of work.
    missing=()
    [ -n "$(param AllowedCidr)" ] || missing+=("AllowedCidr=<addresses allowed to reach Grafana, such as 203.0.113.0/24>")
    if [ "$(param AllowPlainHttp)" != true ]; then
        [ -n "$(param DomainName)" ] || missing+=("DomainName=<Grafana's host name, such as grafana.example.com>")
        [ -n "$(param CertificateArn)" ] || missing+=("CertificateArn=<an ACM certificate for it, in $region>")
    fi
    if ((${#missing[@]})) && ! ((dry_run)); then
        echo "deploy.sh: a first deploy needs these parameters (or --param AllowPlainHttp=true" \
            "instead of the domain and certificate, for trials only):" >&2
        printf '  --param %s\n' "${missing[@]}" >&2
        exit 2
    fi
fi

# ---- the account's Lambda concurrency
settings=(aws lambda get-account-settings --region "$region"
    --query "AccountLimit.[ConcurrentExecutions,UnreservedConcurrentExecutions]" --output text)
if ((dry_run)); then
    note "the account's Lambda concurrency (warnings only):"
    run "${settings[@]}"
else
    read -r limit unreserved < <("${settings[@]}" 2>/dev/null || echo "? ?") || true
    reserve=$(param LambdaReservedConcurrency)
    if [ "$limit" = "?" ] || [ -z "$limit" ]; then
        warn "cannot read the account's Lambda concurrency (lambda:GetAccountSettings); skipping the check"
    else
        echo "# account Lambda concurrency: $limit in all, $unreserved unreserved" >&2
        if [ -n "$reserve" ] && ((unreserved - reserve < 100)); then
            warn "LambdaReservedConcurrency=$reserve leaves fewer than the 100 unreserved executions" \
                "AWS requires ($unreserved unreserved now): the deploy would fail. Leave it empty" \
                "or ask for a higher quota (Service Quotas: Lambda, Concurrent executions)."
        fi
        if ((limit < 100)); then
            warn "this account allows only $limit concurrent Lambda executions, shared by every" \
                "function: loads queue behind each other and big bursts are throttled. Ask for a" \
                "higher quota (Service Quotas: Lambda, Concurrent executions)."
        fi
        eff=${reserve:-$unreserved}
        if ((eff > 50)) && [ "$(param DbInstanceClass)" = "" -o "$(param DbInstanceClass)" = db.t4g.micro ]; then
            warn "up to $eff loads may run at once, each holding a database connection while it" \
                "loads; db.t4g.micro allows about 80, of which RDS Proxy uses" \
                "DbProxyMaxConnectionsPercent (75%). Loads beyond wait up to 120 s for one, then" \
                "fail and are retried. Set LambdaReservedConcurrency or a larger DbInstanceClass" \
                "(deploy/README.md, Connections)."
        fi
    fi
fi

# Phase 1 (first deploy only): the stack without images, so the repositories exist.
if [ "$status" = NONE ]; then
    ((dry_run)) || echo "deploy.sh: stack $stack does not exist yet: creating it without images first" >&2
    deploy_stack ""
fi

# Phase 2: both images, built for Lambda/Fargate (x86_64, plain Docker manifest: Lambda
# refuses the attestation manifests buildx adds by default).
if ((dry_run)); then
    note "log in to ECR"
    printf 'aws ecr get-login-password --region %q | docker login --username AWS --password-stdin %q\n' "$region" "$registry"
else
    aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry"
fi

build_push() { # build_push REPOSITORY CONTEXT DOCKERFILE [BUILD OPTION...]
    local repo="$name-$1" local_tag="csvpipe-$1:$tag"
    local exists=(aws ecr describe-images --region "$region" --repository-name "$repo"
        --image-ids "imageTag=$tag" --query "imageDetails[0].imageDigest" --output text)
    if ((dry_run)); then
        note "skipped when $repo already has tag $tag (tags are immutable):"
        run "${exists[@]}"
    elif "${exists[@]}" >/dev/null 2>&1; then
        echo "deploy.sh: $repo:$tag is already in the repository (tags are immutable); not pushed again" >&2
        return
    fi
    run docker build --platform "$platform" --provenance=false "${@:4}" -f "$3" -t "$local_tag" "$2"
    run docker tag "$local_tag" "$registry/$repo:$tag"
    run docker push "$registry/$repo:$tag"
}

note "the Lambda image (repository $name-lambda; also the big-file task and the role set-up)"
build_push lambda . Dockerfile --build-arg "CSVPIPE_GIT_HASH=$commit"
note "the Grafana image (repository $name-grafana)"
build_push grafana deploy/grafana deploy/grafana/Dockerfile

note "create or update the stack with the images"
deploy_stack "$tag"
run aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
    --query "Stacks[0].Outputs[].[OutputKey,OutputValue]" --output table
