# The AWS client through tests/aws/fault_proxy.py (30% of requests faulted, fixed seed) in
# front of moto with signature checking on: S3 GETs reset mid-stream resume with Range and
# still equal the object; uploads survive throttling and 500s; 2,000 DynamoDB items with
# throttling and UnprocessedItems are each written exactly once, and the writer's window of
# requests in flight halves on them (while straight to moto it only grows).
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"

moto_start
moto_enable_auth
python3 "$AWS_PY" mb csvpipe-in
head -c 8000000 /dev/urandom >"$TMP/obj"
python3 "$AWS_PY" put csvpipe-in data/obj.bin "$TMP/obj"
want=$(md5sum <"$TMP/obj" | cut -d' ' -f1)
"$AWS_TOOL" ddb-create csvpipe-items
export CSVPIPE_AWS_MAX_ATTEMPTS=12

proxy_start --rate 0.3 --seed 11 --faults reset,500
resumes=0
for i in 1 2 3 4 5 6; do
    AWS_ENDPOINT_URL=$PROXY_URL run "$AWS_TOOL" get s3://csvpipe-in/data/obj.bin
    expect_rc "GET $i through connection resets and 500s" 0
    expect_eq "GET $i equals the object" "$(md5sum <"$TMP/out" | cut -d' ' -f1)" "$want"
    n=$(sed -n 's/.*resumes=\([0-9]*\).*/\1/p' "$TMP/err")
    resumes=$((resumes + ${n:-0}))
done
resets=$(proxy_stat reset)
expect_eq "the proxy reset connections mid-stream ($resets)" "$((resets > 0))" 1
expect_eq "reads resumed with Range after the resets ($resumes)" "$((resumes >= resets))" 1

proxy_start --rate 0.3 --seed 3 --faults throttle,500
head -c 12000000 /dev/urandom >"$TMP/big"
AWS_ENDPOINT_URL=$PROXY_URL run "$AWS_TOOL" put s3://csvpipe-in/out/big.bin "$TMP/big" 5242880
expect_rc "multipart upload through throttling and 500s" 0
expect_eq "boto3 reads back the upload" "$(python3 "$AWS_PY" md5 csvpipe-in out/big.bin)" \
    "$(md5sum <"$TMP/big" | cut -d' ' -f1)"
expect_eq "no multipart upload left behind" "$(python3 "$AWS_PY" uploads csvpipe-in)" 0

# window_stat NAME: "largest" or "halved" from the writer's debug line in $TMP/err
window_stat() {
    case $1 in
    largest) sed -n 's/.*(largest \([0-9]*\), halved.*/\1/p' "$TMP/err" | tail -1 ;;
    halved) sed -n 's/.*, halved \([0-9]*\) times).*/\1/p' "$TMP/err" | tail -1 ;;
    esac
}

CSVPIPE_LOG=debug run "$AWS_TOOL" ddb-put csvpipe-items s3://csvpipe-in/incoming/sales/calm.csv 2000
expect_rc "2,000 items straight to moto" 0
largest=$(window_stat largest)
expect_eq "without throttling the window grew past 8 (to ${largest:-?})" "$((${largest:-0} > 8))" 1
expect_eq "and was never halved" "$(window_stat halved)" 0

proxy_start --rate 0.3 --seed 5 --faults throttle,unprocessed,500
src=s3://csvpipe-in/incoming/sales/faults.csv
AWS_ENDPOINT_URL=$PROXY_URL CSVPIPE_LOG=debug run "$AWS_TOOL" ddb-put csvpipe-items "$src" 2000
expect_rc "2,000 items through throttling, UnprocessedItems and 500s" 0
halved=$(window_stat halved)
expect_eq "throttling and UnprocessedItems halved the window (${halved:-?} times)" \
    "$((${halved:-0} > 0))" 1
run python3 "$AWS_PY" ddb-check csvpipe-items 2000 "$src"
expect_rc "every item written exactly once with its values" 0
expect_out "items read back" "^2000 items, 0 problems"
unprocessed=$(proxy_stat unprocessed_items)
throttled=$(proxy_stat throttle)
expect_eq "items were left unprocessed and resent ($unprocessed)" "$((unprocessed > 0))" 1
expect_eq "requests were throttled ($throttled)" "$((throttled > 0))" 1

python3 "$AWS_PY" secret db '{"username":"u","password":"p","host":"h","port":"5432","dbname":"d"}'
AWS_ENDPOINT_URL=$PROXY_URL run "$AWS_TOOL" conninfo db
expect_rc "GetSecretValue through the proxy" 0
expect_out "conninfo" "^host='h' port='5432' dbname='d' user='u' password='p'$"

finish
