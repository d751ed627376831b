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
#include "rm/state.h"
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
};

static void progress_cb(void *ctx, const char *line)
{
	struct cli_ctx *x = ctx;
	printf("[%6.2fs] %s\n", time_monotonic() - x->t0, line);
	fflush(stdout);
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

static int state_store(const struct cli_ctx *x, const struct rm_state *s)
{
	char err[256];
	if (!x->cfg->state.path)
		return 0;
	int r = state_save(x->cfg->state.path, s, time_wall(), err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "resource-manager %s: cannot save the state: %s\n", x->cmd, err);
	return r;
}

/* Write-ahead: the phase goes to the state file before its side effect. */
static int journal_cb(void *ctx, const struct state_journal *j)
{
	struct cli_ctx *x = ctx;
	if (!x->cfg->state.path)
		return 0;
	struct rm_state *s = state_open(x);
	struct state_journal *e = state_journal_add(s, j->service);
	e->strategy = j->strategy ? xstrdup(j->strategy) : NULL;
	e->machine = j->machine;
	e->blue_id = j->blue_id ? xstrdup(j->blue_id) : NULL;
	e->blue_name = j->blue_name ? xstrdup(j->blue_name) : NULL;
	e->green_id = j->green_id ? xstrdup(j->green_id) : NULL;
	e->green_name = j->green_name ? xstrdup(j->green_name) : NULL;
	e->from = j->from;
	e->to = j->to;
	int r = state_store(x, s);
	state_free(s);
	return r;
}

/* Records the end of a deployment: journal entry gone, history, limits. */
static void record(const struct cli_ctx *x, const char *service, const struct deploy_result *res,
                   const char *why)
{
	struct rm_state *s = state_open(x);
	state_journal_remove(s, service);
	if (res->outcome != DEPLOY_DRY_RUN) {
		struct state_service *ss = state_service_get(s, service);
		bool ok = res->outcome == DEPLOY_APPLIED;
		if (res->outcome != DEPLOY_SKIPPED) {
			ss->counters.total_adjustments++;
			ok ? ss->counters.successful_adjustments++
			   : ss->counters.failed_adjustments++;
			if (ok && res->strategy == STRATEGY_BLUE_GREEN)
				ss->counters.blue_green_deployments++;
			if (res->outcome == DEPLOY_ROLLED_BACK)
				ss->counters.rollbacks++;
		}
		if (ok) {
			ss->last_good = res->from;
			ss->applied = res->to;
			ss->replicas = res->replicas ? res->replicas : 1;
		}
		char *expl = xasprintf("%s: %s", why, res->message);
		struct state_event ev = {
			.time = time_wall(),
			.kind = STATE_EVENT_DEPLOYMENT,
			.service = (char *)(uintptr_t)service,
			.reason = (char *)(uintptr_t)why,
			.explanation = expl,
			.outcome = (char *)(uintptr_t)deploy_outcome_to_string(res->outcome),
			.strategy = (char *)(uintptr_t)deploy_strategy_to_string(res->strategy),
			.duration = res->duration,
			.from = res->from,
			.to = res->to,
		};
		state_history_add(s, &ev, x->cfg->state.history_size);
		free(expl);
	}
	state_store(x, s);
	state_free(s);
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
	if (r == 0 && j) {
		state_journal_remove(s, service);
		state_store(x, s);
	}
	state_free(s);
	if (r < 0 || !quiet || res.outcome != DEPLOY_SKIPPED)
		printf("reconcile %s: %s: %s\n", service,
		       r < 0 ? "error" : deploy_outcome_to_string(res.outcome), res.message);
	if (r < 0)
		return DEPLOY_EXIT_FAILED;
	return res.outcome == DEPLOY_FAILED
	               ? (res.rollback_failed ? DEPLOY_EXIT_ROLLBACK_FAILED : DEPLOY_EXIT_FAILED)
	               : DEPLOY_EXIT_OK;
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

/* Runs one deployment of service to the given limits; prints the outcome. */
static int deploy_to(struct cli_ctx *x, struct docker_client *c, struct deploy_request *req,
                     const char *why)
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
	record(x, req->service, &res, why);
	char a[32], b[32];
	units_format_memory(res.to.memory, a, sizeof(a));
	units_format_memory(res.from.memory, b, sizeof(b));
	printf("%s %s: %s (%s, %.1f s): %s\n", x->cmd, req->service,
	       deploy_outcome_to_string(res.outcome), deploy_strategy_to_string(res.strategy),
	       res.duration, res.message);
	if (res.outcome == DEPLOY_APPLIED)
		printf("limits: cpu %.2f -> %.2f, memory %s -> %s\n", res.from.cpu, res.to.cpu, b,
		       a);
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
		{ "log-file", required_argument, NULL, 'l' }, /* accepted: logs go to stdout */
		{ "metrics", no_argument, NULL, 'm' }, /* accepted: metrics are the daemon's */
		{ NULL, 0, NULL, 0 },
	};
	struct cli_ctx x = { .cmd = "deploy" };
	struct deploy_request req = { .rollback = true, .drain = true };
	const char *config = NULL;
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
		case 'm':
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
	req.service = argv[optind];
	const char *cpu_s = argv[optind + 1], *mem_s = argv[optind + 2];
	if (units_parse_cpu(cpu_s, &req.cpu) < 0 || req.cpu < cfg->adjustment.min_cpu ||
	    req.cpu > cfg->adjustment.max_cpu) {
		fprintf(stderr,
		        "resource-manager deploy: CPU '%s' is not a number of cores between %.2f "
		        "and %.2f (adjustment.min_cpu, max_cpu)\n",
		        cpu_s, cfg->adjustment.min_cpu, cfg->adjustment.max_cpu);
		goto out;
	}
	if (units_parse_memory(mem_s, &req.memory) < 0 || req.memory < cfg->adjustment.min_memory ||
	    req.memory > cfg->adjustment.max_memory) {
		char a[32], b[32];
		units_format_memory_mib(cfg->adjustment.min_memory, a, sizeof(a));
		units_format_memory_mib(cfg->adjustment.max_memory, b, sizeof(b));
		fprintf(stderr,
		        "resource-manager deploy: memory '%s' is not a size between %s and %s "
		        "(e.g. 768M, 1G)\n",
		        mem_s, a, b);
		goto out;
	}
	req.set_cpu = req.set_memory = true;
	struct docker_client *c = NULL;
	if ((rc = open_docker(&x, &c)) == 0) {
		rc = deploy_to(&x, c, &req, "manual");
		docker_client_free(c);
	}
out:
	config_free(cfg);
	return rc;
}

/* Common shape of `rollback SERVICE`, `status SERVICE`, `reconcile SERVICE`. */
static int service_args(int argc, char **argv, const char *cmd, const char **config,
                        const char **service)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:c:", opts, NULL)) != -1) {
		if (o != 'c') {
			fprintf(stderr, "resource-manager %s: bad option '%s'; see --help\n", cmd,
			        argv[optind - 1]);
			return DEPLOY_EXIT_INVALID;
		}
		*config = optarg;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "resource-manager %s: expected SERVICE; see --help\n", cmd);
		return DEPLOY_EXIT_INVALID;
	}
	*service = argv[optind];
	return 0;
}

static int rollback_cmd(int argc, char **argv)
{
	struct cli_ctx x = { .cmd = "rollback" };
	const char *config = NULL, *service = NULL;
	struct rm_config *cfg = NULL;
	if (service_args(argc, argv, x.cmd, &config, &service) || load(&x, config, &cfg))
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
		rc = deploy_to(&x, c, &req, "rollback");
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
	const char *config = NULL, *service = NULL;
	struct rm_config *cfg = NULL;
	if (service_args(argc, argv, x.cmd, &config, &service) || load(&x, config, &cfg))
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
	const char *config = NULL, *service = NULL;
	struct rm_config *cfg = NULL;
	if (service_args(argc, argv, x.cmd, &config, &service) || load(&x, config, &cfg))
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
	         "         [--timeout S] [--no-rollback] [--no-drain] [--strategy S] [--force]\n\n"
	         "CPU in cores (0.5, 1.5), MEMORY as 768M or 1G. The strategy is auto (default),\n"
	         "blue-green or in-place; --force allows blue-green of a stateful service.\n"
	         "Each phase is printed as it happens and journaled in the state file "
	         "first.\n" EXIT_CODES,
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
