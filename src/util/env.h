/*
 * env.h - numeric settings from the environment.
 */
#ifndef CP_ENV_H
#define CP_ENV_H

#include <stdint.h>

/*
 * The positive whole number in the environment variable name, clamped to [lo, hi]; dflt
 * when it is unset or empty, and, with a warning naming the variable and its value, when
 * it is not a positive whole number.
 */
uint64_t cp_env_count(const char *name, uint64_t dflt, uint64_t lo, uint64_t hi);

#endif
