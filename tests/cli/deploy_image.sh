#!/usr/bin/env bash
# Issue 8, acceptance 6: the Lambda image's final stage carries what the binary needs. For
# every library `ldd` shows for the binary under test (and for the release build in build/
# when there is one), the Debian package that provides it (dpkg -S) must be installed by the
# final stage: named in its apt-get install list when the binary links it directly, or
# pulled in as a dependency of a named package otherwise. Also: multi-stage from
# debian:12-slim, the build stage runs scripts/deps.sh build and make, the final stage has
# the binary at /usr/local/bin/csvpipe, CA certificates, no build tools, and
# ENTRYPOINT ["/usr/local/bin/csvpipe", "lambda"]. (No Docker engine here: the image itself
# is not built.)
source "$(dirname "$0")/lib.bash"
binaries=("$CSVPIPE")
release="$CP_SOURCE_DIR/build/csvpipe"
if [ -x "$release" ] && [ "$(realpath "$release")" != "$(realpath "$CSVPIPE")" ]; then
    binaries+=("$release")
fi
run python3 "$CP_SOURCE_DIR/tests/deploy/check_image.py" "${binaries[@]}"
cat "$TMP/out"
expect_rc "the final image stage covers every linked library" 0
sed 's/^/    stderr: /' "$TMP/err" | head -20

# .dockerignore keeps the context small: no build trees, no git history, no bench data.
for pattern in .git '**/build' '**/build-*' bench/data '**/node_modules'; do
    if grep -qxF -- "$pattern" "$CP_SOURCE_DIR/.dockerignore"; then
        pass ".dockerignore excludes $pattern"
    else
        fail ".dockerignore does not exclude $pattern"
    fi
done
finish
