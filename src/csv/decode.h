/*
 * decode.h - from the bytes of a file to UTF-8 text.
 *
 * Encodings: UTF-8 (validated), UTF-8 with a BOM (dropped), UTF-16 LE/BE (with a BOM, or
 * recognized from the zero bytes of ASCII text), Windows-1252 and ISO-8859-1. Detection
 * looks at a sample: a BOM wins; otherwise valid UTF-8 is UTF-8 and anything else is
 * Windows-1252. A file detected as UTF-8 that has shown only ASCII so far switches to
 * Windows-1252 at its first invalid byte (identical for everything before it); invalid
 * UTF-8 after real UTF-8 text is an error that names the byte offset.
 */
#ifndef CP_DECODE_H
#define CP_DECODE_H

#include "util/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cp_encoding {
    CP_ENC_AUTO = 0,
    CP_ENC_UTF8,
    CP_ENC_UTF8_BOM,
    CP_ENC_UTF16LE,
    CP_ENC_UTF16BE,
    CP_ENC_CP1252,
    CP_ENC_LATIN1,
} cp_encoding;

/* "utf-8", "utf-8-bom", "utf-16le", "utf-16be", "windows-1252", "iso-8859-1". */
const char *cp_encoding_name(cp_encoding enc);
/* Accepts those names and common aliases (utf8, cp1252, latin1, ...), any case. */
bool cp_encoding_parse(const char *name, cp_encoding *out);

/*
 * Detects the encoding of a file from its first len bytes. complete says the sample is
 * the whole file. CP_BINARY when the bytes look like binary data (the message names a zip
 * archive, an Excel or OpenDocument workbook by its first bytes), CP_EMPTY when len is 0.
 */
cp_status cp_encoding_detect(const uint8_t *sample, size_t len, bool complete, cp_encoding *out,
                             cp_error *err);

typedef struct cp_decoder {
    cp_encoding enc;    /* in use now */
    bool may_fall_back; /* UTF-8 chosen by detection: may still become Windows-1252 */
    bool ascii_only;    /* no multi-byte UTF-8 sequence seen yet */
    bool at_start;      /* a BOM may still be dropped */
    uint64_t offset;    /* input bytes consumed so far */
} cp_decoder;

/* enc must not be AUTO. detected: the encoding came from detection (enables fall-back). */
void cp_decoder_init(cp_decoder *d, cp_encoding enc, bool detected);

/* The output room cp_decoder_decode needs for len input bytes. */
#define CP_DECODE_ROOM(len) (3 * (len) + 16)

/*
 * Decodes in[0..len), writing UTF-8 to out (at least CP_DECODE_ROOM(len) bytes): *consumed
 * input bytes became *produced output bytes. Unless eof, up to 3 trailing bytes of an
 * incomplete sequence are left unconsumed: pass them again, followed by more input. With
 * eof, an incomplete sequence is an error. On CP_BAD_ENCODING, *consumed and *produced
 * cover the valid text before the bad byte and err->offset is its offset in the file.
 */
cp_status cp_decoder_decode(cp_decoder *d, const uint8_t *in, size_t len, bool eof, char *out,
                            size_t *consumed, size_t *produced, cp_error *err);

/* True for a UTF-8 decoder past the start of its input (the BOM settled). */
bool cp_decoder_utf8_settled(const cp_decoder *d);

/*
 * For a decoder cp_decoder_utf8_settled: the number of leading bytes of s[0..len) that are
 * valid, complete UTF-8, taken as decoded (the offset and the ASCII-ness advance as
 * cp_decoder_decode would have them). These bytes are their own text, so a caller may read
 * the input straight into its text buffer. The first byte not taken (a sequence cut by
 * len, an invalid byte) goes to cp_decoder_decode.
 */
size_t cp_decoder_take_utf8(cp_decoder *d, const uint8_t *s, size_t len);

/* Number of leading bytes of s that are valid, complete UTF-8 (fast for ASCII). */
size_t cp_utf8_valid_prefix(const uint8_t *s, size_t len);

#endif
