/*
 * check.c - the shared invariants of the fuzz targets (check.h).
 */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>

void check_message(cp_status st, const cp_error *err)
{
    if (st != CP_OK && !err->message[0]) {
        fprintf(stderr, "status %s without a message\n", cp_status_name(st));
        abort();
    }
}
