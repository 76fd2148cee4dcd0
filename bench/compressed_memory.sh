#!/usr/bin/env bash
# Compressed inputs stream (issue 14, acceptance 4): csvpipe's peak memory and time on a
# 1.7 GB sales CSV, gzipped and zstd-compressed, against the same CSV uncompressed. The
# target: the gzip run's peak RSS within 10% of the plain run's.
#
# Each input is loaded RUNS times (`csvpipe run --quiet --json --no-sql --no-nosql
# --formats FORMATS`, the memory check of compare.sh) under GNU time (/usr/bin/time -f
# '%e %M %U %S': wall seconds, peak RSS, user and system CPU seconds); the table shows the
# median times and the highest peak. CPU time is the steadier measure on a busy machine.
# Every run must load the same number of rows. Inputs are cached in bench/data/ (the CSV
# is the one compare.sh uses for its 1.7 GB check; the .gz is `gzip -6`, the .zst `zstd -3`).
#
# Usage: bench/compressed_memory.sh [BUILD_DIR] [BYTES]   (default build/, 1782579200)
# Env:   RUNS=3  FORMATS=parquet,json  OUT=bench/results/compressed.md
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
bytes=${2:-1782579200}
runs=${RUNS:-3}
formats=${FORMATS:-parquet,json}
result=${OUT:-$root/bench/results/compressed.md}
csvpipe="$build/csvpipe"
[ -x "$csvpipe" ] && [ -x "$build/tools/gen_sales" ] || make -C "$root" build BUILD="$build"

data="$root/bench/data"
mkdir -p "$data" "$(dirname "$result")"
plain="$data/sales-$bytes-bytes.csv"
if [ ! -f "$plain" ]; then
    echo "generating $plain" >&2
    "$build/tools/gen_sales" --bytes "$bytes" --style utf8 --seed 1 >"$plain.tmp" 2>/dev/null
    mv "$plain.tmp" "$plain"
fi
if [ ! -f "$plain.gz" ]; then
    echo "compressing $plain.gz" >&2
    gzip -6 -c "$plain" >"$plain.gz.tmp"
    mv "$plain.gz.tmp" "$plain.gz"
fi
if [ ! -f "$plain.zst" ]; then
    echo "compressing $plain.zst" >&2
    zstd -3 -q -c "$plain" >"$plain.zst.tmp"
    mv "$plain.zst.tmp" "$plain.zst"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cp-compressed.XXXXXX")
trap 'rm -rf "$work"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$work/runs"
for ((i = 1; i <= runs; i++)); do
    for input in plain gzip zstd; do # alternating, so a busy spell hits all three
        f=$plain
        [ $input = gzip ] && f=$plain.gz
        [ $input = zstd ] && f=$plain.zst
        rm -rf "$work/out"
        /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$csvpipe" run --quiet --json --no-sql --no-nosql \
            --formats "$formats" --out "$work/out" "$f" >"$work/summary" 2>"$work/stderr" || {
            echo "$input failed:" >&2
            cat "$work/stderr" >&2
            exit 1
        }
        rows=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"])' "$work/summary")
        echo "$input $(tail -1 "$work/time") $rows $(stat -c %s "$f")" >>"$work/runs"
        echo "  $input: $(tail -1 "$work/time") (s, KB, user s, sys s), $rows rows" >&2
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
export HEAD_INFO="$(nproc) cores, $cpu; $(date -u +%Y-%m-%d); load average before $load_before, after $load_after"
export CP_VERSION="$("$csvpipe" --version | head -1)" RUNS_N="$runs" FORMATS="$formats" BYTES="$bytes"
python3 - "$work/runs" "$result" <<'PY'
import os, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, secs, kb, user, sys_s, rows, size = line.split()
    runs.setdefault(name, []).append((float(secs), int(kb), int(rows), int(size),
                                      float(user) + float(sys_s)))
rows = {r[2] for v in runs.values() for r in v}
if len(rows) != 1:
    sys.exit(f"the inputs loaded different row counts: {sorted(rows)}")
peak = {k: max(r[1] for r in v) / 1024 for k, v in runs.items()}
out = [f"# Compressed input: peak memory and time ({os.environ['CP_VERSION']})", "",
       os.environ["HEAD_INFO"] + ".", "",
       f"`csvpipe run --quiet --json --no-sql --no-nosql --formats {os.environ['FORMATS']}` on "
       f"`gen_sales --bytes {os.environ['BYTES']} --style utf8 --seed 1` ({rows.pop():,} rows), "
       f"{os.environ['RUNS_N']} runs of each input, alternating; median times, highest peak RSS.", "",
       "| input | size (MB) | wall (s) | CPU (s) | CPU vs plain | peak RSS (MB) | peak vs plain |",
       "|---|---|---|---|---|---|---|"]
cpu = {k: statistics.median(r[4] for r in v) for k, v in runs.items()}
for name, label in (("plain", "CSV"), ("gzip", "CSV gzipped (`gzip -6`)"), ("zstd", "CSV zstd (`zstd -3`)")):
    v = runs[name]
    t = statistics.median(r[0] for r in v)
    out.append(f"| {label} | {v[0][3] / 1048576:,.0f} | {t:.1f} | {cpu[name]:.1f} | "
               f"{cpu[name] / cpu['plain']:.2f} | {peak[name]:.1f} | {peak[name] / peak['plain']:.3f} |")
ratio = peak["gzip"] / peak["plain"]
out += ["", f"Acceptance (issue 14, 4): the gzip run's peak RSS is {ratio:.3f}× the plain run's — "
        + ("**met**" if abs(ratio - 1) <= 0.10 else "**MISSED**") + " (target: within 10%)."]
text = "\n".join(out) + "\n"
open(sys.argv[2], "w").write(text)
print(text, end="")
PY
