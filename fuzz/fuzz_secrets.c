/*
 * libFuzzer target: Secrets Manager's GetSecretValue answer (through the real client and a
 * scripted server, fake_http.h) and the RDS secret it holds, turned into the libpq
 * conninfo of CSVPIPE_SQL_SECRET_ARN by cp_secrets_rds_conninfo.
 *
 * Input: one control byte, then either the secret's JSON itself (bit 0 clear) or a script
 * of answers (bit 0 set). Checked: a conninfo that is built parses with libpq's own parser
 * (PQconninfoParse) into exactly the secret's host, port, dbname, user and password and
 * nothing else — quoting cannot be escaped to inject another keyword; an error message
 * never holds the password, nor, for a secret that is not JSON, any 8 bytes of it (jansson
 * quotes the token it stopped at, which may be the password).
 */
#define _GNU_SOURCE
#include "aws/secrets.h"
#include "fake_http.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fake_http *server;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    server = fake_http_start_for("AWS_ENDPOINT_URL_SECRETS_MANAGER");
    return 0;
}

/* The secret's member as conninfo text (a string, or an integer's digits), malloc'd; NULL
   if neither. */
static char *member(json_t *j, const char *name)
{
    json_t *v = json_object_get(j, name);
    char *out = NULL;
    if (json_is_integer(v)) {
        if (asprintf(&out, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
            abort();
        return out;
    }
    return json_string_value(v) ? strdup(json_string_value(v)) : NULL;
}

/* True when a member other than the password holds the password's text: a message that
 * names that member's value (a bad port, say) quotes it without leaking the password. */
static bool other_member_holds(json_t *j, const char *password)
{
    static const char *const others[] = {"host", "port", "dbname", "username", "engine"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char *v = member(j, others[i]);
        bool holds = v && strstr(v, password);
        free(v);
        if (holds)
            return true;
    }
    return false;
}

static void check_conninfo(const char *secret)
{
    char *conninfo = NULL;
    cp_error err;
    cp_error_clear(&err);
    cp_status st = cp_secrets_rds_conninfo(secret, &conninfo, &err);
    json_t *j = json_loads(secret, 0, NULL);
    char *password = member(j, "password");
    if (st != CP_OK) {
        if (!err.message[0] || conninfo)
            abort();
        if (!j) { /* broken JSON: the message quotes none of it */
            static char template[sizeof err.message];
            if (!template[0]) {
                cp_error e0;
                char *c0 = NULL;
                cp_secrets_rds_conninfo("x", &c0, &e0);
                snprintf(template, sizeof template, "%s", e0.message);
            }
            size_t n = strlen(secret);
            for (size_t k = 0; k + 8 <= n; k++) {
                char w[9];
                memcpy(w, secret + k, 8);
                w[8] = '\0';
                if (strstr(err.message, w) && !strstr(template, w)) {
                    fprintf(stderr, "the message quotes the secret [%s]: %s\n", w, err.message);
                    abort();
                }
            }
        }
        if (password && strlen(password) >= 4 && strstr(err.message, password) &&
            !other_member_holds(j, password)) {
            fprintf(stderr, "the error message holds the password: %s\n", err.message);
            abort();
        }
        free(password);
        json_decref(j);
        return;
    }
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    if (!opts) {
        fprintf(stderr, "libpq cannot parse [%s]: %s\n", conninfo, perr ? perr : "");
        abort();
    }
    static const char *const members[] = {"host", "port", "dbname", "username", "password"};
    static const char *const keywords[] = {"host", "port", "dbname", "user", "password"};
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        char *want = NULL;
        bool known = false;
        for (size_t k = 0; k < 5; k++) {
            if (strcmp(o->keyword, keywords[k]) == 0) {
                want = member(j, members[k]);
                known = true;
            }
        }
        const char *got = o->val;
        bool same = known ? (want ? got && strcmp(got, want) == 0 : !got) : !got;
        if (!same) {
            fprintf(stderr, "conninfo [%s]: %s is [%s], the secret says [%s]\n", conninfo,
                    o->keyword, got ? got : "(unset)", want ? want : "(unset)");
            abort();
        }
        free(want);
    }
    PQconninfoFree(opts);
    free(password);
    free(conninfo);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (!(data[0] & 1)) {
        char *secret = strndup((const char *)data + 1, size - 1);
        if (!secret)
            abort();
        check_conninfo(secret);
        free(secret);
        return 0;
    }
    cp_error err;
    cp_aws *aws = fake_http_aws(server, data + 1, size - 1, &err);
    char *secret = NULL;
    cp_status st = cp_secrets_get(
        aws, "arn:aws:secretsmanager:us-east-1:123456789012:secret:csvpipe-db-AbCdEf", &secret,
        &err);
    if (st == CP_OK)
        check_conninfo(secret);
    else if (!err.message[0] || secret)
        abort();
    free(secret);
    cp_aws_free(aws);
    return 0;
}
