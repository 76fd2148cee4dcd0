#!/usr/bin/env bash
# Builds and pushes the csvpipe Lambda image and the Grafana image to ECR, then creates or
# updates the CloudFormation stack (deploy/cloudformation/csvpipe.yaml) with the AWS CLI.
#
#   deploy/deploy.sh [--dry-run] [--name NAME] [--stack STACK] [--region REGION]
#                    [--account ID] [--tag TAG] [--param KEY=VALUE]...
#
# The first deploy of a stack runs in two phases: the stack is created without images
# (ImageTag empty: repositories, network, buckets, database, ...), the images are pushed to
# its repositories, then the stack is updated with ImageTag to add the Lambda function and
# the Grafana service. Later deploys push and update only.
#
# --dry-run prints every command instead of running it (nothing is called, not even AWS
# for the account id: pass --account, else the output says ACCOUNT).
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
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
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

# Phase 1 (first deploy only): the stack without images, so the repositories exist.
if ((dry_run)); then
    note "first deploy only (describe-stacks fails: no stack yet):"
    run aws cloudformation describe-stacks --region "$region" --stack-name "$stack"
    deploy_stack ""
elif ! aws cloudformation describe-stacks --region "$region" --stack-name "$stack" >/dev/null 2>&1; then
    echo "deploy.sh: stack $stack does not exist yet: creating it without images first" >&2
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

build_push() { # build_push REPOSITORY CONTEXT DOCKERFILE
    local repo="$name-$1" local_tag="csvpipe-$1:$tag"
    run docker build --platform "$platform" --provenance=false -f "$3" -t "$local_tag" "$2"
    run docker tag "$local_tag" "$registry/$repo:$tag"
    run docker push "$registry/$repo:$tag"
}

note "the Lambda image (repository $name-lambda)"
build_push lambda . Dockerfile
note "the Grafana image (repository $name-grafana)"
build_push grafana deploy/grafana deploy/grafana/Dockerfile

note "create or update the stack with the images"
deploy_stack "$tag"
run aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
    --query "Stacks[0].Outputs[].[OutputKey,OutputValue]" --output table
