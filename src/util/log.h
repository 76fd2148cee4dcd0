/*
 * log.h - leveled diagnostics on stderr.
 *
 * The level comes from CSVPIPE_LOG (error, warn, info, debug; default warn) on first use
 * or from cp_log_set_level. Lines look like "csvpipe: warn: message". Thread-safe per line.
 */
#ifndef CP_LOG_H
#define CP_LOG_H

typedef enum cp_log_level {
    CP_LOG_ERROR = 0,
    CP_LOG_WARN = 1,
    CP_LOG_INFO = 2,
    CP_LOG_DEBUG = 3,
} cp_log_level;

void cp_log_set_level(cp_log_level level);
int cp_log_enabled(cp_log_level level);
void cp_log(cp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cp_log_error(...) cp_log(CP_LOG_ERROR, __VA_ARGS__)
#define cp_log_warn(...) cp_log(CP_LOG_WARN, __VA_ARGS__)
#define cp_log_info(...) cp_log(CP_LOG_INFO, __VA_ARGS__)
#define cp_log_debug(...) cp_log(CP_LOG_DEBUG, __VA_ARGS__)

#endif
