/* cmd_recommend: `recommend`: what each service's limits should be, from its
 * Prometheus history, through the same histograms and maths as the daemon,
 * without touching anything. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/cli.h"
#include "rm/config.h"
#include "rm/engine.h"
#include "rm/overrides.h"
#include "rm/recommend.h"
#include "rm/units.h"
#include "rm/util.h"

enum rec_format {
	FMT_TABLE,
	FMT_JSON,
	FMT_CSV,
	FMT_COMPOSE,
	_FMT_MAX,
};
static const char *const format_names[_FMT_MAX] = { "table", "json", "csv", "compose" };

struct rec_opts {
	const char *config;
	double since, step;
	const char **services;
	size_t n_services;
	enum rec_format format;
	size_t max_points;
};

#define MAX_SERVICES 10000

static int bad(const char *fmt, ...) RM_PRINTF(1, 2);
static int bad(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "resource-manager recommend: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see 'resource-manager recommend --help'\n");
	return EXIT_INVALID;
}

static int parse_opts(int argc, char **argv, struct rec_opts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "since", required_argument, NULL, 's' },
		{ "step", required_argument, NULL, 'S' },
		{ "service", required_argument, NULL, 'v' },
		{ "format", required_argument, NULL, 'f' },
		{ "max-points", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	unsigned u;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:s:S:v:f:m:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 's':
			if (units_parse_duration(optarg, &o->since) < 0 || !(o->since > 0) ||
			    o->since > 400 * 86400.0)
				return bad(
				        "--since '%s': a duration above 0 and at most 400d (14d)",
				        optarg);
			break;
		case 'S':
			if (units_parse_duration(optarg, &o->step) < 0 || !(o->step >= 1) ||
			    o->step > 86400)
				return bad("--step '%s': a duration from 1s to 1d (5m)", optarg);
			break;
		case 'v':
			if (o->n_services == MAX_SERVICES)
				return bad("too many --service options (%d at most)", MAX_SERVICES);
			o->services[o->n_services++] = optarg;
			break;
		case 'f': {
			int f = -1;
			for (int i = 0; i < _FMT_MAX; i++)
				if (strcmp(format_names[i], optarg) == 0)
					f = i;
			if (f < 0)
				return bad("unknown format '%s' (table, json, csv or compose)",
				           optarg);
			o->format = (enum rec_format)f;
			break;
		}
		case 'm':
			if (units_parse_uint(optarg, &u) < 0 || u < 1)
				return bad("--max-points '%s': a whole number above 0", optarg);
			o->max_points = u;
			break;
		case ':':
			return bad("option %s needs a value", argv[optind - 1]);
		default:
			return bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	return EXIT_OK;
}

static void fmt_cores(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v <= 0)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%.2f", v);
}

static void fmt_mib(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v <= 0)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%.0fMi", v / (double)UNITS_MIB);
}

static void fmt_share(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", v * 100);
}

static void write_table(const struct recommend_report *r, FILE *out)
{
	char a[24], b[24], c[24], d[24], e[24], f[24], g[24], h[24], i2[24], j[24];
	fprintf(out, "%-20s %7s | %6s %6s %6s %6s %6s %6s | %7s %7s %7s %7s %7s %6s | %s\n",
	        "service", "samples", "cpu", "p50", "p99", "rec", "over", "slack", "memory", "p50",
	        "p99", "rec", "max", "oom", "note");
	for (size_t i = 0; i < r->n; i++) {
		const struct recommend_service *s = &r->services[i];
		fmt_cores(s->cpu_limit, a, sizeof(a));
		fmt_cores(s->rec.cpu.known ? s->rec.cpu.p50 : NAN, b, sizeof(b));
		fmt_cores(s->rec.cpu.known ? s->rec.cpu.p99 : NAN, c, sizeof(c));
		fmt_cores(s->rec.cpu.known ? s->rec_cpu : NAN, d, sizeof(d));
		fmt_share(s->cpu_over, e, sizeof(e));
		fmt_share(s->cpu_slack, f, sizeof(f));
		fmt_mib(s->mem_limit, g, sizeof(g));
		fmt_mib(s->rec.mem.known ? s->rec.mem.p50 : NAN, h, sizeof(h));
		fmt_mib(s->rec.mem.known ? s->rec.mem.p99 : NAN, i2, sizeof(i2));
		fmt_mib(s->rec.mem.known ? (double)s->rec_mem : NAN, j, sizeof(j));
		char mx[24], oom[24];
		fmt_mib(s->rec.mem.known ? s->rec.mem.max : NAN, mx, sizeof(mx));
		fmt_share(s->mem_oom, oom, sizeof(oom));
		fprintf(out,
		        "%-20s %7zu | %6s %6s %6s %6s %6s %6s | %7s %7s %7s %7s %7s %6s | %s\n",
		        s->name, s->samples, a, b, c, d, e, f, g, h, i2, j, mx, oom, s->note);
	}
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(round(v * 10000) / 10000) : json_null();
}

static json_t *resource_json(const struct rec_resource *r, double limit, double rec, double over,
                             double slack, const char *over_key)
{
	if (!r->known)
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "limit",
	                 jnum(limit), "p50", jnum(r->p50), "p90", jnum(r->p90), "p99", jnum(r->p99),
	                 "max", jnum(r->max), "mean", jnum(r->mean), "target", jnum(r->target),
	                 "lower", jnum(r->lower), "upper", jnum(r->upper), "recommended", jnum(rec),
	                 over_key, jnum(over), "expected_slack", jnum(slack));
}

static int write_json(const struct recommend_report *r, FILE *out)
{
	json_t *svcs = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct recommend_service *s = &r->services[i];
		json_array_append_new(
		        svcs, json_pack("{s:s, s:I, s:o, s:o, s:b, s:s, s:o, s:o}", "service",
		                        s->name, "samples", (json_int_t)s->samples, "first",
		                        jnum(s->first), "last", jnum(s->last), "partial",
		                        s->partial_range, "note", s->note, "cpu",
		                        resource_json(&s->rec.cpu, s->cpu_limit, s->rec_cpu,
		                                      s->cpu_over, s->cpu_slack, "over_share"),
		                        "memory",
		                        resource_json(&s->rec.mem, s->mem_limit, (double)s->rec_mem,
		                                      s->mem_oom, s->mem_slack, "oom_share")));
	}
	const struct source_prom_history_stats *st = &r->stats;
	json_t *root =
	        json_pack("{s:{s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:b, s:s}, s:o}", "history",
	                  "start", jnum(r->start), "end", jnum(r->end), "step", jnum(r->step),
	                  "steps", (json_int_t)st->steps, "chunks", (json_int_t)st->chunks,
	                  "requests", (json_int_t)st->requests, "bytes", (json_int_t)st->bytes,
	                  "observations", (json_int_t)st->observations, "partial", st->partial,
	                  "error", st->first_error, "services", svcs);
	size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10);
	int rc = json_dumpf(root, out, flags) < 0 ? -EIO : 0;
	fputc('\n', out);
	json_decref(root);
	return rc;
}

static void write_csv(const struct recommend_report *r, FILE *out)
{
	fprintf(out, "service,samples,cpu_limit,cpu_p50,cpu_p90,cpu_p99,cpu_max,cpu_recommended,"
	             "cpu_lower,cpu_upper,cpu_over_share,cpu_expected_slack,memory_limit,"
	             "memory_p50,memory_p90,memory_p99,memory_max,memory_recommended,"
	             "memory_lower,memory_upper,memory_oom_share,memory_expected_slack,partial\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct recommend_service *s = &r->services[i];
		const struct rec_resource *c = &s->rec.cpu, *m = &s->rec.mem;
		fprintf(out, "%s,%zu", s->name, s->samples);
		if (c->known)
			fprintf(out, ",%g,%.4f,%.4f,%.4f,%.4f,%.2f,%.4f,%.4f,%.4f,%.4f",
			        s->cpu_limit, c->p50, c->p90, c->p99, c->max, s->rec_cpu, c->lower,
			        c->upper, s->cpu_over, s->cpu_slack);
		else
			fprintf(out, ",,,,,,,,,,");
		if (m->known)
			fprintf(out, ",%.0f,%.0f,%.0f,%.0f,%.0f,%llu,%.0f,%.0f,%.4f,%.4f",
			        s->mem_limit, m->p50, m->p90, m->p99, m->max,
			        (unsigned long long)s->rec_mem, m->lower, m->upper, s->mem_oom,
			        s->mem_slack);
		else
			fprintf(out, ",,,,,,,,,,");
		fprintf(out, ",%s\n", s->partial_range ? "true" : "false");
	}
}

static void write_compose(const struct recommend_report *r, FILE *out)
{
	struct override *o = xcalloc(r->n + 1, sizeof(*o));
	size_t n = 0;
	char since[32], step[32], when[40];
	for (size_t i = 0; i < r->n; i++) {
		const struct recommend_service *s = &r->services[i];
		unsigned reps = s->replicas ? s->replicas : 1;
		if (!s->rec.cpu.known && !s->rec.mem.known)
			continue;
		o[n++] = (struct override){ s->name, s->rec.cpu.known ? s->rec_cpu / reps : 0,
			                    s->rec.mem.known ? s->rec_mem / reps : 0 };
	}
	units_format_duration(r->end - r->start, since, sizeof(since));
	units_format_duration(r->step, step, sizeof(step));
	time_format_rfc3339(r->end, when, sizeof(when));
	char *header =
	        xasprintf("Written by resource-manager recommend from %s of Prometheus history "
	                  "(%s steps, to %s).\n"
	                  "The recommended limits, per container. Review, then apply with:\n"
	                  "  docker compose -f docker-compose.yml -f <this file> up -d%s",
	                  since, step, when,
	                  r->stats.partial ? "\nPARTIAL: some history could not be read." : "");
	overrides_write(out, header, o, n);
	free(header);
	free(o);
}

static int recommend_run(int argc, char **argv)
{
	struct rec_opts o = { .since = 14 * 86400.0, .step = 300 };
	struct rm_config *cfg = NULL;
	struct recommend_report rep = { 0 };
	char err[512] = "";
	o.services = xcalloc(MAX_SERVICES, sizeof(char *));
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		goto out;
	rc = cli_load_config(o.config, &cfg);
	if (rc)
		goto out;
	double end = floor(time_wall() / o.step) * o.step;
	int r = recommend_from_prometheus(cfg, o.services, o.n_services, end - o.since, end, o.step,
	                                  o.max_points, o.format == FMT_TABLE, &rep, err,
	                                  sizeof(err));
	if (r < 0) {
		fprintf(stderr, "resource-manager recommend: %s\n", err);
		rc = r == -ENOENT ? EXIT_INVALID : EXIT_RUNTIME;
		goto out;
	}
	if (rep.stats.partial)
		fprintf(stderr,
		        "resource-manager recommend: PARTIAL: %zu of %zu chunks of history could "
		        "not be read (%s); the figures cover the rest\n",
		        rep.stats.failed_chunks, rep.stats.chunks, rep.stats.first_error);
	switch (o.format) {
	case FMT_JSON:
		r = write_json(&rep, stdout);
		break;
	case FMT_CSV:
		write_csv(&rep, stdout);
		break;
	case FMT_COMPOSE:
		write_compose(&rep, stdout);
		break;
	default:
		write_table(&rep, stdout);
	}
	if (r < 0 || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "resource-manager recommend: cannot write the report\n");
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = EXIT_OK;
out:
	recommend_report_free(&rep);
	config_free(cfg);
	free(o.services);
	return rc;
}

const struct cli_command cmd_recommend = {
	.name = "recommend",
	.summary = "what each service's limits should be, from its Prometheus history",
	.usage = "Usage: resource-manager recommend [--config FILE] [--since 14d] [--step 5m]\n"
	         "                                  [--service S]... [--format FORMAT]\n"
	         "\n"
	         "Reads each monitored service's cAdvisor history from Prometheus\n"
	         "(query_range, in chunks so that no answer grows past --max-points samples),\n"
	         "feeds it through the same usage histograms the daemon keeps, and prints per\n"
	         "service: the current limits, usage percentiles, the recommendation (within\n"
	         "the service's bounds) and its expected slack, and the share of the history\n"
	         "that would have gone over the recommended CPU limit, or been OOM-killed\n"
	         "under the recommended memory limit. Changes nothing.\n"
	         "\n"
	         "  -c, --config FILE    the configuration (Prometheus URL, services,\n"
	         "                       recommender.*, bounds)\n"
	         "  -s, --since DURATION how far back (default 14d, at most 400d)\n"
	         "  -S, --step DURATION  one sample per step, as one check (default 5m)\n"
	         "  -v, --service NAME   only these services (repeatable; default:\n"
	         "                       services.monitored)\n"
	         "  -f, --format FORMAT  table (default), json, csv, or compose (a Compose\n"
	         "                       override file with the recommended limits)\n"
	         "      --max-points N   samples per answer at most (default 50000)\n"
	         "\n"
	         "Progress goes to stderr for the table. A chunk of history Prometheus cannot\n"
	         "give (timeout, 5xx) is skipped: the result is marked PARTIAL.\n"
	         "Exit status: 0 done (also partial), 1 invalid arguments or config, or no\n"
	         "Prometheus configured, 2 Prometheus unreachable or no history read.\n",
	.run = recommend_run,
};
