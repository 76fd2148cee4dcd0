#!/usr/bin/env bash
# Installs, with apt-get, every build and test dependency that is missing.
# Does nothing (and needs no network) when all are present.
# Usage: scripts/deps.sh [build|test|all]   (default: all)
set -euo pipefail

what=${1:-all}
build_pkgs=(gcc make cmake pkg-config libcurl4-openssl-dev libpq-dev libsqlite3-dev sqlite3
            libsnappy-dev libzstd-dev zlib1g-dev libjansson-dev)
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev nodejs npm postgresql python3 time)

case "$what" in
build) pkgs=("${build_pkgs[@]}") ;;
test | all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
    # A tool may come from outside Debian (node, python3 on these machines): accept it on PATH.
    case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    python3) command -v python3 >/dev/null 2>&1 && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    exit 0
fi

echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
