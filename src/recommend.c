/* recommend: Prometheus history through the recommender (report, warm start,
 * trace). */
#include "rm/recommend.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/engine.h"
#include "rm/units.h"

/* The source, or -ENOENT with the message every caller gives. */
static int open_prom(const struct rm_config *cfg, struct source *src, char *err, size_t errlen)
{
	int r = source_prom_new(cfg, src);
	if (r == -ENOENT)
		snprintf(err, errlen,
		         "history needs Prometheus: set monitoring.prometheus_url (or "
		         "PROMETHEUS_URL) to a Prometheus that scrapes cAdvisor");
	else if (r < 0)
		snprintf(err, errlen, "history needs Prometheus: the URL '%s' cannot be used",
		         cfg->monitoring.prometheus_url);
	return r;
}

/* services[0..n), or cfg's monitored list when n is 0. */
static const char *const *service_list(const struct rm_config *cfg, const char *const *services,
                                       size_t *n)
{
	if (*n)
		return services;
	*n = cfg->services.monitored.n;
	return (const char *const *)cfg->services.monitored.items;
}

/* Reads the history and prefixes a failure's message. */
static int read_history(const struct rm_config *cfg, const char *const *services, size_t n,
                        const struct source_prom_history_opts *opts, source_prom_history_fn fn,
                        void *ctx, struct source_prom_history_stats *stats, char *err,
                        size_t errlen)
{
	struct source src = { 0 };
	int r = open_prom(cfg, &src, err, errlen);
	if (r < 0)
		return r;
	char herr[400] = "";
	r = source_prom_history(&src, services, n, opts, fn, ctx, stats, herr, sizeof(herr));
	if (r < 0)
		snprintf(err, errlen, "history needs Prometheus, and it gave none: %s", herr);
	source_free(&src);
	return r;
}

/* ---- the report ---- */

struct report_ctx {
	const struct rm_config *cfg;
	struct recommend_report *rep;
};

static void report_sample(void *ctx, size_t i, const struct observation *o)
{
	struct report_ctx *c = ctx;
	struct recommend_service *s = &c->rep->services[i];
	double step = c->rep->step;
	/* Weighed as the daemon weighs a check: the time since the previous
	 * sample, at most two steps. */
	double w = s->samples ? fmin(o->time - s->last, 2 * step) : step;
	recommender_observe(c->cfg, &s->usage, o, o->time, w);
	if (!s->samples++)
		s->first = o->time;
	s->last = o->time;
	s->throttled_sum += o->cpu_throttled_known ? o->cpu_throttled : 0;
	if (o->cpu_used_known)
		histogram_add(&s->cpu_all, o->cpu_used, step, o->time, 0);
	if (o->mem_interval_peak_known || o->mem_used_known)
		histogram_add(
		        &s->mem_all,
		        (double)(o->mem_interval_peak_known ? o->mem_interval_peak : o->mem_used) /
		                (double)UNITS_MIB,
		        step, o->time, 0);
	s->cpu_limit = o->cpu_limit_known ? o->cpu_limit : NAN;
	s->mem_limit = o->mem_limit_known ? (double)o->mem_limit : NAN;
	s->replicas = o->n_containers;
}

/* The recommendation and what it would have meant over the history. */
static void report_finish(const struct rm_config *cfg, struct recommend_report *rep,
                          struct recommend_service *s)
{
	struct engine_policy pol;
	engine_policy_for(cfg, s->name, &pol);
	recommender_recommend(cfg, &s->usage, &s->rec);
	engine_recommended_limits(&pol, &s->rec, &s->rec_cpu, &s->rec_mem);
	s->cpu_over = s->rec.cpu.known ? histogram_share_above(&s->cpu_all, s->rec_cpu) : NAN;
	s->mem_oom =
	        s->rec.mem.known
	                ? histogram_share_above(&s->mem_all, (double)s->rec_mem / (double)UNITS_MIB)
	                : NAN;
	s->cpu_slack = s->rec_cpu > 0 ? fmax(0, 1 - histogram_mean(&s->cpu_all) / s->rec_cpu) : NAN;
	s->mem_slack = s->rec_mem > 0
	                       ? fmax(0, 1 - histogram_mean(&s->mem_all) * (double)UNITS_MIB /
	                                                 (double)s->rec_mem)
	                       : NAN;
	double steps = floor((rep->end - rep->start) / rep->step) + 1;
	double cover = (double)s->samples / steps, thr = s->throttled_sum / (double)s->samples;
	s->partial_range = s->samples && cover < 0.95;
	if (!s->samples)
		snprintf(s->note, sizeof(s->note), "no history (no series for this name)");
	else if (s->partial_range)
		snprintf(s->note, sizeof(s->note), "history for %.0f%% of the steps", 100 * cover);
	if (s->samples && thr > 1 - cfg->recommender.cpu_percentile) {
		size_t len = strlen(s->note);
		snprintf(s->note + len, sizeof(s->note) - len,
		         "%sthrottled %.0f%% of the time: demand above the limit is not measured",
		         len ? "; " : "", 100 * thr);
	}
	if (s->samples && isnan(histogram_mean(&s->cpu_all)))
		s->cpu_limit = NAN;
}

int recommend_from_prometheus(const struct rm_config *cfg, const char *const *services, size_t n,
                              double start, double end, double step, size_t max_points,
                              bool progress, struct recommend_report *ret, char *err, size_t errlen)
{
	struct recommend_report rep = { .start = start, .end = end, .step = step };
	services = service_list(cfg, services, &n);
	if (n == 0) {
		snprintf(err, errlen, "no service to recommend for: services.monitored is empty");
		return -EINVAL;
	}
	rep.n = n;
	rep.services = xcalloc(n, sizeof(*rep.services));
	for (size_t i = 0; i < n; i++) {
		struct recommend_service *s = &rep.services[i];
		s->name = xstrdup(services[i]);
		usage_history_init(&s->usage);
		histogram_init(&s->cpu_all, HISTOGRAM_CPU_BASE);
		histogram_init(&s->mem_all, HISTOGRAM_MEM_BASE);
		s->cpu_limit = s->mem_limit = NAN;
	}
	struct report_ctx ctx = { cfg, &rep };
	struct source_prom_history_opts opts = { start, end, step, max_points, progress, 0 };
	int r = read_history(cfg, services, n, &opts, report_sample, &ctx, &rep.stats, err, errlen);
	if (r < 0) {
		recommend_report_free(&rep);
		return r;
	}
	for (size_t i = 0; i < n; i++)
		report_finish(cfg, &rep, &rep.services[i]);
	*ret = rep;
	return 0;
}

void recommend_report_free(struct recommend_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->services[i].name);
	free(r->services);
	memset(r, 0, sizeof(*r));
}

/* ---- the warm start ---- */

struct seed_ctx {
	const struct rm_config *cfg;
	struct usage_history *const *targets;
	double step;
	long fed;
};

static void seed_sample(void *ctx, size_t i, const struct observation *o)
{
	struct seed_ctx *c = ctx;
	if (!c->targets[i])
		return;
	recommender_observe(c->cfg, c->targets[i], o, o->time, c->step);
	c->fed++;
}

long recommend_seed(const struct rm_config *cfg, const char *const *services, size_t n,
                    struct usage_history *const *targets, double start, double end, double step,
                    struct source_prom_history_stats *stats, char *err, size_t errlen)
{
	struct seed_ctx ctx = { cfg, targets, step, 0 };
	/* Not worth delaying the start for: the first failure ends it. */
	struct source_prom_history_opts opts = { start, end, step, 0, false, 1 };
	int r = read_history(cfg, services, n, &opts, seed_sample, &ctx, stats, err, errlen);
	return r < 0 ? r : ctx.fed;
}

/* ---- the trace ---- */

struct trace_ctx {
	const char *const *services;
	double start;
	struct strbuf rows;
	bool *seen;           /* per service: its limits line is written */
	struct strbuf limits; /* "#   name: cpu=... memory=..." lines */
	double uptime;        /* the youngest container's age at its first step */
	long n_rows;
};

static void trace_sample(void *ctx, size_t i, const struct observation *o)
{
	struct trace_ctx *c = ctx;
	if (!c->seen[i]) {
		c->seen[i] = true;
		strbuf_printf(&c->limits, "#   %s:", c->services[i]);
		if (o->cpu_limit_known)
			o->cpu_limit > 0 ? strbuf_printf(&c->limits, " cpu=%.4f", o->cpu_limit)
			                 : strbuf_printf(&c->limits, " cpu=none");
		if (o->mem_limit_known)
			o->mem_limit > 0 ? strbuf_printf(&c->limits, " memory=%llu",
			                                 (unsigned long long)o->mem_limit)
			                 : strbuf_printf(&c->limits, " memory=none");
		strbuf_puts(&c->limits, "\n");
		if (o->uptime_known &&
		    (c->uptime < 0 || o->uptime - (o->time - c->start) < c->uptime))
			c->uptime = fmax(0, o->uptime - (o->time - c->start));
	}
	uint64_t mem = o->mem_interval_peak_known ? o->mem_interval_peak : o->mem_used;
	strbuf_printf(&c->rows, "%.0f,%s,", o->time - c->start, c->services[i]);
	if (o->cpu_used_known)
		strbuf_printf(&c->rows, "%.6f", o->cpu_used);
	strbuf_puts(&c->rows, ",");
	if (o->mem_interval_peak_known || o->mem_used_known)
		strbuf_printf(&c->rows, "%llu", (unsigned long long)mem);
	strbuf_puts(&c->rows, ",");
	if (o->oom_known)
		strbuf_printf(&c->rows, "%u", o->oom_kills);
	strbuf_puts(&c->rows, ",");
	if (o->cpu_throttled_known)
		strbuf_printf(&c->rows, "%.6f", o->cpu_throttled);
	strbuf_puts(&c->rows, "\n");
	c->n_rows++;
}

long recommend_trace(const struct rm_config *cfg, const char *const *services, size_t n,
                     double start, double end, double step, struct strbuf *csv,
                     struct source_prom_history_stats *stats, char *err, size_t errlen)
{
	services = service_list(cfg, services, &n);
	struct trace_ctx ctx = { .services = services, .start = start, .uptime = -1 };
	strbuf_init(&ctx.rows);
	strbuf_init(&ctx.limits);
	ctx.seen = xcalloc(n ? n : 1, sizeof(bool));
	struct source_prom_history_opts opts = { start, end, step, 0, false, 0 };
	int r = read_history(cfg, services, n, &opts, trace_sample, &ctx, stats, err, errlen);
	if (r >= 0) {
		char when[40];
		time_format_rfc3339(start, when, sizeof(when));
		strbuf_printf(csv, "# from Prometheus %s: %s and %.0f s on, every %.0f s\n",
		              cfg->monitoring.prometheus_url, when, end - start, step);
		strbuf_printf(csv, "# start: %.0f\n# uptime: %.0f\n# limits:\n", start,
		              ctx.uptime >= 0 ? ctx.uptime : 86400.0);
		strbuf_puts(csv, ctx.limits.data ? ctx.limits.data : "");
		strbuf_puts(csv, "time,service,cpu_used,mem_used,oom_kills,throttled_ratio\n");
		strbuf_puts(csv, ctx.rows.data ? ctx.rows.data : "");
	}
	strbuf_free(&ctx.rows);
	strbuf_free(&ctx.limits);
	free(ctx.seen);
	return r < 0 ? r : ctx.n_rows;
}
