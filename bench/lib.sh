# bench/lib.sh - sourced by the bench scripts (bash, set -euo pipefail): the build they
# measure.
#
# bench_build [BUILD_DIR] sets
#   root     the checkout
#   build    BUILD_DIR, default root/build
#   csvpipe  build/csvpipe
#   gen      build/tools/gen_sales
# running `make` first when either program is missing from the default build (another
# BUILD_DIR must have both), and checks that GNU time (/usr/bin/time) is there. It exits
# the script with a message on stderr when something is missing.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bench_build() {
    build=${1:-$root/build}
    csvpipe="$build/csvpipe"
    gen="$build/tools/gen_sales"
    if [ ! -x "$csvpipe" ] || [ ! -x "$gen" ]; then
        [ "$build" = "$root/build" ] || { echo "no $csvpipe or $gen" >&2; exit 1; }
        (cd "$root" && make)
    fi
    [ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed" >&2; exit 1; }
}
