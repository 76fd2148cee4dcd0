#!/usr/bin/env bash
# make soak (issue 13, section 1): kill -9 at random moments of a multi-file `csvpipe run`
# and of `csvpipe watch`, SOAK_KILLS times each (default 50), and check the invariants after
# every kill and after every rerun (tests/soak/soak_check.py): each store of each source
# holds all of one version of it, the previous or the new, never a mix, never twice; after
# the rerun every store holds the new version once, the ledger one `loaded` row for it, and
# no temporary file is left. Before each round two of the six files get a new version.
#
# The moment of each kill is drawn from a seeded generator: SOAK_SEED (printed at the
# start) repeats a soak. Environment: CSVPIPE (default build-test/csvpipe), CP_BUILD_DIR
# (build-test), SOAK_KILLS, SOAK_SEED. Prints one line per round and a summary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CP_BUILD_DIR=${CP_BUILD_DIR:-$root/build-test}
CSVPIPE=${CSVPIPE:-$CP_BUILD_DIR/csvpipe}
GEN_SALES=$CP_BUILD_DIR/tools/gen_sales
KILLS=${SOAK_KILLS:-50}
SEED=${SOAK_SEED:-$(date +%s)}
export ASAN_OPTIONS="exitcode=66:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=67"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/csvpipe-soak.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
RANDOM=$SEED
echo "soak: $KILLS kills of run and of watch, seed $SEED (SOAK_SEED=$SEED repeats it)"

failures=0
finished_first=0
NFILES=6

ms_now() { date +%s%3N; }

# new_version DIR NAME: NAME.csv in DIR replaced (a new inode) by a new version; the
# version loaded last is kept in $TMP/versions/NAME.prev.csv for the checks (the first
# time in a round only: a file may be drawn twice).
new_version() {
    local dir=$1 name=$2
    mkdir -p "$TMP/versions"
    if [ -f "$TMP/versions/$name.csv" ] && [ ! -f "$TMP/versions/$name.prev.csv" ]; then
        cp "$TMP/versions/$name.csv" "$TMP/versions/$name.prev.csv"
    fi
    "$GEN_SALES" --rows $((1000 + RANDOM % 4000)) --seed $RANDOM >"$TMP/versions/$name.csv" 2>/dev/null
    cp "$TMP/versions/$name.csv" "$dir/.$name.new"
    mv "$dir/.$name.new" "$dir/$name.csv"
}

# check MODE OUT PATH_OF_NAME: the invariants over every file.
check() {
    local mode=$1 out=$2 at=$3 args=() n
    for ((n = 1; n <= NFILES; n++)); do
        local prev=""
        [ -f "$TMP/versions/f$n.prev.csv" ] && prev="$TMP/versions/f$n.prev.csv"
        args+=(--source "$at/f$n.csv=$TMP/versions/f$n.csv,$prev")
    done
    python3 "$here/soak_check.py" --out "$out" --mode "$mode" "${args[@]}"
}

# one_round KIND ROUND CMD...: starts CMD, kills it at a random moment of its usual
# duration, checks, then finishes the work with the rerun command in RERUN and checks.
declare -a RERUN
usual_ms=0
one_round() {
    local kind=$1 round=$2 out=$3 at=$4
    shift 4
    local delay rc
    "$@" >"$TMP/round.out" 2>"$TMP/round.err" &
    local pid=$!
    delay=$((RANDOM * 32768 + RANDOM))
    delay=$((delay % (usual_ms > 0 ? usual_ms : 1)))
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 $pid 2>/dev/null || true
    set +e
    wait $pid 2>/dev/null
    rc=$?
    set -e
    local what="killed after ${delay} ms"
    if [ $rc = 0 ]; then
        what="finished before the kill (${delay} ms)"
        finished_first=$((finished_first + 1))
    elif [ $rc != 137 ]; then
        echo "not ok - $kind round $round: exit $rc before the kill"
        sed 's/^/    /' "$TMP/round.err" | head -20
        failures=$((failures + 1))
    fi
    if ! check mid "$out" "$at"; then
        echo "not ok - $kind round $round: the state after the kill ($what)"
        failures=$((failures + 1))
    fi
    if ! "${RERUN[@]}" >"$TMP/rerun.out" 2>"$TMP/rerun.err"; then
        echo "not ok - $kind round $round: the rerun failed"
        sed 's/^/    /' "$TMP/rerun.err" | head -20
        failures=$((failures + 1))
    fi
    if ! check final "$out" "$at"; then
        echo "not ok - $kind round $round: the state after the rerun"
        failures=$((failures + 1))
    else
        echo "ok - $kind round $round: $what; rerun complete"
    fi
}

# ---- run: a folder of six files ----
src="$TMP/src"
out="$TMP/out-run"
mkdir -p "$src"
for ((n = 1; n <= NFILES; n++)); do new_version "$src" "f$n"; done
RERUN=("$CSVPIPE" run --quiet --json --out "$out" "$src")
"${RERUN[@]}" >/dev/null
rm -f "$TMP"/versions/*.prev.csv
new_version "$src" f1
new_version "$src" f2
t0=$(ms_now)
"${RERUN[@]}" >/dev/null
usual_ms=$(($(ms_now) - t0))
check final "$out" "$src" || failures=$((failures + 1))
echo "soak: a round (two new versions, four repeats) takes $usual_ms ms; kills fall in that span"
for ((round = 1; round <= KILLS; round++)); do
    rm -f "$TMP"/versions/*.prev.csv
    for n in $((1 + RANDOM % NFILES)) $((1 + RANDOM % NFILES)); do new_version "$src" "f$n"; done
    for ((n = 1; n <= NFILES; n++)); do # unchanged files: their version is the previous one too
        [ -f "$TMP/versions/f$n.prev.csv" ] || cp "$TMP/versions/f$n.csv" "$TMP/versions/f$n.prev.csv"
    done
    one_round run $round "$out" "$src" "$CSVPIPE" run --quiet --json --out "$out" "$src"
done

# ---- watch: an inbox; each file moves to processed/ once loaded ----
inbox="$TMP/inbox"
out="$TMP/out-watch"
mkdir -p "$inbox"
rm -rf "$TMP/versions"
for ((n = 1; n <= NFILES; n++)); do new_version "$inbox" "f$n"; done
RERUN=("$CSVPIPE" watch --once --quiet --json --out "$out" "$inbox")
"${RERUN[@]}" >/dev/null 2>&1
rm -f "$TMP"/versions/*.prev.csv
new_version "$inbox" f1
new_version "$inbox" f2
t0=$(ms_now)
"${RERUN[@]}" >/dev/null 2>&1
usual_ms=$(($(ms_now) - t0))
check final "$out" "$inbox" || failures=$((failures + 1))
echo "soak: watch takes $usual_ms ms for two new versions; kills fall in that span"
for ((round = 1; round <= KILLS; round++)); do
    rm -f "$TMP"/versions/*.prev.csv
    for n in $((1 + RANDOM % NFILES)) $((1 + RANDOM % NFILES)); do new_version "$inbox" "f$n"; done
    for ((n = 1; n <= NFILES; n++)); do
        [ -f "$TMP/versions/f$n.prev.csv" ] || cp "$TMP/versions/f$n.csv" "$TMP/versions/f$n.prev.csv"
    done
    one_round watch $round "$out" "$inbox" "$CSVPIPE" watch --quiet --json --out "$out" "$inbox"
    lost=$(cd "$inbox" && find . -name 'f*.csv' -path './failed/*' | head -3)
    if [ -n "$lost" ]; then
        echo "not ok - watch round $round: files failed: $lost"
        failures=$((failures + 1))
    fi
done

echo "soak: $((2 * KILLS)) rounds, $finished_first finished before their kill, $failures failures (seed $SEED)"
[ $failures -eq 0 ]
