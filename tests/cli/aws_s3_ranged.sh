#!/usr/bin/env bash
# Issue 15, S3 objects read by ranged GETs in parallel (moto, signature checking on, parts
# of 64 KiB): the bytes come out whole and in order, through a rewind inside the first
# part and one past it; parts that complete out of order (the proxy holds the first part
# back until another was answered) still come out in order; parts whose connections are
# reset mid-body, or answered 500 or 503 SlowDown, resume from their own offsets; 0-byte,
# one-part and just-over-one-part objects; a versioned object; `csvpipe run` of an object
# in parts gives the Parquet and NDJSON of the local file byte for byte, also after a
# widen that rereads from byte 0, with one GET per part when the sniffer's sample fits in
# the first (its rewind refetches nothing); an object overwritten while it is being read
# fails the load naming the object, with nothing published.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/fault_lib.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
cd "$TMP"

moto_start
moto_enable_auth
python3 "$AWS_PY" mb csvpipe-in
export CSVPIPE_S3_GET_PART_BYTES=65536 CSVPIPE_S3_GETS_IN_FLIGHT=4

md5() { md5sum <"$1" | cut -d' ' -f1; }
head -c 3000001 /dev/urandom >obj
python3 "$AWS_PY" put csvpipe-in dir/obj.bin obj
want=$(md5 obj)

expect_get "GET in parts" "the parts put together are the object" "$want" get s3://csvpipe-in/dir/obj.bin
expect_err "46 parts of 64 KiB, no resume" "size=3000001 etag=[0-9a-f]{32} version=- resumes=0 position=3000001 parts=46 "

expect_get "rewind inside the first part" "after it the whole object again" "$want" get-rewind s3://csvpipe-in/dir/obj.bin 1000
expect_get "rewind from the 16th part" "after it the whole object again" "$want" get-rewind s3://csvpipe-in/dir/obj.bin 1000000

CSVPIPE_S3_GETS_IN_FLIGHT=1 expect_get "one GET in flight" "one streaming GET reads the same bytes" "$want" get s3://csvpipe-in/dir/obj.bin
expect_err "one streaming GET, no parts" "parts=0 "

CSVPIPE_S3_GET_PART_BYTES=lots CSVPIPE_S3_GETS_IN_FLIGHT=-3 run "$AWS_TOOL" get s3://csvpipe-in/dir/obj.bin
expect_rc "garbage settings" 0
expect_err "garbage part size ignored with a warning" "CSVPIPE_S3_GET_PART_BYTES: 'lots' is not a positive whole number; ignored"
expect_err "garbage in-flight count ignored with a warning" "CSVPIPE_S3_GETS_IN_FLIGHT: '-3' is not a positive whole number; ignored"
expect_err "the defaults: 8 MiB parts, one GET for 3 MB" "parts=0 "
expect_eq "and the same bytes" "$(md5 "$TMP/out")" "$want"

for n in 0 65536 65537; do
    head -c "$n" obj >"obj$n"
    python3 "$AWS_PY" put csvpipe-in "dir/obj$n.bin" "obj$n"
    run "$AWS_TOOL" get "s3://csvpipe-in/dir/obj$n.bin"
    expect_rc "a $n-byte object" 0
    expect_eq "a $n-byte object reads whole" "$(md5 "$TMP/out")" "$(md5 "obj$n")"
done
expect_err "65,537 bytes: two parts" "parts=2 "
run "$AWS_TOOL" get s3://csvpipe-in/dir/obj65536.bin
expect_rc "one part" 0
expect_err "65,536 bytes: one streaming GET" "size=65536 .* parts=0 "

python3 "$AWS_PY" mb csvpipe-versioned
python3 "$AWS_PY" versioning csvpipe-versioned
python3 "$AWS_PY" put csvpipe-versioned v.bin obj
expect_get "a versioned object in parts" "a versioned object reads whole" "$want" get s3://csvpipe-versioned/v.bin
expect_err "with its version id" "version=[^-][^ ]* resumes=0 .* parts=46 "

# the proxy answers part 0 only after another part: they complete out of order
proxy_start --rate 0 --hold-first-part
AWS_ENDPOINT_URL=$PROXY_URL expect_get "GET with the first part held back" "bytes in order though parts were not" "$want" get s3://csvpipe-in/dir/obj.bin
early=$(sed -n 's/.* early=\([0-9]*\).*/\1/p' "$TMP/err")
expect_eq "parts completed before an earlier one ($early)" "$((${early:-0} > 0))" 1

export CSVPIPE_AWS_MAX_ATTEMPTS=12
proxy_start --rate 0.3 --seed 5 --faults reset,500,throttle
AWS_ENDPOINT_URL=$PROXY_URL expect_get "GET in parts through connection resets, 500s and throttling" "the object whole through the faults" "$want" get s3://csvpipe-in/dir/obj.bin
resets=$(proxy_stat reset)
others=$(($(proxy_stat 500) + $(proxy_stat throttle)))
resumes=$(sed -n 's/.*resumes=\([0-9]*\).*/\1/p' "$TMP/err")
expect_eq "the proxy reset part GETs mid-body ($resets) and failed others ($others)" \
    "$((resets > 0 && others > 0))" 1
expect_eq "each reset part resumed ($resumes)" "$((${resumes:-0} >= resets))" 1

# csvpipe run: an object in parts gives the local file's outputs byte for byte
"$GEN_SALES" --rows 30000 --seed 8 >sales.csv
python3 "$AWS_PY" put csvpipe-in incoming/sales/sales.csv sales.csv
{
    echo "id,code,amount"
    for i in $(seq 1 25000); do echo "$i,$i,$i.50"; done
    echo "25001,X-17,1.25"
    for i in $(seq 25002 25100); do echo "$i,$i,2.00"; done
} >widen.csv
python3 "$AWS_PY" put csvpipe-in incoming/widen/widen.csv widen.csv
# same NAME LOCAL DATASET STEM: out-NAME's Parquet and NDJSON are out-LOCAL's
same() { expect_same_files "out-$1" "out-$2" "parquet/$3/$4.parquet" "json/$3/$4.jsonl"; }
for f in sales widen; do
    run "$CSVPIPE" run --json --quiet --no-sql --no-nosql --out "out-local-$f" "$f.csv"
    expect_rc "local $f.csv" 0
    run "$CSVPIPE" run --json --quiet --no-sql --no-nosql --out "out-s3-$f" \
        "s3://csvpipe-in/incoming/$f/$f.csv"
    expect_rc "$f.csv from S3 in parts" 0
    expect_eq "$f: loaded, every row" "$(json_get "$TMP/out" 'j["status"]')" loaded
    same "s3-$f" "local-$f" "$f" "$f"
done
# the sniffer's sample (1 MiB) comes from the first part when it fits (parts of 1.1 MB
# here, 8 MiB by default), and its rewind fetches nothing again: one GET per part
proxy_start --rate 0 --record "$TMP/record.jsonl"
CSVPIPE_S3_GET_PART_BYTES=1100000 AWS_ENDPOINT_URL=$PROXY_URL run "$CSVPIPE" run --json \
    --quiet --no-sql --no-nosql --out out-s3-recorded s3://csvpipe-in/incoming/sales/sales.csv
expect_rc "sales.csv through the recorder" 0
same s3-recorded local-sales sales sales
expect_eq "one GET per part: the rewind after the sample refetched nothing" \
    "$(grep -c '"method": "GET", "path": "/csvpipe-in/incoming/sales/sales.csv"' "$TMP/record.jsonl")" \
    "$((($(stat -c %s sales.csv) + 1099999) / 1100000))"
proxy_start --rate 0.3 --seed 5 --faults reset,500,throttle
AWS_ENDPOINT_URL=$PROXY_URL run "$CSVPIPE" run --json --quiet --no-sql --no-nosql \
    --out out-s3-resets s3://csvpipe-in/incoming/sales/sales.csv
expect_rc "sales.csv from S3 in parts through resets, 500s and throttling" 0
same s3-resets local-sales sales sales

# overwritten while being read: the load stops at its first batch, the object is
# replaced, the parts not yet fetched answer 412
"$GEN_SALES" --rows 150000 --seed 9 >big.csv
"$GEN_SALES" --rows 150000 --seed 10 >big2.csv
python3 "$AWS_PY" put csvpipe-in incoming/big/big.csv big.csv
bg over env CSVPIPE_PAUSE_AT=streaming "$CSVPIPE" run --json --quiet --no-sql --no-nosql \
    --out out-over s3://csvpipe-in/incoming/big/big.csv
pid=$BG_PID
wait_stopped "the load stopped at its first batch" "$pid"
python3 "$AWS_PY" put csvpipe-in incoming/big/big.csv big2.csv
kill -CONT "$pid"
expect_exit "the load of an object replaced mid-read fails" "$pid" 1 "$TMP/over.err"
expect_eq "reported as failed" "$(json_get "$TMP/over.out" 'j["status"]')" failed
err=$(json_get "$TMP/over.out" 'j["error"]')
case $err in
*"s3://csvpipe-in/incoming/big/big.csv changed while it was being read"*)
    pass "the error names the object and says it changed" ;;
*) fail "the error does not say the object changed: $err" ;;
esac
expect_eq "nothing published" "$(find out-over -name '*.parquet' -o -name '*.jsonl' | wc -l)" 0

finish
