/*
 * pg_roles.c - the roles of a deployed csvpipe (pg_roles.h): one transaction for the roles,
 * grants and table owners, then the Grafana database (CREATE DATABASE cannot run inside
 * a transaction).
 */
#define _GNU_SOURCE
#include "load/pg_roles.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct setup {
    PGconn *conn;
    cp_buf *report;
    cp_error *err;
} setup;

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static bool name_ok(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    if (len == 0 || len > 63 || !((n[0] >= 'a' && n[0] <= 'z') || n[0] == '_'))
        return false;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '_'))
            return false;
    return true;
}

static void note(setup *s, const char *line)
{
    if (s->report) {
        cp_buf_append_str(s->report, line);
        cp_buf_append_char(s->report, '\n');
    }
}

static cp_status fail(setup *s, const PGresult *res, const char *doing)
{
    char msg[600];
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(msg, sizeof msg, "%s", primary ? primary : PQerrorMessage(s->conn));
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return cp_error_set(s->err, CP_DATABASE, "setting up the database roles: %s: %s", doing, msg);
}

/* Runs the SQL in s->sql (no parameters), or with params; *out gets a result if given. */
static cp_status exec(setup *s, const char *sql, int nparams, const char *const *params,
                      PGresult **out, const char *doing)
{
    PGresult *res = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType t = PQresultStatus(res);
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
        cp_status st = fail(s, res, doing);
        PQclear(res);
        return st;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return CP_OK;
}

/* Formats into s->sql and runs it. */
static cp_status run(setup *s, const char *doing, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cp_status run(setup *s, const char *doing, const char *fmt, ...)
{
    char *sql = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&sql, fmt, ap);
    va_end(ap);
    if (n < 0)
        return cp_error_set(s->err, CP_NOMEM, "out of memory");
    cp_status st = exec(s, sql, 0, NULL, NULL, doing);
    free(sql);
    return st;
}

static cp_status exists(setup *s, const char *query, const char *name, bool *yes)
{
    PGresult *res = NULL;
    const char *params[1] = {name};
    CP_RETURN_IF_ERROR(exec(s, query, 1, params, &res, "reading the catalog"));
    *yes = PQntuples(res) > 0;
    PQclear(res);
    return CP_OK;
}

/* CREATE or ALTER ROLE name LOGIN with the password's SCRAM verifier. */
static cp_status login_role(setup *s, const cp_pg_role *r)
{
    char *verifier = PQencryptPasswordConn(s->conn, r->password, r->name, "scram-sha-256");
    if (!verifier)
        return fail(s, NULL, "computing a password verifier");
    char *lit = PQescapeLiteral(s->conn, verifier, strlen(verifier));
    PQfreemem(verifier);
    if (!lit)
        return fail(s, NULL, "quoting a password verifier");
    bool there = false;
    cp_status st = exists(s, "SELECT 1 FROM pg_roles WHERE rolname = $1", r->name, &there);
    char line[200];
    if (st == CP_OK) {
        st = run(s, "creating a role", "%s ROLE \"%s\" WITH LOGIN PASSWORD %s",
                 there ? "ALTER" : "CREATE", r->name, lit);
        snprintf(line, sizeof line, "role %s %s", r->name,
                 there ? "exists: password set" : "created");
        if (st == CP_OK)
            note(s, line);
    }
    PQfreemem(lit);
    return st;
}

static cp_status roles_and_grants(setup *s, const cp_pg_roles_plan *p, const char *db)
{
    const char *L = p->loader.name, *R = p->reader.name, *G = p->grafana.name;
    CP_RETURN_IF_ERROR(login_role(s, &p->loader));
    CP_RETURN_IF_ERROR(login_role(s, &p->reader));
    if (G)
        CP_RETURN_IF_ERROR(login_role(s, &p->grafana));
    CP_RETURN_IF_ERROR(run(s, "making the master user a member of the loader role",
                           "GRANT \"%s\" TO CURRENT_USER", L));
    if (G)
        CP_RETURN_IF_ERROR(run(s, "making the master user a member of the Grafana role",
                               "GRANT \"%s\" TO CURRENT_USER", G));
    CP_RETURN_IF_ERROR(
        run(s, "closing the database to PUBLIC", "REVOKE ALL ON DATABASE \"%s\" FROM PUBLIC", db));
    CP_RETURN_IF_ERROR(run(s, "granting the loader the database",
                           "GRANT CONNECT, TEMPORARY ON DATABASE \"%s\" TO \"%s\"", db, L));
    CP_RETURN_IF_ERROR(run(s, "granting the reader the database",
                           "GRANT CONNECT ON DATABASE \"%s\" TO \"%s\"", db, R));
    CP_RETURN_IF_ERROR(
        run(s, "closing schema public to PUBLIC", "REVOKE CREATE ON SCHEMA public FROM PUBLIC"));
    CP_RETURN_IF_ERROR(run(s, "granting the loader schema public",
                           "GRANT USAGE, CREATE ON SCHEMA public TO \"%s\"", L));
    CP_RETURN_IF_ERROR(
        run(s, "granting the reader schema public", "GRANT USAGE ON SCHEMA public TO \"%s\"", R));
    note(s, "database and schema public: CONNECT for the loader and the reader, CREATE for "
            "the loader, nothing for PUBLIC");

    /* csvpipe's tables from before the roles: the loader's from now on */
    PGresult *res = NULL;
    bool have_columns = false;
    CP_RETURN_IF_ERROR(exists(s, "SELECT 1 WHERE to_regclass($1) IS NOT NULL",
                              "public.csvpipe_columns", &have_columns));
    CP_RETURN_IF_ERROR(
        exec(s,
             have_columns
                 ? "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND "
                   "pg_get_userbyid(c.relowner) = current_user AND (c.relname IN "
                   "('csvpipe_loads', 'csvpipe_columns') OR c.relname IN (SELECT dataset FROM "
                   "public.csvpipe_columns))"
                 : "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND "
                   "pg_get_userbyid(c.relowner) = current_user AND c.relname = 'csvpipe_loads'",
             0, NULL, &res, "finding csvpipe's tables"));
    cp_status st = CP_OK;
    for (int i = 0; st == CP_OK && i < PQntuples(res); i++) {
        const char *t = PQgetvalue(res, i, 0);
        char *q = PQescapeIdentifier(s->conn, t, strlen(t));
        if (!q) {
            st = fail(s, NULL, "quoting a table name");
            break;
        }
        st = run(s, "giving a table to the loader", "ALTER TABLE public.%s OWNER TO \"%s\"", q, L);
        PQfreemem(q);
        char line[400];
        snprintf(line, sizeof line, "table %s now belongs to %s", t, L);
        if (st == CP_OK)
            note(s, line);
    }
    PQclear(res);
    CP_RETURN_IF_ERROR(st);
    CP_RETURN_IF_ERROR(run(s, "granting the reader today's tables",
                           "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"%s\"", R));
    CP_RETURN_IF_ERROR(run(s, "granting the reader the loader's future tables",
                           "ALTER DEFAULT PRIVILEGES FOR ROLE \"%s\" IN SCHEMA public GRANT "
                           "SELECT ON TABLES TO \"%s\"",
                           L, R));
    CP_RETURN_IF_ERROR(run(s, "making the reader read-only by default",
                           "ALTER ROLE \"%s\" SET default_transaction_read_only = on", R));
    note(s, "reader: SELECT on every table of schema public, now and later; read-only by "
            "default");
    return CP_OK;
}

static cp_status grafana_db(setup *s, const cp_pg_roles_plan *p)
{
    const char *G = p->grafana.name, *gdb = p->grafana_db ? p->grafana_db : "grafana";
    bool there = false;
    CP_RETURN_IF_ERROR(exists(s, "SELECT 1 FROM pg_database WHERE datname = $1", gdb, &there));
    if (there)
        CP_RETURN_IF_ERROR(run(s, "giving the Grafana database to its role",
                               "ALTER DATABASE \"%s\" OWNER TO \"%s\"", gdb, G));
    else
        CP_RETURN_IF_ERROR(
            run(s, "creating the Grafana database", "CREATE DATABASE \"%s\" OWNER \"%s\"", gdb, G));
    CP_RETURN_IF_ERROR(run(s, "closing the Grafana database to PUBLIC",
                           "REVOKE ALL ON DATABASE \"%s\" FROM PUBLIC", gdb));
    char line[300];
    snprintf(line, sizeof line, "database %s %s, owned by %s, closed to PUBLIC", gdb,
             there ? "exists" : "created", G);
    note(s, line);
    return CP_OK;
}

cp_status cp_pg_roles_setup(const cp_pg_roles_plan *plan, cp_buf *report, cp_error *err)
{
    const cp_pg_role *roles[3] = {&plan->loader, &plan->reader, &plan->grafana};
    for (int i = 0; i < 3; i++) {
        if (i == 2 && !plan->grafana.name)
            continue;
        if (!name_ok(roles[i]->name))
            return cp_error_set(err, CP_USAGE,
                                "database role name \"%s\" is not usable: use 1 to 63 lowercase "
                                "letters, digits and _, starting with a letter or _",
                                roles[i]->name ? roles[i]->name : "");
        if (!roles[i]->password || !*roles[i]->password)
            return cp_error_set(err, CP_USAGE, "the database role %s has no password",
                                roles[i]->name);
        for (int j = 0; j < i; j++)
            if (strcmp(roles[i]->name, roles[j]->name) == 0)
                return cp_error_set(err, CP_USAGE,
                                    "the loader, reader and Grafana roles must differ (%s twice)",
                                    roles[i]->name);
    }
    if (plan->grafana_db && !name_ok(plan->grafana_db))
        return cp_error_set(err, CP_USAGE, "database name \"%s\" is not usable", plan->grafana_db);
    const char *const keys[] = {"connect_timeout", "dbname", "fallback_application_name", NULL};
    const char *const values[] = {"10", plan->master_conninfo, "csvpipe db-setup", NULL};
    setup s = {.conn = PQconnectdbParams(keys, values, 1), .report = report, .err = err};
    cp_status st = CP_OK;
    if (!s.conn || PQstatus(s.conn) != CONNECTION_OK) {
        st = fail(&s, NULL, "connecting as the master user");
        goto out;
    }
    PQsetNoticeProcessor(s.conn, quiet, NULL); /* "already a member" and the like */
    PGresult *res = NULL;
    if ((st = exec(&s, "SELECT current_user, current_database()", 0, NULL, &res,
                   "reading the master user")) != CP_OK)
        goto out;
    char me[128], db[128];
    snprintf(me, sizeof me, "%s", PQgetvalue(res, 0, 0));
    snprintf(db, sizeof db, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    for (int i = 0; i < 3; i++)
        if (roles[i]->name && strcmp(roles[i]->name, me) == 0) {
            st = cp_error_set(err, CP_USAGE,
                              "the role %s is the master user itself; give the loader, reader "
                              "and Grafana roles their own names",
                              me);
            goto out;
        }
    if (!name_ok(db)) {
        st = cp_error_set(err, CP_USAGE, "database name \"%s\" is not usable", db);
        goto out;
    }
    if ((st = exec(&s, "BEGIN", 0, NULL, NULL, "starting")) != CP_OK)
        goto out;
    st = roles_and_grants(&s, plan, db);
    if (st == CP_OK)
        st = exec(&s, "COMMIT", 0, NULL, NULL, "committing the roles and grants");
    else
        PQclear(PQexec(s.conn, "ROLLBACK"));
    if (st == CP_OK && plan->grafana.name)
        st = grafana_db(&s, plan);
out:
    PQfinish(s.conn);
    return st;
}
