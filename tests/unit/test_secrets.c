/* Unit tests for aws/secrets: an RDS secret's JSON into a libpq conninfo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "aws/secrets.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

static char *conninfo_of(const char *secret, cp_status want, cp_error *err)
{
    char *c = NULL;
    cp_error_clear(err);
    assert_int_equal(cp_secrets_rds_conninfo(secret, &c, err), want);
    if (want != CP_OK)
        assert_null(c);
    return c;
}

/* libpq's value of keyword in conninfo (NULL when unset); caller frees. */
static char *pq_value(const char *conninfo, const char *keyword)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    assert_non_null(opts);
    char *v = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, keyword) == 0 && o->val)
            v = strdup(o->val);
    PQconninfoFree(opts);
    return v;
}

static void test_rds_secret(void **state)
{
    (void)state;
    cp_error err;
    char *c = conninfo_of("{\"engine\":\"postgres\",\"host\":\"db.example.com\",\"port\":5432,"
                          "\"username\":\"loader\",\"password\":\"it's a \\\\ secret\","
                          "\"dbname\":\"warehouse\"}",
                          CP_OK, &err);
    char *pw = pq_value(c, "password"), *port = pq_value(c, "port"), *db = pq_value(c, "dbname");
    assert_string_equal(pw, "it's a \\ secret");
    assert_string_equal(port, "5432");
    assert_string_equal(db, "warehouse");
    free(pw);
    free(port);
    free(db);
    free(c);

    /* dbname is optional, a port may be a string; a password cannot add a keyword */
    c = conninfo_of("{\"host\":\"h\",\"port\":\"5433\",\"username\":\"u\",\"password\":\"x' "
                    "sslmode='disable\"}",
                    CP_OK, &err);
    char *ssl = pq_value(c, "sslmode");
    db = pq_value(c, "dbname");
    assert_null(ssl);
    assert_null(db);
    free(c);

    conninfo_of("{\"host\":\"h\",\"port\":\"54x\",\"username\":\"u\",\"password\":\"p\"}", CP_USAGE,
                &err);
    assert_non_null(strstr(err.message, "port"));
    conninfo_of("{\"host\":\"h\",\"port\":1,\"password\":\"p\"}", CP_USAGE, &err);
    assert_non_null(strstr(err.message, "username"));
}

/* A secret that is not JSON: the message says where, and quotes none of it (jansson's own
   message quotes the token it stopped at, which may be the password). */
static void test_broken_secret_not_quoted(void **state)
{
    (void)state;
    cp_error err;
    conninfo_of("{\"username\":\"u\",\"password\" \"hunter2-very-secret\"}", CP_USAGE, &err);
    assert_null(strstr(err.message, "hunter2"));
    assert_non_null(strstr(err.message, "line 1"));
    conninfo_of("{\"password\":\"hunter2-very-secret\" junk}", CP_USAGE, &err);
    assert_null(strstr(err.message, "hunter2"));
    assert_null(strstr(err.message, "junk"));
    conninfo_of("[\"hunter2-very-secret\"]", CP_USAGE, &err);
    assert_null(strstr(err.message, "hunter2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rds_secret),
        cmocka_unit_test(test_broken_secret_not_quoted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
