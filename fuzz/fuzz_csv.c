/*
 * libFuzzer target: arbitrary bytes through the decoder, the sniffer, the tokenizer, type
 * inference and the typed batches, with small buffers so every refill path runs. The
 * first byte picks an encoding override and a chunk size; the second forces what the
 * sniffer would otherwise detect (bit 7: skip (b >> 4) & 7 lines as --skip; bit 3: the
 * header, bit 2 its value; bits 0-1: the decimal separator, 1 '.', 2 ','; 0 detects all);
 * the rest is the file.
 *
 * Checked: a forced skip and header are what the sniffer reports; header rows are at most
 * four, and only under a header; the preamble shown is at most the lines skipped, each
 * line a string.
 */
#include "csv/stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sink {
    uint64_t checksum;
} sink;

static cp_status on_batch(void *ctx, const cp_batch *b, cp_error *err)
{
    sink *s = ctx;
    for (size_t c = 0; c < b->schema->ncolumns; c++) {
        for (size_t r = 0; r < b->nrows; r++) {
            if (!cp_batch_valid(b, c, r))
                continue;
            const cp_column_data *d = &b->cols[c];
            switch (b->schema->columns[c].type.id) {
            case CP_TYPE_STRING: {
                size_t len;
                const char *p = cp_batch_string(b, c, r, &len);
                for (size_t i = 0; i < len; i++)
                    s->checksum += (unsigned char)p[i];
                break;
            }
            case CP_TYPE_BOOLEAN:
                s->checksum += d->v.boolean[r];
                break;
            case CP_TYPE_DECIMAL:
                s->checksum += (uint64_t)d->v.decimal[r];
                break;
            case CP_TYPE_DOUBLE:
                s->checksum += (uint64_t)(d->v.f64[r] == d->v.f64[r]);
                break;
            case CP_TYPE_DATE:
                s->checksum += (uint64_t)d->v.date[r];
                break;
            default:
                s->checksum += (uint64_t)d->v.i64[r];
                break;
            }
        }
    }
    return CP_OK;
}

static cp_status on_reject(void *ctx, const cp_row *row, const cp_error *why, cp_error *err)
{
    sink *s = ctx;
    for (size_t i = 0; i < row->text_len; i++)
        s->checksum += (unsigned char)row->text[i];
    return CP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const cp_encoding encodings[] = {CP_ENC_AUTO,   CP_ENC_AUTO,    CP_ENC_AUTO,
                                            CP_ENC_UTF8,   CP_ENC_UTF16LE, CP_ENC_UTF16BE,
                                            CP_ENC_CP1252, CP_ENC_LATIN1};
    const uint8_t ctl = data[0], force = data[1];
    data += 2;
    size -= 2;
    cp_csv_options o;
    cp_csv_options_default(&o);
    o.encoding = encodings[ctl & 7];
    o.sample_bytes = 64 + (ctl >> 3) * 64;
    o.sample_rows = 50;
    o.limits.max_field_bytes = 4096;
    o.limits.max_columns = 512;
    o.limits.chunk_bytes = 64 + (ctl & 0x30);
    o.skip_lines = force & 0x80 ? (force >> 4) & 7 : -1;
    o.header = force & 0x08 ? (force & 0x04) != 0 : -1;
    o.decimal_sep = "\0.,\0"[force & 3];
    cp_source *src = cp_source_open_memory(data, size, "fuzz.csv");
    if (!src)
        return 0;
    cp_sniff_result sr;
    cp_error err;
    if (cp_sniff(src, &o, &sr, &err) == CP_OK) {
        const cp_dialect *d = &sr.dialect;
        if ((o.skip_lines >= 0 && d->skip_lines != (uint64_t)o.skip_lines) ||
            (o.header >= 0 && d->header != (o.header == 1)) || d->header_rows > 4 ||
            (!d->header && d->header_rows) || sr.npreamble > d->skip_lines ||
            sr.npreamble > CP_SNIFF_MAX_PREAMBLE_SHOWN)
            abort();
        for (size_t i = 0; i < sr.npreamble; i++)
            if (!sr.preamble[i])
                abort();
        sink s = {0};
        cp_stream_callbacks cb = {on_batch, on_reject, NULL, &s, NULL, NULL};
        cp_stream_options so = {7, 256, 3, 1, 0};
        cp_stream_stats stats;
        cp_csv_stream(src, &sr, &o, &so, &cb, &stats, &err);
        cp_sniff_result_release(&sr);
    }
    cp_source_free(src);
    return 0;
}
