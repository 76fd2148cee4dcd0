#!/usr/bin/env bash
# The command line itself: help, version, usage errors.
source "$(dirname "$0")/lib.bash"

run "$CSVPIPE" --help
expect_rc "--help" 0
expect_out "--help lists inspect" "inspect"

run "$CSVPIPE" version
expect_rc "version" 0
expect_out "version format" "^csvpipe version [0-9]+\.[0-9]+\.[0-9]+ \(build [0-9a-f]+|unknown\)"

run "$CSVPIPE" inspect --help
expect_rc "inspect --help" 0
expect_out "inspect --help shows options" "--encoding"

run "$CSVPIPE" frobnicate
expect_rc "unknown command" 2
expect_err "unknown command named" "unknown command 'frobnicate'"

run "$CSVPIPE"
expect_rc "no command" 2

run "$CSVPIPE" inspect
expect_rc "inspect without a file" 2

run "$CSVPIPE" inspect --encoding klingon x.csv
expect_rc "unknown encoding" 2
expect_err "unknown encoding named" "unknown encoding 'klingon'"

run "$CSVPIPE" inspect "$TMP/does-not-exist.csv"
expect_rc "missing file" 1
expect_err "missing file named" "does-not-exist.csv: cannot open"

finish
