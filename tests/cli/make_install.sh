#!/usr/bin/env bash
# `make install` as a user runs it (issue 14, acceptance 5): a release build in a folder of
# its own, staged with DESTDIR (with a space in it) and PREFIX=/usr. Checks the short build
# log, the installed binary, that `man -l` and `man -M` render csvpipe(1) without a warning,
# that the bash completion works from where it was installed, and `make uninstall`.
source "$(dirname "$0")/lib.bash"

stage="$TMP/stage dir"
# As from a user's shell in the checkout, not from ctest's: no make of ours above this one.
mk() {
    (cd "$CP_SOURCE_DIR" && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make BUILD="$TMP/build" \
        DESTDIR="$stage" PREFIX=/usr "$@")
}

run mk install
expect_rc "make install" 0
cat "$TMP/out" "$TMP/err" >"$TMP/log"
if grep -q "directory" "$TMP/log"; then
    fail "the build log has directory-change lines"
    grep "directory" "$TMP/log" | head -5 | sed 's/^/    /'
else
    pass "no directory-change lines in the build log"
fi
# Short: cmake's progress lines (one per file built, one per target) and the summary.
if grep -Ev '^(\[ *[0-9]+%\] (Building C object|Linking C|Built target) |installed )' "$TMP/log" \
    >"$TMP/noise"; then
    fail "build log lines beyond progress and summary"
    head -5 "$TMP/noise" | sed 's/^/    /'
else
    pass "the build log is progress lines and the summary ($(wc -l <"$TMP/log") lines)"
fi
expect_out "make install says what it installed" "^installed $stage/usr/bin/csvpipe"

bin="$stage/usr/bin/csvpipe"
man1="$stage/usr/share/man/man1/csvpipe.1"
comp="$stage/usr/share/bash-completion/completions/csvpipe"
expect_eq "binary installed, mode 755" "$(stat -c %a "$bin" 2>&1)" 755
# The fault injection of the test build (src/util/fault.h) never reaches a release: not
# one of its environment variables nor a crash point's name is in the binary.
faults='CSVPIPE_(CRASH_AT|PAUSE_AT|TRACE_POINTS|FAIL_ALLOC|FAIL_WRITE)|crash point|items-committed|__wrap_malloc'
expect_eq "the release binary has no fault injection" "$(strings "$bin" | grep -cE "$faults" || true)" 0
expect_eq "(the test build has it)" "$(strings "$CSVPIPE" | grep -cE "$faults" | sed 's/^[1-9][0-9]*$/some/')" some
expect_eq "man page installed, mode 644" "$(stat -c %a "$man1" 2>&1)" 644
expect_eq "completion installed, mode 644" "$(stat -c %a "$comp" 2>&1)" 644

run "$bin" version
expect_rc "installed csvpipe version" 0
expect_eq "installed binary is this version" "$(cat "$TMP/out")" "$("$CSVPIPE" version)"
run "$bin" inspect --json "$CP_SOURCE_DIR/examples/vendas.csv"
expect_rc "installed csvpipe inspects the example" 0
expect_eq "rows of the example" "$(json_get "$TMP/out" "j['rows']")" 3000

# The page renders with man-db, by file and by name under the installed MANPATH, with no
# warning from groff (man --warnings turns them on).
export MANWIDTH=80 MANPAGER=cat PAGER=cat
run man --warnings -l "$man1"
expect_rc "man -l renders csvpipe(1)" 0
expect_eq "man -l: no warnings" "$(cat "$TMP/err")" ""
for section in NAME SYNOPSIS DESCRIPTION COMMANDS "RUN AND WATCH OPTIONS" "CSV OPTIONS" TYPES \
    FILES ENVIRONMENT "EXIT STATUS" EXAMPLES; do
    expect_out "man -l: section $section" "^$section\$"
done
# (groff justifies lines by widening spaces, so any run of spaces between the words)
expect_out "man -l: the reject threshold as written" "more +than +p% +of +its +rows"
run man --warnings -M "$stage/usr/share/man" csvpipe
expect_rc "man -M finds csvpipe by name" 0
expect_out "man -M: the page" "^CSVPIPE\(1\)"
run lexgrog "$man1"
expect_rc "lexgrog (whatis) parses the NAME section" 0
expect_out "whatis line" 'csvpipe - load CSV files into Parquet'

# The completion as bash-completion loads it: sourced from its installed file, completing
# the installed binary.
complete_words() {
    bash -c 'source "$1"; shift; bin=$1; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _csvpipe "$bin"; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$bin" "$@"
}
expect_eq "complete the command" "$(complete_words csvpipe ins)" "inspect"
expect_eq "complete a run option" "$(complete_words csvpipe run --max-reject-p)" \
    "--max-reject-percent"
expect_eq "complete watch's own option" "$(complete_words csvpipe watch --on)" "--once"
expect_eq "complete a value" "$(complete_words csvpipe run --compression z)" "zstd "
expect_eq "complete a value after =" "$(complete_words csvpipe run --json-style = d)" "dynamodb "
expect_eq "complete an item store URL" "$(complete_words csvpipe run --nosql dy)" "dynamodb:"
mkdir -p "$TMP/inbox"
expect_eq "complete a file" "$(cd "$CP_SOURCE_DIR" && complete_words csvpipe inspect examples/ven)" \
    "examples/vendas.csv"
expect_eq "a number of lines after --skip: no file names" \
    "$(cd "$CP_SOURCE_DIR" && complete_words csvpipe inspect --skip ex)" ""
expect_eq "watch completes folders only" "$(cd "$TMP" && complete_words csvpipe watch inb)" "inbox"
expect_eq "complete -F registered" "$(bash -c 'source "$1"; complete -p csvpipe' _ "$comp")" \
    "complete -F _csvpipe csvpipe"

run mk uninstall
expect_rc "make uninstall" 0
expect_eq "uninstall removes every file" "$(find "$stage" -type f | wc -l)" 0

finish
