/* histogram: the decaying exponential-bucket usage histogram (see the header). */
#include "rm/histogram.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* The reference moves forward once the newest weight would exceed 2^this. */
#define MAX_EXPONENT 40.0
/* After a move, buckets lighter than this share of the total are dropped. */
#define PRUNE_SHARE 1e-9

void histogram_init(struct histogram *h, double base)
{
	memset(h, 0, sizeof(*h));
	h->base = base > 0 && isfinite(base) ? base : 1.0;
}

bool histogram_empty(const struct histogram *h)
{
	return !(h->total > 0);
}

size_t histogram_bucket_of(const struct histogram *h, double value)
{
	if (!(value >= h->base))
		return 0;
	double i = floor(log(value / h->base) / log(HISTOGRAM_RATIO)) + 1;
	if (!(i < HISTOGRAM_BUCKETS - 1))
		return HISTOGRAM_BUCKETS - 1;
	/* log() can land a value that is exactly an edge one bucket low. */
	size_t b = (size_t)i;
	if (value >= histogram_bucket_upper(h, b))
		b++;
	return b < HISTOGRAM_BUCKETS ? b : HISTOGRAM_BUCKETS - 1;
}

double histogram_bucket_upper(const struct histogram *h, size_t i)
{
	return h->base * pow(HISTOGRAM_RATIO, (double)i);
}

/* Scales every weight by 2^-shift and moves the reference shift half-lives on. */
static void rebase(struct histogram *h, double t, double half_life)
{
	double shift = (t - h->ref) / half_life;
	double f = exp2(-shift);
	double total = 0;
	for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++) {
		h->bucket[i] *= f;
		total += h->bucket[i];
	}
	for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++)
		if (h->bucket[i] < total * PRUNE_SHARE) {
			total -= h->bucket[i];
			h->bucket[i] = 0;
		}
	h->sum *= f;
	h->total = total > 0 ? total : 0;
	if (h->total == 0)
		h->sum = 0;
	h->ref = t;
}

int histogram_add(struct histogram *h, double value, double weight, double t, double half_life)
{
	if (!isfinite(value) || value < 0 || !isfinite(weight) || weight <= 0 || !isfinite(t))
		return -EINVAL;
	if (histogram_empty(h)) {
		double base = h->base;
		histogram_init(h, base);
		h->ref = t;
		h->first = t;
	}
	double w = weight;
	if (half_life > 0) {
		if ((t - h->ref) / half_life > MAX_EXPONENT)
			rebase(h, t, half_life);
		if (t > h->ref)
			w = weight * exp2((t - h->ref) / half_life);
	}
	h->bucket[histogram_bucket_of(h, value)] += w;
	h->total += w;
	h->sum += w * value;
	if (t > h->last)
		h->last = t;
	if (h->samples < UINT32_MAX)
		h->samples++;
	return 0;
}

double histogram_percentile(const struct histogram *h, double p)
{
	if (histogram_empty(h) || !(p > 0))
		return NAN;
	if (p > 1)
		p = 1;
	double want = p * h->total, acc = 0;
	size_t last = 0;
	for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++) {
		if (h->bucket[i] <= 0)
			continue;
		double before = acc;
		acc += h->bucket[i];
		last = i;
		/* The relative slack absorbs rounding in the running sum. */
		if (acc >= want * (1 - 1e-12)) {
			/* Within the bucket, as if its weight were spread evenly
			 * over it on the log scale (linearly in bucket 0). */
			double frac = fmin(fmax((want - before) / h->bucket[i], 0), 1);
			if (i == 0)
				return h->base * frac;
			return histogram_bucket_upper(h, i - 1) * pow(HISTOGRAM_RATIO, frac);
		}
	}
	return histogram_bucket_upper(h, last);
}

double histogram_share_above(const struct histogram *h, double value)
{
	if (histogram_empty(h))
		return NAN;
	size_t b = histogram_bucket_of(h, value);
	double above = 0;
	for (size_t i = b + 1; i < HISTOGRAM_BUCKETS; i++)
		above += h->bucket[i];
	/* The part of value's bucket above it, on the scale percentiles use. */
	double lo = b == 0 ? 0 : histogram_bucket_upper(h, b - 1);
	double hi = histogram_bucket_upper(h, b);
	double frac = b == 0 ? value / h->base : log(value / lo) / log(hi / lo);
	if (b < HISTOGRAM_BUCKETS - 1 || value < hi)
		above += h->bucket[b] * (1 - fmin(fmax(frac, 0), 1));
	return fmin(above / h->total, 1);
}

double histogram_mean(const struct histogram *h)
{
	return histogram_empty(h) ? NAN : h->sum / h->total;
}

double histogram_span(const struct histogram *h)
{
	return h->samples > 1 && h->last > h->first ? h->last - h->first : 0;
}

int histogram_validate(const struct histogram *h)
{
	double total = 0;
	if (!(h->base > 0) || !isfinite(h->base) || !isfinite(h->ref) || !isfinite(h->sum) ||
	    h->sum < 0 || !isfinite(h->first) || !isfinite(h->last))
		return -EINVAL;
	for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++) {
		if (!isfinite(h->bucket[i]) || h->bucket[i] < 0)
			return -EINVAL;
		total += h->bucket[i];
	}
	if (!isfinite(total) || fabs(total - h->total) > 1e-9 * fmax(total, h->total))
		return -EINVAL;
	return 0;
}
