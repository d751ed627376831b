/* web_sample: a hand-built view (three services, history, dependencies) for
 * the render and web tests and the dashboard fixture. Header-only. */
#ifndef RM_TEST_WEB_SAMPLE_H
#define RM_TEST_WEB_SAMPLE_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rm/util.h"
#include "rm/view.h"

#define SAMPLE_NOW 1764270000.0

static inline void sample_event(struct view *v, double t, enum state_event_kind kind,
                                const char *service, const char *reason, const char *outcome,
                                const char *strategy, double duration, const char *expl)
{
	v->history = xreallocarray(v->history, v->n_history + 1, sizeof(*v->history));
	struct state_event *e = &v->history[v->n_history++];
	memset(e, 0, sizeof(*e));
	e->time = t;
	e->kind = kind;
	e->service = xstrdup(service);
	e->reason = xstrdup(reason);
	e->outcome = xstrdup(outcome);
	e->strategy = strategy ? xstrdup(strategy) : NULL;
	e->backend = strategy ? xstrdup(strcmp(strategy, "in-place") == 0 ? "inplace" : "bluegreen")
	                      : NULL;
	e->explanation = xstrdup(expl);
	e->duration = duration;
	e->from = (struct state_limits){ true, 1.0, 512ull << 20 };
	e->to = (struct state_limits){ true, 1.25, 640ull << 20 };
}

static inline void sample_service(struct view *v, const char *name, enum service_class cls,
                                  double cpu_used, double cpu_limit, uint64_t mem_used,
                                  uint64_t mem_limit, double now)
{
	struct view_service *s = &v->services[v->n_services++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->class = cls;
	s->priority = cls == CLASS_CRITICAL ? 1 : 2;
	s->n_containers = 2;
	s->containers = xcalloc(2, sizeof(char *));
	s->containers[0] = xasprintf("%s-1", name);
	s->containers[1] = xasprintf("%s-2", name);
	s->measured = true;
	s->obs = (struct observation){
		.time = now,
		.n_containers = 2,
		.cpu_used_known = true,
		.cpu_used = cpu_used,
		.cpu_limit_known = true,
		.cpu_limit = cpu_limit,
		.cpu_throttled_known = true,
		.cpu_throttled = 0.02,
		.mem_used_known = true,
		.mem_used = mem_used,
		.mem_peak_known = true,
		.mem_peak = mem_used + (16u << 20),
		.mem_limit_known = true,
		.mem_limit = mem_limit,
		.uptime_known = true,
		.uptime = 7200,
		.oom_known = true,
	};
	s->n_points = 30;
	for (size_t i = 0; i < s->n_points; i++) {
		struct view_point *p = &s->points[i];
		p->time = now - (double)(s->n_points - 1 - i) * 60;
		p->cpu_known = i != 5; /* one gap */
		p->cpu_ratio = cpu_used / cpu_limit * (0.8 + 0.2 * sin((double)i / 3));
		p->mem_known = true;
		p->mem_ratio =
		        (double)mem_used / (double)mem_limit * (0.9 + 0.1 * cos((double)i / 4));
		p->cpu_limit = cpu_limit;
		p->mem_limit = mem_limit;
	}
	s->engine.changes_today = 1;
	s->has_decision = true;
	s->decision_time = now - 30;
	s->decision.reason = ENGINE_REASON_NONE;
	snprintf(s->decision.explanation, sizeof(s->decision.explanation),
	         "all values inside the thresholds");
	s->counters = (struct view_counters){ 5, 4, 1, 2, 1, 17, 1, 1 };
}

/* A recommendation: percentiles at the given values, targets at cpu_to and
 * mem_to, which are also the limits asked for. */
static inline void sample_rec(struct view_service *s, double cpu_p, double cpu_to, uint64_t mem_p,
                              uint64_t mem_to)
{
	s->has_rec = true;
	s->rec.history = 3 * 86400;
	s->rec.confidence = 3;
	s->rec.cpu = (struct rec_resource){ .known = true,
		                            .percentile = cpu_p,
		                            .mean = cpu_p / 2,
		                            .p50 = cpu_p / 2,
		                            .p90 = cpu_p * 0.8,
		                            .p99 = cpu_p,
		                            .max = cpu_p * 1.1,
		                            .margin = 0.1,
		                            .target = cpu_to,
		                            .lower = cpu_p,
		                            .upper = cpu_to * 1.2,
		                            .samples = 864 };
	s->rec.mem = (struct rec_resource){ .known = true,
		                            .percentile = (double)mem_p,
		                            .mean = (double)mem_p * 0.9,
		                            .p50 = (double)mem_p * 0.9,
		                            .p90 = (double)mem_p * 0.95,
		                            .p99 = (double)mem_p,
		                            .max = (double)mem_p,
		                            .margin = 0.1,
		                            .target = (double)mem_to,
		                            .lower = (double)mem_p * 1.05,
		                            .upper = (double)mem_to * 1.2,
		                            .samples = 864 };
	s->rec_cpu = cpu_to;
	s->rec_mem = mem_to;
}

/* The sample: grafana (pending approval of a CPU increase, hysteresis 2/3),
 * postgres (critical, in cooldown, last deployed blue-green) and a service
 * whose name needs escaping in label values. */
static inline struct view *sample_view(double now)
{
	struct view *v = xcalloc(1, sizeof(*v));
	v->now = now;
	v->started = now - 3600;
	v->last_check = now - 20;
	v->last_check_duration = 0.42;
	v->check_interval = 60;
	v->checks = 60;
	snprintf(v->source, sizeof(v->source), "prometheus");
	snprintf(v->version, sizeof(v->version), "0.1.0");
	v->automation_enabled = true;
	v->manual_approval = true;
	snprintf(v->policy, sizeof(v->policy), "percentile");
	v->thresholds.cpu_high = 0.8;
	v->thresholds.cpu_low = 0.3;
	v->thresholds.memory_high = 0.8;
	v->thresholds.memory_low = 0.3;
	v->thresholds.consecutive_checks = 3;
	v->n_deps = 3;
	v->deps[0] = (struct view_dependency){ "docker", true, true, "", now - 3600 };
	v->deps[1] = (struct view_dependency){ "prometheus", true, true, "", now - 3600 };
	v->deps[2] = (struct view_dependency){ "alertmanager", false, false, "", 0 };
	v->services = xcalloc(3, sizeof(*v->services));
	sample_service(v, "grafana", CLASS_NORMAL, 0.85, 1.0, 300u << 20, 512u << 20, now);
	struct view_service *g = &v->services[0];
	g->engine.cpu_high = 2;
	g->pending = true;
	g->pending_expires = now + 3600;
	g->pending_decision.reason = ENGINE_REASON_CPU_HIGH;
	g->pending_decision.cpu_reason = ENGINE_REASON_CPU_HIGH;
	g->pending_decision.change_cpu = true;
	g->pending_decision.cpu_from = 1.0;
	g->pending_decision.cpu_to = 1.25;
	snprintf(g->pending_decision.explanation, sizeof(g->pending_decision.explanation),
	         "cpu 85.0%% of 1.00 cores > 80%% for 3 checks: 1.00 -> 1.25 cores");
	sample_service(v, "postgres", CLASS_CRITICAL, 0.4, 2.0, 900u << 20, 2048u << 20, now);
	struct view_service *p = &v->services[1];
	p->cooldown_remaining = 1200;
	p->has_last_deploy = true;
	snprintf(p->last_deploy_status, sizeof(p->last_deploy_status), "success");
	snprintf(p->last_deploy_strategy, sizeof(p->last_deploy_strategy), "blue-green");
	p->last_deploy_time = now - 600;
	p->last_deploy_duration = 42.5;
	p->last_deploy_cpu = 2.0;
	p->last_deploy_mem = 768ull << 20;
	p->watching = true; /* its last change is being watched */
	p->watch_until = now + 300;
	p->watch_cpu_from = p->watch_cpu_to = 2.0;
	p->watch_mem_from = 1024ull << 20;
	p->watch_mem_to = 768ull << 20;
	p->counters.reverts = 2;
	p->counters.verified = 3;
	sample_service(v, "we\"ird\\na\nme", CLASS_OPTIONAL, 0.1, 0.5, 10u << 20, 128u << 20, now);
	/* Recommendations (percentile policy): grafana could give back more CPU,
	 * postgres more memory; the third has none yet. */
	sample_rec(g, 0.60, 0.72, 400u << 20, 440u << 20);
	sample_rec(p, 1.10, 1.20, 1100u << 20, 1200u << 20);
	sample_event(v, now - 900, STATE_EVENT_DECISION, "postgres", "mem_high", "applied", NULL, 0,
	             "memory 85% of 512 MiB > 80% for 3 checks");
	sample_event(v, now - 600, STATE_EVENT_DEPLOYMENT, "postgres", "mem_high", "applied",
	             "blue-green", 42.5, "deployed");
	sample_event(v, now - 300, STATE_EVENT_DECISION, "grafana", "cpu_high", "pending", NULL, 0,
	             "cpu 85.0% of 1.00 cores > 80% for 3 checks: 1.00 -> 1.25 cores");
	v->notify = (struct notify_stats){ 10, 9, 2, 1, 3 };
	return v;
}

#endif
