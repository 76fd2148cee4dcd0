/*
 * sink_json.c - the NDJSON file format (json/json_writer.h) as a file sink, in the style
 * of the options: plain, or DynamoDB's import format keyed by the business key.
 */
#include "json/json_writer.h"
#include "pipeline/sink.h"

static cp_status json_new(const cp_sink_load *l, const cp_schema *schema, const cp_item_keys *keys,
                          cp_write_fn write, void *out, void **writer, cp_error *err)
{
    cp_json_writer *w = NULL;
    cp_status st = cp_json_writer_new(schema, l->o->json_style, keys, write, out, &w, err);
    if (st == CP_OK && l->o->json_buffer)
        cp_json_writer_set_buffer(w, l->o->json_buffer);
    *writer = w;
    return st;
}

CP_SINK_FORMAT(cp_sink_json, cp_json_writer, json_new, "json", "ndjson", CP_FORMAT_JSON, "json",
               ".jsonl");
