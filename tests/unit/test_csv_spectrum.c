/*
 * Every case of the csv-spectrum suite (npm package csv-spectrum, pinned in
 * tests/js/package-lock.json, installed by `scripts/node-deps.sh tests/js`): each
 * csvs/<name>.csv tokenized with ',' and '"', first row the header, must give exactly the
 * records of json/<name>.json (an array of header -> value objects), read with jansson.
 *
 * Two known defects of the suite's expected files (csv-spectrum 2.0.0) are corrected
 * here, narrowly, and only while the files still have them:
 *   - json/location_coordinates.json is one object, not an array of one
 *     (max-mapper/csv-spectrum#22);
 *   - its "Contact Phone Number" is "1234567890" while the CSV holds "2095257564"
 *     (max-mapper/csv-spectrum#20).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv/tokenizer.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mem {
    const char *p;
    size_t len, pos, piece;
} mem;

static cp_status mem_fill(void *ctx, char *dst, size_t cap, size_t *n, cp_error *err)
{
    (void)err;
    mem *m = ctx;
    size_t k = m->len - m->pos;
    if (k > cap)
        k = cap;
    if (k > m->piece)
        k = m->piece;
    memcpy(dst, m->p + m->pos, k);
    m->pos += k;
    *n = k;
    return CP_OK;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        if (k == 0)
            break;
        n += k;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The known defects of the expected files, fixed only where they still appear. */
static json_t *expected_records(const char *name, json_t *j)
{
    if (json_is_object(j)) {
        /* csv-spectrum#22: a single object instead of an array of one */
        assert_string_equal(name, "location_coordinates");
        json_t *a = json_array();
        json_array_append(a, j);
        j = a;
    } else {
        json_incref(j);
    }
    if (strcmp(name, "location_coordinates") == 0) {
        /* csv-spectrum#20: the expected phone number is not the one in the CSV */
        json_t *rec = json_array_get(j, 0);
        json_t *phone = json_object_get(rec, "Contact Phone Number");
        if (phone && strcmp(json_string_value(phone), "1234567890") == 0)
            json_object_set_new(rec, "Contact Phone Number", json_string("2095257564"));
    }
    return j;
}

/* Tokenizes text and compares its records to the expected array; piece = bytes per fill. */
static void compare(const char *name, const char *text, size_t len, json_t *want, size_t piece)
{
    cp_tokenizer_options o;
    cp_tokenizer_options_default(&o);
    o.delimiter = ',';
    o.quote = '"';
    if (piece < len)
        o.chunk_bytes = 128;
    mem m = {text, len, 0, piece};
    cp_tokenizer *t = cp_tokenizer_new(&o, mem_fill, &m);
    assert_non_null(t);
    cp_row row;
    cp_error err;
    cp_error_clear(&err);
    if (cp_tokenizer_next(t, &row, &err) != CP_OK || row.nfields == 0)
        fail_msg("%s: no header row (%s)", name, err.message);
    size_t ncols = row.nfields;
    char **header = calloc(ncols, sizeof *header);
    assert_non_null(header);
    for (size_t i = 0; i < ncols; i++)
        header[i] = strndup(row.fields[i].data, row.fields[i].len);
    size_t nrec = 0;
    for (;;) {
        cp_error_clear(&err);
        cp_status st = cp_tokenizer_next(t, &row, &err);
        if (st != CP_OK)
            fail_msg("%s: record %zu: %s", name, nrec + 1, err.message);
        if (row.nfields == 0)
            break;
        json_t *rec = json_array_get(want, nrec);
        if (!rec)
            fail_msg("%s: more records than the %zu expected", name, json_array_size(want));
        if (row.nfields != ncols || json_object_size(rec) != ncols)
            fail_msg("%s: record %zu has %zu fields, expected %zu", name, nrec + 1, row.nfields,
                     json_object_size(rec));
        for (size_t i = 0; i < ncols; i++) {
            json_t *v = json_object_get(rec, header[i]);
            if (!v || !json_is_string(v))
                fail_msg("%s: record %zu has no \"%s\"", name, nrec + 1, header[i]);
            size_t wl = json_string_length(v);
            if (wl != row.fields[i].len || memcmp(json_string_value(v), row.fields[i].data, wl))
                fail_msg("%s: record %zu, \"%s\": got \"%.*s\", expected \"%s\"", name, nrec + 1,
                         header[i], (int)row.fields[i].len, row.fields[i].data,
                         json_string_value(v));
        }
        nrec++;
    }
    if (nrec != json_array_size(want))
        fail_msg("%s: %zu records, expected %zu", name, nrec, json_array_size(want));
    for (size_t i = 0; i < ncols; i++)
        free(header[i]);
    free(header);
    cp_tokenizer_free(t);
}

static void test_csv_spectrum(void **state)
{
    (void)state;
    const char *root = getenv("CP_SOURCE_DIR");
    if (!root || !*root)
        fail_msg("CP_SOURCE_DIR is not set (ctest sets it)");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/js/node_modules/csv-spectrum", root);
    char csvdir[4200];
    snprintf(csvdir, sizeof csvdir, "%s/csvs", dir);
    DIR *d = opendir(csvdir);
    if (!d)
        fail_msg("%s is missing: run scripts/node-deps.sh tests/js (make test does)", csvdir);
    size_t ncases = 0;
    struct dirent *e;
    char names[64][128];
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".csv") != 0)
            continue;
        assert_true(ncases < 64 && l - 4 < sizeof names[0]);
        snprintf(names[ncases], sizeof names[0], "%.*s", (int)(l - 4), e->d_name);
        ncases++;
    }
    closedir(d);
    if (ncases < 12)
        fail_msg("%s has %zu cases; csv-spectrum 2.0.0 has 12", csvdir, ncases);
    for (size_t i = 0; i < ncases; i++) {
        char path[4400];
        size_t len;
        snprintf(path, sizeof path, "%s/csvs/%s.csv", dir, names[i]);
        char *text = read_all(path, &len);
        snprintf(path, sizeof path, "%s/json/%s.json", dir, names[i]);
        json_error_t je;
        json_t *raw = json_load_file(path, 0, &je);
        if (!raw)
            fail_msg("%s: %s (line %d)", path, je.text, je.line);
        json_t *want = expected_records(names[i], raw);
        assert_true(json_is_array(want));
        compare(names[i], text, len, want, SIZE_MAX);
        compare(names[i], text, len, want, 1);
        print_message("csv-spectrum %-24s %zu records\n", names[i], json_array_size(want));
        json_decref(want);
        json_decref(raw);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_spectrum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
