#!/usr/bin/env bash
# The dependency rule of docs/architecture.md, checked over the #include lines of src/:
#
#   cli -> pipeline -> {csv, parquet, json, load, aws} -> table -> util
#
# A module may include its own headers and those of the layers below it, never a layer
# above nor a sibling of its own layer; the one sibling edge is load -> aws (the DynamoDB
# item store uses the AWS client). Prints every include that breaks the rule and exits 1,
# or exits 0 in silence. Run by `make test` and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A layer=([util]=0 [table]=1 [csv]=2 [parquet]=2 [json]=2 [load]=2 [aws]=2
    [pipeline]=3 [cli]=4)

bad=0
complain() {
    echo "$*"
    bad=1
}

files=$(git ls-files 'src/*.c' 'src/*.h' 2>/dev/null || find src -name '*.[ch]')
for file in $files; do
    from=${file#src/}
    from=${from%%/*}
    if [ -z "${layer[$from]:-}" ]; then
        complain "$file: module $from is not in the dependency rule (docs/architecture.md)"
        continue
    fi
    while IFS=: read -r line text; do
        target=${text#*\"}
        target=${target%%\"*}
        case "$target" in */*) ;; *) continue ;; esac
        to=${target%%/*}
        [ "$to" = "$from" ] && continue
        [ "$from/$to" = load/aws ] && continue
        if [ -z "${layer[$to]:-}" ] || [ "${layer[$to]}" -ge "${layer[$from]}" ]; then
            complain "$file:$line: $from includes $target"
        fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
done

if [ "$bad" -ne 0 ]; then
    echo "check-deps: these includes break the rule cli -> pipeline -> {csv, parquet, json," \
        "load, aws} -> table -> util (docs/architecture.md)" >&2
    exit 1
fi
