/* histogram: a decaying usage histogram with exponential buckets, the memory
 * of the percentile recommender (one per resource per service).
 *
 * PURE: values and their times in, percentiles out; no clock, no I/O, no
 * allocation. Bounded: HISTOGRAM_BUCKETS doubles (5.5 KiB) whatever the
 * input, from the base to a million times it.
 *
 * Buckets grow by HISTOGRAM_RATIO (2 %): bucket 0 holds [0, base), bucket i
 * holds [base * r^(i-1), base * r^i); the last bucket also holds everything
 * above. A percentile falls in the bucket where the cumulative weight
 * reaches it, interpolated inside it (on the log scale) by how far into the
 * bucket's weight it lies: never more than one bucket (2 %) from the true
 * value; p = 1 is the upper edge of the highest bucket with weight.
 *
 * Decay is exponential with a half-life: a sample added at time t weighs
 * w * 2^((t - ref) / half_life), so every older sample loses half its weight
 * per half-life relative to newer ones. The reference moves forward (and every
 * weight is scaled down) before the exponent grows large, so weights stay
 * finite for any length of history. */
#ifndef RM_HISTOGRAM_H
#define RM_HISTOGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTOGRAM_BUCKETS 700
#define HISTOGRAM_RATIO   1.02
/* Base (upper edge of bucket 0) of the two kinds: CPU in cores, memory in MiB. */
#define HISTOGRAM_CPU_BASE 0.001
#define HISTOGRAM_MEM_BASE 1.0

struct histogram {
	double base;      /* upper edge of bucket 0, in the histogram's unit */
	double ref;       /* time (epoch s) the weights are relative to */
	double total;     /* sum of the bucket weights */
	double sum;       /* sum of weight * value: the weighted mean is sum / total */
	double first;     /* time of the first sample; 0 = none */
	double last;      /* time of the latest sample */
	uint32_t samples; /* samples added (saturates) */
	double bucket[HISTOGRAM_BUCKETS];
};

/* Empties *h and sets its base (HISTOGRAM_CPU_BASE, HISTOGRAM_MEM_BASE). */
void histogram_init(struct histogram *h, double base);
bool histogram_empty(const struct histogram *h);

/* The bucket a value falls in; NaN and negatives fall in bucket 0. */
size_t histogram_bucket_of(const struct histogram *h, double value);
/* Upper edge of bucket i (the value a percentile in it reports). */
double histogram_bucket_upper(const struct histogram *h, size_t i);

/* Adds value (>= 0, in the histogram's unit) with weight (> 0) at time t,
 * decaying older samples with half_life seconds (<= 0: no decay). Values or
 * weights that are NaN, infinite or negative are ignored (returns -EINVAL);
 * else 0. A t before the reference (a clock that went back) counts as the
 * reference time. */
int histogram_add(struct histogram *h, double value, double weight, double t, double half_life);

/* The p-th percentile (0 < p <= 1) of the weighted samples; NAN when empty. */
double histogram_percentile(const struct histogram *h, double p);
/* The share of the weight above value (0..1), interpolated inside value's
 * bucket as histogram_percentile does; NAN when empty. */
double histogram_share_above(const struct histogram *h, double value);
/* The weighted mean of the samples; NAN when empty. */
double histogram_mean(const struct histogram *h);
/* Seconds of history: last - first (0 with fewer than two samples). */
double histogram_span(const struct histogram *h);

/* Checks a histogram read from outside (the state file): base positive and
 * finite, weights finite and >= 0, total matching their sum within 1e-9
 * relative. Returns 0 or -EINVAL. */
int histogram_validate(const struct histogram *h);

#endif
