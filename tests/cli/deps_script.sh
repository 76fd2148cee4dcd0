#!/usr/bin/env bash
# scripts/deps.sh on machines that lack the test tools (issue 14, "a new user's machine").
# PyPI cannot be reached from here, so this checks the logic, not the downloads: deps.sh
# runs with a PATH of basic tools and recording stand-ins for dpkg-query, apt-get, sudo,
# python3 (and the pip of the virtual environment it makes), on a copy of the repository's
# scripts/deps.sh and tests/requirements.txt. Each case checks what was asked of apt-get
# and pip, the environment left under the build folder, and that tests/cli/lib.bash puts
# it first on PATH only when it is complete.
source "$(dirname "$0")/lib.bash"

repo="$TMP/repo"
mkdir -p "$repo/scripts" "$repo/tests/cli"
cp "$CP_SOURCE_DIR/scripts/deps.sh" "$repo/scripts/"
cp "$CP_SOURCE_DIR/tests/requirements.txt" "$repo/tests/"
cp "$CP_SOURCE_DIR/tests/cli/lib.bash" "$repo/tests/cli/"

# The real tools deps.sh and the stand-ins use, and nothing else.
base="$TMP/base"
mkdir -p "$base"
for t in bash cat cmp cp dirname env grep id mkdir mktemp rm chmod touch; do
    ln -s "$(command -v "$t")" "$base/$t"
done

# fake_machine: a fresh machine state in $M: every Debian package installed except those
# in $M/absent, and the stand-ins in $M/bin. FAKE_* files switch behaviours:
#   $M/python-has-tools   the machine's python3 imports boto3, moto, cfnlint (and the
#                          commands moto_server, cfn-lint exist)
#   $M/no-ensurepip       python3 cannot make a venv until python3-venv is installed
#   $M/pip-fails          pip cannot reach the package index
fake_machine() {
    M="$TMP/machine.$1"
    rm -rf "$M"
    mkdir -p "$M/bin" "$M/installed"
    : >"$M/calls"
    : >"$M/absent"
    cat >"$M/bin/dpkg-query" <<'EOF'
#!/bin/bash
pkg=${!#}
if grep -qx "$pkg" "$FAKE/absent" && [ ! -e "$FAKE/installed/$pkg" ]; then
    echo "dpkg-query: no packages found matching $pkg" >&2
    exit 1
fi
printf 'install ok installed'
EOF
    cat >"$M/bin/apt-get" <<'EOF'
#!/bin/bash
echo "apt-get $*" >>"$FAKE/calls"
if [ "$1" = install ]; then
    for a in "$@"; do
        case "$a" in
        -*|install) ;;
        *) touch "$FAKE/installed/$a" ;;
        esac
        if [ "$a" = awscli ]; then
            printf '#!/bin/bash\necho aws-cli/2\n' >"$FAKE/bin/aws"
            chmod +x "$FAKE/bin/aws"
        fi
    done
fi
EOF
    cat >"$M/bin/sudo" <<'EOF'
#!/bin/bash
echo "sudo $1" >>"$FAKE/calls"
exec "$@"
EOF
    # The machine's python3; `-m venv DIR` makes a venv whose pip and python3 are stand-ins.
    cat >"$M/bin/python3" <<'EOF'
#!/bin/bash
ensurepip() { [ ! -e "$FAKE/no-ensurepip" ] || [ -e "$FAKE/installed/python3-venv" ]; }
case "$1" in
-c)
    case "$2" in
    *ensurepip*) ensurepip ;;
    *boto3*) [ -e "$FAKE/python-has-tools" ] ;;
    esac
    exit
    ;;
-m)
    echo "python3 -m $2 $3" >>"$FAKE/calls"
    ensurepip || { echo "ensurepip is not available" >&2; exit 1; }
    mkdir -p "$3/bin"
    cat >"$3/bin/pip" <<PIP
#!/bin/bash
echo "pip \$*" >>"$FAKE/calls"
[ ! -e "$FAKE/pip-fails" ] || { echo "pip: no index" >&2; exit 1; }
for t in moto_server cfn-lint; do printf '#!/bin/bash\n' >"$3/bin/\$t"; chmod +x "$3/bin/\$t"; done
touch "$3/modules"
PIP
    cat >"$3/bin/python3" <<PY
#!/bin/bash
[ -e "$3/modules" ]
PY
    chmod +x "$3/bin/pip" "$3/bin/python3"
    ;;
esac
EOF
    chmod +x "$M/bin/"*
}

# tools_on_path: the commands the tests need, as the machine has them before deps.sh.
tools_on_path() {
    for t in aws moto_server cfn-lint; do
        printf '#!/bin/bash\n' >"$M/bin/$t"
        chmod +x "$M/bin/$t"
    done
    touch "$M/python-has-tools"
}

# deps ARGS...: runs the copy of deps.sh on the fake machine.
deps() {
    run env -i HOME="$TMP" FAKE="$M" PATH="$M/bin:$base" bash "$repo/scripts/deps.sh" "$@"
}

calls() {
    cat "$M/calls"
}

# lib_path BUILD: the moto_server a test would run after sourcing lib.bash.
lib_path() {
    env -i CSVPIPE=/bin/true CP_SOURCE_DIR="$repo" CP_BUILD_DIR="$1" PATH="$M/bin:$base" \
        bash -c 'source "$CP_SOURCE_DIR/tests/cli/lib.bash"; command -v moto_server || echo none'
}

build="$TMP/build dir"

# 1. Everything there (the project's own machines): no apt-get, no pip, no venv.
fake_machine present
tools_on_path
deps all "$build"
expect_rc "all present: deps.sh" 0
expect_eq "all present: nothing asked" "$(calls)" ""
expect_eq "all present: no venv" "$(ls -A "$build" 2>/dev/null)" ""
expect_eq "all present: tests use the machine's moto_server" "$(lib_path "$build")" \
    "$M/bin/moto_server"

# 2. A fresh Debian 12: no AWS CLI, no moto, boto3 or cfn-lint, no man-db, python3 that can
#    make a venv. Debian packages from apt-get; the Python tools from pip into build/venv.
fake_machine fresh
printf '%s\n' awscli man-db groff-base curl >"$M/absent"
deps all "$build"
expect_rc "fresh: deps.sh" 0
expect_eq "fresh: what was asked" "$(calls)" \
"apt-get update -qq
apt-get install -y -qq --no-install-recommends curl man-db groff-base awscli
python3 -m venv $build/venv
pip install --disable-pip-version-check -q -r $repo/tests/requirements.txt"
expect_err "fresh: says what it installs" "deps: installing curl man-db groff-base awscli"
expect_err "fresh: says where the Python tools go" "deps: installing moto, boto3 and cfn-lint .* into $build/venv"
expect_eq "fresh: venv stamped with the requirements" \
    "$(cmp "$repo/tests/requirements.txt" "$build/venv/csvpipe-requirements.txt" && echo same)" same
expect_eq "fresh: tests use the venv's moto_server" "$(lib_path "$build")" \
    "$build/venv/bin/moto_server"

# 3. The same machine again: nothing to do.
: >"$M/calls"
deps all "$build"
expect_rc "fresh, second run: deps.sh" 0
expect_eq "fresh, second run: nothing asked" "$(calls)" ""

# 4. A changed tests/requirements.txt makes the environment again.
echo "# moved a pin" >>"$repo/tests/requirements.txt"
deps all "$build"
expect_rc "changed requirements: deps.sh" 0
expect_eq "changed requirements: venv made again" "$(calls)" \
"python3 -m venv $build/venv
pip install --disable-pip-version-check -q -r $repo/tests/requirements.txt"
cp "$CP_SOURCE_DIR/tests/requirements.txt" "$repo/tests/"

# 5. `deps.sh build` (the image's build stage) never asks for test tools.
fake_machine buildonly
printf '%s\n' awscli man-db >"$M/absent"
deps build "$build.b"
expect_rc "build only: deps.sh" 0
expect_eq "build only: nothing asked" "$(calls)" ""
expect_eq "build only: no venv" "$(ls -A "$build.b" 2>/dev/null)" ""

# 5b. `deps.sh image` (make image without a Docker daemon): buildah, podman, mmdebstrap only.
fake_machine image
printf '%s\n' buildah podman mmdebstrap awscli >"$M/absent"
deps image "$build.i"
expect_rc "image: deps.sh" 0
expect_eq "image: the container tools from apt, nothing else" "$(calls)" \
"apt-get update -qq
apt-get install -y -qq --no-install-recommends buildah podman mmdebstrap"
expect_eq "image: no venv" "$(ls -A "$build.i" 2>/dev/null)" ""

# 6. python3 without ensurepip (Debian keeps it in python3-venv): installed first.
fake_machine noensurepip
touch "$M/no-ensurepip"
echo python3-venv >"$M/absent"
tools_on_path
rm "$M/bin/moto_server" "$M/python-has-tools"
deps all "$build.c"
expect_rc "no ensurepip: deps.sh" 0
expect_eq "no ensurepip: python3-venv, then the venv" "$(calls)" \
"apt-get update -qq
apt-get install -y -qq --no-install-recommends python3-venv
python3 -m venv $build.c/venv
pip install --disable-pip-version-check -q -r $repo/tests/requirements.txt"

# 7. pip cannot reach the index: a failure that says why, and no half environment in use.
fake_machine offline
touch "$M/pip-fails"
deps all "$build.d"
expect_rc "pip fails: deps.sh fails" 1
expect_err "pip fails: the message says why" "pip could not install tests/requirements.txt .*Python package index"
expect_eq "pip fails: no stamp" "$(ls "$build.d/venv/csvpipe-requirements.txt" 2>/dev/null)" ""
expect_eq "pip fails: tests do not use the half venv" "$(lib_path "$build.d")" none
rm "$M/pip-fails"
: >"$M/calls"
deps all "$build.d"
expect_rc "pip works again: deps.sh" 0
expect_eq "pip works again: venv made again" "$(calls | grep -c '^pip install')" 1

# 8. Not root: apt-get through sudo.
fake_machine user
printf '%s\n' man-db >"$M/absent"
tools_on_path
printf '#!/bin/bash\necho 1000\n' >"$M/bin/id"
chmod +x "$M/bin/id"
deps all "$build.e"
expect_rc "not root: deps.sh" 0
expect_eq "not root: apt-get through sudo" "$(calls)" \
"sudo apt-get
apt-get update -qq
sudo apt-get
apt-get install -y -qq --no-install-recommends man-db"

# The pins themselves: every requirement is name==version, and the three tools are there.
req="$CP_SOURCE_DIR/tests/requirements.txt"
expect_eq "requirements: every line pinned with ==" \
    "$(grep -vE '^(#|$)' "$req" | grep -vE '^[A-Za-z0-9_.-]+(\[[a-z,]+\])?==[0-9][A-Za-z0-9.+-]*$')" ""
for pkg in 'boto3==' 'cfn-lint==' 'moto\[server\]=='; do
    expect_eq "requirements: $pkg" "$(grep -cE "^$pkg" "$req")" 1
done

finish
