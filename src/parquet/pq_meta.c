/*
 * pq_meta.c - Thrift encodings of the Parquet metadata structures (see pq_meta.h).
 * Field ids are those of parquet.thrift; each function names the struct it writes.
 */
#include "parquet/pq_meta.h"

#include "parquet/pq_encoding.h"

#include <string.h>

/* ConvertedType values */
enum {
    CT_UTF8 = 0,
    CT_DECIMAL = 5,
    CT_DATE = 6,
    CT_TIMESTAMP_MICROS = 10,
    CT_INT_64 = 18,
};

int cp_pq_physical_type(cp_type t)
{
    switch (t.id) {
    case CP_TYPE_BOOLEAN:
        return CP_PQ_T_BOOLEAN;
    case CP_TYPE_INT64:
    case CP_TYPE_TIMESTAMP:
    case CP_TYPE_TIMESTAMPTZ:
        return CP_PQ_T_INT64;
    case CP_TYPE_DECIMAL:
        return CP_PQ_T_FIXED_LEN_BYTE_ARRAY;
    case CP_TYPE_DOUBLE:
        return CP_PQ_T_DOUBLE;
    case CP_TYPE_DATE:
        return CP_PQ_T_INT32;
    default:
        return CP_PQ_T_BYTE_ARRAY;
    }
}

cp_status cp_pq_encode_page_header(cp_buf *out, const cp_pq_page_header *h)
{
    cp_thrift_writer w;
    cp_thrift_init(&w, out);
    cp_thrift_struct_begin(&w); /* PageHeader */
    cp_thrift_field_i32(&w, 1, h->type);
    cp_thrift_field_i32(&w, 2, h->uncompressed_size);
    cp_thrift_field_i32(&w, 3, h->compressed_size);
    if (h->type == CP_PQ_PAGE_DATA) {
        cp_thrift_field_struct_begin(&w, 5); /* DataPageHeader */
        cp_thrift_field_i32(&w, 1, h->num_values);
        cp_thrift_field_i32(&w, 2, h->encoding);
        cp_thrift_field_i32(&w, 3, CP_PQ_ENC_RLE); /* definition levels */
        cp_thrift_field_i32(&w, 4, CP_PQ_ENC_RLE); /* repetition levels (none) */
        cp_thrift_struct_end(&w);
    } else {
        cp_thrift_field_struct_begin(&w, 7); /* DictionaryPageHeader */
        cp_thrift_field_i32(&w, 1, h->num_values);
        cp_thrift_field_i32(&w, 2, h->encoding);
        cp_thrift_struct_end(&w);
    }
    cp_thrift_struct_end(&w);
    return cp_thrift_status(&w);
}

static void encode_statistics(cp_thrift_writer *w, const cp_pq_chunk_meta *m)
{
    cp_thrift_field_struct_begin(w, 12); /* Statistics */
    if (m->has_bounds && m->legacy_bounds) {
        cp_thrift_field_binary(w, 1, m->max, m->max_len);
        cp_thrift_field_binary(w, 2, m->min, m->min_len);
    }
    cp_thrift_field_i64(w, 3, m->null_count);
    if (m->has_bounds) {
        cp_thrift_field_binary(w, 5, m->max, m->max_len);
        cp_thrift_field_binary(w, 6, m->min, m->min_len);
        cp_thrift_field_bool(w, 7, true); /* is_max_value_exact */
        cp_thrift_field_bool(w, 8, true); /* is_min_value_exact */
    }
    if (m->has_nan_count)
        cp_thrift_field_i64(w, 9, m->nan_count);
    cp_thrift_struct_end(w);
}

void cp_pq_encode_column_chunk(cp_thrift_writer *w, const cp_pq_chunk_meta *m)
{
    bool dict = m->dictionary_page_offset >= 0;
    bool plain = dict || m->plain_data_pages > 0;
    uint32_t nenc = 1 + (plain ? 1 : 0) + (m->dict_data_pages > 0 ? 1 : 0);

    cp_thrift_struct_begin(w);          /* ColumnChunk */
    cp_thrift_field_i64(w, 2, 0);       /* file_offset: deprecated, 0 per the spec */
    cp_thrift_field_struct_begin(w, 3); /* ColumnMetaData */
    cp_thrift_field_i32(w, 1, m->physical);
    cp_thrift_field_list_begin(w, 2, CP_THRIFT_I32, nenc);
    if (plain)
        cp_thrift_elem_i32(w, CP_PQ_ENC_PLAIN);
    cp_thrift_elem_i32(w, CP_PQ_ENC_RLE);
    if (m->dict_data_pages > 0)
        cp_thrift_elem_i32(w, CP_PQ_ENC_RLE_DICTIONARY);
    cp_thrift_field_list_begin(w, 3, CP_THRIFT_BINARY, 1);
    cp_thrift_elem_binary(w, m->name, strlen(m->name));
    cp_thrift_field_i32(w, 4, m->codec);
    cp_thrift_field_i64(w, 5, m->num_values);
    cp_thrift_field_i64(w, 6, m->total_uncompressed_size);
    cp_thrift_field_i64(w, 7, m->total_compressed_size);
    cp_thrift_field_i64(w, 9, m->data_page_offset);
    if (dict)
        cp_thrift_field_i64(w, 11, m->dictionary_page_offset);
    encode_statistics(w, m);
    uint32_t nstats = (dict ? 1u : 0u) + (m->dict_data_pages > 0) + (m->plain_data_pages > 0);
    cp_thrift_field_list_begin(w, 13, CP_THRIFT_STRUCT, nstats);
    if (dict) {
        cp_thrift_struct_begin(w); /* PageEncodingStats */
        cp_thrift_field_i32(w, 1, CP_PQ_PAGE_DICTIONARY);
        cp_thrift_field_i32(w, 2, CP_PQ_ENC_PLAIN);
        cp_thrift_field_i32(w, 3, 1);
        cp_thrift_struct_end(w);
    }
    if (m->dict_data_pages > 0) {
        cp_thrift_struct_begin(w);
        cp_thrift_field_i32(w, 1, CP_PQ_PAGE_DATA);
        cp_thrift_field_i32(w, 2, CP_PQ_ENC_RLE_DICTIONARY);
        cp_thrift_field_i32(w, 3, m->dict_data_pages);
        cp_thrift_struct_end(w);
    }
    if (m->plain_data_pages > 0) {
        cp_thrift_struct_begin(w);
        cp_thrift_field_i32(w, 1, CP_PQ_PAGE_DATA);
        cp_thrift_field_i32(w, 2, CP_PQ_ENC_PLAIN);
        cp_thrift_field_i32(w, 3, m->plain_data_pages);
        cp_thrift_struct_end(w);
    }
    cp_thrift_struct_end(w); /* ColumnMetaData */
    cp_thrift_struct_end(w); /* ColumnChunk */
}

static void encode_schema_element(cp_thrift_writer *w, const cp_column *c)
{
    cp_type t = c->type;
    if (t.id == CP_TYPE_NULL)
        t = cp_type_of(CP_TYPE_STRING);
    cp_thrift_struct_begin(w); /* SchemaElement */
    cp_thrift_field_i32(w, 1, cp_pq_physical_type(t));
    if (t.id == CP_TYPE_DECIMAL)
        cp_thrift_field_i32(w, 2, (int32_t)cp_pq_decimal_length(t.precision));
    cp_thrift_field_i32(w, 3, 1); /* OPTIONAL */
    cp_thrift_field_string(w, 4, c->name);
    switch (t.id) {
    case CP_TYPE_INT64:
        cp_thrift_field_i32(w, 6, CT_INT_64);
        cp_thrift_field_struct_begin(w, 10); /* LogicalType */
        cp_thrift_field_struct_begin(w, 10); /* INTEGER: IntType */
        cp_thrift_field_i8(w, 1, 64);
        cp_thrift_field_bool(w, 2, true);
        cp_thrift_struct_end(w);
        cp_thrift_struct_end(w);
        break;
    case CP_TYPE_DECIMAL:
        cp_thrift_field_i32(w, 6, CT_DECIMAL);
        cp_thrift_field_i32(w, 7, t.scale);
        cp_thrift_field_i32(w, 8, t.precision);
        cp_thrift_field_struct_begin(w, 10);
        cp_thrift_field_struct_begin(w, 5); /* DECIMAL: DecimalType */
        cp_thrift_field_i32(w, 1, t.scale);
        cp_thrift_field_i32(w, 2, t.precision);
        cp_thrift_struct_end(w);
        cp_thrift_struct_end(w);
        break;
    case CP_TYPE_DATE:
        cp_thrift_field_i32(w, 6, CT_DATE);
        cp_thrift_field_struct_begin(w, 10);
        cp_thrift_field_struct_begin(w, 6); /* DATE: DateType */
        cp_thrift_struct_end(w);
        cp_thrift_struct_end(w);
        break;
    case CP_TYPE_TIMESTAMP:
    case CP_TYPE_TIMESTAMPTZ:
        cp_thrift_field_i32(w, 6, CT_TIMESTAMP_MICROS);
        cp_thrift_field_struct_begin(w, 10);
        cp_thrift_field_struct_begin(w, 8); /* TIMESTAMP: TimestampType */
        cp_thrift_field_bool(w, 1, t.id == CP_TYPE_TIMESTAMPTZ);
        cp_thrift_field_struct_begin(w, 2); /* unit: TimeUnit */
        cp_thrift_field_struct_begin(w, 2); /* MICROS */
        cp_thrift_struct_end(w);
        cp_thrift_struct_end(w);
        cp_thrift_struct_end(w);
        cp_thrift_struct_end(w);
        break;
    case CP_TYPE_STRING:
        cp_thrift_field_i32(w, 6, CT_UTF8);
        cp_thrift_field_struct_begin(w, 10);
        cp_thrift_field_struct_begin(w, 1); /* STRING: StringType */
        cp_thrift_struct_end(w);
        cp_thrift_struct_end(w);
        break;
    default: /* BOOLEAN, DOUBLE: no annotation */
        break;
    }
    cp_thrift_struct_end(w);
}

cp_status cp_pq_encode_file_metadata(cp_buf *out, const cp_schema *schema, int64_t num_rows,
                                     const void *row_groups, size_t row_groups_len,
                                     uint32_t nrow_groups, const cp_pq_kv *kv, size_t nkv,
                                     const char *created_by)
{
    cp_thrift_writer w;
    cp_thrift_init(&w, out);
    cp_thrift_struct_begin(&w); /* FileMetaData */
    cp_thrift_field_i32(&w, 1, 2);
    cp_thrift_field_list_begin(&w, 2, CP_THRIFT_STRUCT, (uint32_t)schema->ncolumns + 1);
    cp_thrift_struct_begin(&w); /* root SchemaElement */
    cp_thrift_field_string(&w, 4, "schema");
    cp_thrift_field_i32(&w, 5, (int32_t)schema->ncolumns);
    cp_thrift_struct_end(&w);
    for (size_t i = 0; i < schema->ncolumns; i++)
        encode_schema_element(&w, &schema->columns[i]);
    cp_thrift_field_i64(&w, 3, num_rows);
    cp_thrift_field_list_begin(&w, 4, CP_THRIFT_STRUCT, nrow_groups);
    cp_thrift_raw(&w, row_groups, row_groups_len);
    if (nkv) {
        cp_thrift_field_list_begin(&w, 5, CP_THRIFT_STRUCT, (uint32_t)nkv);
        for (size_t i = 0; i < nkv; i++) {
            cp_thrift_struct_begin(&w); /* KeyValue */
            cp_thrift_field_string(&w, 1, kv[i].key);
            cp_thrift_field_binary(&w, 2, kv[i].value, kv[i].value_len);
            cp_thrift_struct_end(&w);
        }
    }
    cp_thrift_field_string(&w, 6, created_by);
    cp_thrift_field_list_begin(&w, 7, CP_THRIFT_STRUCT, (uint32_t)schema->ncolumns);
    for (size_t i = 0; i < schema->ncolumns; i++) {
        cp_thrift_struct_begin(&w);          /* ColumnOrder */
        cp_thrift_field_struct_begin(&w, 1); /* TYPE_ORDER: TypeDefinedOrder */
        cp_thrift_struct_end(&w);
        cp_thrift_struct_end(&w);
    }
    cp_thrift_struct_end(&w);
    return cp_thrift_status(&w);
}
