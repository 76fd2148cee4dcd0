#include "csv/chunks.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The offset just after the first LF at or after from, or end when there is none. */
static cp_status after_next_lf(cp_chunk_read_fn read, void *ctx, uint64_t from, uint64_t end,
                               uint64_t *out, cp_error *err)
{
    char buf[4096];
    while (from < end) {
        size_t want = end - from < sizeof buf ? (size_t)(end - from) : sizeof buf;
        size_t n;
        CP_RETURN_IF_ERROR(read(ctx, from, buf, want, &n, err));
        if (n == 0)
            break;
        const char *lf = memchr(buf, '\n', n);
        if (lf) {
            *out = from + (uint64_t)(lf - buf) + 1;
            return CP_OK;
        }
        from += n;
    }
    *out = end;
    return CP_OK;
}

cp_status cp_csv_chunk_starts(cp_chunk_read_fn read, void *ctx, uint64_t begin, uint64_t end,
                              uint64_t chunk_bytes, uint64_t *starts, size_t max, size_t *n,
                              cp_error *err)
{
    *n = 0;
    if (max == 0)
        return cp_error_set(err, CP_INTERNAL, "no room for chunk starts");
    starts[(*n)++] = begin;
    if (chunk_bytes == 0)
        return CP_OK;
    for (uint64_t k = 1; *n < max; k++) {
        uint64_t cut = begin + k * chunk_bytes;
        if (cut <= starts[*n - 1])
            continue;
        if (cut >= end)
            break;
        uint64_t s;
        CP_RETURN_IF_ERROR(after_next_lf(read, ctx, cut, end, &s, err));
        if (s >= end)
            break;
        starts[(*n)++] = s;
    }
    return CP_OK;
}

cp_status cp_csv_chunk_read_fd(void *ctx, uint64_t offset, void *buf, size_t cap, size_t *n,
                               cp_error *err)
{
    int fd = *(const int *)ctx;
    *n = 0;
    while (*n < cap) {
        ssize_t r = pread(fd, (char *)buf + *n, cap - *n, (off_t)(offset + *n));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return cp_error_set(err, CP_IO, "read failed: %s", strerror(errno));
        if (r == 0)
            break;
        *n += (size_t)r;
    }
    return CP_OK;
}

cp_chunk_action cp_csv_chunk_action(uint64_t boundary, uint64_t start, uint64_t next,
                                    uint64_t first)
{
    if (boundary >= next)
        return CP_CHUNK_SKIP;
    if (first == boundary && boundary >= start)
        return CP_CHUNK_USE;
    return CP_CHUNK_REPARSE;
}
