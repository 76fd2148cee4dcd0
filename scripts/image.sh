#!/usr/bin/env bash
# make image: builds the Lambda image from ./Dockerfile and tags it csvpipe-lambda:latest.
#
#   scripts/image.sh [--builder docker|buildah] [--tag NAME] [--iidfile FILE]
#
# Defaults from the environment: IMAGE_BUILDER (auto), IMAGE (csvpipe-lambda:latest),
# IMAGE_ID_FILE (none; the built image's id is written there, so a caller runs exactly the
# image it built even when another build retags csvpipe-lambda:latest meanwhile).
#
# With docker when its daemon answers (`docker info`), else with buildah, which needs no
# daemon: buildah, podman and mmdebstrap are installed with apt when missing (scripts/deps.sh
# image), and the base debian:12-slim, when local storage does not have it and no registry
# answers, is made from Debian's archive (mmdebstrap --variant=minbase bookworm, trimmed
# like the official slim image) and imported with podman. The git commit goes in as the
# build argument CSVPIPE_GIT_HASH (the build context has no .git), with "-dirty" when
# tracked files differ from it.
#
# buildah keeps every step's layer (--layers): a second build reuses the base, the
# dependency layer and, when no source changed, everything. Builds of one machine share
# that cache; a lock serialises the making of the base.
set -euo pipefail
cd "$(dirname "$0")/.."

builder=${IMAGE_BUILDER:-auto}
tag=${IMAGE:-csvpipe-lambda:latest}
iidfile=${IMAGE_ID_FILE:-}
while (($#)); do
    case "$1" in
    --builder) builder=$2; shift ;;
    --tag) tag=$2; shift ;;
    --iidfile) iidfile=$2; shift ;;
    *) echo "image.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done

base=debian:12-slim
hash=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
if [ -n "$hash" ] && ! git diff-index --quiet HEAD -- 2>/dev/null; then
    hash="$hash-dirty"
fi
[ -n "$hash" ] || echo "image.sh: not a git checkout: csvpipe version will say 'unknown'" >&2

if [ "$builder" = auto ]; then
    if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
        builder=docker
    else
        builder=buildah
    fi
fi

case "$builder" in
docker)
    echo "image.sh: docker build -t $tag (commit ${hash:-unknown})" >&2
    exec docker build --build-arg "CSVPIPE_GIT_HASH=$hash" ${iidfile:+--iidfile "$iidfile"} -t "$tag" .
    ;;
buildah) ;;
*) echo "image.sh: --builder docker or buildah" >&2; exit 2 ;;
esac

if ! command -v buildah >/dev/null 2>&1 || ! command -v podman >/dev/null 2>&1 ||
    ! command -v mmdebstrap >/dev/null 2>&1; then
    scripts/deps.sh image
fi

# make_base: debian:12-slim from Debian's archive, as the official image is made: minbase,
# merged /usr, no documentation, manuals or translations, dpkg without fsync.
make_base() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/csvpipe-base.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$dir'" RETURN
    echo "image.sh: no $base in local storage and no registry: making it with mmdebstrap" >&2
    local sources=/etc/apt/sources.list.d/debian.sources
    local opts=(--quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
        --dpkgopt=force-unsafe-io
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
        --dpkgopt='path-exclude=/usr/share/locale/*'
        --aptopt='APT::Install-Recommends "false"')
    if [ -s "$sources" ] && grep -q bookworm "$sources"; then
        # the host's mirrors (and its security archive), read from standard input
        mmdebstrap "${opts[@]}" bookworm "$dir/base.tar" - <"$sources"
    else
        mmdebstrap "${opts[@]}" bookworm "$dir/base.tar" http://deb.debian.org/debian </dev/null
    fi
    podman import --quiet --change 'CMD ["bash"]' "$dir/base.tar" "docker.io/library/$base" >/dev/null
}

(
    flock -w 900 9 || { echo "image.sh: another build holds the base lock for 15 minutes" >&2; exit 1; }
    if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
        timeout 120 buildah pull --quiet "docker.io/library/$base" >/dev/null 2>&1 || make_base
    fi
) 9>"${TMPDIR:-/tmp}/csvpipe-image-base.lock"

echo "image.sh: buildah bud -t $tag (commit ${hash:-unknown})" >&2
buildah bud --isolation=chroot --layers --pull=never ${iidfile:+--iidfile "$iidfile"} \
    --build-arg "CSVPIPE_GIT_HASH=$hash" -t "$tag" . >&2
echo "image.sh: built $tag: $(buildah inspect --type image --format '{{.FromImageID}}' "$tag" | cut -c1-12)" >&2
