#!/usr/bin/env bash
# Peak memory of `csvpipe inspect` on a 1 GB CSV (issue 2, acceptance 5): streaming keeps
# it bounded by the buffers, not the file. Prints the numbers and whether the peak stays
# under the 64 MB goal. Usage: bench/inspect_memory.sh [BUILD_DIR] [BYTES]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bytes=${2:-1073741824}
data="$root/bench/data"
mkdir -p "$data"
file="$data/sales-$bytes.csv"
if [ ! -f "$file" ]; then
    echo "generating $file" >&2
    "$build/tools/gen_sales" --bytes "$bytes" --style utf8 --seed 1 >"$file.tmp"
    mv "$file.tmp" "$file"
fi
size=$(stat -c %s "$file")
out=$(mktemp)
/usr/bin/time -f "%e %M" -o "$out.time" "$build/csvpipe" inspect --json "$file" >"$out"
read -r secs kb <"$out.time"
rows=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"])' "$out")
rm -f "$out" "$out.time"
mb=$((kb / 1024))
printf '| input | rows | time (s) | throughput (MB/s) | peak RSS (MB) | goal |\n'
printf '|---|---|---|---|---|---|\n'
printf '| %s MB | %s | %s | %s | %s | %s |\n' "$((size / 1048576))" "$rows" "$secs" \
    "$(python3 -c "print(round($size/1048576/max($secs,0.01),1))")" "$mb" \
    "$([ "$mb" -lt 64 ] && echo 'under 64 MB: met' || echo 'under 64 MB: MISSED')"
