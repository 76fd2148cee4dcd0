#!/usr/bin/env bash
# Issue 12, section 1: the Lambda image's final stage is distroless: FROM scratch with the
# tree scripts/image-rootfs.sh assembles in the build stage. Here the same script assembles
# the tree for the binary under test (and for the release build in build/ when there is
# one), and tests/deploy/check_image.py checks the Dockerfile's stages and the tree: every
# library `ldd` shows is in it where the loader looks, every DT_NEEDED inside it resolves,
# no other ELF file, the loader, CA certificates, passwd/group entries for the image's user,
# /tmp, no shell, the packages' dpkg records; a release binary runs from the tree alone
# (chroot, as the image's user). tests/cli/deploy_rehearsal.sh builds and runs the image.
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

# .dockerignore keeps the context small: no build trees, no git history, no bench data.
for pattern in .git '**/build' '**/build-*' bench/data '**/node_modules'; do
    if grep -qxF -- "$pattern" "$CP_SOURCE_DIR/.dockerignore"; then
        pass ".dockerignore excludes $pattern"
    else
        fail ".dockerignore does not exclude $pattern"
    fi
done
finish
