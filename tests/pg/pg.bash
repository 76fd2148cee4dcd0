# A throwaway PostgreSQL server for tests and benchmarks. Source it, then call pg_start.
#
# pg_start initdb's a cluster into a new temporary folder, as an unprivileged user when
# running as root (postgres refuses to run as root): the `postgres` account of Debian's
# package when it exists, else `nobody`. The server listens on a free loopback port, its
# unix socket lives in the temporary folder, and it is stopped and removed at exit (trap on
# EXIT, plus a watchdog that does the same if the shell is killed). Waits are bounded.
#
# After pg_start: PG_URL (postgresql://csvpipe@127.0.0.1:PORT/postgres), PG_PORT, PG_DIR,
# PG_DATA, PG_LOG, PG_BIN; pg_psql SQL runs one query (unaligned, no headers, errors fatal);
# pg_ctl_run ARGS... runs pg_ctl on the cluster; pg_restart starts a stopped server again.
# Settings: PG_FSYNC=on|off (default off: the tests do not need durability across an OS
# crash, and pg_ctl stop -m immediate is not one).
#
# pg_enable_tls (after pg_start): a throwaway certificate authority ($PG_CA, its key never
# leaves $PG_DIR) signs a server certificate for localhost and 127.0.0.1; the server turns
# TLS on, and every role but the test superuser `csvpipe` must then come over TLS with a
# SCRAM password (hostssl ... scram-sha-256; plain TCP refused). `csvpipe` keeps trust, so
# pg_psql and PG_URL work as before. $PG_OTHER_CA is a second authority that signed
# nothing, for checks that verification fails.
#
# Binaries come from /usr/lib/postgresql/<newest>/bin (scripts/deps.sh installs the
# `postgresql` package), never from wrappers on PATH.

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

pg_as_owner() {
    if [ -n "${PG_OWNER:-}" ]; then
        (cd / && runuser -u "$PG_OWNER" -- "$@") # the owner may not enter the caller's folder
    else
        "$@"
    fi
}

pg_ctl_run() {
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" "$@"
}

pg_psql() {
    psql "$PG_URL" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"
}

pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_restart() {
    pg_ctl_run -l "$PG_LOG" -w -t 60 \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off}" \
        start >/dev/null
}

pg_cleanup() {
    if [ -n "${PG_DATA:-}" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
        pg_ctl_run -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    if [ -n "${PG_WATCHDOG:-}" ]; then
        kill "$PG_WATCHDOG" 2>/dev/null || true
        wait "$PG_WATCHDOG" 2>/dev/null || true
    fi
    [ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
    PG_DIR=
}

pg_start() {
    if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
        echo "pg.bash: no PostgreSQL server binaries under /usr/lib/postgresql; run scripts/deps.sh test" >&2
        return 1
    fi
    PG_OWNER=
    if [ "$(id -u)" = 0 ]; then
        if id postgres >/dev/null 2>&1; then PG_OWNER=postgres; else PG_OWNER=nobody; fi
    fi
    PG_DIR=$(mktemp -d /tmp/csvpipe-pg.XXXXXX)
    chmod 755 "$PG_DIR"
    [ -n "$PG_OWNER" ] && chown "$PG_OWNER" "$PG_DIR"
    PG_DATA="$PG_DIR/data"
    PG_LOG="$PG_DIR/server.log"
    PG_PORT=$(pg_free_port)
    PG_URL="postgresql://csvpipe@127.0.0.1:$PG_PORT/postgres"
    # this replaces the EXIT traps of lib.bash (removes $TMP) and of moto.bash when it was
    # sourced before (kills moto and the proxies): keep doing both
    trap 'pg_cleanup; if declare -F aws_cleanup >/dev/null; then aws_cleanup; fi; rm -rf "${TMP:-/nonexistent}"' EXIT
    if ! pg_as_owner "$PG_BIN/initdb" -D "$PG_DATA" -U csvpipe --auth=trust -E UTF8 --locale=C \
        --no-sync >"$PG_DIR/initdb.log" 2>&1; then
        echo "pg.bash: initdb failed:" >&2
        cat "$PG_DIR/initdb.log" >&2
        return 1
    fi
    if ! pg_restart; then
        echo "pg.bash: the server did not start:" >&2
        cat "$PG_LOG" >&2
        return 1
    fi
    # Stops the server if this shell dies without running its EXIT trap (kill -9, timeout).
    local parent=$$ data=$PG_DATA dir=$PG_DIR owner=$PG_OWNER bin=$PG_BIN
    (
        trap '' INT HUP
        while kill -0 "$parent" 2>/dev/null; do sleep 1; done
        if [ -f "$data/postmaster.pid" ]; then
            if [ -n "$owner" ]; then
                runuser -u "$owner" -- "$bin/pg_ctl" -D "$data" -m immediate -w -t 30 stop
            else
                "$bin/pg_ctl" -D "$data" -m immediate -w -t 30 stop
            fi
        fi
        rm -rf "$dir"
    ) >/dev/null 2>&1 </dev/null &
    PG_WATCHDOG=$!
    export PG_URL PG_PORT PG_DIR PG_DATA PG_LOG PG_BIN
    export PGTZ=UTC PGCONNECT_TIMEOUT=10
}

pg_enable_tls() {
    local d="$PG_DIR/tls"
    mkdir -p "$d"
    (
        cd "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=csvpipe test CA" \
            -keyout ca.key -out ca.pem
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
            -keyout other.key -out other.pem
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile san.ext -out server.crt
    ) >"$PG_DIR/tls.log" 2>&1 || { echo "pg.bash: openssl failed:" >&2; cat "$PG_DIR/tls.log" >&2; return 1; }
    cp "$d/server.crt" "$d/server.key" "$PG_DATA/"
    chmod 600 "$PG_DATA/server.key"
    [ -n "$PG_OWNER" ] && chown "$PG_OWNER" "$PG_DATA/server.crt" "$PG_DATA/server.key"
    cat >"$PG_DATA/pg_hba.conf" <<HBA
local all all trust
host all csvpipe 127.0.0.1/32 trust
hostssl all all 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 reject
HBA
    [ -n "$PG_OWNER" ] && chown "$PG_OWNER" "$PG_DATA/pg_hba.conf"
    pg_psql "ALTER SYSTEM SET ssl = on" &&
        pg_psql "ALTER SYSTEM SET ssl_cert_file = 'server.crt'" &&
        pg_psql "ALTER SYSTEM SET ssl_key_file = 'server.key'" &&
        pg_psql "ALTER SYSTEM SET password_encryption = 'scram-sha-256'" || return 1
    pg_ctl_run -m fast -w -t 60 stop >/dev/null && pg_restart || {
        echo "pg.bash: the server did not restart with TLS:" >&2
        tail -20 "$PG_LOG" >&2
        return 1
    }
    PG_CA="$d/ca.pem"
    PG_OTHER_CA="$d/other.pem"
    export PG_CA PG_OTHER_CA
}
