#!/usr/bin/env bash
# Issue 2, acceptance 5: hostile and degenerate inputs give a correct result or a clear
# error naming the file, line and column, never a crash (this runs under ASan/UBSan).
source "$(dirname "$0")/lib.bash"

# Empty file.
: >"$TMP/empty.csv"
run "$CSVPIPE" inspect "$TMP/empty.csv"
expect_rc "empty file" 1
expect_err "empty file is named" "empty.csv: the file is empty"

# Only blank lines.
printf '\n\r\n\n' >"$TMP/blank.csv"
run "$CSVPIPE" inspect "$TMP/blank.csv"
expect_rc "blank lines only" 1
expect_err "blank lines only explained" "blank.csv: the file has no rows"

# Header only: a header, zero rows, every column STRING.
printf 'id,name,price\n' >"$TMP/header.csv"
run "$CSVPIPE" inspect --json "$TMP/header.csv"
expect_rc "header only" 0
expect_eq "header only: rows" "$(json_get "$TMP/out" 'j["rows"]')" "0"
expect_eq "header only: header" "$(json_get "$TMP/out" 'j["header"]')" "True"
expect_eq "header only: names" "$(json_get "$TMP/out" '[c["name"] for c in j["columns"]]')" \
    "['id', 'name', 'price']"

# Binary garbage (after two bytes that no BOM or compression magic starts with).
{ printf '\001\002'; head -c 65534 /dev/urandom; } >"$TMP/garbage.bin"
run "$CSVPIPE" inspect "$TMP/garbage.bin"
expect_rc "binary garbage" 1
expect_err "binary garbage explained" "garbage.bin: the file looks like binary data"
# A ZIP archive, the common case of binary input now that gzip, zstd, bzip2 and xz files
# are read as they are (tests/cli/run_compressed.sh).
"$GEN_SALES" --rows 200 >"$TMP/sales.csv"
# make_zip OUT NAME=TEXT...: a zip archive of stored members (OpenDocument stores its
# mimetype first, uncompressed); a TEXT of @FILE is that file's bytes.
make_zip() {
    python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1], "w")
for m in sys.argv[2:]:
    name, text = m.split("=", 1)
    z.writestr(name, open(text[1:], "rb").read() if text.startswith("@") else text)
z.close()' "$@"
}
# inspect_refuses WHAT FILE ERROR: inspect FILE fails with ERROR (a regular expression).
inspect_refuses() {
    run "$CSVPIPE" inspect "$2"
    expect_rc "$1 input" 1
    expect_err "$1 input explained" "$3"
}
make_zip "$TMP/sales.zip" "sales.csv=@$TMP/sales.csv"
inspect_refuses zip "$TMP/sales.zip" "sales.zip: the file is a zip archive.*extract the CSV first"
# Spreadsheets handed in as CSV files: an .xlsx workbook is a zip archive too, an .xls one
# an OLE2 compound file.
make_zip "$TMP/sales.xlsx" "[Content_Types].xml=<Types/>" "xl/workbook.xml=<workbook/>"
inspect_refuses xlsx "$TMP/sales.xlsx" \
    "sales.xlsx: the file is an Excel workbook \\(\\.xlsx\\).*save the sheet as CSV"
make_zip "$TMP/sales.ods" "mimetype=application/vnd.oasis.opendocument.spreadsheet" \
    "content.xml=<office/>"
inspect_refuses ods "$TMP/sales.ods" "sales.ods: the file is an OpenDocument file"
printf '\320\317\021\340\241\261\032\341%0512d' 0 >"$TMP/sales.xls"
run "$CSVPIPE" run "$TMP/sales.xls" --out "$TMP/xls-out" --quiet
expect_rc "xls input" 1
expect_out "xls input explained" "sales.xls: the file is an Excel 97-2003 workbook"

# Unterminated quote at the end.
printf 'a,b\n1,x\n2,"never closed\n3,y\n' >"$TMP/unterminated.csv"
run "$CSVPIPE" inspect "$TMP/unterminated.csv"
expect_rc "unterminated quote" 1
expect_err "unterminated quote located" "unterminated.csv: line 3, column 2: the quoted field that starts here is never closed"

# A field past the limit (unquoted and quoted).
{ printf 'a,b\n1,'; head -c 3000 /dev/zero | tr '\0' 'x'; printf '\n'; } >"$TMP/long.csv"
run "$CSVPIPE" inspect --max-field-size 1k "$TMP/long.csv"
expect_rc "field past the limit" 1
expect_err "field past the limit located" "long.csv: line 2, column 2: a field is longer than the field size limit \(1024 bytes\)"
{ printf 'a,b\n1,"'; head -c 3000 /dev/zero | tr '\0' 'y'; printf '"\n'; } >"$TMP/longq.csv"
run "$CSVPIPE" inspect --max-field-size 1k "$TMP/longq.csv"
expect_rc "quoted field past the limit" 1
expect_err "quoted field past the limit located" "line 2, column 2: a quoted field is longer"

# Invalid UTF-8 inside a file that starts as UTF-8: within the sniffer's 1 MiB sample,
# and past it.
for lines in 2000 80000; do
    {
        printf 'name,n\n'
        for i in $(seq 1 $lines); do printf 'Conceição %d,%d\n' "$i" "$i"; done
        printf 'bad \xe9 byte,1\n'
        printf 'after,2\n'
    } >"$TMP/bad-utf8.csv"
    offset=$(($(grep -abo "bad " "$TMP/bad-utf8.csv" | cut -d: -f1) + 4))
    run "$CSVPIPE" inspect "$TMP/bad-utf8.csv"
    expect_rc "invalid UTF-8 after $lines UTF-8 lines" 1
    expect_err "invalid UTF-8 located ($lines)" "bad-utf8.csv: line $((lines + 2)): invalid utf-8 at byte offset $offset \(bytes \\\\xE9"
    expect_err "invalid UTF-8 suggests the fix ($lines)" "--encoding windows-1252"
    run "$CSVPIPE" inspect --encoding windows-1252 --json "$TMP/bad-utf8.csv"
    expect_rc "same file with the encoding named ($lines)" 0
    expect_eq "same file: rows ($lines)" "$(json_get "$TMP/out" 'j["rows"]')" "$((lines + 2))"
done

# ASCII for the whole sample, then a Windows-1252 byte: decoded as Windows-1252.
{
    printf 'name,n\n'
    for i in $(seq 1 80000); do printf 'plain %d,%d\n' "$i" "$i"; done
    printf 'Pre\xe7o,1\n'
} >"$TMP/late-cp1252.csv"
run "$CSVPIPE" inspect --json "$TMP/late-cp1252.csv"
expect_rc "ASCII then Windows-1252" 0
expect_eq "late Windows-1252 detected" "$(json_get "$TMP/out" 'j["encoding"]')" "windows-1252"
expect_eq "late Windows-1252 rows" "$(json_get "$TMP/out" 'j["rows"]')" "80001"

# 10,000 columns.
python3 - "$TMP/wide.csv" <<'PY'
import sys
n = 10000
with open(sys.argv[1], "w") as f:
    f.write(",".join(f"col {i}" for i in range(n)) + "\n")
    for r in range(3):
        f.write(",".join(str(r * n + i) for i in range(n)) + "\n")
PY
run "$CSVPIPE" inspect --json "$TMP/wide.csv"
expect_rc "10,000 columns" 0
expect_eq "10,000 columns counted" "$(json_get "$TMP/out" 'len(j["columns"])')" "10000"
expect_eq "10,000 columns typed" "$(json_get "$TMP/out" 'set(c["type"] for c in j["columns"])')" "{'INT64'}"
expect_eq "10,000 columns named" "$(json_get "$TMP/out" 'j["columns"][9999]["name"]')" "col_9999"

# A row with more fields than the header is rejected with its line; the rest is counted.
printf 'a,b\n1,2\n3,4,5\n6,7\n8,"x"y\n9,10\n' >"$TMP/bad-rows.csv"
run "$CSVPIPE" inspect --json "$TMP/bad-rows.csv"
expect_rc "bad rows" 0
expect_eq "bad rows: loaded rows" "$(json_get "$TMP/out" 'j["rows"]')" "3"
expect_eq "bad rows: rejected" "$(json_get "$TMP/out" 'j["rejected_rows"]')" "2"
expect_eq "bad rows: first reason" "$(json_get "$TMP/out" 'j["rejects"][0]')" \
    "line 3: 3 fields where the header has 2 columns"
expect_eq "bad rows: second reason" "$(json_get "$TMP/out" 'j["rejects"][1]')" \
    "line 5: line 5, column 2: unexpected text \"y\" after the closing quote; a quote inside a quoted field must be doubled (\"\")"

# A value after the sample widens its column: INT64 becomes STRING with one restart.
{
    printf 'id,code\n'
    for i in $(seq 1 30000); do printf '%d,%d\n' "$i" "$i"; done
    printf '30001,ABC\n'
} >"$TMP/widen.csv"
run "$CSVPIPE" inspect --json "$TMP/widen.csv"
expect_rc "widen after sample" 0
expect_eq "widened type" "$(json_get "$TMP/out" 'j["columns"][1]["type"]')" "STRING"
expect_eq "restarts" "$(json_get "$TMP/out" 'j["restarts"]')" "1"
expect_eq "rows after restart" "$(json_get "$TMP/out" 'j["rows"]')" "30001"

# UTF-16 with a BOM, CR-only line ends, no final newline.
printf 'a,b\r1,2\r3,4' | iconv -f utf-8 -t utf-16 >"$TMP/utf16.csv"
run "$CSVPIPE" inspect --json "$TMP/utf16.csv"
expect_rc "UTF-16" 0
expect_eq "UTF-16 encoding" "$(json_get "$TMP/out" 'j["encoding"]')" "utf-16le"
expect_eq "UTF-16 rows" "$(json_get "$TMP/out" 'j["rows"]')" "2"
expect_eq "CR line ends" "$(json_get "$TMP/out" 'j["line_ending"]')" "CR"

# Standard input.
run bash -c "printf 'x;y\n1,5;2\n' | '$CSVPIPE' inspect --json -"
expect_rc "standard input" 0
expect_eq "stdin decimal comma" "$(json_get "$TMP/out" 'j["columns"][0]["type"]')" "DECIMAL(18,1)"

finish
