/* Latency histogram (hist.h). */
#include "bench.h"

#include "hist.h"

static unsigned
hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v >= (UINT64_C(1) << HIST_TOP_BITS))
		v = (UINT64_C(1) << HIST_TOP_BITS) - 1;
	if (v < HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return ((shift + 1) << HIST_SUB_BITS) + (unsigned)(v >> shift) -
	    HIST_SUB;
}

/* The largest value that falls into bucket I. */
static uint64_t
hist_upper(unsigned i)
{
	unsigned shift;
	uint64_t mant;

	if (i < HIST_SUB)
		return i;
	shift = (i >> HIST_SUB_BITS) - 1;
	mant = (i & (HIST_SUB - 1)) + HIST_SUB;
	return ((mant + 1) << shift) - 1;
}

void
hist_add(struct hist *h, uint64_t ns)
{
	h->b[hist_index(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	for (unsigned i = 0; i < HIST_N; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0, v;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (unsigned i = 0; i < HIST_N; i++) {
		seen += h->b[i];
		if (seen > rank) {
			v = hist_upper(i);
			return v < h->max_ns ? v : h->max_ns;
		}
	}
	return h->max_ns;
}
