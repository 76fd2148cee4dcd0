/*
 * test_pipeline.c - pipeline/pipeline end to end in a temporary folder with sqlite: URLs:
 * a small CSV loaded (summary, outputs read back, rows in the database and the item
 * store), the same version skipped, a changed version reloaded in place, too many bad rows
 * (by fraction and by count) rejected with error.json and the rejects file and nothing
 * loaded, a missing file failed, the summary JSON, and the default options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pipeline/pipeline.h"

#include <dirent.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char out_dir[128];
static char sql_url[200], nosql_url[200];
static char sql_path[160], items_path[160];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/cp_pipeline_XXXXXX");
    assert_non_null(mkdtemp(dir));
    /* the folder itself may be reached through a symlink (/tmp): use its real path */
    char real[PATH_MAX];
    assert_non_null(realpath(dir, real));
    size_t len = strlen(real);
    assert_true(len < sizeof dir);
    memcpy(dir, real, len + 1);
    snprintf(out_dir, sizeof out_dir, "%s/out", dir);
    snprintf(sql_path, sizeof sql_path, "%s/db/warehouse.db", dir);
    snprintf(items_path, sizeof items_path, "%s/db/items.db", dir);
    snprintf(sql_url, sizeof sql_url, "sqlite:%s", sql_path);
    snprintf(nosql_url, sizeof nosql_url, "sqlite:%s", items_path);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void options(cp_pipeline_options *o)
{
    cp_pipeline_options_default(o);
    o->out_dir = out_dir;
    o->sql_url = sql_url;
    o->nosql_url = nosql_url;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static bool exists(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int64_t)st.st_size;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Where the load published the file of format, NULL when it did not. */
static const char *output_of(const cp_load_summary *s, const char *format)
{
    const cp_load_output *o = cp_load_summary_output(s, format);
    return o ? o->location : NULL;
}

static uint64_t bytes_of(const cp_load_summary *s, const char *format)
{
    const cp_load_output *o = cp_load_summary_output(s, format);
    assert_non_null(o);
    return o->bytes;
}

/* One integer from a query (-1 when there is no row). */
static long long sql_int(const char *db_path, const char *query)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, query, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", query, sqlite3_errmsg(db));
    long long v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Files in a folder whose name contains ".tmp-" (leftover temporary files). */
static int temp_files_in(const char *folder)
{
    DIR *d = opendir(folder);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp-"))
            n++;
    closedir(d);
    return n;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static const char sales_csv[] = "id,name,price,day\n"
                                "1,Ana,19.90,2024-01-31\n"
                                "2,Bruno,5.00,2024-02-01\n"
                                "3,\"Zé, o \"\"Zé\"\"\",-0.50,\n";

static void test_load_skip_reload(void **state)
{
    char csv[160];
    snprintf(csv, sizeof csv, "%s/Daily-Sales.csv", dir);
    write_text(csv, sales_csv);

    cp_pipeline_options o;
    options(&o);
    cp_error err;
    cp_error_clear(&err);
    cp_pipeline *p = cp_pipeline_new(&o, &err);
    if (!p)
        fail_msg("cp_pipeline_new: %s", err.message);

    cp_load_summary s;
    assert_int_equal(cp_pipeline_load(p, csv, NULL, &s, &err), CP_OK);
    if (s.status != CP_LOAD_LOADED)
        fail_msg("status %s: %s", cp_load_status_name(s.status), s.error ? s.error : "");
    assert_null(s.error);
    assert_string_equal(s.source, csv);
    assert_string_equal(s.source_uri, csv);        /* already absolute and real */
    assert_string_equal(s.dataset, "daily_sales"); /* from the file stem, normalized */
    assert_non_null(s.version);
    assert_int_equal(s.stream.rows, 3);
    assert_int_equal(s.stream.rejected, 0);
    assert_int_equal(s.size_bytes, (int64_t)strlen(sales_csv));
    assert_int_equal(s.sniffed.schema.ncolumns, 4);
    assert_true(s.finished_us >= s.started_us);

    /* outputs where docs/design.md puts them, complete, no temporary files left */
    char want[256];
    snprintf(want, sizeof want, "%s/parquet/daily_sales/Daily-Sales.parquet", out_dir);
    assert_string_equal(output_of(&s, "parquet"), want);
    snprintf(want, sizeof want, "%s/json/daily_sales/Daily-Sales.jsonl", out_dir);
    assert_string_equal(output_of(&s, "json"), want);
    assert_true(exists(output_of(&s, "parquet")));
    assert_true(exists(output_of(&s, "json")));
    assert_null(s.rejects_path);
    assert_null(s.error_path);
    assert_int_equal(bytes_of(&s, "parquet"), (uint64_t)file_size(output_of(&s, "parquet")));
    assert_int_equal(bytes_of(&s, "json"), (uint64_t)file_size(output_of(&s, "json")));
    char *pq = slurp(output_of(&s, "parquet"));
    assert_memory_equal(pq, "PAR1", 4);
    free(pq);
    snprintf(want, sizeof want, "%s/parquet/daily_sales", out_dir);
    assert_int_equal(temp_files_in(want), 0);

    char *ndjson = slurp(output_of(&s, "json"));
    assert_int_equal(count_lines(ndjson), 3);
    const char *line = ndjson;
    for (int r = 0; r < 3; r++) {
        const char *nl = strchr(line, '\n');
        json_t *j = json_loadb(line, (size_t)(nl - line), 0, NULL);
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "id")), r + 1);
        if (r == 2) {
            assert_string_equal(json_string_value(json_object_get(j, "name")), "Zé, o \"Zé\"");
            assert_true(json_is_null(json_object_get(j, "day")));
        }
        json_decref(j);
        line = nl + 1;
    }
    assert_non_null(strstr(ndjson, "\"price\":19.90"));
    assert_non_null(strstr(ndjson, "\"price\":-0.50"));
    free(ndjson);

    /* rows in the database, the ledger row, the items */
    assert_int_equal(sql_int(sql_path, "SELECT count(*) FROM daily_sales"), 3);
    assert_int_equal(sql_int(sql_path, "SELECT count(*) FROM csvpipe_loads WHERE dataset = "
                                       "'daily_sales' AND status = 'loaded' AND rows_loaded = 3"),
                     1);
    assert_int_equal(
        sql_int(items_path, "SELECT count(*) FROM items WHERE pk LIKE 'daily_sales#%'"), 3);

    /* the summary JSON */
    cp_buf jb;
    cp_buf_init(&jb, CP_BUF_UNLIMITED);
    assert_int_equal(cp_load_summary_to_json(&s, &jb), CP_OK);
    json_error_t je;
    json_t *j = json_loads(jb.data, 0, &je);
    if (!j)
        fail_msg("summary JSON: %s in %s", je.text, jb.data);
    static const char *const keys[] = {
        "source", "source_uri", "dataset",       "status",   "error", "version", "detected",
        "schema", "rows",       "rejected_rows", "restarts", "bytes", "outputs", "timings_ms"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        if (!json_object_get(j, keys[k]))
            fail_msg("summary JSON has no \"%s\": %s", keys[k], jb.data);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "loaded");
    assert_string_equal(json_string_value(json_object_get(j, "dataset")), "daily_sales");
    assert_true(json_is_null(json_object_get(j, "error")));
    assert_int_equal(json_integer_value(json_object_get(j, "rows")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "rejected_rows")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "restarts")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "bytes")),
                     (json_int_t)strlen(sales_csv));
    json_t *det = json_object_get(j, "detected");
    static const char *const dkeys[] = {"encoding",    "delimiter",         "quote",     "header",
                                        "line_ending", "decimal_separator", "date_order"};
    for (size_t k = 0; k < sizeof dkeys / sizeof *dkeys; k++)
        if (!json_object_get(det, dkeys[k]))
            fail_msg("detected has no \"%s\": %s", dkeys[k], jb.data);
    assert_string_equal(json_string_value(json_object_get(det, "delimiter")), ",");
    assert_true(json_is_true(json_object_get(det, "header")));
    json_t *schema = json_object_get(j, "schema");
    assert_int_equal(json_array_size(schema), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(schema, 2), "name")),
                        "price");
    assert_string_equal(json_string_value(json_object_get(json_array_get(schema, 0), "type")),
                        "INT64");
    json_t *outs = json_object_get(j, "outputs");
    assert_string_equal(json_string_value(json_object_get(outs, "parquet")),
                        output_of(&s, "parquet"));
    assert_string_equal(json_string_value(json_object_get(outs, "json")), output_of(&s, "json"));
    assert_true(json_is_null(json_object_get(outs, "rejects")));
    assert_true(json_is_null(json_object_get(outs, "error")));
    json_t *tm = json_object_get(j, "timings_ms");
    static const char *const tkeys[] = {"sniff", "stream", "commit", "total"};
    for (size_t k = 0; k < 4; k++)
        assert_true(json_is_number(json_object_get(tm, tkeys[k])));
    json_decref(j);
    cp_buf_release(&jb);
    char *first_version = strdup(s.version);
    cp_load_summary_release(&s);

    /* the same version again: skipped, nothing rewritten */
    cp_error_clear(&err);
    assert_int_equal(cp_pipeline_load(p, csv, NULL, &s, &err), CP_OK);
    assert_int_equal(s.status, CP_LOAD_SKIPPED);
    assert_string_equal(s.version, first_version);
    assert_null(s.error);
    assert_int_equal(s.rows_before, 3);
    cp_buf_init(&jb, CP_BUF_UNLIMITED);
    assert_int_equal(cp_load_summary_to_json(&s, &jb), CP_OK);
    j = json_loads(jb.data, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "skipped");
    assert_int_equal(json_integer_value(json_object_get(j, "rows")), 0);
    json_decref(j);
    cp_buf_release(&jb);
    cp_load_summary_release(&s);
    assert_int_equal(sql_int(sql_path, "SELECT count(*) FROM daily_sales"), 3);
    assert_int_equal(
        sql_int(sql_path, "SELECT count(*) FROM csvpipe_loads WHERE status = 'skipped'"), 1);

    /* a new version (one row fewer): loaded again, replacing the rows and items */
    write_text(csv, "id,name,price,day\n1,Ana,19.90,2024-01-31\n7,Carla,1.25,2024-03-01\n");
    assert_int_equal(cp_pipeline_load(p, csv, NULL, &s, &err), CP_OK);
    assert_int_equal(s.status, CP_LOAD_LOADED);
    assert_string_not_equal(s.version, first_version);
    assert_int_equal(s.stream.rows, 2);
    assert_int_equal(s.rows_before, 3);
    cp_load_summary_release(&s);
    assert_int_equal(sql_int(sql_path, "SELECT count(*) FROM daily_sales"), 2);
    assert_int_equal(sql_int(sql_path, "SELECT count(*) FROM daily_sales WHERE id = 7"), 1);
    assert_int_equal(
        sql_int(items_path, "SELECT count(*) FROM items WHERE pk LIKE 'daily_sales#%'"), 2);
    free(first_version);

    /* --table names the dataset */
    char other[160];
    snprintf(other, sizeof other, "%s/other.csv", dir);
    write_text(other, "a,b\n1,x\n2,y\n");
    cp_pipeline_free(p);
    o.table = "My Table";
    p = cp_pipeline_new(&o, &err);
    assert_non_null(p);
    assert_int_equal(cp_pipeline_load(p, other, NULL, &s, &err), CP_OK);
    assert_int_equal(s.status, CP_LOAD_LOADED);
    assert_string_equal(s.dataset, "my_table");
    cp_load_summary_release(&s);
    assert_int_equal(sql_int(sql_path, "SELECT count(*) FROM my_table"), 2);
    cp_pipeline_free(p);

    /* without --table, a watch folder's hint names the dataset before the stem does */
    o.table = NULL;
    p = cp_pipeline_new(&o, &err);
    assert_non_null(p);
    write_text(other, "a,b\n1,x\n2,y\n3,z\n");
    assert_int_equal(cp_pipeline_load(p, other, "Inbox Folder", &s, &err), CP_OK);
    assert_int_equal(s.status, CP_LOAD_LOADED);
    assert_string_equal(s.dataset, "inbox_folder");
    snprintf(want, sizeof want, "%s/json/inbox_folder/other.jsonl", out_dir);
    assert_string_equal(output_of(&s, "json"), want);
    cp_load_summary_release(&s);
    cp_pipeline_free(p);
}

static int saved_stdin = -1;

static int restore_stdin(void **state)
{
    if (saved_stdin >= 0) {
        dup2(saved_stdin, STDIN_FILENO);
        close(saved_stdin);
        saved_stdin = -1;
    }
    return 0;
}

static void test_stdin(void **state)
{
    static const char text[] = "code,amount\n007,1.50\n008,2.25\n";
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fds[1]);
    saved_stdin = dup(STDIN_FILENO);
    assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    close(fds[0]);

    cp_pipeline_options o;
    options(&o);
    cp_error err;
    cp_pipeline *p = cp_pipeline_new(&o, &err);
    assert_non_null(p);
    cp_load_summary s;
    assert_int_equal(cp_pipeline_load(p, "-", NULL, &s, &err), CP_OK);
    if (s.status != CP_LOAD_LOADED)
        fail_msg("status %s: %s", cp_load_status_name(s.status), s.error ? s.error : "");
    assert_string_equal(s.source, "-");
    assert_string_equal(s.source_uri, "stdin");
    assert_string_equal(s.dataset, "stdin");
    assert_int_equal(s.stream.rows, 2);
    assert_int_equal(s.size_bytes, (int64_t)(sizeof text - 1));
    char *nd = slurp(output_of(&s, "json"));
    assert_string_equal(nd,
                        "{\"code\":\"007\",\"amount\":1.50}\n{\"code\":\"008\",\"amount\":2.25}\n");
    free(nd);
    cp_load_summary_release(&s);
    cp_pipeline_free(p);
    restore_stdin(NULL);
}

/* n rows "i,name i,i*3" with an extra field on the rows in bad[] (1-based). */
static void write_with_bad_rows(const char *path, int n, const int *bad, int nbad)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("id,name,value\n", f);
    for (int i = 1; i <= n; i++) {
        bool is_bad = false;
        for (int k = 0; k < nbad; k++)
            is_bad |= bad[k] == i;
        fprintf(f, is_bad ? "%d,name %d,%d,extra\n" : "%d,name %d,%d\n", i, i, i * 3);
    }
    assert_int_equal(fclose(f), 0);
}

static void check_rejected(const cp_load_summary *s, const char *dataset, int nbad, const char *why)
{
    assert_int_equal(s->status, CP_LOAD_REJECTED);
    assert_non_null(s->error);
    if (!strstr(s->error, why))
        fail_msg("error \"%s\" does not say \"%s\"", s->error, why);
    assert_int_equal(s->stream.rejected, (uint64_t)nbad);

    /* error.json and the rejects file */
    char want[256];
    snprintf(want, sizeof want, "%s/rejected/%s/%s.error.json", out_dir, dataset, dataset);
    assert_non_null(s->error_path);
    assert_string_equal(s->error_path, want);
    char *text = slurp(want);
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("error.json: %s", je.text);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "rejected");
    assert_string_equal(json_string_value(json_object_get(j, "dataset")), dataset);
    assert_string_equal(json_string_value(json_object_get(j, "error")), s->error);
    assert_string_equal(json_string_value(json_object_get(j, "source")), s->source_uri);
    assert_int_equal(json_integer_value(json_object_get(j, "rejected_rows")), nbad);
    json_t *rejects = json_object_get(j, "rejects");
    assert_int_equal(json_array_size(rejects), (size_t)nbad);
    assert_non_null(strstr(json_string_value(json_array_get(rejects, 0)), "line "));
    json_decref(j);
    free(text);

    snprintf(want, sizeof want, "%s/rejected/%s/%s.rejects.csv", out_dir, dataset, dataset);
    assert_non_null(s->rejects_path);
    assert_string_equal(s->rejects_path, want);
    text = slurp(want);
    assert_memory_equal(text, "line,reason,row\n", 16);
    assert_int_equal(count_lines(text), (size_t)nbad + 1);
    assert_non_null(strstr(text, ",extra\"\n"));
    free(text);

    /* nothing loaded: no outputs, no temporary files, no table, no items */
    snprintf(want, sizeof want, "%s/parquet/%s/%s.parquet", out_dir, dataset, dataset);
    assert_false(exists(want));
    snprintf(want, sizeof want, "%s/json/%s/%s.jsonl", out_dir, dataset, dataset);
    assert_false(exists(want));
    snprintf(want, sizeof want, "%s/parquet/%s", out_dir, dataset);
    assert_int_equal(temp_files_in(want), 0);
    snprintf(want, sizeof want, "%s/json/%s", out_dir, dataset);
    assert_int_equal(temp_files_in(want), 0);
    snprintf(want, sizeof want, "%s/rejected/%s", out_dir, dataset);
    assert_int_equal(temp_files_in(want), 0);
    char q[256];
    snprintf(q, sizeof q, "SELECT count(*) FROM sqlite_master WHERE name = '%s'", dataset);
    assert_int_equal(sql_int(sql_path, q), 0);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM csvpipe_loads WHERE dataset = '%s' AND status = 'rejected' "
             "AND rows_loaded = 0",
             dataset);
    assert_int_equal(sql_int(sql_path, q), 1);
    snprintf(q, sizeof q, "SELECT count(*) FROM items WHERE pk LIKE '%s#%%'", dataset);
    long long items = sql_int(items_path, q);
    assert_true(items <= 0); /* no row, or no table yet */

    /* the summary JSON lists no output that was not written */
    cp_buf jb;
    cp_buf_init(&jb, CP_BUF_UNLIMITED);
    assert_int_equal(cp_load_summary_to_json(s, &jb), CP_OK);
    j = json_loads(jb.data, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "rejected");
    assert_int_equal(json_integer_value(json_object_get(j, "rows")), 0);
    json_t *outs = json_object_get(j, "outputs");
    assert_true(json_is_null(json_object_get(outs, "parquet")));
    assert_true(json_is_null(json_object_get(outs, "json")));
    assert_string_equal(json_string_value(json_object_get(outs, "error")), s->error_path);
    assert_string_equal(json_string_value(json_object_get(outs, "rejects")), s->rejects_path);
    json_decref(j);
    cp_buf_release(&jb);
}

static void test_rejected_by_fraction(void **state)
{
    char csv[160];
    snprintf(csv, sizeof csv, "%s/badfrac.csv", dir);
    static const int bad[] = {40, 90, 150}; /* 3 of 200 rows: 1.5% */
    write_with_bad_rows(csv, 200, bad, 3);
    cp_pipeline_options o;
    options(&o);
    cp_error err;
    cp_pipeline *p = cp_pipeline_new(&o, &err);
    assert_non_null(p);
    cp_load_summary s;
    assert_int_equal(cp_pipeline_load(p, csv, NULL, &s, &err), CP_OK);
    check_rejected(&s, "badfrac", 3, "could not be parsed");
    cp_load_summary_release(&s);

    /* under the threshold (1 of 200 = 0.5%) the same kind of file loads without the row */
    snprintf(csv, sizeof csv, "%s/fewbad.csv", dir);
    static const int one[] = {77};
    write_with_bad_rows(csv, 200, one, 1);
    assert_int_equal(cp_pipeline_load(p, csv, NULL, &s, &err), CP_OK);
    assert_int_equal(s.status, CP_LOAD_LOADED);
    assert_int_equal(s.stream.rows, 199);
    assert_int_equal(s.stream.rejected, 1);
    assert_non_null(s.rejects_path);
    char *text = slurp(s.rejects_path);
    assert_non_null(strstr(text, "\n78,")); /* the physical line of row 77 */
    free(text);
    assert_null(s.error_path);
    assert_int_equal(sql_int(sql_path, "SELECT count(*) FROM fewbad"), 199);
    cp_load_summary_release(&s);
    cp_pipeline_free(p);
}

static void test_rejected_by_count(void **state)
{
    char csv[160];
    snprintf(csv, sizeof csv, "%s/badcount.csv", dir);
    static const int bad[] = {10, 500, 2900}; /* 3 of 3000: 0.1%, under the fraction */
    write_with_bad_rows(csv, 3000, bad, 3);
    cp_pipeline_options o;
    options(&o);
    o.max_rejects = 2;
    cp_error err;
    cp_pipeline *p = cp_pipeline_new(&o, &err);
    assert_non_null(p);
    cp_load_summary s;
    assert_int_equal(cp_pipeline_load(p, csv, NULL, &s, &err), CP_OK);
    check_rejected(&s, "badcount", 3, "more than 2 rows");
    cp_load_summary_release(&s);
    cp_pipeline_free(p);
}

static void test_missing_file_fails(void **state)
{
    char csv[160];
    snprintf(csv, sizeof csv, "%s/nowhere.csv", dir);
    cp_pipeline_options o;
    options(&o);
    o.formats = CP_FORMAT_JSON;
    cp_error err;
    cp_pipeline *p = cp_pipeline_new(&o, &err);
    assert_non_null(p);
    cp_load_summary s;
    assert_int_equal(cp_pipeline_load(p, csv, NULL, &s, &err), CP_OK);
    assert_int_equal(s.status, CP_LOAD_FAILED);
    assert_non_null(s.error);
    assert_non_null(strstr(s.error, csv));
    if (s.error_path) {
        char *text = slurp(s.error_path);
        json_t *j = json_loads(text, 0, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "status")), "failed");
        json_decref(j);
        free(text);
    }
    cp_buf jb;
    cp_buf_init(&jb, CP_BUF_UNLIMITED);
    assert_int_equal(cp_load_summary_to_json(&s, &jb), CP_OK);
    json_t *j = json_loads(jb.data, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "failed");
    assert_string_equal(json_string_value(json_object_get(j, "error")), s.error);
    json_decref(j);
    cp_buf_release(&jb);
    cp_load_summary_release(&s);
    cp_pipeline_free(p);
}

static void test_bad_database_url(void **state)
{
    cp_pipeline_options o;
    options(&o);
    o.sql_url = "nosuchdb://x";
    cp_error err;
    cp_error_clear(&err);
    assert_null(cp_pipeline_new(&o, &err));
    assert_int_not_equal(err.code, CP_OK);
    assert_true(strlen(err.message) > 0);
    cp_pipeline_free(NULL);
}

static void test_options_default(void **state)
{
    cp_pipeline_options o;
    memset(&o, 0xa5, sizeof o);
    cp_pipeline_options_default(&o);
    assert_string_equal(o.out_dir, "./csvpipe-out");
    assert_int_equal(o.formats, CP_FORMAT_PARQUET | CP_FORMAT_JSON);
    assert_int_equal(o.json_style, CP_JSON_STYLE_PLAIN);
    assert_null(o.sql_url);
    assert_null(o.nosql_url);
    assert_null(o.table);
    assert_null(o.key_names);
    assert_int_equal(o.nkeys, 0);
    assert_int_equal(o.max_rejects, 1000);
    assert_true(o.max_reject_fraction == 0.01);
    assert_false(o.progress);
    cp_csv_options csv;
    cp_csv_options_default(&csv);
    assert_int_equal(o.csv.encoding, csv.encoding);
    assert_int_equal(o.csv.delimiter, csv.delimiter);
    assert_int_equal(o.csv.quote, csv.quote);
    assert_int_equal(o.csv.header, csv.header);
    assert_int_equal(o.csv.limits.max_field_bytes, csv.limits.max_field_bytes);
    cp_pq_options pq;
    cp_pq_options_init(&pq);
    assert_int_equal(o.parquet.codec, pq.codec);
    assert_int_equal(o.parquet.row_group_bytes, pq.row_group_bytes);
    assert_int_equal(o.parquet.page_bytes, pq.page_bytes);
    assert_int_equal(o.parquet.dictionary_limit, pq.dictionary_limit);
    assert_int_equal(pq.codec, CP_PQ_SNAPPY);
}

/* One parser for `run --formats` and CSVPIPE_FORMATS: "parquet, json" is both formats. */
static void test_parse_formats(void **state)
{
    static const struct {
        const char *list;
        unsigned want;
    } ok[] = {
        {"parquet,json", CP_FORMAT_PARQUET | CP_FORMAT_JSON},
        {"parquet, json", CP_FORMAT_PARQUET | CP_FORMAT_JSON},
        {" JSON  parquet ", CP_FORMAT_PARQUET | CP_FORMAT_JSON},
        {"ndjson", CP_FORMAT_JSON},
        {"parquet,,", CP_FORMAT_PARQUET},
        {"none", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        unsigned f = 0xff;
        cp_error err;
        cp_error_clear(&err);
        if (cp_pipeline_parse_formats(ok[i].list, &f, &err) != CP_OK || f != ok[i].want)
            fail_msg("\"%s\": %u (%s), expected %u", ok[i].list, f, err.message, ok[i].want);
    }
    unsigned f;
    cp_error err;
    cp_error_clear(&err);
    assert_int_equal(cp_pipeline_parse_formats("parquet, orc", &f, &err), CP_USAGE);
    assert_non_null(strstr(err.message, "\"orc\""));
    assert_int_equal(cp_pipeline_parse_formats("parquetjson", &f, &err), CP_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_default),
        cmocka_unit_test(test_parse_formats),
        cmocka_unit_test(test_load_skip_reload),
        cmocka_unit_test(test_rejected_by_fraction),
        cmocka_unit_test(test_rejected_by_count),
        cmocka_unit_test(test_missing_file_fails),
        cmocka_unit_test_teardown(test_stdin, restore_stdin),
        cmocka_unit_test(test_bad_database_url),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
