/* sink_parquet.c - the Parquet file format (parquet/parquet_writer.h) as a file sink. */
#include "parquet/parquet_writer.h"
#include "pipeline/sink.h"

static cp_status pq_new(const cp_sink_load *l, const cp_schema *schema, const cp_item_keys *keys,
                        cp_write_fn write, void *out, void **writer, cp_error *err)
{
    (void)keys;
    cp_pq_writer *w = NULL;
    cp_status st = cp_pq_writer_new(schema, &l->o->parquet, write, out, &w, err);
    *writer = w;
    return st;
}

CP_SINK_FORMAT(cp_sink_parquet, cp_pq_writer, pq_new, "parquet", NULL, CP_FORMAT_PARQUET, "parquet",
               ".parquet");
