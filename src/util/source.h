/*
 * source.h - where the bytes of one input come from: a file, standard input, memory
 * (tests, the sniffer's sample), or later an S3 object.
 *
 * A source reads forward and can be rewound to its start, which the sniff-then-stream
 * design and the widen-and-restart rule need. Standard input cannot seek: it keeps the
 * first `replay` bytes it read in memory and can rewind only while it has not read past
 * them (cp_source_rewind answers CP_USAGE afterwards).
 */
#ifndef CP_SOURCE_H
#define CP_SOURCE_H

#include "util/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cp_source cp_source;

struct cp_source {
    /* Reads up to cap bytes; *n = 0 means the end. */
    cp_status (*read)(cp_source *s, void *buf, size_t cap, size_t *n, cp_error *err);
    cp_status (*rewind)(cp_source *s, cp_error *err);
    void (*close)(cp_source *s);
    char *name;        /* path or URI, for messages; owned */
    int64_t size;      /* total bytes, -1 when unknown */
    uint64_t position; /* bytes read since the last rewind */
};

/* Opens a file for reading; "-" is standard input (replay bytes kept for rewinding). */
cp_source *cp_source_open_file(const char *path, size_t replay, cp_error *err);
/*
 * Opens a file (not standard input) to read from byte offset on; a rewind goes back to
 * offset, and position counts from it. For readers of one part of a file.
 */
cp_source *cp_source_open_file_at(const char *path, uint64_t offset, cp_error *err);
/* The descriptor of a source cp_source_open_file opened on a file (not standard input); -1 else. */
int cp_source_file_fd(const cp_source *s);
/* A source over memory that the caller keeps alive; name is copied. */
cp_source *cp_source_open_memory(const void *data, size_t len, const char *name);

cp_status cp_source_read(cp_source *s, void *buf, size_t cap, size_t *n, cp_error *err);
/* Reads until buf is full or the source ends. */
cp_status cp_source_read_full(cp_source *s, void *buf, size_t cap, size_t *n, cp_error *err);
cp_status cp_source_rewind(cp_source *s, cp_error *err);
/* Closes and frees; NULL allowed. */
void cp_source_free(cp_source *s);

#endif
