#!/usr/bin/env bash
# Benchmark (issue 5, acceptance 6): `csvpipe run --sql postgresql://...` against `psql \copy`
# of the same CSV into the same typed table on the same throwaway PostgreSQL server.
#
# csvpipe sniffs, parses and types every value and sends COPY (FORMAT binary); \copy ships
# the bytes and lets the server parse the CSV. Both tables have the same columns and types
# (the \copy table is made LIKE csvpipe's, with its unique (_source, _row) index, _source
# and _row filled by defaults). Each side runs RUNS times, alternating; the median wall time
# counts. The server runs with its default durability (fsync on).
#
# Usage: bench/pg_vs_copy.sh [ROWS] [RUNS]     (defaults 1000000 and 3)
# Env:   CSVPIPE (a csvpipe binary; default: a Release build in build-bench/), GEN_SALES.
# Output: a Markdown table on stdout and in bench/results/pg_vs_copy.md.
set -euo pipefail
ROWS=${1:-1000000}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${CSVPIPE:-}" ]; then
    cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release -DCSVPIPE_TESTS=OFF >/dev/null
    cmake --build "$ROOT/build-bench" -j"$(nproc)" --target csvpipe gen_sales >/dev/null
    CSVPIPE="$ROOT/build-bench/csvpipe"
    GEN_SALES="$ROOT/build-bench/tools/gen_sales"
fi
GEN_SALES=${GEN_SALES:-$(dirname "$CSVPIPE")/tools/gen_sales}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/csvpipe-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export PG_FSYNC=on
source "$ROOT/tests/pg/pg.bash"
pg_start

CSV="$TMP/sales.csv"
"$GEN_SALES" --rows "$ROWS" --seed 42 >"$CSV"
BYTES=$(stat -c %s "$CSV")
cd "$TMP"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# csvpipe makes the table the first time; \copy gets the same one.
"$CSVPIPE" run --quiet --sql "$PG_URL" --no-nosql --formats none --table bench_csvpipe "$CSV" >/dev/null
pg_psql "CREATE TABLE bench_copy (LIKE bench_csvpipe INCLUDING INDEXES);
         CREATE SEQUENCE bench_copy_row;
         ALTER TABLE bench_copy ALTER _source SET DEFAULT 'file://$CSV',
                                ALTER _row SET DEFAULT nextval('bench_copy_row')"
cols=$(pg_psql "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'bench_csvpipe' AND column_name NOT IN ('_source', '_row')")
types=$(pg_psql "SELECT string_agg(format_type(atttypid, atttypmod), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'bench_csvpipe'::regclass AND attnum > 0")

: >csvpipe.times
: >copy.times
for ((r = 1; r <= RUNS; r++)); do
    pg_psql "DROP TABLE bench_csvpipe; DELETE FROM csvpipe_loads; DELETE FROM csvpipe_columns WHERE dataset = 'bench_csvpipe'; CHECKPOINT"
    t0=$(now)
    "$CSVPIPE" run --quiet --sql "$PG_URL" --no-nosql --formats none --table bench_csvpipe "$CSV" >run.out 2>&1 </dev/null
    t1=$(now)
    echo "$t1 - $t0" | bc -l >>csvpipe.times
    [ "$(pg_psql "SELECT count(*) FROM bench_csvpipe")" = "$ROWS" ] || { echo "csvpipe loaded a wrong number of rows" >&2; cat run.out >&2; exit 1; }

    pg_psql "TRUNCATE bench_copy; ALTER SEQUENCE bench_copy_row RESTART; CHECKPOINT"
    t0=$(now)
    psql "$PG_URL" -X -q -v ON_ERROR_STOP=1 -c "\\copy bench_copy ($cols) FROM '$CSV' WITH (FORMAT csv, HEADER true)" </dev/null
    t1=$(now)
    echo "$t1 - $t0" | bc -l >>copy.times
    [ "$(pg_psql "SELECT count(*) FROM bench_copy")" = "$ROWS" ] || { echo "\\copy loaded a wrong number of rows" >&2; exit 1; }
done
same=$(pg_psql "SELECT count(*) FROM (SELECT $cols FROM bench_csvpipe EXCEPT ALL SELECT $cols FROM bench_copy) d")

tc=$(median <csvpipe.times)
tp=$(median <copy.times)
mb=$(echo "$BYTES / 1048576" | bc -l)
row() { printf '| %s | %.2f | %s | %.0f | %.1f |\n' "$1" "$2" "$3" "$(echo "$ROWS / $2" | bc -l)" "$(echo "$mb / $2" | bc -l)"; }
{
    echo "# csvpipe vs psql \\copy into PostgreSQL"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')),"
    echo "$($PG_BIN/postgres --version), local server on 127.0.0.1 (TCP), fsync on, default settings."
    echo "Input: tools/gen_sales --rows $ROWS --seed 42 ($(printf '%.1f' "$mb") MiB). Table columns:"
    echo "$types (the last two are _source and _row, unique together)."
    echo "Load average when done: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; other work adds noise)."
    echo "Median of $RUNS runs each, alternating; wall time of the whole command (csvpipe: sniff, parse,"
    echo "type, COPY binary, ledger, commit; \\copy: psql ships the CSV, the server parses it)."
    echo
    echo "| loader | seconds | runs (s) | rows/s | MiB/s |"
    echo "|---|---:|---|---:|---:|"
    row "csvpipe run --sql postgresql://… --no-nosql --formats none" "$tc" "$(paste -sd' ' csvpipe.times | xargs printf '%.2f ')"
    row "psql \\copy … (FORMAT csv)" "$tp" "$(paste -sd' ' copy.times | xargs printf '%.2f ')"
    echo
    printf '**Ratio csvpipe / \\copy: %.2f** (below 1: csvpipe is faster).\n' "$(echo "$tc / $tp" | bc -l)"
    echo
    echo "Rows that differ between the two tables (EXCEPT ALL over the typed columns): $same."
} | tee "$ROOT/bench/results/pg_vs_copy.md"
