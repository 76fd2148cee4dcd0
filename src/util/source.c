#include "util/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct file_source {
    cp_source base;
    int fd;
    off_t start; /* where a rewind goes back to */
    bool is_stdin;
    /* standard input only: the first bytes, kept to replay after a rewind */
    unsigned char *replay;
    size_t replay_cap, replay_len, replay_pos;
    bool replaying, past_replay;
} file_source;

static cp_status file_read(cp_source *s, void *buf, size_t cap, size_t *n, cp_error *err)
{
    file_source *f = (file_source *)s;
    *n = 0;
    if (f->replaying) {
        size_t left = f->replay_len - f->replay_pos;
        if (left > 0) {
            size_t k = left < cap ? left : cap;
            memcpy(buf, f->replay + f->replay_pos, k);
            f->replay_pos += k;
            *n = k;
            s->position += k;
            return CP_OK;
        }
        f->replaying = false;
    }
    for (;;) {
        ssize_t r = read(f->fd, buf, cap);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return cp_error_set(err, CP_IO, "%s: read failed: %s", s->name, strerror(errno));
        *n = (size_t)r;
        break;
    }
    if (f->is_stdin && *n > 0 && !f->past_replay) {
        size_t room = f->replay_cap - f->replay_len;
        if (*n <= room) {
            memcpy(f->replay + f->replay_len, buf, *n);
            f->replay_len += *n;
            f->replay_pos = f->replay_len;
        } else {
            f->past_replay = true;
        }
    }
    s->position += *n;
    return CP_OK;
}

static cp_status file_rewind(cp_source *s, cp_error *err)
{
    file_source *f = (file_source *)s;
    if (f->is_stdin) {
        if (f->past_replay)
            return cp_error_set(err, CP_USAGE,
                                "%s: standard input cannot be read twice past its first %zu "
                                "bytes; save it to a file first",
                                s->name, f->replay_cap);
        f->replaying = true;
        f->replay_pos = 0;
        s->position = 0;
        return CP_OK;
    }
    if (lseek(f->fd, f->start, SEEK_SET) < 0)
        return cp_error_set(err, CP_IO, "%s: cannot seek: %s", s->name, strerror(errno));
    s->position = 0;
    return CP_OK;
}

static void file_close(cp_source *s)
{
    file_source *f = (file_source *)s;
    if (!f->is_stdin && f->fd >= 0)
        close(f->fd);
    free(f->replay);
}

cp_source *cp_source_open_file(const char *path, size_t replay, cp_error *err)
{
    file_source *f = calloc(1, sizeof *f);
    if (!f) {
        cp_error_set(err, CP_NOMEM, "out of memory");
        return NULL;
    }
    f->base.read = file_read;
    f->base.rewind = file_rewind;
    f->base.close = file_close;
    f->base.size = -1;
    f->is_stdin = strcmp(path, "-") == 0;
    f->base.name = strdup(f->is_stdin ? "<stdin>" : path);
    if (!f->base.name)
        goto nomem;
    if (f->is_stdin) {
        f->fd = STDIN_FILENO;
        f->replay_cap = replay;
        f->replay = malloc(replay ? replay : 1);
        if (!f->replay)
            goto nomem;
    } else {
        f->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0) {
            cp_error_set(err, errno == ENOENT ? CP_NOT_FOUND : CP_IO, "%s: cannot open: %s", path,
                         strerror(errno));
            free(f->base.name);
            free(f);
            return NULL;
        }
        struct stat st;
        if (fstat(f->fd, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                cp_error_set(err, CP_IO, "%s: is a directory, not a CSV file", path);
                close(f->fd);
                free(f->base.name);
                free(f);
                return NULL;
            }
            if (S_ISREG(st.st_mode))
                f->base.size = (int64_t)st.st_size;
        }
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    return &f->base;
nomem:
    free(f->base.name);
    free(f->replay);
    free(f);
    cp_error_set(err, CP_NOMEM, "out of memory");
    return NULL;
}

cp_source *cp_source_open_file_at(const char *path, uint64_t offset, cp_error *err)
{
    if (strcmp(path, "-") == 0) {
        cp_error_set(err, CP_USAGE, "standard input cannot be read from an offset");
        return NULL;
    }
    cp_source *s = cp_source_open_file(path, 0, err);
    if (!s)
        return NULL;
    file_source *f = (file_source *)s;
    f->start = (off_t)offset;
    if (cp_source_rewind(s, err) != CP_OK) {
        cp_source_free(s);
        return NULL;
    }
    return s;
}

int cp_source_file_fd(const cp_source *s)
{
    if (!s || s->read != file_read)
        return -1;
    const file_source *f = (const file_source *)s;
    return f->is_stdin ? -1 : f->fd;
}

typedef struct memory_source {
    cp_source base;
    const unsigned char *data;
    size_t len;
} memory_source;

static cp_status memory_read(cp_source *s, void *buf, size_t cap, size_t *n, cp_error *err)
{
    memory_source *m = (memory_source *)s;
    size_t left = m->len - (size_t)s->position;
    size_t k = left < cap ? left : cap;
    memcpy(buf, m->data + s->position, k);
    s->position += k;
    *n = k;
    return CP_OK;
}

static cp_status memory_rewind(cp_source *s, cp_error *err)
{
    s->position = 0;
    return CP_OK;
}

static void memory_close(cp_source *s) {}

cp_source *cp_source_open_memory(const void *data, size_t len, const char *name)
{
    memory_source *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->base.read = memory_read;
    m->base.rewind = memory_rewind;
    m->base.close = memory_close;
    m->base.size = (int64_t)len;
    m->base.name = strdup(name ? name : "<memory>");
    m->data = data;
    m->len = len;
    if (!m->base.name) {
        free(m);
        return NULL;
    }
    return &m->base;
}

cp_status cp_source_read(cp_source *s, void *buf, size_t cap, size_t *n, cp_error *err)
{
    return s->read(s, buf, cap, n, err);
}

cp_status cp_source_read_full(cp_source *s, void *buf, size_t cap, size_t *n, cp_error *err)
{
    size_t total = 0;
    while (total < cap) {
        size_t k;
        CP_RETURN_IF_ERROR(s->read(s, (char *)buf + total, cap - total, &k, err));
        if (k == 0)
            break;
        total += k;
    }
    *n = total;
    return CP_OK;
}

cp_status cp_source_rewind(cp_source *s, cp_error *err)
{
    return s->rewind(s, err);
}

void cp_source_free(cp_source *s)
{
    if (!s)
        return;
    s->close(s);
    free(s->name);
    free(s);
}
