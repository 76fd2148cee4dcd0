/*
 * libFuzzer target: connection URLs and locations as csvpipe reads them from the command
 * line, the environment and Secrets Manager: --sql (sqlite:PATH, postgresql://...,
 * postgres://..., postgresql:CONNINFO), --nosql (sqlite:PATH, dynamodb:TABLE), and
 * s3:// locations (cp_s3_parse_uri).
 *
 * Nothing may leave the machine or touch files outside a scratch folder, so the two
 * calls that would are wrapped at link time (-Wl,--wrap): PostgreSQL connections get
 * host, hostaddr and port forced to 127.0.0.1:1 after the URL's own (libpq still parses
 * every URL and conninfo; the connection is refused at once), and SQLite opens
 * ":memory:" (csvpipe still creates the folders of the path, inside the scratch folder the
 * process runs in; absolute paths and ".." are skipped).
 *
 * Input: one control byte (bits 0-2: which opener), then the text. Checked: an opener
 * either succeeds or fails with a message; a PostgreSQL open never succeeds (the port is
 * refused); an s3:// location that splits joins back into the same text.
 */
#define _GNU_SOURCE
#include "aws/s3.h"
#include "load/items.h"
#include "load/sql.h"

#include <ftw.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

PGconn *__real_PQconnectdbParams(const char *const *keywords, const char *const *values,
                                 int expand_dbname);
PGconn *__wrap_PQconnectdbParams(const char *const *keywords, const char *const *values,
                                 int expand_dbname);
int __real_sqlite3_open_v2(const char *filename, sqlite3 **db, int flags, const char *vfs);
int __wrap_sqlite3_open_v2(const char *filename, sqlite3 **db, int flags, const char *vfs);

PGconn *__wrap_PQconnectdbParams(const char *const *keywords, const char *const *values,
                                 int expand_dbname)
{
    const char *k[64], *v[64];
    size_t n = 0;
    while (keywords[n] && n < 48) {
        k[n] = keywords[n];
        v[n] = values[n];
        n++;
    }
    static const char *const fk[] = {"host",    "hostaddr",   "port",
                                     "sslmode", "gssencmode", "passfile"};
    static const char *const fv[] = {"127.0.0.1", "127.0.0.1", "1",
                                     "disable",   "disable",   "/dev/null"};
    for (size_t i = 0; i < sizeof fk / sizeof fk[0]; i++) {
        k[n] = fk[i];
        v[n] = fv[i];
        n++;
    }
    k[n] = v[n] = NULL;
    return __real_PQconnectdbParams(k, v, expand_dbname);
}

int __wrap_sqlite3_open_v2(const char *filename, sqlite3 **db, int flags, const char *vfs)
{
    (void)filename;
    return __real_sqlite3_open_v2(":memory:", db, flags, vfs);
}

static char scratch[] = "/tmp/csvpipe-fuzz-url-XXXXXX";
static unsigned runs;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    setenv("CSVPIPE_LOG", "error", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("PGSERVICEFILE", "/dev/null", 1);
    setenv("PGSYSCONFDIR", "/nonexistent", 1);
    unsetenv("PGHOST");
    unsetenv("PGHOSTADDR");
    unsetenv("PGPORT");
    if (!mkdtemp(scratch) || chdir(scratch) != 0)
        abort();
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level > 0)
        remove(path);
    return 0;
}

/* False for a sqlite: URL whose folders would be made outside the scratch folder. */
static bool stays_here(const char *url)
{
    if (strncmp(url, "sqlite:", 7) != 0)
        return true;
    return url[7] != '/' && !strstr(url, "..");
}

static void need_message(const void *opened, const cp_error *err)
{
    if (!opened && !err->message[0]) {
        fprintf(stderr, "an open failed without a message\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096 || memchr(data + 1, '\0', size - 1))
        return 0;
    static const char *const schemes[] = {"postgresql:", "postgres:", "postgresql://", "sqlite:",
                                          "sqlite:",     "dynamodb:", "s3://",         ""};
    uint8_t ctl = data[0];
    const char *scheme = schemes[ctl & 7];
    char *url = malloc(strlen(scheme) + size);
    if (!url)
        abort();
    memcpy(url, scheme, strlen(scheme));
    memcpy(url + strlen(scheme), data + 1, size - 1);
    url[strlen(scheme) + size - 1] = '\0';
    cp_error err;
    cp_error_clear(&err);
    switch (ctl & 7) {
    case 0:
    case 1:
    case 2: {
        cp_sql *db = cp_sql_open(url, &err);
        if (db) {
            fprintf(stderr, "%s connected to a refused port\n", url);
            abort();
        }
        need_message(db, &err);
        break;
    }
    case 3:
    case 4:
        if (!stays_here(url))
            break;
        if (ctl & 8) {
            cp_items *s = cp_items_open(url, &err);
            need_message(s, &err);
            cp_items_close(s);
        } else {
            cp_sql *db = cp_sql_open(url, &err);
            need_message(db, &err);
            cp_sql_close(db);
        }
        if (++runs % 256 == 0)
            nftw(".", remove_one, 16, FTW_DEPTH | FTW_PHYS);
        break;
    case 5: {
        cp_items *s = cp_items_open(url, &err);
        need_message(s, &err);
        cp_items_close(s);
        break;
    }
    default: {
        char *bucket, *key;
        if (cp_s3_parse_uri(url, &bucket, &key)) {
            char *joined = malloc(strlen(bucket) + strlen(key) + 7);
            if (!joined)
                abort();
            snprintf(joined, strlen(bucket) + strlen(key) + 7, "s3://%s%s%s", bucket,
                     strchr(url + 5, '/') ? "/" : "", key);
            if (strcmp(joined, url) != 0 || !*bucket || strchr(bucket, '/')) {
                fprintf(stderr, "%s splits into [%s] and [%s]\n", url, bucket, key);
                abort();
            }
            free(joined);
            free(bucket);
            free(key);
        }
        if (!stays_here(url))
            break;
        cp_error_clear(&err);
        cp_sql *db = cp_sql_open(url, &err);
        need_message(db, &err);
        cp_sql_close(db);
        break;
    }
    }
    free(url);
    return 0;
}
