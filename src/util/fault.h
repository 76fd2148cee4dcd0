/*
 * fault.h - fault injection for the tests: named crash and pause points, failing
 * allocations and failing writes.
 *
 * Compiled in only with the CMake option CSVPIPE_FAULTS (which defines CP_FAULTS): the
 * test build (make test) turns it on, a release never does. Without it every hook below
 * is an empty macro whose arguments are not even evaluated, so a release binary holds
 * neither the code nor the names of the points (tests/cli/fault_release.sh checks it).
 *
 * A point is a named step of the work (docs/design.md, "Crash points", lists them all).
 * The environment, read once, says what happens there:
 *
 *   CSVPIPE_CRASH_AT=NAME[@N]   the Nth time (default the first) the process reaches
 *                               point NAME it writes "csvpipe: fault: crash point NAME"
 *                               to stderr and kills itself with SIGKILL
 *   CSVPIPE_PAUSE_AT=NAME[@N]   the same, but it stops itself with SIGSTOP ("pause
 *                               point NAME") and goes on after a SIGCONT
 *   CSVPIPE_TRACE_POINTS=FILE   appends the name of every point reached, one a line
 *   CSVPIPE_FAIL_ALLOC=N[@NAME] the Nth allocation made by csvpipe's own code (malloc,
 *                               calloc, realloc, strdup, strndup, [v]asprintf) fails, once,
 *                               counting from the start or from the first time point NAME
 *                               is reached; stderr says "csvpipe: fault: allocation N fails"
 *                               (and, under ASan with CSVPIPE_FAIL_ALLOC_STACK set, where)
 *   CSVPIPE_FAIL_WRITE=TEXT:ERR[@N|@fsync]
 *                               from the Nth write on (default the first), every write or
 *                               fsync into a file whose path contains TEXT fails with
 *                               errno ERR (EIO or ENOSPC); with @fsync only the fsync
 *                               before the rename. csvpipe's own output files only (the
 *                               tests give SQLite's databases a file size limit instead)
 *
 * The allocations are interposed at link time (-Wl,--wrap on the csvpipe executable), so
 * only csvpipe's own code sees them fail, never a library's inside (SQLite, libpq, curl).
 */
#ifndef CP_FAULT_H
#define CP_FAULT_H

#include <stdbool.h>

#ifdef CP_FAULTS

/* A point reached: crash, pause or trace as the environment says (above). */
void cp_fault_point(const char *name);
/* The same with a name made by printf. */
void cp_fault_pointf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * 0, or the errno that a write (sync: the fsync) into the file at path must fail with
 * (CSVPIPE_FAIL_WRITE).
 */
int cp_fault_write(const char *path, bool sync);

#else

#define cp_fault_point(name) ((void)0)
#define cp_fault_pointf(...) ((void)0)
#define cp_fault_write(path, sync) 0

#endif

#endif
