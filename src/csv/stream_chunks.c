#include "csv/stream_chunks.h"

#include "csv/chunks.h"
#include "csv/stream_internal.h"
#include "util/array.h"
#include "util/log.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * A chunk's parse is a list of slots: a batch of its rows and the rows it rejected, each
 * reject placed before the row of the batch it came before. Lines are the chunk's own
 * (1 where its parse started); the consumer adds the lines before.
 */
typedef struct reject {
    size_t before; /* rows of the slot's batch appended before it */
    uint64_t line;
    cp_error why;
    char *text;
    size_t text_len;
} reject;

typedef struct slot {
    cp_batch b;
    reject *rej;
    size_t nrej, caprej;
    struct slot *next;
} slot;

typedef enum end_kind {
    END_EOF,      /* the file ended */
    END_BOUNDARY, /* a row starts at or after the end of the chunk: end_offset */
    END_WIDEN,    /* the row at end_offset does not fit its column's type */
    END_ERROR,    /* the row at end_offset ends the file: error */
    END_STOPPED,  /* the consumer or a cancel stopped it */
} end_kind;

typedef struct result {
    slot *head, *tail;
    uint64_t first, first_line; /* offset and line of the first row (or failure) */
    end_kind end;
    uint64_t end_offset, end_line;
    cp_error error;
    uint64_t repeated; /* rows dropped for repeating the header */
    cp_encoding encoding;
    bool done;
} result;

typedef struct shared {
    const char *path;
    const cp_schema *schema;
    cp_dialect dialect; /* repeats_header off: the parse drops repeats itself */
    bool repeats_header;
    const cp_value_opts *vo;
    const cp_tokenizer_options *limits;
    const cp_csv_reader *like; /* holds the header */
    size_t batch_rows, batch_bytes, max_row;
    bool forced, detected;
    uint64_t size;
    int fd;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    const uint64_t *starts;
    size_t nchunks;
    result *results;
    size_t next_job;  /* the next chunk a worker takes */
    size_t consuming; /* the chunk the consumer is at; workers stay below it + window */
    size_t window;
    bool cancel;
    slot *free_slots;
} shared;

static slot *get_slot(shared *sh)
{
    pthread_mutex_lock(&sh->mu);
    slot *s = sh->free_slots;
    if (s)
        sh->free_slots = s->next;
    pthread_mutex_unlock(&sh->mu);
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            return NULL;
        if (cp_batch_init(&s->b, sh->schema, sh->batch_rows, sh->batch_bytes, sh->max_row) !=
            CP_OK) {
            free(s);
            return NULL;
        }
    }
    s->next = NULL;
    cp_batch_clear(&s->b, 1);
    return s;
}

static void put_slot(shared *sh, slot *s)
{
    for (size_t i = 0; i < s->nrej; i++)
        free(s->rej[i].text);
    s->nrej = 0;
    pthread_mutex_lock(&sh->mu);
    s->next = sh->free_slots;
    sh->free_slots = s;
    pthread_mutex_unlock(&sh->mu);
}

static void free_slots(slot *s)
{
    while (s) {
        slot *n = s->next;
        for (size_t i = 0; i < s->nrej; i++)
            free(s->rej[i].text);
        free(s->rej);
        cp_batch_release(&s->b);
        free(s);
        s = n;
    }
}

static void drop_result(shared *sh, result *res)
{
    while (res->head) {
        slot *n = res->head->next;
        put_slot(sh, res->head);
        res->head = n;
    }
    res->tail = NULL;
}

static cp_status add_reject(slot *s, const cp_row *row, const cp_error *why)
{
    reject *grown = cp_array_room(s->rej, s->nrej, &s->caprej, sizeof *grown);
    if (!grown)
        return CP_NOMEM;
    s->rej = grown;
    reject *j = &s->rej[s->nrej];
    j->text = malloc(row->text_len ? row->text_len : 1);
    if (!j->text)
        return CP_NOMEM;
    if (row->text_len)
        memcpy(j->text, row->text, row->text_len);
    j->text_len = row->text_len;
    j->before = s->b.nrows;
    j->line = row->line;
    j->why = *why;
    s->nrej++;
    return CP_OK;
}

/* Hands a full slot on: to the chunk's list, or straight to the consumer. */
typedef cp_status (*emit_fn)(void *ctx, slot *s);

static cp_status append_slot(void *ctx, slot *s)
{
    result *res = ctx;
    if (res->tail)
        res->tail->next = s;
    else
        res->head = s;
    res->tail = s;
    return CP_OK;
}

/*
 * The file from start on, read with pread on the descriptor the whole load shares: every
 * thread reads the file the load opened, whatever is renamed over its path meanwhile.
 */
typedef struct fd_source {
    cp_source base;
    int fd;
    uint64_t start;
} fd_source;

static cp_status fd_read(cp_source *s, void *buf, size_t cap, size_t *n, cp_error *err)
{
    fd_source *f = (fd_source *)s;
    int fd = f->fd;
    cp_error e;
    cp_error_clear(&e);
    if (cp_csv_chunk_read_fd(&fd, f->start + s->position, buf, cap, n, &e) != CP_OK)
        return cp_error_set(err, CP_IO, "%s: %s", s->name, e.message);
    s->position += *n;
    return CP_OK;
}

static cp_status fd_rewind(cp_source *s, cp_error *err)
{
    (void)err;
    s->position = 0;
    return CP_OK;
}

static void fd_close(cp_source *s)
{
    (void)s;
}

static cp_source *open_at(const shared *sh, uint64_t start, cp_error *err)
{
    fd_source *f = calloc(1, sizeof *f);
    char *name = strdup(sh->path);
    if (!f || !name) {
        free(f);
        free(name);
        cp_error_set(err, CP_NOMEM, "out of memory");
        return NULL;
    }
    f->base.read = fd_read;
    f->base.rewind = fd_rewind;
    f->base.close = fd_close;
    f->base.name = name;
    f->base.size = (int64_t)sh->size;
    f->fd = sh->fd;
    f->start = start;
    return &f->base;
}

/*
 * Parses the rows that start in [start, end) of the file with the decoder in state dec,
 * into slots handed to emit, and says in res how it ended. With learn (the types, for a
 * parse that runs to the end of the file on the consumer), a row that does not fit is
 * followed by the reading of the rest of the file that learns how far to widen, as
 * cp_csv_stream does.
 */
static void parse(shared *sh, uint64_t start, uint64_t end, const cp_decoder *dec, cp_type *learn,
                  result *res, emit_fn emit, void *ectx)
{
    memset(res, 0, sizeof *res);
    res->first = UINT64_MAX;
    res->end = END_ERROR;
    res->end_offset = start;
    res->end_line = 1;
    res->encoding = dec->enc;
    cp_source *src = open_at(sh, start, &res->error);
    if (!src)
        return;
    cp_csv_reader r;
    if (cp_csv_reader_open_at(&r, src, &sh->dialect, dec, sh->like, sh->limits, &res->error) !=
        CP_OK) {
        cp_source_free(src);
        return;
    }
    slot *s = get_slot(sh);
    if (!s)
        cp_error_set(&res->error, CP_NOMEM, "out of memory for a batch of rows");
    bool have_first = false;
    while (s) {
        cp_row row;
        cp_error rowerr;
        cp_error_reset(&rowerr);
        cp_status st = cp_csv_reader_next(&r, &row, &rowerr);
        const bool has_row = st == CP_OK || st == CP_BAD_QUOTE;
        const bool at_eof = st == CP_OK && row.nfields == 0;
        uint64_t off = start + (has_row ? row.offset : cp_tokenizer_offset(r.tok));
        uint64_t line = has_row ? row.line : cp_tokenizer_line(r.tok);
        if (at_eof)
            off = sh->size;
        if (!have_first) {
            res->first = off;
            res->first_line = line;
            have_first = true;
        }
        res->end_offset = off;
        res->end_line = line;
        if (at_eof) {
            res->end = END_EOF;
            break;
        }
        if (off >= end) {
            res->end = END_BOUNDARY;
            break;
        }
        if (st == CP_OK && sh->repeats_header && cp_csv_reader_drop_repeat(&r, &row))
            continue;
        if (st == CP_BAD_QUOTE) {
            if (add_reject(s, &row, &rowerr) != CP_OK)
                goto nomem;
            continue;
        }
        if (st != CP_OK) {
            res->error = rowerr;
            break;
        }
        st = cp_batch_append_row(&s->b, row.fields, row.nfields, sh->vo, &rowerr);
        if (st == CP_TYPE_MISMATCH && cp_csv_reader_drop_repeat(&r, &row))
            continue; /* the header again, past the sample */
        long misfit;
        if (st == CP_TYPE_MISMATCH && sh->forced &&
            (misfit = cp_stream_forced_misfit(sh->schema, &row, sh->vo)) >= 0) {
            cp_stream_forced_reason(&rowerr, sh->schema, &row, (size_t)misfit);
            if (add_reject(s, &row, &rowerr) != CP_OK)
                goto nomem;
            continue;
        }
        if (st == CP_TYPE_MISMATCH) {
            res->end = END_WIDEN;
            if (learn) {
                cp_stream_widen_for_row(learn, sh->schema, &row, sh->vo, sh->forced);
                if (cp_stream_learn_widening(&r, learn, sh->schema, sh->vo, sh->forced,
                                             &res->error) != CP_OK)
                    res->end = END_ERROR;
            }
            break;
        }
        if (st == CP_TOO_MANY_FIELDS || st == CP_TOO_LARGE) {
            rowerr.line = row.line;
            if (add_reject(s, &row, &rowerr) != CP_OK)
                goto nomem;
            continue;
        }
        if (st != CP_OK) {
            if (!rowerr.line)
                rowerr.line = row.line;
            res->error = rowerr;
            break;
        }
        if (cp_batch_full(&s->b)) {
            if (__atomic_load_n(&sh->cancel, __ATOMIC_RELAXED)) {
                put_slot(sh, s);
                s = NULL;
                res->end = END_STOPPED;
                break;
            }
            cp_status e = emit(ectx, s); /* emit owns the slot now */
            s = NULL;
            if (e != CP_OK) {
                res->end = END_STOPPED;
                break;
            }
            if (!(s = get_slot(sh)))
                goto nomem;
        }
        continue;
    nomem:
        res->end = END_ERROR;
        cp_error_set(&res->error, CP_NOMEM, "out of memory");
        break;
    }
    if (s && res->end != END_STOPPED && (s->b.nrows || s->nrej)) {
        if (emit(ectx, s) != CP_OK)
            res->end = END_STOPPED;
    } else if (s) {
        put_slot(sh, s);
    }
    res->repeated = r.repeated_headers;
    res->encoding = cp_csv_reader_encoding(&r);
    cp_csv_reader_close(&r);
    cp_source_free(src);
}

static void *worker(void *arg)
{
    shared *sh = arg;
    pthread_mutex_lock(&sh->mu);
    for (;;) {
        while (!sh->cancel && sh->next_job < sh->nchunks &&
               sh->next_job >= sh->consuming + sh->window)
            pthread_cond_wait(&sh->cv, &sh->mu);
        if (sh->cancel || sh->next_job >= sh->nchunks)
            break;
        size_t k = sh->next_job++;
        pthread_mutex_unlock(&sh->mu);
        cp_decoder d;
        cp_decoder_init(&d, CP_ENC_UTF8, false);
        d.at_start = false;
        d.offset = sh->starts[k];
        uint64_t end = k + 1 < sh->nchunks ? sh->starts[k + 1] : UINT64_MAX;
        result res;
        parse(sh, sh->starts[k], end, &d, NULL, &res, append_slot, &res);
        pthread_mutex_lock(&sh->mu);
        sh->results[k] = res;
        sh->results[k].done = true;
        pthread_cond_broadcast(&sh->cv);
    }
    pthread_mutex_unlock(&sh->mu);
    return NULL;
}

/* The decoder of one thread at offset at: for a detected UTF-8, ASCII so far or not. */
static cp_status exact_decoder(shared *sh, uint64_t at, cp_decoder *d, cp_error *err)
{
    cp_decoder_init(d, CP_ENC_UTF8, sh->detected);
    d->at_start = false;
    d->offset = at;
    if (!sh->detected)
        return CP_OK;
    uint8_t buf[1 << 16];
    for (uint64_t off = 0; off < at;) {
        size_t want = at - off < sizeof buf ? (size_t)(at - off) : sizeof buf, n;
        CP_RETURN_IF_ERROR(cp_csv_chunk_read_fd(&sh->fd, off, buf, want, &n, err));
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++)
            if (buf[i] & 0x80) {
                d->ascii_only = false;
                return CP_OK;
            }
        off += n;
    }
    return CP_OK;
}

typedef struct consumer {
    shared *sh;
    const cp_stream_callbacks *cb;
    cp_stream_stats *stats;
    cp_error *err;
    const char *name;
    cp_batch ring[CP_STREAM_MAX_BATCHES];
    size_t nring, nmade, cur;
    size_t batches_memory; /* cp_stream_options.batches_memory */
    cp_batch *b;
    uint64_t delta; /* lines before the parse being handed over */
    cp_status stop; /* what stopped a parse handing over on this thread */
    uint64_t repeated;
    cp_encoding encoding;
    size_t reparsed;
} consumer;

/* Adds delta to err's line, and to the "line N" its message starts with. */
static void relocate(cp_error *e, uint64_t delta)
{
    if (!delta)
        return;
    if (e->line)
        e->line += delta;
    const char *m = e->message;
    if (strncmp(m, "line ", 5) != 0 || m[5] < '0' || m[5] > '9')
        return;
    char *rest;
    unsigned long long n = strtoull(m + 5, &rest, 10);
    char tmp[sizeof e->message];
    snprintf(tmp, sizeof tmp, "line %llu%s", n + (unsigned long long)delta, rest);
    memcpy(e->message, tmp, sizeof tmp);
}

static cp_status flush(consumer *c)
{
    const cp_stream_callbacks *cb = c->cb;
    shared *sh = c->sh;
    cp_status st;
    if (cb->on_batch && (st = cb->on_batch(cb->ctx, c->b, c->err)) != CP_OK)
        return st;
    if (cb->on_reuse) {
        c->cur = (c->cur + 1) % c->nring;
        if (c->cur == c->nmade && !cp_stream_ring_grows(c->ring, c->nmade, c->batches_memory)) {
            c->nring = c->nmade;
            c->cur = 0;
        }
        if (c->cur == c->nmade) {
            if ((st = cp_batch_init(&c->ring[c->cur], sh->schema, sh->batch_rows, sh->batch_bytes,
                                    sh->max_row)) != CP_OK)
                return cp_error_set(c->err, st, "cannot allocate a batch");
            c->nmade++;
        } else {
            cb->on_reuse(cb->ctx, &c->ring[c->cur]);
        }
        c->b = &c->ring[c->cur];
    }
    cp_batch_clear(c->b, c->stats->rows + 1);
    return CP_OK;
}

static cp_status hand_reject(consumer *c, const reject *j)
{
    cp_row row;
    memset(&row, 0, sizeof row);
    row.line = j->line + c->delta;
    row.text = j->text;
    row.text_len = j->text_len;
    cp_error why = j->why;
    relocate(&why, c->delta);
    c->stats->rejected++;
    return c->cb->on_reject ? c->cb->on_reject(c->cb->ctx, &row, &why, c->err) : CP_OK;
}

/* The rows and rejects of a slot, in their order, into the batches of one thread. */
static cp_status deliver(consumer *c, const slot *s)
{
    size_t ri = 0;
    for (size_t i = 0; i < s->b.nrows; i++) {
        for (; ri < s->nrej && s->rej[ri].before == i; ri++)
            CP_RETURN_IF_ERROR(hand_reject(c, &s->rej[ri]));
        cp_status st = cp_batch_append_from(c->b, &s->b, i, NULL);
        if (st != CP_OK)
            return cp_error_set(c->err, st, "%s: %s", c->name,
                                st == CP_NOMEM ? "out of memory" : "a row too large for one batch");
        c->stats->rows++;
        if (cp_batch_full(c->b))
            CP_RETURN_IF_ERROR(flush(c));
    }
    for (; ri < s->nrej; ri++)
        CP_RETURN_IF_ERROR(hand_reject(c, &s->rej[ri]));
    return CP_OK;
}

static cp_status deliver_emit(void *ctx, slot *s)
{
    consumer *c = ctx;
    cp_status st = deliver(c, s);
    put_slot(c->sh, s);
    if (st != CP_OK)
        c->stop = st;
    return st;
}

static cp_status end_error(consumer *c, const result *res)
{
    if (res->end == END_STOPPED)
        return c->stop != CP_OK ? c->stop : cp_error_set(c->err, CP_INTERNAL, "stopped");
    if (c->err) {
        *c->err = res->error;
        relocate(c->err, c->delta);
        cp_stream_name_error(c->err, c->name);
    }
    return res->error.code != CP_OK ? res->error.code : CP_INTERNAL;
}

/* Reads the file from the row at offset at (whose line is delta + 1) to learn the types. */
static cp_status learn_from(consumer *c, uint64_t at, cp_type *types)
{
    shared *sh = c->sh;
    cp_decoder d;
    CP_RETURN_IF_ERROR(exact_decoder(sh, at, &d, c->err));
    cp_source *src = open_at(sh, at, c->err);
    if (!src)
        return c->err ? c->err->code : CP_IO;
    cp_dialect dialect = sh->dialect;
    dialect.repeats_header = sh->repeats_header;
    cp_csv_reader r;
    cp_status st = cp_csv_reader_open_at(&r, src, &dialect, &d, sh->like, sh->limits, c->err);
    if (st == CP_OK) {
        cp_error e;
        cp_error_clear(&e);
        st = cp_stream_learn_widening(&r, types, sh->schema, sh->vo, sh->forced, &e);
        if (st != CP_OK && c->err) {
            *c->err = e;
            relocate(c->err, c->delta);
            cp_stream_name_error(c->err, c->name);
        }
        cp_csv_reader_close(&r);
    }
    cp_source_free(src);
    return st;
}

static void set_consuming(shared *sh, size_t k)
{
    pthread_mutex_lock(&sh->mu);
    sh->consuming = k;
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
}

/*
 * One pass over the file: the chunks parsed on the workers, taken in order. *widen: a row
 * did not fit, and types holds the widened types.
 */
static cp_status run_pass(consumer *c, unsigned nthreads, uint64_t first_line, bool *widen,
                          cp_type *types)
{
    shared *sh = c->sh;
    *widen = false;
    sh->next_job = sh->consuming = 0;
    __atomic_store_n(&sh->cancel, false, __ATOMIC_RELAXED);
    memset(sh->results, 0, sh->nchunks * sizeof *sh->results);
    pthread_t th[CP_CHUNK_MAX_THREADS];
    unsigned nth = 0;
    for (; nth < nthreads && nth < sh->nchunks; nth++)
        if (pthread_create(&th[nth], NULL, worker, sh) != 0)
            break;
    cp_status st = CP_OK;
    if (nth == 0)
        st = cp_error_set(c->err, CP_NOMEM, "cannot start a thread");
    uint64_t R = sh->starts[0], Rline = first_line; /* the true boundary and its line */
    enum { GO, DONE, LEARN, TAIL } next_step = GO;
    uint64_t at = 0;
    for (size_t k = 0; st == CP_OK && next_step == GO && k < sh->nchunks; k++) {
        pthread_mutex_lock(&sh->mu);
        while (!sh->results[k].done)
            pthread_cond_wait(&sh->cv, &sh->mu);
        pthread_mutex_unlock(&sh->mu);
        result *res = &sh->results[k], again;
        const uint64_t next = k + 1 < sh->nchunks ? sh->starts[k + 1] : UINT64_MAX;
        const cp_chunk_action a = cp_csv_chunk_action(R, sh->starts[k], next, res->first);
        if (a == CP_CHUNK_SKIP) {
            drop_result(sh, res);
            set_consuming(sh, k + 1);
            continue;
        }
        if (a == CP_CHUNK_USE) {
            c->delta = Rline - res->first_line;
            for (const slot *s = res->head; s && st == CP_OK; s = s->next)
                st = deliver(c, s);
            drop_result(sh, res);
        } else {
            drop_result(sh, res);
            cp_decoder d;
            cp_decoder_init(&d, CP_ENC_UTF8, false);
            d.at_start = false;
            d.offset = R;
            c->delta = Rline - 1;
            c->stop = CP_OK;
            c->reparsed++;
            parse(sh, R, next, &d, NULL, &again, deliver_emit, c);
            res = &again;
        }
        set_consuming(sh, k + 1);
        if (st != CP_OK)
            break;
        c->repeated += res->repeated;
        switch (res->end) {
        case END_BOUNDARY:
            R = c->stats->reached = res->end_offset;
            Rline = res->end_line + c->delta;
            break;
        case END_EOF:
            next_step = DONE;
            break;
        case END_WIDEN:
            next_step = LEARN;
            at = res->end_offset;
            c->delta += res->end_line - 1;
            break;
        case END_ERROR:
            if (res->error.code == CP_BAD_ENCODING && sh->detected) {
                next_step = TAIL;
                at = res->end_offset;
                c->delta += res->end_line - 1;
                break;
            }
            /* fall through */
        case END_STOPPED:
            st = end_error(c, res);
            break;
        }
    }
    pthread_mutex_lock(&sh->mu);
    __atomic_store_n(&sh->cancel, true, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    for (unsigned i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    /* the workers are gone: the tail below parses on this thread, and must not stop */
    __atomic_store_n(&sh->cancel, false, __ATOMIC_RELAXED);
    for (size_t k = 0; k < sh->nchunks; k++)
        drop_result(sh, &sh->results[k]);
    if (st != CP_OK)
        return st;
    if (next_step == LEARN) {
        *widen = true;
        return learn_from(c, at, types);
    }
    if (next_step == TAIL) {
        /* a detected UTF-8 with an invalid byte: on from its row as one thread reads it */
        cp_decoder d;
        CP_RETURN_IF_ERROR(exact_decoder(sh, at, &d, c->err));
        result tail;
        c->stop = CP_OK;
        parse(sh, at, UINT64_MAX, &d, types, &tail, deliver_emit, c);
        c->encoding = tail.encoding;
        c->repeated += tail.repeated;
        if (tail.end == END_WIDEN) {
            *widen = true;
            return CP_OK;
        }
        if (tail.end != END_EOF)
            return end_error(c, &tail);
        next_step = DONE;
    }
    if (next_step != DONE)
        return cp_error_set(c->err, CP_INTERNAL, "%s: the chunks ended before the file", c->name);
    if (c->b->nrows > 0 && c->cb->on_batch)
        return c->cb->on_batch(c->cb->ctx, c->b, c->err);
    return CP_OK;
}

/* Whether the file can be read in chunks: a local, uncompressed UTF-8 file without BOM. */
static bool fits(const char *path, const cp_source *src, const cp_sniff_result *sniffed,
                 const cp_chunk_options *co, const cp_stream_callbacks *cb, int *fd, uint64_t *size)
{
    *fd = -1;
    if (!co || co->threads <= 1 || cb->on_row || !path || strcmp(path, "-") == 0 ||
        cp_decompress_kind(src) != CP_COMPRESSION_NONE ||
        sniffed->dialect.encoding != CP_ENC_UTF8 || src->size <= 0)
        return false;
    /* the descriptor of src itself: the chunks are of the file the header came from */
    const int sfd = cp_source_file_fd(cp_decompress_inner(src));
    *fd = sfd >= 0 ? fcntl(sfd, F_DUPFD_CLOEXEC, 0) : -1;
    struct stat st;
    unsigned char bom[3];
    size_t n = 0;
    if (*fd < 0 || fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != src->size ||
        cp_csv_chunk_read_fd(fd, 0, bom, sizeof bom, &n, NULL) != CP_OK ||
        (n == 3 && bom[0] == 0xEF && bom[1] == 0xBB && bom[2] == 0xBF)) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        return false;
    }
    *size = (uint64_t)st.st_size;
    return true;
}

cp_status cp_csv_stream_chunks(const char *path, cp_source *src, cp_sniff_result *sniffed,
                               const cp_csv_options *opts, const cp_stream_options *so,
                               const cp_chunk_options *co, const cp_stream_callbacks *cb,
                               cp_stream_stats *stats, bool *chunked, cp_error *err)
{
    if (chunked)
        *chunked = false;
    shared sh;
    memset(&sh, 0, sizeof sh);
    if (!fits(path, src, sniffed, co, cb, &sh.fd, &sh.size))
        return cp_csv_stream(src, sniffed, opts, so, cb, stats, err);
    cp_stream_options defaults = {cp_stream_batch_rows(&sniffed->schema), (size_t)16 << 20, 3, 1,
                                  0};
    if (!so)
        so = &defaults;
    cp_tokenizer_options limits;
    if (opts)
        limits = opts->limits;
    else
        cp_tokenizer_options_default(&limits);
    cp_schema *schema = &sniffed->schema;
    sh.path = path;
    sh.schema = schema;
    sh.dialect = sniffed->dialect;
    sh.repeats_header = sh.dialect.repeats_header;
    sh.dialect.repeats_header = false;
    sh.vo = &sniffed->dialect.values;
    sh.limits = &limits;
    sh.batch_rows = so->batch_rows ? so->batch_rows : defaults.batch_rows;
    sh.batch_bytes = so->batch_bytes ? so->batch_bytes : defaults.batch_bytes;
    sh.max_row = limits.max_row_bytes ? limits.max_row_bytes : limits.max_field_bytes * 4;
    sh.forced = cp_stream_any_forced(schema);
    sh.detected = sniffed->encoding_detected;
    const unsigned max_restarts = so->max_restarts ? so->max_restarts : defaults.max_restarts;
    unsigned nthreads = co->threads < CP_CHUNK_MAX_THREADS ? co->threads : CP_CHUNK_MAX_THREADS;
    uint64_t chunk_bytes = co->chunk_bytes ? co->chunk_bytes : CP_CHUNK_BYTES;
    if (chunk_bytes < CP_CHUNK_MIN_BYTES)
        chunk_bytes = CP_CHUNK_MIN_BYTES;

    /* the header, and where the data starts, as one thread reads them */
    cp_csv_reader r0;
    cp_row first;
    cp_error e0;
    cp_error_clear(&e0);
    cp_status st =
        cp_csv_reader_open(&r0, src, &sniffed->dialect, sniffed->encoding_detected, &limits, &e0);
    if (st == CP_OK) {
        st = cp_csv_reader_next(&r0, &first, &e0);
        if (st != CP_OK || first.nfields == 0 || cp_csv_reader_encoding(&r0) != CP_ENC_UTF8)
            st = CP_EMPTY; /* not for chunks: one thread reads it */
        if (st != CP_OK)
            cp_csv_reader_close(&r0);
    }
    size_t max = (size_t)(sh.size / chunk_bytes) + 2;
    uint64_t *starts = st == CP_OK ? malloc(max * sizeof *starts) : NULL;
    if (st == CP_OK && (!starts ||
                        cp_csv_chunk_starts(cp_csv_chunk_read_fd, &sh.fd, first.offset, sh.size,
                                            chunk_bytes, starts, max, &sh.nchunks, &e0) != CP_OK ||
                        sh.nchunks < 2)) {
        st = CP_EMPTY; /* not for chunks: one thread reads it */
        cp_csv_reader_close(&r0);
    }
    if (st != CP_OK) {
        free(starts);
        close(sh.fd);
        return cp_csv_stream(src, sniffed, opts, so, cb, stats, err);
    }
    if (chunked)
        *chunked = true;
    cp_log_debug("%s: %zu chunks of about %" PRIu64 " bytes, parsed on %u threads", src->name,
                 sh.nchunks, chunk_bytes, nthreads);
    sh.starts = starts;
    sh.like = &r0;
    sh.window = nthreads + 1;
    sh.results = calloc(sh.nchunks, sizeof *sh.results);
    pthread_mutex_init(&sh.mu, NULL);
    pthread_cond_init(&sh.cv, NULL);
    memset(stats, 0, sizeof *stats);
    const uint64_t first_line = first.line;
    cp_type *types = calloc(schema->ncolumns + 1, sizeof *types);
    if (!sh.results || !types)
        st = cp_error_set(err, CP_NOMEM, "out of memory");
    while (st == CP_OK) {
        consumer c;
        memset(&c, 0, sizeof c);
        c.sh = &sh;
        c.cb = cb;
        c.stats = stats;
        c.err = err;
        c.name = src->name;
        c.encoding = CP_ENC_UTF8;
        c.nring = so->batches && cb->on_reuse ? so->batches : 1;
        c.batches_memory = so->batches_memory;
        if (c.nring > CP_STREAM_MAX_BATCHES)
            c.nring = CP_STREAM_MAX_BATCHES;
        for (size_t i = 0; i < schema->ncolumns; i++)
            types[i] = schema->columns[i].type;
        if ((st = cp_batch_init(&c.ring[0], schema, sh.batch_rows, sh.batch_bytes, sh.max_row)) !=
            CP_OK) {
            cp_error_set(err, st,
                         st == CP_NOMEM ? "out of memory for a batch of rows"
                                        : "cannot allocate a batch of rows");
            break;
        }
        c.nmade = 1;
        c.b = &c.ring[0];
        cp_batch_clear(c.b, 1);
        stats->rows = stats->rejected = stats->reached = 0;
        bool widen = false;
        st = run_pass(&c, nthreads, first_line, &widen, types);
        stats->bytes = sh.size;
        stats->compression = CP_COMPRESSION_NONE;
        stats->encoding = c.encoding;
        stats->repeated_headers = r0.repeated_headers + c.repeated;
        stats->line_ending = sniffed->dialect.line_ending;
        for (size_t i = 0; i < c.nmade; i++) {
            if (cb->on_reuse)
                cb->on_reuse(cb->ctx, &c.ring[i]);
            cp_batch_release(&c.ring[i]);
        }
        free_slots(sh.free_slots); /* their columns are of this pass's types */
        sh.free_slots = NULL;
        if (c.reparsed)
            cp_log_debug("%s: %zu chunks parsed again from their true start", src->name,
                         c.reparsed);
        if (!widen || st != CP_OK)
            break;
        if (stats->restarts >= max_restarts) {
            st = cp_error_set(err, CP_TYPE_MISMATCH,
                              "%s: the column types kept changing after %u restarts", src->name,
                              stats->restarts);
            break;
        }
        stats->restarts++;
        for (size_t i = 0; i < schema->ncolumns; i++)
            schema->columns[i].type = types[i];
        if (cb->on_restart && (st = cb->on_restart(cb->ctx, schema, err)) != CP_OK)
            break;
    }
    free(types);
    free_slots(sh.free_slots);
    free(sh.results);
    pthread_mutex_destroy(&sh.mu);
    pthread_cond_destroy(&sh.cv);
    cp_csv_reader_close(&r0);
    free(starts);
    close(sh.fd);
    return st;
}
