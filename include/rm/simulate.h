/* simulate: replays a usage trace offline through the decision engine, with
 * the same state handling as the daemon (engine_decide, then
 * engine_apply_result as if every change were applied at once), and measures
 * how good the decisions were.
 *
 * Trace format (CSV, UTF-8, '#' starts a comment line; see docs/engine.md):
 *
 *   # start: 2024-03-09T00:00:00Z     optional: wall-clock time of t=0 (or epoch seconds)
 *   # uptime: 1d                      optional: container age at t=0 (default 1d)
 *   # host: cpu=4 memory=8G           optional: host totals (optional scale-down)
 *   # limits:
 *   #   web: cpu=1.0 memory=512M      initial limits; "none" = no limit
 *   time,service,cpu_used,mem_used,oom_kills,throttled_ratio,cpu_demand
 *   0,web,0.42,300M,0,0.01,0.42
 *
 * time is seconds from t=0, never decreasing; cpu_used in cores; mem_used in
 * bytes or with a unit; the last three columns are optional. An empty field is
 * an unknown value (no decision on it).
 *
 * Rows denser than monitoring.check_interval are aggregated into one check
 * each, as the daemon would see them: CPU averaged, memory at its maximum,
 * OOM kills summed, throttling averaged. Quality is measured on every row.
 *
 * With a cpu_demand column the replay is closed-loop: what the workload wants
 * meets the limits in force. CPU use is min(demand, limit) and the row counts
 * as throttled when the demand is above the limit; memory above the limit is
 * an OOM kill (counted, fed to the engine, the container restarts). */
#ifndef RM_SIMULATE_H
#define RM_SIMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rm/config.h"
#include "rm/engine.h"

/* Largest trace accepted. */
#define SIMULATE_MAX_TRACE ((size_t)64 * 1024 * 1024)

struct simulate_sample {
	double time;    /* seconds from t=0 */
	size_t service; /* index into simulate_trace.services */
	bool cpu_known;
	double cpu_used; /* cores */
	bool mem_known;
	uint64_t mem_used; /* bytes */
	bool oom_known;
	unsigned oom_kills;
	bool throttled_known;
	double throttled; /* 0..1 */
	bool demand_known;
	double cpu_demand; /* cores the workload wants (closed loop) */
	int line;
};

struct simulate_service {
	char *name;         /* owned */
	bool has_cpu_limit; /* from the limits: header */
	double cpu_limit;   /* cores; 0 = none */
	bool has_mem_limit;
	uint64_t mem_limit; /* bytes; 0 = none */
	int limits_line;    /* 0 when not in the header */
	int first_line;     /* first sample, 0 when none */
	size_t n_samples;
};

struct simulate_trace {
	char *name;        /* owned: file name used in messages */
	double start;      /* epoch seconds of t=0 */
	double uptime;     /* containers' age at t=0, seconds */
	double host_cpus;  /* 0 = unknown */
	uint64_t host_mem; /* 0 = unknown */
	struct simulate_service *services;
	size_t n_services;
	struct simulate_sample *samples;
	size_t n_samples;
	bool closed_loop; /* some row has a cpu_demand */
};

/* Parses a trace (len bytes, need not be NUL-terminated). name is used in
 * messages. Returns 0 and *ret_trace (free with simulate_trace_free), or
 * -EINVAL with "name:line: reason" in err. */
int simulate_trace_parse(const char *data, size_t len, const char *name,
                         struct simulate_trace **ret_trace, char *err, size_t errlen);
/* Reads path and parses it. Returns 0, -EINVAL (bad trace) or -errno (cannot
 * read); err says which in every case. */
int simulate_trace_load(const char *path, struct simulate_trace **ret_trace, char *err,
                        size_t errlen);
void simulate_trace_free(struct simulate_trace *t);

/* One decision of the replay. */
struct simulate_event {
	double time;
	size_t service;
	struct engine_decision decision;
};

/* Decision quality per service, measured on every row against the limits in
 * force. Slack is (limit - use) / limit per row, 0 for a row over the limit,
 * over rows with a known use and a limit; p95 is nearest-rank. CPU "use" is
 * the demand when the trace has one. */
struct simulate_summary {
	size_t samples;
	size_t changes;
	size_t cpu_samples, cpu_over; /* rows measured, with use above the limit */
	size_t mem_samples, mem_over;
	size_t oom_events; /* checks with an OOM kill (closed loop: memory above the limit) */
	size_t reverts;    /* changes reverted by the watch after them (verify.h) */
	double days;       /* span of the service's rows, days (changes per service-day) */
	double cpu_slack_mean, cpu_slack_p95;
	double mem_slack_mean, mem_slack_p95;
	/* Sums over the measured rows of the limit and of the use (capped at the
	 * limit): the slack weighted by size is 1 - use / limit of the sums. */
	double cpu_limit_sum, cpu_use_sum;
	double mem_limit_sum, mem_use_sum;
	double final_cpu;   /* cores, 0 = no limit */
	uint64_t final_mem; /* bytes, 0 = no limit */
	/* Percentile policy: the recommendation the histograms reached by the end
	 * of the trace (targets before bounds; 0 = none yet). */
	bool has_rec;
	double rec_cpu_target; /* cores */
	double rec_mem_target; /* bytes */
};

/* The same measures over every service: shares and slack pooled over rows,
 * OOM events and changes summed. */
struct simulate_fleet {
	size_t services;
	size_t changes, oom_events;
	double days;
	double cpu_over, mem_over; /* shares of rows */
	double cpu_slack, mem_slack;
	/* Weighted by size: the share of the fleet's limits left unused. */
	double cpu_slack_weighted, mem_slack_weighted;
	double changes_per_day; /* per service-day */
};

struct simulate_result {
	const struct simulate_trace *trace; /* borrowed: must outlive the result */
	const char *policy;                 /* static: "threshold", "percentile", "oracle" */
	struct simulate_event *events;      /* owned */
	size_t n_events;
	struct simulate_summary *summaries; /* owned, one per trace service */
	bool all;                           /* events hold every decision, not only changes */
	double interval;                    /* monitoring.check_interval */
	double row_step; /* smallest spacing of one service's rows (0: one row) */
	bool aggregated; /* rows were denser than the interval */
};

/* Replays t through the engine under cfg. all keeps no-change decisions too.
 * Returns 0 and *ret (free with simulate_result_free), or -EINVAL with
 * "name:line: reason" in err (unknown service, no initial limit). */
int simulate_run(const struct rm_config *cfg, const struct simulate_trace *t, bool all,
                 struct simulate_result **ret, char *err, size_t errlen);
/* The hindsight daily oracle, measured the same way: each local day it sets
 * every service's limits to that day's 99th percentile of CPU use (demand)
 * and its highest memory use + 5 %, within the adjustment bounds. No engine:
 * a yardstick, not a policy. Same returns as simulate_run. */
int simulate_oracle(const struct rm_config *cfg, const struct simulate_trace *t,
                    struct simulate_result **ret, char *err, size_t errlen);
void simulate_result_free(struct simulate_result *r);

/* Pools the summaries of r. */
void simulate_fleet_of(const struct simulate_result *r, struct simulate_fleet *ret);

/* Writes the decisions then the summary; deterministic (no wall clock).
 * Return 0 or -EIO. */
int simulate_write_table(const struct simulate_result *r, FILE *out);
int simulate_write_json(const struct simulate_result *r, FILE *out);
/* Writes n results of the same trace side by side: fleet lines, then per
 * service. Return 0 or -EIO. */
int simulate_write_compare_table(struct simulate_result *const *rs, size_t n, FILE *out);
int simulate_write_compare_json(struct simulate_result *const *rs, size_t n, FILE *out);

#endif
