/*
 * aws_tool.c - a command-line front for the AWS client, for tests (tests/cli/aws_*.sh).
 *
 *   aws_tool get URI                    stream an object to stdout (stderr: size, etag, resumes)
 *   aws_tool get-rewind URI N           read N bytes, rewind, then stream all of it to stdout
 *   aws_tool put URI FILE [PART_SIZE]   streaming upload of FILE (stderr: parts)
 *   aws_tool put-abort URI FILE [PART]  write FILE, then abort instead of committing
 *   aws_tool delete URI
 *   aws_tool secret ID                  print the SecretString
 *   aws_tool conninfo ID                print the libpq conninfo of an RDS secret
 *   aws_tool creds                      print where credentials came from and the key id
 *   aws_tool ddb-create TABLE
 *   aws_tool ddb-put TABLE SOURCE N [ROWS_BEFORE [BIG_ROW]]
 *        items of a generated keyless file of N rows through cp_items (dynamodb:TABLE):
 *        id = r, name = `name "r" é`, price = r.90 (DECIMAL), note = "n<r>" when r % 3 == 0,
 *        else null; BIG_ROW (optional) gets a 500 KB name and must be reported as a bad row
 *        (cp_items_write refuses it with CP_TOO_LARGE; the rows after it are written).
 * Exit status: 0 success, 1 failure (message on stderr).
 */
#include "aws/aws.h"
#include "aws/s3.h"
#include "aws/secrets.h"
#include "load/items.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int die(const cp_error *err)
{
    fprintf(stderr, "aws_tool: %s: %s\n", cp_status_name(err->code), err->message);
    return 1;
}

static int cmd_get(cp_aws *aws, const char *uri, long long first)
{
    cp_error err;
    cp_error_clear(&err);
    cp_source *s;
    if (cp_s3_source_open(aws, uri, &s, &err) != CP_OK)
        return die(&err);
    static char buf[1 << 16];
    size_t n;
    int rc = 0;
    if (first >= 0) {
        long long left = first;
        while (left > 0) {
            size_t want = left < (long long)sizeof buf ? (size_t)left : sizeof buf;
            if (cp_source_read(s, buf, want, &n, &err) != CP_OK) {
                rc = die(&err);
                goto out;
            }
            if (n == 0)
                break;
            left -= (long long)n;
        }
        if (cp_source_rewind(s, &err) != CP_OK) {
            rc = die(&err);
            goto out;
        }
    }
    for (;;) {
        /* odd read sizes exercise the spill buffer */
        if (cp_source_read(s, buf, 7000 + (size_t)(s->position % 50000), &n, &err) != CP_OK) {
            rc = die(&err);
            goto out;
        }
        if (n == 0)
            break;
        if (fwrite(buf, 1, n, stdout) != n) {
            fprintf(stderr, "aws_tool: write error\n");
            rc = 1;
            goto out;
        }
    }
    fprintf(stderr,
            "size=%" PRId64 " etag=%s version=%s resumes=%u position=%" PRIu64 " parts=%" PRIu64
            " early=%" PRIu64 "\n",
            s->size, cp_s3_source_etag(s),
            cp_s3_source_version_id(s) ? cp_s3_source_version_id(s) : "-", cp_s3_source_resumes(s),
            s->position, cp_s3_source_parts(s), cp_s3_source_parts_early(s));
out:
    cp_source_free(s);
    return rc;
}

static int cmd_put(cp_aws *aws, const char *uri, const char *path, const char *part, bool abort)
{
    cp_error err;
    cp_error_clear(&err);
    cp_s3_upload *u;
    if (cp_s3_upload_new(aws, uri, &u, &err) != CP_OK)
        return die(&err);
    int rc = 0;
    if (part && cp_s3_upload_set_part_size(u, (size_t)strtoull(part, NULL, 10), &err) != CP_OK) {
        rc = die(&err);
        goto out;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        rc = 1;
        goto out;
    }
    static char buf[100003];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (cp_s3_upload_write(u, buf, n) != CP_OK)
            break;
    fclose(f);
    if (abort) {
        cp_s3_upload_abort(u);
        cp_s3_upload_abort(u); /* twice is safe */
        fprintf(stderr, "aborted after %u parts\n", cp_s3_upload_parts(u));
        goto out;
    }
    if (cp_s3_upload_commit(u, &err) != CP_OK) {
        rc = die(&err);
        goto out;
    }
    cp_s3_upload_abort(u); /* after commit: nothing happens */
    fprintf(stderr, "bytes=%" PRIu64 " parts=%u\n", cp_s3_upload_bytes(u), cp_s3_upload_parts(u));
out:
    cp_s3_upload_free(u);
    return rc;
}

static const char *const headers[] = {"id", "name", "price", "note"};

static int cmd_ddb_put(const char *table, const char *source, uint64_t n, uint64_t before,
                       uint64_t big)
{
    char url[512];
    snprintf(url, sizeof url, "dynamodb:%s", table);
    cp_error err;
    cp_error_clear(&err);
    cp_items *items = cp_items_open(url, &err);
    if (!items)
        return die(&err);
    int rejected = 0;
    cp_schema schema;
    size_t lens[4];
    cp_schema_init(&schema, 4);
    schema.columns[0].type = cp_type_of(CP_TYPE_INT64);
    schema.columns[1].type = cp_type_of(CP_TYPE_STRING);
    schema.columns[2].type = cp_type_decimal(12, 2);
    schema.columns[3].type = cp_type_of(CP_TYPE_STRING);
    for (int i = 0; i < 4; i++)
        lens[i] = strlen(headers[i]);
    cp_schema_set_names(&schema, headers, lens, NULL);
    cp_batch b;
    int rc = 0;
    char *bigname = malloc(500 * 1024 + 1);
    memset(bigname, 'x', 500 * 1024);
    bigname[500 * 1024] = '\0';
    if (cp_batch_init(&b, &schema, 100, 1 << 22, 1 << 21) != CP_OK ||
        cp_items_begin(items, "sales", &schema, source, NULL, 0, &err) != CP_OK) {
        rc = die(&err);
        goto out;
    }
    cp_batch_clear(&b, 1);
    cp_value_opts opts = {{'.', CP_DATE_ORDER_UNKNOWN, 0}, NULL};
    for (uint64_t r = 1; r <= n; r++) {
        char id[32], name[64], price[32], note[32];
        snprintf(id, sizeof id, "%" PRIu64, r);
        snprintf(name, sizeof name, "name \"%" PRIu64 "\" \xc3\xa9", r);
        snprintf(price, sizeof price, "%" PRIu64 ".90", r);
        snprintf(note, sizeof note, "n%" PRIu64, r);
        cp_field f[4] = {{id, strlen(id), false},
                         {r == big ? bigname : name, strlen(r == big ? bigname : name), true},
                         {price, strlen(price), false},
                         {note, r % 3 == 0 ? strlen(note) : 0, false}};
        if (cp_batch_append_row(&b, f, 4, &opts, &err) != CP_OK) {
            rc = die(&err);
            goto out;
        }
        if (cp_batch_full(&b) || r == n) {
            cp_status st = cp_items_write(items, &b, &err);
            if (st == CP_TOO_LARGE && err.line >= b.first_row && err.line <= r) {
                /* the rows before it went out: go on after it */
                fprintf(stderr, "bad row %" PRIu64 ": %s\n", (uint64_t)err.line, err.message);
                rejected++;
                r = err.line;
                cp_error_clear(&err);
            } else if (st != CP_OK) {
                rc = die(&err);
                cp_items_abort(items);
                goto out;
            }
            cp_batch_clear(&b, r + 1);
        }
    }
    if (cp_items_finish(items, n, before, &err) != CP_OK) {
        rc = die(&err);
        goto out;
    }
    fprintf(stderr, "wrote %" PRIu64 " rows, %d bad rows\n", n, rejected);
out:
    free(bigname);
    cp_batch_release(&b);
    cp_schema_release(&schema);
    cp_items_close(items);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: see the top of tests/aws/aws_tool.c\n");
        return 2;
    }
    const char *cmd = argv[1];
    cp_error err;
    cp_error_clear(&err);
    if (strcmp(cmd, "ddb-put") == 0 && argc >= 5)
        return cmd_ddb_put(argv[2], argv[3], strtoull(argv[4], NULL, 10),
                           argc > 5 ? strtoull(argv[5], NULL, 10) : 0,
                           argc > 6 ? strtoull(argv[6], NULL, 10) : 0);
    if (strcmp(cmd, "ddb-create") == 0 && argc == 3) {
        char url[512];
        snprintf(url, sizeof url, "dynamodb:%s", argv[2]);
        return cp_items_create_table(url, &err) == CP_OK ? 0 : die(&err);
    }
    cp_aws *aws;
    if (cp_aws_new(&aws, &err) != CP_OK)
        return die(&err);
    int rc = 2;
    if (strcmp(cmd, "get") == 0 && argc == 3)
        rc = cmd_get(aws, argv[2], -1);
    else if (strcmp(cmd, "get-rewind") == 0 && argc == 4)
        rc = cmd_get(aws, argv[2], atoll(argv[3]));
    else if ((strcmp(cmd, "put") == 0 || strcmp(cmd, "put-abort") == 0) && argc >= 4)
        rc = cmd_put(aws, argv[2], argv[3], argc > 4 ? argv[4] : NULL, cmd[3] == '-');
    else if (strcmp(cmd, "delete") == 0 && argc == 3)
        rc = cp_s3_delete(aws, argv[2], &err) == CP_OK ? 0 : die(&err);
    else if ((strcmp(cmd, "secret") == 0 || strcmp(cmd, "conninfo") == 0) && argc == 3) {
        char *s = NULL, *ci = NULL;
        if (cp_secrets_get(aws, argv[2], &s, &err) != CP_OK)
            rc = die(&err);
        else if (cmd[0] == 's')
            rc = (printf("%s\n", s), 0);
        else if (cp_secrets_rds_conninfo(s, &ci, &err) != CP_OK)
            rc = die(&err);
        else
            rc = (printf("%s\n", ci), 0);
        free(s);
        free(ci);
    } else if (strcmp(cmd, "creds") == 0) {
        const char *ak, *sk, *tok, *src;
        if (cp_aws_credentials(aws, &ak, &sk, &tok, &src, &err) != CP_OK)
            rc = die(&err);
        else
            rc = (printf("%s %s %s\n", src, ak, tok ? "token" : "-"), 0);
    } else {
        fprintf(stderr, "usage: see the top of tests/aws/aws_tool.c\n");
    }
    cp_aws_free(aws);
    return rc;
}
