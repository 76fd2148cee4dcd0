#!/usr/bin/env bash
# `make run`: the main job on the embedded defaults with the shipped example, printing
# what it did. Usage: scripts/run-example.sh path/to/csvpipe
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
example="$root/examples/vendas.csv"
echo "== csvpipe inspect examples/vendas.csv"
"$bin" inspect "$example"
