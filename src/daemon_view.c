/* daemon_view: the snapshot of the loop's state the web layer serves
 * (built under the loop's lock each time it changes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_internal.h"
#include "rm/gate.h"

struct view *daemon_build_view(struct daemon *d)
{
	const struct rm_config *cfg = d->cfg;
	struct view *v = xcalloc(1, sizeof(*v));
	double now = time_wall(), steady = steady_now(d);
	int32_t today = engine_local_day(now);
	v->now = now;
	v->started = d->started;
	v->last_check = d->last_check;
	v->last_check_duration = d->last_check_duration;
	v->check_interval = cfg->monitoring.check_interval;
	/* A failed container list skips the Engine's stats: one Engine timeout. */
	v->peer_timeout = cfg->docker.timeout +
	                  (d->deps[DEP_PROMETHEUS].configured ? cfg->monitoring.query_timeout : 0);
	v->checks = d->checks;
	snprintf(v->source, sizeof(v->source), "%s", d->source_used);
	snprintf(v->version, sizeof(v->version), "%s", RM_VERSION);
	v->automation_enabled = cfg->automation.enabled;
	v->paused = d->paused;
	v->dry_run = dry_run(d);
	v->manual_approval = cfg->automation.manual_approval;
	snprintf(v->policy, sizeof(v->policy), "%s",
	         adjustment_policy_to_string(cfg->adjustment.policy));
	v->thresholds.cpu_high = cfg->thresholds.cpu_high;
	v->thresholds.cpu_low = cfg->thresholds.cpu_low;
	v->thresholds.memory_high = cfg->thresholds.memory_high;
	v->thresholds.memory_low = cfg->thresholds.memory_low;
	v->thresholds.consecutive_checks = cfg->thresholds.consecutive_checks;
	for (int i = 0; i < N_DEPS; i++) {
		const struct dep *p = &d->deps[i];
		struct view_dependency *o = &v->deps[v->n_deps];
		snprintf(o->name, sizeof(o->name), "%s", p->name);
		o->configured = p->configured;
		o->up = p->up != 0; /* unknown until the first check: not reported down */
		snprintf(o->detail, sizeof(o->detail), "%s", p->detail);
		o->since = p->since;
		v->n_deps++;
	}
	v->services = xcalloc(d->n_svcs ? d->n_svcs : 1, sizeof(*v->services));
	for (size_t i = 0; i < d->n_svcs; i++) {
		const struct svc *s = &d->svcs[i];
		if (!strlist_contains(&cfg->services.monitored, s->name) && !s->n_containers &&
		    !s->measured)
			continue;
		struct view_service *o = &v->services[v->n_services++];
		const struct state_service *ss = state_service_find(d->state, s->name);
		o->name = xstrdup(s->name);
		o->class = config_service_class(cfg, s->name);
		o->priority = config_service_priority(cfg, s->name);
		o->containers = xcalloc(s->n_containers + 1, sizeof(char *));
		for (size_t k = 0; k < s->n_containers; k++)
			o->containers[k] = xstrdup(s->containers[k]);
		o->n_containers = s->n_containers;
		o->measured = s->measured;
		o->obs = s->obs;
		memcpy(o->points, s->points, s->n_points * sizeof(s->points[0]));
		o->n_points = s->n_points;
		if (ss) {
			o->engine = ss->engine;
			if (o->engine.day != today)
				o->engine.changes_today = 0;
			double cd = ss->engine.last_result == ENGINE_RESULT_APPLIED
			                    ? ss->engine.last_change +
			                              cfg->adjustment.cooldown_period - steady
			                    : 0;
			o->cooldown_remaining = cd > 0 ? cd : 0;
			double bo = ss->engine.backoff_until - steady;
			o->backoff_remaining = bo > 0 ? bo : 0;
			const struct state_counters *c = &ss->counters;
			o->counters = (struct view_counters){
				.total_adjustments = c->total_adjustments,
				.successful_adjustments = c->successful_adjustments,
				.failed_adjustments = c->failed_adjustments,
				.blue_green_deployments = c->blue_green_deployments,
				.rollbacks = c->rollbacks,
				.threshold_breaches = c->threshold_breaches,
				.blue_green_succeeded = c->blue_green_deployments,
				.blue_green_failed = c->blue_green_failed,
				.reverts = c->reverts,
				.verified = c->verified,
			};
			o->watching = ss->watching;
			if (ss->watching) {
				/* The watch runs on the steady clock; shown on the wall one. */
				o->watch_until = now + (ss->watch.until - steady);
				o->watch_cpu_from = ss->watch.cpu_from;
				o->watch_cpu_to = ss->watch.cpu_to;
				o->watch_mem_from = ss->watch.mem_from;
				o->watch_mem_to = ss->watch.mem_to;
			}
		}
		o->has_decision = s->has_decision;
		o->decision = s->decision;
		o->decision_time = s->decision_time;
		if (s->has_rec) {
			struct engine_policy pol;
			engine_policy_for(cfg, s->name, &pol);
			o->has_rec = true;
			o->rec = s->rec;
			engine_recommended_limits(&pol, &s->rec, &o->rec_cpu, &o->rec_mem);
		}
		const struct state_pending *p = state_pending_find(d->state, s->name);
		if (p) {
			o->pending = true;
			gate_pending_decision(p, &o->pending_decision);
			o->pending_expires = p->expires;
		}
		o->deploying = s->deploying;
		snprintf(o->deploy_phase, sizeof(o->deploy_phase), "%s", s->phase);
		snprintf(o->deploy_strategy, sizeof(o->deploy_strategy), "%s", s->strategy);
		o->has_last_deploy = s->has_last_deploy;
		snprintf(o->last_deploy_status, sizeof(o->last_deploy_status), "%s",
		         s->last_status);
		snprintf(o->last_deploy_strategy, sizeof(o->last_deploy_strategy), "%s",
		         s->last_strategy);
		o->last_deploy_time = s->last_time;
		o->last_deploy_duration = s->last_duration;
		o->last_deploy_cpu = s->last_cpu;
		o->last_deploy_mem = s->last_mem;
	}
	const struct rm_state *st = d->state;
	v->history = xcalloc(st->n_history ? st->n_history : 1, sizeof(*v->history));
	for (size_t i = 0; i < st->n_history; i++) {
		const struct state_event *e = &st->history[i];
		struct state_event *o = &v->history[v->n_history++];
		*o = *e;
		o->service = e->service ? xstrdup(e->service) : NULL;
		o->reason = e->reason ? xstrdup(e->reason) : NULL;
		o->explanation = e->explanation ? xstrdup(e->explanation) : NULL;
		o->outcome = e->outcome ? xstrdup(e->outcome) : NULL;
		o->strategy = e->strategy ? xstrdup(e->strategy) : NULL;
		o->backend = e->backend ? xstrdup(e->backend) : NULL;
	}
	notifier_get_stats(d->notifier, &v->notify);
	snprintf(v->state_error, sizeof(v->state_error), "%s", d->state_error);
	v->state_error_since = d->state_error_since;
	return v;
}
