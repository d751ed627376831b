/* cmd_simulate: the `simulate` command, which replays a usage trace offline
 * through the decision engine and prints its decisions and their quality. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rm/cli.h"
#include "rm/config.h"
#include "rm/recommend.h"
#include "rm/simulate.h"
#include "rm/units.h"
#include "rm/util.h"

enum sim_format {
	SIM_FORMAT_TABLE,
	SIM_FORMAT_JSON,
	_SIM_FORMAT_MAX,
};

static const char *const format_names[_SIM_FORMAT_MAX] = {
	[SIM_FORMAT_TABLE] = "table",
	[SIM_FORMAT_JSON] = "json",
};

static int format_from_string(const char *s)
{
	for (int i = 0; i < _SIM_FORMAT_MAX; i++)
		if (strcmp(format_names[i], s) == 0)
			return i;
	return -EINVAL;
}

struct sim_opts {
	const char *config;
	const char *trace;
	enum sim_format format;
	bool all;
	bool compare; /* both policies side by side */
	bool oracle;  /* and the hindsight oracle */
	/* --from-prometheus: the trace built from history instead of --trace. */
	bool from_prom;
	double since, step;
	const char *services[64];
	size_t n_services;
	const char *write_trace;
};

static int simulate_parse(int argc, char **argv, struct sim_opts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "trace", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'a' },
		{ "compare", no_argument, NULL, 'C' },
		{ "oracle", no_argument, NULL, 'O' },
		{ "from-prometheus", no_argument, NULL, 'P' },
		{ "since", required_argument, NULL, 's' },
		{ "step", required_argument, NULL, 'S' },
		{ "service", required_argument, NULL, 'v' },
		{ "write-trace", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int c, f;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:t:f:a", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 't':
			o->trace = optarg;
			break;
		case 'f':
			f = format_from_string(optarg);
			if (f < 0) {
				fprintf(stderr,
				        "resource-manager simulate: unknown format '%s' (json or "
				        "table)\n",
				        optarg);
				return EXIT_INVALID;
			}
			o->format = (enum sim_format)f;
			break;
		case 'a':
			o->all = true;
			break;
		case 'C':
			o->compare = true;
			break;
		case 'O':
			o->oracle = true;
			break;
		case 'P':
			o->from_prom = true;
			break;
		case 's':
		case 'S':
			if (units_parse_duration(optarg, c == 's' ? &o->since : &o->step) < 0 ||
			    !((c == 's' ? o->since : o->step) >= 1)) {
				fprintf(stderr,
				        "resource-manager simulate: %s '%s': a duration of 1s or "
				        "more\n",
				        c == 's' ? "--since" : "--step", optarg);
				return EXIT_INVALID;
			}
			break;
		case 'v':
			if (o->n_services == RM_ARRAY_SIZE(o->services)) {
				fprintf(stderr,
				        "resource-manager simulate: at most %zu --service\n",
				        RM_ARRAY_SIZE(o->services));
				return EXIT_INVALID;
			}
			o->services[o->n_services++] = optarg;
			break;
		case 'w':
			o->write_trace = optarg;
			break;
		case ':':
			fprintf(stderr, "resource-manager simulate: option %s needs a value\n",
			        argv[optind - 1]);
			return EXIT_INVALID;
		default:
			fprintf(stderr,
			        "resource-manager simulate: unknown option '%s'; see "
			        "'resource-manager simulate --help'\n",
			        argv[optind - 1]);
			return EXIT_INVALID;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "resource-manager simulate: unexpected argument '%s'\n",
		        argv[optind]);
		return EXIT_INVALID;
	}
	if (!o->trace == !o->from_prom) {
		fprintf(stderr,
		        "resource-manager simulate: %s; see 'resource-manager simulate "
		        "--help'\n",
		        o->trace ? "--trace and --from-prometheus exclude each other"
		                 : "--trace FILE is required (or --from-prometheus)");
		return EXIT_INVALID;
	}
	if (!o->from_prom && (o->since > 0 || o->step > 0 || o->n_services || o->write_trace)) {
		fprintf(stderr, "resource-manager simulate: --since, --step, --service and "
		                "--write-trace go with --from-prometheus\n");
		return EXIT_INVALID;
	}
	return EXIT_OK;
}

/* --from-prometheus: the history of the monitored services (or --service)
 * over --since (7d) at --step (the check interval), as trace rows, saved to
 * --write-trace when asked, then parsed as any trace. */
static int trace_from_prometheus(const struct sim_opts *o, const struct rm_config *cfg,
                                 struct simulate_trace **ret)
{
	struct strbuf csv;
	struct source_prom_history_stats st = { 0 };
	char err[512] = "";
	double step = o->step > 0 ? o->step : cfg->monitoring.check_interval;
	double since = o->since > 0 ? o->since : 7 * 86400.0;
	double end = floor(time_wall() / step) * step;
	int rc = EXIT_OK;
	strbuf_init(&csv);
	long rows = recommend_trace(cfg, o->services, o->n_services, end - since, end, step, &csv,
	                            &st, err, sizeof(err));
	if (rows < 0) {
		fprintf(stderr, "resource-manager simulate: %s\n", err);
		rc = rows == -ENOENT ? EXIT_INVALID : EXIT_RUNTIME;
		goto out;
	}
	fprintf(stderr,
	        "resource-manager simulate: %ld rows from Prometheus (%zu chunks, %u "
	        "requests)%s%s\n",
	        rows, st.chunks, st.requests, st.partial ? "; PARTIAL: " : "",
	        st.partial ? st.first_error : "");
	if (o->write_trace &&
	    file_write_atomic(o->write_trace, csv.data, csv.len, 0644, err, sizeof(err)) < 0) {
		fprintf(stderr, "resource-manager simulate: cannot write the trace: %s\n", err);
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (rows == 0 ||
	    simulate_trace_parse(csv.data, csv.len, "prometheus", ret, err, sizeof(err)) < 0) {
		fprintf(stderr, "resource-manager simulate: %s\n",
		        rows == 0 ? "Prometheus has no history for these services" : err);
		rc = EXIT_RUNTIME;
	}
out:
	strbuf_free(&csv);
	return rc;
}

/* Runs what o asks for: one policy (the configured one), or with --compare
 * and --oracle several results of the same trace. Returns how many. */
static int simulate_results(const struct sim_opts *o, struct rm_config *cfg,
                            const struct simulate_trace *t, struct simulate_result **rs, char *err,
                            size_t errlen)
{
	static const enum adjustment_policy both[] = { POLICY_THRESHOLD, POLICY_PERCENTILE };
	int n = 0;
	if (!o->compare && !o->oracle)
		return simulate_run(cfg, t, o->all, &rs[n], err, errlen) < 0 ? -EINVAL : 1;
	for (size_t i = 0; o->compare && i < 2; i++) {
		cfg->adjustment.policy = both[i];
		if (simulate_run(cfg, t, o->all, &rs[n], err, errlen) < 0)
			return -EINVAL;
		n++;
	}
	if (o->oracle) {
		if (simulate_oracle(cfg, t, &rs[n], err, errlen) < 0)
			return -EINVAL;
		n++;
	}
	return n;
}

static int simulate_cmd_run(int argc, char **argv)
{
	struct sim_opts o = { .format = SIM_FORMAT_TABLE };
	struct rm_config *cfg = NULL;
	struct simulate_trace *t = NULL;
	struct simulate_result *rs[3] = { NULL };
	char err[512] = "";
	int n = 0, r;
	int rc = simulate_parse(argc, argv, &o);
	if (rc)
		return rc;
	rc = cli_load_config(o.config, &cfg);
	if (rc)
		goto out;
	if (o.from_prom) {
		rc = trace_from_prometheus(&o, cfg, &t);
		if (rc)
			goto out;
	} else if (simulate_trace_load(o.trace, &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "resource-manager simulate: %s\n", err);
		rc = EXIT_INVALID;
		goto out;
	}
	if ((n = simulate_results(&o, cfg, t, rs, err, sizeof(err))) < 0) {
		fprintf(stderr, "resource-manager simulate: %s\n", err);
		rc = EXIT_INVALID;
		goto out;
	}
	bool json = o.format == SIM_FORMAT_JSON;
	if (o.compare || o.oracle)
		r = json ? simulate_write_compare_json(rs, (size_t)n, stdout)
		         : simulate_write_compare_table(rs, (size_t)n, stdout);
	else
		r = json ? simulate_write_json(rs[0], stdout) : simulate_write_table(rs[0], stdout);
	if (r < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "resource-manager simulate: cannot write the report: %s\n",
		        strerror(errno ? errno : EIO));
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = EXIT_OK;
out:
	for (size_t i = 0; i < 3; i++)
		simulate_result_free(rs[i]);
	simulate_trace_free(t);
	config_free(cfg);
	return rc;
}

const struct cli_command cmd_simulate = {
	.name = "simulate",
	.summary = "replay a usage trace offline through the decision engine",
	.usage = "Usage: resource-manager simulate [--config FILE] --trace FILE.csv\n"
	         "                                 [--format table|json] [--all]\n"
	         "                                 [--compare] [--oracle]\n"
	         "\n"
	         "Replays a CSV usage trace through the same decision engine and state\n"
	         "handling as the daemon, as if every decision were applied at once, to tune\n"
	         "thresholds before going live. Prints every change with its explanation,\n"
	         "then per service: samples, changes, share of samples over the limit, mean\n"
	         "and p95 slack ((limit - use) / limit) and the final limits.\n"
	         "\n"
	         "Trace: '#' comment lines, then rows\n"
	         "  time,service,cpu_used,mem_used[,oom_kills,throttled_ratio,cpu_demand]\n"
	         "time in seconds from the start, cpu in cores, memory in bytes or 512M;\n"
	         "an empty field is unknown. Header comments:\n"
	         "  # start: 2024-03-09T00:00:00Z   wall-clock time of t=0 (daily cap, TZ)\n"
	         "  # uptime: 1d                    container age at t=0\n"
	         "  # host: cpu=4 memory=8G         host totals (optional services shrink)\n"
	         "  # limits:\n"
	         "  #   web: cpu=1.0 memory=512M    initial limits (else the config baselines)\n"
	         "\n"
	         "  -c, --config FILE    the configuration (thresholds, factors, bounds...)\n"
	         "  -t, --trace FILE     the trace to replay\n"
	         "  -f, --format FORMAT  table (default) or json\n"
	         "  -a, --all            print every check's decision, not only changes\n"
	         "      --compare        replay under both policies (threshold, percentile)\n"
	         "                       and print their quality side by side\n"
	         "      --oracle         add the hindsight daily oracle to the comparison\n"
	         "\n"
	         "Rows denser than monitoring.check_interval become one check each (CPU\n"
	         "averaged, memory at its maximum); quality is measured on every row. With\n"
	         "cpu_demand the replay is closed-loop: use is capped at the limit in force,\n"
	         "throttling follows, and memory above the limit is an OOM kill.\n"
	         "\n"
	         "The local day for max_adjustments_per_day follows TZ.\n"
	         "Exit status: 0 done, 1 invalid config or trace (file:line says where),\n"
	         "2 output could not be written.\n",
	.run = simulate_cmd_run,
};
