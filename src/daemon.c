/* daemon: the control loop of `resource-manager run`. */
#include "rm/daemon.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "rm/config.h"
#include "rm/deploy.h"
#include "rm/discovery.h"
#include "rm/docker.h"
#include "rm/engine.h"
#include "rm/gate.h"
#include "rm/log.h"
#include "rm/notify.h"
#include "rm/recommend.h"
#include "rm/source.h"
#include "rm/source_auto.h"
#include "rm/state.h"
#include "rm/state_store.h"
#include "rm/units.h"
#include "rm/util.h"
#include "rm/verify.h"
#include "rm/view.h"
#include "rm/web.h"

#include "daemon_internal.h"

extern char **environ;

void daemon_wake(struct daemon *d)
{
	uint64_t one = 1;
	if (write(d->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("daemon", "wake write failed");
}

/* The switches gate_route and gate_reapply_drift read. */
static struct gate_mode gate_mode_of(const struct daemon *d)
{
	return (struct gate_mode){
		.automation_enabled = d->cfg->automation.enabled,
		.paused = d->paused,
		.dry_run = dry_run(d),
		.manual_approval = d->cfg->automation.manual_approval,
	};
}

/* state_own_fn: the services the daemon's own workers are deploying. */
bool daemon_owns_journal(const char *service, void *ctx)
{
	const struct daemon *d = ctx;
	for (size_t i = 0; i < d->n_running; i++)
		if (strcmp(d->running[i]->service, service) == 0)
			return true;
	return false;
}

/* Saves the state (lock held), merging first what another writer (the
 * CLI's deploy, rollback, reconcile) saved since the daemon's last save. */
int daemon_save_state(struct daemon *d, double now, char *err, size_t errlen)
{
	int r = state_store_save(d->store, d->state, now, daemon_owns_journal, d,
	                         d->cfg->state.history_size, err, errlen);
	char q[300];
	if (r < 0 && !d->state_error[0]) {
		/* Once per outage; /health says it until a save succeeds. */
		log_error("daemon",
		          "cannot save the state, keeping it in memory and retrying at each "
		          "check\terror=%s",
		          log_quote(err, q, sizeof(q)));
		d->state_error_since = time_wall();
	} else if (r == 0 && d->state_error[0]) {
		log_info("daemon", "state saved again\tpath=%s",
		         log_quote(d->cfg->state.path, q, sizeof(q)));
	}
	snprintf(d->state_error, sizeof(d->state_error), "%s", r < 0 ? err : "");
	return r;
}

/* ---- dependencies: one log line per outage and one per recovery ---- */

static void dep_set(struct daemon *d, int which, bool up, const char *detail)
{
	struct dep *p = &d->deps[which];
	if (p->up == (int)up) {
		if (!up)
			snprintf(p->detail, sizeof(p->detail), "%s", detail ? detail : "");
		return;
	}
	bool first = p->up < 0;
	p->up = up;
	p->since = time_wall();
	snprintf(p->detail, sizeof(p->detail), "%s", up ? "" : detail ? detail : "");
	if (!up) {
		const char *next = which == DEP_DOCKER ? "no change is applied"
		                   : source_has_backend(&d->source, "docker")
		                           ? "observing through the Docker engine"
		                           : "no decision for what it measures";
		char q[200];
		log_warn("daemon", "%s unreachable: %s until it is back\tdependency=%s error=%s",
		         p->name, next, p->name, log_quote(p->detail, q, sizeof(q)));
	} else if (!first) {
		log_info("daemon", "%s reachable again, decisions resume\tdependency=%s", p->name,
		         p->name);
	}
}

/* ---- services ---- */

struct svc *daemon_svc_find(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_svcs; i++)
		if (strcmp(d->svcs[i].name, name) == 0)
			return &d->svcs[i];
	return NULL;
}

struct svc *daemon_svc_get(struct daemon *d, const char *name)
{
	struct svc *s = daemon_svc_find(d, name);
	if (s)
		return s;
	d->svcs = xreallocarray(d->svcs, d->n_svcs + 1, sizeof(*d->svcs));
	s = &d->svcs[d->n_svcs++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	return s;
}

static void svc_set_containers(struct svc *s, char **names, size_t n)
{
	for (size_t i = 0; i < s->n_containers; i++)
		free(s->containers[i]);
	free(s->containers);
	s->containers = names;
	s->n_containers = n;
}

static void svc_add_point(struct svc *s, double now)
{
	if (s->n_points == VIEW_POINTS) {
		memmove(&s->points[0], &s->points[1], (VIEW_POINTS - 1) * sizeof(s->points[0]));
		s->n_points--;
	}
	struct view_point *p = &s->points[s->n_points++];
	const struct observation *o = &s->obs;
	memset(p, 0, sizeof(*p));
	p->time = now;
	p->cpu_limit = o->cpu_limit_known ? o->cpu_limit : 0;
	p->mem_limit = o->mem_limit_known ? o->mem_limit : 0;
	p->cpu_known = s->measured && o->cpu_used_known && o->cpu_limit_known && o->cpu_limit > 0;
	if (p->cpu_known)
		p->cpu_ratio = o->cpu_used / o->cpu_limit;
	p->mem_known = s->measured && o->mem_used_known && o->mem_limit_known && o->mem_limit > 0;
	if (p->mem_known)
		p->mem_ratio = (double)o->mem_used / (double)o->mem_limit;
}

/* The services to manage: the configured list, plus opted-in containers. */
static char **service_names(struct daemon *d, const struct docker_container_list *list,
                            size_t *ret_n)
{
	const struct strlist *m = &d->cfg->services.monitored;
	char **names = xcalloc(m->n + 1, sizeof(char *));
	size_t n = 0;
	for (size_t i = 0; i < m->n; i++)
		names[n++] = xstrdup(m->items[i]);
	if (list && d->cfg->services.label_opt_in) {
		struct discovery_rules rules = { d->cfg->services.project, true };
		discovery_opt_in_services(list, &rules, &names, &n);
	}
	*ret_n = n;
	return names;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ---- history, notifications ---- */

void daemon_history_add(struct daemon *d, enum state_event_kind kind, const char *service,
                        const struct engine_decision *dec, const char *outcome,
                        const char *strategy, double duration, const char *explanation)
{
	struct state_event ev = { 0 };
	ev.time = time_wall();
	ev.kind = kind;
	ev.service = (char *)(uintptr_t)service;
	ev.reason = (char *)(uintptr_t)engine_reason_to_string(dec->reason);
	ev.explanation = (char *)(uintptr_t)(explanation ? explanation : dec->explanation);
	ev.outcome = (char *)(uintptr_t)outcome;
	ev.strategy = (char *)(uintptr_t)strategy;
	ev.duration = duration;
	ev.from = (struct state_limits){ true, dec->cpu_from, dec->mem_from };
	ev.to = (struct state_limits){ true, dec->change_cpu ? dec->cpu_to : dec->cpu_from,
		                       dec->change_mem ? dec->mem_to : dec->mem_from };
	state_history_add(d->state, &ev, d->cfg->state.history_size);
}

static const char *action_of(const struct engine_decision *dec)
{
	bool up = (dec->change_cpu && dec->cpu_to > dec->cpu_from) ||
	          (dec->change_mem && dec->mem_to > dec->mem_from);
	bool down = (dec->change_cpu && dec->cpu_to < dec->cpu_from) ||
	            (dec->change_mem && dec->mem_to < dec->mem_from);
	return up && down ? "adjust" : up ? "increase" : down ? "decrease" : "none";
}

static const char *resource_of(const struct engine_decision *dec)
{
	return dec->change_cpu && dec->change_mem ? "both" : dec->change_cpu ? "cpu" : "memory";
}

static void notify(struct daemon *d, const char *event, const char *service,
                   const struct engine_decision *dec, const char *reason)
{
	struct notify_event ev = {
		.event = event,
		.service = service,
		.action = dec ? action_of(dec) : NULL,
		.resource_type = dec ? resource_of(dec) : NULL,
		.reason = reason ? reason
		          : dec  ? dec->explanation
		                 : "",
		.time = time_wall(),
	};
	notifier_send(d->notifier, &ev);
}

/* ---- deployments ---- */

static int journal_cb(void *ctx, const struct state_journal *j)
{
	struct job *job = ctx;
	struct daemon *d = job->d;
	char err[256];
	pthread_mutex_lock(&d->lock);
	state_journal_put(d->state, j);
	struct svc *s = daemon_svc_find(d, j->service);
	if (s) {
		snprintf(s->phase, sizeof(s->phase), "%s", bg_phase_to_string(j->machine.phase));
		snprintf(s->strategy, sizeof(s->strategy), "%s", j->strategy ? j->strategy : "");
	}
	int r = daemon_save_state(d, time_wall(), err, sizeof(err));
	pthread_mutex_unlock(&d->lock);
	if (r < 0) {
		char q[300];
		log_error("deploy",
		          "cannot persist the deployment journal, aborting the deployment\t"
		          "service=%s error=%s",
		          j->service, log_quote(err, q, sizeof(q)));
	}
	return r;
}

static void progress_cb(void *ctx, const char *line)
{
	struct job *job = ctx;
	char q[400];
	log_info("deploy", "%s\tservice=%s", log_quote(line, q, sizeof(q)), job->service);
}

static void *job_main(void *arg)
{
	struct job *job = arg;
	struct daemon *d = job->d;
	struct docker_client *c = job->docker;
	int r = deploy_run(c, job->cfg, &job->req, &job->res);
	if (r < 0 && job->res.outcome == DEPLOY_APPLIED)
		job->res.outcome = DEPLOY_SKIPPED;
	if (r < 0 && !job->res.message[0])
		snprintf(job->res.message, sizeof(job->res.message), "could not start: %s",
		         strerror(-r));
	if (r < 0)
		job->res.outcome = DEPLOY_SKIPPED;
	docker_client_free(c);
	job->docker = NULL;
	pthread_mutex_lock(&d->lock);
	job->next = d->done;
	d->done = job;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	daemon_wake(d);
	return NULL;
}

/* Starts deploying dec for service s (lock held). */
void daemon_job_start(struct daemon *d, struct svc *s, const struct engine_decision *dec)
{
	struct job *job = xcalloc(1, sizeof(*job));
	job->d = d;
	job->service = xstrdup(s->name);
	job->cfg = d->cfg;
	job->docker = docker_client_dup(d->docker);
	job->decision = *dec;
	job->req = (struct deploy_request){
		.service = job->service,
		.set_cpu = dec->change_cpu,
		.cpu = dec->cpu_to,
		.set_memory = dec->change_mem,
		.memory = dec->mem_to,
		.strategy = STRATEGY_AUTO,
		.dry_run = dry_run(d),
		.rollback = d->cfg->blue_green.rollback_on_failure,
		.drain = true,
		.journal = journal_cb,
		.journal_ctx = job,
		.progress = progress_cb,
		.progress_ctx = job,
		.abort_flag = &job->abort,
	};
	s->deploying = true;
	snprintf(s->phase, sizeof(s->phase), "prepare");
	d->running = xreallocarray(d->running, d->n_running + 1, sizeof(*d->running));
	d->running[d->n_running++] = job;
	char q[400];
	log_info("daemon", "deploying\tservice=%s reason=%s explanation=%s", s->name,
	         engine_reason_to_string(dec->reason), log_quote(dec->explanation, q, sizeof(q)));
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, job_main, job) != 0)
		abort();
	pthread_attr_destroy(&attr);
}

static void job_free(struct job *job)
{
	free(job->service);
	free(job);
}

/* ---- the watch after a change (adjustment.verify_window, verify.h) ---- */

/* Starts watching the change res applied (lock held). The serving container
 * is the baseline: its restarts and OOM kills count from now. */
/* The watch runs on the engine's steady clock: a jump of the wall clock
 * neither ends it early nor stretches it. */
void daemon_watch_begin(struct daemon *d, const struct svc *s, struct state_service *ss,
                        const struct deploy_result *res, double steady)
{
	const struct rm_config *cfg = d->cfg;
	struct verify_signals s0 = { .restarts_known = true,
		                     .ooms_known = true,
		                     .health_known = s->health_known,
		                     .unhealthy = s->unhealthy };
	if (!(cfg->adjustment.verify_window > 0))
		return;
	ss->watching = true;
	ss->engine.watch_until = steady + cfg->adjustment.verify_window; /* decreases wait */
	verify_begin(cfg, &ss->watch, steady, res->from.cpu, res->to.cpu, res->from.memory,
	             res->to.memory, &s0, s->measured && s->obs.cpu_throttled_known,
	             s->obs.cpu_throttled);
}

/* What this check tells the watch of s: OOM kills (the source's and the
 * events'), a restart (the youngest replica younger than the watch, beyond
 * a blue-green copy's start), throttling. Accumulated in the watch. */
static void watch_signals(const struct rm_config *cfg, const struct svc *s, struct verify_watch *w,
                          double now, struct verify_signals *ret)
{
	const struct observation *o = &s->obs;
	if (o->oom_known)
		w->ooms_seen += o->oom_kills;
	double since = now - w->started, slack = 2 * cfg->monitoring.check_interval + 60;
	if (o->uptime_known && since > slack && o->uptime + slack < since && !w->restarted)
		w->restarted = 1;
	*ret = (struct verify_signals){
		.restarts_known = o->uptime_known,
		.restarts = w->restarts0 + w->restarted,
		.ooms_known = o->oom_known,
		.ooms = w->ooms0 + w->ooms_seen,
		.health_known = s->health_known,
		.unhealthy = s->unhealthy,
		.throttled_known = o->cpu_throttled_known,
		.throttled = o->cpu_throttled,
	};
}

/* One check of s's watch (lock held): a regression reverts the change
 * through the same deployment path and returns true (no other decision this
 * check); a clean window makes the new limits the last known good. */
static bool watch_check(struct daemon *d, struct svc *s, double steady)
{
	const struct rm_config *cfg = d->cfg;
	struct state_service *ss = state_service_get(d->state, s->name);
	struct verify_signals sig;
	struct verify_result vr;
	char q[400];
	if (!ss->watching || !s->measured)
		return false;
	watch_signals(cfg, s, &ss->watch, steady, &sig);
	verify_step(cfg, &ss->watch, &sig, steady, &vr);
	if (vr.verdict == VERIFY_WATCHING)
		return false;
	const struct verify_watch *w = &ss->watch;
	ss->watching = false;
	ss->engine.watch_until = 0;
	if (vr.verdict == VERIFY_PASSED) {
		ss->last_good = (struct state_limits){ true, w->cpu_to, w->mem_to };
		ss->counters.verified++;
		log_info("daemon",
		         "change verified, now the last known good	service=%s detail=%s",
		         s->name, log_quote(vr.why, q, sizeof(q)));
		return false;
	}
	struct engine_decision dec = {
		.reason = ENGINE_REASON_REVERTED,
		.cpu_reason = ENGINE_REASON_REVERTED,
		.mem_reason = ENGINE_REASON_REVERTED,
		.change_cpu = w->cpu_from > 0 && fabs(w->cpu_from - w->cpu_to) > 1e-9,
		.cpu_from = w->cpu_to,
		.cpu_to = w->cpu_from,
		.change_mem = w->mem_from > 0 && w->mem_from != w->mem_to,
		.mem_from = w->mem_to,
		.mem_to = w->mem_from,
	};
	snprintf(dec.explanation, sizeof(dec.explanation), "reverted (%s): %s",
	         verify_signal_to_string(vr.signal), vr.why);
	engine_note_revert(cfg, &ss->engine, w->cpu_from, w->cpu_to, w->mem_from, w->mem_to,
	                   steady);
	ss->counters.failed_adjustments++;
	ss->counters.reverts++;
	log_warn("daemon", "change made the service worse, reverting it	service=%s detail=%s",
	         s->name, log_quote(dec.explanation, q, sizeof(q)));
	daemon_history_add(d, STATE_EVENT_DECISION, s->name, &dec, "reverted", NULL, 0, NULL);
	notify(d, NOTIFY_CHANGE_REVERTED, s->name, &dec, dec.explanation);
	if (engine_decision_changes(&dec) && !dry_run(d))
		daemon_job_start(d, s, &dec);
	return true;
}

/* Records a finished deployment (lock held). */
static void job_finish(struct daemon *d, struct job *job)
{
	for (size_t i = 0; i < d->n_running; i++)
		if (d->running[i] == job) {
			d->running[i] = d->running[--d->n_running];
			break;
		}
	struct svc *s = daemon_svc_get(d, job->service);
	const struct deploy_result *res = &job->res;
	double now = time_wall(), steady = steady_now(d);
	bool ok = res->outcome == DEPLOY_APPLIED;
	bool bg = res->strategy == STRATEGY_BLUE_GREEN;
	const char *strategy = deploy_strategy_to_string(res->strategy);
	s->deploying = false;
	s->phase[0] = '\0';
	char *expl = xasprintf("%s; %s", job->decision.explanation, res->message);
	struct deploy_result rec = *res;
	const struct engine_decision *dec = &job->decision;
	if (!rec.from.known) /* not started: the decision's limits */
		rec.from = (struct state_limits){ true, dec->cpu_from, dec->mem_from };
	if (!rec.to.known)
		rec.to = (struct state_limits){ true, dec->change_cpu ? dec->cpu_to : dec->cpu_from,
			                        dec->change_mem ? dec->mem_to : dec->mem_from };
	deploy_record(d->state, job->service, &rec, engine_reason_to_string(dec->reason), expl, now,
	              d->cfg->state.history_size);
	if (res->outcome == DEPLOY_DRY_RUN) {
		free(expl);
		return;
	}
	struct state_service *ss = state_service_get(d->state, job->service);
	engine_apply_result(d->cfg, &ss->engine, dec, ok, steady, engine_local_day(now));
	if (dec->reason == ENGINE_REASON_REVERTED) {
		ss->watching = false;
		ss->engine.watch_until = 0;
	} else if (ok)
		daemon_watch_begin(d, s, ss, res, steady);
	if (ok)
		s->drift_reported = false;
	s->has_last_deploy = true;
	snprintf(s->last_status, sizeof(s->last_status), "%s",
	         ok                                   ? "success"
	         : res->outcome == DEPLOY_ROLLED_BACK ? "rolled_back"
	                                              : "failure");
	snprintf(s->last_strategy, sizeof(s->last_strategy), "%s", strategy);
	s->last_time = now;
	s->last_duration = res->duration;
	s->last_cpu = res->to.cpu;
	s->last_mem = res->to.memory;
	char q[600];
	if (ok) {
		log_info("daemon",
		         "change applied\tservice=%s strategy=%s duration=%.1fs detail=%s "
		         "backend=%s",
		         job->service, strategy, res->duration, log_quote(expl, q, sizeof(q)),
		         deploy_backend_to_string(res->backend));
		notify(d, NOTIFY_RESOURCE_ADJUSTMENT, job->service, &job->decision, expl);
		if (bg)
			notify(d, NOTIFY_BLUE_GREEN_DEPLOYMENT, job->service, &job->decision, expl);
	} else if (res->outcome == DEPLOY_SKIPPED) {
		log_warn("daemon",
		         "change not applied, keeping the current limits\tservice=%s "
		         "detail=%s",
		         job->service, log_quote(res->message, q, sizeof(q)));
	} else {
		log_error("daemon",
		          "change failed, backing off before any retry\tservice=%s outcome=%s "
		          "detail=%s",
		          job->service, deploy_outcome_to_string(res->outcome),
		          log_quote(expl, q, sizeof(q)));
		notify(d, NOTIFY_DEPLOYMENT_FAILURE, job->service, &job->decision, expl);
	}
	free(expl);
}

static void jobs_collect(struct daemon *d)
{
	struct job *list = d->done;
	d->done = NULL;
	while (list) {
		struct job *next = list->next;
		job_finish(d, list);
		job_free(list);
		list = next;
	}
}

/* ---- decisions ---- */

static bool high_streak(const struct rm_config *cfg, const struct engine_state *e)
{
	unsigned n = cfg->thresholds.consecutive_checks;
	return e->cpu_high >= n || e->mem_high >= n || e->throttled >= n;
}

/* Logs and records a change that is not applied (automation off, paused or
 * dry run), once per distinct recommendation rather than every check. */
static void recommend(struct daemon *d, struct svc *s, const struct engine_decision *dec,
                      const char *outcome)
{
	char key[96];
	snprintf(key, sizeof(key), "%s|%d|%.2f|%d|%llu", outcome, dec->change_cpu, dec->cpu_to,
	         dec->change_mem, (unsigned long long)dec->mem_to);
	if (strcmp(key, s->last_reco) == 0)
		return;
	snprintf(s->last_reco, sizeof(s->last_reco), "%s", key);
	char q[400];
	log_info("daemon", "%s: would change limits, no container touched\tservice=%s detail=%s",
	         outcome, s->name, log_quote(dec->explanation, q, sizeof(q)));
	daemon_history_add(d, STATE_EVENT_DECISION, s->name, dec, outcome, NULL, 0, NULL);
	if (strcmp(outcome, "dry_run") == 0) {
		char *r = xasprintf("[dry run] %s", dec->explanation);
		notify(d, NOTIFY_RESOURCE_ADJUSTMENT, s->name, dec, r);
		free(r);
	}
}

static void ask_approval(struct daemon *d, struct svc *s, const struct engine_decision *dec)
{
	struct state_pending *p = state_pending_find(d->state, s->name);
	struct state_limits to = { true, dec->change_cpu ? dec->cpu_to : dec->cpu_from,
		                   dec->change_mem ? dec->mem_to : dec->mem_from };
	if (gate_pending_same(p, dec))
		return;
	double now = time_wall();
	p = state_pending_add(d->state, s->name);
	p->created = now;
	p->expires = now + d->cfg->automation.approval_timeout;
	p->reason = xstrdup(engine_reason_to_string(dec->reason));
	p->explanation = xstrdup(dec->explanation);
	p->from = (struct state_limits){ true, dec->cpu_from, dec->mem_from };
	p->to = to;
	char q[400];
	log_info("daemon",
	         "change waits for approval (resource-manager approve %s)\tservice=%s detail=%s",
	         s->name, s->name, log_quote(dec->explanation, q, sizeof(q)));
	daemon_history_add(d, STATE_EVENT_DECISION, s->name, dec, "pending", NULL, 0, NULL);
}

/* Feeds one check into the service's histograms, weighted by the time since
 * the previous sample (a check interval for the first, at most two: a
 * stopped daemon's gap is not usage). */
static void observe_usage(const struct rm_config *cfg, struct state_service *ss,
                          const struct observation *o, double now)
{
	double interval = cfg->monitoring.check_interval, last = ss->usage.cpu.last;
	if (ss->usage.mem.last > last)
		last = ss->usage.mem.last;
	double w = last > 0 && now > last ? fmin(now - last, 2 * interval) : interval;
	recommender_observe(cfg, &ss->usage, o, now, w);
}

/* Decides for one measured service; appends a due change to due[]. */
static void decide(struct daemon *d, struct svc *s, double now, double wall,
                   struct engine_rank_item *due, struct engine_decision *due_dec, size_t *n_due)
{
	const struct rm_config *cfg = d->cfg;
	struct state_service *ss = state_service_get(d->state, s->name);
	struct engine_policy pol;
	engine_policy_for(cfg, s->name, &pol);
	bool short_cpu = false, short_mem = false;
	if (cfg->automation.actions.scale_down_optional && d->host_cpus > 0) {
		double sum_cpu = 0;
		uint64_t sum_mem = 0;
		for (size_t i = 0; i < d->n_svcs; i++) {
			const struct observation *o = &d->svcs[i].obs;
			if (d->svcs[i].measured && o->cpu_limit_known)
				sum_cpu += o->cpu_limit;
			if (d->svcs[i].measured && o->mem_limit_known)
				sum_mem += o->mem_limit;
		}
		engine_host_short(d->host_cpus, d->host_mem, sum_cpu, sum_mem, &short_cpu,
		                  &short_mem);
	}
	/* The observation on the engine's clock (taken at wall time). */
	struct observation obs = s->obs;
	obs.time += now - wall;
	struct engine_input in = {
		.cfg = cfg,
		.policy = &pol,
		.obs = &obs,
		.now = now,
		.day = engine_local_day(wall),
		.host_short_cpu = short_cpu,
		.host_short_mem = short_mem,
	};
	if (cfg->adjustment.policy == POLICY_PERCENTILE) {
		/* The histograms are on the wall clock, as Prometheus' history is. */
		observe_usage(cfg, ss, &s->obs, wall);
		recommender_recommend(cfg, &ss->usage, &s->rec);
		s->has_rec = true;
		in.rec = &s->rec;
	}
	struct engine_state before = ss->engine;
	struct engine_decision dec;
	engine_decide(&in, &ss->engine, &ss->engine, &dec);
	s->has_decision = true;
	s->decision = dec;
	s->decision_time = wall;
	log_debug("daemon", "decision\tservice=%s reason=%s explanation=%s", s->name,
	          engine_reason_to_string(dec.reason), dec.explanation);
	const struct engine_state *e = &ss->engine;
	if (e->cpu_high > before.cpu_high || e->cpu_low > before.cpu_low ||
	    e->mem_high > before.mem_high || e->mem_low > before.mem_low ||
	    e->throttled > before.throttled)
		ss->counters.threshold_breaches++;
	if (high_streak(cfg, e)) {
		if (!s->high_notified)
			notify(d, NOTIFY_THRESHOLD_BREACH, s->name, NULL, dec.explanation);
		s->high_notified = true;
		if (dec.reason == ENGINE_REASON_AT_BOUND && !s->critical_notified) {
			notify(d, NOTIFY_SERVICE_CRITICAL, s->name, NULL, dec.explanation);
			s->critical_notified = true;
		}
	} else if (!e->cpu_high && !e->mem_high && !e->throttled) {
		s->high_notified = s->critical_notified = false;
	}
	struct gate_mode mode = gate_mode_of(d);
	enum gate_route route = gate_route(&mode, &dec);
	switch (route) {
	case GATE_RECOMMEND:
	case GATE_DRY_RUN:
		recommend(d, s, &dec, gate_route_to_string(route));
		break;
	case GATE_APPROVAL:
		ask_approval(d, s, &dec);
		break;
	case GATE_DEPLOY:
		due[*n_due] = (struct engine_rank_item){ s->name, pol.priority, dec.reason, true,
			                                 *n_due };
		due_dec[*n_due] = dec;
		(*n_due)++;
		break;
	default:
		break;
	}
}

/* Drift: the running limits differ from the ones the last change applied
 * (e.g. `docker compose up` recreated the container from the file). */
static void check_drift(struct daemon *d, struct svc *s, double now, struct engine_rank_item *due,
                        struct engine_decision *due_dec, size_t *n_due)
{
	const struct state_service *ss = state_service_find(d->state, s->name);
	struct engine_decision dec;
	int drift = gate_check_drift(ss, &s->obs, s->deploying, now,
	                             d->cfg->monitoring.check_interval, &dec);
	if (drift == 0)
		s->drift_reported = false;
	if (drift <= 0)
		return;
	if (!s->drift_reported) {
		char q[400];
		log_warn("daemon", "%s\tservice=%s reapply=%s",
		         log_quote(dec.explanation, q, sizeof(q)), s->name,
		         d->cfg->automation.reapply_on_drift ? "yes" : "no");
		daemon_history_add(d, STATE_EVENT_DECISION, s->name, &dec, "drift", NULL, 0, NULL);
		s->drift_reported = true;
	}
	struct gate_mode mode = gate_mode_of(d);
	if (gate_reapply_drift(&mode, d->cfg->automation.reapply_on_drift)) {
		due[*n_due] =
		        (struct engine_rank_item){ s->name, 1, ENGINE_REASON_NONE, true, *n_due };
		due_dec[*n_due] = dec;
		(*n_due)++;
	}
}

static void start_due(struct daemon *d, struct engine_rank_item *due,
                      struct engine_decision *due_dec, size_t n_due)
{
	engine_rank(due, n_due);
	for (size_t i = 0; i < n_due; i++) {
		struct svc *s = daemon_svc_find(d, due[i].service);
		if (!s || s->deploying || state_journal_find(d->state, s->name))
			continue;
		if (d->n_running >= d->cfg->blue_green.max_concurrent) {
			log_info("daemon",
			         "deployment waits for a free slot (blue_green.max_concurrent)\t"
			         "service=%s",
			         s->name);
			continue;
		}
		daemon_job_start(d, s, &due_dec[due[i].index]);
	}
}

static void expire_pending(struct daemon *d, double now)
{
	for (size_t i = 0; i < d->state->n_pending;) {
		struct state_pending *p = &d->state->pending[i];
		if (gate_pending_expired(p, now)) {
			struct engine_decision dec;
			gate_pending_decision(p, &dec);
			log_info("daemon", "approval expired, change dropped\tservice=%s",
			         p->service);
			char *svc = xstrdup(p->service);
			daemon_history_add(d, STATE_EVENT_DECISION, svc, &dec, "expired", NULL, 0,
			                   NULL);
			state_pending_remove(d->state, svc);
			free(svc);
			continue;
		}
		i++;
	}
}

/* Publishes a fresh view (lock held). */
void daemon_publish(struct daemon *d)
{
	if (d->web)
		web_publish(d->web, daemon_build_view(d));
}

/* ---- one check ---- */

static void refresh_host_info(struct daemon *d, double now)
{
	if (now - d->host_info_time < 600)
		return;
	struct docker_info info = { 0 };
	char err[256];
	if (docker_info(d->docker, &info, err, sizeof(err)) == 0) {
		d->host_cpus = info.ncpu;
		d->host_mem = (uint64_t)info.mem_total;
		d->host_info_time = now;
	}
	docker_info_free(&info);
}

/* Lists containers for discovery and the view; NULL with the reason in err
 * when the engine does not answer. */
static struct docker_container_list *list_containers(struct daemon *d, char *err, size_t errlen)
{
	struct docker_container_list *list = xcalloc(1, sizeof(*list));
	if (docker_containers_list(d->docker, false, NULL, 0, list, err, errlen) < 0) {
		free(list);
		return NULL;
	}
	return list;
}

/* Whether the source has Prometheus decides whether it is a dependency. */
void daemon_deps_configure(struct daemon *d)
{
	struct dep *p = &d->deps[DEP_PROMETHEUS];
	bool has = source_has_backend(&d->source, "prometheus");
	if (p->configured != has) {
		p->configured = has;
		p->up = -1;
		p->detail[0] = '\0';
	}
}

/* After a check: Prometheus as its source found it; the Docker engine down
 * when the container list or the container stats failed. */
static void deps_update(struct daemon *d, bool collected, const char *list_err)
{
	const char *why = "";
	enum source_result pr = collected ? source_backend_result(&d->source, "prometheus", &why)
	                                  : SOURCE_NOT_ASKED;
	if (pr != SOURCE_NOT_ASKED)
		dep_set(d, DEP_PROMETHEUS, pr == SOURCE_ANSWERED, why);
	enum source_result dr =
	        collected ? source_backend_result(&d->source, "docker", &why) : SOURCE_NOT_ASKED;
	if (list_err)
		dep_set(d, DEP_DOCKER, false, list_err);
	else
		dep_set(d, DEP_DOCKER, dr != SOURCE_FAILED, why);
}

static void assign_containers(struct daemon *d, const struct docker_container_list *list,
                              char **names, size_t n)
{
	struct discovery_rules rules = { d->cfg->services.project, d->cfg->services.label_opt_in };
	struct discovery_group *g = xcalloc(n ? n : 1, sizeof(*g));
	discovery_group_services(list, (const char *const *)names, n, &rules, true, g);
	for (size_t i = 0; i < n; i++) {
		char **cn = xcalloc(g[i].n + 1, sizeof(char *));
		struct svc *s = daemon_svc_get(d, names[i]);
		s->health_known = s->unhealthy = false;
		for (size_t k = 0; k < g[i].n; k++) {
			const struct docker_container_summary *c = &list->items[g[i].idx[k]];
			const char *nm = c->n_names ? c->names[0] : c->id;
			cn[k] = xstrdup(nm[0] == '/' ? nm + 1 : nm);
			s->health_known |= c->health != DOCKER_HEALTH_NONE;
			s->unhealthy |= c->health == DOCKER_HEALTH_UNHEALTHY;
		}
		svc_set_containers(s, cn, g[i].n);
		discovery_group_free(&g[i]);
	}
	free(g);
}

/* Whether another process (the CLI's deploy, rollback, reconcile, or a
 * deployment an earlier run could not finish) has a deployment of s in the
 * journal (lock held): the daemon takes no decision for s until it ends. */
static bool foreign_deployment(struct daemon *d, struct svc *s)
{
	const struct state_journal *j = state_journal_find(d->state, s->name);
	if (!j || s->deploying) {
		s->foreign_reported = false;
		return false;
	}
	if (!s->foreign_reported)
		log_info("daemon",
		         "a deployment by another process is in flight, no decision until it "
		         "ends\tservice=%s phase=%s",
		         s->name, bg_phase_to_string(j->machine.phase));
	s->foreign_reported = true;
	return true;
}

/* Checks every service (only_flagged: only those an event flagged). */
static void check(struct daemon *d, bool only_flagged)
{
	double now = time_wall(), t0 = time_monotonic(), steady = steady_now(d);
	char list_err[256] = "";
	struct docker_container_list *list = list_containers(d, list_err, sizeof(list_err));
	/* A failed list means the engine is down or slow: its stats would only
	 * add their own timeouts to this check. */
	source_skip_engine(&d->source, list ? NULL : list_err);
	size_t n_all = 0, n = 0;
	char **all = service_names(d, list, &n_all);
	char **names = xcalloc(n_all + 1, sizeof(char *));
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < n_all; i++) {
		struct svc *s = daemon_svc_get(d, all[i]);
		if (!only_flagged || s->eval_now)
			names[n++] = all[i];
		s->eval_now = false;
	}
	pthread_mutex_unlock(&d->lock);
	if (list)
		refresh_host_info(d, now);

	struct observation *obs = xcalloc(n ? n : 1, sizeof(*obs));
	struct source_stats stats = { 0 };
	char err[256] = "";
	int r = n ? source_collect(&d->source, (const char *const *)names, n, now, obs, &stats, err,
	                           sizeof(err))
	          : 0;
	deps_update(d, n > 0, list ? NULL : list_err);

	pthread_mutex_lock(&d->lock);
	daemon_refresh_state(d);
	snprintf(d->source_used, sizeof(d->source_used), "%s", source_used_name(&d->source));
	if (list)
		assign_containers(d, list, names, n);
	struct engine_rank_item *due = xcalloc(n ? n : 1, sizeof(*due));
	struct engine_decision *due_dec = xcalloc(n ? n : 1, sizeof(*due_dec));
	size_t n_due = 0;
	for (size_t i = 0; i < n; i++) {
		struct svc *s = daemon_svc_get(d, names[i]);
		s->measured = r == 0;
		if (!list)
			s->health_known = s->unhealthy = false;
		if (r == 0) {
			s->obs = obs[i];
			if (s->event_ooms > s->obs.oom_kills || !s->obs.oom_known) {
				s->obs.oom_known = true;
				if (s->event_ooms > s->obs.oom_kills)
					s->obs.oom_kills = s->event_ooms;
			}
		} else {
			memset(&s->obs, 0, sizeof(s->obs));
			snprintf(s->obs.unknown_reason, sizeof(s->obs.unknown_reason),
			         "metrics source unreachable: %.120s", err);
		}
		s->event_ooms = 0;
		svc_add_point(s, now);
		if (r < 0 || s->deploying || d->stopping || foreign_deployment(d, s))
			continue;
		if (watch_check(d, s, steady))
			continue;
		decide(d, s, steady, now, due, due_dec, &n_due);
		check_drift(d, s, steady, due, due_dec, &n_due);
	}
	if (list && !d->stopping)
		start_due(d, due, due_dec, n_due);
	else if (n_due)
		log_info("daemon", "changes wait for the Docker engine to answer\tservices=%zu",
		         n_due);
	expire_pending(d, now);
	if (!only_flagged) {
		d->checks++;
		d->last_check = now;
		d->last_check_duration = time_monotonic() - t0;
	}
	char serr[256];
	daemon_save_state(d, now, serr, sizeof(serr)); /* logs a failure */
	daemon_publish(d);
	pthread_mutex_unlock(&d->lock);
	log_debug("daemon", "check done\tservices=%zu source=%s requests=%u seconds=%.3f", n,
	          d->source_used, stats.requests, time_monotonic() - t0);
	free(due);
	free(due_dec);
	free(obs);
	free(names);
	free_names(all, n_all);
	if (list) {
		docker_container_list_free(list);
		free(list);
	}
}

/* ---- the loop ---- */

static bool any_flagged(struct daemon *d)
{
	bool f = false;
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->n_svcs && !f; i++)
		f = d->svcs[i].eval_now;
	pthread_mutex_unlock(&d->lock);
	return f;
}

static void collect_done(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->done) {
		jobs_collect(d);
		char err[256];
		daemon_save_state(d, time_wall(), err, sizeof(err)); /* logs a failure */
		daemon_publish(d);
	}
	daemon_retire_configs(d);
	pthread_mutex_unlock(&d->lock);
}

/* Waits for signals, wake-ups or the timeout. Returns the signal or 0. */
static int wait_for(struct daemon *d, double seconds)
{
	struct pollfd p[2] = { { d->sig_fd, POLLIN, 0 }, { d->wake_fd, POLLIN, 0 } };
	int ms = seconds <= 0 ? 0 : seconds > 3600 ? 3600000 : (int)(seconds * 1000) + 1;
	if (poll(p, 2, ms) <= 0)
		return 0;
	if (p[1].revents & POLLIN) {
		uint64_t v;
		if (read(d->wake_fd, &v, sizeof(v)) < 0)
			log_debug("daemon", "wake read failed");
	}
	if (p[0].revents & POLLIN) {
		struct signalfd_siginfo si;
		if (read(d->sig_fd, &si, sizeof(si)) == sizeof(si))
			return (int)si.ssi_signo;
	}
	return 0;
}

/* Lets deployments in flight finish or roll back within a bounded time. */
static void drain_jobs(struct daemon *d)
{
	double grace = d->cfg->blue_green.rollback_timeout;
	double deadline = time_monotonic() + grace + 30;
	bool aborted = false;
	for (;;) {
		collect_done(d);
		pthread_mutex_lock(&d->lock);
		size_t n = d->n_running;
		if (n && !aborted && time_monotonic() > deadline - grace) {
			/* Past the soft limit: ask each to roll back now. */
			for (size_t i = 0; i < n; i++)
				d->running[i]->abort = 1;
			aborted = true;
			log_warn("daemon", "asking deployments in flight to roll back\tcount=%zu",
			         n);
		}
		pthread_mutex_unlock(&d->lock);
		if (!n)
			return;
		if (time_monotonic() > deadline) {
			log_error("daemon",
			          "deployments still running at exit; the journal lets the "
			          "next start finish them\tcount=%zu",
			          n);
			return;
		}
		log_info("daemon", "waiting for deployments in flight\tcount=%zu", n);
		wait_for(d, 1.0);
	}
}

static void run_loop(struct daemon *d)
{
	double next = time_monotonic();
	for (;;) {
		double now = time_monotonic();
		if (now >= next) {
			check(d, false);
			next += d->cfg->monitoring.check_interval;
			if (next < time_monotonic()) /* a check overran: skip, don't pile up */
				next = time_monotonic() + d->cfg->monitoring.check_interval;
		}
		collect_done(d);
		daemon_commands_run(d);
		if (d->opts.once) {
			pthread_mutex_lock(&d->lock);
			bool idle = d->n_running == 0 && d->checks > 0;
			pthread_mutex_unlock(&d->lock);
			if (idle)
				return;
		}
		if (any_flagged(d))
			check(d, true);
		int sig = wait_for(d, next - time_monotonic());
		if (sig == SIGHUP) {
			log_info("daemon", "SIGHUP: reloading the configuration");
			daemon_reload(d);
			next = time_monotonic();
		} else if (sig == SIGTERM || sig == SIGINT) {
			log_info("daemon", "stopping on signal, no new decisions\tsignal=%s",
			         sig == SIGTERM ? "TERM" : "INT");
			return;
		}
	}
}

/* Seeds the histograms of monitored services that have none from
 * recommender.history_window of Prometheus history, before the first
 * decision; without Prometheus, or when it gives nothing, they start empty. */
static void warm_start(struct daemon *d)
{
	const struct rm_config *cfg = d->cfg;
	const struct strlist *m = &cfg->services.monitored;
	struct source_prom_history_stats st = { 0 };
	char err[512], q[600], win[32];
	if (cfg->adjustment.policy != POLICY_PERCENTILE || !(cfg->recommender.history_window > 0) ||
	    m->n == 0)
		return;
	units_format_duration(cfg->recommender.history_window, win, sizeof(win));
	if (!cfg->monitoring.prometheus_url || !*cfg->monitoring.prometheus_url ||
	    cfg->monitoring.source == SOURCE_DOCKER) {
		log_info("daemon", "no Prometheus: the usage histograms start empty (cold start)");
		return;
	}
	struct usage_history *fresh = xcalloc(m->n, sizeof(*fresh));
	struct usage_history **targets = xcalloc(m->n, sizeof(*targets));
	size_t want = 0, seeded = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct state_service *ss = state_service_find(d->state, m->items[i]);
		if (ss && (!histogram_empty(&ss->usage.cpu) || !histogram_empty(&ss->usage.mem)))
			continue;
		usage_history_init(&fresh[i]);
		targets[i] = &fresh[i];
		want++;
	}
	if (want == 0)
		goto out;
	double step = cfg->monitoring.check_interval, end = floor(time_wall() / step) * step;
	long n = recommend_seed(cfg, (const char *const *)m->items, m->n, targets,
	                        end - cfg->recommender.history_window, end, step, &st, err,
	                        sizeof(err));
	if (n < 0) {
		log_warn("daemon",
		         "warm start: no history, the histograms start empty (cold start)\t"
		         "window=%s error=%s",
		         win, log_quote(err, q, sizeof(q)));
		goto out;
	}
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < m->n; i++)
		if (targets[i] &&
		    (!histogram_empty(&fresh[i].cpu) || !histogram_empty(&fresh[i].mem))) {
			state_service_get(d->state, m->items[i])->usage = fresh[i];
			seeded++;
		}
	pthread_mutex_unlock(&d->lock);
	log_info("daemon",
	         "warm start: usage histograms seeded from Prometheus history\tservices=%zu of %zu "
	         "samples=%ld window=%s requests=%u partial=%s",
	         seeded, want, n, win, st.requests, st.partial ? "true" : "false");
out:
	free(fresh);
	free(targets);
}

static int daemon_init(struct daemon *d, const struct daemon_options *opts)
{
	memset(d, 0, sizeof(*d));
	d->opts = *opts;
	d->wake_fd = d->sig_fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	const char *names[N_DEPS] = { "prometheus", "docker" };
	for (int i = 0; i < N_DEPS; i++) {
		d->deps[i].name = names[i];
		d->deps[i].up = -1;
		d->deps[i].configured = true;
	}
	/* Signals are taken through a signalfd: block them before any thread
	 * (curl's resolver, the notifier, the events reader) starts. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->sig_fd < 0 || d->wake_fd < 0) {
		log_error("daemon", "cannot set up signal handling: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void daemon_fini(struct daemon *d)
{
	web_stop(d->web);
	d->web = NULL;
	if (d->events) {
		d->events_run = false;
		pthread_join(d->events_thread, NULL);
		docker_events_stop(d->events);
	}
	notifier_free(d->notifier, 3);
	source_free(&d->source);
	docker_client_free(d->docker);
	for (size_t i = 0; i < d->n_svcs; i++) {
		svc_set_containers(&d->svcs[i], NULL, 0);
		free(d->svcs[i].name);
	}
	free(d->svcs);
	free(d->running);
	state_free(d->state);
	state_store_free(d->store);
	for (size_t i = 0; i < d->n_retired; i++)
		config_free(d->retired[i]);
	free(d->retired);
	config_free(d->cfg);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	log_open_file(NULL, LOG_INFO);
}

static int load_config(struct daemon *d)
{
	struct config_report rep = { 0 };
	int r = config_load(d->opts.config_path, environ, &d->cfg, &rep);
	const char *name = d->opts.config_path ? d->opts.config_path : "config";
	config_report_print(&rep, d->cfg ? d->cfg->source_path : name, stderr);
	config_report_free(&rep);
	if (r < 0) {
		fprintf(stderr, "resource-manager: the configuration is invalid; nothing was "
		                "started. Fix the problems above and try again.\n");
		return r;
	}
	log_set_level(d->cfg->logging.level);
	log_set_format(d->cfg->logging.format);
	return 0;
}

int daemon_main(const struct daemon_options *opts)
{
	/* Before the first thread: the footprint of a month-long run (see
	 * docs/benchmarks.md, the soak). */
	malloc_tune();
	struct daemon *d = xcalloc(1, sizeof(*d));
	int status = 0;
	char err[512], q[600];
	if (daemon_init(d, opts) < 0) {
		status = 2;
		goto out;
	}
	if (load_config(d) < 0) {
		status = 1;
		goto out;
	}
	daemon_open_log_file(d->cfg);
	int r = state_store_open(d->cfg->state.path, &d->store, &d->state, err, sizeof(err));
	if (r < 0) {
		log_error("daemon", "cannot read the state file, not starting: %s",
		          log_quote(err, q, sizeof(q)));
		status = 2;
		goto out;
	}
	if (r == 1)
		log_warn("daemon", "%s", log_quote(err, q, sizeof(q)));
	if (daemon_build_peers(d, d->cfg, &d->source, &d->docker, err, sizeof(err)) < 0) {
		log_error("daemon", "cannot set up the metrics source or Docker client: %s",
		          log_quote(err, q, sizeof(q)));
		status = 2;
		goto out;
	}
	daemon_deps_configure(d);
	d->notifier = notifier_new(d->cfg);
	d->started = time_wall();
	d->wall0 = d->started;
	d->mono0 = time_monotonic();
	if (web_start(d->cfg, daemon_on_command, d, &d->web, err, sizeof(err)) < 0) {
		log_error("daemon", "cannot start the web server, not starting: %s",
		          log_quote(err, q, sizeof(q)));
		status = 2;
		goto out;
	}
	char interval[32];
	units_format_duration(d->cfg->monitoring.check_interval, interval, sizeof(interval));
	log_info("daemon",
	         "resource-manager %s started\tconfig=%s check_interval=%s dry_run=%s "
	         "automation=%s manual_approval=%s state=%s",
	         RM_VERSION, log_quote(d->cfg->source_path, q, sizeof(q)), interval,
	         dry_run(d) ? "true" : "false", d->cfg->automation.enabled ? "on" : "off",
	         d->cfg->automation.manual_approval ? "on" : "off", d->cfg->state.path);
	/* The daemon's own view from the start (the web layer's placeholder
	 * knows no peer timeout): a first check slowed by a hung peer is slow,
	 * not stuck. */
	pthread_mutex_lock(&d->lock);
	daemon_publish(d);
	pthread_mutex_unlock(&d->lock);
	daemon_reconcile_journal(d);
	warm_start(d);
	if (docker_events_start(d->docker, NULL, &d->events) == 0) {
		d->events_run = true;
		if (pthread_create(&d->events_thread, NULL, daemon_events_main, d) != 0)
			abort();
	}
	run_loop(d);
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_mutex_unlock(&d->lock);
	drain_jobs(d);
	pthread_mutex_lock(&d->lock);
	if (daemon_save_state(d, time_wall(), err, sizeof(err)) < 0)
		log_error("daemon", "cannot save the state at exit: %s",
		          log_quote(err, q, sizeof(q)));
	pthread_mutex_unlock(&d->lock);
	notifier_flush(d->notifier, 2);
	log_info("daemon", "stopped\tchecks=%lu", d->checks);
out:
	daemon_fini(d);
	free(d);
	return status;
}
