/*
 * A log-linear histogram of latencies in nanoseconds: exact below 128 ns,
 * then 128 buckets per power of two (under 1 % error), up to 2^41 ns.
 * Fixed size and plain data, so a generator can send it over its pipe.
 */
#ifndef CHATBENCH_HIST_H
#define CHATBENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_TOP_BITS 41 /* values of 2^41 ns (36 minutes) and more clamp */
#define HIST_N        ((HIST_TOP_BITS - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t b[HIST_N];
};

void hist_add(struct hist *h, uint64_t ns);
void hist_merge(struct hist *dst, const struct hist *src);

/* The value below which a fraction Q of the samples lie (0 if empty). */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
