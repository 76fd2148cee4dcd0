#!/usr/bin/env bash
# Issue 8, acceptance 2: the template keeps its promises, checked structurally
# (tests/deploy/check_template.py): every piece present, the Grafana task security group
# reachable only from the ALB's, RDS private and encrypted, buckets encrypted with public
# access blocked, the notification filter (incoming/, .csv) and the separate output bucket
# so outputs never invoke the function, no circular dependency, no IAM "*" on "*".
source "$(dirname "$0")/lib.bash"
run python3 "$CP_SOURCE_DIR/tests/deploy/check_template.py"
cat "$TMP/out"
expect_rc "template structure" 0
sed 's/^/    stderr: /' "$TMP/err" | head -20
finish
