/*
 * secrets.c - Secrets Manager GetSecretValue (JSON 1.1 protocol) and RDS conninfo.
 */
#include "aws/secrets.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cp_status cp_secrets_get(cp_aws *aws, const char *secret_id, char **out, cp_error *err)
{
    *out = NULL;
    if (!secret_id || !*secret_id)
        return cp_error_set(err, CP_USAGE, "no secret id given");
    json_t *req_json = json_pack("{s:s}", "SecretId", secret_id);
    char *body = req_json ? json_dumps(req_json, JSON_COMPACT) : NULL;
    json_decref(req_json);
    if (!body)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    cp_aws_response r;
    cp_aws_response_init(&r);
    cp_status st = cp_aws_json_call(aws, CP_AWS_SECRETS_MANAGER, "secretsmanager.GetSecretValue",
                                    body, &r, err);
    free(body);
    if (st == CP_OK && r.status != 200) {
        char what[600];
        snprintf(what, sizeof what, "Secrets Manager GetSecretValue %s", secret_id);
        if (strcmp(r.code, "ResourceNotFoundException") == 0)
            st = cp_error_set(err, CP_NOT_FOUND,
                              "secret %s does not exist in %s (check CSVPIPE_SQL_SECRET_ARN and "
                              "AWS_REGION)",
                              secret_id, cp_aws_region(aws));
        else
            st = cp_aws_fail(&r, err, what);
    }
    if (st == CP_OK) {
        json_t *j = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
        const char *s = json_string_value(json_object_get(j, "SecretString"));
        if (!s)
            st = cp_error_set(err, j ? CP_USAGE : CP_IO,
                              j ? "secret %s has no SecretString (binary secrets are not "
                                  "supported)"
                                : "secret %s: unreadable answer",
                              secret_id);
        else if (!(*out = strdup(s)))
            st = cp_error_set(err, CP_NOMEM, "out of memory");
        json_decref(j);
    }
    if (r.body.data)
        memset(r.body.data, 0, r.body.len);
    cp_aws_response_release(&r);
    return st;
}

static cp_status append_param(cp_buf *o, const char *name, const char *v)
{
    if (o->len)
        CP_RETURN_IF_ERROR(cp_buf_append_char(o, ' '));
    CP_RETURN_IF_ERROR(cp_buf_printf(o, "%s='", name));
    for (; *v; v++) {
        if (*v == '\'' || *v == '\\')
            CP_RETURN_IF_ERROR(cp_buf_append_char(o, '\\'));
        CP_RETURN_IF_ERROR(cp_buf_append_char(o, *v));
    }
    return cp_buf_append_char(o, '\'');
}

cp_status cp_secrets_rds_conninfo(const char *secret_json, char **conninfo, cp_error *err)
{
    *conninfo = NULL;
    json_error_t je;
    json_t *j = json_loads(secret_json ? secret_json : "", 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        /* never je.text: jansson quotes the token it stopped at, which may be the password */
        return cp_error_set(err, CP_USAGE,
                            "the database secret is not a JSON object (%s at line %d, column "
                            "%d); an RDS secret has username, password, host, port and dbname",
                            j ? "another JSON value" : "broken JSON", j ? 1 : je.line,
                            j ? 1 : je.column);
    }
    static const char *const names[] = {"host", "port", "dbname", "username", "password"};
    static const char *const params[] = {"host", "port", "dbname", "user", "password"};
    char port[32];
    cp_buf o;
    cp_buf_init(&o, 1u << 16);
    cp_status st = CP_OK;
    for (size_t i = 0; st == CP_OK && i < 5; i++) {
        json_t *v = json_object_get(j, names[i]);
        const char *s = json_string_value(v);
        if (json_is_integer(v)) {
            snprintf(port, sizeof port, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            s = port;
        }
        if (!s || !*s) {
            if (i <= 2 && !v)
                continue; /* host, port and dbname are optional: libpq's defaults apply */
            st = cp_error_set(err, CP_USAGE,
                              "the database secret has no usable \"%s\" (an RDS secret has "
                              "username, password, host, port and dbname)",
                              names[i]);
            break;
        }
        if (i == 1 && strspn(s, "0123456789") != strlen(s)) {
            st =
                cp_error_set(err, CP_USAGE, "the database secret's port \"%s\" is not a number", s);
            break;
        }
        st = append_param(&o, params[i], s);
        if (st != CP_OK)
            st = cp_error_set(err, st, "out of memory");
    }
    json_decref(j);
    if (st != CP_OK) {
        if (o.data)
            memset(o.data, 0, o.len);
        cp_buf_release(&o);
        return st;
    }
    *conninfo = cp_buf_detach(&o, NULL);
    return CP_OK;
}
