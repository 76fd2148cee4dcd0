#!/usr/bin/env bash
# Runs libFuzzer targets for SECONDS each, every target from its committed seed corpus
# (fuzz/corpus/<target>/) plus a working corpus kept next to the binaries (DIR/../fuzz-work/
# <target>), so repeated runs build on each other. fuzz_csv also starts from the repo's CSVs.
# A finding leaves crash-*/leak-*/timeout-* files in fuzz/findings/ and fails the run; copy
# a finding into fuzz/corpus/<target>/ with the fix, so `make test` replays it for ever.
# Each run appends "date target seconds runs result" to fuzz/findings/runs.tsv.
# Usage: scripts/run-fuzz.sh DIR SECONDS [TARGET...]
set -euo pipefail
dir=$1
seconds=${2:-60}
shift 2 || shift $#
root=$(cd "$(dirname "$0")/.." && pwd)
findings="$root/fuzz/findings"
work="$(cd "$dir/.." && pwd)/fuzz-work"
mkdir -p "$findings" "$work"

targets=()
if (($# > 0)); then
    for t in "$@"; do targets+=("$dir/$t"); done
else
    for t in "$dir"/fuzz_*; do [ -x "$t" ] && [ -f "$t" ] && targets+=("$t"); done
fi
((${#targets[@]} > 0)) || { echo "fuzz: no targets in $dir" >&2; exit 2; }

status=0
for target in "${targets[@]}"; do
    name=$(basename "$target")
    corpus="$work/$name"
    mkdir -p "$corpus"
    seeds=("$root/fuzz/corpus/$name")
    [ -d "${seeds[0]}" ] || { echo "fuzz: $name has no seed corpus fuzz/corpus/$name" >&2; exit 2; }
    if [ "$name" = fuzz_csv ]; then
        # the repo's CSVs behind two control bytes of 0 (auto-detect)
        i=0
        for f in "$root"/examples/*.csv "$root"/tests/data/*/*.csv \
            "$root"/tests/js/node_modules/csv-spectrum/csvs/*.csv; do
            [ -f "$f" ] || continue
            { printf '\0\0'; head -c 8192 "$f"; } >"$corpus/repo-seed-$i"
            i=$((i + 1))
        done
    fi
    dict=()
    [ -f "$root/fuzz/$name.dict" ] && dict=(-dict="$root/fuzz/$name.dict")
    echo "fuzz: $name for ${seconds}s"
    log="$findings/$name.log"
    result=clean
    # -close_fd_mask=2: the targets' own stderr is closed; libFuzzer and sanitizer reports
    # still reach the log.
    if ! "$target" -max_total_time="$seconds" -timeout=120 -rss_limit_mb=2048 -max_len=65536 \
        -close_fd_mask=2 -artifact_prefix="$findings/" -print_final_stats=1 "${dict[@]}" \
        "$corpus" "${seeds[@]}" 2>"$log"; then
        echo "fuzz: $name FOUND A PROBLEM; see $log" >&2
        tail -40 "$log" >&2
        status=1
        result=FOUND
    elif grep -q "runtime error:" "$log"; then # a sanitizer built to recover
        echo "fuzz: $name: a sanitizer reported; see $log" >&2
        grep -m3 "runtime error:" "$log" >&2
        status=1
        result=FOUND
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" "${secs:-?}" "${runs:-?}" \
        "$result" >>"$findings/runs.tsv"
    echo "fuzz: $name: ${runs:-?} runs in ${secs:-?}s, $result"
done
exit $status
