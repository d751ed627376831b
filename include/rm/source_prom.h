/* source_prom: the metrics source that reads cAdvisor series from Prometheus.
 *
 * A collect makes SOURCE_PROM_QUERIES instant queries whatever the number of
 * services: each query selects the containers of every monitored service at
 * once and groups by (compose service, compose project, container name); the
 * series are then assigned to services in C by exact string comparison.
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

/* HTTP requests one collect makes (for any number of services > 0). */
#define SOURCE_PROM_QUERIES 10

/* Builds the source from cfg (monitoring.prometheus_url, query_timeout,
 * analysis_window, trend_window, check_interval, memory_metric and
 * services.project are copied; cfg is not kept). Makes no request.
 * Returns 0 and *ret, -ENOENT when no Prometheus URL is configured, or
 * -EINVAL when the URL cannot be used. */
int source_prom_new(const struct rm_config *cfg, struct source *ret);

/* The PromQL of query i (0 <= i < SOURCE_PROM_QUERIES) for services[0..n),
 * as collect sends it: for logs and tests. Returns an owned string. */
char *source_prom_query_text(const struct source *s, unsigned i, const char *const *services,
                             size_t n);

/* The same query percent-encoded as collect sends it in the form body (the
 * name alternations encoded once per collect and spliced in): equal to
 * http_urlencode(source_prom_query_text(...)). For tests. */
char *source_prom_query_form(const struct source *s, unsigned i, const char *const *services,
                             size_t n);

#endif
