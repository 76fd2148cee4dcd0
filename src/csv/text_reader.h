/*
 * text_reader.h - a source's bytes decoded to UTF-8, handed out in chunks.
 *
 * cp_text_reader_fill has the cp_text_fill_fn shape the tokenizer reads through. A
 * decoding error is reported after the valid text before it was handed out, so the
 * tokenizer can say on which line the bad bytes are.
 */
#ifndef CP_TEXT_READER_H
#define CP_TEXT_READER_H

#include "csv/decode.h"
#include "util/source.h"

typedef struct cp_text_reader {
    cp_source *src; /* not owned */
    cp_decoder dec;
    uint8_t *raw;
    size_t raw_cap;
    size_t raw_len; /* undecoded bytes kept from the previous read */
    bool src_eof;
    bool failed;
    cp_error pending; /* an error to report once the valid text is out */
} cp_text_reader;

/* raw_chunk: bytes read from the source at a time (0 = 1 MiB). */
cp_status cp_text_reader_init(cp_text_reader *r, cp_source *src, cp_encoding enc, bool detected,
                              size_t raw_chunk);
void cp_text_reader_release(cp_text_reader *r);

/* Writes up to cap bytes of UTF-8 text (cap >= 64); *n = 0 at the end of the text. */
cp_status cp_text_reader_fill(void *reader, char *dst, size_t cap, size_t *n, cp_error *err);

#endif
