#!/usr/bin/env bash
# Issue 8, acceptance 2, and issue 12, acceptance 3: the template keeps its promises,
# checked structurally (tests/deploy/check_template.py): every piece present, the Grafana
# task security group reachable only from the ALB's, RDS private and encrypted and reached
# only through RDS Proxy over verified TLS, buckets encrypted with public access blocked,
# the notification filter (incoming/, .csv) and the separate output bucket so outputs never
# invoke the function, no circular dependency, no IAM "*" on "*"; no reserved concurrency by
# default, HTTPS by default, the database roles and who reads which secret, IAM actions
# exactly those csvpipe's source calls, the big-file task and its permissions, Fargate
# CPU/memory rules, immutable tags, access logs and RDS log exports. Then each promise
# broken on purpose in a copy (tests/deploy/mutate_template.py) must fail its check.
source "$(dirname "$0")/lib.bash"
run python3 "$CP_SOURCE_DIR/tests/deploy/check_template.py"
cat "$TMP/out"
expect_rc "template structure" 0
sed 's/^/    stderr: /' "$TMP/err" | head -20
run python3 "$CP_SOURCE_DIR/tests/deploy/mutate_template.py"
cat "$TMP/out"
expect_rc "every broken promise is caught by its check" 0
sed 's/^/    stderr: /' "$TMP/err" | head -20
finish
