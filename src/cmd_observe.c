/* cmd_observe: prints what the service observes for each monitored service,
 * once or every check interval, as a table or JSON. Changes nothing. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rm/cli.h"
#include "rm/config.h"
#include "rm/log.h"
#include "rm/observation.h"
#include "rm/source.h"
#include "rm/source_auto.h"
#include "rm/units.h"
#include "rm/util.h"

enum observe_format {
	FORMAT_TABLE,
	FORMAT_JSON,
	_FORMAT_MAX,
};

static const char *const format_names[_FORMAT_MAX] = {
	[FORMAT_TABLE] = "table",
	[FORMAT_JSON] = "json",
};

static int format_from_string(const char *s)
{
	for (int i = 0; i < _FORMAT_MAX; i++)
		if (strcmp(format_names[i], s) == 0)
			return i;
	return -EINVAL;
}

struct observe_args {
	const char *config;
	bool once;
	enum observe_format format;
};

static int observe_parse(int argc, char **argv, struct observe_args *ret)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, '1' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int c, f;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:f:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ret->config = optarg;
			break;
		case '1':
			ret->once = true;
			break;
		case 'f':
			f = format_from_string(optarg);
			if (f < 0) {
				fprintf(stderr,
				        "resource-manager observe: --format must be json or table, "
				        "not '%s'\n",
				        optarg);
				return EXIT_INVALID;
			}
			ret->format = (enum observe_format)f;
			break;
		case ':':
			fprintf(stderr, "resource-manager observe: option %s needs a value\n",
			        argv[optind - 1]);
			return EXIT_INVALID;
		default:
			fprintf(stderr,
			        "resource-manager observe: unknown option '%s'; see "
			        "'resource-manager observe --help'\n",
			        argv[optind - 1]);
			return EXIT_INVALID;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "resource-manager observe: unexpected argument '%s'\n",
		        argv[optind]);
		return EXIT_INVALID;
	}
	return EXIT_OK;
}

/* The result of one check, for the printers. */
struct check {
	double time;
	const char *source;
	const struct source_stats *stats;
	const char *const *services;
	const struct observation *obs;
	size_t n;
};

static json_t *json_known_real(bool known, double v)
{
	return known ? json_real(v) : json_null();
}

static json_t *json_known_int(bool known, uint64_t v)
{
	return known ? json_integer((json_int_t)v) : json_null();
}

/* use / limit when both are known and there is a limit. */
static bool ratio(bool used_known, double used, bool limit_known, double limit, double *ret)
{
	if (!used_known || !limit_known || limit <= 0)
		return false;
	*ret = used / limit;
	return true;
}

static json_t *json_service(const char *name, const struct observation *o)
{
	double r = 0;
	bool cpu_r = ratio(o->cpu_used_known, o->cpu_used, o->cpu_limit_known, o->cpu_limit, &r);
	json_t *cpu = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "used",
	                        json_known_real(o->cpu_used_known, o->cpu_used), "limit",
	                        json_known_real(o->cpu_limit_known, o->cpu_limit), "unlimited",
	                        o->cpu_limit_known ? json_boolean(o->cpu_limit == 0) : json_null(),
	                        "ratio", json_known_real(cpu_r, r), "throttled",
	                        json_known_real(o->cpu_throttled_known, o->cpu_throttled), "trend",
	                        json_known_real(o->cpu_trend_known, o->cpu_trend));
	bool mem_r = ratio(o->mem_used_known, (double)o->mem_used, o->mem_limit_known,
	                   (double)o->mem_limit, &r);
	json_t *mem = json_pack("{s:o, s:o, s:o, s:o, s:o}", "used",
	                        json_known_int(o->mem_used_known, o->mem_used), "peak",
	                        json_known_int(o->mem_peak_known, o->mem_peak), "limit",
	                        json_known_int(o->mem_limit_known, o->mem_limit), "unlimited",
	                        o->mem_limit_known ? json_boolean(o->mem_limit == 0) : json_null(),
	                        "ratio", json_known_real(mem_r, r));
	return json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:s}", "service", name, "containers",
	                 (json_int_t)o->n_containers, "cpu", cpu, "memory", mem, "uptime",
	                 json_known_real(o->uptime_known, o->uptime), "oom_kills",
	                 json_known_int(o->oom_known, o->oom_kills), "unknown", o->unknown_reason);
}

static void print_json(const struct check *c)
{
	char ts[40];
	time_format_rfc3339(c->time, ts, sizeof(ts));
	json_t *services = json_array();
	for (size_t i = 0; i < c->n; i++)
		json_array_append_new(services, json_service(c->services[i], &c->obs[i]));
	json_t *root = json_pack("{s:s, s:s, s:I, s:I, s:f, s:o}", "time", ts, "source", c->source,
	                         "requests", (json_int_t)c->stats->requests, "bytes_received",
	                         (json_int_t)c->stats->bytes_received, "seconds", c->stats->seconds,
	                         "services", services);
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(root);
}

static void fmt_cpu(bool known, double v, bool is_limit, char *buf, size_t len)
{
	if (!known)
		snprintf(buf, len, "?");
	else if (is_limit && v == 0)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%.3f", v);
}

static void fmt_mem(bool known, uint64_t v, bool is_limit, char *buf, size_t len)
{
	if (!known)
		snprintf(buf, len, "?");
	else if (is_limit && v == 0)
		snprintf(buf, len, "none");
	else
		units_format_memory(v, buf, len);
}

static void fmt_ratio(bool known, double v, char *buf, size_t len)
{
	if (known)
		snprintf(buf, len, "%.0f%%", v * 100);
	else
		snprintf(buf, len, "-");
}

static void print_row(const char *name, const struct observation *o)
{
	char cu[24], cl[24], cr[16], th[16], mu[24], ml[24], mr[16], mp[24], up[24], oom[16];
	double r = 0;
	fmt_cpu(o->cpu_used_known, o->cpu_used, false, cu, sizeof(cu));
	fmt_cpu(o->cpu_limit_known, o->cpu_limit, true, cl, sizeof(cl));
	bool k = ratio(o->cpu_used_known, o->cpu_used, o->cpu_limit_known, o->cpu_limit, &r);
	fmt_ratio(k, r, cr, sizeof(cr));
	fmt_ratio(o->cpu_throttled_known, o->cpu_throttled, th, sizeof(th));
	if (!o->cpu_throttled_known)
		snprintf(th, sizeof(th), "?");
	fmt_mem(o->mem_used_known, o->mem_used, false, mu, sizeof(mu));
	fmt_mem(o->mem_limit_known, o->mem_limit, true, ml, sizeof(ml));
	k = ratio(o->mem_used_known, (double)o->mem_used, o->mem_limit_known, (double)o->mem_limit,
	          &r);
	fmt_ratio(k, r, mr, sizeof(mr));
	fmt_mem(o->mem_peak_known, o->mem_peak, false, mp, sizeof(mp));
	if (o->uptime_known)
		units_format_duration(floor(o->uptime), up, sizeof(up));
	else
		snprintf(up, sizeof(up), "?");
	if (o->oom_known)
		snprintf(oom, sizeof(oom), "%u", o->oom_kills);
	else
		snprintf(oom, sizeof(oom), "?");
	printf("%-20s %3u %9s %9s %6s %9s %10s %10s %6s %10s %8s %4s\n", name, o->n_containers, cu,
	       cl, cr, th, mu, ml, mr, mp, up, oom);
	if (o->unknown_reason[0])
		printf("%-20s     unknown: %s\n", "", o->unknown_reason);
}

static void print_table(const struct check *c)
{
	char ts[40];
	time_format_rfc3339(c->time, ts, sizeof(ts));
	printf("%s  source %s, %u requests, %.3f s\n", ts, c->source, c->stats->requests,
	       c->stats->seconds);
	printf("%-20s %3s %9s %9s %6s %9s %10s %10s %6s %10s %8s %4s\n", "SERVICE", "N", "CPU",
	       "CPU LIM", "CPU%", "THROTTLED", "MEM", "MEM LIM", "MEM%", "MEM PEAK", "UPTIME",
	       "OOM");
	for (size_t i = 0; i < c->n; i++)
		print_row(c->services[i], &c->obs[i]);
	fflush(stdout);
}

/* One check: collect and print. Returns 0, or EXIT_RUNTIME when no source
 * answered (said on stderr). */
static int observe_once(struct source *src, const struct rm_config *cfg, enum observe_format f)
{
	const char *const *services = (const char *const *)cfg->services.monitored.items;
	size_t n = cfg->services.monitored.n;
	struct observation *obs = xcalloc(n ? n : 1, sizeof(*obs));
	struct source_stats stats = { 0 };
	char err[1024] = "";
	double now = time_wall();
	int r = source_collect(src, services, n, now, obs, &stats, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "resource-manager observe: no metrics source answers: %s\n", err);
		free(obs);
		return EXIT_RUNTIME;
	}
	struct check c = { now, source_used_name(src), &stats, services, obs, n };
	if (f == FORMAT_JSON)
		print_json(&c);
	else
		print_table(&c);
	fflush(stdout);
	free(obs);
	return EXIT_OK;
}

/* Waits until the next check is due; returns the signal that ended the wait,
 * or 0 when it is time for the next check. */
static int wait_next(const sigset_t *set, double *next, double interval)
{
	*next += interval;
	double wait = *next - time_monotonic();
	if (wait < 0) {
		*next = time_monotonic();
		wait = 0;
	}
	struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };
	int s = sigtimedwait(set, NULL, &ts);
	return s > 0 ? s : 0;
}

static int observe_run(int argc, char **argv)
{
	struct observe_args args = { .format = FORMAT_TABLE };
	int r = observe_parse(argc, argv, &args);
	if (r)
		return r;
	struct rm_config *cfg = NULL;
	r = cli_load_config(args.config, &cfg);
	if (r)
		return r;
	struct source src = { 0 };
	char err[512] = "";
	int k = source_from_config(cfg, &src, err, sizeof(err));
	if (k < 0) {
		fprintf(stderr, "resource-manager observe: %s\n", err);
		r = k == -EINVAL ? EXIT_INVALID : EXIT_RUNTIME;
		goto out;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	double next = time_monotonic();
	for (;;) {
		r = observe_once(&src, cfg, args.format);
		if (args.once)
			break;
		/* Repeating: a failed check is reported and the next one tried. */
		r = EXIT_OK;
		if (wait_next(&set, &next, cfg->monitoring.check_interval))
			break;
	}
out:
	source_free(&src);
	config_free(cfg);
	return r;
}

const struct cli_command cmd_observe = {
	.name = "observe",
	.summary = "print what the service observes for each monitored service",
	.usage = "Usage: resource-manager observe [--config FILE] [--once] [--format json|table]\n"
	         "\n"
	         "Measures every service in services.monitored through the configured\n"
	         "source (monitoring.source: Prometheus, the Docker engine, or auto) and\n"
	         "prints, per service: containers found, CPU use and limit (cores), memory\n"
	         "use, peak and limit, use/limit ratios, CFS throttling, uptime, OOM kills,\n"
	         "and what is unknown and why. '?' (null in JSON) is unknown, never 0;\n"
	         "'none' (unlimited: true) is a container without a limit. Changes nothing.\n"
	         "Without --once it repeats every monitoring.check_interval until SIGINT\n"
	         "or SIGTERM, reporting a failed check on stderr and going on.\n"
	         "\n"
	         "  -c, --config FILE      the configuration file\n"
	         "      --once             one check, then exit\n"
	         "  -f, --format FORMAT    table (default) or json\n"
	         "\n"
	         "Exit status: 0 ok, 1 invalid config or arguments, 2 no metrics source\n"
	         "answers (with --once) or none is available.\n",
	.run = observe_run,
};
