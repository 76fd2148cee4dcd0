#!/usr/bin/env bash
# The repository stands on its own (issue 14): a person who clones it has every file it
# points to. Fails on
#   - a path into another checkout or a machine's home: a sibling folder of the checkout, /work/, /root/, /home/
#     (bench/results/ quotes tools' own messages from the machine a benchmark ran on);
#   - the name of the brief the design grew from (DESIGN.md): the design is docs/design.md;
#   - a relative link of a Markdown file whose target is not in the repository.
source "$(dirname "$0")/lib.bash"

cd "$CP_SOURCE_DIR"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z >"$TMP/files"
else
    find . -path ./.git -prune -o -path './build*' -prune -o -path '*/node_modules' -prune \
        -o -type f -print0 | sed -z 's|^\./||' >"$TMP/files"
fi
# Text files only, without this test (which names the patterns).
xargs -0 grep -IlZ '' <"$TMP/files" 2>/dev/null | tr '\0' '\n' |
    grep -vx 'tests/cli/repo_self_contained.sh' >"$TMP/text"
expect_eq "text files found" "$([ "$(wc -l <"$TMP/text")" -gt 100 ] && echo yes)" yes

# find_refs NAME REGEX [EXCLUDE_PATH_REGEX]
find_refs() {
    local hits
    hits=$(tr '\n' '\0' <"$TMP/text" | xargs -0 grep -nE -- "$2" 2>/dev/null |
        grep -vE "^(${3:-^$})" | head -10 || true)
    expect_eq "no $1" "$hits" ""
}
find_refs "path into a sibling folder of the checkout" '\.\./shared'
find_refs "path under /work/" '(^|[^A-Za-z0-9_.~-])/work/'
find_refs "path into a home folder" '(^|[^A-Za-z0-9_.~-])/(root|home)/' 'bench/results/'
find_refs "reference to the brief DESIGN.md (the design is docs/design.md)" 'DESIGN\.md'

# Relative links of Markdown files: [text](target) and <img src>, resolved from the file.
broken=""
while IFS= read -r md; do
    dir=$(dirname "$md")
    while IFS= read -r target; do
        target=${target%%#*}
        target=${target%% *}
        [ -z "$target" ] && continue
        case "$target" in
        http://* | https://* | mailto:*) continue ;;
        /*) broken+=" $md:$target(absolute)"; continue ;;
        esac
        [ -e "$dir/$target" ] || broken+=" $md:$target"
    done < <(grep -oE '\]\([^)]*\)' "$md" | sed -E 's/^\]\((.*)\)$/\1/')
done < <(grep -E '\.md$' "$TMP/text")
expect_eq "every relative Markdown link resolves" "$broken" ""

expect_eq "the design document is in the repository" "$([ -s docs/design.md ] && echo yes)" yes
expect_eq "README.md links it" "$(grep -c '](docs/design.md)' README.md)" 1

finish
