/* source_prom: the metrics source that reads cAdvisor series from Prometheus.
 *
 * A collect makes SOURCE_PROM_QUERIES instant queries whatever the number of
 * services (SOURCE_PROM_QUERIES + 1 when services.project is set: a discovery
 * query first). Each query selects the containers of every monitored service
 * at once and groups by (compose service, compose project, container name);
 * the series are then assigned to services in C by exact string comparison.
 * With services.project set, a query selects every container of that project
 * (no alternation of names: Prometheus' cost is per series and per
 * alternation, docs/benchmarks.md §1) and, only for the monitored names that
 * the discovery query found on containers of no project, those by name.
 *
 * A monitored name S matches a container when
 *   - its label com.docker.compose.service is S (and, when services.project
 *     is set, its com.docker.compose.project is that project), or else
 *   - its container name is exactly S (and, when services.project is set, it
 *     belongs to no compose project or to that one).
 * Names are never matched as substrings. A container matching both ways
 * counts once. */
#ifndef RM_SOURCE_PROM_H
#define RM_SOURCE_PROM_H

#include "rm/source.h"

struct rm_config;

/* Quantities, hence queries, of one collect (for any number of services > 0). */
#define SOURCE_PROM_QUERIES 10
/* HTTP requests of one collect: one more (the discovery) with a project. */
#define SOURCE_PROM_REQUESTS(project_set) (SOURCE_PROM_QUERIES + ((project_set) ? 1 : 0))

/* Builds the source from cfg (monitoring.prometheus_url, query_timeout,
 * analysis_window, trend_window, check_interval, memory_metric and
 * services.project are copied; cfg is not kept). Makes no request.
 * Returns 0 and *ret, -ENOENT when no Prometheus URL is configured, or
 * -EINVAL when the URL cannot be used. */
int source_prom_new(const struct rm_config *cfg, struct source *ret);

/* The PromQL of query i (0 <= i < SOURCE_PROM_QUERIES) for services[0..n),
 * as history sends it and as collect does when every name was discovered on
 * a container of no project (collect narrows the by-name part to the names
 * found, or drops it): for logs and tests. Returns an owned string. */
char *source_prom_query_text(const struct source *s, unsigned i, const char *const *services,
                             size_t n);

/* The same query percent-encoded as collect sends it in the form body (the
 * name alternations encoded once per collect and spliced in): equal to
 * http_urlencode(source_prom_query_text(...)). For tests. */
char *source_prom_query_form(const struct source *s, unsigned i, const char *const *services,
                             size_t n);

/* ---- History (range queries) ---- */

/* What a history read did. */
struct source_prom_history_stats {
	unsigned requests;
	size_t bytes;
	size_t chunks;       /* ranges of steps asked together */
	size_t steps;        /* steps in the range */
	size_t observations; /* (service, step) pairs handed to the callback */
	size_t gaps;         /* (service, step) pairs with no series at all */
	size_t failed_chunks;
	bool partial; /* some chunks failed: the result misses their steps */
	char first_error[256];
};

/* Called for each (service, step) that has series, in time order (a step's
 * services in index order). o->time is the step; mem_interval_peak is the
 * highest memory over the step; the CPU trend is unknown. */
typedef void (*source_prom_history_fn)(void *ctx, size_t service, const struct observation *o);

/* What to read: from start to end (epoch seconds) every step seconds. */
struct source_prom_history_opts {
	double start, end, step;
	/* Samples per query's answer at most (0: 50,000; never above Prometheus'
	 * 11,000 points per series; halved when Prometheus still refuses a chunk
	 * as too long). */
	size_t max_points;
	bool progress;       /* a line per chunk on stderr */
	unsigned max_failed; /* chunks failing in a row that end the read (0: 3) */
};

/* Reads services[0..n)' cAdvisor history in chunks of steps, and hands each
 * step's observation to fn as collect would have measured it with an
 * analysis window of one step. Requests grow with the chunks, not with the
 * services: SOURCE_PROM_QUERIES - 1 per chunk (no trend). A chunk that fails
 * is skipped and reported in stats (partial, first_error); max_failed in a
 * row, or none answered, stop the read: returns the error then
 * (-ECONNREFUSED, -ETIMEDOUT, -EIO, -EINVAL...) with a message in err, else
 * 0. */
int source_prom_history(const struct source *s, const char *const *services, size_t n,
                        const struct source_prom_history_opts *opts, source_prom_history_fn fn,
                        void *ctx, struct source_prom_history_stats *stats, char *err,
                        size_t errlen);

#endif
