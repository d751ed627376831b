/* bench_check: the cost of one check (collect + decide) for N services against
 * a real Prometheus that scrapes bench_exporter, in one of two modes:
 *   batched   the real Prometheus source (a fixed number of queries for all
 *             services) and the real engine;
 *   original  the original's access pattern: four instant queries per
 *             service, one after another, with its substring regex
 *             {name=~".*<svc>.*"}, the first sample of each taken as the value;
 *             then the same engine.
 * There is no publish step yet (the daemon loop is not built): a check here is
 * collect + decide.
 *
 *   bench_check --prometheus URL --services N --prefix P [--mode batched|original]
 *               [--project P] [--prom-pid PID] [--reps R] [--warmup W]
 *               [--ready-timeout S]
 *
 * --project sets services.project (the exporter's containers are in project
 * "bench"); --prom-pid reads Prometheus' own CPU (utime + stime of
 * /proc/PID/stat) before and after each check, less its idle rate (scrapes)
 * measured over 2 s before the checks.
 *
 * Waits until Prometheus has a rate for every exported container, runs W
 * unmeasured checks, then R measured ones, and prints one line of key=value
 * figures (median, min and max over the R checks; peak RSS of this process).
 * Run one process per mode and N so that the peak RSS belongs to that scale. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_stats.h"
#include "rm/config.h"
#include "rm/engine.h"
#include "rm/http.h"
#include "rm/observation.h"
#include "rm/prom.h"
#include "rm/source_prom.h"
#include "rm/units.h"
#include "rm/util.h"

/* Windows that a few seconds of 1 s scrapes fill with points of the order of
 * production's defaults: 10 per rate (5m of 15 s scrapes is 20) and 60
 * subquery steps (1h at 1m steps). */
#define ANALYSIS_WINDOW 10.0
#define TREND_WINDOW    60.0
#define MAX_REPS        1000

enum mode {
	MODE_BATCHED,
	MODE_ORIGINAL,
};

struct opts {
	const char *url, *prefix, *project;
	long prom_pid;
	size_t n;
	enum mode mode;
	unsigned reps, warmup;
	double ready_timeout;
};

/* Everything one run of checks keeps between checks. */
struct bench {
	const struct opts *o;
	struct rm_config *cfg;
	char **names;
	const char **services;
	struct engine_policy *policy;
	struct engine_state *state;
	struct observation *obs;
	struct engine_rank_item *rank;
	struct source src;          /* batched */
	struct prom_client *client; /* original */
};

/* What one check cost and found. */
struct check_cost {
	double wall, cpu_collect, cpu_decide;
	double prom_cpu; /* Prometheus' CPU seconds over the check, or -1 */
	unsigned requests;
	size_t bytes;
	size_t found, known, changes;
};

/* Prometheus' CPU seconds so far (utime + stime), or -1. */
static double proc_cpu(long pid)
{
	if (pid <= 0)
		return -1;
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	const char *p = strrchr(buf, ')');
	unsigned long ut, st;
	/* After the command: state and 10 fields, then utime and stime. */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static struct rm_config *bench_config(const char *url, const char *project)
{
	struct rm_config *cfg = config_new_default();
	free(cfg->services.project);
	cfg->services.project = xstrdup(project ? project : "");
	free(cfg->monitoring.prometheus_url);
	cfg->monitoring.prometheus_url = xstrdup(url);
	cfg->monitoring.query_timeout = 60;
	cfg->monitoring.analysis_window = ANALYSIS_WINDOW;
	cfg->monitoring.trend_window = TREND_WINDOW;
	/* The exporter serves usage, as the original reads. */
	cfg->monitoring.memory_metric = MEMORY_METRIC_USAGE;
	return cfg;
}

/* Polls until Prometheus has a rate for all n containers of the prefix. */
static int wait_ready(const struct opts *o)
{
	struct prom_client *pc = NULL;
	if (prom_client_new(o->url, 10, 0, &pc, NULL, 0) < 0)
		return -EINVAL;
	char win[32];
	units_format_prom_duration(ANALYSIS_WINDOW, win, sizeof(win));
	/* By container name: a compose container's and a Swarm task's
	 * (bench_exporter --swarm) both hold "<prefix>-". */
	char *q = xasprintf("count(rate(container_cpu_usage_seconds_total{"
	                    "name=~\".*%s-.*\"}[%s]))",
	                    o->prefix, win);
	double end = time_monotonic() + o->ready_timeout;
	double have = 0;
	int r = -ETIMEDOUT;
	while (time_monotonic() < end) {
		struct prom_response resp;
		if (prom_query(pc, q, 0, &resp, NULL, 0) == 0) {
			have = resp.n_samples ? resp.samples[0].value : 0;
			prom_response_free(&resp);
		}
		if (have >= (double)o->n) {
			r = 0;
			break;
		}
		usleep(250 * 1000);
	}
	if (r < 0)
		fprintf(stderr,
		        "bench_check: Prometheus has rates for %.0f of %zu containers "
		        "after %.0f s\n",
		        have, o->n, o->ready_timeout);
	free(q);
	prom_client_free(pc);
	return r;
}

static int bench_init(struct bench *b, const struct opts *o, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->o = o;
	b->cfg = bench_config(o->url, o->project);
	b->names = xcalloc(o->n, sizeof(*b->names));
	b->services = xcalloc(o->n, sizeof(*b->services));
	b->policy = xcalloc(o->n, sizeof(*b->policy));
	b->state = xcalloc(o->n, sizeof(*b->state));
	b->obs = xcalloc(o->n, sizeof(*b->obs));
	b->rank = xcalloc(o->n, sizeof(*b->rank));
	for (size_t i = 0; i < o->n; i++) {
		b->names[i] = xasprintf("%s-%05zu", o->prefix, i);
		b->services[i] = b->names[i];
		/* Policies come from the config, once per config load, not per check. */
		engine_policy_for(b->cfg, b->names[i], &b->policy[i]);
	}
	if (o->mode == MODE_BATCHED) {
		int r = source_prom_new(b->cfg, &b->src);
		if (r < 0)
			snprintf(err, errlen, "source_prom_new: %s", strerror(-r));
		return r;
	}
	return prom_client_new(o->url, b->cfg->monitoring.query_timeout, 0, &b->client, err,
	                       errlen);
}

static void bench_free(struct bench *b)
{
	if (b->src.ops)
		source_free(&b->src);
	prom_client_free(b->client);
	for (size_t i = 0; i < b->o->n; i++)
		free(b->names[i]);
	free(b->names);
	free(b->services);
	free(b->policy);
	free(b->state);
	free(b->obs);
	free(b->rank);
	config_free(b->cfg);
}

/* The first sample's value of one original-shaped query, as the original
 * read it; false when the query failed or gave nothing. */
static bool original_value(struct prom_client *pc, const char *promql, double *ret)
{
	struct prom_response resp;
	if (prom_query(pc, promql, 0, &resp, NULL, 0) < 0)
		return false;
	bool ok = resp.n_samples > 0 && isfinite(resp.samples[0].value);
	if (ok)
		*ret = resp.samples[0].value;
	prom_response_free(&resp);
	return ok;
}

/* The original's four PromQL texts for one service (owned by the caller),
 * in the order it sent them: CPU use, memory use, CPU limit, memory limit. */
static void original_queries(const char *svc, char *ret[4])
{
	char win[32];
	units_format_prom_duration(ANALYSIS_WINDOW, win, sizeof(win));
	ret[0] = xasprintf("rate(container_cpu_usage_seconds_total{name=~\".*%s.*\"}[%s])", svc,
	                   win);
	ret[1] = xasprintf("container_memory_usage_bytes{name=~\".*%s.*\"}", svc);
	ret[2] = xasprintf("container_spec_cpu_quota{name=~\".*%s.*\"} / 100000", svc);
	ret[3] = xasprintf("container_spec_memory_limit_bytes{name=~\".*%s.*\"}", svc);
}

/* The four queries of the original for one service, sequentially. */
static void original_collect_one(struct prom_client *pc, const char *svc, double now,
                                 struct observation *o)
{
	char *q[4];
	original_queries(svc, q);
	double v;
	o->time = now;
	if ((o->cpu_used_known = original_value(pc, q[0], &v)))
		o->cpu_used = v;
	if ((o->mem_used_known = original_value(pc, q[1], &v)))
		o->mem_used = (uint64_t)llround(fmax(v, 0));
	if ((o->cpu_limit_known = original_value(pc, q[2], &v)))
		o->cpu_limit = v;
	if ((o->mem_limit_known = original_value(pc, q[3], &v)))
		o->mem_limit = (uint64_t)llround(fmax(v, 0));
	o->n_containers = o->cpu_used_known || o->mem_used_known;
	for (int i = 0; i < 4; i++)
		free(q[i]);
}

/* Engine pass over every observation, as the daemon will run it. */
static size_t decide_all(struct bench *b, double now)
{
	int32_t day = engine_local_day(now);
	size_t n_rank = 0;
	for (size_t i = 0; i < b->o->n; i++) {
		struct engine_input in = { .cfg = b->cfg,
			                   .policy = &b->policy[i],
			                   .obs = &b->obs[i],
			                   .now = now,
			                   .day = day };
		struct engine_decision d;
		engine_decide(&in, &b->state[i], &b->state[i], &d);
		if (!engine_decision_changes(&d))
			continue;
		/* No deployment yet: record it as applied, as dry-run would. */
		engine_apply_result(b->cfg, &b->state[i], &d, true, now, day);
		b->rank[n_rank++] = (struct engine_rank_item){ .service = b->services[i],
			                                       .priority = b->policy[i].priority,
			                                       .reason = d.reason,
			                                       .changes = true,
			                                       .index = i };
	}
	engine_rank(b->rank, n_rank);
	return n_rank;
}

static int check_once(struct bench *b, struct check_cost *ret, char *err, size_t errlen)
{
	size_t n = b->o->n;
	memset(b->obs, 0, n * sizeof(*b->obs));
	memset(ret, 0, sizeof(*ret));
	double now = time_wall();
	double p0 = proc_cpu(b->o->prom_pid);
	double w0 = bench_wall_now(), c0 = bench_cpu_now();
	if (b->o->mode == MODE_BATCHED) {
		struct source_stats st = { 0 };
		int r = source_collect(&b->src, b->services, n, now, b->obs, &st, err, errlen);
		if (r < 0)
			return r;
		ret->requests = st.requests;
		ret->bytes = st.bytes_received;
	} else {
		unsigned req0 = prom_client_requests(b->client);
		size_t bytes0 = prom_client_bytes(b->client);
		for (size_t i = 0; i < n; i++)
			original_collect_one(b->client, b->services[i], now, &b->obs[i]);
		ret->requests = prom_client_requests(b->client) - req0;
		ret->bytes = prom_client_bytes(b->client) - bytes0;
	}
	double c1 = bench_cpu_now();
	ret->changes = decide_all(b, now);
	double c2 = bench_cpu_now(), w2 = bench_wall_now();
	double p2 = proc_cpu(b->o->prom_pid);
	ret->prom_cpu = p0 >= 0 && p2 >= 0 ? p2 - p0 : -1;
	ret->wall = w2 - w0;
	ret->cpu_collect = c1 - c0;
	ret->cpu_decide = c2 - c1;
	for (size_t i = 0; i < n; i++) {
		const struct observation *o = &b->obs[i];
		ret->found += o->n_containers > 0;
		ret->known += o->cpu_used_known && o->mem_used_known && o->cpu_limit_known &&
		              o->mem_limit_known;
	}
	return 0;
}

/* Length of the percent-encoded PromQL one check sends (the URLs' bulk), and
 * of the longest single query in *ret_max. */
static size_t url_bytes(struct bench *b, size_t *ret_max)
{
	size_t total = 0, max = 0;
	unsigned nq = b->o->mode == MODE_BATCHED ? SOURCE_PROM_QUERIES : 4;
	char *orig[4] = { 0 };
	/* The original's queries have the same shape for every service: measure
	 * one service's four and multiply. */
	if (b->o->mode == MODE_ORIGINAL)
		original_queries(b->services[0], orig);
	for (unsigned i = 0; i < nq; i++) {
		char *t = b->o->mode == MODE_BATCHED
		                  ? source_prom_query_text(&b->src, i, b->services, b->o->n)
		                  : orig[i];
		char *e = http_urlencode(t);
		size_t len = strlen(e);
		total += len;
		if (len > max)
			max = len;
		free(e);
		free(t);
	}
	*ret_max = max;
	return b->o->mode == MODE_BATCHED ? total : total * b->o->n;
}

static void print_spread(const char *key, double *v, size_t n, double scale)
{
	struct bench_spread s = bench_spread_of(v, n);
	printf(" %s_med=%.3f %s_min=%.3f %s_max=%.3f", key, s.med * scale, key, s.min * scale, key,
	       s.max * scale);
}

static int run(const struct opts *o)
{
	struct bench b;
	char err[1024] = "";
	int r = bench_init(&b, o, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bench_check: %s\n", err);
		return 1;
	}
	if (wait_ready(o) < 0) {
		bench_free(&b);
		return 1;
	}
	long rss_init = bench_peak_rss_kib();
	/* Prometheus' CPU while no check runs (its scrapes), per second. */
	double idle0 = proc_cpu(o->prom_pid), iw0 = bench_wall_now();
	if (idle0 >= 0)
		sleep(2);
	double prom_idle =
	        idle0 >= 0 ? (proc_cpu(o->prom_pid) - idle0) / (bench_wall_now() - iw0) : 0;
	struct check_cost c;
	for (unsigned i = 0; i < o->warmup; i++) {
		if ((r = check_once(&b, &c, err, sizeof(err))) < 0)
			goto fail;
	}
	double wall[MAX_REPS], cpu[MAX_REPS], cpu_c[MAX_REPS], cpu_d[MAX_REPS];
	double req[MAX_REPS], bytes[MAX_REPS], prom[MAX_REPS];
	size_t found = 0, known = 0, changes = 0;
	for (unsigned i = 0; i < o->reps; i++) {
		if ((r = check_once(&b, &c, err, sizeof(err))) < 0)
			goto fail;
		wall[i] = c.wall;
		cpu[i] = c.cpu_collect + c.cpu_decide;
		cpu_c[i] = c.cpu_collect;
		cpu_d[i] = c.cpu_decide;
		req[i] = c.requests;
		/* Less what its scrapes took over the same wall time. */
		prom[i] = c.prom_cpu - prom_idle * c.wall;
		bytes[i] = (double)c.bytes;
		found = c.found;
		known = c.known;
		changes += c.changes;
	}
	long rss = bench_peak_rss_kib();
	printf("mode=%s n=%zu reps=%u project=%s", o->mode == MODE_BATCHED ? "batched" : "original",
	       o->n, o->reps, o->project && *o->project ? o->project : "-");
	print_spread("wall_ms", wall, o->reps, 1e3);
	print_spread("cpu_ms", cpu, o->reps, 1e3);
	print_spread("collect_cpu_ms", cpu_c, o->reps, 1e3);
	print_spread("decide_cpu_ms", cpu_d, o->reps, 1e3);
	print_spread("requests", req, o->reps, 1);
	print_spread("bytes_rx", bytes, o->reps, 1);
	if (o->prom_pid > 0) {
		print_spread("prom_cpu_ms", prom, o->reps, 1e3);
		printf(" prom_idle_pct=%.2f", prom_idle * 100);
	}
	size_t url_max;
	size_t url_total = url_bytes(&b, &url_max);
	printf(" url_bytes=%zu url_max_bytes=%zu rss_init_kib=%ld rss_peak_kib=%ld found=%zu "
	       "known=%zu changes=%zu\n",
	       url_total, url_max, rss_init, rss, found, known, changes);
	bench_free(&b);
	return found == o->n ? 0 : 1;
fail:
	fprintf(stderr, "bench_check: check failed: %s (%s)\n", err, strerror(-r));
	bench_free(&b);
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_check --prometheus URL --services N --prefix P "
	                "[--mode batched|original] [--project P] [--prom-pid PID] [--reps R] "
	                "[--warmup W] [--ready-timeout S]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "prometheus", required_argument, NULL, 'u' },
		{ "services", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "reps", required_argument, NULL, 'r' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "ready-timeout", required_argument, NULL, 't' },
		{ "project", required_argument, NULL, 'P' },
		{ "prom-pid", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .prefix = "svc", .reps = 5, .warmup = 1, .ready_timeout = 120 };
	int c;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			o.url = optarg;
			break;
		case 'n':
			o.n = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o.prefix = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "batched") == 0)
				o.mode = MODE_BATCHED;
			else if (strcmp(optarg, "original") == 0)
				o.mode = MODE_ORIGINAL;
			else
				return usage();
			break;
		case 'r':
			o.reps = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			o.warmup = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			o.ready_timeout = strtod(optarg, NULL);
			break;
		case 'P':
			o.project = optarg;
			break;
		case 'i':
			o.prom_pid = strtol(optarg, NULL, 10);
			break;
		default:
			return usage();
		}
	}
	if (!o.url || o.n == 0 || o.reps == 0 || o.reps > MAX_REPS)
		return usage();
	return run(&o);
}
