/*
 * The server seen through /proc: resident memory (VmRSS) and CPU time
 * (utime + stime) summed over its processes, either a given list of pids
 * or one root pid and all its descendants, found at each sample through
 * /proc/PID/task/TID/children (workers may have been replaced).
 */
#ifndef CHATBENCH_PROCSTAT_H
#define CHATBENCH_PROCSTAT_H

#include <stdint.h>

#include "bench.h"

struct procstat {
	uint64_t rss_kb;
	double cpu_s;
	unsigned nprocs;
	double machine_busy_s; /* every CPU of the machine: not idle */
};

/* Whether the options name a server at all. */
int procstat_enabled(const struct bench_opts *o);

/* CPU seconds the whole machine has been busy since boot (/proc/stat):
 * beside the server's and ours, it shows load from anything else. */
double procstat_machine_busy(void);

/* Samples the server; -1 when a named process cannot be read. */
int procstat_sample(const struct bench_opts *o, struct procstat *ps);

#endif
