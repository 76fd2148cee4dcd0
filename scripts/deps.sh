#!/usr/bin/env bash
# Installs every build and test dependency that is missing, and does nothing (and needs no
# network) when all are present.
#
# Usage: scripts/deps.sh [build|test|all|image] [TEST_BUILD_DIR]   (default: all build-test)
#
#   build      the compiler, CMake and the libraries, with apt-get.
#   test, all  also the test tools. Debian packages where Debian 12 has them (apt-get; the
#              AWS CLI is awscli). moto, boto3 and cfn-lint are not all in Debian 12 and
#              must share one Python, so unless the machine's python3 already has them, they
#              are installed with pip, from the pinned tests/requirements.txt, into the
#              virtual environment TEST_BUILD_DIR/venv; tests/cli/lib.bash puts it first on
#              PATH. The environment is made again when tests/requirements.txt changes.
#   image      the tools `make image` uses when no Docker daemon answers: buildah, podman,
#              and mmdebstrap for a debian:12-slim base when no registry answers (apt-get).
set -euo pipefail

what=${1:-all}
root=$(cd "$(dirname "$0")/.." && pwd)
test_build=${2:-$root/build-test}
venv=$test_build/venv
requirements=$root/tests/requirements.txt
# A copy of the requirements the environment was completed with.
stamp=$venv/csvpipe-requirements.txt

build_pkgs=(gcc make cmake pkg-config libcurl4-openssl-dev libpq-dev libsqlite3-dev sqlite3
            libsnappy-dev libzstd-dev zlib1g-dev libbz2-dev liblzma-dev libjansson-dev)
# curl: waits for test servers; openssl: test certificates; man-db, groff-base: the manual
# page test; awscli: the AWS CLI (`aws`); gzip, zstd, bzip2, xz-utils: compressed inputs.
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev nodejs npm postgresql python3 time curl openssl
           man-db groff-base awscli gzip zstd bzip2 xz-utils)
image_pkgs=(buildah podman mmdebstrap)

case "$what" in
build) pkgs=("${build_pkgs[@]}") ;;
test | all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
image) pkgs=("${image_pkgs[@]}") ;;
*) echo "usage: $0 [build|test|all|image] [TEST_BUILD_DIR]" >&2; exit 2 ;;
esac

# The machine's own Python test tools: the commands and the modules the tests use.
python_tools_present() {
    command -v moto_server >/dev/null 2>&1 && command -v cfn-lint >/dev/null 2>&1 &&
        python3 -c 'import boto3, moto, cfnlint, flask, flask_cors' >/dev/null 2>&1
}

venv_complete() {
    [ -x "$venv/bin/python3" ] && [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"
}

need_venv=false
if [ "$what" != build ] && [ "$what" != image ] && ! venv_complete && ! python_tools_present; then
    need_venv=true
    # Debian keeps venv's pip bootstrap (ensurepip) in python3-venv.
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        pkgs+=(python3-venv)
    fi
fi

missing=()
for p in "${pkgs[@]}"; do
    # A tool may come from outside Debian (node, python3, aws on these machines): accept it
    # on PATH.
    case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    python3) command -v python3 >/dev/null 2>&1 && continue ;;
    awscli) command -v aws >/dev/null 2>&1 && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
    echo "deps: installing ${missing[*]}" >&2
    sudo=""
    if [ "$(id -u)" != 0 ]; then
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if $need_venv; then
    echo "deps: installing moto, boto3 and cfn-lint (tests/requirements.txt) into $venv" >&2
    rm -rf "$venv"
    mkdir -p "$test_build"
    python3 -m venv "$venv"
    if ! "$venv/bin/pip" install --disable-pip-version-check -q -r "$requirements"; then
        echo "deps: pip could not install tests/requirements.txt into $venv: it needs the" \
            "Python package index, or install moto[server], boto3 and cfn-lint for python3" \
            "yourself" >&2
        exit 1
    fi
    for tool in moto_server cfn-lint; do
        if [ ! -x "$venv/bin/$tool" ]; then
            echo "deps: $venv/bin/$tool is missing after installing tests/requirements.txt" >&2
            exit 1
        fi
    done
    if ! "$venv/bin/python3" -c 'import boto3, moto, cfnlint, flask, flask_cors'; then
        echo "deps: the Python test modules do not import from $venv" >&2
        exit 1
    fi
    cp "$requirements" "$stamp"
fi
