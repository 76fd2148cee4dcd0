#!/usr/bin/env bash
# Property test of the Parquet writer (issue 3, acceptance 3): for a fixed list of seeds,
# pq_random writes a random schema and random values (every type, nulls, NaN/inf, extreme
# integers and decimals, empty/non-ASCII/long strings, 0/1/many rows, several row groups
# and pages, dictionary fallback, every codec) together with the expected values;
# tests/js/check_parquet.mjs then reads every file back with DuckDB, hyparquet and
# parquet-wasm, compares every cell, and checks DuckDB's parquet_schema() and the exact
# statistics of parquet_metadata(). Deterministic: same seeds, same files.
#
# Env (set by ctest): CP_SOURCE_DIR, CP_BUILD_DIR. PQ_SEEDS overrides the seed list.
set -euo pipefail
src=${CP_SOURCE_DIR:?}
build=${CP_BUILD_DIR:?}
tool="$build/tests/conformance/pq_random"
seeds=${PQ_SEEDS:-$(seq 1 48)}

"$src/scripts/node-deps.sh" "$src/tests/js"

work=$(mktemp -d "${TMPDIR:-/tmp}/cp-pq-property.XXXXXX")
trap 'rm -rf "$work"' EXIT

prefixes=()
for seed in $seeds; do
    if ! "$tool" "$seed" "$work/seed-$seed" 2>"$work/seed-$seed.log"; then
        echo "pq_random failed for seed $seed:" >&2
        cat "$work/seed-$seed.log" >&2
        exit 1
    fi
    prefixes+=("$work/seed-$seed")
done
node "$src/tests/js/check_parquet.mjs" "${prefixes[@]}"
