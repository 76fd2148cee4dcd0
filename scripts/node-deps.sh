#!/usr/bin/env bash
# Installs the pinned npm packages of a folder (package-lock.json) when they are missing
# or older than the lockfile. Usage: scripts/node-deps.sh DIR
set -euo pipefail
dir=$1
stamp="$dir/node_modules/.csvpipe-stamp"
if [ -f "$stamp" ] && [ "$stamp" -nt "$dir/package-lock.json" ]; then
    exit 0
fi
echo "node-deps: npm ci in $dir" >&2
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
touch "$stamp"
