/* render: the view as JSON (API, /health) and Prometheus text (/metrics). Pure. */
#include "rm/render.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rm/engine.h"
#include "rm/state.h"

static const char *const health_names[_RENDER_HEALTH_MAX] = { "healthy", "degraded", "unhealthy" };

const char *render_health_to_string(enum render_health h)
{
	return (int)h >= 0 && h < _RENDER_HEALTH_MAX ? health_names[h] : "unknown";
}

/* ---- JSON helpers ---- */

/* Numbers are rounded before encoding so that the 15 significant digits the
 * encoder prints show short values (0.1234, not 0.12340000000000001). */
static json_t *jnum(double v, int decimals)
{
	if (!isfinite(v))
		return json_null();
	double scale = pow(10, decimals);
	double r = round(v * scale) / scale;
	return json_real(r == 0 ? 0 : r); /* no "-0.0" */
}

static json_t *jnum_if(bool known, double v, int decimals)
{
	return known ? jnum(v, decimals) : json_null();
}

/* Epoch seconds to the millisecond; 0 (never) is null. */
static json_t *jtime(double t)
{
	return t > 0 ? jnum(t, 3) : json_null();
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *jbytes_if(bool known, uint64_t v)
{
	return known ? json_integer((json_int_t)v) : json_null();
}

static char *dump(json_t *root)
{
	char *s = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_ENSURE_ASCII);
	json_decref(root);
	if (!s)
		abort(); /* only on allocation failure */
	return s;
}

/* use / limit, when both are known and there is a limit. */
static bool ratio(bool used_known, double used, bool limit_known, double limit, double *ret)
{
	if (!used_known || !limit_known || !(limit > 0) || !isfinite(used))
		return false;
	*ret = used / limit;
	return true;
}

static bool cpu_ratio(const struct observation *o, double *ret)
{
	return ratio(o->cpu_used_known, o->cpu_used, o->cpu_limit_known, o->cpu_limit, ret);
}

static bool mem_ratio(const struct observation *o, double *ret)
{
	return ratio(o->mem_used_known, (double)o->mem_used, o->mem_limit_known,
	             (double)o->mem_limit, ret);
}

static json_t *decision_json(const struct engine_decision *d, double time)
{
	json_t *o = json_object();
	if (time > 0)
		json_object_set_new(o, "time", jtime(time));
	json_object_set_new(o, "reason", json_string(engine_reason_to_string(d->reason)));
	json_object_set_new(o, "cpu_reason", json_string(engine_reason_to_string(d->cpu_reason)));
	json_object_set_new(o, "memory_reason",
	                    json_string(engine_reason_to_string(d->mem_reason)));
	json_object_set_new(o, "changes", json_boolean(engine_decision_changes(d)));
	json_object_set_new(o, "change_cpu", json_boolean(d->change_cpu));
	json_object_set_new(o, "cpu_from", jnum_if(d->change_cpu, d->cpu_from, 3));
	json_object_set_new(o, "cpu_to", jnum_if(d->change_cpu, d->cpu_to, 3));
	json_object_set_new(o, "change_memory", json_boolean(d->change_mem));
	json_object_set_new(o, "memory_from", jbytes_if(d->change_mem, d->mem_from));
	json_object_set_new(o, "memory_to", jbytes_if(d->change_mem, d->mem_to));
	json_object_set_new(o, "explanation", json_string(d->explanation));
	return o;
}

/* Recent checks as columns (smaller than one object per point). */
static json_t *points_json(const struct view_service *s)
{
	json_t *t = json_array(), *cpu = json_array(), *mem = json_array();
	json_t *cl = json_array(), *ml = json_array();
	for (size_t i = 0; i < s->n_points && i < VIEW_POINTS; i++) {
		const struct view_point *p = &s->points[i];
		json_array_append_new(t, jnum(p->time, 0));
		json_array_append_new(cpu, jnum_if(p->cpu_known, p->cpu_ratio, 4));
		json_array_append_new(mem, jnum_if(p->mem_known, p->mem_ratio, 4));
		json_array_append_new(cl, jnum(p->cpu_limit, 3));
		json_array_append_new(ml, json_integer((json_int_t)p->mem_limit));
	}
	json_t *o = json_object();
	json_object_set_new(o, "time", t);
	json_object_set_new(o, "cpu_ratio", cpu);
	json_object_set_new(o, "memory_ratio", mem);
	json_object_set_new(o, "cpu_limit", cl);
	json_object_set_new(o, "memory_limit", ml);
	return o;
}

static json_t *resources_json(const struct observation *o)
{
	double r = 0;
	json_t *cpu = json_object();
	json_object_set_new(cpu, "used", jnum_if(o->cpu_used_known, o->cpu_used, 4));
	json_object_set_new(cpu, "limit", jnum_if(o->cpu_limit_known, o->cpu_limit, 3));
	json_object_set_new(cpu, "ratio", cpu_ratio(o, &r) ? jnum(r, 4) : json_null());
	json_object_set_new(cpu, "throttled", jnum_if(o->cpu_throttled_known, o->cpu_throttled, 4));
	json_object_set_new(cpu, "trend", jnum_if(o->cpu_trend_known, o->cpu_trend, 4));
	json_t *mem = json_object();
	json_object_set_new(mem, "used", jbytes_if(o->mem_used_known, o->mem_used));
	json_object_set_new(mem, "peak", jbytes_if(o->mem_peak_known, o->mem_peak));
	json_object_set_new(mem, "limit", jbytes_if(o->mem_limit_known, o->mem_limit));
	json_object_set_new(mem, "ratio", mem_ratio(o, &r) ? jnum(r, 4) : json_null());
	json_t *res = json_object();
	json_object_set_new(res, "cpu", cpu);
	json_object_set_new(res, "memory", mem);
	return res;
}

static json_t *counters_json(const struct view_counters *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "total_adjustments", json_integer((json_int_t)c->total_adjustments));
	json_object_set_new(o, "successful_adjustments",
	                    json_integer((json_int_t)c->successful_adjustments));
	json_object_set_new(o, "failed_adjustments",
	                    json_integer((json_int_t)c->failed_adjustments));
	json_object_set_new(o, "blue_green_deployments",
	                    json_integer((json_int_t)c->blue_green_deployments));
	json_object_set_new(o, "rollbacks", json_integer((json_int_t)c->rollbacks));
	json_object_set_new(o, "reverts", json_integer((json_int_t)c->reverts));
	json_object_set_new(o, "verified_changes", json_integer((json_int_t)c->verified));
	json_object_set_new(o, "threshold_breaches",
	                    json_integer((json_int_t)c->threshold_breaches));
	return o;
}

static json_t *engine_json(const struct engine_state *e, unsigned needed)
{
	json_t *h = json_object();
	json_object_set_new(h, "needed", json_integer(needed));
	json_object_set_new(h, "cpu_high", json_integer(e->cpu_high));
	json_object_set_new(h, "cpu_low", json_integer(e->cpu_low));
	json_object_set_new(h, "memory_high", json_integer(e->mem_high));
	json_object_set_new(h, "memory_low", json_integer(e->mem_low));
	json_object_set_new(h, "throttled", json_integer(e->throttled));
	return h;
}

/* One resource of a recommendation; memory in bytes (whole), CPU in cores. */
static json_t *rec_resource_json(const struct rec_resource *r, bool is_cpu, double limit)
{
	if (!r->known)
		return json_null();
	int dec = is_cpu ? 3 : 0;
	json_t *o = json_object();
	json_object_set_new(o, "percentile", jnum(r->percentile, dec));
	json_object_set_new(o, "p50", jnum(r->p50, dec));
	json_object_set_new(o, "p90", jnum(r->p90, dec));
	json_object_set_new(o, "p99", jnum(r->p99, dec));
	json_object_set_new(o, "max", jnum(r->max, dec));
	json_object_set_new(o, "mean", jnum(r->mean, dec));
	json_object_set_new(o, "margin", jnum(r->margin, 4));
	json_object_set_new(o, "target", jnum(r->target, dec));
	json_object_set_new(o, "lower", jnum(r->lower, dec));
	json_object_set_new(o, "upper", jnum(r->upper, dec));
	json_object_set_new(o, "limit", limit > 0 ? jnum(limit, dec) : json_null());
	json_object_set_new(o, "expected_slack",
	                    limit > 0 ? jnum(fmax(0, 1 - r->mean / limit), 4) : json_null());
	json_object_set_new(o, "samples", json_integer((json_int_t)r->samples));
	return o;
}

/* The percentile policy's recommendation: the histograms' percentiles, the
 * target and its bounds, and the limit asked for within the service's bounds
 * ("limit"); null under the threshold policy or before any sample. */
static json_t *recommendation_json(const struct view_service *s)
{
	if (!s->has_rec)
		return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "history", jnum(s->rec.history, 0));
	json_object_set_new(o, "confidence_days", jnum(s->rec.confidence, 3));
	json_object_set_new(o, "cpu", rec_resource_json(&s->rec.cpu, true, s->rec_cpu));
	json_object_set_new(o, "memory", rec_resource_json(&s->rec.mem, false, (double)s->rec_mem));
	return o;
}

/* Fleet totals: limits in force, recommended limits and use, per resource,
 * over the services that have all three; reclaimable = limits - recommended. */
static json_t *fleet_json(const struct view *v)
{
	double lim[2] = { 0 }, rec[2] = { 0 }, use[2] = { 0 };
	size_t n = 0;
	for (size_t i = 0; i < v->n_services; i++) {
		const struct view_service *s = &v->services[i];
		const struct observation *o = &s->obs;
		if (!s->has_rec || !s->measured)
			continue;
		if (s->rec_cpu > 0 && o->cpu_limit_known && o->cpu_limit > 0 && o->cpu_used_known) {
			lim[0] += o->cpu_limit;
			rec[0] += s->rec_cpu;
			use[0] += o->cpu_used;
		}
		if (s->rec_mem > 0 && o->mem_limit_known && o->mem_limit > 0 && o->mem_used_known) {
			lim[1] += (double)o->mem_limit;
			rec[1] += (double)s->rec_mem;
			use[1] += (double)o->mem_used;
		}
		n++;
	}
	json_t *f = json_object();
	static const char *const names[] = { "cpu", "memory" };
	for (size_t k = 0; k < 2; k++) {
		int dec = k == 0 ? 3 : 0;
		json_object_set_new(f, names[k],
		                    json_pack("{s:o, s:o, s:o, s:o}", "limits", jnum(lim[k], dec),
		                              "recommended", jnum(rec[k], dec), "usage",
		                              jnum(use[k], dec), "reclaimable",
		                              jnum(lim[k] - rec[k], dec)));
	}
	json_object_set_new(f, "services", json_integer((json_int_t)n));
	return f;
}

static json_t *service_json(const struct view *v, const struct view_service *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(s->name));
	json_object_set_new(o, "class", json_string(service_class_to_string(s->class)));
	json_object_set_new(o, "priority", json_integer(s->priority));
	json_t *c = json_array();
	for (size_t i = 0; i < s->n_containers; i++)
		json_array_append_new(c, json_string(s->containers[i]));
	json_object_set_new(o, "containers", c);
	json_object_set_new(o, "measured", json_boolean(s->measured));
	json_object_set_new(o, "observed_at", jtime(s->obs.time));
	json_t *res = resources_json(&s->obs);
	json_object_update(o, res);
	json_decref(res);
	json_object_set_new(o, "uptime", jnum_if(s->obs.uptime_known, s->obs.uptime, 0));
	json_object_set_new(o, "oom_kills",
	                    s->obs.oom_known ? json_integer(s->obs.oom_kills) : json_null());
	json_object_set_new(o, "unknown_reason", json_string(s->obs.unknown_reason));
	json_object_set_new(o, "points", points_json(s));
	json_object_set_new(o, "hysteresis",
	                    engine_json(&s->engine, v->thresholds.consecutive_checks));
	json_object_set_new(o, "cooldown_remaining", jnum(s->cooldown_remaining, 0));
	json_object_set_new(o, "backoff_remaining", jnum(s->backoff_remaining, 0));
	json_object_set_new(o, "changes_today", json_integer(s->engine.changes_today));
	json_object_set_new(o, "last_result",
	                    json_string(engine_result_to_string(s->engine.last_result)));
	json_object_set_new(o, "failures", json_integer(s->engine.failures));
	json_object_set_new(o, "decision",
	                    s->has_decision ? decision_json(&s->decision, s->decision_time)
	                                    : json_null());
	json_t *p = json_null();
	if (s->pending) {
		p = decision_json(&s->pending_decision, 0);
		json_object_set_new(p, "expires", jtime(s->pending_expires));
	}
	json_object_set_new(o, "pending", p);
	json_t *d = json_object();
	json_object_set_new(d, "active", json_boolean(s->deploying));
	json_object_set_new(d, "phase", s->deploying ? json_string(s->deploy_phase) : json_null());
	json_object_set_new(d, "strategy",
	                    s->deploying ? json_string(s->deploy_strategy) : json_null());
	json_object_set_new(o, "deployment", d);
	json_t *l = json_null();
	if (s->has_last_deploy) {
		l = json_object();
		json_object_set_new(l, "status", json_string(s->last_deploy_status));
		json_object_set_new(l, "strategy", json_string(s->last_deploy_strategy));
		json_object_set_new(l, "time", jtime(s->last_deploy_time));
		json_object_set_new(l, "duration", jnum(s->last_deploy_duration, 3));
		json_object_set_new(l, "cpu", jnum(s->last_deploy_cpu, 3));
		json_object_set_new(l, "memory", json_integer((json_int_t)s->last_deploy_mem));
	}
	json_object_set_new(o, "last_deployment", l);
	json_t *w = json_null();
	if (s->watching) {
		w = json_object();
		json_object_set_new(w, "until", jtime(s->watch_until));
		json_object_set_new(w, "cpu_from", jnum(s->watch_cpu_from, 3));
		json_object_set_new(w, "cpu_to", jnum(s->watch_cpu_to, 3));
		json_object_set_new(w, "memory_from", json_integer((json_int_t)s->watch_mem_from));
		json_object_set_new(w, "memory_to", json_integer((json_int_t)s->watch_mem_to));
	}
	json_object_set_new(o, "watch", w);
	json_object_set_new(o, "counters", counters_json(&s->counters));
	json_object_set_new(o, "recommendation", recommendation_json(s));
	return o;
}

char *render_service_json(const struct view *v, const char *name)
{
	const struct view_service *s = view_find(v, name);
	return s ? dump(service_json(v, s)) : NULL;
}

static json_t *deps_json(const struct view *v)
{
	json_t *a = json_array();
	for (size_t i = 0; i < v->n_deps && i < RM_ARRAY_SIZE(v->deps); i++) {
		const struct view_dependency *d = &v->deps[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(d->name));
		json_object_set_new(o, "configured", json_boolean(d->configured));
		json_object_set_new(o, "up", json_boolean(d->up));
		json_object_set_new(o, "detail", json_string(d->detail));
		json_object_set_new(o, "since", jtime(d->since));
		json_array_append_new(a, o);
	}
	return a;
}

char *render_status_json(const struct view *v, double now)
{
	json_t *o = json_object();
	json_object_set_new(o, "version", json_string(v->version));
	json_object_set_new(o, "now", jtime(v->now));
	json_object_set_new(o, "served_at", jtime(now));
	json_object_set_new(o, "started", jtime(v->started));
	json_object_set_new(o, "last_check", jtime(v->last_check));
	json_object_set_new(o, "last_check_duration", jnum(v->last_check_duration, 3));
	json_object_set_new(o, "check_interval", jnum(v->check_interval, 3));
	json_object_set_new(o, "checks", json_integer((json_int_t)v->checks));
	json_object_set_new(o, "source", json_string(v->source));
	json_object_set_new(o, "health",
	                    json_string(render_health_to_string(render_health_status(v, now))));
	json_t *a = json_object();
	json_object_set_new(a, "enabled", json_boolean(v->automation_enabled));
	json_object_set_new(a, "paused", json_boolean(v->paused));
	json_object_set_new(a, "dry_run", json_boolean(v->dry_run));
	json_object_set_new(a, "manual_approval", json_boolean(v->manual_approval));
	json_object_set_new(a, "policy", json_string(v->policy));
	json_object_set_new(o, "automation", a);
	json_t *t = json_object();
	json_object_set_new(t, "cpu_high", jnum(v->thresholds.cpu_high, 4));
	json_object_set_new(t, "cpu_low", jnum(v->thresholds.cpu_low, 4));
	json_object_set_new(t, "memory_high", jnum(v->thresholds.memory_high, 4));
	json_object_set_new(t, "memory_low", jnum(v->thresholds.memory_low, 4));
	json_object_set_new(t, "consecutive_checks",
	                    json_integer(v->thresholds.consecutive_checks));
	json_object_set_new(o, "thresholds", t);
	json_object_set_new(o, "dependencies", deps_json(v));
	json_t *n = json_object();
	json_object_set_new(n, "queued", json_integer((json_int_t)v->notify.queued));
	json_object_set_new(n, "sent", json_integer((json_int_t)v->notify.sent));
	json_object_set_new(n, "retries", json_integer((json_int_t)v->notify.retries));
	json_object_set_new(n, "dropped", json_integer((json_int_t)v->notify.dropped));
	json_object_set_new(n, "filtered", json_integer((json_int_t)v->notify.filtered));
	json_object_set_new(o, "notifications", n);
	size_t pending = 0;
	json_t *svcs = json_array();
	for (size_t i = 0; i < v->n_services; i++) {
		pending += v->services[i].pending;
		json_array_append_new(svcs, service_json(v, &v->services[i]));
	}
	json_object_set_new(o, "pending_approvals", json_integer((json_int_t)pending));
	json_object_set_new(o, "services", svcs);
	json_object_set_new(o, "fleet", fleet_json(v));
	return dump(o);
}

static json_t *limits_json(const struct state_limits *l)
{
	if (!l->known)
		return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "cpu", jnum(l->cpu, 3));
	json_object_set_new(o, "memory", json_integer((json_int_t)l->memory));
	return o;
}

static json_t *event_json(const struct state_event *e)
{
	json_t *o = json_object();
	json_object_set_new(o, "time", jtime(e->time));
	json_object_set_new(o, "kind", json_string(state_event_kind_to_string(e->kind)));
	json_object_set_new(o, "service", jstr(e->service));
	json_object_set_new(o, "reason", jstr(e->reason));
	json_object_set_new(o, "explanation", jstr(e->explanation));
	json_object_set_new(o, "outcome", jstr(e->outcome));
	json_object_set_new(o, "strategy", jstr(e->strategy));
	json_object_set_new(o, "backend", jstr(e->backend)); /* bluegreen, inplace, swarm */
	json_object_set_new(o, "duration",
	                    e->kind == STATE_EVENT_DEPLOYMENT ? jnum(e->duration, 3) : json_null());
	json_object_set_new(o, "from", limits_json(&e->from));
	json_object_set_new(o, "to", limits_json(&e->to));
	return o;
}

char *render_history_json(const struct view *v, const char *service, size_t limit)
{
	json_t *a = json_array();
	size_t matched = 0;
	for (size_t i = v->n_history; i-- > 0;) {
		const struct state_event *e = &v->history[i];
		if (service && (!e->service || strcmp(e->service, service) != 0))
			continue;
		if (matched++ < limit)
			json_array_append_new(a, event_json(e));
	}
	json_t *o = json_object();
	json_object_set_new(o, "service", jstr(service));
	json_object_set_new(o, "limit", json_integer((json_int_t)limit));
	json_object_set_new(o, "matched", json_integer((json_int_t)matched));
	json_object_set_new(o, "events", a);
	return dump(o);
}

/* ---- /health ---- */

enum render_health render_health_status(const struct view *v, double now)
{
	double ref = v->last_check > 0 ? v->last_check : v->started;
	/* A check that takes longer than the interval (slow peers) delays the next
	 * one: the loop is stuck only when it misses several of its own periods.
	 * A check waiting on peers that time out is slow, not stuck: its period
	 * is at least their timeouts, the first check's too. */
	double period = v->check_interval;
	if (v->last_check_duration > period)
		period = v->last_check_duration;
	if (v->peer_timeout > period)
		period = v->peer_timeout;
	if (period > 0 && now - ref > RENDER_HEALTH_MISSED_CHECKS * period)
		return RENDER_UNHEALTHY;
	for (size_t i = 0; i < v->n_deps && i < RM_ARRAY_SIZE(v->deps); i++)
		if (v->deps[i].configured && !v->deps[i].up)
			return RENDER_DEGRADED;
	if (v->state_error[0])
		return RENDER_DEGRADED;
	return RENDER_HEALTHY;
}

int render_health_json(const struct view *v, double now, bool detail, char **ret_body)
{
	enum render_health h = render_health_status(v, now);
	char ts[40];
	time_format_rfc3339(now, ts, sizeof(ts));
	json_t *o = json_object();
	json_object_set_new(o, "status", json_string(render_health_to_string(h)));
	json_object_set_new(o, "timestamp", json_string(ts));
	if (v->last_check > 0) {
		char last[40];
		time_format_rfc3339(v->last_check, last, sizeof(last));
		json_object_set_new(o, "last_check", json_string(last));
		json_object_set_new(o, "last_check_age_seconds", jnum(now - v->last_check, 3));
	} else {
		json_object_set_new(o, "last_check", json_null());
		json_object_set_new(o, "last_check_age_seconds", json_null());
	}
	json_object_set_new(o, "check_interval_seconds", jnum(v->check_interval, 3));
	json_object_set_new(o, "checks", json_integer((json_int_t)v->checks));
	json_t *deps = json_object();
	for (size_t i = 0; i < v->n_deps && i < RM_ARRAY_SIZE(v->deps); i++) {
		const struct view_dependency *d = &v->deps[i];
		json_t *x = json_object();
		json_object_set_new(x, "status",
		                    json_string(!d->configured ? "not_configured"
		                                : d->up        ? "up"
		                                               : "down"));
		json_object_set_new(x, "since", jtime(d->since));
		if (detail && d->configured && !d->up)
			json_object_set_new(x, "detail", json_string(d->detail));
		json_object_set_new(deps, d->name, x);
	}
	json_object_set_new(o, "dependencies", deps);
	/* Whether what the daemon knows reaches the disk. */
	json_t *st = json_object();
	json_object_set_new(st, "status", json_string(v->state_error[0] ? "not_saved" : "saved"));
	if (v->state_error[0]) {
		json_object_set_new(st, "since", jtime(v->state_error_since));
		/* The reason names paths: for authenticated readers and the log. */
		if (detail)
			json_object_set_new(st, "detail", json_string(v->state_error));
		json_object_set_new(st, "kept_in_memory", json_true());
	}
	json_object_set_new(o, "state", st);
	*ret_body = dump(o);
	return h == RENDER_UNHEALTHY ? 503 : 200;
}

/* ---- /metrics ---- */

void render_label_value(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			strbuf_puts(sb, "\\\\");
			break;
		case '"':
			strbuf_puts(sb, "\\\"");
			break;
		case '\n':
			strbuf_puts(sb, "\\n");
			break;
		default:
			strbuf_append(sb, s, 1);
		}
	}
}

static void family(struct strbuf *sb, const char *name, const char *type, const char *help)
{
	/* HELP text escapes \ and newline; ours are constants without either. */
	strbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void value(struct strbuf *sb, double v)
{
	if (isnan(v))
		strbuf_puts(sb, " NaN\n");
	else if (isinf(v))
		strbuf_puts(sb, v > 0 ? " +Inf\n" : " -Inf\n");
	else
		strbuf_printf(sb, " %.15g\n", v);
}

/* name{k1="v1",k2="v2"} value; labels is a NULL-terminated list of pairs. */
static void sample(struct strbuf *sb, const char *name, const char *const *labels, double v)
{
	strbuf_puts(sb, name);
	if (labels && labels[0]) {
		strbuf_puts(sb, "{");
		for (size_t i = 0; labels[i]; i += 2) {
			strbuf_printf(sb, "%s%s=\"", i ? "," : "", labels[i]);
			render_label_value(sb, labels[i + 1]);
			strbuf_puts(sb, "\"");
		}
		strbuf_puts(sb, "}");
	}
	value(sb, v);
}

static void svc_sample(struct strbuf *sb, const char *name, const struct view_service *s, double v)
{
	const char *l[] = { "service", s->name, NULL };
	sample(sb, name, l, v);
}

/* The per-service counters: the original's names (no _total), then the new ones. */
static void metrics_counters(struct strbuf *sb, const struct view *v)
{
	static const struct {
		const char *name;
		size_t offset;
		const char *help;
	} fams[] = {
		{ "resource_manager_total_adjustments",
		  offsetof(struct view_counters, total_adjustments),
		  "Limit changes attempted for the service." },
		{ "resource_manager_successful_adjustments",
		  offsetof(struct view_counters, successful_adjustments),
		  "Limit changes applied successfully." },
		{ "resource_manager_failed_adjustments",
		  offsetof(struct view_counters, failed_adjustments),
		  "Limit changes that failed." },
		{ "resource_manager_blue_green_deployments",
		  offsetof(struct view_counters, blue_green_deployments),
		  "Blue-green deployments started for the service." },
		{ "resource_manager_rollbacks", offsetof(struct view_counters, rollbacks),
		  "Deployments rolled back to the previous limits." },
		{ "threshold_breaches", offsetof(struct view_counters, threshold_breaches),
		  "Readings beyond a threshold." },
		{ "resource_manager_reverts_total", offsetof(struct view_counters, reverts),
		  "Changes reverted because the service did worse in the watch after them "
		  "(adjustment.verify_window)." },
		{ "resource_manager_verified_changes_total",
		  offsetof(struct view_counters, verified),
		  "Changes whose watch ended clean: they became the last known good." },
	};
	for (size_t f = 0; f < RM_ARRAY_SIZE(fams); f++) {
		family(sb, fams[f].name, "counter", fams[f].help);
		for (size_t i = 0; i < v->n_services; i++) {
			const unsigned long *c =
			        (const unsigned long *)(const void *)((const char *)&v->services[i]
			                                                      .counters +
			                                              fams[f].offset);
			svc_sample(sb, fams[f].name, &v->services[i], (double)*c);
		}
	}
}

/* The blue-green script's metrics, now from the daemon; memory in bytes. */
static void metrics_blue_green(struct strbuf *sb, const struct view *v)
{
	family(sb, "blue_green_deployment_total", "counter",
	       "Blue-green deployments by outcome (success or failure).");
	for (size_t i = 0; i < v->n_services; i++) {
		const struct view_service *s = &v->services[i];
		const char *ok[] = { "service", s->name, "status", "success", NULL };
		const char *ko[] = { "service", s->name, "status", "failure", NULL };
		sample(sb, "blue_green_deployment_total", ok,
		       (double)s->counters.blue_green_succeeded);
		sample(sb, "blue_green_deployment_total", ko,
		       (double)s->counters.blue_green_failed);
	}
	static const char *const names[] = {
		"blue_green_deployment_duration_seconds",
		"blue_green_deployment_timestamp",
		"blue_green_cpu_limit",
		"blue_green_memory_limit_bytes",
	};
	static const char *const helps[] = {
		"Duration of the last blue-green deployment.",
		"When the last blue-green deployment ended (epoch seconds).",
		"CPU limit (cores) set by the last blue-green deployment.",
		"Memory limit (bytes) set by the last blue-green deployment.",
	};
	for (size_t f = 0; f < RM_ARRAY_SIZE(names); f++) {
		family(sb, names[f], "gauge", helps[f]);
		for (size_t i = 0; i < v->n_services; i++) {
			const struct view_service *s = &v->services[i];
			if (!s->has_last_deploy ||
			    strcmp(s->last_deploy_strategy, "blue-green") != 0)
				continue;
			if (f == 0) {
				const char *st[] = { "service", s->name, "status",
					             s->last_deploy_status, NULL };
				sample(sb, names[f], st, s->last_deploy_duration);
			} else if (f == 1)
				svc_sample(sb, names[f], s, s->last_deploy_time);
			else if (f == 2)
				svc_sample(sb, names[f], s, s->last_deploy_cpu);
			else
				svc_sample(sb, names[f], s, (double)s->last_deploy_mem);
		}
	}
}

enum svc_gauge {
	G_CPU_LIMIT,
	G_CPU_USED,
	G_CPU_RATIO,
	G_CPU_THROTTLED,
	G_MEM_LIMIT,
	G_MEM_USED,
	G_MEM_RATIO,
	G_CONTAINERS,
	G_CHANGES_TODAY,
	G_COOLDOWN,
	G_PENDING,
	G_DEPLOYING,
	G_WATCHING,
	G_LAST_DECISION,
	_G_MAX,
};

static const struct {
	const char *name;
	const char *help;
} svc_gauges[_G_MAX] = {
	[G_CPU_LIMIT] = { "resource_manager_cpu_limit_cores",
	                  "CPU limit of the service, summed over replicas (0 = no limit)." },
	[G_CPU_USED] = { "resource_manager_cpu_usage_cores",
	                 "CPU use over the analysis window, summed over replicas." },
	[G_CPU_RATIO] = { "resource_manager_cpu_usage_ratio", "CPU use divided by the CPU limit." },
	[G_CPU_THROTTLED] = { "resource_manager_cpu_throttled_ratio",
	                      "Share of CPU periods throttled over the analysis window." },
	[G_MEM_LIMIT] = { "resource_manager_memory_limit_bytes",
	                  "Memory limit of the service, summed over replicas (0 = no limit)." },
	[G_MEM_USED] = { "resource_manager_memory_usage_bytes",
	                 "Memory use, summed over replicas." },
	[G_MEM_RATIO] = { "resource_manager_memory_usage_ratio",
	                  "Memory use divided by the memory limit." },
	[G_CONTAINERS] = { "resource_manager_service_containers",
	                   "Replicas seen for the service." },
	[G_CHANGES_TODAY] = { "resource_manager_changes_today",
	                      "Changes attempted today (counts toward the daily cap)." },
	[G_COOLDOWN] = { "resource_manager_cooldown_remaining_seconds",
	                 "Seconds before the service may be changed again." },
	[G_PENDING] = { "resource_manager_pending_approval",
	                "1 while a decision for the service waits for approval." },
	[G_DEPLOYING] = { "resource_manager_deployment_in_progress",
	                  "1 while a deployment of the service is in progress." },
	[G_WATCHING] = { "resource_manager_change_watch_until_timestamp_seconds",
	                 "When the watch of the service's last change ends "
	                 "(adjustment.verify_window; epoch seconds, 0 = not watching)." },
	[G_LAST_DECISION] = { "resource_manager_last_decision_timestamp_seconds",
	                      "When the engine last decided for the service (epoch seconds)." },
};

/* The value of gauge g for s; false when unknown (no sample). */
static bool svc_gauge_value(const struct view_service *s, enum svc_gauge g, double *ret)
{
	const struct observation *o = &s->obs;
	if (!s->measured && g <= G_MEM_RATIO)
		return false;
	switch (g) {
	case G_CPU_LIMIT:
		*ret = o->cpu_limit;
		return o->cpu_limit_known;
	case G_CPU_USED:
		*ret = o->cpu_used;
		return o->cpu_used_known;
	case G_CPU_RATIO:
		return cpu_ratio(o, ret);
	case G_CPU_THROTTLED:
		*ret = o->cpu_throttled;
		return o->cpu_throttled_known;
	case G_MEM_LIMIT:
		*ret = (double)o->mem_limit;
		return o->mem_limit_known;
	case G_MEM_USED:
		*ret = (double)o->mem_used;
		return o->mem_used_known;
	case G_MEM_RATIO:
		return mem_ratio(o, ret);
	case G_CONTAINERS:
		*ret = (double)s->n_containers;
		return true;
	case G_CHANGES_TODAY:
		*ret = s->engine.changes_today;
		return true;
	case G_COOLDOWN:
		*ret = s->cooldown_remaining;
		return true;
	case G_PENDING:
		*ret = s->pending;
		return true;
	case G_DEPLOYING:
		*ret = s->deploying;
		return true;
	case G_WATCHING:
		*ret = s->watching ? s->watch_until : 0;
		return true;
	case G_LAST_DECISION:
		*ret = s->decision_time;
		return s->has_decision;
	default:
		return false;
	}
}

static void metrics_services(struct strbuf *sb, const struct view *v)
{
	family(sb, "services_monitored", "gauge", "Services the daemon monitors.");
	sample(sb, "services_monitored", NULL, (double)v->n_services);
	family(sb, "resource_manager_service_info", "gauge",
	       "Always 1; labels give the service's class.");
	for (size_t i = 0; i < v->n_services; i++) {
		const struct view_service *s = &v->services[i];
		const char *l[] = { "service", s->name, "class", service_class_to_string(s->class),
			            NULL };
		sample(sb, "resource_manager_service_info", l, 1);
	}
	for (int g = 0; g < _G_MAX; g++) {
		family(sb, svc_gauges[g].name, "gauge", svc_gauges[g].help);
		for (size_t i = 0; i < v->n_services; i++) {
			double x = 0;
			if (svc_gauge_value(&v->services[i], (enum svc_gauge)g, &x))
				svc_sample(sb, svc_gauges[g].name, &v->services[i], x);
		}
	}
	static const char *const signals[] = { "cpu_high", "cpu_low", "memory_high", "memory_low",
		                               "throttled" };
	family(sb, "resource_manager_hysteresis_readings", "gauge",
	       "Readings in a row beyond a threshold (acts at thresholds.consecutive_checks).");
	for (size_t i = 0; i < v->n_services; i++) {
		const struct view_service *s = &v->services[i];
		const unsigned counts[] = { s->engine.cpu_high, s->engine.cpu_low,
			                    s->engine.mem_high, s->engine.mem_low,
			                    s->engine.throttled };
		for (size_t k = 0; k < RM_ARRAY_SIZE(signals); k++) {
			const char *l[] = { "service", s->name, "signal", signals[k], NULL };
			sample(sb, "resource_manager_hysteresis_readings", l, counts[k]);
		}
	}
}

static void metrics_daemon(struct strbuf *sb, const struct view *v)
{
	const char *ver[] = { "version", v->version, NULL };
	family(sb, "resource_manager_info", "gauge",
	       "Always 1; the version label names the build.");
	sample(sb, "resource_manager_info", ver, 1);
	family(sb, "resource_manager_start_time_seconds", "gauge",
	       "When the daemon started (epoch seconds).");
	sample(sb, "resource_manager_start_time_seconds", NULL, v->started);
	family(sb, "resource_manager_checks_total", "counter", "Checks completed since the start.");
	sample(sb, "resource_manager_checks_total", NULL, (double)v->checks);
	family(sb, "resource_manager_check_duration_seconds", "gauge",
	       "Duration of the last completed check.");
	sample(sb, "resource_manager_check_duration_seconds", NULL, v->last_check_duration);
	family(sb, "resource_manager_check_interval_seconds", "gauge",
	       "Configured time between two checks.");
	sample(sb, "resource_manager_check_interval_seconds", NULL, v->check_interval);
	family(sb, "resource_manager_last_check_timestamp_seconds", "gauge",
	       "When the last check completed (epoch seconds; 0 = none yet).");
	sample(sb, "resource_manager_last_check_timestamp_seconds", NULL, v->last_check);
	size_t pending = 0;
	for (size_t i = 0; i < v->n_services; i++)
		pending += v->services[i].pending;
	family(sb, "resource_manager_pending_approvals", "gauge",
	       "Decisions waiting for approval.");
	sample(sb, "resource_manager_pending_approvals", NULL, (double)pending);
	family(sb, "resource_manager_automation_paused", "gauge",
	       "1 while automation is paused through the API.");
	sample(sb, "resource_manager_automation_paused", NULL, v->paused);
	family(sb, "resource_manager_automation_enabled", "gauge",
	       "1 when automation.enabled is on (0: recommend only).");
	sample(sb, "resource_manager_automation_enabled", NULL, v->automation_enabled);
	family(sb, "resource_manager_dry_run", "gauge", "1 in dry-run mode.");
	sample(sb, "resource_manager_dry_run", NULL, v->dry_run);
	family(sb, "resource_manager_dependency_up", "gauge",
	       "1 when the dependency answered at the last check (configured ones only).");
	for (size_t i = 0; i < v->n_deps && i < RM_ARRAY_SIZE(v->deps); i++) {
		if (!v->deps[i].configured)
			continue;
		const char *l[] = { "dependency", v->deps[i].name, NULL };
		sample(sb, "resource_manager_dependency_up", l, v->deps[i].up);
	}
	family(sb, "resource_manager_notifications_sent_total", "counter",
	       "Notification deliveries that succeeded (per channel).");
	sample(sb, "resource_manager_notifications_sent_total", NULL, (double)v->notify.sent);
	family(sb, "resource_manager_notifications_retries_total", "counter",
	       "Notification deliveries retried.");
	sample(sb, "resource_manager_notifications_retries_total", NULL, (double)v->notify.retries);
	family(sb, "resource_manager_notifications_dropped_total", "counter",
	       "Notifications dropped (queue full or retries exhausted).");
	sample(sb, "resource_manager_notifications_dropped_total", NULL, (double)v->notify.dropped);
}

char *render_metrics(const struct view *v)
{
	struct strbuf sb;
	strbuf_init(&sb);
	metrics_counters(&sb, v);
	metrics_blue_green(&sb, v);
	metrics_services(&sb, v);
	metrics_daemon(&sb, v);
	return strbuf_steal(&sb);
}
