/* simulate_run: the offline replay of a parsed trace through the engine (and
 * the recommender), check by check as the daemon would see it, and the
 * hindsight oracle it is compared with. Quality is measured on every row. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/recommender.h"
#include "rm/simulate.h"
#include "rm/units.h"
#include "rm/util.h"
#include "rm/verify.h"
#include "simulate_internal.h"

/* Oracle: CPU at this percentile of the day's demand, memory this far above
 * the day's peak. */
#define ORACLE_CPU_PERCENTILE 0.99
#define ORACLE_MEM_MARGIN     0.05

/* One check being gathered from the rows of one service. */
struct sim_check {
	size_t rows;
	double start, last; /* times of its first and last row */
	int line;           /* of its last row */
	double cpu_sum;
	size_t cpu_n;
	uint64_t mem_max;
	size_t mem_n;
	double thr_sum;
	size_t thr_n;
	unsigned oom;
	bool oom_known;
};

/* Per-service replay state. */
struct sim_svc {
	struct engine_policy policy;
	struct engine_state state;
	struct usage_history usage;
	double cpu_limit; /* 0 = none */
	uint64_t mem_limit;
	double started;    /* t of the container's start */
	double last_check; /* t of the previous check, NAN before the first */
	double first_row, last_row;
	struct sim_check chk;
	/* The watch after the last change (adjustment.verify_window). */
	bool watching;
	struct verify_watch watch;
	unsigned ooms_total; /* OOM kills so far (each one a restart) */
	/* Known memory readings still inside the peak window. */
	double *win_time;
	uint64_t *win_mem;
	size_t win_head, win_n, win_cap;
	double *cpu_slack, *mem_slack;
	size_t n_cpu_slack, n_mem_slack;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void window_push(struct sim_svc *s, double t, uint64_t mem, double window, unsigned keep)
{
	if (s->win_n == s->win_cap) {
		/* Unroll the ring into a bigger array. */
		size_t cap = s->win_cap ? s->win_cap * 2 : 16;
		double *nt = xreallocarray(NULL, cap, sizeof(double));
		uint64_t *nm = xreallocarray(NULL, cap, sizeof(uint64_t));
		for (size_t i = 0; i < s->win_n; i++) {
			nt[i] = s->win_time[(s->win_head + i) % s->win_cap];
			nm[i] = s->win_mem[(s->win_head + i) % s->win_cap];
		}
		free(s->win_time);
		free(s->win_mem);
		s->win_time = nt;
		s->win_mem = nm;
		s->win_head = 0;
		s->win_cap = cap;
	}
	size_t at = (s->win_head + s->win_n) % s->win_cap;
	s->win_time[at] = t;
	s->win_mem[at] = mem;
	s->win_n++;
	while (s->win_n > keep && t - s->win_time[s->win_head] > window) {
		s->win_head = (s->win_head + 1) % s->win_cap;
		s->win_n--;
	}
}

static uint64_t window_peak(const struct sim_svc *s)
{
	uint64_t peak = 0;
	for (size_t i = 0; i < s->win_n; i++) {
		uint64_t m = s->win_mem[(s->win_head + i) % s->win_cap];
		if (m > peak)
			peak = m;
	}
	return peak;
}

static void sim_svc_clear(struct sim_svc *s)
{
	free(s->win_time);
	free(s->win_mem);
	free(s->cpu_slack);
	free(s->mem_slack);
}

/* Sets the initial limits: the trace's limits: line, else the config baseline. */
static int initial_limits(const struct rm_config *cfg, const struct simulate_trace *t, size_t i,
                          struct sim_svc *s, char *err, size_t errlen)
{
	const struct simulate_service *sv = &t->services[i];
	const struct service_baseline *b = config_service_baseline(cfg, sv->name);
	int line = sv->limits_line ? sv->limits_line : sv->first_line;
	if (!sv->limits_line && !strlist_contains(&cfg->services.monitored, sv->name)) {
		simulate_set_err(
		        err, errlen, t->name, line,
		        "unknown service '%s': not in services.monitored, and no limits: line for "
		        "it in the trace header",
		        sv->name);
		return -EINVAL;
	}
	if (sv->has_cpu_limit)
		s->cpu_limit = sv->cpu_limit;
	else if (b && b->has_cpu)
		s->cpu_limit = b->cpu;
	else {
		simulate_set_err(
		        err, errlen, t->name, line,
		        "service '%s' has no initial cpu limit: add cpu=... (or cpu=none) to its "
		        "limits: line, or give it services.baseline.%s.cpu",
		        sv->name, sv->name);
		return -EINVAL;
	}
	if (sv->has_mem_limit)
		s->mem_limit = sv->mem_limit;
	else if (b && b->has_memory)
		s->mem_limit = b->memory;
	else {
		simulate_set_err(
		        err, errlen, t->name, line,
		        "service '%s' has no initial memory limit: add memory=... (or memory=none) "
		        "to its limits: line, or give it services.baseline.%s.memory",
		        sv->name, sv->name);
		return -EINVAL;
	}
	engine_policy_for(cfg, sv->name, &s->policy);
	usage_history_init(&s->usage);
	s->started = -t->uptime;
	s->last_check = NAN;
	s->first_row = NAN;
	return 0;
}

static void push_slack(double **arr, size_t *n, double v)
{
	/* Grow by powers of two: reallocate only when n is one. */
	if ((*n & (*n - 1)) == 0)
		*arr = xreallocarray(*arr, *n ? *n * 2 : 1, sizeof(double));
	(*arr)[(*n)++] = v;
}

/* The CPU a row is judged on: the demand when the trace has one, else the use. */
static bool row_cpu(const struct simulate_sample *x, double *ret)
{
	if (x->demand_known)
		*ret = x->cpu_demand;
	else if (x->cpu_known)
		*ret = x->cpu_used;
	else
		return false;
	return true;
}

/* Records how the limits in force fared against one row. Slack is 0 for a
 * row over the limit: what is short is not slack. */
static void measure(struct sim_svc *s, struct simulate_summary *sum,
                    const struct simulate_sample *x)
{
	double cpu;
	sum->samples++;
	if (row_cpu(x, &cpu) && s->cpu_limit > 0) {
		sum->cpu_samples++;
		if (cpu > s->cpu_limit)
			sum->cpu_over++;
		sum->cpu_limit_sum += s->cpu_limit;
		sum->cpu_use_sum += fmin(cpu, s->cpu_limit);
		push_slack(&s->cpu_slack, &s->n_cpu_slack,
		           fmax(0, (s->cpu_limit - cpu) / s->cpu_limit));
	}
	if (x->mem_known && s->mem_limit > 0) {
		double lim = (double)s->mem_limit;
		sum->mem_samples++;
		if (x->mem_used > s->mem_limit)
			sum->mem_over++;
		sum->mem_limit_sum += lim;
		sum->mem_use_sum += fmin((double)x->mem_used, lim);
		push_slack(&s->mem_slack, &s->n_mem_slack,
		           fmax(0, (lim - (double)x->mem_used) / lim));
	}
	if (isnan(s->first_row))
		s->first_row = x->time;
	s->last_row = x->time;
}

/* Adds a row to the service's check, as the daemon's sources would have seen
 * it under the limits in force (closed loop: use capped at the limit,
 * throttled when the demand is above it, an OOM kill when memory is). */
static void gather(struct sim_svc *s, const struct simulate_sample *x, bool closed)
{
	struct sim_check *c = &s->chk;
	if (c->rows++ == 0) {
		*c = (struct sim_check){ .rows = 1, .start = x->time, .oom_known = true };
	}
	c->last = x->time;
	c->line = x->line;
	if (closed && x->demand_known) {
		bool over = s->cpu_limit > 0 && x->cpu_demand > s->cpu_limit;
		c->cpu_sum += over ? s->cpu_limit : x->cpu_demand;
		c->cpu_n++;
		c->thr_sum += over ? 1 : 0;
		c->thr_n++;
	} else {
		if (x->cpu_known) {
			c->cpu_sum += x->cpu_used;
			c->cpu_n++;
		}
		if (x->throttled_known) {
			c->thr_sum += x->throttled;
			c->thr_n++;
		}
	}
	if (x->mem_known) {
		uint64_t m = x->mem_used;
		if (closed && s->mem_limit > 0 && m > s->mem_limit) {
			/* Killed at its limit; the container starts again. */
			c->oom++;
			m = s->mem_limit;
			s->started = x->time;
		}
		if (m > c->mem_max || c->mem_n == 0)
			c->mem_max = m;
		c->mem_n++;
	}
	if (!x->oom_known)
		c->oom_known = false;
	else if (x->oom_kills > 0) {
		c->oom += x->oom_kills;
		s->started = x->time;
	}
}

static struct observation check_obs(const struct simulate_trace *t, const struct sim_svc *s,
                                    uint64_t peak, bool have_peak)
{
	const struct sim_check *c = &s->chk;
	struct observation o = {
		.time = t->start + c->last,
		.n_containers = 1,
		.cpu_used_known = c->cpu_n > 0,
		.cpu_used = c->cpu_n ? c->cpu_sum / (double)c->cpu_n : 0,
		.cpu_limit_known = true,
		.cpu_limit = s->cpu_limit,
		.cpu_throttled_known = c->thr_n > 0,
		.cpu_throttled = c->thr_n ? c->thr_sum / (double)c->thr_n : 0,
		.mem_used_known = c->mem_n > 0,
		.mem_used = c->mem_max,
		.mem_peak_known = have_peak,
		.mem_peak = peak,
		.mem_limit_known = true,
		.mem_limit = s->mem_limit,
		.uptime_known = true,
		.uptime = c->last - s->started,
		.oom_known = c->oom_known || c->oom > 0,
		.oom_kills = c->oom,
	};
	if (!o.cpu_used_known || !o.mem_used_known)
		snprintf(o.unknown_reason, sizeof(o.unknown_reason), "empty field in trace line %d",
		         c->line);
	return o;
}

/* Host shortage over the limits in force (unlimited resources count nothing). */
static void host_short(const struct simulate_trace *t, const struct sim_svc *svcs, bool *sc,
                       bool *sm)
{
	double cpu = 0;
	uint64_t mem = 0;
	for (size_t i = 0; i < t->n_services; i++) {
		if (!t->services[i].n_samples)
			continue;
		cpu += svcs[i].cpu_limit;
		mem += svcs[i].mem_limit;
	}
	engine_host_short(t->host_cpus, t->host_mem, cpu, mem, sc, sm);
}

struct replay {
	const struct rm_config *cfg;
	const struct simulate_trace *t;
	struct sim_svc *svcs;
	struct simulate_result *res;
	struct simulate_event *step; /* this step's decisions, one per service at most */
	struct engine_rank_item *rank;
	size_t n;
	size_t events_cap; /* res->events' room (grown by doubling) */
	bool sc, sm;
};

/* What a check tells the watch: OOM kills (each one restarted the
 * container) and throttling. Health is not in a trace. */
static struct verify_signals watch_signals(const struct sim_svc *s, const struct observation *o)
{
	return (struct verify_signals){
		.restarts_known = true,
		.restarts = s->ooms_total,
		.ooms_known = true,
		.ooms = s->ooms_total,
		.throttled_known = o->cpu_throttled_known,
		.throttled = o->cpu_throttled,
	};
}

static void watch_start(const struct rm_config *cfg, struct sim_svc *s, const struct observation *o,
                        const struct engine_decision *d, double now)
{
	struct verify_signals s0 = watch_signals(s, o);
	s->watching = cfg->adjustment.verify_window > 0;
	if (s->watching) {
		s->state.watch_until = now + cfg->adjustment.verify_window; /* decreases wait */
		verify_begin(cfg, &s->watch, now, d->cpu_from, d->cpu_to, d->mem_from, d->mem_to,
		             &s0, o->cpu_throttled_known, o->cpu_throttled);
	}
}

/* The watch's verdict on this check; a regression fills *d with the revert
 * to the limits before the change (returns true). */
static bool watch_check(const struct rm_config *cfg, struct sim_svc *s, const struct observation *o,
                        double now, struct engine_decision *d)
{
	struct verify_result vr;
	if (!s->watching)
		return false;
	struct verify_signals sig = watch_signals(s, o);
	verify_step(cfg, &s->watch, &sig, now, &vr);
	if (vr.verdict == VERIFY_WATCHING)
		return false;
	s->watching = false;
	s->state.watch_until = 0;
	if (vr.verdict == VERIFY_PASSED)
		return false;
	const struct verify_watch *w = &s->watch;
	*d = (struct engine_decision){
		.reason = ENGINE_REASON_REVERTED,
		.cpu_reason = ENGINE_REASON_REVERTED,
		.mem_reason = ENGINE_REASON_REVERTED,
		.change_cpu = w->cpu_from > 0 && fabs(w->cpu_from - s->cpu_limit) > 1e-9,
		.cpu_from = s->cpu_limit,
		.cpu_to = w->cpu_from,
		.change_mem = w->mem_from > 0 && w->mem_from != s->mem_limit,
		.mem_from = s->mem_limit,
		.mem_to = w->mem_from,
	};
	snprintf(d->explanation, sizeof(d->explanation), "reverted (%s): %s",
	         verify_signal_to_string(vr.signal), vr.why);
	return engine_decision_changes(d);
}

/* Closes service i's check: the recommender and the engine see it, and a
 * change takes effect at once (as if deployed instantly). */
static void decide(struct replay *rp, size_t i)
{
	const struct rm_config *cfg = rp->cfg;
	struct sim_svc *s = &rp->svcs[i];
	struct simulate_summary *sum = &rp->res->summaries[i];
	double now = rp->t->start + s->chk.last;
	int32_t day = engine_local_day(now);
	if (s->chk.mem_n)
		window_push(s, s->chk.last, s->chk.mem_max, cfg->monitoring.trend_window,
		            cfg->thresholds.consecutive_checks);
	struct observation o = check_obs(rp->t, s, window_peak(s), s->win_n > 0);
	if (s->chk.oom)
		sum->oom_events++;
	struct recommendation rec;
	struct engine_input in = { .cfg = cfg,
		                   .policy = &s->policy,
		                   .obs = &o,
		                   .now = now,
		                   .day = day,
		                   .host_short_cpu = rp->sc,
		                   .host_short_mem = rp->sm };
	if (cfg->adjustment.policy == POLICY_PERCENTILE) {
		/* As the daemon weighs a check: the time since the previous one, at
		 * most two intervals (a gap in the trace is not usage). */
		double iv = cfg->monitoring.check_interval;
		double w = isnan(s->last_check) ? iv : fmin(s->chk.last - s->last_check, 2 * iv);
		recommender_observe(cfg, &s->usage, &o, now, w);
		recommender_recommend(cfg, &s->usage, &rec);
		in.rec = &rec;
	}
	s->last_check = s->chk.last;
	s->chk.rows = 0;
	s->ooms_total += o.oom_kills;
	struct simulate_event *ev = &rp->step[rp->n];
	ev->time = o.time - rp->t->start;
	ev->service = i;
	/* A change being watched that made things worse is reverted first; the
	 * revert answers this check (an OOM kill included). */
	if (!watch_check(cfg, s, &o, now, &ev->decision))
		engine_decide(&in, &s->state, &s->state, &ev->decision);
	else
		sum->reverts++;
	bool changes = engine_decision_changes(&ev->decision);
	if (changes) {
		engine_apply_result(cfg, &s->state, &ev->decision, true, now, day);
		if (ev->decision.reason == ENGINE_REASON_REVERTED)
			engine_note_revert(cfg, &s->state, ev->decision.cpu_to,
			                   ev->decision.cpu_from, ev->decision.mem_to,
			                   ev->decision.mem_from, now);
		else
			watch_start(cfg, s, &o, &ev->decision, now);
		s->cpu_limit = ev->decision.cpu_to;
		s->mem_limit = ev->decision.mem_to;
		sum->changes++;
	}
	if (!changes && !rp->res->all)
		return;
	rp->rank[rp->n] = (struct engine_rank_item){ .service = rp->t->services[i].name,
		                                     .priority = s->policy.priority,
		                                     .reason = ev->decision.reason,
		                                     .changes = changes,
		                                     .index = rp->n };
	rp->n++;
}

/* Ranks this step's decisions and appends them to the result. */
static void flush_step(struct replay *rp)
{
	struct simulate_result *res = rp->res;
	engine_rank(rp->rank, rp->n);
	/* Doubling: growing by one step at a time copied the whole array at
	 * every step where realloc cannot grow in place (ASan: minutes). */
	if (res->n_events + rp->n > rp->events_cap) {
		rp->events_cap = res->n_events + rp->n > 2 * rp->events_cap ? res->n_events + rp->n
		                                                            : 2 * rp->events_cap;
		res->events = xreallocarray(res->events, rp->events_cap, sizeof(*res->events));
	}
	for (size_t i = 0; i < rp->n; i++)
		res->events[res->n_events++] = rp->step[rp->rank[i].index];
	rp->n = 0;
}

/* One time step: the checks its rows close are decided first (their changes
 * hold for these rows), then each row is measured and gathered. */
static void run_step(struct replay *rp, size_t first, size_t end)
{
	const struct simulate_trace *t = rp->t;
	double interval = rp->cfg->monitoring.check_interval;
	host_short(t, rp->svcs, &rp->sc, &rp->sm);
	for (size_t k = first; k < end; k++) {
		const struct simulate_sample *x = &t->samples[k];
		struct sim_svc *s = &rp->svcs[x->service];
		if (s->chk.rows && x->time - s->chk.start >= interval - 1e-9)
			decide(rp, x->service);
	}
	flush_step(rp);
	for (size_t k = first; k < end; k++) {
		const struct simulate_sample *x = &t->samples[k];
		struct sim_svc *s = &rp->svcs[x->service];
		measure(s, &rp->res->summaries[x->service], x);
		gather(s, x, t->closed_loop);
	}
}

static double smallest_step(const struct simulate_trace *t)
{
	double best = 0, *last = xcalloc(t->n_services ? t->n_services : 1, sizeof(double));
	bool *seen = xcalloc(t->n_services ? t->n_services : 1, sizeof(bool));
	for (size_t k = 0; k < t->n_samples; k++) {
		const struct simulate_sample *x = &t->samples[k];
		double d = x->time - last[x->service];
		if (seen[x->service] && d > 0 && (best == 0 || d < best))
			best = d;
		seen[x->service] = true;
		last[x->service] = x->time;
	}
	free(last);
	free(seen);
	return best;
}

static void slack_stats(double *v, size_t n, double *mean, double *p95)
{
	if (n == 0) {
		*mean = *p95 = NAN;
		return;
	}
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	qsort(v, n, sizeof(*v), cmp_double);
	size_t rank = (size_t)ceil(0.95 * (double)n);
	*mean = sum / (double)n;
	*p95 = v[rank ? rank - 1 : 0];
}

static struct simulate_result *result_new(const struct rm_config *cfg,
                                          const struct simulate_trace *t, const char *policy)
{
	struct simulate_result *res = xcalloc(1, sizeof(*res));
	res->trace = t;
	res->policy = policy;
	res->summaries = xcalloc(t->n_services ? t->n_services : 1, sizeof(*res->summaries));
	res->interval = cfg->monitoring.check_interval;
	res->row_step = smallest_step(t);
	res->aggregated = res->row_step > 0 && res->row_step < res->interval - 1e-9;
	return res;
}

/* Fills the summaries from the measures, and frees them. */
/* cfg (may be NULL): the percentile policy's config, for the recommendation
 * the histograms reached. */
static void finish(struct simulate_result *res, struct sim_svc *svcs, const struct rm_config *cfg)
{
	const struct simulate_trace *t = res->trace;
	double step = res->row_step > 0 ? res->row_step : res->interval;
	for (size_t i = 0; i < t->n_services; i++) {
		struct simulate_summary *sum = &res->summaries[i];
		slack_stats(svcs[i].cpu_slack, svcs[i].n_cpu_slack, &sum->cpu_slack_mean,
		            &sum->cpu_slack_p95);
		slack_stats(svcs[i].mem_slack, svcs[i].n_mem_slack, &sum->mem_slack_mean,
		            &sum->mem_slack_p95);
		sum->final_cpu = svcs[i].cpu_limit;
		sum->final_mem = svcs[i].mem_limit;
		if (cfg && t->services[i].n_samples) {
			struct recommendation rec;
			recommender_recommend(cfg, &svcs[i].usage, &rec);
			sum->has_rec = rec.cpu.known || rec.mem.known;
			sum->rec_cpu_target = rec.cpu.known ? rec.cpu.target : 0;
			sum->rec_mem_target = rec.mem.known ? rec.mem.target : 0;
		}
		if (t->services[i].n_samples)
			sum->days = (svcs[i].last_row - svcs[i].first_row + step) / 86400.0;
		sim_svc_clear(&svcs[i]);
	}
}

static int setup(const struct rm_config *cfg, const struct simulate_trace *t, struct sim_svc *svcs,
                 char *err, size_t errlen)
{
	for (size_t i = 0; i < t->n_services; i++) {
		if (!t->services[i].n_samples)
			continue;
		int r = initial_limits(cfg, t, i, &svcs[i], err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

int simulate_run(const struct rm_config *cfg, const struct simulate_trace *t, bool all,
                 struct simulate_result **ret, char *err, size_t errlen)
{
	size_t ns = t->n_services ? t->n_services : 1;
	struct sim_svc *svcs = xcalloc(ns, sizeof(*svcs));
	struct replay rp = {
		.cfg = cfg,
		.t = t,
		.svcs = svcs,
		.res = result_new(cfg, t, adjustment_policy_to_string(cfg->adjustment.policy)),
		.step = xcalloc(ns, sizeof(struct simulate_event)),
		.rank = xcalloc(ns, sizeof(struct engine_rank_item)),
	};
	int r = setup(cfg, t, svcs, err, errlen);
	rp.res->all = all;
	if (r < 0)
		goto out;
	for (size_t k = 0; k < t->n_samples;) {
		size_t end = k + 1;
		while (end < t->n_samples && t->samples[end].time == t->samples[k].time)
			end++;
		run_step(&rp, k, end);
		k = end;
	}
	/* The last checks close with the trace. */
	host_short(t, svcs, &rp.sc, &rp.sm);
	for (size_t i = 0; i < t->n_services; i++)
		if (svcs[i].chk.rows)
			decide(&rp, i);
	flush_step(&rp);
	finish(rp.res, svcs, cfg->adjustment.policy == POLICY_PERCENTILE ? cfg : NULL);
	*ret = rp.res;
	rp.res = NULL;
out:
	for (size_t i = 0; r < 0 && i < t->n_services; i++)
		sim_svc_clear(&svcs[i]);
	free(svcs);
	free(rp.step);
	free(rp.rank);
	simulate_result_free(rp.res);
	return r;
}

/* ---- the oracle ---- */

/* One local day of one service: its rows' CPU and highest memory. */
struct oracle_day {
	double *cpu;
	size_t n_cpu;
	uint64_t mem_max;
};

/* Sets s's limits for the day from its rows, rounded up and within bounds.
 * Returns whether they changed by at least the minimum step. */
static bool oracle_limits(const struct rm_config *cfg, struct sim_svc *s, struct oracle_day *d)
{
	double cpu = s->cpu_limit;
	uint64_t mem = s->mem_limit;
	const struct engine_policy *p = &s->policy;
	if (d->n_cpu && s->cpu_limit > 0) {
		qsort(d->cpu, d->n_cpu, sizeof(double), cmp_double);
		size_t rank = (size_t)ceil(ORACLE_CPU_PERCENTILE * (double)d->n_cpu);
		cpu = ceil(d->cpu[rank ? rank - 1 : 0] * 100 - 1e-9) / 100;
		cpu = fmin(fmax(cpu, p->cpu_floor), p->cpu_ceiling);
	}
	if (d->mem_max && s->mem_limit > 0) {
		double m = ceil((double)d->mem_max * (1 + ORACLE_MEM_MARGIN) / (double)UNITS_MIB);
		mem = (uint64_t)m * UNITS_MIB;
		mem = mem < p->mem_floor     ? p->mem_floor
		      : mem > p->mem_ceiling ? p->mem_ceiling
		                             : mem;
	}
	double min_cpu =
	        fmax(cfg->adjustment.min_change * s->cpu_limit, cfg->adjustment.min_change_cpu);
	double min_mem = fmax(cfg->adjustment.min_change * (double)s->mem_limit,
	                      (double)cfg->adjustment.min_change_memory);
	bool changed = false;
	if (fabs(cpu - s->cpu_limit) >= min_cpu - 1e-9) {
		s->cpu_limit = cpu;
		changed = true;
	}
	if (fabs((double)mem - (double)s->mem_limit) >= min_mem) {
		s->mem_limit = mem;
		changed = true;
	}
	return changed;
}

/* Replays rows [first, end) of one local day under limits chosen from them. */
static void oracle_day(const struct rm_config *cfg, const struct simulate_trace *t,
                       struct sim_svc *svcs, struct simulate_result *res, size_t first, size_t end)
{
	struct oracle_day *days = xcalloc(t->n_services ? t->n_services : 1, sizeof(*days));
	for (size_t k = first; k < end; k++) {
		const struct simulate_sample *x = &t->samples[k];
		struct oracle_day *d = &days[x->service];
		double cpu;
		if (row_cpu(x, &cpu))
			push_slack(&d->cpu, &d->n_cpu, cpu);
		if (x->mem_known && x->mem_used > d->mem_max)
			d->mem_max = x->mem_used;
	}
	for (size_t i = 0; i < t->n_services; i++) {
		if (t->services[i].n_samples && (days[i].n_cpu || days[i].mem_max) &&
		    oracle_limits(cfg, &svcs[i], &days[i]))
			res->summaries[i].changes++;
		free(days[i].cpu);
	}
	free(days);
	for (size_t k = first; k < end; k++) {
		const struct simulate_sample *x = &t->samples[k];
		struct sim_svc *s = &svcs[x->service];
		struct simulate_summary *sum = &res->summaries[x->service];
		measure(s, sum, x);
		if (x->mem_known && s->mem_limit > 0 && x->mem_used > s->mem_limit)
			sum->oom_events++;
	}
}

int simulate_oracle(const struct rm_config *cfg, const struct simulate_trace *t,
                    struct simulate_result **ret, char *err, size_t errlen)
{
	struct sim_svc *svcs = xcalloc(t->n_services ? t->n_services : 1, sizeof(*svcs));
	struct simulate_result *res = result_new(cfg, t, "oracle");
	int r = setup(cfg, t, svcs, err, errlen);
	if (r < 0)
		goto out;
	for (size_t k = 0; k < t->n_samples;) {
		int32_t day = engine_local_day(t->start + t->samples[k].time);
		size_t end = k + 1;
		while (end < t->n_samples &&
		       engine_local_day(t->start + t->samples[end].time) == day)
			end++;
		oracle_day(cfg, t, svcs, res, k, end);
		k = end;
	}
	finish(res, svcs, NULL);
	*ret = res;
	res = NULL;
out:
	for (size_t i = 0; r < 0 && i < t->n_services; i++)
		sim_svc_clear(&svcs[i]);
	free(svcs);
	simulate_result_free(res);
	return r;
}

void simulate_result_free(struct simulate_result *r)
{
	if (!r)
		return;
	free(r->events);
	free(r->summaries);
	free(r);
}

void simulate_fleet_of(const struct simulate_result *r, struct simulate_fleet *ret)
{
	const struct simulate_trace *t = r->trace;
	struct simulate_fleet f = { 0 };
	size_t cpu_n = 0, mem_n = 0, cpu_over = 0, mem_over = 0;
	double cpu_slack = 0, mem_slack = 0, sums[4] = { 0 };
	for (size_t i = 0; i < t->n_services; i++) {
		const struct simulate_summary *s = &r->summaries[i];
		if (!t->services[i].n_samples)
			continue;
		f.services++;
		f.changes += s->changes;
		f.oom_events += s->oom_events;
		f.days += s->days;
		cpu_n += s->cpu_samples;
		mem_n += s->mem_samples;
		cpu_over += s->cpu_over;
		mem_over += s->mem_over;
		if (s->cpu_samples)
			cpu_slack += s->cpu_slack_mean * (double)s->cpu_samples;
		if (s->mem_samples)
			mem_slack += s->mem_slack_mean * (double)s->mem_samples;
		sums[0] += s->cpu_limit_sum;
		sums[1] += s->cpu_use_sum;
		sums[2] += s->mem_limit_sum;
		sums[3] += s->mem_use_sum;
	}
	f.cpu_slack_weighted = sums[0] > 0 ? 1 - sums[1] / sums[0] : NAN;
	f.mem_slack_weighted = sums[2] > 0 ? 1 - sums[3] / sums[2] : NAN;
	f.cpu_over = cpu_n ? (double)cpu_over / (double)cpu_n : NAN;
	f.mem_over = mem_n ? (double)mem_over / (double)mem_n : NAN;
	f.cpu_slack = cpu_n ? cpu_slack / (double)cpu_n : NAN;
	f.mem_slack = mem_n ? mem_slack / (double)mem_n : NAN;
	f.changes_per_day = f.days > 0 ? (double)f.changes / f.days : NAN;
	*ret = f;
}
