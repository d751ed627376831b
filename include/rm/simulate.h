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
 *   time,service,cpu_used,mem_used,oom_kills,throttled_ratio
 *   0,web,0.42,300M,0,0.01
 *
 * time is seconds from t=0, never decreasing; cpu_used in cores; mem_used in
 * bytes or with a unit; the last two columns are optional. An empty field is
 * an unknown value (no decision on it). */
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

/* Decision quality per service. Slack is (limit - use) / limit per sample,
 * over samples with a known use and a limit; p95 is nearest-rank. */
struct simulate_summary {
	size_t samples;
	size_t changes;
	size_t cpu_samples, cpu_over; /* samples measured, with use above the limit */
	size_t mem_samples, mem_over;
	double cpu_slack_mean, cpu_slack_p95;
	double mem_slack_mean, mem_slack_p95;
	double final_cpu;   /* cores, 0 = no limit */
	uint64_t final_mem; /* bytes, 0 = no limit */
};

struct simulate_result {
	const struct simulate_trace *trace; /* borrowed: must outlive the result */
	struct simulate_event *events;      /* owned */
	size_t n_events;
	struct simulate_summary *summaries; /* owned, one per trace service */
	bool all;                           /* events hold every decision, not only changes */
};

/* Replays t through the engine under cfg. all keeps no-change decisions too.
 * Returns 0 and *ret (free with simulate_result_free), or -EINVAL with
 * "name:line: reason" in err (unknown service, no initial limit). */
int simulate_run(const struct rm_config *cfg, const struct simulate_trace *t, bool all,
                 struct simulate_result **ret, char *err, size_t errlen);
void simulate_result_free(struct simulate_result *r);

/* Writes the decisions then the summary; deterministic (no wall clock).
 * Return 0 or -EIO. */
int simulate_write_table(const struct simulate_result *r, FILE *out);
int simulate_write_json(const struct simulate_result *r, FILE *out);

#endif
