#define _GNU_SOURCE
/*
 * sql_secret.c - the relational database named by a Secrets Manager secret
 * (CSVPIPE_SQL_SECRET_ARN), shared by `lambda`, `run` and `db-setup`.
 */
#include "aws/secrets.h"
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cp_cli_sql_url_from_secret(const char *arn, char **url, char *msg, size_t cap)
{
    *url = NULL;
    cp_error err;
    cp_error_clear(&err);
    char *secret = NULL, *conninfo = NULL;
    int rc = -1;
    cp_aws *aws = NULL;
    if (cp_aws_new(&aws, &err) != CP_OK || cp_secrets_get(aws, arn, &secret, &err) != CP_OK ||
        cp_secrets_rds_conninfo(secret, &conninfo, &err) != CP_OK) {
        snprintf(msg, cap, "CSVPIPE_SQL_SECRET_ARN=%s: %s", arn, err.message);
        goto out;
    }
    if (asprintf(url, "postgresql:%s", conninfo) < 0) {
        *url = NULL;
        snprintf(msg, cap, "out of memory");
        goto out;
    }
    rc = 0;
out:
    if (secret)
        explicit_bzero(secret, strlen(secret));
    if (conninfo)
        explicit_bzero(conninfo, strlen(conninfo));
    free(secret);
    free(conninfo);
    cp_aws_free(aws);
    return rc;
}

void cp_cli_wipe_free(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    free(s);
}
