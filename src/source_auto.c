/* source_auto: Prometheus when it answers, else the Docker engine; and the
 * construction of the configured source. */
#include "rm/source_auto.h"
#include "rm/source_docker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/config.h"
#include "rm/log.h"
#include "rm/source_prom.h"
#include "rm/util.h"

enum used {
	USED_UNSET, /* no collect yet */
	USED_PROMETHEUS,
	USED_DOCKER,
	USED_NONE, /* the last collect failed everywhere */
	_USED_MAX,
};

static const char *const used_names[_USED_MAX] = {
	[USED_UNSET] = "none",
	[USED_PROMETHEUS] = "prometheus",
	[USED_DOCKER] = "docker",
	[USED_NONE] = "none",
};

struct source_auto {
	struct source prom;   /* ops NULL when absent */
	struct source docker; /* ops NULL when absent */
	enum used used;
};

/* Logs a change of the source in use, once; perr is why Prometheus failed. */
static void switch_to(struct source_auto *a, enum used next, const char *perr, const char *derr)
{
	char q1[600], q2[600];
	if (a->used == next)
		return;
	enum used prev = a->used;
	a->used = next;
	switch (next) {
	case USED_PROMETHEUS:
		if (prev == USED_UNSET)
			log_info("source", "observing through Prometheus\tsource=prometheus");
		else
			log_info("source", "Prometheus answers again, observing through it\t"
			                   "source=prometheus");
		break;
	case USED_DOCKER:
		if (a->prom.ops)
			log_warn("source",
			         "Prometheus does not answer, observing through the Docker engine "
			         "until it does\tsource=docker error=%s",
			         log_quote(perr, q1, sizeof(q1)));
		else
			log_info("source", "observing through the Docker engine (no Prometheus "
			                   "configured)\tsource=docker");
		break;
	case USED_NONE:
		log_error("source",
		          "no metrics source answers, checks have no observations until one "
		          "does\tprometheus_error=%s docker_error=%s",
		          log_quote(a->prom.ops ? perr : "not configured", q1, sizeof(q1)),
		          log_quote(a->docker.ops ? derr : "not available", q2, sizeof(q2)));
		break;
	default:
		abort();
	}
}

static void stats_add(struct source_stats *sum, const struct source_stats *s)
{
	sum->requests += s->requests;
	sum->bytes_received += s->bytes_received;
	sum->seconds += s->seconds;
}

static int auto_collect(void *impl, const char *const *services, size_t n, double now,
                        struct observation *out, struct source_stats *stats, char *err,
                        size_t errlen)
{
	struct source_auto *a = impl;
	struct source_stats total = { 0 }, st;
	char perr[512] = "", derr[512] = "";
	int r = -ENOENT;
	a->prom.last = a->docker.last = SOURCE_NOT_ASKED;
	if (a->prom.ops) {
		st = (struct source_stats){ 0 };
		r = source_collect(&a->prom, services, n, now, out, &st, perr, sizeof(perr));
		stats_add(&total, &st);
		if (r == 0) {
			switch_to(a, USED_PROMETHEUS, NULL, NULL);
			goto out;
		}
	}
	if (a->docker.ops) {
		memset(out, 0, n * sizeof(*out));
		st = (struct source_stats){ 0 };
		r = source_collect(&a->docker, services, n, now, out, &st, derr, sizeof(derr));
		stats_add(&total, &st);
		if (r == 0) {
			switch_to(a, USED_DOCKER, perr, NULL);
			goto out;
		}
	}
	memset(out, 0, n * sizeof(*out));
	switch_to(a, USED_NONE, perr, derr);
	if (err) {
		if (a->prom.ops && a->docker.ops)
			snprintf(err, errlen, "%s; and the Docker engine: %s", perr, derr);
		else
			snprintf(err, errlen, "%s", a->prom.ops ? perr : derr);
	}
out:
	if (stats)
		*stats = total;
	return r;
}

static void auto_free(void *impl)
{
	struct source_auto *a = impl;
	if (!a)
		return;
	source_free(&a->prom);
	source_free(&a->docker);
	free(a);
}

static const struct source_ops auto_ops = {
	.name = "auto",
	.collect = auto_collect,
	.free = auto_free,
};

int source_auto_new(struct source *prom_or_null, struct source *docker_or_null, struct source *ret)
{
	bool has_prom = prom_or_null && prom_or_null->ops;
	bool has_docker = docker_or_null && docker_or_null->ops;
	if (!has_prom && !has_docker)
		return -EINVAL;
	struct source_auto *a = xcalloc(1, sizeof(*a));
	if (has_prom) {
		a->prom = *prom_or_null;
		*prom_or_null = (struct source){ 0 };
	}
	if (has_docker) {
		a->docker = *docker_or_null;
		*docker_or_null = (struct source){ 0 };
	}
	*ret = (struct source){ .ops = &auto_ops, .impl = a };
	return 0;
}

const char *source_used_name(const struct source *s)
{
	if (s->ops != &auto_ops)
		return s->ops->name;
	const struct source_auto *a = s->impl;
	return used_names[a->used];
}

/* The part of s that is the backend named so, or NULL. */
static const struct source *backend_of(const struct source *s, const char *backend)
{
	if (s->ops != &auto_ops)
		return s->ops && strcmp(s->ops->name, backend) == 0 ? s : NULL;
	const struct source_auto *a = s->impl;
	const struct source *b = strcmp(backend, "prometheus") == 0 ? &a->prom
	                         : strcmp(backend, "docker") == 0   ? &a->docker
	                                                            : NULL;
	return b && b->ops ? b : NULL;
}

enum source_result source_backend_result(const struct source *s, const char *backend,
                                         const char **ret_error)
{
	const struct source *b = backend_of(s, backend);
	if (ret_error)
		*ret_error = b && b->last == SOURCE_FAILED ? b->last_error : "";
	return b ? b->last : SOURCE_NOT_ASKED;
}

bool source_has_backend(const struct source *s, const char *backend)
{
	return backend_of(s, backend) != NULL;
}

void source_skip_engine(struct source *s, const char *why_or_null)
{
	snprintf(s->engine_down, sizeof(s->engine_down), "%s", why_or_null ? why_or_null : "");
	if (s->ops == &auto_ops) {
		struct source_auto *a = s->impl;
		source_skip_engine(&a->prom, why_or_null);
		source_skip_engine(&a->docker, why_or_null);
	}
}

static int docker_source_new(const struct rm_config *cfg, struct source *ret)
{
	return source_docker_new(cfg, ret);
}

int source_from_config(const struct rm_config *cfg, struct source *ret, char *err, size_t errlen)
{
	struct source prom = { 0 }, docker = { 0 };
	const char *url = cfg->monitoring.prometheus_url;
	int r = 0;
	if (cfg->monitoring.source != SOURCE_DOCKER && url && *url) {
		r = source_prom_new(cfg, &prom);
		if (r < 0) {
			snprintf(err, errlen, "monitoring.prometheus_url '%s' cannot be used", url);
			goto out;
		}
	}
	if (cfg->monitoring.source != SOURCE_PROMETHEUS)
		(void)docker_source_new(cfg, &docker);

	switch (cfg->monitoring.source) {
	case SOURCE_PROMETHEUS:
		if (!prom.ops) {
			r = -EINVAL;
			snprintf(err, errlen,
			         "monitoring.source is prometheus but "
			         "monitoring.prometheus_url is empty");
			goto out;
		}
		*ret = prom;
		prom = (struct source){ 0 };
		break;
	case SOURCE_DOCKER:
		if (!docker.ops) {
			r = -ENOTSUP;
			snprintf(err, errlen,
			         "monitoring.source is docker but docker.host cannot be used");
			goto out;
		}
		*ret = docker;
		docker = (struct source){ 0 };
		break;
	default:
		if (!prom.ops && !docker.ops) {
			r = -ENOTSUP;
			snprintf(err, errlen,
			         "monitoring.source is auto but monitoring.prometheus_url "
			         "is empty and docker.host cannot be used");
			goto out;
		}
		r = source_auto_new(&prom, &docker, ret);
		break;
	}
out:
	source_free(&prom);
	source_free(&docker);
	return r;
}
