/*
 * sink_partition.c - the file of a format split into Hive-style partitions
 * (table/partition.h): <out>/<folder>/<dataset>/<k1>=<v1>/.../<stem><extension>.
 *
 * One child writer and one file per partition value, made on the partition's first row.
 * At most cp_pipeline_options.partition_writers writers are active at once: when a
 * partition needs one more, the writer used least recently (the tail of an intrusive LRU
 * list) is suspended: its buffered rows go out as a row group (Parquet) or lines (NDJSON),
 * its buffers are freed and its file closed. The partition's next rows reopen the same
 * file at its end and add row groups; finish writes the footer once. So a load makes one
 * file per partition however its rows are ordered, and memory stays bounded: each active
 * Parquet writer gets 1/partition_writers of CP_PARTITION_MEMORY for its row group, pages
 * and dictionaries (budget below), and a suspended one keeps only its schema and the
 * footer's entries of the row groups it wrote. The price of rows in random order over
 * more partitions than writers is small row groups: a partition suspended after a few
 * rows writes a row group of those few rows (at most one per batch per partition).
 * Earlier versions of csvpipe wrote <stem>~2<extension>, ~3... when a partition's writer
 * was evicted; such files of the source are still removed as stale.
 *
 * Every file is written locally: beside its place under a temporary name (output.h) for a
 * local output; for an S3 output in a spool file under $TMPDIR, uploaded at publish. At
 * publish the files are renamed into place (or uploaded) one by one, then every file of
 * this source (<stem><extension> or <stem>~N<extension>) anywhere under the dataset's
 * folder that this load did not publish is removed: the partitions a new version of the
 * source no longer touches, and its earlier unpartitioned file. A load that fails
 * publishes nothing; a crash during publish leaves some partitions new and some old, and
 * the retry (the ledger has no row for this version) converges.
 */
#define _GNU_SOURCE
#include "aws/s3.h"
#include "parquet/parquet_writer.h"
#include "pipeline/output.h"
#include "pipeline/sink.h"
#include "table/partition.h"
#include "util/array.h"
#include "util/fault.h"
#include "util/hash.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct part_file {
    char *location; /* where it is published */
    char *spool;    /* S3: the local file uploaded at publish; NULL for a local output */
    cp_output out;  /* the local file being written (at spool for S3) */
    uint64_t bytes;
    bool published;
} part_file;

typedef struct partition {
    char *path; /* "k1=v1/k2=v2" */
    unsigned nfiles;
    part_file *file; /* the partition's file, from its first row */
    void *writer;    /* NULL once finished */
    bool active;     /* writer holds buffers and file an open descriptor; in the LRU list */
    struct partition *newer, *older; /* the LRU list of active writers */
    unsigned suspends;               /* times its writer was suspended (each a row group) */
    size_t nrows;                    /* rows of the current batch (while a batch is split) */
    size_t next;
} partition;

typedef struct partition_sink {
    cp_format_sink h;      /* location: <out>/<folder>/<dataset> */
    cp_pipeline_options o; /* the load's, with the Parquet budgets of one writer */
    cp_sink_load child;    /* what the writers are told: the load's, with o */
    bool s3;
    cp_partition_keys keys;
    cp_schema schema; /* the file's schema without the partition columns */
    size_t *cols;     /* schema's column i is the file's column cols[i] */
    size_t *item_columns;
    cp_item_keys item_keys;
    cp_batch sub;
    partition **parts;
    size_t nparts, capparts;
    uint32_t *index; /* open addressing over parts by path (util/hash.h) */
    size_t nindex;
    part_file **files;
    size_t nfiles, capfiles;
    unsigned nopen;
    partition *newest, *oldest; /* the LRU list of active writers */
    size_t *row_part;           /* the partition of each row of the batch */
    size_t *order;              /* the batch's rows grouped by partition */
    uint64_t *sub_rows;         /* the source ordinal of each row of sub */
    size_t *touched;
    size_t capbatch;
    cp_buf path;
    const char **folders;          /* cp_sink_partition_folders */
    const char **published_sorted; /* at publish: the files' locations, sorted */
    size_t npublished;
    char **stale; /* after publish: the source's files this load did not publish */
    size_t nstale, capstale;
    char **emptied; /* after publish: the partition folders only stale files fill */
    size_t nemptied, capemptied;
    bool defer_stale; /* the catalog removes the stale files, after its partitions */
    uint64_t bytes;
    bool published;
} partition_sink;

/* the spool files of this process; the sinks of two formats may open files on two threads */
static unsigned spool_seq;

static uint64_t part_hash(const void *ctx, size_t i)
{
    const char *p = ((const partition_sink *)ctx)->parts[i]->path;
    return cp_hash_fnv1a(p, strlen(p));
}

static cp_status grow_index(partition_sink *s)
{
    return cp_hash_slots_grow(&s->index, &s->nindex, 64, s->nparts, part_hash, s);
}

/* The partition of the path in s->path, made when new. */
static cp_status find_partition(partition_sink *s, size_t *out, cp_error *err)
{
    const char *p = s->path.data;
    const size_t n = s->path.len;
    if (s->nindex == 0 && grow_index(s) != CP_OK)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    size_t h = (size_t)cp_hash_fnv1a(p, n) & (s->nindex - 1);
    for (; s->index[h]; h = (h + 1) & (s->nindex - 1)) {
        const partition *q = s->parts[s->index[h] - 1];
        if (strlen(q->path) == n && memcmp(q->path, p, n) == 0) {
            *out = s->index[h] - 1;
            return CP_OK;
        }
    }
    partition **parts = cp_array_room(s->parts, s->nparts, &s->capparts, sizeof *parts);
    if (!parts)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    s->parts = parts;
    partition *q = calloc(1, sizeof *q);
    if (!q || !(q->path = strndup(p, n))) {
        free(q);
        return cp_error_set(err, CP_NOMEM, "out of memory");
    }
    s->parts[s->nparts] = q;
    s->index[h] = (uint32_t)++s->nparts;
    *out = s->nparts - 1;
    if (s->nparts * 2 > s->nindex && grow_index(s) != CP_OK)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    return CP_OK;
}

static void file_free(part_file *pf)
{
    if (!pf)
        return;
    cp_output_abort(&pf->out);
    if (pf->spool)
        unlink(pf->spool);
    free(pf->location);
    free(pf->spool);
    free(pf);
}

static void lru_unlink(partition_sink *s, partition *q)
{
    if (q->newer)
        q->newer->older = q->older;
    else
        s->newest = q->older;
    if (q->older)
        q->older->newer = q->newer;
    else
        s->oldest = q->newer;
    q->newer = q->older = NULL;
}

static void lru_push(partition_sink *s, partition *q)
{
    q->newer = NULL;
    q->older = s->newest;
    if (s->newest)
        s->newest->newer = q;
    else
        s->oldest = q;
    s->newest = q;
}

static void deactivate(partition_sink *s, partition *q)
{
    if (!q->active)
        return;
    lru_unlink(s, q);
    q->active = false;
    s->nopen--;
}

/*
 * What the failure st of q's writer (before it is freed), writing into pf, tells the user:
 * an I/O error is pf's (cp_output_failed), a Parquet file full of the row groups of the
 * suspensions says why it has so many and what to do.
 */
static cp_status writer_failed(const partition_sink *s, const partition *q, part_file *pf,
                               cp_status st, cp_error *err)
{
    if (st == CP_IO)
        return cp_output_failed(&pf->out, pf->location, st, err);
    if (st == CP_TOO_LARGE && s->h.f == &cp_sink_parquet && q->writer && q->suspends &&
        cp_pq_writer_row_groups(q->writer) >= CP_PQ_MAX_ROW_GROUPS)
        return cp_error_set(
            err, st,
            "%s: a Parquet file holds at most 32,767 row groups, and this partition's writer "
            "made one each of the %u times it was suspended to let another partition's rows "
            "in (more partitions than --partition-writers %u, their rows interleaved): raise "
            "--partition-writers to the number of partitions, or sort the input by the "
            "partition columns",
            pf->location, q->suspends, s->h.l->o->partition_writers);
    return st;
}

/* Suspends the active writer of q: its rows in its file, its buffers freed, the file closed. */
static cp_status suspend_writer(partition_sink *s, partition *q, cp_error *err)
{
    part_file *pf = q->file;
    deactivate(s, q);
    cp_status st = s->h.f->suspend(q->writer, err);
    if (st != CP_OK)
        return writer_failed(s, q, pf, st, err);
    q->suspends++;
    return cp_output_suspend(&pf->out, err);
}

/* Finishes the partition's writer: its file whole on disk, still unpublished. */
static cp_status close_writer(partition_sink *s, partition *q, cp_error *err)
{
    if (!q->writer)
        return CP_OK;
    part_file *pf = q->file;
    if (!q->active)
        CP_RETURN_IF_ERROR(cp_output_resume(&pf->out, err));
    deactivate(s, q);
    cp_status st = s->h.f->finish(q->writer, err);
    if (st != CP_OK)
        st = writer_failed(s, q, pf, st, err);
    s->h.f->free(q->writer);
    q->writer = NULL;
    if (st != CP_OK)
        return st;
    pf->bytes = pf->out.bytes;
    return cp_output_sync(&pf->out, err);
}

/* Makes q's writer active (new, or resumed at the end of its file), the newest. */
static cp_status open_writer(partition_sink *s, partition *q, cp_error *err)
{
    if (q->active) {
        lru_unlink(s, q);
        lru_push(s, q);
        return CP_OK;
    }
    if (s->nopen >= s->h.l->o->partition_writers && s->oldest)
        CP_RETURN_IF_ERROR(suspend_writer(s, s->oldest, err));
    if (q->writer) {
        CP_RETURN_IF_ERROR(cp_output_resume(&q->file->out, err));
    } else {
        part_file **files = cp_array_room(s->files, s->nfiles, &s->capfiles, sizeof *files);
        if (!files)
            return cp_error_set(err, CP_NOMEM, "out of memory");
        s->files = files;
        part_file *pf = calloc(1, sizeof *pf);
        if (!pf)
            return cp_error_set(err, CP_NOMEM, "out of memory");
        q->nfiles++;
        const char *tmp = getenv("TMPDIR");
        if (asprintf(&pf->location, "%s/%s/%s%s", s->h.location, q->path, s->h.l->stem,
                     s->h.f->extension) < 0 ||
            (s->s3 && asprintf(&pf->spool, "%s/csvpipe-spool-%ld-%u%s", tmp && *tmp ? tmp : "/tmp",
                               (long)getpid(), __atomic_fetch_add(&spool_seq, 1, __ATOMIC_RELAXED),
                               s->h.f->extension) < 0)) {
            pf->location = pf->spool = NULL;
            free(pf);
            return cp_error_set(err, CP_NOMEM, "out of memory");
        }
        s->files[s->nfiles++] = pf;
        /* a spool name is this process's alone: no stale file of another to look for */
        CP_RETURN_IF_ERROR(pf->spool ? cp_output_open_private(&pf->out, pf->spool, err)
                                     : cp_output_open(&pf->out, NULL, pf->location, err));
        cp_status st = s->h.f->writer_new(&s->child, &s->schema, &s->item_keys, cp_output_write,
                                          &pf->out, &q->writer, err);
        if (st != CP_OK) {
            q->writer = NULL;
            return writer_failed(s, q, pf, st, err);
        }
        q->file = pf;
    }
    q->active = true;
    lru_push(s, q);
    s->nopen++;
    return CP_OK;
}

static void drop_all(partition_sink *s)
{
    for (size_t i = 0; i < s->nparts; i++) {
        partition *q = s->parts[i];
        if (q->writer)
            s->h.f->free(q->writer);
        free(q->path);
        free(q);
    }
    free(s->parts);
    free(s->index);
    s->parts = NULL;
    s->index = NULL;
    s->nparts = s->capparts = s->nindex = 0;
    for (size_t i = 0; i < s->nfiles; i++)
        file_free(s->files[i]);
    free(s->files);
    s->files = NULL;
    s->nfiles = s->capfiles = 0;
    s->nopen = 0;
    s->newest = s->oldest = NULL;
    free(s->published_sorted);
    s->published_sorted = NULL;
    s->npublished = 0;
    for (size_t i = 0; i < s->nemptied; i++)
        free(s->emptied[i]);
    free(s->emptied);
    s->emptied = NULL;
    s->nemptied = s->capemptied = 0;
    for (size_t i = 0; i < s->nstale; i++)
        free(s->stale[i]);
    free(s->stale);
    s->stale = NULL;
    s->nstale = s->capstale = 0;
    cp_batch_release(&s->sub);
    cp_schema_release(&s->schema);
    free(s->cols);
    free(s->item_columns);
    s->cols = s->item_columns = NULL;
}

/*
 * The buffers of one writer, so that all of them together stay near CP_PARTITION_MEMORY:
 * a Parquet row group closes once its pages hold memory/writers, and each of the ncolumns
 * columns buffers a page and a dictionary of at most a quarter of that (at least 16 KiB);
 * an NDJSON writer buffers an eighth of it. Sizes the person set lower stay.
 */
static void budget(partition_sink *s, size_t ncolumns)
{
    const size_t writers = s->h.l->o->partition_writers ? s->h.l->o->partition_writers : 1;
    const size_t each = CP_PARTITION_MEMORY / writers;
    size_t per_column = each / 4 / (ncolumns ? ncolumns : 1);
    if (per_column < ((size_t)16 << 10))
        per_column = (size_t)16 << 10;
    s->o = *s->h.l->o;
    s->child = *s->h.l;
    s->child.o = &s->o;
    s->o.json_buffer = each / 8;
    cp_pq_options *pq = &s->o.parquet;
    if (!pq->row_group_memory || pq->row_group_memory > each)
        pq->row_group_memory = each;
    if (!pq->page_bytes || pq->page_bytes > per_column)
        pq->page_bytes = per_column;
    if (pq->dictionary_limit != CP_PQ_NO_DICTIONARY &&
        (!pq->dictionary_limit || pq->dictionary_limit > per_column))
        pq->dictionary_limit = per_column;
}

static cp_status part_open(cp_sink *k, const cp_schema *schema, const cp_item_keys *keys,
                           cp_error *err)
{
    partition_sink *s = (partition_sink *)k;
    k->threaded = true; /* every file is local until publish */
    s->published = false;
    s->bytes = 0;
    CP_RETURN_IF_ERROR(cp_partition_resolve(s->h.l->o->partition, schema, &s->keys, err));
    size_t n = 0;
    for (size_t c = 0; c < schema->ncolumns; c++)
        n += !cp_partition_is_key_column(&s->keys, c);
    if (n == 0)
        return cp_error_set(err, CP_USAGE,
                            "--partition-by: every column of this file is a partition column; "
                            "the %s files would hold no column",
                            s->h.f->name);
    s->cols = calloc(n, sizeof *s->cols);
    s->item_columns = calloc(keys->ncolumns + 1, sizeof *s->item_columns);
    if (!s->cols || !s->item_columns || cp_schema_init(&s->schema, n) != CP_OK)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    for (size_t c = 0, i = 0; c < schema->ncolumns; c++) {
        if (cp_partition_is_key_column(&s->keys, c))
            continue;
        cp_column *to = &s->schema.columns[i];
        const cp_column *from = &schema->columns[c];
        free(to->name);
        free(to->source_name);
        to->name = strdup(from->name);
        to->source_name = strdup(from->source_name);
        to->type = from->type;
        to->forced = from->forced;
        if (!to->name || !to->source_name)
            return cp_error_set(err, CP_NOMEM, "out of memory");
        s->cols[i++] = c;
    }
    s->item_keys = *keys;
    s->item_keys.columns = s->item_columns;
    /* only DynamoDB JSON writes the key; a partition column leaves the files */
    const bool keyed = s->h.f == &cp_sink_json && s->h.l->o->json_style == CP_JSON_STYLE_DYNAMODB;
    for (size_t j = 0; j < keys->ncolumns; j++) {
        size_t i = 0;
        while (i < n && s->cols[i] != keys->columns[j])
            i++;
        if (i == n && keyed)
            return cp_error_set(err, CP_USAGE,
                                "--key %s is a partition column, which leaves the DynamoDB JSON "
                                "files; partition by another column",
                                schema->columns[keys->columns[j]].name);
        if (i == n)
            s->item_keys.ncolumns = 0;
        else
            s->item_columns[j] = i;
    }
    budget(s, n);
    return CP_OK;
}

static cp_status ensure_room(partition_sink *s, const cp_batch *b, cp_error *err)
{
    if (!s->sub.cols || s->sub.capacity < b->capacity) {
        cp_batch_release(&s->sub);
        if (cp_batch_init(&s->sub, &s->schema, b->capacity, UINT32_MAX / 2 - 1, 0) != CP_OK)
            return cp_error_set(err, CP_NOMEM, "out of memory");
    }
    if (s->capbatch < b->nrows) {
        free(s->row_part);
        free(s->order);
        free(s->touched);
        free(s->sub_rows);
        s->row_part = calloc(b->nrows, sizeof *s->row_part);
        s->order = calloc(b->nrows, sizeof *s->order);
        s->touched = calloc(b->nrows, sizeof *s->touched);
        s->sub_rows = calloc(b->nrows, sizeof *s->sub_rows);
        s->capbatch = s->row_part && s->order && s->touched && s->sub_rows ? b->nrows : 0;
        if (!s->capbatch)
            return cp_error_set(err, CP_NOMEM, "out of memory");
    }
    return CP_OK;
}

static cp_status part_write(cp_sink *k, const cp_batch *b, cp_error *err)
{
    partition_sink *s = (partition_sink *)k;
    if (b->nrows == 0)
        return CP_OK;
    CP_RETURN_IF_ERROR(ensure_room(s, b, err));
    size_t ntouched = 0;
    for (size_t r = 0; r < b->nrows; r++) {
        cp_buf_reset(&s->path);
        if (cp_partition_append_path(&s->path, &s->keys, b, r) != CP_OK)
            return cp_error_set(err, CP_NOMEM, "out of memory");
        size_t p = 0;
        CP_RETURN_IF_ERROR(find_partition(s, &p, err));
        if (s->parts[p]->nrows++ == 0)
            s->touched[ntouched++] = p;
        s->row_part[r] = p;
    }
    for (size_t t = 0, at = 0; t < ntouched; t++) {
        partition *q = s->parts[s->touched[t]];
        q->next = at;
        at += q->nrows;
    }
    for (size_t r = 0; r < b->nrows; r++)
        s->order[s->parts[s->row_part[r]]->next++] = r;
    cp_status st = CP_OK;
    for (size_t t = 0, at = 0; t < ntouched; t++) {
        partition *q = s->parts[s->touched[t]];
        const size_t nrows = q->nrows;
        q->nrows = 0;
        if (st != CP_OK || (st = open_writer(s, q, err)) != CP_OK)
            continue;
        cp_batch_clear(&s->sub, b->first_row);
        for (size_t i = 0; st == CP_OK && i < nrows; i++) {
            s->sub_rows[i] = cp_batch_row_number(b, s->order[at + i]);
            if ((st = cp_batch_append_from(&s->sub, b, s->order[at + i], s->cols)) != CP_OK)
                st = cp_error_set(err, st, "out of memory splitting a batch by partition");
        }
        s->sub.row_numbers = s->sub_rows;
        at += nrows;
        if (st == CP_OK && (st = s->h.f->write(q->writer, &s->sub, err)) != CP_OK)
            st = writer_failed(s, q, q->file, st, err);
    }
    return st;
}

static cp_status part_finish(cp_sink *k, cp_error *err)
{
    partition_sink *s = (partition_sink *)k;
    for (size_t i = 0; i < s->nparts; i++)
        CP_RETURN_IF_ERROR(close_writer(s, s->parts[i], err));
    cp_fault_pointf("%s-written", s->h.f->name);
    return CP_OK;
}

/* Uploads the spool file of pf to its S3 location. */
static cp_status upload(partition_sink *s, part_file *pf, cp_error *err)
{
    int fd = open(pf->spool, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cp_error_set(err, CP_IO, "%s: cannot read its spool file %s: %s", pf->location,
                            pf->spool, strerror(errno));
    cp_s3_upload *u = NULL;
    cp_status st = cp_s3_upload_new(s->h.l->aws, pf->location, &u, err);
    static char chunk[1 << 16];
    while (st == CP_OK) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            st = cp_error_set(err, CP_IO, "%s: cannot read %s: %s", pf->location, pf->spool,
                              strerror(errno));
        if (n <= 0)
            break;
        if ((st = cp_s3_upload_write(u, chunk, (size_t)n)) != CP_OK)
            st = cp_error_set(err, st, "%s: upload failed", pf->location);
    }
    close(fd);
    if (st == CP_OK)
        st = cp_s3_upload_commit(u, err);
    cp_s3_upload_free(u);
    return st;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool in_sorted(const char *const *v, size_t n, const char *s)
{
    return n && bsearch(&s, v, n, sizeof *v, compare_strings) != NULL;
}

/* s->published_sorted: the locations of the files this load published, sorted. */
static cp_status sort_published(partition_sink *s, cp_error *err)
{
    free(s->published_sorted);
    s->published_sorted = calloc(s->nfiles ? s->nfiles : 1, sizeof *s->published_sorted);
    if (!s->published_sorted)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < s->nfiles; i++)
        if (s->files[i]->published)
            s->published_sorted[n++] = s->files[i]->location;
    if (n > 1)
        qsort(s->published_sorted, n, sizeof *s->published_sorted, compare_strings);
    s->npublished = n;
    return CP_OK;
}

static bool published_here(const partition_sink *s, const char *location)
{
    return in_sorted(s->published_sorted, s->npublished, location);
}

/* name is <stem><ext> or <stem>~N<ext> */
static bool is_sources_file(const partition_sink *s, const char *name)
{
    const char *stem = s->h.l->stem, *ext = s->h.f->extension;
    const size_t ns = strlen(stem), ne = strlen(ext), n = strlen(name);
    if (n < ns + ne || strncmp(name, stem, ns) != 0 || strcmp(name + n - ne, ext) != 0)
        return false;
    const char *mid = name + ns, *end = name + n - ne;
    if (mid == end)
        return true;
    if (*mid != '~' || mid + 1 == end)
        return false;
    for (const char *c = mid + 1; c < end; c++)
        if (*c < '0' || *c > '9')
            return false;
    return true;
}

/* Notes the partition folder of location (under the dataset's), one a stale file is in. */
static cp_status note_folder(partition_sink *s, const char *location, cp_error *err)
{
    const size_t n = strlen(s->h.location);
    const char *rel = location + n + 1, *slash = strrchr(location, '/');
    if (strncmp(location, s->h.location, n) != 0 || location[n] != '/' || slash <= rel)
        return CP_OK; /* the dataset's own folder: no partition */
    char **emptied = cp_array_room(s->emptied, s->nemptied, &s->capemptied, sizeof *emptied);
    if (!emptied)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    s->emptied = emptied;
    if (!(s->emptied[s->nemptied] = strndup(rel, (size_t)(slash - rel))))
        return cp_error_set(err, CP_NOMEM, "out of memory");
    s->nemptied++;
    return CP_OK;
}

/* Adds location to the source's stale files, to remove. */
static cp_status add_stale(partition_sink *s, const char *location, cp_error *err)
{
    char **stale = cp_array_room(s->stale, s->nstale, &s->capstale, sizeof *stale);
    if (!stale)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    s->stale = stale;
    if (!(s->stale[s->nstale] = strdup(location)))
        return cp_error_set(err, CP_NOMEM, "out of memory");
    s->nstale++;
    return note_folder(s, location, err);
}

/* After the listing: s->stale sorted, for is_stale; s->emptied sorted, each folder once. */
static void sort_stale(partition_sink *s)
{
    if (s->nstale > 1)
        qsort(s->stale, s->nstale, sizeof *s->stale, compare_strings);
    if (s->nemptied > 1)
        qsort(s->emptied, s->nemptied, sizeof *s->emptied, compare_strings);
    size_t kept = 0;
    for (size_t i = 0; i < s->nemptied; i++) {
        if (kept && strcmp(s->emptied[kept - 1], s->emptied[i]) == 0)
            free(s->emptied[i]);
        else
            s->emptied[kept++] = s->emptied[i];
    }
    s->nemptied = kept;
}

static bool is_stale(const partition_sink *s, const char *location)
{
    return in_sorted((const char *const *)s->stale, s->nstale, location);
}

/* Finds the source's files under dir (local) that this load did not publish. */
static cp_status find_stale_local(partition_sink *s, const char *dir, unsigned depth, cp_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? CP_OK
                               : cp_error_set(err, CP_IO, "cannot read the folder %s: %s", dir,
                                              strerror(errno));
    cp_status st = CP_OK;
    struct dirent *e;
    while (st == CP_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
            st = cp_error_set(err, CP_NOMEM, "out of memory");
            break;
        }
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && strchr(e->d_name, '=') &&
            depth < CP_PARTITION_MAX_EXPRS)
            st = find_stale_local(s, path, depth + 1, err);
        else if (S_ISREG(sb.st_mode) && is_sources_file(s, e->d_name) && !published_here(s, path))
            st = add_stale(s, path, err);
        free(path);
    }
    closedir(d);
    return st;
}

typedef struct stale_ctx {
    partition_sink *s;
    char *bucket;
    size_t others; /* keys that are not stale (while a folder is counted) */
    cp_error *err;
} stale_ctx;

static cp_status find_stale_s3_key(void *ctx, const char *key)
{
    stale_ctx *c = ctx;
    const char *slash = strrchr(key, '/');
    if (!is_sources_file(c->s, slash ? slash + 1 : key))
        return CP_OK;
    char *uri = NULL;
    if (asprintf(&uri, "s3://%s/%s", c->bucket, key) < 0)
        return cp_error_set(c->err, CP_NOMEM, "out of memory");
    cp_status st = published_here(c->s, uri) ? CP_OK : add_stale(c->s, uri, c->err);
    free(uri);
    return st;
}

static cp_status count_other_key(void *ctx, const char *key)
{
    stale_ctx *c = ctx;
    char *uri = NULL;
    if (asprintf(&uri, "s3://%s/%s", c->bucket, key) < 0)
        return cp_error_set(c->err, CP_NOMEM, "out of memory");
    c->others += !is_stale(c->s, uri);
    free(uri);
    return CP_OK;
}

/* Whether the partition folder rel holds anything but stale files. */
static cp_status holds_others(partition_sink *s, stale_ctx *c, const char *key, const char *rel,
                              bool *others, cp_error *err)
{
    char *where = NULL;
    if (asprintf(&where, s->s3 ? "%s/%s/" : "%s/%s", s->s3 ? key : s->h.location, rel) < 0)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    cp_status st = CP_OK;
    c->others = 0;
    if (s->s3) {
        st = cp_s3_list(s->h.l->aws, c->bucket, where, count_other_key, c, err);
    } else {
        DIR *d = opendir(where);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            char *path = NULL;
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (asprintf(&path, "%s/%s", where, e->d_name) < 0) {
                st = cp_error_set(err, CP_NOMEM, "out of memory");
                break;
            }
            c->others += !is_stale(s, path);
            free(path);
        }
        if (d)
            closedir(d);
    }
    *others = c->others > 0;
    free(where);
    return st;
}

/*
 * The source's files under the dataset's folder that this load did not publish, into
 * s->stale, and the partition folders they alone fill, into s->emptied. Nothing removed.
 */
static cp_status find_stale(partition_sink *s, cp_error *err)
{
    stale_ctx c = {s, NULL, 0, err};
    char *key = NULL, *prefix = NULL;
    cp_status st = sort_published(s, err);
    if (st != CP_OK)
        return st;
    if (!s->s3)
        st = find_stale_local(s, s->h.location, 0, err);
    else if (!cp_s3_parse_uri(s->h.location, &c.bucket, &key))
        st = cp_error_set(err, CP_USAGE, "%s: not an S3 URI", s->h.location);
    else if (asprintf(&prefix, "%s/", key) < 0)
        st = cp_error_set(err, CP_NOMEM, "out of memory");
    else
        st = cp_s3_list(s->h.l->aws, c.bucket, prefix, find_stale_s3_key, &c, err);
    sort_stale(s);
    size_t kept = 0;
    for (size_t i = 0; i < s->nemptied; i++) {
        bool others = true;
        if (st == CP_OK)
            st = holds_others(s, &c, key, s->emptied[i], &others, err);
        if (st == CP_OK && !others)
            s->emptied[kept++] = s->emptied[i];
        else
            free(s->emptied[i]);
    }
    s->nemptied = kept;
    free(prefix);
    free(key);
    free(c.bucket);
    return st;
}

cp_status cp_sink_partition_remove_stale(cp_sink *k, cp_error *err)
{
    partition_sink *s = (partition_sink *)k;
    for (size_t i = 0; i < s->nstale; i++) {
        CP_RETURN_IF_ERROR(cp_output_remove(s->h.l->aws, s->stale[i], err));
        cp_log_info("%s: removed (this source's new version has no rows there)", s->stale[i]);
        /* local: the partition folders left empty, up to the dataset's */
        const size_t n = strlen(s->h.location);
        char *dir = s->s3 ? NULL : strdup(s->stale[i]);
        for (char *slash; dir && (slash = strrchr(dir, '/')) && (size_t)(slash - dir) > n;) {
            *slash = '\0';
            if (rmdir(dir) != 0)
                break;
        }
        free(dir);
    }
    cp_fault_pointf("%s-stale-removed", s->h.f->name);
    return CP_OK;
}

void cp_sink_partition_defer_stale(cp_sink *k)
{
    ((partition_sink *)k)->defer_stale = true;
}

static cp_status part_publish(cp_sink *k, const cp_sink_commit *c, cp_error *err)
{
    partition_sink *s = (partition_sink *)k;
    (void)c;
    for (size_t i = 0; i < s->nfiles; i++) {
        part_file *pf = s->files[i];
        CP_RETURN_IF_ERROR(cp_output_commit(&pf->out, err));
        if (pf->spool) {
            cp_status st = upload(s, pf, err);
            unlink(pf->spool);
            free(pf->spool);
            pf->spool = NULL;
            CP_RETURN_IF_ERROR(st);
        }
        pf->published = true;
        s->bytes += pf->bytes;
        cp_fault_pointf("%s-partition-published", s->h.f->name);
    }
    s->published = true;
    cp_fault_pointf("%s-published", s->h.f->name);
    CP_RETURN_IF_ERROR(find_stale(s, err));
    return s->defer_stale ? CP_OK : cp_sink_partition_remove_stale(k, err);
}

static void part_abort(cp_sink *k)
{
    drop_all((partition_sink *)k);
}

static cp_status part_report(const cp_sink *k, cp_load_summary *sum)
{
    const partition_sink *s = (const partition_sink *)k;
    if (!s->published)
        return CP_OK;
    char *where = NULL;
    if (asprintf(&where, "%s/", s->h.location) < 0)
        return CP_NOMEM;
    cp_status st = cp_load_summary_add_output(sum, s->h.f->name, where, s->bytes);
    free(where);
    return st;
}

static void part_free(cp_sink *k)
{
    partition_sink *s = (partition_sink *)k;
    drop_all(s);
    free(s->h.location);
    free(s->row_part);
    free(s->order);
    free(s->touched);
    free(s->sub_rows);
    free(s->folders);
    cp_buf_release(&s->path);
}

const char *const *cp_sink_partition_folders(const cp_sink *k, size_t *n)
{
    partition_sink *s = (partition_sink *)k;
    free(s->folders);
    s->folders = calloc(s->nparts + 1, sizeof *s->folders);
    *n = 0;
    for (size_t i = 0; s->folders && i < s->nparts; i++)
        if (s->parts[i]->nfiles)
            s->folders[(*n)++] = s->parts[i]->path;
    return s->folders;
}

const char *const *cp_sink_partition_emptied(const cp_sink *k, size_t *n)
{
    const partition_sink *s = (const partition_sink *)k;
    *n = s->nemptied;
    return (const char *const *)s->emptied;
}

CP_SINK_OPS(partition_ops, part);

cp_status cp_sink_partition_new(const cp_sink_format *f, const cp_sink_load *l, cp_sink **out,
                                cp_error *err)
{
    *out = NULL;
    partition_sink *s = cp_format_sink_new(sizeof *s, &partition_ops, f, l, false, err);
    if (!s)
        return CP_NOMEM;
    s->s3 = cp_location_is_s3(s->h.location);
    cp_buf_init(&s->path, CP_BUF_UNLIMITED);
    if (s->s3 && !l->aws) {
        part_free(&s->h.base);
        free(s);
        return cp_error_set(err, CP_USAGE, "%s: S3 output without AWS configuration",
                            l->o->out_dir);
    }
    if (s->s3) {
        const char *tmp = getenv("TMPDIR");
        cp_file_sink_remove_stale_pid_files(tmp && *tmp ? tmp : "/tmp", "csvpipe-spool-");
    }
    *out = &s->h.base;
    return CP_OK;
}
