/*
 * fault.c - the fault injection of the test build (fault.h): points, failing allocations
 * through the linker's --wrap, failing writes. Empty unless built with CP_FAULTS.
 */
#define _GNU_SOURCE
#include "util/fault.h"

#ifdef CP_FAULTS

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A point the environment names: NAME, and on which of its hits to act. */
typedef struct fault_target {
    char name[128];
    unsigned long at; /* 1-based hit */
    unsigned long hits;
} fault_target;

static struct {
    int loaded;
    fault_target crash, pause;
    const char *trace;
    unsigned long fail_alloc; /* 0: none */
    char alloc_after[128];    /* "": count from the start; else from this point on */
    int alloc_armed;
    char write_text[256]; /* "" : no failing writes */
    int write_errno;
    unsigned long write_from, writes;
    int sync_only; /* @fsync: only the fsync before the rename fails */
} cfg;

static void say(const char *what, const char *name)
{
    char line[300];
    int n = snprintf(line, sizeof line, "csvpipe: fault: %s %s\n", what, name);
    if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1))
        return;
}

static void parse_target(const char *v, fault_target *t)
{
    if (!v || !*v)
        return;
    size_t n = strcspn(v, "@");
    if (n >= sizeof t->name)
        n = sizeof t->name - 1;
    memcpy(t->name, v, n);
    t->name[n] = '\0';
    t->at = v[n] == '@' ? strtoul(v + n + 1, NULL, 10) : 1;
    if (t->at == 0)
        t->at = 1;
}

static void load(void)
{
    if (__atomic_load_n(&cfg.loaded, __ATOMIC_ACQUIRE))
        return;
    parse_target(getenv("CSVPIPE_CRASH_AT"), &cfg.crash);
    parse_target(getenv("CSVPIPE_PAUSE_AT"), &cfg.pause);
    cfg.trace = getenv("CSVPIPE_TRACE_POINTS");
    const char *a = getenv("CSVPIPE_FAIL_ALLOC");
    cfg.fail_alloc = a ? strtoul(a, NULL, 10) : 0;
    const char *after = a ? strchr(a, '@') : NULL;
    if (after)
        snprintf(cfg.alloc_after, sizeof cfg.alloc_after, "%s", after + 1);
    cfg.alloc_armed = !cfg.alloc_after[0];
    const char *w = getenv("CSVPIPE_FAIL_WRITE");
    const char *colon = w ? strrchr(w, ':') : NULL;
    if (colon && (size_t)(colon - w) < sizeof cfg.write_text) {
        memcpy(cfg.write_text, w, (size_t)(colon - w));
        cfg.write_text[colon - w] = '\0';
        cfg.write_errno = strncmp(colon + 1, "ENOSPC", 6) == 0 ? ENOSPC
                          : strncmp(colon + 1, "EIO", 3) == 0  ? EIO
                                                               : 0;
        const char *at = strchr(colon, '@');
        cfg.sync_only = at && strcmp(at + 1, "fsync") == 0;
        cfg.write_from = at && !cfg.sync_only ? strtoul(at + 1, NULL, 10) : 1;
        if (!cfg.write_errno)
            cfg.write_text[0] = '\0';
    }
    __atomic_store_n(&cfg.loaded, 1, __ATOMIC_RELEASE);
}

static bool reached(fault_target *t, const char *name)
{
    return t->name[0] && strcmp(t->name, name) == 0 &&
           __atomic_add_fetch(&t->hits, 1, __ATOMIC_RELAXED) == t->at; /* points of workers too */
}

void cp_fault_point(const char *name)
{
    load();
    if (cfg.trace) {
        int fd = open(cfg.trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            char line[160];
            int n = snprintf(line, sizeof line, "%s\n", name);
            if (n > 0 && write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1))
                close(fd);
            else
                close(fd);
        }
    }
    if (cfg.alloc_after[0] && strcmp(cfg.alloc_after, name) == 0)
        __atomic_store_n(&cfg.alloc_armed, 1, __ATOMIC_RELEASE);
    if (reached(&cfg.crash, name)) {
        say("crash point", name);
        raise(SIGKILL);
    }
    if (reached(&cfg.pause, name)) {
        say("pause point", name);
        raise(SIGSTOP);
    }
}

void cp_fault_pointf(const char *fmt, ...)
{
    char name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    cp_fault_point(name);
}

int cp_fault_write(const char *path, bool sync)
{
    load();
    if (!cfg.write_text[0] || !path || !strstr(path, cfg.write_text) || (cfg.sync_only && !sync))
        return 0;
    if (__atomic_add_fetch(&cfg.writes, 1, __ATOMIC_RELAXED) < cfg.write_from)
        return 0;
    return cfg.write_errno;
}

/* ---- allocations (ld --wrap=SYMBOL sends csvpipe's calls of SYMBOL to __wrap_SYMBOL) ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
int __wrap_asprintf(char **out, const char *fmt, ...);

#ifdef __SANITIZE_ADDRESS__
void __sanitizer_print_stack_trace(void);
#endif

static unsigned long nallocs;

static bool alloc_fails(void)
{
    load();
    if (!cfg.fail_alloc || !__atomic_load_n(&cfg.alloc_armed, __ATOMIC_ACQUIRE))
        return false;
    unsigned long n = __atomic_add_fetch(&nallocs, 1, __ATOMIC_RELAXED);
    if (n != cfg.fail_alloc)
        return false;
    char num[32];
    snprintf(num, sizeof num, "%lu fails", n);
    say("allocation", num);
#ifdef __SANITIZE_ADDRESS__
    if (getenv("CSVPIPE_FAIL_ALLOC_STACK"))
        __sanitizer_print_stack_trace();
#endif
    return true;
}

void *__wrap_malloc(size_t n)
{
    return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return alloc_fails() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return alloc_fails() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return alloc_fails() ? NULL : __real_strndup(s, n);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    if (alloc_fails()) {
        *out = NULL; /* glibc leaves it undefined; callers must not rely on either */
        return -1;
    }
    return __real_vasprintf(out, fmt, ap);
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = __wrap_vasprintf(out, fmt, ap);
    va_end(ap);
    return n;
}

#else

typedef int cp_fault_unused; /* ISO C wants a translation unit to declare something */

#endif
