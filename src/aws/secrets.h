/*
 * secrets.h - AWS Secrets Manager: read a secret, and turn an RDS secret into a libpq
 * connection string (CSVPIPE_SQL_SECRET_ARN).
 */
#ifndef CP_SECRETS_H
#define CP_SECRETS_H

#include "aws/aws.h"

/*
 * GetSecretValue of secret_id (a name or an ARN; the current version). *out = the
 * SecretString (malloc'd; the caller frees, and should wipe it). CP_NOT_FOUND for a
 * missing secret; CP_USAGE for a secret that holds only SecretBinary; CP_IO for access and
 * other errors (with the service's code and message).
 */
cp_status cp_secrets_get(cp_aws *aws, const char *secret_id, char **out, cp_error *err);

/*
 * Builds a libpq conninfo ("host='h' port='5432' dbname='d' user='u' password='p'") from
 * the JSON of an RDS secret {username, password, host, port, dbname}: every value in single
 * quotes with \ and ' backslash-escaped (libpq's rules), port a number or a string, engine
 * and other members ignored. host, port and dbname may be absent: libpq then takes them
 * from PGHOST, PGPORT and PGDATABASE (a role's secret that names no host, used through an
 * RDS Proxy whose endpoint is in PGHOST), else its defaults.
 * *conninfo is malloc'd; the caller frees it (it holds the password). CP_USAGE with the
 * missing member named when the JSON is not such a secret; the message never contains the
 * password.
 */
cp_status cp_secrets_rds_conninfo(const char *secret_json, char **conninfo, cp_error *err);

#endif
