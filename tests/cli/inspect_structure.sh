#!/usr/bin/env bash
# Issue 14, acceptance 1 and 2: the structure of files as people export them. Headers
# (survey exports whose columns are all text, numbers with no header, headers repeated in
# the data), preambles above the header (spreadsheet titles, open-data metadata, group
# rows) skipped and shown by inspect, rows under the header that label the columns again,
# Excel's sep= line, and --skip for inspect, run and watch. The files are written here,
# shaped like the exports they stand for.
source "$(dirname "$0")/lib.bash"
cd "$TMP"

inspect_json() { # FILE [OPTIONS...]: inspect --json into $TMP/j.json, exit code checked
    local f=$1
    shift
    run "$CSVPIPE" inspect --json "$@" "$f"
    expect_rc "inspect $f $*" 0
    cp "$TMP/out" "$TMP/j.json"
}
j() { json_get "$TMP/j.json" "$1"; }
names='" ".join(c["name"] for c in j["columns"])'
types='" ".join(c["type"] for c in j["columns"])'

# --- Headers ---------------------------------------------------------------------------
# A survey tool's export: every column text, long questions as names, blanks under the
# questions that span several answer columns. It was read as having no header.
cat >survey.csv <<'EOF'
StartDate,EndDate,Which of the following best describes your current relationship status?,"How long have you been in your current relationship? If you are not currently in a relationship, please answer according to your last relationship.",What are the reasons that you sleep in separate beds? Please select all that apply.,,,Gender,Household Income
7/10/14 18:37,7/10/14 18:39,"Single, but cohabiting with a significant other",1-5 years,One of us snores,,,Male,"$0 - $24,999"
7/10/14 15:54,7/10/14 15:56,Married,More than 20 years,,One of us makes frequent bathroom trips in the night,,Female,"$25,000 - $49,999"
7/10/14 14:01,7/10/14 14:09,Widowed,6-10 years,One of us snores,,Not enough space,Female,"$100,000 - $149,999"
7/10/14 13:12,7/10/14 13:19,In a domestic partnership or civil union,Less than 1 year,,,,Male,
EOF
inspect_json survey.csv
expect_eq "survey export: header" "$(j 'j["header"]')" "True"
expect_eq "survey export: rows" "$(j 'j["rows"]')" "4"
expect_eq "survey export: names" "$(j "$names")" \
    "startdate enddate which_of_the_following_best_describes_your_current_relationship how_long_have_you_been_in_your_current_relationship_if_you_are what_are_the_reasons_that_you_sleep_in_separate_beds_please_sel column_6 column_7 gender household_income"

# Numbers with no header, the first row with more decimals than the others: its values
# were taken as column names (_0_00719424460432, ...).
cat >shares.csv <<'EOF'
0.00719424460432,0.213771839671,0.261048304214,0.00719424460432,0.0668036998972
0.00792439241,0.170262766616,0.309520247353,0.00672779037421,0.0800421123319
0.0079808936,0.140118472066,0.331889014156,0.0062342392297,0.0903084850893
0.0103179103,0.158002101563,0.280291919136,0.0090716811461,0.0859405625123
EOF
inspect_json shares.csv
expect_eq "numbers only: no header" "$(j 'j["header"]')" "False"
expect_eq "numbers only: every row is data" "$(j 'j["rows"]')" "4"
expect_eq "numbers only: names" "$(j "$names")" "column_1 column_2 column_3 column_4 column_5"
expect_eq "numbers only: exact decimals" "$(j "$types")" \
    "DECIMAL(18,14) DECIMAL(18,12) DECIMAL(18,12) DECIMAL(18,14) DECIMAL(18,13)"

# A season-by-season sheet pasted together: the header comes back in the data.
cat >seasons.csv <<'EOF'
SHOW,SEASON,CONTESTANT,ELIMINATION-1,ELIMINATION-2
Bachelorette,13,13_BRYAN_A,R1,
Bachelorette,13,13_PETER_K,,E
SHOW,SEASON,CONTESTANT,ELIMINATION-1,ELIMINATION-2
Bachelorette,12,12_JORDAN_R,R1,
Bachelorette,12,12_ROBBY_H,,R
SHOW,SEASON,CONTESTANT,ELIMINATION-1,ELIMINATION-2
Bachelor,21,21_COREY_B,E,
EOF
inspect_json seasons.csv
expect_eq "repeated header: header" "$(j 'j["header"]')" "True"
expect_eq "repeated header: rows without the repeats" "$(j 'j["rows"]')" "5"
expect_eq "repeated header: repeats counted" "$(j 'j["repeated_headers"]')" "2"
expect_eq "repeated header: season is a number" "$(j 'j["columns"][1]["type"]')" "INT64"

# Years naming the columns of a wide table (government statistics).
cat >population.csv <<'EOF'
Country Name,Country Code,2019,2020,2021
Aruba,ABW,106314,106585,106537
Afghanistan,AFG,37769499,38972230,40099462
Angola,AGO,32353588,33428486,34503774
EOF
inspect_json population.csv
expect_eq "years as names: header" "$(j 'j["header"]')" "True"
expect_eq "years as names: names" "$(j "$names")" "country_name country_code _2019 _2020 _2021"

# --- Preambles -------------------------------------------------------------------------
# A spreadsheet's title line above the header, padded with commas.
cat >tickets.csv <<'EOF'
Raiders at Jets 9/7/14,,
ADDR_STATE,% Sales,% Ticket Sold
NY,47,45
NJ,28,31
CT,6,5
PA,4,4
EOF
inspect_json tickets.csv
expect_eq "title line: skipped_lines" "$(j 'j["skipped_lines"]')" "1"
expect_eq "title line: preamble" "$(j 'j["preamble"]')" "['Raiders at Jets 9/7/14,,']"
expect_eq "title line: header" "$(j 'j["header"]')" "True"
expect_eq "title line: names" "$(j "$names")" "addr_state sales ticket_sold"
expect_eq "title line: types" "$(j "$types")" "STRING INT64 INT64"
expect_eq "title line: rows" "$(j 'j["rows"]')" "4"
run "$CSVPIPE" inspect tickets.csv
expect_rc "title line: text inspect" 0
expect_out "text inspect says how many lines were skipped" "^skipped lines: +1$"
expect_out "text inspect shows the skipped line" "^ +1 \\| Raiders at Jets 9/7/14,,$"

# Open-data downloads: metadata lines and blank lines above the header, every line ending
# with a comma, years as column names.
cat >wdi.csv <<'EOF'
"Data Source","World Development Indicators",

"Last Updated Date","2024-06-28",

"Country Name","Country Code","Indicator Name","Indicator Code","2020","2021","2022",
"Aruba","ABW","GDP (current US$)","NY.GDP.MKTP.CD","2610038279.32961","3126019385.47","3502960893.85",
"Africa Eastern and Southern","AFE","GDP (current US$)","NY.GDP.MKTP.CD","929074086538.08","1086531416779.14","1185138276749.49",
"Afghanistan","AFG","GDP (current US$)","NY.GDP.MKTP.CD","20143441377.3","14583135236.7","",
EOF
inspect_json wdi.csv
expect_eq "open data: skipped_lines" "$(j 'j["skipped_lines"]')" "4"
expect_eq "open data: preamble" "$(j 'j["preamble"]')" \
    "['\"Data Source\",\"World Development Indicators\",', '', '\"Last Updated Date\",\"2024-06-28\",', '']"
expect_eq "open data: names" "$(j "$names")" \
    "country_name country_code indicator_name indicator_code _2020 _2021 _2022 column_8"
expect_eq "open data: values" "$(j '" ".join(c["type"] for c in j["columns"][4:7])')" \
    "DECIMAL(18,5) DECIMAL(18,2) DECIMAL(18,2)"
expect_eq "open data: rows" "$(j 'j["rows"]')" "3"

# A table pasted from a spreadsheet: a title, a line of units and an empty row above a
# header of years, numbers grouped by thousands (quoted, in a file delimited by commas).
printf '"Energy use by industry, 2018 to 2022",,,,,\r\nthousand tonnes of oil equivalent,,,,,\r\n,,,,,\r\n' >pasted.csv
cat >>pasted.csv <<'EOF'
Industry,2018,2019,2020,2021,2022
Timber,"2,666","2,274","1,877","1,999","2,055"
Other chemicals,498,853,490,568,359
"Clay, ceramic and glass","3,108","2,954","2,658","2,662","2,669"
Iron and steel,"22,927","20,744","18,010","20,650","21,018"
EOF
inspect_json pasted.csv
expect_eq "pasted table: skipped_lines" "$(j 'j["skipped_lines"]')" "3"
expect_eq "pasted table: names" "$(j "$names")" "industry _2018 _2019 _2020 _2021 _2022"
expect_eq "pasted table: grouped thousands" "$(j "$types") $(j 'j["decimal_separator"]')" \
    "STRING INT64 INT64 INT64 INT64 INT64 ."

# Two header rows: a row that groups the columns above the one that names them.
cat >crosstab.csv <<'EOF'
,,Democrat,,,Republican,,
Team,Tot. Respondents,Asian,Black,Total,Asian,Black,Total
Arizona Cardinals,148,2,7,39,1,5,38
Atlanta Falcons,188,3,27,59,1,7,54
Baltimore Ravens,221,6,48,86,1,3,49
EOF
inspect_json crosstab.csv
expect_eq "group row: skipped_lines" "$(j 'j["skipped_lines"]')" "1"
expect_eq "group row: names" "$(j "$names")" \
    "team tot_respondents asian black total asian_2 black_2 total_2"
expect_eq "group row: numbers" "$(j "$types")" \
    "STRING INT64 INT64 INT64 INT64 INT64 INT64 INT64"

# A row of units under the header (weather stations, lab exports).
cat >weather.csv <<'EOF'
Station,Date,Temperature,Precipitation
,,deg C,mm
A801,2024-01-01,3.5,0
A801,2024-01-02,-1.5,12.2
A801,2024-01-03,0.5,0
A802,2024-01-01,4.0,1.4
A802,2024-01-02,2.5,0
A802,2024-01-03,1.0,3.8
EOF
inspect_json weather.csv
expect_eq "units row: header_rows" "$(j 'j["header_rows"]')" "2"
expect_eq "units row: types" "$(j "$types")" "STRING DATE DECIMAL(18,1) DECIMAL(18,1)"
expect_eq "units row: rows" "$(j 'j["rows"]')" "6"

# --- Excel's sep= line -----------------------------------------------------------------
printf 'sep=;\r\nData;Hist\xc3\xb3rico;Valor\r\n01/10/2026;Compra no d\xc3\xa9bito - PADARIA REAL;-17,80\r\n01/10/2026;Pix enviado - Recarga;-120,00\r\n02/10/2026;Pix recebido;1.500,00\r\n' >extrato.csv
inspect_json extrato.csv
expect_eq "sep= line: delimiter" "$(j 'j["delimiter"]')" ";"
expect_eq "sep= line: skipped" "$(j 'j["skipped_lines"]') $(j 'j["excel_sep_line"]')" "1 True"
expect_eq "sep= line: names" "$(j "$names")" "data historico valor"
expect_eq "sep= line: types" "$(j "$types")" "DATE STRING DECIMAL(18,2)"
expect_eq "sep= line: rows" "$(j 'j["rows"]')" "3"

# --- --skip ----------------------------------------------------------------------------
inspect_json tickets.csv --skip 0
expect_eq "--skip 0 keeps the title" "$(j 'j["skipped_lines"]') $(j 'j["columns"][0]["source_name"]')" \
    "0 Raiders at Jets 9/7/14"
printf 'Exported 2024-03-01 by the billing system\nAccount: 1234\nid,amount\n1,10\n2,20\n' >notes.csv
inspect_json notes.csv --skip 2
expect_eq "--skip 2" "$(j 'j["skipped_lines"]') $(j "$names") $(j 'j["rows"]')" "2 id amount 2"
run "$CSVPIPE" inspect --skip 9 notes.csv
expect_rc "--skip past the rows" 1
expect_err "--skip past the rows explained" "notes.csv: no rows after the 9 lines skipped \(--skip, or a schema's skipped_lines\)"
printf 'sep=;\r\n' >sep-only.csv
run "$CSVPIPE" inspect sep-only.csv
expect_rc "only a sep= line" 1
expect_err "only a sep= line explained" "sep-only.csv: the file has no rows after Excel's sep= line"
run "$CSVPIPE" inspect --skip -1 notes.csv
expect_rc "--skip must be a count" 2
expect_err "--skip explains" "--skip must be a number of lines"

run "$CSVPIPE" run --json --out o1 --no-sql --no-nosql --skip 2 notes.csv
expect_rc "run --skip 2" 0
expect_eq "run --skip: summary" \
    "$(json_get out 'j["detected"]["skipped_lines"], j["rows"], [c["name"] for c in j["schema"]]')" \
    "(2, 2, ['id', 'amount'])"
expect_eq "run --skip: rows written" "$(cat o1/json/notes/*.jsonl)" \
    "$(printf '{"id":1,"amount":10}\n{"id":2,"amount":20}')"

mkdir inbox
"$CSVPIPE" watch --quiet --json --out wout --skip 2 inbox >watch.out 2>watch.err &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$TMP"' EXIT
cp notes.csv inbox/.notes.tmp && mv inbox/.notes.tmp inbox/notes.csv
for _ in $(seq 1 300); do
    grep -q '"status"' watch.out && break
    sleep 0.1
done
kill -TERM $pid
expect_exit "watch --skip stops on SIGTERM" $pid 143 watch.err
expect_eq "watch --skip 2" \
    "$(python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).readline()); print(j["status"], j["detected"]["skipped_lines"], j["rows"])' watch.out)" \
    "loaded 2 2"

# --- a schema file carries the skip ------------------------------------------------------
# inspect --json, read back with --schema (or from CSVPIPE_SCHEMA_PREFIX), reads the file
# as inspect did: its skipped_lines counts as --skip, its header as --header.
inspect_json tickets.csv --skip 0
cp j.json tickets-kept.json # the title kept as the header (the real one a header row)
run "$CSVPIPE" inspect --json --schema tickets-kept.json tickets.csv
expect_rc "inspect --schema with skipped_lines 0" 0
expect_eq "inspect --schema: the schema's skip, not the preamble found" \
    "$(json_get out 'j["skipped_lines"], j["header"], j["header_rows"], j["rows"], j["columns"][0]["source_name"]')" \
    "(0, True, 2, 4, 'Raiders at Jets 9/7/14')"
run "$CSVPIPE" run --json --out o2 --no-sql --no-nosql --schema tickets-kept.json tickets.csv
expect_rc "run --schema with skipped_lines 0" 0
expect_eq "run --schema: the same skip, header and rows as inspect" \
    "$(json_get out 'j["status"], j["detected"]["skipped_lines"], j["detected"]["header"], j["rows"]')" \
    "('loaded', 0, True, 4)"
inspect_json notes.csv
cp j.json notes.json
run "$CSVPIPE" run --json --out o3 --no-sql --no-nosql --schema notes.json notes.csv
expect_rc "run --schema with skipped_lines 2" 0
expect_eq "run --schema: the preamble skipped as inspect did" \
    "$(json_get out 'j["detected"]["skipped_lines"], j["rows"], [c["name"] for c in j["schema"]]')" \
    "(2, 2, ['id', 'amount'])"
mkdir schemas
cp tickets-kept.json schemas/tickets.json
CSVPIPE_SCHEMA_PREFIX="$TMP/schemas" run "$CSVPIPE" run --json --out o4 --no-sql --no-nosql tickets.csv
expect_rc "CSVPIPE_SCHEMA_PREFIX with skipped_lines" 0
expect_eq "CSVPIPE_SCHEMA_PREFIX: the dataset's skip" \
    "$(json_get out 'j["detected"]["skipped_lines"], j["rows"]')" "(0, 4)"
printf '{"skipped_lines": -1}' >bad-skip.json
run "$CSVPIPE" inspect --schema bad-skip.json notes.csv
expect_rc "a negative skipped_lines" 2
expect_err "a negative skipped_lines explained" \
    'bad-skip.json: "skipped_lines" must be a number of lines, 0 or more'

finish
