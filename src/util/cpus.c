/*
 * cpus.c - the CPUs of this process: the affinity mask, then the cgroup v2 quota of the
 * process's cgroup and its ancestors (the tightest one wins), read from /proc/self/cgroup
 * and /sys/fs/cgroup.
 */
#define _GNU_SOURCE
#include "util/cpus.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned cp_cpus_from_cpu_max(const char *text)
{
    char *end;
    errno = 0;
    unsigned long long quota = strtoull(text, &end, 10);
    if (end == text || errno)
        return 0; /* "max" or garbage: no limit */
    unsigned long long period = strtoull(end, &end, 10);
    if (quota == 0 || period == 0)
        return 0;
    unsigned long long n = (quota + period - 1) / period;
    return n > CP_THREADS_MAX ? CP_THREADS_MAX : (unsigned)n;
}

static unsigned affinity_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    int n = CPU_COUNT(&set);
    return n > 0 ? (unsigned)n : 0;
}

/* The tightest cpu.max quota from the process's cgroup up to the root; 0: none. */
static unsigned cgroup_cpus(void)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f)
        return 0;
    char line[PATH_MAX], dir[PATH_MAX] = "";
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(dir, sizeof dir, "%s", line + 3);
            break;
        }
    fclose(f);
    if (dir[0] != '/')
        return 0;
    unsigned best = 0;
    for (;;) {
        char path[PATH_MAX + 32], text[128];
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max", strcmp(dir, "/") ? dir : "");
        FILE *m = fopen(path, "r");
        if (m) {
            if (fgets(text, sizeof text, m)) {
                unsigned n = cp_cpus_from_cpu_max(text);
                if (n && (!best || n < best))
                    best = n;
            }
            fclose(m);
        }
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            break;
        *slash = '\0';
    }
    return best;
}

unsigned cp_cpus_available(void)
{
    unsigned n = affinity_cpus(), q = cgroup_cpus();
    if (!n)
        n = 1;
    if (q && q < n)
        n = q;
    return n > CP_THREADS_MAX ? CP_THREADS_MAX : n;
}

cp_status cp_threads_parse(const char *text, unsigned *threads, cp_error *err)
{
    if (strcmp(text, "auto") == 0 || strcmp(text, "0") == 0) {
        *threads = cp_cpus_available();
        return CP_OK;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end || errno || v < 1 || v > CP_THREADS_MAX)
        return cp_error_set(err, CP_USAGE,
                            "'%s' is not a thread count: give a number from 1 to %d, or auto "
                            "for the CPUs this process may use",
                            text, CP_THREADS_MAX);
    *threads = (unsigned)v;
    return CP_OK;
}
