#!/usr/bin/env bash
# Issue 8, acceptance 4 (CloudWatch half): every CloudWatch query in the Grafana dashboards,
# the CloudFormation dashboard and the alarms names a metric csvpipe emits (the X-macro list
# in src/aws/metrics.h, read at test time) or one AWS publishes; the dashboards cover the
# EMF metrics, Lambda, the DLQ, ECS, the task count and the ALB.
# The PostgreSQL half is deploy_dashboards_pg.sh.
source "$(dirname "$0")/lib.bash"
for f in "$CP_SOURCE_DIR"/deploy/grafana/dashboards/*.json; do
    run python3 -m json.tool "$f"
    expect_rc "$(basename "$f") is valid JSON" 0
done
run python3 "$CP_SOURCE_DIR/tests/deploy/check_dashboards.py"
cat "$TMP/out"
expect_rc "CloudWatch metrics exist" 0
sed 's/^/    stderr: /' "$TMP/err" | head -20
finish
