#!/usr/bin/env bash
# Issue 8, acceptance 1: cfn-lint reports no error and no warning (nor informational
# finding) on the CloudFormation template.
source "$(dirname "$0")/lib.bash"
TEMPLATE="$CP_SOURCE_DIR/deploy/cloudformation/csvpipe.yaml"

if ! command -v cfn-lint >/dev/null 2>&1; then
    fail "cfn-lint is not installed (pip package cfn-lint; preinstalled on the project's machines)"
    finish
fi
run cfn-lint --version
expect_rc "cfn-lint --version" 0
echo "# $(cat "$TMP/out")"
run cfn-lint --include-checks I --format parseable -- "$TEMPLATE"
expect_rc "cfn-lint: no error, warning or informational finding" 0
sed 's/^/    /' "$TMP/out" | head -40
finish
