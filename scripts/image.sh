#!/usr/bin/env bash
# make image: builds the Lambda image from ./Dockerfile and tags it csvpipe-lambda:latest.
#
#   scripts/image.sh [--builder docker|buildah] [--stage container|host] [--tag NAME]
#                    [--iidfile FILE]
#   scripts/image.sh --final-stage     prints the Containerfile the host stage builds
#
# Defaults from the environment: IMAGE_BUILDER (auto), IMAGE_BUILD_STAGE (auto), IMAGE
# (csvpipe-lambda:latest), IMAGE_ID_FILE (none; the built image's id is written there, so a
# caller runs exactly the image it built even when another build retags
# csvpipe-lambda:latest meanwhile), IMAGE_BUILD_DIR (build-image: the host stage's build).
#
# With docker when its daemon answers (`docker info`), else with buildah, which needs no
# daemon: buildah, podman and mmdebstrap are installed with apt when missing (scripts/deps.sh
# image). The git commit goes in as the build argument CSVPIPE_GIT_HASH (the build context
# has no .git), with "-dirty" when tracked files differ from it.
#
# Where the Dockerfile's build stage runs:
#   container  in a container from debian:12-slim, as the Dockerfile says (always with
#              docker). With buildah, when local storage has no debian:12-slim and no
#              registry answers, the base is made from Debian's archive (mmdebstrap
#              --variant=minbase bookworm, trimmed like the official slim image) and
#              imported with podman. buildah keeps every step's layer (--layers): a second
#              build reuses the base, the dependency layer and, when no source changed,
#              everything; a lock serialises the making of the base.
#   host       on this machine, when it is what the build stage is (Debian 12, Debian's own
#              CA bundle) and builder is buildah: the build stage's own commands —
#              scripts/deps.sh build, make build (in build-image/), strip,
#              scripts/image-rootfs.sh, csvpipe version in the tree as user 65534 — then
#              the Dockerfile's final stage, taken from the Dockerfile itself with its
#              `COPY --from=build /rootfs/ /` reading the tree instead. The same image
#              without a base image, a second apt or a second compiler (minutes on a fresh
#              machine, as in CI).
#   auto       host where it can, else container.
set -euo pipefail
cd "$(dirname "$0")/.."

builder=${IMAGE_BUILDER:-auto}
stage=${IMAGE_BUILD_STAGE:-auto}
tag=${IMAGE:-csvpipe-lambda:latest}
iidfile=${IMAGE_ID_FILE:-}
build_dir=${IMAGE_BUILD_DIR:-build-image}
print_final=0
while (($#)); do
    case "$1" in
    --builder) builder=$2; shift ;;
    --stage) stage=$2; shift ;;
    --final-stage) print_final=1 ;;
    --tag) tag=$2; shift ;;
    --iidfile) iidfile=$2; shift ;;
    *) echo "image.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done

# final_stage_from FILE: the Dockerfile's last stage (FROM scratch) with the build stage's
# tree read from the context's rootfs/ instead.
final_stage_from() {
    awk '
        /^FROM[ \t]/ { stage = $0; n = 0; delete lines }
        { lines[++n] = $0 }
        END {
            if (stage !~ /^FROM[ \t]+scratch([ \t]|$)/) { print "image.sh: the Dockerfile'"'"'s last stage is not FROM scratch" > "/dev/stderr"; exit 1 }
            copies = 0
            for (i = 1; i <= n; i++) {
                if (lines[i] ~ /^COPY[ \t]+--from=build[ \t]+\/rootfs\/[ \t]+\/[ \t]*$/) { lines[i] = "COPY rootfs/ /"; copies++ }
                else if (lines[i] ~ /^(COPY|ADD)[ \t]/) { print "image.sh: the final stage copies more than the build stage'"'"'s /rootfs/: " lines[i] > "/dev/stderr"; exit 1 }
                print lines[i]
            }
            if (copies != 1) { print "image.sh: the final stage does not copy the build stage'"'"'s /rootfs/ once" > "/dev/stderr"; exit 1 }
        }' "$1"
}

if ((print_final)); then
    final_stage_from Dockerfile
    exit
fi

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

case "$stage" in
auto | host | container) ;;
*) echo "image.sh: --stage container, host or auto" >&2; exit 2 ;;
esac

case "$builder" in
docker)
    if [ "$stage" = host ]; then
        echo "image.sh: --stage host is for buildah; docker builds the Dockerfile's stages" >&2
        exit 2
    fi
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

# host_is_build_stage: this machine is what the build stage's base is (Debian 12, with
# ca-certificates: scripts/image-rootfs.sh writes Debian's bundle from it). Prints why not.
host_is_build_stage() {
    local id="" version=""
    if [ -r /etc/os-release ]; then
        id=$(. /etc/os-release && echo "${ID:-}")
        version=$(. /etc/os-release && echo "${VERSION_ID:-}")
    fi
    if [ "$id" != debian ] || [ "$version" != 12 ]; then
        echo "this machine is not Debian 12 ($id $version)"
        return 1
    fi
    [ -s /etc/ca-certificates.conf ] || { echo "ca-certificates is not installed here"; return 1; }
}

# stale_packages ROOTFS: "package version candidate" for each package the tree holds files
# of (its dpkg records) that is older here than in the archive, as far as this machine's
# package lists know: the container's apt would have installed the newer one.
stale_packages() {
    local pkgs=()
    mapfile -t pkgs < <(ls "$1/var/lib/dpkg/status.d")
    ((${#pkgs[@]})) || return 0
    apt-cache policy "${pkgs[@]}" 2>/dev/null | awk '
        /^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) }
        /^  Installed:/ { inst[p] = $2 }
        /^  Candidate:/ { cand[p] = $2 }
        END { for (p in inst) print p, inst[p], cand[p] }' |
        while read -r p v c; do
            if [ -n "$c" ] && [ "$c" != "(none)" ] && dpkg --compare-versions "$v" lt "$c"; then
                echo "$p $v $c"
            fi
        done | sort
}

requested=$stage
if [ "$stage" != container ]; then
    if [ "$builder" = buildah ] && why=$(host_is_build_stage); then
        stage=host
    elif [ "$stage" = host ]; then
        echo "image.sh: --stage host: $why" >&2
        exit 2
    else
        stage=container
        echo "image.sh: the build stage runs in a container: $why" >&2
    fi
fi

if [ "$stage" = host ]; then
    ctx=$(mktemp -d "${TMPDIR:-/tmp}/csvpipe-image.XXXXXX")
    trap 'rm -rf "$ctx"' EXIT
    final_stage_from Dockerfile >"$ctx/Containerfile"
    # The build stage's commands, in build-image/ (kept: the next build compiles what changed).
    # One build at a time in it.
    mkdir -p "$build_dir"
    (
        flock -w 900 9 || { echo "image.sh: another build holds $build_dir for 15 minutes" >&2; exit 1; }
        echo "image.sh: the build stage on this machine (Debian 12): make build BUILD=$build_dir" >&2
        CSVPIPE_GIT_HASH=$hash make build BUILD="$build_dir" >&2
        strip -o "$ctx/csvpipe" "$build_dir/csvpipe"
    ) 9>"$build_dir/image.lock"
    scripts/image-rootfs.sh "$ctx/csvpipe" "$ctx/rootfs"
    rm -f "$ctx/csvpipe"
    stale=$(stale_packages "$ctx/rootfs")
    if [ -n "$stale" ] && [ "$requested" = auto ]; then
        echo "image.sh: packages here are older than the archive's, which the Dockerfile's build" \
            "stage would install (package, here, archive):" >&2
        sed 's/^/    /' <<<"$stale" >&2
        echo "image.sh: so the build stage runs in a container (apt-get upgrade them to build" \
            "here, or --stage host to build from them anyway)" >&2
        stage=container
    else
        if [ -n "$stale" ]; then
            echo "image.sh: --stage host: the image gets packages older than the archive's" \
                "(package, here, archive):" >&2
            sed 's/^/    /' <<<"$stale" >&2
        fi
        if [ "$(id -u)" = 0 ]; then
            chroot --userspec=65534:65534 "$ctx/rootfs" /usr/local/bin/csvpipe version >&2
        fi
        echo "image.sh: buildah bud -t $tag, the Dockerfile's final stage (commit ${hash:-unknown})" >&2
        buildah bud --isolation=chroot --layers --pull=never ${iidfile:+--iidfile "$iidfile"} \
            --build-arg "CSVPIPE_GIT_HASH=$hash" -f "$ctx/Containerfile" -t "$tag" "$ctx" >&2
        echo "image.sh: built $tag: $(buildah inspect --type image --format '{{.FromImageID}}' "$tag" | cut -c1-12)" >&2
        exit 0
    fi
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
