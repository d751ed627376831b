/* daemon_setup: what the loop is built from and rebuilt on SIGHUP (the
 * configuration, the source, the Docker client, the log file), and the
 * reconciliation at start-up of deployments a restart interrupted. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_internal.h"
#include "rm/config.h"
#include "rm/deploy.h"
#include "rm/discovery.h"
#include "rm/docker.h"
#include "rm/log.h"
#include "rm/notify.h"
#include "rm/source.h"
#include "rm/source_auto.h"
#include "rm/state.h"
#include "rm/util.h"

extern char **environ;

void daemon_open_log_file(const struct rm_config *cfg)
{
	if (!cfg->notifications.logfile.enabled) {
		log_open_file(NULL, LOG_INFO);
		return;
	}
	const char *path = cfg->notifications.logfile.path;
	int r = log_open_file(path, cfg->notifications.logfile.level);
	if (r < 0) {
		char q[512];
		log_warn("daemon",
		         "cannot open the log file, logging to stderr only\tpath=%s error=%s",
		         log_quote(path, q, sizeof(q)), log_quote(strerror(-r), q + 256, 256));
	}
}

/* Builds the parts that depend on the configuration. */
int daemon_build_peers(struct daemon *d, const struct rm_config *cfg, struct source *ret_source,
                       struct docker_client **ret_docker, char *err, size_t errlen)
{
	struct docker_client_options o = {
		.host = cfg->docker.host,
		.api_version = cfg->docker.api_version,
		.timeout = cfg->docker.timeout,
	};
	int r = docker_client_new(&o, ret_docker, err, errlen);
	if (r < 0)
		return r;
	r = source_from_config(cfg, ret_source, err, errlen);
	if (r < 0) {
		docker_client_free(*ret_docker);
		*ret_docker = NULL;
	}
	return r;
}

void daemon_reload(struct daemon *d)
{
	struct config_report rep = { 0 };
	struct rm_config *cfg = NULL;
	int r = config_load(d->opts.config_path, environ, &cfg, &rep);
	for (size_t i = 0; i < rep.n; i++) {
		const struct config_problem *p = &rep.problems[i];
		char q[400];
		log_emit(p->severity == CONFIG_ERROR ? LOG_ERROR : LOG_WARN, "config",
		         "%s\tkey=%s line=%d", log_quote(p->message, q, sizeof(q)),
		         *p->path ? p->path : "-", p->line);
	}
	config_report_free(&rep);
	if (r < 0) {
		log_error("config", "reload refused: the new configuration is invalid; the running "
		                    "one stays in effect");
		return;
	}
	struct source src = { 0 };
	struct docker_client *docker = NULL;
	char err[256];
	if (daemon_build_peers(d, cfg, &src, &docker, err, sizeof(err)) < 0) {
		char q[300];
		log_error("config", "reload refused, the running configuration stays: %s",
		          log_quote(err, q, sizeof(q)));
		config_free(cfg);
		return;
	}
	pthread_mutex_lock(&d->lock);
	source_free(&d->source);
	d->source = src;
	daemon_deps_configure(d);
	docker_client_free(d->docker);
	d->docker = docker;
	/* Running deployments keep the configuration they started with. */
	d->retired = xreallocarray(d->retired, d->n_retired + 1, sizeof(*d->retired));
	d->retired[d->n_retired++] = d->cfg;
	d->cfg = cfg;
	pthread_mutex_unlock(&d->lock);
	notifier_free(d->notifier, 2);
	d->notifier = notifier_new(cfg);
	log_set_level(cfg->logging.level);
	log_set_format(cfg->logging.format);
	daemon_open_log_file(cfg);
	log_info("config",
	         "configuration reloaded (metrics.* and web.* take effect at the next "
	         "start)\tsource=%s",
	         cfg->source_path);
}

void daemon_retire_configs(struct daemon *d)
{
	if (d->n_running)
		return;
	for (size_t i = 0; i < d->n_retired; i++)
		config_free(d->retired[i]);
	d->n_retired = 0;
}

/* The end of a deployment a restart interrupted, into the history (and,
 * applied, the limits it left). */
static void reconcile_record(struct daemon *d, const char *service, const struct deploy_result *res)
{
	if (res->outcome == DEPLOY_SKIPPED || res->outcome == DEPLOY_DRY_RUN)
		return;
	deploy_record(d->state, service, res, "reconciled", res->message, time_wall(),
	              d->cfg->state.history_size);
}

/* A fresh instance (no journal: /data lost, or the manager rescheduled on
 * another node) finds a change of ours in a Swarm service's labels and
 * finishes or undoes it from the cluster alone. */
static void reconcile_swarm_labels(struct daemon *d)
{
	const struct strlist *m = &d->cfg->services.monitored;
	for (size_t i = 0; i < m->n; i++) {
		const char *svc = m->items[i];
		if (state_journal_find(d->state, svc) ||
		    !deploy_swarm_changed(d->docker, d->cfg, svc))
			continue;
		log_warn(
		        "daemon",
		        "found a Swarm change of ours with no journal entry, finishing it from the "
		        "service's labels\tservice=%s",
		        svc);
		struct deploy_result res;
		char q[500];
		int r = deploy_reconcile(d->docker, d->cfg, NULL, svc, &res);
		log_info("daemon",
		         "interrupted deployment reconciled\tservice=%s outcome=%s detail=%s", svc,
		         r < 0 ? "error" : deploy_outcome_to_string(res.outcome),
		         log_quote(res.message, q, sizeof(q)));
		if (r == 0)
			reconcile_record(d, svc, &res);
	}
}

/* A blue-green copy whose deployment ended without leaving a journal entry
 * (it failed while the engine could not be reached, or the state file was
 * lost): its deployment.* labels say what to finish or undo, as
 * `resource-manager reconcile` does. Returns false when the engine did not
 * answer the container list (then nothing more is asked of it here: each
 * call would wait its docker.timeout, and the loop reports it down). */
static bool reconcile_bluegreen_labels(struct daemon *d)
{
	const struct strlist *m = &d->cfg->services.monitored;
	if (!m->n)
		return true;
	struct docker_container_list list = { 0 };
	char err[256];
	if (docker_containers_list(d->docker, true, NULL, 0, &list, err, sizeof(err)) < 0)
		return false;
	struct discovery_rules rules = { d->cfg->services.project, d->cfg->services.label_opt_in,
		                         false };
	struct discovery_group *g = xcalloc(m->n, sizeof(*g));
	discovery_group_services(&list, (const char *const *)m->items, m->n, &rules, false, g);
	for (size_t i = 0; i < m->n; i++) {
		bool green = false;
		for (size_t k = 0; k < g[i].n; k++)
			green = green || discovery_is_green(&list.items[g[i].idx[k]]);
		discovery_group_free(&g[i]);
		const char *svc = m->items[i];
		if (!green || state_journal_find(d->state, svc))
			continue;
		struct deploy_result res;
		char q[500];
		int r = deploy_reconcile(d->docker, d->cfg, NULL, svc, &res);
		if (r == -EBUSY) /* another process deploys it: its copy, in flight */
			continue;
		log_warn("daemon",
		         "a blue-green copy with no journal entry, reconciled from its labels\t"
		         "service=%s outcome=%s detail=%s",
		         svc, r < 0 ? "error" : deploy_outcome_to_string(res.outcome),
		         log_quote(res.message, q, sizeof(q)));
		if (r == 0)
			reconcile_record(d, svc, &res);
	}
	free(g);
	docker_container_list_free(&list);
	return true;
}

void daemon_reconcile_journal(struct daemon *d)
{
	for (size_t i = 0; i < d->state->n_journal;) {
		struct state_journal *j = &d->state->journal[i];
		struct deploy_result res;
		char q[500];
		int r = deploy_reconcile(d->docker, d->cfg, j, j->service, &res);
		if (r == -EBUSY) {
			/* The CLI is deploying it now: its own record ends it. */
			log_info("daemon",
			         "a deployment by another process is in flight, left to it\t"
			         "service=%s phase=%s",
			         j->service, bg_phase_to_string(j->machine.phase));
			i++;
			continue;
		}
		log_warn("daemon",
		         "found a deployment interrupted by a restart, finishing it\tservice=%s "
		         "phase=%s",
		         j->service, bg_phase_to_string(j->machine.phase));
		if (r < 0) {
			log_error("daemon",
			          "cannot reconcile now (Docker unreachable?); it stays in the "
			          "journal and is retried at the next start\tservice=%s detail=%s",
			          j->service, log_quote(res.message, q, sizeof(q)));
			i++;
			continue;
		}
		log_info("daemon",
		         "interrupted deployment reconciled\tservice=%s outcome=%s "
		         "detail=%s",
		         j->service, deploy_outcome_to_string(res.outcome),
		         log_quote(res.message, q, sizeof(q)));
		char *svc = xstrdup(j->service);
		state_journal_remove(d->state, svc);
		reconcile_record(d, svc, &res);
		/* A decrease finished across the restart is watched like any
		 * other (the journal does not say whether it was a revert, whose
		 * watch would undo it: an increase is left unwatched). */
		bool cut = (res.to.cpu > 0 && res.to.cpu < res.from.cpu - 1e-9) ||
		           (res.to.memory > 0 && res.to.memory < res.from.memory);
		if (res.outcome == DEPLOY_APPLIED && cut) {
			struct state_service *ss = state_service_get(d->state, svc);
			daemon_watch_begin(d, daemon_svc_get(d, svc), ss, &res, steady_now(d));
		}
		free(svc);
	}
	if (reconcile_bluegreen_labels(d))
		reconcile_swarm_labels(d);
}
