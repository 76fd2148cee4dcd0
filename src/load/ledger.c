/*
 * ledger.c - names of the ledger's load statuses (ledger.h). The ledger table itself is
 * written by the relational backends (sql_backend.h has its DDL).
 */
#include "load/ledger.h"

const char *cp_load_status_name(cp_load_status s)
{
    switch (s) {
    case CP_LOAD_LOADED:
        return "loaded";
    case CP_LOAD_REJECTED:
        return "rejected";
    case CP_LOAD_FAILED:
        return "failed";
    case CP_LOAD_SKIPPED:
        return "skipped";
    case CP_LOAD_HANDED_OFF:
        return "handed_off";
    }
    return "unknown";
}
