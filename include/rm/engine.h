/* engine: the decision engine. For one service and one check it decides
 * whether to change the CPU and memory limits and to what, and says why.
 *
 * PURE: inputs and `now` in, a decision and the next state out. No clock, no
 * TZ, no I/O, no logging, no globals, no allocation. The daemon and
 * `resource-manager simulate` call the same functions in the same order:
 *
 *   engine_decide(&in, &state, &decision);          every check
 *   ... deploy decision if it changes something ...
 *   engine_apply_result(cfg, &state, &decision, ok, now, day);
 *
 * The rules, the order of the gates and the reason codes are documented in
 * docs/engine.md. */
#ifndef RM_ENGINE_H
#define RM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rm/config.h"
#include "rm/observation.h"
#include "rm/recommender.h"

/* Why the engine decided what it did. One name table serves both ways. */
enum engine_reason {
	ENGINE_REASON_NONE,                /* all known values inside the thresholds */
	ENGINE_REASON_UNKNOWN_DATA,        /* a needed value is missing, NaN or stale */
	ENGINE_REASON_WARMING_UP,          /* container younger than thresholds.min_uptime */
	ENGINE_REASON_COOLDOWN,            /* a change was applied less than cooldown ago */
	ENGINE_REASON_BACKOFF,             /* the last change failed; waiting before retrying */
	ENGINE_REASON_DAILY_CAP,           /* max_adjustments_per_day reached today */
	ENGINE_REASON_HYSTERESIS,          /* beyond a threshold, still counting readings */
	ENGINE_REASON_CPU_HIGH,            /* CPU increase */
	ENGINE_REASON_CPU_LOW,             /* CPU decrease */
	ENGINE_REASON_MEM_HIGH,            /* memory increase */
	ENGINE_REASON_MEM_LOW,             /* memory decrease */
	ENGINE_REASON_OOM,                 /* memory increase after an OOM kill */
	ENGINE_REASON_THROTTLED,           /* CPU increase because of CFS throttling */
	ENGINE_REASON_BELOW_MIN_STEP,      /* the change would be too small to deploy */
	ENGINE_REASON_AT_BOUND,            /* already at min/max (or baseline, safety floor) */
	ENGINE_REASON_CRITICAL_FLOOR,      /* critical service: never decreased */
	ENGINE_REASON_DISABLED_ACTION,     /* automation.actions.* forbids this action */
	ENGINE_REASON_OPTIONAL_SCALE_DOWN, /* optional service shrunk: host is short */
	ENGINE_REASON_NO_LIMIT,            /* no limit on the resource; not managed */
	ENGINE_REASON_INITIAL_LIMIT,       /* no limit; adjustment.manage_unlimited sets one */
	ENGINE_REASON_CPU_RECOMMENDED,     /* percentile: CPU limit outside its recommendation */
	ENGINE_REASON_MEM_RECOMMENDED,     /* percentile: memory limit outside its recommendation */
	ENGINE_REASON_LEARNING,            /* percentile: too little history for this change */
	ENGINE_REASON_DECREASE_PACED,      /* percentile: a decrease within decrease_interval */
	ENGINE_REASON_REVERTED,            /* a change of the resource was reverted recently */
	_ENGINE_REASON_MAX,
};

const char *engine_reason_to_string(enum engine_reason r);
/* Returns the reason, or -EINVAL for an unknown name. */
int engine_reason_from_string(const char *s);
/* true for the reasons that come with a change of limits. */
bool engine_reason_is_change(enum engine_reason r);

/* What one service may be given, derived from the config. */
struct engine_policy {
	enum service_class class;
	int priority; /* 1 acts first */
	bool has_cpu_baseline;
	double cpu_baseline; /* cores */
	bool has_mem_baseline;
	uint64_t mem_baseline; /* bytes */
	/* Effective bounds: floor = max(min, baseline); a baseline above max raises
	 * the ceiling to the baseline (the floor wins, so a critical service never
	 * goes below its baseline). */
	double cpu_floor, cpu_ceiling;
	uint64_t mem_floor, mem_ceiling;
};

/* Fills *ret from cfg's services.{critical,optional,priority,baseline} and
 * adjustment.{min,max}_*. Never fails. */
void engine_policy_for(const struct rm_config *cfg, const char *service, struct engine_policy *ret);

/* Checks limits an operator asks for (a manual deploy, from the API or the
 * CLI) against the bounds the engine keeps for service: the floor
 * max(adjustment.min_*, services.baseline.<service>) (a critical service's
 * floor is its baseline) and the ceiling adjustment.max_*. has_cpu/has_memory
 * false skips that resource. Returns 0 when the values are inside, or -ERANGE
 * with one line in why naming the value, the key and the bound, e.g.
 * "memory 64Mi is below adjustment.min_memory (128Mi)". Pure. */
int engine_check_manual(const struct rm_config *cfg, const char *service, bool has_cpu, double cpu,
                        bool has_memory, uint64_t memory, char *why, size_t whylen);

enum engine_result {
	ENGINE_RESULT_NONE,    /* no change attempted yet */
	ENGINE_RESULT_APPLIED, /* the last change was applied */
	ENGINE_RESULT_FAILED,  /* the last change failed */
	_ENGINE_RESULT_MAX,
};
const char *engine_result_to_string(enum engine_result r);
int engine_result_from_string(const char *s);

/* Per-service memory of the engine; all zero is the valid initial state.
 * Persisted by the daemon, held in memory by simulate. */
struct engine_state {
	/* Hysteresis: readings in a row beyond each threshold. */
	unsigned cpu_high, cpu_low, mem_high, mem_low, throttled;
	double last_change; /* when the last change was attempted (epoch s) */
	enum engine_result last_result;
	unsigned failures;      /* failed changes in a row */
	double backoff_until;   /* no change before this (epoch s), after a failure */
	int32_t day;            /* local day number changes_today counts for */
	unsigned changes_today; /* attempted changes (failures too) on `day` */
	/* Percentile policy: an OOM kill not yet answered by a memory increase. */
	bool oom_pending;
	/* Percentile policy: when each resource last changed (epoch s); no
	 * decrease of it within recommender.decrease_interval. */
	double cpu_changed, mem_changed;
	/* A change that made the service worse was reverted (verify.h): no
	 * decrease of that resource before these times (epoch s). */
	double cpu_revert_until, mem_revert_until;
	/* The last change is being watched (verify.h) until then (epoch s): no
	 * decrease before its verdict (an increase may go ahead). 0 = none. */
	double watch_until;
};

/* Everything one decision depends on. All pointers are borrowed for the call. */
struct engine_input {
	const struct rm_config *cfg;
	const struct engine_policy *policy;
	const struct observation *obs;
	double now; /* epoch seconds */
	/* Local calendar day of `now` (engine_local_day); the engine never reads TZ. */
	int32_t day;
	/* Host short of CPU / memory (engine_host_short); lets optional services shrink. */
	bool host_short_cpu;
	bool host_short_mem;
	/* The service's recommendation (recommender_recommend), read under
	 * adjustment.policy percentile; NULL means no history yet. */
	const struct recommendation *rec;
};

#define ENGINE_EXPLANATION_MAX 640

struct engine_decision {
	enum engine_reason reason; /* the headline reason */
	/* Per resource: what happened to it (NONE when nothing to say). */
	enum engine_reason cpu_reason;
	enum engine_reason mem_reason;
	bool change_cpu;
	double cpu_from, cpu_to; /* cores, cpu_to rounded to 0.01 */
	bool change_mem;
	uint64_t mem_from, mem_to; /* bytes, mem_to a whole number of MiB */
	/* One line, e.g. "cpu 85.3% of 1.00 cores > 80% for 3 checks: 1.00 -> 1.25 cores". */
	char explanation[ENGINE_EXPLANATION_MAX];
};

static inline bool engine_decision_changes(const struct engine_decision *d)
{
	return d->change_cpu || d->change_mem;
}

/* Decides for one service and one check. Reads in->cfg, in->policy, in->obs
 * and *state; writes the next state to *ret_state (which may be state itself:
 * counters advanced, day rolled over) and the decision to *ret. Pure and
 * total: every input, however bad, yields a decision. */
void engine_decide(const struct engine_input *in, const struct engine_state *state,
                   struct engine_state *ret_state, struct engine_decision *ret);

/* Records the outcome of deploying d (a decision that changes something; a
 * no-change decision leaves *state untouched). success starts the cooldown and
 * resets the hysteresis counters; failure starts a backoff of
 * adjustment.failure_backoff doubled per failure in a row (at most 24 h, never
 * less than one backoff). Both count against the daily cap of `day`. Pure. */
void engine_apply_result(const struct rm_config *cfg, struct engine_state *state,
                         const struct engine_decision *d, bool success, double now, int32_t day);

/* The limits a recommendation asks for: each known target rounded (0.01
 * cores, 1 MiB) and kept within the policy's floor and ceiling; 0 for a
 * resource the recommendation does not know. Pure. */
void engine_recommended_limits(const struct engine_policy *p, const struct recommendation *rec,
                               double *ret_cpu, uint64_t *ret_mem);

/* Records that the change from->to was reverted at now because the service
 * did worse: the resources it decreased are not decreased again for
 * adjustment.revert_backoff. The revert itself is a change like any other
 * (engine_apply_result). Pure. */
void engine_note_revert(const struct rm_config *cfg, struct engine_state *state, double cpu_from,
                        double cpu_to, uint64_t mem_from, uint64_t mem_to, double now);

/* Host shortage, from Docker's /info totals and the sum of the limits of the
 * managed containers: short when the limits add up to more than the host has.
 * A total of 0 (unknown) is never short. Pure. */
void engine_host_short(double host_cpus, uint64_t host_mem, double sum_cpu_limits,
                       uint64_t sum_mem_limits, bool *ret_short_cpu, bool *ret_short_mem);

/* Priority ordering when several services are due in one check. */
struct engine_rank_item {
	const char *service; /* borrowed */
	int priority;
	enum engine_reason reason;
	bool changes;
	size_t index; /* caller's own index, carried along */
};
/* Sorts items: changes before no-changes; then OOM increases, then optional
 * scale-downs (they free room for the rest), then by priority (1 first), then
 * by service name. Pure; deterministic. */
void engine_rank(struct engine_rank_item *items, size_t n);

/* NOT PURE (reads TZ through localtime_r): the local calendar day of `now`, as
 * days since 1970-01-01 in the local zone. Callers compute it and pass it in
 * engine_input.day. Lives in src/engine_day.c. */
int32_t engine_local_day(double now);
/* Days since 1970-01-01 of a civil date (proleptic Gregorian). Pure. */
int32_t engine_days_from_civil(int year, unsigned month, unsigned mday);

#endif
