#include "util/env.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>

uint64_t cp_env_count(const char *name, uint64_t dflt, uint64_t lo, uint64_t hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || v[0] == '-' || x == 0) {
        cp_log_warn("%s: '%s' is not a positive whole number; ignored", name, v);
        return dflt;
    }
    return x < lo ? lo : x > hi ? hi : (uint64_t)x;
}
