#!/usr/bin/env bash
# Issue 13, section 1: kill -9 at every named step of the commit (src/util/fault.h) with
# S3 in and out, DynamoDB items and PostgreSQL rows (moto and a throwaway server). As
# crash_points_local.sh: a clean load lists its points (part-way through the DynamoDB pass
# among them), then a copy of the object is loaded by a process that kills itself at each
# point and loaded again. A file wide enough for multipart uploads (two 5 MiB parts each)
# is killed after a part was sent and after each upload was completed. `csvpipe lambda`
# is killed before and after it answers the invocation, and the event is delivered again.
# At the end the independent oracles find, for every copy, every row exactly once and
# equal to the source in Parquet (read back by DuckDB), NDJSON, DynamoDB and PostgreSQL,
# one `loaded` ledger row, and no multipart upload left in progress.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/fault_lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
cd "$TMP"
pg_start
moto_start
python3 "$AWS_PY" mb crash-in
python3 "$AWS_PY" mb crash-out
"$AWS_TOOL" ddb-create crash-items
"$GEN_SALES" --rows 500 --seed 33 >base.csv 2>/dev/null
# 700 rows of 9 KB: Parquet and NDJSON of some 6 MB, two parts of 5 MiB each
wide_csv 34 700 >wide.csv
WIDE_TYPES=(--types "INT64 DECIMAL(18,2) DATE STRING")
[ ${#ORACLE_TYPES[@]} -eq 0 ] && WIDE_TYPES=()
export CSVPIPE_S3_PART_SIZE=5242880
opts=(--json --quiet --out s3://crash-out/lake --sql "$PG_URL" --nosql dynamodb:crash-items)
checks=() # "csv key summary-of-the-clean-load types" of every copy, checked at the end

loaded_rows() {
    pg_psql "SELECT count(*) FROM csvpipe_loads WHERE source_uri = '$1' AND status = 'loaded'"
}

# one_point CSV CLEAN_SUMMARY POINT: a copy of CSV at key at-POINT.csv, loaded by a process
# killed at POINT, then loaded again.
one_point() {
    local csv=$1 clean=$2 p=$3 key="at-$3.csv"
    crash_at "$p" "$p" "$CSVPIPE" run "${opts[@]}" "s3://crash-in/$key"
    expect_eq "$p: loaded in the ledger only once committed" "$(loaded_rows "s3://crash-in/$key")" \
        "$([ "$p" = committed ] && echo 1 || echo 0)"
    run "$CSVPIPE" run "${opts[@]}" "s3://crash-in/$key"
    expect_rc "$p: the rerun" 0
    expect_eq "$p: the rerun's status" "$(json_get "$TMP/out" 'j["status"]')" \
        "$([ "$p" = committed ] && echo skipped || echo loaded)"
    checks+=("$csv $key $clean")
}

python3 "$AWS_PY" put crash-in clean.csv base.csv
run env CSVPIPE_TRACE_POINTS="$TMP/clean.trace" "$CSVPIPE" run "${opts[@]}" s3://crash-in/clean.csv
expect_rc "a clean load" 0
cp "$TMP/out" clean.json
checks+=("base.csv clean.csv clean.json")
points=$(unique_points clean.trace)
expect_eq "the points of a load, in order" "$points" \
    "locked streaming streamed parquet-written json-written copy-sent copy-ended parquet-published json-published rejects-published dynamodb-batch-written deferred-written items-committed ledger-row committed"
keys=()
for p in $points; do
    keys+=("at-$p.csv")
done
s3_put_many crash-in base.csv "${keys[@]}" at-lambda-responding.csv at-lambda-responded.csv
for p in $points; do
    one_point base.csv clean.json "$p"
done

# Multipart uploads: killed with a part sent, and after each completion.
s3_put_many crash-in wide.csv wide-clean.csv at-wide-s3-part-sent.csv at-wide-parquet-published.csv \
    at-wide-json-published.csv
run env CSVPIPE_TRACE_POINTS="$TMP/wide.trace" "$CSVPIPE" run "${opts[@]}" s3://crash-in/wide-clean.csv
expect_rc "a clean load of the wide file" 0
cp "$TMP/out" wide.json
expect_eq "its outputs went up in parts" "$(grep -c '^s3-part-sent$' wide.trace)" 4
for p in s3-part-sent parquet-published json-published; do
    crash_at "wide $p" "$p" "$CSVPIPE" run "${opts[@]}" "s3://crash-in/at-wide-$p.csv"
    run "$CSVPIPE" run "${opts[@]}" "s3://crash-in/at-wide-$p.csv"
    expect_rc "wide $p: the rerun" 0
    checks+=("wide.csv at-wide-$p.csv wide.json")
done

# The Lambda runtime, killed before and after it answers; the event comes again.
for p in lambda-responding lambda-responded; do
    key="at-$p.csv"
    python3 -c 'import json,sys
rec = {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
       "s3": {"bucket": {"name": "crash-in"}, "object": {"key": sys.argv[1], "sequencer": "0A"}}}
json.dump({"Records": [rec]}, open(sys.argv[2], "w"))' "$key" "$p.event.json"
    for attempt in 1 2; do
        rm -f "$TMP/$p.port"
        python3 "$CP_SOURCE_DIR/tests/aws/runtime_harness.py" --record "$TMP/$p.$attempt.json" \
            --port-file "$TMP/$p.port" --timeout 120 "$p.event.json" >/dev/null 2>&1 &
        hpid=$!
        for _ in $(seq 1 600); do
            [ -s "$TMP/$p.port" ] && break
            sleep 0.1
        done
        env=(AWS_LAMBDA_RUNTIME_API="$(cat "$TMP/$p.port")" CSVPIPE_OUT=s3://crash-out/lake
            CSVPIPE_SQL="$PG_URL" CSVPIPE_NOSQL=dynamodb:crash-items)
        if [ $attempt = 1 ]; then
            crash_at "$p" "$p" timeout 120 env "${env[@]}" "$CSVPIPE" lambda --max-invocations 1
            kill $hpid 2>/dev/null || true
        else
            run timeout 120 env "${env[@]}" "$CSVPIPE" lambda --max-invocations 1
            expect_rc "$p: the event again" 0
        fi
        wait $hpid 2>/dev/null || true
    done
    expect_eq "$p: the first answer" \
        "$(json_get "$TMP/$p.1.json" 'j["invocations"][0]["outcome"]')" \
        "$([ $p = lambda-responding ] && echo None || echo response)"
    expect_eq "$p: the event again: a repeat" \
        "$(json_get "$TMP/$p.2.json" '[f["status"] for f in j["invocations"][0]["body"]["files"]]')" \
        "['skipped']"
    checks+=("base.csv $key clean.json")
done

# Every copy, in every store.
python3 "$AWS_PY" ddb-scan crash-items items.ndjson
mkdir -p got
gets=()
for c in "${checks[@]}"; do
    read -r csv key clean <<<"$c"
    stem=${key%.csv}
    gets+=("lake/parquet/${stem//-/_}/$stem.parquet" "lake/json/${stem//-/_}/$stem.jsonl")
done
s3_get_many crash-out got "${gets[@]}"
read_parquets got/*.parquet
for c in "${checks[@]}"; do
    read -r csv key clean <<<"$c"
    stem=${key%.csv}
    ds=${stem//-/_}
    types=("${ORACLE_TYPES[@]}")
    [ "$csv" = wide.csv ] && types=("${WIDE_TYPES[@]}")
    summary_as "$clean" "s3://crash-in/$key" "$ds" >"$stem.summary"
    check_load --csv "$csv" --summary "$stem.summary" \
        --parquet-rows "got/lake_parquet_${ds}_$stem.parquet.ndjson" \
        --ndjson "got/lake_json_${ds}_$stem.jsonl" --ddb-items items.ndjson "${types[@]}"
    if python3 "$CP_SOURCE_DIR/tests/pg/check_pg.py" --csv "$csv" --summary "$stem.summary" \
        --pg "$PG_URL" "${types[@]}" >"$TMP/check_pg.out" 2>&1; then
        pass "$key: PostgreSQL oracle: $(grep -c '^ok' "$TMP/check_pg.out") checks"
    else
        fail "$key: PostgreSQL oracle found differences"
        grep -v '^ok' "$TMP/check_pg.out" | sed 's/^/    /' | head -20
    fi
    expect_eq "$key: one loaded ledger row" "$(loaded_rows "s3://crash-in/$key")" 1
done
expect_eq "no multipart upload left in progress" "$(python3 "$AWS_PY" uploads crash-out)" 0
finish
