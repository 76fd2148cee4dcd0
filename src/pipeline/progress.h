/*
 * progress.h - a progress bar on stderr for long loads: bytes and rows done, rate and
 * time left. Drawn only on a terminal, at most five times a second, and only once a load
 * has run for a second; erased when done.
 */
#ifndef CP_PROGRESS_H
#define CP_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cp_progress {
    bool enabled;
    bool drawn;
    const char *label;
    double start_ms, last_ms;
    uint64_t bytes_read; /* updated by the caller through the source position */
} cp_progress;

/* enabled: the caller wants it; it is still off when stderr is not a terminal. */
void cp_progress_init(cp_progress *p, bool enabled, const char *label);
/* total_bytes: -1 when unknown. bytes: read so far. */
void cp_progress_update_bytes(cp_progress *p, uint64_t bytes, int64_t total_bytes, uint64_t rows);
void cp_progress_done(cp_progress *p);

#endif
