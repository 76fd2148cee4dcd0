#!/usr/bin/env bash
# Issue 5, acceptance 1: the generated sales file (utf8 and regional styles) and the shipped
# example load into a real PostgreSQL with docs/design.md's column types (information_schema)
# and every value equal to the source, checked cell by cell by an independent oracle
# (tests/pg/check_pg.py reads PostgreSQL's own rendering through psql).
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
pg_start

oracle() {
    if python3 "$CP_SOURCE_DIR/tests/pg/check_pg.py" --pg "$PG_URL" "$@" >"$TMP/check.out" 2>&1; then
        pass "oracle: $(grep -c '^ok' "$TMP/check.out") checks"
    else
        fail "oracle found differences"
        grep -v '^ok' "$TMP/check.out" | sed 's/^/    /' | head -20
    fi
}

cd "$TMP"

"$GEN_SALES" --rows 20000 --seed 11 >sales.csv
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none sales.csv
expect_rc "sales (utf8) into PostgreSQL" 0
cp out s1.json
expect_eq "status" "$(json_get s1.json 'j["status"]')" "loaded"
expect_eq "types" "$(json_get s1.json '" ".join(c["type"] for c in j["schema"])')" "$SALES_TYPES"
oracle --csv sales.csv --types "$SALES_TYPES" --summary s1.json

"$GEN_SALES" --rows 20000 --seed 12 --style regional >regional.csv
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none regional.csv
expect_rc "sales (regional) into PostgreSQL" 0
cp out s2.json
expect_eq "types (regional)" "$(json_get s2.json '" ".join(c["type"] for c in j["schema"])')" "$SALES_TYPES"
oracle --csv regional.csv --types "$SALES_TYPES" --summary s2.json --encoding cp1252 --delimiter ';' --decimal , --date-order dmy

cp "$CP_SOURCE_DIR/examples/vendas.csv" vendas.csv
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none vendas.csv
expect_rc "the shipped example into PostgreSQL" 0
cp out s3.json
expect_eq "rows" "$(json_get s3.json 'j["rows"]')" "3000"
oracle --csv vendas.csv --types "$SALES_TYPES" --summary s3.json --encoding cp1252 --delimiter ';' --decimal , --date-order dmy

# The ledger, in PostgreSQL's form.
expect_eq "ledger rows" "$(pg_psql "SELECT string_agg(dataset || ':' || status || ':' || rows_loaded, ' ' ORDER BY id) FROM csvpipe_loads")" \
    "sales:loaded:20000 regional:loaded:20000 vendas:loaded:3000"
expect_eq "ledger column types" "$(pg_psql "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'csvpipe_loads' AND column_name IN ('id', 'started_at', 'finished_at', 'size_bytes')")" \
    "id bigint, size_bytes bigint, started_at timestamp with time zone, finished_at timestamp with time zone"
expect_eq "ledger times" "$(pg_psql "SELECT count(*) FROM csvpipe_loads WHERE finished_at >= started_at AND started_at > now() - interval '1 hour' AND duration_ms >= 0")" "3"
expect_eq "unique index on (_source, _row)" "$(pg_psql "SELECT indexdef LIKE '%UNIQUE INDEX%(_source, _row)' FROM pg_indexes WHERE tablename = 'sales'")" "t"

# A repeat of the same version is skipped; a new version of the same file replaces its rows.
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none vendas.csv
expect_rc "repeat skipped" 0
expect_eq "repeat skipped" "$(json_get out 'j["status"]')" "skipped"
head -101 sales.csv >sales.tmp && mv sales.tmp sales.csv
run "$CSVPIPE" run --json --sql "$PG_URL" --no-nosql --formats none sales.csv
expect_rc "new version" 0
cp out s4.json
expect_eq "new version loaded" "$(json_get s4.json 'j["status"]')" "loaded"
n=$(json_get s4.json 'j["rows"]')
expect_eq "new version replaces the rows" "$(pg_psql "SELECT count(*), max(_row) FROM sales")" "$n|$n"
oracle --csv sales.csv --types "$SALES_TYPES" --summary s4.json

# A conninfo string and the PG* variables reach libpq.
for v in env conninfo short; do cp vendas.csv "vendas_$v.csv"; done
run env PGHOST=127.0.0.1 PGPORT="$PG_PORT" PGUSER=csvpipe PGDATABASE=postgres \
    "$CSVPIPE" run --json --sql "postgresql:" --no-nosql --formats none --table via_env vendas_env.csv
expect_rc "PG* variables honoured" 0
expect_eq "PG* variables honoured" "$(json_get out 'j["status"]')" "loaded"
run "$CSVPIPE" run --json --sql "postgresql:host=127.0.0.1 port=$PG_PORT user=csvpipe dbname=postgres" \
    --no-nosql --formats none --table via_conninfo vendas_conninfo.csv
expect_rc "conninfo string" 0
expect_eq "conninfo string" "$(json_get out 'j["status"]')" "loaded"
run "$CSVPIPE" run --json --sql "postgres://csvpipe@127.0.0.1:$PG_PORT/postgres" --no-nosql --formats none \
    --table via_short vendas_short.csv
expect_rc "postgres:// URI" 0
expect_eq "postgres:// URI" "$(json_get out 'j["status"]')" "loaded"
expect_eq "3 x 3000 rows" "$(pg_psql "SELECT (SELECT count(*) FROM via_env) + (SELECT count(*) FROM via_conninfo) + (SELECT count(*) FROM via_short)")" "9000"
# TLS settings pass through: this server has no TLS, so sslmode=require must fail and say so.
run "$CSVPIPE" run --sql "$PG_URL?sslmode=require" --no-nosql --formats none --table tls vendas.csv
expect_rc "sslmode=require against a server without TLS" 1
expect_err "the TLS error is libpq's" "SSL|ssl"
# ... and with a server that has TLS, sslmode=verify-full with sslrootcert connects (the
# certificate is checked against our CA and the host name), a wrong CA does not.
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj /CN=csvpipe-test-ca -days 2 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -subj /CN=other-ca -days 2 2>/dev/null
install -m 600 ${PG_OWNER:+-o "$PG_OWNER"} server.key "$PG_DIR/server.key"
install -m 644 ${PG_OWNER:+-o "$PG_OWNER"} server.crt "$PG_DIR/server.crt"
pg_psql "ALTER SYSTEM SET ssl = on" && pg_psql "ALTER SYSTEM SET ssl_cert_file = '$PG_DIR/server.crt'" &&
    pg_psql "ALTER SYSTEM SET ssl_key_file = '$PG_DIR/server.key'" && pg_psql "SELECT pg_reload_conf()" >/dev/null
cp vendas.csv vendas_tls.csv
TLS_URL="postgresql://csvpipe@localhost:$PG_PORT/postgres?sslmode=verify-full&sslrootcert=$TMP/ca.crt"
run "$CSVPIPE" run --json --sql "$TLS_URL" --no-nosql --formats none --table via_tls vendas_tls.csv
expect_rc "sslmode=verify-full with sslrootcert" 0
expect_eq "sslmode=verify-full with sslrootcert" "$(json_get out 'j["status"]')" "loaded"
expect_eq "rows over TLS" "$(pg_psql "SELECT count(*) FROM via_tls")" "3000"
run "$CSVPIPE" run --sql "postgresql://csvpipe@localhost:$PG_PORT/postgres?sslmode=verify-full&sslrootcert=$TMP/other.crt" \
    --no-nosql --formats none --table via_tls vendas_tls.csv
expect_rc "a certificate from another CA is refused" 1
expect_err "the certificate error is libpq's" "certificate verify failed"
run "$CSVPIPE" run --sql "postgresql://csvpipe@127.0.0.1:1/postgres" --no-nosql --formats none vendas.csv
expect_rc "no server" 1
expect_err "says it cannot connect" "cannot connect to PostgreSQL"

finish
