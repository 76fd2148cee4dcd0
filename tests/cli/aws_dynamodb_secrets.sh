# DynamoDB items and Secrets Manager through the AWS client against moto with signature
# checking on: --create-table, 2,000 keyless items read back by boto3 (keys, exact
# numbers, nulls absent), a shorter re-upload deletes the stale items, an item over 400 KB
# is a bad row naming its row, an RDS secret becomes a libpq conninfo.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"

moto_start
moto_enable_auth

run "$AWS_TOOL" ddb-create csvpipe-items
expect_rc "create the items table and wait until ACTIVE" 0
run "$AWS_TOOL" ddb-create csvpipe-items
expect_rc "creating an existing table is fine" 0

src=s3://csvpipe-in/incoming/sales/2024-01.csv
run "$AWS_TOOL" ddb-put csvpipe-items "$src" 2000
expect_rc "2,000 items by BatchWriteItem" 0
run python3 "$AWS_PY" ddb-check csvpipe-items 2000 "$src"
expect_rc "every item once with its keys and exact values" 0
expect_out "items read back" "^2000 items, 0 problems"
python3 "$AWS_PY" ddb-scan csvpipe-items "$TMP/items.ndjson"
expect_eq "numbers are exact strings" "$(grep -c '"price": {"N": "1999.90"}' "$TMP/items.ndjson")" 1

run "$AWS_TOOL" ddb-put csvpipe-items "$src" 1500 2000
expect_rc "re-upload with fewer rows" 0
run python3 "$AWS_PY" ddb-check csvpipe-items 1500 "$src"
expect_rc "stale items 1501..2000 were deleted" 0
expect_out "re-upload read back" "^1500 items, 0 problems"

run "$AWS_TOOL" ddb-put csvpipe-items s3://b/big.csv 60 0 42
expect_rc "an oversized item does not fail the load" 0
expect_err "the oversized item is a bad row naming its row" \
    "bad row 42: row 42 of s3://b/big.csv: its DynamoDB item is [0-9]+ bytes, over the 400 KB"
expect_err "the other rows are written" "wrote 60 rows, 1 bad rows"

run "$AWS_TOOL" ddb-put no-such-table "$src" 10
expect_rc "a missing table fails" 1
expect_err "missing table says what to do" "table no-such-table does not exist.*--create-table"

python3 "$AWS_PY" secret prod/rds '{"engine":"postgres","username":"csv pipe","password":"p'"'"'a\\ss","host":"db.example.com","port":5432,"dbname":"warehouse"}'
run "$AWS_TOOL" conninfo prod/rds
expect_rc "GetSecretValue (signature verified)" 0
expect_eq "conninfo quoted per libpq" "$(cat "$TMP/out")" \
    "host='db.example.com' port='5432' dbname='warehouse' user='csv pipe' password='p\\'a\\\\ss'"
python3 "$AWS_PY" secret broken '{"username":"u","host":"h"}'
run "$AWS_TOOL" conninfo broken
expect_rc "a secret without a password" 1
expect_err "the missing member is named" 'no usable "port"|no usable "password"'
run "$AWS_TOOL" secret missing/secret
expect_rc "a missing secret" 1
expect_err "missing secret is NOT_FOUND" "NOT_FOUND: secret missing/secret does not exist"

finish
