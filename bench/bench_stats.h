/* bench_stats: the small helpers the benchmark programs share: median and
 * spread of repeated figures, CPU clocks and peak RSS. Header-only. */
#ifndef RM_BENCH_STATS_H
#define RM_BENCH_STATS_H

#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* Median, smallest and largest of repeated measurements. */
struct bench_spread {
	double med, min, max;
};

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts v[0..n) in place and summarizes it; n > 0. */
static inline struct bench_spread bench_spread_of(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return (struct bench_spread){ med, v[0], v[n - 1] };
}

/* The time of clock id, seconds. */
static inline double bench_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process (every thread), seconds. */
static inline double bench_cpu_now(void)
{
	return bench_clock(CLOCK_PROCESS_CPUTIME_ID);
}

/* CPU time of the calling thread, seconds: what a tight loop costs, whether
 * or not the scheduler let it run without a break. */
static inline double bench_thread_cpu_now(void)
{
	return bench_clock(CLOCK_THREAD_CPUTIME_ID);
}

static inline double bench_wall_now(void)
{
	return bench_clock(CLOCK_MONOTONIC);
}

/* Peak resident set of this process so far, KiB. */
static inline long bench_peak_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

#endif
