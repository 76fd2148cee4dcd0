/*
 * cpus.h - how many CPUs this process may use, and the thread count of a run.
 *
 * The count is the smaller of the CPUs in the process's affinity mask
 * (sched_getaffinity: taskset, cpusets) and the cgroup v2 CPU quota (cpu.max "QUOTA
 * PERIOD" of the process's cgroup and of every cgroup above it, rounded up): a container
 * limited to 1.5 CPUs or an AWS Lambda of 1,769 MB (one vCPU of time on a machine of
 * more) gets 2 and 1, not the machine's count.
 */
#ifndef CP_CPUS_H
#define CP_CPUS_H

#include "util/status.h"

#define CP_THREADS_MAX 256

/* CPUs this process may use, at least 1. */
unsigned cp_cpus_available(void);

/*
 * The CPUs allowed by one cpu.max text ("max 100000" or "150000 100000"), rounded up;
 * 0 when it sets no limit or cannot be read.
 */
unsigned cp_cpus_from_cpu_max(const char *text);

/*
 * A thread count as given (--threads, CSVPIPE_THREADS): a number from 1 to
 * CP_THREADS_MAX, or "auto"/"0" for cp_cpus_available(). CP_USAGE with a message otherwise.
 */
cp_status cp_threads_parse(const char *text, unsigned *threads, cp_error *err);

#endif
