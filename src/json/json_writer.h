/*
 * json_writer.h - typed batches as NDJSON: one JSON object per row, one row per line.
 *
 * Plain style: {"col": value, ...} with the normalized column names as keys, in schema
 * order, numbers with exact digits, dates and timestamps as ISO 8601 strings, nulls as
 * null (cell.h). DynamoDB style: {"Item": {"pk": {"S": ...}, "sk": {"S": ...},
 * "_dataset": ..., "_source": ..., "_row": {"N": ...}, "col": {"S"|"N"|"BOOL": ...}}} with
 * nulls absent — the format DynamoDB's import from S3 reads, keyed as item_key.h says.
 *
 * Output goes through a cp_write_fn in chunks of about 1 MiB; memory does not grow with
 * the number of rows.
 */
#ifndef CP_JSON_WRITER_H
#define CP_JSON_WRITER_H

#include "table/item_key.h"
#include "util/file_sink.h"

typedef enum cp_json_style {
    CP_JSON_STYLE_PLAIN = 0,
    CP_JSON_STYLE_DYNAMODB,
} cp_json_style;

/* "plain" (also "json", "ndjson") or "dynamodb". */
bool cp_json_style_parse(const char *name, cp_json_style *out);

typedef struct cp_json_writer cp_json_writer;

/*
 * A writer into *out (NULL on failure: CP_NOMEM). schema must outlive the writer. keys is
 * used by the DynamoDB style only (may be NULL for plain); its strings must outlive the
 * writer.
 */
cp_status cp_json_writer_new(const cp_schema *schema, cp_json_style style, const cp_item_keys *keys,
                             cp_write_fn write, void *ctx, cp_json_writer **out, cp_error *err);
/*
 * Sets how many bytes the writer buffers before it hands them to write (default 1 MiB,
 * at least 4 KiB): what one writer holds in memory, about, when many are open at once.
 */
void cp_json_writer_set_buffer(cp_json_writer *w, size_t bytes);
cp_status cp_json_writer_write_batch(cp_json_writer *w, const cp_batch *b, cp_error *err);
/*
 * Flushes what is buffered and frees the buffer; the callback gets nothing until the next
 * write (the caller may close its file and reopen it at the end meanwhile).
 */
cp_status cp_json_writer_suspend(cp_json_writer *w, cp_error *err);
/* Flushes what is buffered. */
cp_status cp_json_writer_finish(cp_json_writer *w, cp_error *err);
uint64_t cp_json_writer_bytes(const cp_json_writer *w);
void cp_json_writer_free(cp_json_writer *w);

#endif
