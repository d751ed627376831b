/* recommend: the percentile recommender fed from Prometheus history instead
 * of live checks: `recommend` (a report), the daemon's warm start (seeding
 * empty histograms) and `simulate --from-prometheus` (a trace). The samples
 * go through recommender_observe exactly as live checks do, one per step. */
#ifndef RM_RECOMMEND_H
#define RM_RECOMMEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rm/config.h"
#include "rm/histogram.h"
#include "rm/recommender.h"
#include "rm/source_prom.h"
#include "rm/util.h"

struct recommend_service {
	char *name; /* owned */
	size_t samples;
	double first, last;         /* times of the first and last step with series */
	bool partial_range;         /* series for part of the range only */
	double cpu_limit;           /* the latest, cores (0 = none, NAN = unknown) */
	double mem_limit;           /* bytes, likewise */
	unsigned replicas;          /* containers at the latest step */
	struct usage_history usage; /* as the daemon would have them */
	struct histogram cpu_all;   /* every CPU sample, no decay */
	struct histogram mem_all;   /* every memory peak, no decay */
	struct recommendation rec;
	double rec_cpu;   /* the recommended limit within the bounds, cores */
	uint64_t rec_mem; /* bytes */
	double cpu_over;  /* share of the history above rec_cpu */
	double mem_oom;   /* share of the memory peaks above rec_mem */
	double cpu_slack; /* 1 - mean use / rec_cpu */
	double mem_slack;
	double throttled_sum; /* throttled shares seen, summed over the samples */
	char note[160];       /* "no history ...", "history for 40% of the steps", "" */
};

struct recommend_report {
	double start, end, step;
	struct source_prom_history_stats stats;
	struct recommend_service *services; /* owned */
	size_t n;
};

/* Reads services[0..n) (n 0: cfg's services.monitored) from Prometheus
 * between start and end every step, and fills *ret. progress: lines on
 * stderr. Returns 0 (also for a partial read: ret->stats says so),
 * -ENOENT when no Prometheus is configured, or the history read's error,
 * with a message in err that says history needs Prometheus. */
int recommend_from_prometheus(const struct rm_config *cfg, const char *const *services, size_t n,
                              double start, double end, double step, size_t max_points,
                              bool progress, struct recommend_report *ret, char *err,
                              size_t errlen);
void recommend_report_free(struct recommend_report *r);

/* Warm start: feeds the history of services[0..n) between start and end
 * every step into targets[i] (NULL: skip that service), as live checks
 * would have. Returns the samples fed (>= 0) or a negative errno with a
 * message in err; stats (may be NULL) says what was read. */
long recommend_seed(const struct rm_config *cfg, const char *const *services, size_t n,
                    struct usage_history *const *targets, double start, double end, double step,
                    struct source_prom_history_stats *stats, char *err, size_t errlen);

/* The history as a simulate trace (CSV with a header: start, uptime, each
 * service's limits at the first step), one row per service per step, into
 * *csv. Returns the rows written or a negative errno with a message. */
long recommend_trace(const struct rm_config *cfg, const char *const *services, size_t n,
                     double start, double end, double step, struct strbuf *csv,
                     struct source_prom_history_stats *stats, char *err, size_t errlen);

#endif
