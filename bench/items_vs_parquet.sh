#!/usr/bin/env bash
# The embedded item store against Parquet (issue 15, acceptance 3): the same generated
# 2,000,000-row sales CSV loaded by
#   csvpipe run --no-sql --no-nosql --formats parquet            (Parquet only)
#   csvpipe run --no-sql --nosql sqlite:DB --formats none         (items only, a new store)
#   the same again into that store                                (its items replaced)
# alternating, RUNS times each (default 3), under GNU time: wall time, CPU time (user +
# system: steadier than the wall time on a shared machine) and peak RSS; the ratio items /
# Parquet of the medians (target: at most 3). Every items run is checked to hold one item
# per row. Prints a Markdown table, writes it to bench/results/items.md and into its own
# section of bench/results/latest.md (bench/results_section.py).
#
# Usage: bench/items_vs_parquet.sh [BUILD_DIR]   (default build/, built with `make` when
#        its csvpipe or tools/gen_sales is missing). Env: RUNS, ROWS (default 2000000).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_build "${1:-}"
runs=${RUNS:-3}
rows=${ROWS:-2000000}
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed to count the items" >&2; exit 1; }

data="$root/bench/data"
mkdir -p "$data" "$root/bench/results"
csv="$data/sales-$rows-rows.csv"
if [ ! -f "$csv" ]; then
    echo "generating $csv" >&2
    "$gen" --rows "$rows" --style utf8 --seed 1 >"$csv.tmp"
    mv "$csv.tmp" "$csv"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cp-items.XXXXXX")
trap 'rm -rf "$work"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# run NAME ARGS...: one csvpipe run into a fresh $work/out (KEEP=1: into the one there);
# appends "NAME wall cpu kb".
run() {
    local name=$1
    shift
    [ -n "${KEEP:-}" ] || rm -rf "$work/out"
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$csvpipe" run --quiet --no-sql \
        --out "$work/out" "$@" "$csv" >"$work/stdout" 2>"$work/stderr" || {
        echo "$name failed:" >&2
        cat "$work/stderr" >&2
        exit 1
    }
    read -r wall user sys kb <"$work/time"
    echo "$name $wall $(python3 -c "print(round($user + $sys, 2))") $kb" >>"$work/runs"
    echo "  $name: $wall s wall, $user s user, $sys s system, $kb KB" >&2
}

for ((i = 1; i <= runs; i++)); do
    run parquet --no-nosql --formats parquet
    run items --nosql "sqlite:$work/out/items.db" --formats none
    [ -n "${loaded:-}" ] || loaded=$(python3 -c "import csv,sys; csv.field_size_limit(1<<30); print(sum(1 for _ in csv.reader(open(sys.argv[1], newline='', encoding='utf-8'))) - 1)" "$csv")
    n=$(sqlite3 "$work/out/items.db" 'SELECT count(*) FROM items')
    [ "$n" = "$loaded" ] || { echo "items run: $n items for $loaded rows" >&2; exit 1; }
    size=$(stat -c %s "$work/out/items.db")
    page=$(sqlite3 "$work/out/items.db" 'PRAGMA page_size')
    KEEP=1 run again --nosql "sqlite:$work/out/items.db" --formats none
    n=$(sqlite3 "$work/out/items.db" 'SELECT count(*) FROM items')
    [ "$n" = "$loaded" ] || { echo "items run again: $n items for $loaded rows" >&2; exit 1; }
    size_again=$(stat -c %s "$work/out/items.db")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

table=$(python3 - "$work/runs" "$rows" "$runs" "$size" "$page" "$load_before" "$load_after" \
    "$("$csvpipe" --version | head -1)" "$(nproc)" "$size_again" <<'PY'
import statistics, sys, datetime
path, rows, runs, size, page, lb, la, version, cores, size_again = sys.argv[1:]
r = {}
for line in open(path):
    name, wall, cpu, kb = line.split()
    r.setdefault(name, []).append((float(wall), float(cpu), int(kb)))
def med(name, i):
    return statistics.median(x[i] for x in r[name])
def rng(name, i):
    v = [x[i] for x in r[name]]
    return f"{min(v):.2f}–{max(v):.2f}"
cpu = open("/proc/cpuinfo").read().split("model name")[1].split(":")[1].split("\n")[0].strip()
print(f"{runs} runs each, alternating; {cores} cores, {cpu}; {datetime.date.today()}; "
      f"load average before {lb}, after {la} (the machine is shared: wall times move with "
      f"the load, CPU times much less). {version}.\n")
print("| load | time median (s) | time min–max (s) | CPU median (s) | CPU min–max (s) | peak RSS median (MB) | items / Parquet (time) | items / Parquet (CPU) |")
print("|---|---|---|---|---|---|---|---|")
for name, label in (("parquet", f"Parquet only (`--formats parquet --no-nosql`), {int(rows):,} rows"),
                    ("items", f"items only (`--nosql sqlite:… --formats none`), a new store: {int(size)/1e6:,.0f} MB, {page}-byte pages"),
                    ("again", f"items only, the same file again into that store (its items replaced): {int(size_again)/1e6:,.0f} MB after")):
    ratio_t = "" if name == "parquet" else f"{med(name, 0) / med('parquet', 0):.2f}"
    ratio_c = "" if name == "parquet" else f"{med(name, 1) / med('parquet', 1):.2f}"
    print(f"| {label} | {med(name, 0):.2f} | {rng(name, 0)} | {med(name, 1):.2f} | {rng(name, 1)} | "
          f"{med(name, 2) / 1024:.0f} | {ratio_t} | {ratio_c} |")
rt, rc = med("items", 0) / med("parquet", 0), med("items", 1) / med("parquet", 1)
verdict = "met" if max(rt, rc) <= 3 else "not met"
print(f"\nIssue 15, acceptance 3 (items-only load at most 3× the Parquet-only time): {rt:.1f}× "
      f"in wall time, {rc:.1f}× in CPU time — **{verdict}** (the same file loaded again: "
      f"{med('again', 0) / med('parquet', 0):.1f}× and {med('again', 1) / med('parquet', 1):.1f}×). "
      f"Where the time goes: `src/load/items_sqlite.c` (header) and bench/README.md.")
PY
)
printf '%s\n' "$table"
printf '# The item store against Parquet (bench/items_vs_parquet.sh)\n\n%s\n' "$table" \
    >"$root/bench/results/items.md"
printf '## The item store against Parquet (bench/items_vs_parquet.sh)\n\n%s\n' "$table" |
    python3 "$root/bench/results_section.py" items_vs_parquet "$root/bench/results/latest.md"
