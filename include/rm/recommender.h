/* recommender: per-service usage histograms and the limits they recommend
 * (adjustment.policy: percentile; the rules are in docs/engine.md).
 *
 * PURE: observations and `now` in, histograms and a recommendation out. No
 * clock, no I/O, no allocation. The daemon, `simulate` and `recommend` feed
 * the same functions, so the same samples give the same answer:
 *
 *   recommender_observe(cfg, &usage, &obs, now, interval);   every check
 *   recommender_recommend(cfg, policy, &usage, &rec);
 *   in.rec = &rec; engine_decide(&in, ...);
 */
#ifndef RM_RECOMMENDER_H
#define RM_RECOMMENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "rm/config.h"
#include "rm/histogram.h"
#include "rm/observation.h"

/* A service's usage history: CPU use (cores, each check weighted by the
 * seconds it covers) and memory peaks (MiB, one per check). */
struct usage_history {
	struct histogram cpu;
	struct histogram mem;
	/* The highest CPU limit throttled more than 1 - cpu_percentile of a check
	 * (times 1 + that share), and when: CPU is not decreased below it for
	 * RECOMMENDER_THROTTLE_MEMORY half-lives. 0 = none. */
	double cpu_floor;
	double cpu_floor_time;
};

/* How long a throttled limit is remembered, in half-lives (a week at 24h). */
#define RECOMMENDER_THROTTLE_MEMORY 7

/* Empties both histograms (the valid initial state). */
void usage_history_init(struct usage_history *u);

/* Adds one check's observation: CPU use (corrected for throttling: a
 * throttled container's use is capped at its limit, so use * (1 + throttled
 * share) is recorded) weighted by interval seconds, and the memory peak of the
 * interval (the larger of use and the source's peak). Unknown values add
 * nothing. A container younger than thresholds.min_uptime adds nothing either
 * (start-up noise), except memory after an OOM kill: the peak that killed it
 * is not known, so the limit it was killed at is recorded. */
void recommender_observe(const struct rm_config *cfg, struct usage_history *u,
                         const struct observation *obs, double now, double interval);

/* One resource's recommendation. Values in cores (CPU) or bytes (memory). */
struct rec_resource {
	bool known;                /* enough samples for a recommendation */
	double percentile;         /* the configured percentile of the histogram */
	double mean;               /* weighted mean use */
	double p50, p90, p99, max; /* for display */
	double margin;             /* effective margin: configured, widened while unsure */
	double target;             /* percentile * (1 + margin), before bounds */
	double lower;              /* below this the limit is too tight */
	double upper;              /* above this it is too loose */
	double samples;            /* samples behind it */
	double floor;              /* CPU: no decrease below this (a throttled limit), 0 = none */
	double floor_age;          /* seconds since that throttling */
};

struct recommendation {
	double history;    /* seconds of history (the longer of the two) */
	double confidence; /* history in days, the margin widens by 1 + 0.1 / confidence */
	struct rec_resource cpu;
	struct rec_resource mem;
};

/* Computes the recommendation from u under cfg->recommender. Never fails: a
 * resource without samples is not known. */
void recommender_recommend(const struct rm_config *cfg, const struct usage_history *u,
                           struct recommendation *ret);

#endif
