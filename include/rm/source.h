/* source: where observations come from. A source measures every monitored
 * service in one collect call; implementations are the Prometheus source
 * (cAdvisor series, a fixed number of queries per check) and the Docker
 * source (the Engine's stats and inspect). source_auto picks between them.
 *
 * A source is used by one thread at a time. */
#ifndef RM_SOURCE_H
#define RM_SOURCE_H

#include <stddef.h>

#include "rm/observation.h"

struct rm_config;

/* What one collect call cost, for logs, /metrics and the benchmarks. */
struct source_stats {
	unsigned requests; /* HTTP requests made */
	size_t bytes_received;
	double seconds; /* wall time of the collect call */
};

struct source_ops {
	const char *name; /* "prometheus", "docker" */
	/* Measures services[0..n) into out[0..n) (zeroed by the caller).
	 * A service that cannot be measured gets *_known = false and a reason in
	 * out[i].unknown_reason; that is not an error. Returns 0, or a negative
	 * errno when the source as a whole is unreachable or broken (message in
	 * err): then no value in out is known. */
	int (*collect)(void *impl, const char *const *services, size_t n, double now,
	               struct observation *out, struct source_stats *stats, char *err,
	               size_t errlen);
	void (*free)(void *impl);
};

/* What the last collect through source_collect learnt of a source. */
enum source_result {
	SOURCE_NOT_ASKED, /* no collect yet, or the last one did not ask it */
	SOURCE_ANSWERED,
	SOURCE_FAILED,
};

struct source {
	const struct source_ops *ops;
	void *impl;
	enum source_result last;
	char last_error[512]; /* why, when last is SOURCE_FAILED */
	/* Set by source_skip_engine: the Docker engine just failed a call, so a
	 * Docker-backed collect fails at once with this reason instead of
	 * waiting for its own timeouts. Empty: ask as usual. */
	char engine_down[256];
};

/* Collects through s->ops and records the outcome in s->last. A source
 * backed by the Docker engine fails at once while s->engine_down is set. */
int source_collect(struct source *s, const char *const *services, size_t n, double now,
                   struct observation *out, struct source_stats *stats, char *err, size_t errlen);

static inline void source_free(struct source *s)
{
	if (s && s->ops)
		s->ops->free(s->impl);
	if (s)
		s->ops = NULL;
}

#endif
