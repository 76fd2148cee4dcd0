/*
 * cp_csv_stream_chunks: a file renamed over the path during a load does not mix into it;
 * every chunk comes from the file the load's source opened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv/sniff.h"
#include "csv/stream_chunks.h"
#include "util/decompress.h"
#include "util/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct seen {
    size_t rows;
    size_t other; /* rows whose name is not the one of the first file */
} seen;

static cp_status on_batch(void *ctx, const cp_batch *b, cp_error *err)
{
    (void)err;
    seen *s = ctx;
    for (size_t i = 0; i < b->nrows; i++) {
        size_t len = 0;
        const char *v = cp_batch_string(b, 1, i, &len);
        if (len != 5 || memcmp(v, "first", 5) != 0)
            s->other++;
    }
    s->rows += b->nrows;
    return CP_OK;
}

static void write_file(const char *path, const char *name, int rows)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "id,name\n");
    for (int i = 1; i <= rows; i++)
        fprintf(f, "%d,%s\n", i, name);
    assert_int_equal(fclose(f), 0);
}

static void test_renamed_over(void **state)
{
    (void)state;
    char dir[] = "/tmp/cp_stream_chunks_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], other[256];
    snprintf(path, sizeof path, "%s/data.csv", dir);
    snprintf(other, sizeof other, "%s/other.csv", dir);
    write_file(path, "first", 3000);
    write_file(other, "other", 3000); /* of the same size */

    cp_error err;
    cp_error_clear(&err);
    cp_source *src = cp_source_open_file(path, 0, &err);
    assert_non_null(src);
    src = cp_decompress_open(src, &err);
    assert_non_null(src);
    assert_int_equal(rename(other, path), 0); /* the path names another file now */

    cp_sniff_result sniffed;
    assert_int_equal(cp_sniff(src, NULL, &sniffed, &err), CP_OK);
    seen s = {0, 0};
    cp_stream_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.on_batch = on_batch;
    cb.ctx = &s;
    const cp_chunk_options co = {2, 1024};
    cp_stream_stats stats;
    bool chunked = false;
    assert_int_equal(
        cp_csv_stream_chunks(path, src, &sniffed, NULL, NULL, &co, &cb, &stats, &chunked, &err),
        CP_OK);
    assert_true(chunked);
    assert_int_equal(s.rows, 3000);
    assert_int_equal(s.other, 0);
    cp_sniff_result_release(&sniffed);
    cp_source_free(src);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_renamed_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
