#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int current_level = -1;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static int level_from_env(void)
{
    const char *v = getenv("CSVPIPE_LOG");
    if (!v)
        return CP_LOG_WARN;
    for (int i = 0; i < 4; i++)
        if (strcmp(v, level_names[i]) == 0)
            return i;
    return CP_LOG_WARN;
}

void cp_log_set_level(cp_log_level level)
{
    current_level = (int)level;
}

int cp_log_enabled(cp_log_level level)
{
    if (current_level < 0)
        current_level = level_from_env();
    return (int)level <= current_level;
}

void cp_log(cp_log_level level, const char *fmt, ...)
{
    if (!cp_log_enabled(level))
        return;
    char line[2048];
    int n = snprintf(line, sizeof line, "csvpipe: %s: ", level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}
