/*
 * pg_roles.h - the PostgreSQL roles of a deployed csvpipe, set up by the master user
 * (`csvpipe db-setup`, run by the stack as a custom resource).
 *
 * Three login roles, each with its own password (its own secret):
 *  - the loader: owns csvpipe's tables (it creates and alters them, writes rows and the
 *    ledger); CONNECT and TEMPORARY on the database, USAGE and CREATE on schema public;
 *  - the reader (Grafana's datasource): CONNECT, USAGE on public and SELECT on every table
 *    there, today's and the loader's future ones (default privileges); nothing else, and
 *    default_transaction_read_only on as a second guard;
 *  - optionally Grafana's own role: owner of a separate database (default "grafana") for
 *    Grafana's state, and nothing in csvpipe's database.
 * PUBLIC loses every privilege on both databases (CONNECT, TEMPORARY), so no other role
 * gets in by default. Passwords never travel in clear: each is sent as the SCRAM-SHA-256
 * verifier libpq computes (PQencryptPasswordConn). Tables csvpipe made before the roles
 * existed (owned by the master user: csvpipe_loads, csvpipe_columns and the datasets listed
 * in csvpipe_columns) are given to the loader. To grant and to hand tables over, the
 * master user becomes a member of the loader and Grafana roles (PostgreSQL's rule for
 * ALTER DEFAULT PRIVILEGES FOR ROLE and ALTER ... OWNER TO).
 *
 * Idempotent: a second run changes passwords to the given ones and repeats the grants.
 * Needs PostgreSQL 15 or later (schema public owned by the database owner) and a master
 * user with CREATEROLE and CREATEDB that owns the database (RDS's master user).
 */
#ifndef CP_PG_ROLES_H
#define CP_PG_ROLES_H

#include "util/buf.h"
#include "util/status.h"

typedef struct cp_pg_role {
    const char *name; /* lowercase letters, digits and _, starting with a letter or _ */
    const char *password;
} cp_pg_role;

typedef struct cp_pg_roles_plan {
    const char *master_conninfo; /* libpq conninfo or URI of the master user, csvpipe's DB */
    cp_pg_role loader;
    cp_pg_role reader;
    cp_pg_role grafana;     /* name NULL: no Grafana database */
    const char *grafana_db; /* NULL: "grafana" */
} cp_pg_roles_plan;

/*
 * Sets the roles up. report (may be NULL) receives one line per step done. CP_USAGE for a
 * bad role name (or one that is the master user's); CP_DATABASE with PostgreSQL's message
 * (never a password) otherwise.
 */
cp_status cp_pg_roles_setup(const cp_pg_roles_plan *plan, cp_buf *report, cp_error *err);

#endif
