/*
 * sink_workers.c - worker threads writing the threaded sinks (sink_workers.h).
 *
 * The batches handed over form one queue of sequence numbers; slot seq % QUEUE holds the
 * batch and how many workers still have to write it. Each worker walks the queue in
 * order, writes the batch to its own sinks and drops its hold; the pipeline's thread
 * waits on those holds before it refills a batch. One mutex guards the queue; the
 * writing runs outside it.
 */
#define _GNU_SOURCE
#include "pipeline/sink_workers.h"
#include "util/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct worker {
    cp_sink_workers *pool;
    pthread_t thread;
    cp_sink *sinks[8];
    size_t nsinks;
    uint64_t next; /* sequence number of the next batch to write */
} worker;

typedef struct slot {
    const cp_batch *b;
    unsigned holds; /* workers that have not written it yet */
} slot;

struct cp_sink_workers {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a batch was handed over, or stop */
    pthread_cond_t done; /* a hold was dropped */
    slot queue[CP_SINK_WORKERS_QUEUE];
    uint64_t produced;
    bool stop;
    bool failed;
    uint64_t failed_seq;
    size_t failed_sink; /* position in the list of the sink that failed */
    cp_error error;
    cp_status status;
    cp_sink *const *list;
    size_t nlist;
    worker *workers;
    unsigned nworkers;
};

static size_t list_index(const cp_sink_workers *w, const cp_sink *k)
{
    for (size_t i = 0; i < w->nlist; i++)
        if (w->list[i] == k)
            return i;
    return w->nlist;
}

static void *work(void *arg)
{
    worker *me = arg;
    cp_sink_workers *w = me->pool;
    char name[16];
    snprintf(name, sizeof name, "csvpipe-enc%u", (unsigned)(me - w->workers) + 1);
    pthread_setname_np(pthread_self(), name);
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (me->next == w->produced && !w->stop)
            pthread_cond_wait(&w->work, &w->mu);
        if (me->next == w->produced)
            break; /* stopped, and everything written */
        slot *s = &w->queue[me->next % CP_SINK_WORKERS_QUEUE];
        const cp_batch *b = s->b;
        bool skip = w->failed;
        pthread_mutex_unlock(&w->mu);
        cp_error err;
        cp_status st = CP_OK;
        size_t i = 0;
        if (!skip) {
            cp_error_clear(&err);
            for (; i < me->nsinks; i++)
                if ((st = me->sinks[i]->ops->write(me->sinks[i], b, &err)) != CP_OK)
                    break;
        }
        pthread_mutex_lock(&w->mu);
        if (st != CP_OK) {
            size_t at = list_index(w, me->sinks[i]);
            if (!w->failed || me->next < w->failed_seq ||
                (me->next == w->failed_seq && at < w->failed_sink)) {
                w->failed = true;
                w->failed_seq = me->next;
                w->failed_sink = at;
                w->status = st;
                w->error = err;
            }
        }
        s->holds--;
        me->next++;
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

unsigned cp_sink_workers_count(const cp_sink_workers *w)
{
    return w ? w->nworkers : 0;
}

bool cp_sink_workers_own(const cp_sink_workers *w, const cp_sink *k)
{
    if (!w)
        return false;
    for (unsigned i = 0; i < w->nworkers; i++)
        for (size_t j = 0; j < w->workers[i].nsinks; j++)
            if (w->workers[i].sinks[j] == k)
                return true;
    return false;
}

static void stop_and_join(cp_sink_workers *w, unsigned started)
{
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(w->workers[i].thread, NULL);
}

static void destroy(cp_sink_workers *w)
{
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->done);
    pthread_mutex_destroy(&w->mu);
    free(w->workers);
    free(w);
}

cp_status cp_sink_workers_new(cp_sink *const *sinks, size_t nsinks, unsigned nworkers,
                              cp_sink_workers **out, cp_error *err)
{
    *out = NULL;
    size_t nthreaded = 0;
    for (size_t i = 0; i < nsinks; i++)
        nthreaded += sinks[i]->threaded && !sinks[i]->deferred;
    if (nworkers > nthreaded)
        nworkers = (unsigned)nthreaded;
    if (nworkers == 0)
        return CP_OK;
    cp_sink_workers *w = calloc(1, sizeof *w);
    if (!w || !(w->workers = calloc(nworkers, sizeof *w->workers))) {
        free(w);
        return cp_error_set(err, CP_NOMEM, "out of memory");
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->done, NULL);
    w->list = sinks;
    w->nlist = nsinks;
    w->nworkers = nworkers;
    size_t t = 0;
    for (size_t i = 0; i < nsinks; i++) {
        if (!sinks[i]->threaded || sinks[i]->deferred)
            continue;
        worker *me = &w->workers[t++ % nworkers];
        if (me->nsinks == sizeof me->sinks / sizeof me->sinks[0])
            continue; /* more file formats than a worker holds: the pipeline writes it */
        me->sinks[me->nsinks++] = sinks[i];
    }
    for (unsigned i = 0; i < nworkers; i++) {
        w->workers[i].pool = w;
        int rc = pthread_create(&w->workers[i].thread, NULL, work, &w->workers[i]);
        if (rc != 0) {
            stop_and_join(w, i);
            destroy(w);
            return cp_error_set(err, CP_NOMEM, "cannot start a worker thread: %s", strerror(rc));
        }
    }
    cp_log_debug("started %u sink worker thread%s", nworkers, nworkers == 1 ? "" : "s");
    *out = w;
    return CP_OK;
}

static cp_status failure(cp_sink_workers *w, cp_error *err)
{
    if (err)
        *err = w->error;
    return w->status;
}

cp_status cp_sink_workers_write(cp_sink_workers *w, const cp_batch *b, cp_error *err)
{
    pthread_mutex_lock(&w->mu);
    slot *s = &w->queue[w->produced % CP_SINK_WORKERS_QUEUE];
    while (s->holds && !w->failed)
        pthread_cond_wait(&w->done, &w->mu);
    cp_status st = CP_OK;
    if (w->failed) {
        st = failure(w, err);
    } else {
        s->b = b;
        s->holds = w->nworkers;
        w->produced++;
        pthread_cond_broadcast(&w->work);
    }
    pthread_mutex_unlock(&w->mu);
    return st;
}

static bool held(const cp_sink_workers *w, const cp_batch *b)
{
    for (size_t i = 0; i < CP_SINK_WORKERS_QUEUE; i++)
        if (w->queue[i].holds && w->queue[i].b == b)
            return true;
    return false;
}

void cp_sink_workers_wait(cp_sink_workers *w, const cp_batch *b)
{
    pthread_mutex_lock(&w->mu);
    while (held(w, b))
        pthread_cond_wait(&w->done, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static bool all_written(const cp_sink_workers *w)
{
    for (unsigned i = 0; i < w->nworkers; i++)
        if (w->workers[i].next != w->produced)
            return false;
    return true;
}

cp_status cp_sink_workers_drain(cp_sink_workers *w, cp_error *err)
{
    pthread_mutex_lock(&w->mu);
    while (!all_written(w))
        pthread_cond_wait(&w->done, &w->mu);
    cp_status st = w->failed ? failure(w, err) : CP_OK;
    pthread_mutex_unlock(&w->mu);
    return st;
}

uint64_t cp_sink_workers_failed_batch(const cp_sink_workers *w)
{
    return w->failed_seq;
}

void cp_sink_workers_clear_error(cp_sink_workers *w)
{
    pthread_mutex_lock(&w->mu);
    w->failed = false;
    w->status = CP_OK;
    pthread_mutex_unlock(&w->mu);
}

void cp_sink_workers_free(cp_sink_workers *w)
{
    if (!w)
        return;
    stop_and_join(w, w->nworkers);
    destroy(w);
}
