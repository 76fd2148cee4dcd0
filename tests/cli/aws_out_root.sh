#!/usr/bin/env bash
# An output location with a trailing slash names the same place as without one: with
# --out s3://BUCKET/ (what the CloudFormation template gives the Lambda) the outputs are
# parquet/..., json/... at the bucket's root, not "/parquet/..." (an empty folder name on
# S3), and `csvpipe lambda` refuses an event for such an output as its own. The same for a
# prefix: s3://BUCKET/lake/ writes lake/parquet/...
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
source "$CP_SOURCE_DIR/tests/aws/lambda_lib.bash"
cd "$TMP"
moto_start
python3 "$AWS_PY" mb root-out
printf 'id,produto\n1,café\n2,pão\n' >vendas.csv

for out in s3://root-out/ s3://root-out/lake/ s3://root-out/deep//; do
    python3 - <<'PY'
import boto3, os
s3 = boto3.resource("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
s3.Bucket("root-out").objects.all().delete()
PY
    prefix=${out#s3://root-out/}
    prefix=${prefix%%/*}
    prefix=${prefix:+$prefix/}
    run "$CSVPIPE" run --json --quiet --no-sql --no-nosql --out "$out" vendas.csv
    expect_rc "run --out $out" 0
    expect_eq "--out $out: keys without an empty folder" \
        "$(python3 "$AWS_PY" ls root-out '' | tr '\n' ' ')" \
        "${prefix}json/vendas/vendas.jsonl ${prefix}parquet/vendas/vendas.parquet "
done

# The Lambda refuses an event for its own output at the bucket's root.
python3 - <<'PY'
import json
json.dump({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                        "s3": {"bucket": {"name": "root-out"},
                               "object": {"key": "parquet/vendas/vendas.parquet", "size": 1,
                                          "sequencer": "01"}}}]}, open("own.json", "w"))
PY
export CSVPIPE_OUT=s3://root-out/
lambda_invoke own -- own.json
expect_rc "one invocation" 0
expect_eq "an output at the root of CSVPIPE_OUT=s3://root-out/ is refused" \
    "$(rec '[i["status"] for i in j["invocations"][0]["body"]["ignored"]]')" "['refused']"
finish
