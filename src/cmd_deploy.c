/* cmd_deploy: `deploy`, `rollback`, `status` and `reconcile`: the blue-green
 * script's command line (drop-in for the original's blue-green-deploy.sh)
 * on the in-process orchestrator, journaled in the state file. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/cli.h"
#include "rm/config.h"
#include "rm/deploy.h"
#include "rm/discovery.h"
#include "rm/docker.h"
#include "rm/engine.h"
#include "rm/log.h"
#include "rm/state.h"
#include "rm/state_store.h"
#include "rm/units.h"
#include "rm/util.h"

/* The original script's exit codes. */
enum {
	DEPLOY_EXIT_OK = 0,
	DEPLOY_EXIT_INVALID = 1,
	DEPLOY_EXIT_FAILED = 2,
	DEPLOY_EXIT_ROLLBACK_FAILED = 3,
	DEPLOY_EXIT_HEALTH = 4,
};

struct cli_ctx {
	const struct rm_config *cfg;
	const char *cmd;
	double t0;
	FILE *log;           /* --log-file: each progress and outcome line, timestamped */
	const char *service; /* for the log file's lines */
};

/* A line for the terminal (stdout) and, with --log-file, for the file. */
static void say(struct cli_ctx *x, bool progress, const char *line)
{
	if (progress)
		printf("[%6.2fs] %s\n", time_monotonic() - x->t0, line);
	else
		printf("%s\n", line);
	fflush(stdout);
	if (x->log) {
		char ts[40];
		time_format_rfc3339(time_wall(), ts, sizeof(ts));
		fprintf(x->log, "%s %s service=%s %s\n", ts, x->cmd, x->service ? x->service : "-",
		        line);
		fflush(x->log);
	}
}

static void progress_cb(void *ctx, const char *line)
{
	say(ctx, true, line);
}

/* --log-file PATH: appends there too (the original's blue-green log). */
static int open_log(struct cli_ctx *x, const char *path)
{
	if (!path)
		return 0;
	x->log = fopen(path, "ae");
	if (!x->log || log_open_file(path, LOG_INFO) < 0) {
		fprintf(stderr,
		        "resource-manager %s: cannot open --log-file %s: %s; nothing was done\n",
		        x->cmd, path, strerror(errno));
		return DEPLOY_EXIT_INVALID;
	}
	return 0;
}

static void close_log(struct cli_ctx *x)
{
	if (x->log) {
		fclose(x->log);
		log_open_file(NULL, LOG_INFO);
	}
	x->log = NULL;
}

/* Loads the state file (an empty state when there is none). */
static struct rm_state *state_open(const struct cli_ctx *x)
{
	struct rm_state *s = NULL;
	char err[256];
	if (!x->cfg->state.path || state_load(x->cfg->state.path, &s, err, sizeof(err)) < 0) {
		if (x->cfg->state.path)
			fprintf(stderr, "resource-manager %s: %s\n", x->cmd, err);
		return state_new();
	}
	return s;
}

/* Reports a failed read-modify-write of the state file. */
static int state_result(const struct cli_ctx *x, int r, const char *err)
{
	if (r < 0)
		fprintf(stderr, "resource-manager %s: cannot save the state: %s\n", x->cmd, err);
	else if (r == 1)
		fprintf(stderr, "resource-manager %s: %s\n", x->cmd, err);
	return r < 0 ? r : 0;
}

static void put_journal(struct rm_state *s, void *ctx)
{
	state_journal_put(s, ctx);
}

/* Write-ahead: the phase goes to the state file before its side effect,
 * under the state's lock (a running daemon merges it, never drops it). */
static int journal_cb(void *ctx, const struct state_journal *j)
{
	struct cli_ctx *x = ctx;
	char err[512];
	if (!x->cfg->state.path)
		return 0;
	int r = state_update(x->cfg->state.path, put_journal, (void *)(uintptr_t)j, time_wall(),
	                     err, sizeof(err));
	return state_result(x, r, err);
}

struct record_ctx {
	const struct cli_ctx *x;
	const char *service;
	const struct deploy_result *res;
	const char *why;
	struct state_counters counters; /* the service's, afterwards */
};

static void record_in(struct rm_state *s, void *ctx)
{
	struct record_ctx *rc = ctx;
	char *expl = xasprintf("%s: %s", rc->why, rc->res->message);
	deploy_record(s, rc->service, rc->res, rc->why, expl, time_wall(),
	              rc->x->cfg->state.history_size);
	free(expl);
	const struct state_service *ss = state_service_find(s, rc->service);
	rc->counters = ss ? ss->counters : (struct state_counters){ 0 };
}

/* Records the end of a deployment (deploy_record, under the state's lock);
 * *ret_counters gets the service's counters afterwards. */
static void record(const struct cli_ctx *x, const char *service, const struct deploy_result *res,
                   const char *why, struct state_counters *ret_counters)
{
	struct record_ctx rc = { x, service, res, why, { 0 } };
	if (x->cfg->state.path) {
		char err[512];
		state_result(x,
		             state_update(x->cfg->state.path, record_in, &rc, time_wall(), err,
		                          sizeof(err)),
		             err);
	} else {
		struct rm_state *s = state_new(); /* counters of this run only */
		record_in(s, &rc);
		state_free(s);
	}
	*ret_counters = rc.counters;
}

static void remove_journal(struct rm_state *s, void *ctx)
{
	state_journal_remove(s, ctx);
}

static int open_docker(const struct cli_ctx *x, struct docker_client **ret)
{
	struct docker_client_options o = {
		.host = x->cfg->docker.host,
		.api_version = x->cfg->docker.api_version,
		.timeout = x->cfg->docker.timeout,
	};
	char err[256];
	if (docker_client_new(&o, ret, err, sizeof(err)) < 0) {
		fprintf(stderr, "resource-manager %s: %s\n", x->cmd, err);
		return DEPLOY_EXIT_INVALID;
	}
	return 0;
}

/* Finishes an interrupted deployment of service (journal, else labels). */
static int reconcile_service(struct cli_ctx *x, struct docker_client *c, const char *service,
                             bool quiet)
{
	struct rm_state *s = state_open(x);
	struct state_journal *j = state_journal_find(s, service);
	struct deploy_result res;
	int r = deploy_reconcile(c, x->cfg, j, service, &res);
	if (r == 0 && j && x->cfg->state.path) {
		char err[512];
		state_result(x,
		             state_update(x->cfg->state.path, remove_journal,
		                          (void *)(uintptr_t)service, time_wall(), err,
		                          sizeof(err)),
		             err);
	}
	state_free(s);
	if (r == -EBUSY && quiet)
		return DEPLOY_EXIT_OK; /* the deployment's own lock refuses it next */
	if (r == 0 && res.outcome != DEPLOY_SKIPPED) {
		/* The interrupted deployment's end goes to the history. */
		struct state_counters cnt;
		record(x, service, &res, "reconciled", &cnt);
	}
	if (r < 0 || !quiet || res.outcome != DEPLOY_SKIPPED)
		printf("reconcile %s: %s: %s\n", service,
		       r < 0 ? "error" : deploy_outcome_to_string(res.outcome), res.message);
	if (r < 0)
		return DEPLOY_EXIT_FAILED;
	return res.outcome == DEPLOY_FAILED
	               ? (res.rollback_failed ? DEPLOY_EXIT_ROLLBACK_FAILED : DEPLOY_EXIT_FAILED)
	               : DEPLOY_EXIT_OK;
}

/* ---- --metrics: the original script's textfile, for node-exporter ---- */

#define METRICS_FILE_DEFAULT "/var/lib/node_exporter/textfile_collector/blue_green.prom"
#define METRICS_FILE_MAX     (4u << 20)

static const char *const metric_families[] = {
	"blue_green_deployment_total",     "blue_green_deployment_duration_seconds",
	"blue_green_deployment_timestamp", "blue_green_cpu_limit",
	"blue_green_memory_limit_bytes",
};
static const char *const metric_helps[] = {
	"Blue-green deployments of the service by outcome (success or failure).",
	"Duration of the service's last blue-green deployment.",
	"When the service's last blue-green deployment ended (epoch seconds).",
	"CPU limit (cores) in effect after the service's last blue-green deployment.",
	"Memory limit (bytes) in effect after the service's last blue-green deployment.",
};

/* The sample lines of this service for family f. */
static void metrics_lines(struct strbuf *sb, size_t f, const char *service,
                          const struct deploy_result *res, const struct state_counters *c)
{
	bool bg = res->strategy == STRATEGY_BLUE_GREEN, ok = res->outcome == DEPLOY_APPLIED;
	const struct state_limits *in_effect = ok ? &res->to : &res->from;
	const char *name = metric_families[f];
	if (f == 0) {
		strbuf_printf(sb, "%s{service=\"%s\",status=\"success\"} %lu\n", name, service,
		              c->blue_green_deployments);
		strbuf_printf(sb, "%s{service=\"%s\",status=\"failure\"} %lu\n", name, service,
		              c->blue_green_failed);
	} else if (!bg) {
		return; /* an in-place change: the gauges keep describing blue-green */
	} else if (f == 1) {
		strbuf_printf(sb, "%s{service=\"%s\",status=\"%s\"} %.3f\n", name, service,
		              ok ? "success" : "failure", res->duration);
	} else if (f == 2) {
		strbuf_printf(sb, "%s{service=\"%s\"} %.0f\n", name, service, time_wall());
	} else if (f == 3 && in_effect->cpu > 0) {
		strbuf_printf(sb, "%s{service=\"%s\"} %g\n", name, service, in_effect->cpu);
	} else if (f == 4 && in_effect->memory > 0) {
		strbuf_printf(sb, "%s{service=\"%s\"} %llu\n", name, service,
		              (unsigned long long)in_effect->memory);
	}
}

/* Whether line is a sample of family f for another service than ours. */
static bool metrics_keep(const char *line, size_t len, size_t f, const char *service)
{
	const char *name = metric_families[f];
	size_t n = strlen(name);
	if (len <= n + 10 || strncmp(line, name, n) != 0 ||
	    strncmp(line + n, "{service=\"", 10) != 0)
		return false;
	const char *v = line + n + 10;
	size_t sl = strlen(service);
	return !((size_t)(line + len - v) > sl && strncmp(v, service, sl) == 0 && v[sl] == '"');
}

/* Rewrites path with this deployment's samples of service, keeping the
 * other services' samples found there (one file may serve every service). */
static void write_metrics(struct cli_ctx *x, const char *path, const char *service,
                          const struct deploy_result *res, const struct state_counters *c)
{
	char *old = NULL, err[512];
	size_t old_len = 0;
	int r = file_read_all(path, METRICS_FILE_MAX, &old, &old_len);
	if (r < 0 && r != -ENOENT)
		log_warn("deploy",
		         "cannot read the metrics file, rewriting it\tpath=%s error=\"%s\"", path,
		         strerror(-r));
	struct strbuf sb;
	strbuf_init(&sb);
	for (size_t f = 0; f < RM_ARRAY_SIZE(metric_families); f++) {
		strbuf_printf(&sb, "# HELP %s %s\n# TYPE %s %s\n", metric_families[f],
		              metric_helps[f], metric_families[f], f == 0 ? "counter" : "gauge");
		for (const char *p = old; p && *p;) {
			const char *e = strchr(p, '\n');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			if (metrics_keep(p, len, f, service)) {
				strbuf_append(&sb, p, len);
				strbuf_puts(&sb, "\n");
			}
			p = e ? e + 1 : p + len;
		}
		metrics_lines(&sb, f, service, res, c);
	}
	free(old);
	if (file_write_atomic(path, sb.data, sb.len, 0644, err, sizeof(err)) < 0)
		fprintf(stderr,
		        "resource-manager %s: --metrics: %s; the deployment's outcome above "
		        "stands\n",
		        x->cmd, err);
	else
		say(x, false, "metrics written");
	strbuf_free(&sb);
}

static int exit_code(const struct deploy_result *res)
{
	switch (res->outcome) {
	case DEPLOY_APPLIED:
	case DEPLOY_DRY_RUN:
		return DEPLOY_EXIT_OK;
	case DEPLOY_SKIPPED:
		return res->refused ? DEPLOY_EXIT_INVALID : DEPLOY_EXIT_OK;
	case DEPLOY_ROLLED_BACK:
		return res->health_timeout ? DEPLOY_EXIT_HEALTH : DEPLOY_EXIT_FAILED;
	default:
		return res->rollback_failed ? DEPLOY_EXIT_ROLLBACK_FAILED : DEPLOY_EXIT_FAILED;
	}
}

/* Runs one deployment of service to the given limits; prints the outcome,
 * and writes metrics_path (NULL: none) unless it is a dry run. */
static int deploy_to(struct cli_ctx *x, struct docker_client *c, struct deploy_request *req,
                     const char *why, const char *metrics_path)
{
	int rc = reconcile_service(x, c, req->service, true);
	if (rc != DEPLOY_EXIT_OK) {
		fprintf(stderr,
		        "resource-manager %s: an earlier deployment of %s could not be "
		        "finished; nothing new was started\n",
		        x->cmd, req->service);
		return rc;
	}
	req->progress = progress_cb;
	req->progress_ctx = x;
	if (!req->dry_run) {
		req->journal = journal_cb;
		req->journal_ctx = x;
	}
	struct deploy_result res;
	int r = deploy_run(c, x->cfg, req, &res);
	if (r < 0) {
		fprintf(stderr, "resource-manager %s: %s\n", x->cmd, res.message);
		return r == -ENOENT || r == -EINVAL ? DEPLOY_EXIT_INVALID : DEPLOY_EXIT_FAILED;
	}
	struct state_counters counters;
	record(x, req->service, &res, why, &counters);
	char a[32], b[32], line[800];
	units_format_memory(res.to.memory, a, sizeof(a));
	units_format_memory(res.from.memory, b, sizeof(b));
	snprintf(line, sizeof(line), "%s %s: %s (%s, %.1f s): %s", x->cmd, req->service,
	         deploy_outcome_to_string(res.outcome),
	         res.backend == DEPLOY_BACKEND_SWARM ? "swarm"
	                                             : deploy_strategy_to_string(res.strategy),
	         res.duration, res.message);
	say(x, false, line);
	if (res.outcome == DEPLOY_APPLIED) {
		snprintf(line, sizeof(line), "limits: cpu %.2f -> %.2f, memory %s -> %s",
		         res.from.cpu, res.to.cpu, b, a);
		say(x, false, line);
	}
	if (metrics_path && res.outcome != DEPLOY_DRY_RUN)
		write_metrics(x, metrics_path, req->service, &res, &counters);
	return exit_code(&res);
}

static int load(struct cli_ctx *x, const char *config, struct rm_config **cfg)
{
	int r = cli_load_config(config, cfg);
	x->cfg = *cfg;
	x->t0 = time_monotonic();
	return r;
}

static int deploy_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-rollback", no_argument, NULL, 'R' },
		{ "no-drain", no_argument, NULL, 'D' },
		{ "strategy", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "log-file", required_argument, NULL, 'l' },
		{ "metrics", optional_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_ctx x = { .cmd = "deploy" };
	struct deploy_request req = { .rollback = true, .drain = true };
	const char *config = NULL, *log_path = NULL, *metrics_path = NULL;
	int o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":c:", opts, NULL)) != -1) {
		int s;
		switch (o) {
		case 'c':
			config = optarg;
			break;
		case 'n':
			req.dry_run = true;
			break;
		case 't':
			if (units_parse_duration(optarg, &req.health_timeout) < 0 ||
			    req.health_timeout <= 0) {
				fprintf(stderr, "resource-manager deploy: bad --timeout '%s'\n",
				        optarg);
				return DEPLOY_EXIT_INVALID;
			}
			break;
		case 'R':
			req.rollback = false;
			break;
		case 'D':
			req.drain = false;
			break;
		case 's':
			s = deploy_strategy_from_string(optarg);
			if (s < 0) {
				fprintf(stderr,
				        "resource-manager deploy: --strategy is auto, blue-green "
				        "or "
				        "in-place, not '%s'\n",
				        optarg);
				return DEPLOY_EXIT_INVALID;
			}
			req.strategy = (enum deploy_strategy)s;
			break;
		case 'f':
			req.force = true;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'm':
			metrics_path = optarg && *optarg ? optarg : getenv("METRICS_FILE");
			if (!metrics_path || !*metrics_path)
				metrics_path = METRICS_FILE_DEFAULT;
			break;
		default:
			fprintf(stderr, "resource-manager deploy: bad option '%s'; see --help\n",
			        argv[optind - 1]);
			return DEPLOY_EXIT_INVALID;
		}
	}
	if (argc - optind != 3) {
		fprintf(stderr,
		        "resource-manager deploy: expected SERVICE CPU MEMORY; see --help\n");
		return DEPLOY_EXIT_INVALID;
	}
	struct rm_config *cfg = NULL;
	if (load(&x, config, &cfg))
		return DEPLOY_EXIT_INVALID;
	int rc = DEPLOY_EXIT_INVALID;
	req.service = x.service = argv[optind];
	if (open_log(&x, log_path))
		goto out;
	const char *cpu_s = argv[optind + 1], *mem_s = argv[optind + 2];
	if (units_parse_cpu(cpu_s, &req.cpu) < 0 || !(req.cpu > 0)) {
		fprintf(stderr,
		        "resource-manager deploy: CPU '%s' is not a number of cores (e.g. 0.5, "
		        "1500m)\n",
		        cpu_s);
		goto out;
	}
	if (units_parse_memory(mem_s, &req.memory) < 0 || req.memory == 0) {
		fprintf(stderr,
		        "resource-manager deploy: memory '%s' is not a size (e.g. 768M, 1G)\n",
		        mem_s);
		goto out;
	}
	char why[320];
	if (engine_check_manual(cfg, req.service, true, req.cpu, true, req.memory, why,
	                        sizeof(why)) < 0) {
		if (!req.force) {
			fprintf(stderr,
			        "resource-manager deploy: %s; nothing was changed (--force deploys "
			        "it anyway)\n",
			        why);
			goto out;
		}
		log_warn("deploy", "%s; deploying anyway (--force)\tservice=%s", why, req.service);
	}
	req.set_cpu = req.set_memory = true;
	struct docker_client *c = NULL;
	if ((rc = open_docker(&x, &c)) == 0) {
		rc = deploy_to(&x, c, &req, "manual", metrics_path);
		docker_client_free(c);
	}
out:
	close_log(&x);
	config_free(cfg);
	return rc;
}

/* Common start of `rollback SERVICE`, `status SERVICE`, `reconcile SERVICE`:
 * the arguments, then the configuration. Returns 0, or non-zero after saying
 * what was wrong. */
static int service_begin(int argc, char **argv, struct cli_ctx *x, struct rm_config **cfg,
                         const char **service)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	int o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:c:", opts, NULL)) != -1) {
		if (o != 'c') {
			fprintf(stderr, "resource-manager %s: bad option '%s'; see --help\n",
			        x->cmd, argv[optind - 1]);
			return DEPLOY_EXIT_INVALID;
		}
		config = optarg;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "resource-manager %s: expected SERVICE; see --help\n", x->cmd);
		return DEPLOY_EXIT_INVALID;
	}
	*service = argv[optind];
	return load(x, config, cfg);
}

static int rollback_cmd(int argc, char **argv)
{
	struct cli_ctx x = { .cmd = "rollback" };
	const char *service = NULL;
	struct rm_config *cfg = NULL;
	if (service_begin(argc, argv, &x, &cfg, &service))
		return DEPLOY_EXIT_INVALID;
	int rc = DEPLOY_EXIT_INVALID;
	struct rm_state *s = state_open(&x);
	const struct state_service *ss = state_service_find(s, service);
	struct state_limits lg = ss ? ss->last_good : (struct state_limits){ 0 };
	state_free(s);
	if (!lg.known) {
		fprintf(stderr,
		        "resource-manager rollback: no earlier limits of %s are recorded in %s; "
		        "nothing was changed\n",
		        service, cfg->state.path ? cfg->state.path : "(no state file)");
		goto out;
	}
	struct deploy_request req = {
		.service = service,
		.set_cpu = lg.cpu > 0,
		.cpu = lg.cpu,
		.set_memory = lg.memory > 0,
		.memory = lg.memory,
		.rollback = true,
		.drain = true,
	};
	struct docker_client *c = NULL;
	if ((rc = open_docker(&x, &c)) == 0) {
		rc = deploy_to(&x, c, &req, "rollback", NULL);
		docker_client_free(c);
		if (rc != DEPLOY_EXIT_OK)
			rc = DEPLOY_EXIT_ROLLBACK_FAILED;
	}
out:
	config_free(cfg);
	return rc;
}

static void print_container(struct docker_client *c, const char *id)
{
	struct docker_inspect in = { 0 };
	char err[256];
	if (docker_container_inspect(c, id, &in, err, sizeof(err)) < 0) {
		printf("  %.12s: %s\n", id, err);
		return;
	}
	char mem[32];
	units_format_memory((uint64_t)(in.host_config.memory > 0 ? in.host_config.memory : 0), mem,
	                    sizeof(mem));
	printf("  %s (%.12s): %s%s%s, cpu %.2f, memory %s\n", in.name + (in.name[0] == '/'), in.id,
	       in.state.status ? in.state.status : "?", in.state.health_status ? ", " : "",
	       in.state.health_status ? in.state.health_status : "",
	       docker_host_config_cpus(&in.host_config),
	       in.host_config.memory > 0 ? mem : "unlimited");
	for (size_t i = 0; i < in.config.labels.n; i++)
		if (strncmp(in.config.labels.items[i].key, "deployment.", 11) == 0)
			printf("    %s=%s\n", in.config.labels.items[i].key,
			       in.config.labels.items[i].value);
	docker_inspect_free(&in);
}

static int status_cmd(int argc, char **argv)
{
	struct cli_ctx x = { .cmd = "status" };
	const char *service = NULL;
	struct rm_config *cfg = NULL;
	if (service_begin(argc, argv, &x, &cfg, &service))
		return DEPLOY_EXIT_INVALID;
	struct docker_client *c = NULL;
	int rc = open_docker(&x, &c);
	if (rc)
		goto out;
	struct docker_container_list list = { 0 };
	char err[256];
	printf("service %s\ncontainers:\n", service);
	if (docker_containers_list(c, true, NULL, 0, &list, err, sizeof(err)) < 0) {
		printf("  cannot list: %s\n", err);
		rc = DEPLOY_EXIT_FAILED;
	} else {
		struct discovery_rules rules = { cfg->services.project,
			                         cfg->services.label_opt_in };
		struct discovery_group g = { 0 };
		discovery_group_services(&list, &service, 1, &rules, false, &g);
		for (size_t i = 0; i < g.n; i++)
			print_container(c, list.items[g.idx[i]].id);
		if (g.n == 0)
			printf("  none\n");
		discovery_group_free(&g);
		docker_container_list_free(&list);
	}
	struct rm_state *s = state_open(&x);
	struct state_journal *j = state_journal_find(s, service);
	if (j)
		printf("deployment in flight: %s, phase %s, blue %s, green %s\n",
		       j->strategy ? j->strategy : "?", bg_phase_to_string(j->machine.phase),
		       j->blue_name ? j->blue_name : "?", j->green_name ? j->green_name : "-");
	const struct state_service *ss = state_service_find(s, service);
	if (ss && ss->last_good.known) {
		char m[32];
		units_format_memory(ss->last_good.memory, m, sizeof(m));
		printf("rollback target (limits before the last change): cpu %.2f, memory %s\n",
		       ss->last_good.cpu, m);
	}
	printf("last deployments:\n");
	unsigned shown = 0;
	for (size_t i = s->n_history; i-- > 0 && shown < 5;) {
		const struct state_event *e = &s->history[i];
		if (e->kind != STATE_EVENT_DEPLOYMENT || strcmp(e->service, service) != 0)
			continue;
		char when[40];
		time_format_rfc3339(e->time, when, sizeof(when));
		printf("  %s %s %s (%.1f s): %s\n", when, e->strategy ? e->strategy : "-",
		       e->outcome ? e->outcome : "-", e->duration,
		       e->explanation ? e->explanation : "");
		shown++;
	}
	if (!shown)
		printf("  none\n");
	state_free(s);
	docker_client_free(c);
out:
	config_free(cfg);
	return rc;
}

static int reconcile_cmd(int argc, char **argv)
{
	struct cli_ctx x = { .cmd = "reconcile" };
	const char *service = NULL;
	struct rm_config *cfg = NULL;
	if (service_begin(argc, argv, &x, &cfg, &service))
		return DEPLOY_EXIT_INVALID;
	struct docker_client *c = NULL;
	int rc = open_docker(&x, &c);
	if (rc == 0) {
		rc = reconcile_service(&x, c, service, false);
		docker_client_free(c);
	}
	config_free(cfg);
	return rc;
}

#define EXIT_CODES                                                                                 \
	"Exit status: 0 success, 1 validation error (or a refused change), 2 deployment failure\n" \
	"(rolled back), 3 rollback failure, 4 health-check timeout (rolled back).\n"

const struct cli_command cmd_deploy = {
	.name = "deploy",
	.summary = "apply new limits to a service now (blue-green or in place)",
	.usage = "Usage: resource-manager deploy SERVICE CPU MEMORY [--config FILE] [--dry-run]\n"
	         "         [--timeout S] [--no-rollback] [--no-drain] [--strategy S] [--force]\n"
	         "         [--log-file PATH] [--metrics[=PATH]]\n\n"
	         "CPU in cores (0.5, 1.5), MEMORY as 768M or 1G, within adjustment.min_*..max_*\n"
	         "and not below the service's baseline (services.baseline). The strategy is auto\n"
	         "(default), blue-green or in-place. --force deploys values outside those bounds\n"
	         "(with a warning) and allows blue-green of a stateful service.\n"
	         "Each phase is printed as it happens and journaled in the state file "
	         "first.\n"
	         "--log-file appends those lines to PATH too. --metrics writes node-exporter's\n"
	         "textfile (blue_green_*; PATH, else $METRICS_FILE, else\n"
	         "/var/lib/node_exporter/textfile_collector/blue_green.prom).\n" EXIT_CODES,
	.run = deploy_cmd,
};

const struct cli_command cmd_rollback = {
	.name = "rollback",
	.summary = "put back the limits a service had before its last change",
	.usage = "Usage: resource-manager rollback SERVICE [--config FILE]\n\n"
	         "Deploys the limits recorded before the last change (state file).\n" EXIT_CODES,
	.run = rollback_cmd,
};

const struct cli_command cmd_status = {
	.name = "status",
	.summary = "a service's containers, limits, deployment labels and last deployments",
	.usage = "Usage: resource-manager status SERVICE [--config FILE]\n",
	.run = status_cmd,
};

const struct cli_command cmd_reconcile = {
	.name = "reconcile",
	.summary = "finish or undo a deployment of a service that was interrupted",
	.usage = "Usage: resource-manager reconcile SERVICE [--config FILE]\n\n"
	         "Uses the journal in the state file, else the deployment.* labels: afterwards\n"
	         "exactly one container serves, with the old or the new limits.\n" EXIT_CODES,
	.run = reconcile_cmd,
};
