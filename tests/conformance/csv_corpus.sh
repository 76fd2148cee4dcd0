#!/usr/bin/env bash
# CSV conformance corpus (issue 3, acceptances 1 and 2). Every file of
# tests/data/conformance/ (see its README), plus five larger files generated here by
# gen_csv_corpus.py, is converted with `csvpipe run --formats parquet`; then for each:
#   - the inferred types (name:TYPE per column) and the detected dialect must be the ones
#     listed below, so a wrong inference fails;
#   - tests/js/csv_oracle.mjs parses the CSV itself (not with csvpipe) and writes every
#     expected cell in tests/js/lib/cells.mjs's normalized form;
#   - tests/js/check_parquet.mjs reads the Parquet file back with DuckDB, hyparquet and
#     parquet-wasm and compares every cell, checks DuckDB's parquet_schema() against
#     csvpipe's schema, the exact min/max/null_count of every column chunk in
#     parquet_metadata(), the key-value metadata, the page layout of every chunk, and the
#     structure a file is meant to exercise (row groups, pages, dictionary fallback).
# Env (set by ctest): CSVPIPE, CP_SOURCE_DIR, CP_BUILD_DIR, CP_TEST_DATA.
source "${CP_SOURCE_DIR:?}/tests/cli/lib.bash"

"$CP_SOURCE_DIR/scripts/node-deps.sh" "$CP_SOURCE_DIR/tests/js" >/dev/null
data="$CP_SOURCE_DIR/tests/data/conformance"
js="$CP_SOURCE_DIR/tests/js"

declare -A ORDER=([mdy]=month-first [dmy]=day-first)
prefixes=()
nconverted=0

# convert NAME CSV "name:TYPE ..." "ENCODING DELIMITER DECIMAL DATE_ORDER [noheader]" EXPECT CODEC [OPTION...]
# Converts CSV, asserts its types and dialect, and has the oracle write the expected cells
# for check_parquet.mjs (EXPECT: the file structure it must have, as JSON).
convert() {
    local name=$1 csv=$2 types=$3 dialect=$4 expect=$5 codec=$6
    shift 6
    nconverted=$((nconverted + 1))
    local enc delim dec order noheader header=true
    read -r enc delim dec order noheader <<<"$dialect"
    if [ "$noheader" = noheader ]; then header=false; fi
    run "$CSVPIPE" run --json --no-sql --no-nosql --formats parquet --out "$TMP/pq" \
        --table "$name" --compression "$codec" "$@" "$csv"
    expect_rc "$name: csvpipe run" 0
    [ "$rc" -eq 0 ] || return 0
    local summary="$TMP/$name.summary.json"
    cp "$TMP/out" "$summary"
    expect_eq "$name: inferred types" \
        "$(json_get "$summary" '" ".join(c["name"] + ":" + c["type"] for c in j["schema"])')" \
        "$types"
    expect_eq "$name: detected dialect" \
        "$(json_get "$summary" '" ".join(j["detected"][k] for k in ("encoding", "delimiter", "decimal_separator", "date_order"))')" \
        "$enc $delim $dec ${ORDER[$order]}"
    if node "$js/csv_oracle.mjs" --csv "$csv" --summary "$summary" --prefix "$TMP/$name" \
        --encoding "$enc" --delimiter "$delim" --decimal "$dec" --date-order "$order" \
        --codec "$codec" --expect "$expect" --types "$types" --header "$header" \
        2>"$TMP/oracle.err"; then
        prefixes+=("$TMP/$name")
    else
        fail "$name: the oracle rejects the file under its expected types"
        sed 's/^/    /' "$TMP/oracle.err" | head -20
    fi
}

utf8="utf-8 , . mdy"
convert boolean_words "$data/boolean_words.csv" \
    "true_false:BOOLEAN t_f:BOOLEAN yes_no:BOOLEAN y_n:BOOLEAN sim_nao:BOOLEAN zero_one:INT64" \
    "$utf8" '{}' snappy
convert int64_extremes "$data/int64_extremes.csv" \
    "small:INT64 extremes:INT64 signed:INT64 with_nulls:INT64 leading_zero:STRING beyond_int64:DECIMAL(20,0) beyond_decimal:STRING" \
    "$utf8" '{}' zstd
convert decimal_point "$data/decimal_point.csv" \
    "money:DECIMAL(18,2) mixed_scale:DECIMAL(18,3) negative_small:DECIMAL(18,2) precision_38:DECIMAL(38,10) too_precise:DOUBLE integers_and_fractions:DECIMAL(18,2)" \
    "$utf8" '{}' gzip
convert decimal_comma_semicolon "$data/decimal_comma_semicolon.csv" \
    "valor:DECIMAL(18,2) desconto:DECIMAL(18,2) taxa:DECIMAL(18,4) quantidade:INT64 data:DATE" \
    "utf-8 ; , dmy" '{}' none
convert double_exponent_nan_inf "$data/double_exponent_nan_inf.csv" \
    "exponent:DOUBLE special:DOUBLE signed_zero:DOUBLE extremes:DOUBLE mixed:DOUBLE" \
    "$utf8" '{}' snappy
convert date_iso "$data/date_iso.csv" \
    "day:DATE before_epoch:DATE leap_days:DATE with_nulls:DATE" "$utf8" '{}' zstd
convert date_dmy_slash "$data/date_dmy_slash.csv" \
    "data_dmy:DATE data_hifen:DATE data_ponto:DATE" "utf-8 , . dmy" '{}' gzip
convert timestamp_fractions "$data/timestamp_fractions.csv" \
    "at:TIMESTAMP fraction_widths:TIMESTAMP before_epoch:TIMESTAMP minutes_only:TIMESTAMP date_and_timestamp:TIMESTAMP" \
    "$utf8" '{}' none
convert timestamptz_offsets "$data/timestamptz_offsets.csv" \
    "utc_z:TIMESTAMPTZ positive_offsets:TIMESTAMPTZ negative_offsets:TIMESTAMPTZ compact_offsets:TIMESTAMPTZ crossing_dates:TIMESTAMPTZ" \
    "$utf8" '{}' snappy
convert strings_non_ascii "$data/strings_non_ascii.csv" \
    "accents:STRING cjk:STRING emoji:STRING mixed_scripts:STRING quoted_specials:STRING" \
    "$utf8" '{}' zstd
convert empty_strings_vs_null "$data/empty_strings_vs_null.csv" \
    "text:STRING other_text:STRING number:INT64" "$utf8" '{}' gzip
convert all_null_and_constant_columns "$data/all_null_and_constant_columns.csv" \
    "all_null:STRING const_int:INT64 const_decimal:DECIMAL(18,2) const_text:STRING const_bool:BOOLEAN const_date:DATE const_double:DOUBLE const_empty_string:STRING" \
    "$utf8" '{}' none
convert zero_rows_header_only "$data/zero_rows_header_only.csv" \
    "id:STRING name:STRING amount:STRING" "$utf8" '{}' snappy
convert one_row "$data/one_row.csv" \
    "flag:BOOLEAN n:INT64 amount:DECIMAL(18,2) ratio:DOUBLE day:DATE at:TIMESTAMP at_tz:TIMESTAMPTZ text:STRING" \
    "$utf8" '{}' zstd
convert headers_spaces_punctuation "$data/headers_spaces_punctuation.csv" \
    "preco_unitario:INT64 a_b:INT64 x_y:INT64 braces:INT64 parens:INT64 k_v:INT64 lots_of_spaces:INT64 data_de_emissao:DATE column_9:INT64 dup:INT64 dup_2:INT64 all_at_once:INT64" \
    "$utf8" '{}' gzip
convert windows1252_encoding "$data/windows1252_encoding.csv" \
    "codigo:INT64 descricao:STRING preco:DECIMAL(18,2) observacao:STRING data:DATE" \
    "windows-1252 ; , dmy" '{}' snappy
convert extremes_decimal38_nan_only_far_dates "$data/extremes_decimal38_nan_only_far_dates.csv" \
    "big_dec:DECIMAL(38,6) nan_only:DOUBLE far_date:DATE far_ts:TIMESTAMP neg_zero:DOUBLE" \
    "$utf8" '{}' zstd
convert utf8_bom_cr_line_endings "$data/utf8_bom_cr_line_endings.csv" "a:INT64 b:STRING" \
    "utf-8-bom , . mdy" '{}' gzip
convert money_brl_statement "$data/money_brl_statement.csv" \
    "data:DATE historico:STRING valor:DECIMAL(18,2) saldo:DECIMAL(18,2)" \
    "utf-8 ; , dmy" '{}' zstd
convert money_usd_export "$data/money_usd_export.csv" \
    "date:DATE description:STRING amount:DECIMAL(18,2) fee:DECIMAL(18,2) balance:DECIMAL(18,2) shares:DECIMAL(18,3) population:INT64" \
    "$utf8" '{}' snappy
convert preamble_open_data "$data/preamble_open_data.csv" \
    "country_name:STRING country_code:STRING indicator_name:STRING indicator_code:STRING _2020:DECIMAL(18,5) _2021:DECIMAL(18,2) _2022:DECIMAL(18,3) column_8:STRING" \
    "$utf8" '{}' gzip
convert preamble_title_units "$data/preamble_title_units.csv" \
    "station:STRING date:DATE temperature:DECIMAL(18,1) precipitation:DECIMAL(18,1) observer:STRING" \
    "$utf8" '{}' none
expect_eq "money and preambles: what csvpipe skipped and read" \
    "$(for f in money_brl_statement money_usd_export preamble_open_data preamble_title_units; do
        json_get "$TMP/$f.summary.json" '"%s/%s/%s/%s" % (j["detected"]["skipped_lines"], j["detected"]["header_rows"], j["detected"]["currency"], j["rows"])'
    done | tr '\n' ' ')" "3/1/R\$/8 0/1/\$/7 4/1/None/4 2/2/None/6 "
convert header_none_numbers "$data/header_none_numbers.csv" \
    "column_1:DECIMAL(18,14) column_2:DECIMAL(18,12) column_3:DECIMAL(18,12) column_4:DECIMAL(18,14) column_5:DECIMAL(18,13)" \
    "utf-8 , . mdy noheader" '{}' snappy
convert header_survey_text "$data/header_survey_text.csv" \
    "startdate:STRING enddate:STRING which_of_the_following_best_describes_your_current_relationship:STRING how_long_have_you_been_in_your_current_relationship:STRING what_are_the_reasons_that_you_sleep_in_separate_beds_please_sel:STRING column_6:STRING column_7:STRING gender:STRING household_income:STRING" \
    "$utf8" '{}' zstd
convert money_grouped_ambiguous "$data/money_grouped_ambiguous.csv" \
    "item:STRING weight_kg:DECIMAL(18,3) price:DECIMAL(18,2) total:DECIMAL(18,2)" \
    "$utf8" '{}' gzip
expect_eq "headers and grouped money: header, currency, rows" \
    "$(for f in header_none_numbers header_survey_text money_grouped_ambiguous; do
        json_get "$TMP/$f.summary.json" '"%s/%s/%s" % (j["detected"]["header"], j["detected"]["currency"], j["rows"])'
    done | tr '\n' ' ')" "False/None/5 True/None/5 True/\$/4 "
every="flag:BOOLEAN n:INT64 amount:DECIMAL(18,2) ratio:DOUBLE day:DATE at:TIMESTAMP at_tz:TIMESTAMPTZ text:STRING nothing:STRING"
for codec in snappy zstd gzip none; do
    convert "every_type_$codec" "$data/every_type.csv" "$every" "$utf8" '{}' "$codec"
done

# Large files, generated here rather than kept in git.
for gen in row_groups_and_pages dictionary_fallback long_strings widen_and_restart many_columns; do
    python3 "$CP_SOURCE_DIR/tests/conformance/gen_csv_corpus.py" "$gen" "$TMP/$gen.csv"
done
convert row_groups_and_pages "$TMP/row_groups_and_pages.csv" \
    "id:INT64 amount:DECIMAL(18,2) ratio:DOUBLE day:DATE at:TIMESTAMP at_tz:TIMESTAMPTZ flag:BOOLEAN city:STRING note:STRING" \
    "$utf8" '{"min_row_groups":3,"min_data_pages":{"id":2,"amount":2,"ratio":2,"day":2,"at":2,"at_tz":2,"city":2,"note":2},"dictionary_columns":["city"]}' zstd \
    --row-group-size 256K --page-size 8K
convert dictionary_fallback "$TMP/dictionary_fallback.csv" \
    "n:INT64 category:STRING unique_text:STRING" \
    "$utf8" '{"dictionary_columns":["category"],"fallback_columns":["unique_text"]}' gzip
convert dictionary_fallback_small_limit "$TMP/row_groups_and_pages.csv" \
    "id:INT64 amount:DECIMAL(18,2) ratio:DOUBLE day:DATE at:TIMESTAMP at_tz:TIMESTAMPTZ flag:BOOLEAN city:STRING note:STRING" \
    "$utf8" '{"dictionary_columns":["city"],"fallback_columns":["id","amount","ratio","at","at_tz","note"]}' snappy \
    --dictionary-limit 4K --page-size 16K
convert no_dictionary "$TMP/dictionary_fallback.csv" \
    "n:INT64 category:STRING unique_text:STRING" \
    "$utf8" '{"min_data_pages":{"unique_text":2},"plain_columns":["n","category","unique_text"]}' snappy \
    --dictionary-limit 0 --page-size 64K
convert long_strings "$TMP/long_strings.csv" \
    "id:INT64 short:STRING long_text:STRING" "$utf8" '{}' none
convert widen_and_restart "$TMP/widen_and_restart.csv" \
    "id:INT64 code:STRING amount:DOUBLE" "$utf8" '{}' snappy
convert many_columns "$TMP/many_columns.csv" \
    "$(for i in $(seq 0 299); do printf 'c%d:INT64 ' "$i"; done | sed 's/ $//')" "$utf8" '{}' zstd
expect_eq "widen_and_restart: csvpipe restarted the file once" \
    "$(json_get "$TMP/widen_and_restart.summary.json" 'j["restarts"]')" 1

if node "$js/check_parquet.mjs" "${prefixes[@]}" >"$TMP/check.out" 2>&1; then
    pass "check_parquet: ${#prefixes[@]} files, every cell in 3 readers, schema, statistics, pages"
else
    fail "check_parquet found differences"
fi
sed "s|$TMP/||" "$TMP/check.out"
expect_eq "every corpus file was converted and checked" "$(grep -c '^ok ' "$TMP/check.out" || true)" "$nconverted"
finish
