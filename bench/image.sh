#!/usr/bin/env bash
# Issue 12, section 1: the Lambda image built with `make image` (buildah here): its size, the
# time of a cold build (empty container storage, every layer built) with the Dockerfile's
# build stage in a container (the debian:12-slim base made with mmdebstrap, as docker would
# run it) and with the build stage on this machine (--stage host, as the rehearsal builds it
# in CI), and of cached ones, and the cold start of
# `csvpipe lambda` in it, from exec to the first next-invocation request
# (bench/cold_start.py, 20 runs each):
#   - from the image's root file system (chroot as user 65534), the Lambda's reserved
#     variables and CSVPIPE_OUT only: loading the binary and its libraries, reading the
#     environment, the first request (the 20 ms goal);
#   - the same with the template's whole environment against moto and PostgreSQL on
#     loopback (tests/deploy/rehearsal.py): init then also reads the database secret from
#     Secrets Manager and connects to PostgreSQL;
#   - through `buildah run` (the container runtime's own start-up included; Lambda's is
#     AWS's).
# Writes bench/results/image.md.  Usage: bench/image.sh [--no-cold] [--stages "container host"]
# (--stages host alone skips the container's release build, minutes of CPU on a busy machine).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cold=1
stages="container host"
while (($#)); do
    case "$1" in
    --no-cold) cold=0 ;;
    --stages) stages=$2; shift ;;
    *) echo "usage: bench/image.sh [--no-cold] [--stages \"container host\"]" >&2; exit 2 ;;
    esac
    shift
done
export CSVPIPE="$root/build/csvpipe" CP_SOURCE_DIR="$root" CP_BUILD_DIR="$root/build"
source "$root/tests/cli/lib.bash"
set +e

secs() { python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.0f}")' "$@"; }
cpu() { awk '/^user|^sys/ {split($2, a, "m"); t += a[1] * 60 + a[2]} END {printf "%.0f", t}' "$1"; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
# build_row NAME STAGE COLD: one `make image` with the build stage STAGE (container: the
# Dockerfile's, as docker runs it; host: this machine's, as CI's rehearsal builds it); COLD=1
# with an empty container storage of its own (nothing cached, the base made from Debian's
# archive) and, for the host stage, an empty build folder. The image id goes to $TMP/STAGE.iid.
build_row() {
    local name=$1 stage=$2 cold=$3 env=() t0 t1 rc
    if ((cold)); then
        mkdir -p "$TMP/storage"
        printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/graph"\nrunroot = "%s/run"\n' \
            "$TMP/storage" "$TMP/storage" >"$TMP/storage.conf"
        env=(CONTAINERS_STORAGE_CONF="$TMP/storage.conf" IMAGE_BUILD_DIR="$TMP/build-image")
    fi
    t0=$(date +%s.%N)
    { time env "${env[@]}" IMAGE_BUILDER=buildah IMAGE_BUILD_STAGE="$stage" IMAGE_ID_FILE="$TMP/$stage.iid" \
        make -C "$root" --no-print-directory image >"$TMP/$stage.$cold.log" 2>&1; } 2>"$TMP/time"
    rc=$?
    t1=$(date +%s.%N)
    echo "| $name (exit $rc) | $(secs "$t0" "$t1") | $(cpu "$TMP/time") |"
    if ((cold)); then
        CONTAINERS_STORAGE_CONF="$TMP/storage.conf" buildah rmi --all --force >/dev/null 2>&1
        rm -rf "$TMP/storage" "$TMP/build-image"
    fi
}
name_of() { # the row's name for a stage
    case "$1" in
    container) echo "build stage in a container (the Dockerfile, as docker runs it)" ;;
    host) echo "build stage on this machine (--stage host, as the rehearsal in CI)" ;;
    esac
}
cold_rows="| cold (not measured: --no-cold) | | |"
if ((cold)); then
    cold_rows=$(for stage in $stages; do
        build_row "cold, $(name_of "$stage"): empty storage, empty build folder$([ "$stage" = container ] && echo ", base from mmdebstrap")" "$stage" 1
    done)
fi
# Warm the caches, then a build with nothing changed.
for stage in $stages; do
    IMAGE_BUILDER=buildah IMAGE_BUILD_STAGE=$stage make -C "$root" --no-print-directory image >/dev/null 2>&1
done
cached_rows=$(for stage in $stages; do build_row "cached: nothing changed, $(name_of "$stage")" "$stage" 0; done)
first=${stages%% *}
cp "$TMP/$first.iid" "$TMP/iid"

iid=$(sed 's/^sha256://' "$TMP/iid")
size=$(podman image inspect --format '{{.Size}}' "$iid")
ctr=$(buildah from --pull=never --name "csvpipe-bench-$$" "$iid")
rootfs=$(buildah mount "$ctr")
cleanup() {
    buildah umount "$ctr" >/dev/null 2>&1
    buildah rm "$ctr" >/dev/null 2>&1
    type pg_cleanup >/dev/null 2>&1 && pg_cleanup
    type aws_cleanup >/dev/null 2>&1 && aws_cleanup
    rm -rf "$TMP"
}
trap cleanup EXIT
version=$(chroot "$rootfs" /usr/local/bin/csvpipe version)
files=$(find "$rootfs" -type f | wc -l)
libs=$(find "$rootfs/usr/lib" -name '*.so*' -type f | wc -l)

lambda_env=(--env TZ=:UTC --env LANG=en_US.UTF-8 --env AWS_REGION=us-east-1
    --env AWS_LAMBDA_FUNCTION_NAME=csvpipe-ingest --env AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512
    --env LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib)
chroot_cmd=(chroot --userspec=65534:65534 "$rootfs" /usr/local/bin/csvpipe lambda --max-invocations 1)
minimal=$(python3 "$root/bench/cold_start.py" --runs 20 "${lambda_env[@]}" --env CSVPIPE_OUT=s3://bench-out/ \
    -- "${chroot_cmd[@]}")

host=$(python3 "$root/bench/cold_start.py" --runs 20 "${lambda_env[@]}" --env CSVPIPE_OUT=s3://bench-out/ \
    -- "$rootfs/usr/local/bin/csvpipe" lambda --max-invocations 1)

# The template's environment against moto and PostgreSQL.
source "$root/tests/pg/pg.bash"
source "$root/tests/aws/moto.bash"
pg_start >/dev/null
moto_start
trap cleanup EXIT
python3 "$root/tests/deploy/rehearsal.py" stage --out "$TMP/stage.json" --param ImageTag=bench \
    --pg-admin "host=$PG_DIR port=$PG_PORT user=csvpipe" --pg-host 127.0.0.1 --pg-port "$PG_PORT"
# The bench's PostgreSQL serves no TLS: PGSSLMODE=disable is the one change to the template's
# environment. The roles first, as the stack's set-up function makes them.
tpl_env_of() { # KIND (lambda or setup): --env options
    python3 -c 'import json,os,sys
j = json.load(open(sys.argv[1]))
env = dict(j["lambda_environment"], **j["environment"]) if sys.argv[2] == "lambda" else dict(j["setup"]["environment"])
env.update({k: os.environ[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")})
env["PGSSLMODE"] = "disable"
for k, v in env.items(): print("--env"); print(f"{k}={v}")' "$TMP/stage.json" "$1"
}
setup_vars=()
mapfile -t setup_env < <(tpl_env_of setup)
for ((i = 1; i < ${#setup_env[@]}; i += 2)); do setup_vars+=("${setup_env[i]}"); done
env "${setup_vars[@]}" chroot --userspec=65534:65534 "$rootfs" /usr/local/bin/csvpipe db-setup >/dev/null ||
    echo "image.sh: db-setup failed: the template row below measures a failing init" >&2
mapfile -t tpl_env < <(tpl_env_of lambda)
template=$(python3 "$root/bench/cold_start.py" --runs 20 "${tpl_env[@]}" -- "${chroot_cmd[@]}")

through_buildah=$(python3 "$root/bench/cold_start.py" --runs 10 -- buildah run --isolation=chroot \
    "${lambda_env[@]}" --env CSVPIPE_OUT=s3://bench-out/ --env AWS_LAMBDA_RUNTIME_API=@API@ \
    "$ctr" -- /usr/local/bin/csvpipe lambda --max-invocations 1)

row() { # row NAME JSON
    python3 -c 'import json,sys
j = json.loads(sys.argv[2])
print("| %s | %s | %s | %s | %d |" % (sys.argv[1], j["median_ms"], j["min_ms"], j["median_cpu_ms"], len(j["runs"])))' "$1" "$2"
}
out="$root/bench/results/image.md"
mkdir -p "$root/bench/results"
{
    echo "The Lambda image, built with buildah (make image); $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)); load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%d); $version"
    echo
    echo "Size: $size bytes uncompressed ($((size / 1000000)) MB; goal at most 40 MB): $files files, $libs shared libraries."
    echo
    echo "| build | wall (s) | CPU user+sys (s) |"
    echo "|---|---|---|"
    echo "$cold_rows"
    echo "$cached_rows"
    echo
    echo "| cold start: exec to first next-invocation request | median (ms) | min (ms) | median CPU of the whole process (ms) | runs |"
    echo "|---|---|---|---|---|"
    row "image root (chroot, user 65534), CSVPIPE_OUT only (goal under 20 ms)" "$minimal"
    row "the same binary with the host's loader and libraries, for comparison" "$host"
    row "image root, the template's environment (PGSSLMODE=disable): the loader's secret from Secrets Manager (moto), PostgreSQL connection" "$template"
    row "buildah run (its own container set-up included)" "$through_buildah"
    echo
    echo "Every run (ms): chroot, minimal: $minimal; host: $host; chroot, template: $template; buildah run: $through_buildah"
} >"$out"
cat "$out"
