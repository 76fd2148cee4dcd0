#!/usr/bin/env bash
# Runs every fuzz target in DIR for SECONDS each, from a seed corpus of the repo's CSVs and
# the target's own seeds in fuzz/corpus/<target>/.
# A finding leaves crash-* files in fuzz/findings/ and fails the run.
# Usage: scripts/run-fuzz.sh DIR SECONDS
set -euo pipefail
dir=$1
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
findings="$root/fuzz/findings"
mkdir -p "$findings"
status=0
for target in "$dir"/fuzz_*; do
    [ -x "$target" ] || continue
    name=$(basename "$target")
    corpus=$(mktemp -d)
    # Seeds: the shipped example (cut), the test data and csv-spectrum, each behind a
    # control byte of 0 (auto-detect).
    i=0
    for f in "$root"/examples/*.csv "$root"/tests/data/*/*.csv \
        "$root"/tests/js/node_modules/csv-spectrum/csvs/*.csv; do
        [ -f "$f" ] || continue
        { printf '\0'; head -c 8192 "$f"; } >"$corpus/seed-$i"
        i=$((i + 1))
    done
    # and the target's own seeds, when it has some (control byte included)
    for f in "$root/fuzz/corpus/$name"/*; do
        [ -f "$f" ] || continue
        cp "$f" "$corpus/own-$(basename "$f")"
        i=$((i + 1))
    done
    echo "fuzz: $name for ${seconds}s ($i seeds)"
    if ! "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$findings/" -print_final_stats=1 "$corpus" 2>"$findings/$name.log"; then
        echo "fuzz: $name FOUND A PROBLEM; see $findings/$name.log" >&2
        tail -40 "$findings/$name.log" >&2
        status=1
    else
        grep -E "stat::number_of_executed_units|Done" "$findings/$name.log" | tail -2
    fi
    rm -rf "$corpus"
done
exit $status
