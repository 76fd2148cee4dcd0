/*
 * pq_random.c - writes a random Parquet file and the values it must hold.
 *
 * Usage: pq_random SEED OUT_PREFIX
 * Writes OUT_PREFIX.parquet through cp_pq_writer and cp_file_sink, and
 * OUT_PREFIX.expected.json:
 *   {"seed":N,"codec":"zstd","columns":[{"name":..,"header":..,"type":"DECIMAL(9,2)"}],
 *    "rows":[[cell,...],...]}
 * Cells are null, true/false, or strings: INT64 digits, DECIMAL exact digits
 * (cp_format_decimal), DOUBLE "%.17g" or "NaN"/"Infinity"/"-Infinity", DATE
 * "YYYY-MM-DD", TIMESTAMP "YYYY-MM-DDTHH:MM:SS[.ffffff]" (a trailing Z for TIMESTAMPTZ),
 * STRING the text. tests/js/check_parquet.mjs compares every reader against it.
 *
 * Everything is derived from SEED (a 64-bit splitmix generator), so a seed list is a
 * deterministic test: schemas of every type (NULL columns too) with random precision and
 * scale, random null rates, NaN/inf/-0 doubles, extreme integers, empty, non-ASCII and
 * long strings, 0, 1 or many rows, random batch sizes, small row groups, pages and
 * dictionary limits (so several row groups, several pages and PLAIN fallback happen), and
 * every codec.
 */
#include "parquet/parquet_writer.h"
#include "util/file_sink.h"
#include "util/json_escape.h"
#include "util/parse.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static uint64_t rng_state;

static uint64_t next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
    return n ? next() % n : 0;
}

static bool chance(unsigned percent)
{
    return below(100) < percent;
}

static cp_i128 pow10_i128(unsigned n)
{
    cp_i128 p = 1;
    while (n--)
        p *= 10;
    return p;
}

/* Per-column generation settings. */
typedef struct gen {
    unsigned null_pct;
    unsigned distinct; /* 0: any value; else values drawn from a small pool of seeds */
} gen;

static const char *const pieces[] = {"a",     "Z",  "0",   " ", "é", "中文", "😀", "\"",   ",",
                                     "\n",    "\\", "ção", "ß", "Ω", "\t",   "x", "long", "",
                                     "naïve", "{",  "}",   "=", ";", "(",    ")"};

static void gen_string(cp_buf *out, uint64_t seed_or_zero)
{
    uint64_t saved = rng_state;
    if (seed_or_zero)
        rng_state = seed_or_zero;
    size_t n;
    unsigned k = (unsigned)below(100);
    if (k < 10)
        n = 0;
    else if (k < 97)
        n = below(12);
    else
        n = 200 + below(20000); /* long strings */
    for (size_t i = 0; i < n; i++) {
        if (n > 100 && i % 4)
            cp_buf_append_char(out, (char)('a' + below(26)));
        else
            cp_buf_append_str(out, pieces[below(sizeof pieces / sizeof pieces[0])]);
    }
    if (seed_or_zero)
        rng_state = saved;
}

static double gen_double(void)
{
    switch (below(12)) {
    case 0:
        return NAN;
    case 1:
        return INFINITY;
    case 2:
        return -INFINITY;
    case 3:
        return -0.0;
    case 4:
        return 0.0;
    case 5:
        return (double)(int64_t)(below(2000)) - 1000;
    case 6:
        return 5e-324 * (double)(1 + below(5));
    case 7:
        return chance(50) ? DBL_MAX : -DBL_MIN;
    default: {
        uint64_t bits = next();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (isnan(d) || isinf(d))
            d = 1.5;
        return d;
    }
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: pq_random SEED OUT_PREFIX\n");
        return 2;
    }
    uint64_t seed = strtoull(argv[1], NULL, 10);
    rng_state = seed * 0x2545F4914F6CDD1DULL + 1;
    const char *prefix = argv[2];

    static const cp_pq_codec codecs[] = {CP_PQ_SNAPPY, CP_PQ_ZSTD, CP_PQ_GZIP, CP_PQ_UNCOMPRESSED};
    cp_pq_options o;
    cp_pq_options_init(&o);
    o.codec = codecs[seed % 4];
    switch (below(3)) {
    case 0:
        o.row_group_bytes = 2048 + below(8192);
        break;
    case 1:
        o.row_group_bytes = 32768 + below(300000);
        break;
    default:
        break; /* 128 MiB */
    }
    if (chance(70))
        o.page_bytes = 256 + below(16384);
    switch (below(4)) {
    case 0:
        o.dictionary_limit = 16 + below(512);
        break;
    case 1:
        o.dictionary_limit = CP_PQ_NO_DICTIONARY;
        break;
    default:
        break;
    }

    size_t ncols = 1 + below(8);
    size_t nrows;
    switch (below(6)) {
    case 0:
        nrows = 0;
        break;
    case 1:
        nrows = 1;
        break;
    case 2:
    case 3:
        nrows = 2 + below(300);
        break;
    default:
        nrows = 1000 + below(25000);
        break;
    }

    cp_schema schema;
    if (cp_schema_init(&schema, ncols) != CP_OK)
        return 1;
    char **headers = calloc(ncols, sizeof *headers);
    size_t *lens = calloc(ncols, sizeof *lens);
    gen *gens = calloc(ncols, sizeof *gens);
    for (size_t i = 0; i < ncols; i++) {
        cp_type_id id = (cp_type_id)below(CP_TYPE_STRING + 1);
        cp_type t = cp_type_of(id);
        if (id == CP_TYPE_DECIMAL) {
            unsigned p = 1 + (unsigned)below(38);
            t = cp_type_decimal(p, (unsigned)below(p + 1));
        }
        schema.columns[i].type = t;
        headers[i] = malloc(64);
        snprintf(headers[i], 64, "Col %zu Preço (x=%u);{}", i + 1, (unsigned)below(100));
        lens[i] = strlen(headers[i]);
        static const unsigned null_rates[] = {0, 0, 5, 30, 90, 100};
        gens[i].null_pct = null_rates[below(6)];
        gens[i].distinct = chance(40) ? 1 + (unsigned)below(50) : 0;
    }
    if (cp_schema_set_names(&schema, (const char *const *)headers, lens, NULL) != CP_OK)
        return 1;

    char parquet_path[4096], json_path[4096];
    snprintf(parquet_path, sizeof parquet_path, "%s.parquet", prefix);
    snprintf(json_path, sizeof json_path, "%s.expected.json", prefix);
    FILE *jf = fopen(json_path, "w");
    if (!jf) {
        perror(json_path);
        return 1;
    }
    cp_buf line;
    cp_buf_init(&line, CP_BUF_UNLIMITED);
    cp_buf_printf(&line, "{\"seed\":%" PRIu64 ",\"codec\":\"%s\",\"columns\":[", seed,
                  cp_pq_codec_name(o.codec));
    for (size_t i = 0; i < ncols; i++) {
        char tn[24];
        cp_buf_printf(&line, "%s{\"name\":", i ? "," : "");
        cp_json_append_string(&line, schema.columns[i].name, strlen(schema.columns[i].name));
        cp_buf_append_str(&line, ",\"header\":");
        cp_json_append_string(&line, headers[i], lens[i]);
        cp_buf_printf(&line, ",\"type\":\"%s\"}",
                      cp_type_format(schema.columns[i].type, tn, sizeof tn));
    }
    cp_buf_append_str(&line, "],\"rows\":[\n");
    fwrite(line.data, 1, line.len, jf);

    cp_error err;
    cp_error_clear(&err);
    cp_file_sink sink;
    if (cp_file_sink_open(&sink, parquet_path, &err) != CP_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    cp_pq_writer *w;
    if (cp_pq_writer_new(&schema, &o, cp_file_sink_write, &sink, &w, &err) != CP_OK) {
        fprintf(stderr, "%s\n", err.message);
        cp_file_sink_abort(&sink);
        return 1;
    }
    size_t cap = 1 + below(chance(50) ? 50 : 3000);
    cp_batch b;
    if (cp_batch_init(&b, &schema, cap, (size_t)64 << 20, (size_t)1 << 20) != CP_OK)
        return 1;
    cp_buf sval;
    cp_buf_init(&sval, CP_BUF_UNLIMITED);
    size_t done = 0;
    int rc = 0;
    while (done < nrows) {
        cp_batch_clear(&b, done + 1);
        for (size_t i = 0; i < ncols; i++)
            memset(b.cols[i].validity, 0, (cap + 63) / 64 * sizeof(uint64_t));
        size_t n = nrows - done < cap ? nrows - done : cap;
        for (size_t r = 0; r < n; r++) {
            cp_buf_reset(&line);
            cp_buf_append_str(&line, (done + r) ? ",\n[" : "[");
            for (size_t i = 0; i < ncols; i++) {
                cp_column_data *c = &b.cols[i];
                cp_type t = schema.columns[i].type;
                bool null = t.id == CP_TYPE_NULL || chance(gens[i].null_pct);
                if (i)
                    cp_buf_append_char(&line, ',');
                if (t.id == CP_TYPE_STRING)
                    c->v.offsets[r + 1] = c->v.offsets[r] = (uint32_t)c->strings.len;
                if (null) {
                    cp_buf_append_str(&line, "null");
                    c->nnulls++;
                    continue;
                }
                c->validity[r >> 6] |= 1ULL << (r & 63);
                uint64_t pool = gens[i].distinct ? 1 + below(gens[i].distinct) : 0;
                uint64_t saved = rng_state;
                if (pool)
                    rng_state = pool * 7919 + i;
                char tmp[64];
                switch (t.id) {
                case CP_TYPE_BOOLEAN:
                    c->v.boolean[r] = (uint8_t)below(2);
                    cp_buf_append_str(&line, c->v.boolean[r] ? "true" : "false");
                    break;
                case CP_TYPE_INT64:
                case CP_TYPE_TIMESTAMP:
                case CP_TYPE_TIMESTAMPTZ: {
                    int64_t v;
                    if (t.id == CP_TYPE_INT64) {
                        unsigned k = (unsigned)below(6);
                        v = k == 0   ? INT64_MIN
                            : k == 1 ? INT64_MAX
                            : k == 2 ? (int64_t)next()
                                     : (int64_t)below(2000) - 1000;
                    } else {
                        /* 0001-01-01 .. 9999-12-31 */
                        int64_t lo = -62135596800LL * 1000000, hi = 253402300799LL * 1000000;
                        v = lo + (int64_t)below((uint64_t)(hi - lo));
                        if (chance(30))
                            v -= v % 1000000;
                    }
                    c->v.i64[r] = v;
                    if (t.id == CP_TYPE_INT64)
                        cp_format_int64(v, tmp);
                    else
                        cp_format_timestamp(v, t.id == CP_TYPE_TIMESTAMPTZ, tmp);
                    cp_buf_printf(&line, "\"%s\"", tmp);
                    break;
                }
                case CP_TYPE_DECIMAL: {
                    cp_i128 lim = pow10_i128(t.precision) - 1;
                    unsigned __int128 range = (unsigned __int128)lim * 2 + 1;
                    unsigned __int128 x = ((unsigned __int128)next() << 64) | next();
                    cp_i128 v;
                    unsigned k = (unsigned)below(5);
                    if (k == 0)
                        v = lim;
                    else if (k == 1)
                        v = -lim;
                    else if (k == 2)
                        v = (cp_i128)below(200) - 100;
                    else
                        v = (cp_i128)(x % range - (unsigned __int128)lim); /* wraps, no overflow */
                    if (v > lim || v < -lim)
                        v = 0;
                    c->v.decimal[r] = v;
                    cp_format_decimal(v, t.scale, tmp);
                    cp_buf_printf(&line, "\"%s\"", tmp);
                    break;
                }
                case CP_TYPE_DOUBLE: {
                    double d = gen_double();
                    c->v.f64[r] = d;
                    if (isnan(d))
                        cp_buf_append_str(&line, "\"NaN\"");
                    else if (isinf(d))
                        cp_buf_append_str(&line, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
                    else
                        cp_buf_printf(&line, "\"%.17g\"", d);
                    break;
                }
                case CP_TYPE_DATE: {
                    int32_t lo = -719162, hi = 2932896; /* 0001-01-01 .. 9999-12-31 */
                    int32_t d = lo + (int32_t)below((uint64_t)(hi - lo + 1));
                    c->v.date[r] = d;
                    cp_format_date(d, tmp);
                    cp_buf_printf(&line, "\"%s\"", tmp);
                    break;
                }
                default: {
                    cp_buf_reset(&sval);
                    gen_string(&sval, 0);
                    cp_buf_append(&c->strings, sval.data, sval.len);
                    c->v.offsets[r + 1] = (uint32_t)c->strings.len;
                    b.string_bytes += sval.len;
                    cp_json_append_string(&line, sval.data, sval.len);
                    break;
                }
                }
                if (pool)
                    rng_state = saved;
            }
            cp_buf_append_char(&line, ']');
            fwrite(line.data, 1, line.len, jf);
        }
        b.nrows = n;
        if (cp_pq_writer_write_batch(w, &b, &err) != CP_OK) {
            fprintf(stderr, "write_batch: %s\n", err.message);
            rc = 1;
            break;
        }
        done += n;
    }
    if (rc == 0 && cp_pq_writer_finish(w, &err) != CP_OK) {
        fprintf(stderr, "finish: %s\n", err.message);
        rc = 1;
    }
    fprintf(jf, "\n]}\n");
    fclose(jf);
    if (rc == 0 && cp_file_sink_commit(&sink, &err) != CP_OK) {
        fprintf(stderr, "commit: %s\n", err.message);
        rc = 1;
    }
    if (rc)
        cp_file_sink_abort(&sink);
    else
        fprintf(stderr,
                "seed %" PRIu64 ": %zu columns, %zu rows, %u row groups, %s, row group %zu, "
                "page %zu, dictionary %zd bytes\n",
                seed, ncols, nrows, cp_pq_writer_row_groups(w), cp_pq_codec_name(o.codec),
                o.row_group_bytes, o.page_bytes, (ssize_t)o.dictionary_limit);
    cp_pq_writer_free(w);
    cp_batch_release(&b);
    cp_buf_release(&sval);
    cp_buf_release(&line);
    for (size_t i = 0; i < ncols; i++)
        free(headers[i]);
    free(headers);
    free(lens);
    free(gens);
    cp_schema_release(&schema);
    return rc;
}
