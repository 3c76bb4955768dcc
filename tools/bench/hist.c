/* SPDX-License-Identifier: MIT */
/*
 * A log-linear histogram of nanoseconds, in the spirit of HdrHistogram:
 * values below 2048 are counted exactly; above, every power of two [2^k+10,
 * 2^k+11) is split into 1024 equal sub-buckets of width 2^k, so a recorded
 * value is known to within 1/1024 of itself (three significant digits).
 * It lives in shared memory: the receiving process records, the parent reads.
 */
#include <string.h>

#include "bench.h"

#define HALF	(1U << (HIST_SUB_BITS - 1))	/* 1024 */
#define FULL	(1U << HIST_SUB_BITS)		/* 2048 */
#define VMAX	((1ULL << 40) - 1)

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned int hist_index(uint64_t v)
{
	unsigned int k;

	if (v < FULL)
		return (unsigned int)v;
	if (v > VMAX)
		v = VMAX;
	k = (unsigned int)(63 - __builtin_clzll(v)) - (HIST_SUB_BITS - 1);
	return FULL + (k - 1) * HALF + (unsigned int)((v >> k) - HALF);
}

/* The highest value that falls into bucket @idx. */
uint64_t hist_value(unsigned int idx)
{
	unsigned int k;
	uint64_t sub;

	if (idx < FULL)
		return idx;
	k = (idx - FULL) / HALF + 1;
	sub = (idx - FULL) % HALF + HALF;
	return (sub << k) + (1ULL << k) - 1;
}

void hist_record(struct hist *h, uint64_t v)
{
	h->counts[hist_index(v)]++;
	h->n++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* The smallest value v such that at least @pct percent of the recorded
 * values are <= v (to the histogram's precision, never above the max). */
uint64_t hist_percentile(const struct hist *h, double pct)
{
	uint64_t want, seen = 0;
	unsigned int i;

	if (!h->n)
		return 0;
	want = (uint64_t)((pct / 100.0) * (double)h->n + 0.999999);
	if (want < 1)
		want = 1;
	if (want > h->n)
		want = h->n;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= want) {
			uint64_t v = hist_value(i);

			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}
