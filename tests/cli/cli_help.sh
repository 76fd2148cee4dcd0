#!/usr/bin/env bash
# The --help texts (issue 14): what they print is what a person reads first.
#   - every command's --help exits 0, prints to stdout only, fits 80 columns and has no
#     printf leftovers (`P%%` was printed literally);
#   - --sql and --nosql name every kind of URL they take, not only sqlite:;
#   - every option a --help lists is one its command accepts, every option in the
#     parsers' tables (src/cli) is in some --help, and every option and environment
#     variable of a --help is described in the manual page docs/csvpipe.1, whose version
#     is the binary's.
source "$(dirname "$0")/lib.bash"

man_src="$CP_SOURCE_DIR/docs/csvpipe.1"
commands=("" run watch inspect lambda db-setup)

for c in "${commands[@]}"; do
    name="csvpipe${c:+ $c} --help"
    run "$CSVPIPE" $c --help
    expect_rc "$name" 0
    cp "$TMP/out" "$TMP/help-${c:-main}"
    expect_eq "$name: nothing on stderr" "$(cat "$TMP/err")" ""
    expect_out "$name: a usage line" "^usage: csvpipe"
    wide=$(python3 -c 'import sys
for i, l in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    if len(l.rstrip("\n")) > 80: print(f"line {i}: {len(l.rstrip())} columns")' "$TMP/out")
    expect_eq "$name: fits 80 columns" "$wide" ""
    expect_eq "$name: no printf leftovers" "$(grep -nE '%%|%[-0-9.]*[sdzu]|\\n' "$TMP/out")" ""
    expect_eq "$name: no tab characters" "$(grep -c $'\t' "$TMP/out")" 0
done

h="$TMP/help-run"
expect_eq "run: --max-reject-percent shows P%" \
    "$(grep -c -- '--max-reject-percent P  reject the file past P% bad rows' "$h")" 1
# mentions NAME TEXT WORD...: each WORD occurs in TEXT.
mentions() {
    local what=$1 text=$2 w
    shift 2
    for w in "$@"; do
        if grep -qF -- "$w" <<<"$text"; then
            pass "$what mentions $w"
        else
            fail "$what does not mention $w"
        fi
    done
}
mentions "run: --sql" "$(sed -n '/^  --sql /,/^  --no-sql/p' "$h")" \
    sqlite:PATH postgresql:// postgresql:KEY=VALUE CSVPIPE_SQL
mentions "run: --nosql" "$(sed -n '/^  --nosql /,/^  --no-nosql/p' "$h")" \
    sqlite:PATH dynamodb:TABLE CSVPIPE_NOSQL
mentions "watch --help" "$(cat "$TMP/help-watch")" "  --sql " "  --once "

# The options a help lists: every --name at the start of one of its lines.
help_options() {
    sed -nE 's/^ +(--[a-z][a-z-]*(, --[a-z][a-z-]*)*).*/\1/p' "$1" | tr ',' '\n' | tr -d ' ' | sort -u
}
# Each listed option is known to its command's parser: alone, it may need an argument or
# a file, which is a usage error (2), but never "unrecognized option".
for c in run watch inspect lambda db-setup; do
    for o in $(help_options "$TMP/help-$c"); do
        run timeout 20 "$CSVPIPE" "$c" "$o"
        expect_rc "$c $o alone: a usage error" 2
        if grep -q "unrecognized option" "$TMP/err"; then
            fail "$c $o: $(head -1 "$TMP/err")"
        else
            pass "$c $o is accepted"
        fi
    done
done
run "$CSVPIPE" run --no-such-option
expect_rc "an unknown option is a usage error" 2
expect_err "an unknown option is named" "unrecognized option '--no-such-option'"

# Every option in the parsers' tables is in some --help.
cat "$TMP"/help-* >"$TMP/all-help"
help_options "$TMP/all-help" >"$TMP/listed"
grep -ohE '\{"[a-z][a-z-]*", *(no|required|optional)_argument' "$CP_SOURCE_DIR"/src/cli/*.[ch] |
    sed -E 's/\{"([^"]*)".*/--\1/' | grep -vx -- --help | sort -u >"$TMP/parsed"
expect_eq "every parsed option is in a --help" "$(comm -23 "$TMP/parsed" "$TMP/listed")" ""

# The manual page describes every option and environment variable of the --help texts.
# In roff a '-' in an option is written '\-'.
sed 's/\\-/-/g' "$man_src" >"$TMP/man.txt"
missing=""
for o in $(cat "$TMP/listed") --help; do
    grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" "$TMP/man.txt" || missing+=" $o"
done
for v in $(grep -ohE 'CSVPIPE_[A-Z_]+' "$TMP/all-help" | sort -u); do
    grep -q "$v" "$TMP/man.txt" || missing+=" $v"
done
expect_eq "csvpipe(1) describes every option and variable of --help" "$missing" ""
version=$("$CSVPIPE" version | sed -E 's/^csvpipe version ([^ ]+).*/\1/')
expect_eq "csvpipe(1) is of this version" \
    "$(sed -nE 's/^\.TH CSVPIPE 1 [^ ]+ "csvpipe ([^"]+)".*/\1/p' "$man_src")" "$version"

finish
