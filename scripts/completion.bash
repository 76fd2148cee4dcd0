# bash completion for csvpipe. `make install` puts it where bash-completion finds it
# (PREFIX/share/bash-completion/completions/csvpipe); `source scripts/completion.bash`
# uses it in the current shell.
#
# The options of each command are read from `csvpipe COMMAND --help`, so the completion
# always matches the binary being completed; only the values of a few options are listed
# here.

_csvpipe_options() {
    # $1: the csvpipe binary, $2: the command. Every --option at the start of a help line.
    "$1" "$2" --help 2>/dev/null |
        sed -nE 's/^ +(--[a-z][a-z-]*(, --[a-z][a-z-]*)*).*/\1/p' | tr ',' '\n' | tr -d ' '
}

_csvpipe() {
    local bin=$1 cur=${COMP_WORDS[COMP_CWORD]} prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()

    if ((COMP_CWORD == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "run watch inspect lambda version help --help --version" -- "$cur")
        return 0
    fi
    local cmd=${COMP_WORDS[1]}

    # --option=value is completed like --option value. Bash splits the words at '=' (it is
    # in COMP_WORDBREAKS), so the option is the word before a lone '='.
    if [[ $cur == = ]]; then
        cur=""
    elif [[ $prev == = ]] && ((COMP_CWORD > 2)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        cur=${cur#*=}
    fi

    local values=""
    case "$prev" in
    --formats) values="parquet json parquet,json none" ;;
    --json-style) values="plain dynamodb" ;;
    --compression) values="snappy zstd gzip none" ;;
    --encoding) values="utf-8 utf-8-bom utf-16le utf-16be windows-1252 iso-8859-1" ;;
    --date-order) values="dmy mdy" ;;
    --decimal) values=". ," ;;
    --sql) values="sqlite: postgresql://" ;;
    --nosql) values="sqlite: dynamodb:" ;;
    --threads) values="auto $(nproc 2>/dev/null)" ;;
    --out)
        compopt -o filenames 2>/dev/null || true
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        return 0
        ;;
    --delimiter | --quote | --skip | --table | --key | --null | --max-field-size | \
        --row-group-size | --page-size | --dictionary-limit | --max-rejects | \
        --max-reject-percent | --max-invocations)
        return 0
        ;;
    esac
    if [ -n "$values" ]; then
        compopt -o nospace 2>/dev/null || true
        mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
        local i
        for i in "${!COMPREPLY[@]}"; do
            case "${COMPREPLY[$i]}" in
            *: | *://) ;;
            *) COMPREPLY[$i]+=" " ;;
            esac
        done
        return 0
    fi

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_csvpipe_options "$bin" "$cmd")" -- "$cur")
        return 0
    fi
    compopt -o filenames 2>/dev/null || true
    case "$cmd" in
    watch) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    run | inspect) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    esac
    return 0
}

complete -F _csvpipe csvpipe
