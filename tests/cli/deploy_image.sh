#!/usr/bin/env bash
# Issue 12, section 1: the Lambda image's final stage is distroless: FROM scratch with the
# tree scripts/image-rootfs.sh assembles in the build stage. Here the same script assembles
# the tree for the binary under test (and for the release build in build/ when there is
# one), and tests/deploy/check_image.py checks the Dockerfile's stages and the tree: every
# library `ldd` shows is in it where the loader looks, every DT_NEEDED inside it resolves,
# no other ELF file, the loader, CA certificates, passwd/group entries for the image's user,
# /tmp, no shell, the packages' dpkg records; a release binary runs from the tree alone
# (chroot, as the image's user). tests/cli/deploy_rehearsal.sh builds and runs the image.
# scripts/image.sh's host stage builds the Dockerfile's own final stage: the same text with
# the one COPY of the build stage's tree reading the context instead.
source "$(dirname "$0")/lib.bash"
binaries=("$CSVPIPE")
release="$CP_SOURCE_DIR/build/csvpipe"
if [ -x "$release" ] && [ "$(realpath "$release")" != "$(realpath "$CSVPIPE")" ]; then
    binaries+=("$release")
fi
for b in "${binaries[@]}"; do
    rootfs="$TMP/rootfs.$(echo "$b" | md5sum | cut -c1-8)"
    run "$CP_SOURCE_DIR/scripts/image-rootfs.sh" "$b" "$rootfs"
    expect_rc "scripts/image-rootfs.sh $b" 0
    run python3 "$CP_SOURCE_DIR/tests/deploy/check_image.py" "$rootfs" "$b"
    sed 's/^/    /' "$TMP/out"
    expect_rc "the image tree for $b: exactly what the binary loads" 0
    sed 's/^/    stderr: /' "$TMP/err" | head -20
    echo "# tree size: $(du -s --apparent-size --block-size=1000 "$rootfs" | cut -f1) kB"
done

# The host stage's Containerfile: the Dockerfile's last stage, the COPY of /rootfs/ alone changed.
run "$CP_SOURCE_DIR/scripts/image.sh" --final-stage
expect_rc "image.sh --final-stage" 0
cp "$TMP/out" "$TMP/final"
expect_eq "the host stage builds the Dockerfile's final stage, its tree from the context" \
    "$(diff <(awk '/^FROM[ \t]/ {n = 0; delete l} {l[++n] = $0} END {for (i = 1; i <= n; i++) print l[i]}' \
        "$CP_SOURCE_DIR/Dockerfile") "$TMP/final")" \
    "$(printf '%s\n' '5c5' '< COPY --from=build /rootfs/ /' '---' '> COPY rootfs/ /')"
expect_eq "the final stage is FROM scratch" "$(head -1 "$TMP/final")" "FROM scratch AS runtime"
# A final stage the host stage cannot build the same way is refused.
mkdir -p "$TMP/repo/scripts"
cp "$CP_SOURCE_DIR/scripts/image.sh" "$TMP/repo/scripts/"
refused() { # refused NAME DOCKERFILE-TEXT
    printf '%s\n' "$2" >"$TMP/repo/Dockerfile"
    run "$TMP/repo/scripts/image.sh" --final-stage
    expect_rc "image.sh --final-stage refuses $1" 1
    expect_err "image.sh --final-stage names why: $1" "^image.sh: the (Dockerfile's last stage|final stage)"
}
refused "a final stage not FROM scratch" $'FROM debian AS build\nFROM debian:12-slim\nCOPY --from=build /rootfs/ /'
refused "another COPY in the final stage" $'FROM debian AS build\nFROM scratch\nCOPY --from=build /rootfs/ /\nCOPY x /x'
refused "an ADD in the final stage" $'FROM debian AS build\nFROM scratch\nCOPY --from=build /rootfs/ /\nADD x /x'
refused "no COPY of the tree" $'FROM debian AS build\nFROM scratch\nUSER 1'

# .dockerignore keeps the context small: no build trees, no git history, no bench data.
for pattern in .git '**/build' '**/build-*' bench/data '**/node_modules'; do
    if grep -qxF -- "$pattern" "$CP_SOURCE_DIR/.dockerignore"; then
        pass ".dockerignore excludes $pattern"
    else
        fail ".dockerignore does not exclude $pattern"
    fi
done
finish
