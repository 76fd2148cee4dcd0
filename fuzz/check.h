/*
 * check.h - the invariants every fuzz target checks of csvpipe's error reporting.
 */
#ifndef CP_FUZZ_CHECK_H
#define CP_FUZZ_CHECK_H

#include "util/status.h"

/* Aborts (a finding) when a call failed with st but left err without a message. */
void check_message(cp_status st, const cp_error *err);

#endif
