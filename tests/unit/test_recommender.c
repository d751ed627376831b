/* test_recommender: the decaying histogram (decay, percentiles against a
 * sorted reference, bounded size), the recommender, the engine under the
 * percentile policy (rules, urgent raises, pacing, floors, properties), and
 * the histograms in the state file (round trip, upgrade from version 1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/config.h"
#include "rm/engine.h"
#include "rm/histogram.h"
#include "rm/recommender.h"
#include "rm/state.h"
#include "rm/units.h"
#include "rm/util.h"

#define MiB   UNITS_MIB
#define NOW   1700000000.0
#define TODAY 19675
#define DAY   86400.0

static struct rm_config *cfg_yaml(const char *yaml)
{
	struct config_report rep = { 0 };
	struct rm_config *cfg = NULL;
	char *const envp[] = { NULL };
	int r = config_load_data(yaml, strlen(yaml), "test", envp, &cfg, &rep);
	if (r < 0)
		config_report_print(&rep, "test", stderr);
	config_report_free(&rep);
	assert_int_equal(r, 0);
	return cfg;
}

/* The defaults (policy percentile), web normal, db critical. */
static struct rm_config *cfg_default(void)
{
	return cfg_yaml("services:\n"
	                "  monitored: [web, db]\n"
	                "  critical: [db]\n"
	                "  optional: []\n"
	                "  baseline: {}\n"
	                "  priority: {}\n");
}

/* Deterministic numbers (xorshift64*), uniform in [0, 1). */
static uint64_t rng = 88172645463325252ULL;
static double rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* ---- the histogram ---- */

static void test_histogram_percentile_vs_sorted(void **state)
{
	(void)state;
	enum { N = 5000 };
	static double v[N];
	for (int round = 0; round < 20; round++) {
		struct histogram h;
		histogram_init(&h, HISTOGRAM_CPU_BASE);
		for (int i = 0; i < N; i++) {
			/* Spread over six orders of magnitude, some below the base. */
			v[i] = pow(10, rnd() * 6 - 3.5);
			assert_int_equal(histogram_add(&h, v[i], 1.0, NOW + i, 0), 0);
		}
		qsort(v, N, sizeof(v[0]), cmp_double);
		for (int k = 0; k < 50; k++) {
			double p = k == 0 ? 1.0 : 0.01 + rnd() * 0.99;
			size_t rank = (size_t)ceil(p * N);
			double ref = v[rank ? rank - 1 : 0];
			double got = histogram_percentile(&h, p);
			/* In the reference's bucket: at most one bucket (5 %) away,
			 * or in bucket 0 (below the base) with it. */
			if (ref < HISTOGRAM_CPU_BASE) {
				assert_true(got <= HISTOGRAM_CPU_BASE);
			} else {
				assert_true(got >= ref / HISTOGRAM_RATIO * (1 - 1e-9));
				assert_true(got <= ref * HISTOGRAM_RATIO * (1 + 1e-9));
			}
		}
		assert_true(isnan(histogram_percentile(&h, 0)));
	}
}

static void test_histogram_decay(void **state)
{
	(void)state;
	struct histogram h;
	double hl = 3600;
	histogram_init(&h, HISTOGRAM_MEM_BASE);
	assert_true(isnan(histogram_percentile(&h, 0.5)));
	assert_true(isnan(histogram_mean(&h)));
	/* 10 at t, then 1 one half-life later: weights 1 and 2. */
	histogram_add(&h, 10, 1, NOW, hl);
	histogram_add(&h, 1, 1, NOW + hl, hl);
	assert_true(fabs(histogram_mean(&h) - 4.0) < 1e-9);
	assert_true(histogram_percentile(&h, 0.6) < 1.03);
	assert_true(histogram_percentile(&h, 0.7) >= 9.8);
	assert_true(histogram_span(&h) == hl);
	/* Ten half-lives on, a new value outweighs both by 2^8 : 3. */
	histogram_add(&h, 100, 1, NOW + 11 * hl, hl);
	assert_true(histogram_percentile(&h, 0.5) >= 98);
	assert_true(histogram_percentile(&h, 0.0009) < 1.03);
	/* A long history stays finite: the reference moves and old weight is
	 * pruned, so after 1,000 half-lives only recent values count. */
	for (int i = 0; i < 1000; i++)
		histogram_add(&h, 50, 1, NOW + (12 + i) * hl, hl);
	assert_int_equal(histogram_validate(&h), 0);
	assert_true(isfinite(h.total) && h.total > 0);
	assert_true(histogram_percentile(&h, 0.001) >= 49 && histogram_percentile(&h, 1) < 52);
	/* A clock that goes back counts as the reference time. */
	assert_int_equal(histogram_add(&h, 50, 1, NOW, hl), 0);
	assert_int_equal(histogram_validate(&h), 0);
	/* Bad values are refused. */
	assert_int_equal(histogram_add(&h, NAN, 1, NOW, hl), -EINVAL);
	assert_int_equal(histogram_add(&h, -1, 1, NOW, hl), -EINVAL);
	assert_int_equal(histogram_add(&h, 1, 0, NOW, hl), -EINVAL);
	assert_int_equal(histogram_add(&h, 1, INFINITY, NOW, hl), -EINVAL);
}

static void test_histogram_bounded(void **state)
{
	(void)state;
	/* Fixed size whatever the input: a few KiB. */
	assert_true(sizeof(struct histogram) <= 6 * 1024);
	assert_true(sizeof(struct usage_history) <= 12 * 1024);
	struct histogram h;
	histogram_init(&h, HISTOGRAM_CPU_BASE);
	for (int i = 0; i < 200000; i++)
		histogram_add(&h, rnd() < 0.01 ? 1e30 : rnd() * 4, 1 + rnd(), NOW + i * 30.0,
		              86400);
	assert_int_equal(histogram_validate(&h), 0);
	/* Values beyond the last bucket land in it. */
	assert_int_equal(histogram_bucket_of(&h, 1e30), HISTOGRAM_BUCKETS - 1);
	assert_int_equal(histogram_bucket_of(&h, 0), 0);
	assert_true(histogram_bucket_upper(&h, HISTOGRAM_BUCKETS - 1) > 1000);
	/* Edges fall in the bucket above them. */
	for (size_t i = 1; i < 40; i++)
		assert_int_equal(histogram_bucket_of(&h, histogram_bucket_upper(&h, i)), i + 1);
}

/* ---- the recommender ---- */

static struct observation obs_at(double t, double cpu, double cpu_limit, double mem_mib,
                                 double mem_limit_mib)
{
	return (struct observation){
		.time = t,
		.n_containers = 1,
		.cpu_used_known = true,
		.cpu_used = cpu,
		.cpu_limit_known = true,
		.cpu_limit = cpu_limit,
		.mem_used_known = true,
		.mem_used = (uint64_t)(mem_mib * MiB),
		.mem_limit_known = true,
		.mem_limit = (uint64_t)(mem_limit_mib * MiB),
		.uptime_known = true,
		.uptime = 7 * DAY,
		.oom_known = true,
	};
}

/* Feeds days of checks at 5 minutes: CPU cpu +- 10 %, memory mem +- 2 %. */
static void feed(const struct rm_config *cfg, struct usage_history *u, double from, double days,
                 double cpu, double cpu_limit, double mem, double mem_limit)
{
	for (double t = from; t < from + days * DAY; t += 300) {
		struct observation o = obs_at(t, cpu * (0.9 + 0.2 * rnd()), cpu_limit,
		                              mem * (0.98 + 0.04 * rnd()), mem_limit);
		recommender_observe(cfg, u, &o, t, 300);
	}
}

static void test_recommend_steady(void **state)
{
	(void)state;
	struct rm_config *cfg = cfg_default();
	struct usage_history u;
	struct recommendation rec;
	usage_history_init(&u);
	recommender_recommend(cfg, &u, &rec);
	assert_false(rec.cpu.known);
	assert_false(rec.mem.known);
	feed(cfg, &u, NOW, 7, 0.5, 2.0, 400, 2048);
	recommender_recommend(cfg, &u, &rec);
	assert_true(rec.cpu.known && rec.mem.known);
	assert_true(rec.confidence > 6.9 && rec.confidence < 7.1);
	/* p98 of 0.45..0.55 cores is about 0.55; + 10 % margin (widened a little). */
	assert_true(rec.cpu.percentile >= 0.54 && rec.cpu.percentile <= 0.58);
	assert_true(rec.cpu.target > rec.cpu.percentile * 1.1 - 1e-9);
	assert_true(rec.cpu.target < rec.cpu.percentile * 1.11);
	assert_true(rec.cpu.lower <= rec.cpu.target && rec.cpu.upper > rec.cpu.target);
	/* Memory: bytes; the lower bound keeps half the margin above the percentile. */
	assert_true(rec.mem.percentile >= 408.0 * MiB && rec.mem.percentile <= 430.0 * MiB);
	assert_true(fabs(rec.mem.lower - rec.mem.percentile * (1 + rec.mem.margin / 2)) < 1);
	assert_true(fabs(rec.mem.mean - 400.0 * MiB) < 8.0 * MiB);
	/* A young container adds nothing. */
	struct usage_history v = u;
	struct observation young = obs_at(NOW + 8 * DAY, 5, 8, 4000, 8000);
	young.uptime = 60;
	recommender_observe(cfg, &v, &young, young.time, 300);
	assert_int_equal(v.cpu.samples, u.cpu.samples);
	config_free(cfg);
}

static void test_recommend_throttled(void **state)
{
	(void)state;
	struct rm_config *cfg = cfg_default();
	struct usage_history u;
	struct recommendation rec;
	usage_history_init(&u);
	/* Capped at 0.5 cores and throttled 30 % of every check. */
	for (double t = NOW; t < NOW + 2 * DAY; t += 300) {
		struct observation o = obs_at(t, 0.45, 0.5, 100, 512);
		o.cpu_throttled_known = true;
		o.cpu_throttled = 0.3;
		recommender_observe(cfg, &u, &o, t, 300);
	}
	recommender_recommend(cfg, &u, &rec);
	/* 30 % of the time above the limit: the p98 is above it, so is the target. */
	assert_true(rec.cpu.percentile > 0.5);
	assert_true(rec.cpu.lower > 0.5);
	/* The throttled limit is remembered as a floor for decreases. */
	assert_true(fabs(rec.cpu.floor - 0.5 * 1.3) < 1e-9);
	/* ...for a week of half-lives, then forgotten. */
	feed(cfg, &u, NOW + 2 * DAY, 8, 0.1, 2.0, 100, 512);
	recommender_recommend(cfg, &u, &rec);
	assert_true(rec.cpu.floor == 0);
	config_free(cfg);
}

static void test_recommend_oom(void **state)
{
	(void)state;
	struct rm_config *cfg = cfg_default();
	struct usage_history u;
	struct recommendation rec;
	usage_history_init(&u);
	feed(cfg, &u, NOW, 2, 0.2, 1, 300, 400);
	/* Killed at its 400 MiB limit: recorded there, heavily, so the limit
	 * it died at stays under the percentile for a while. */
	struct observation o = obs_at(NOW + 2 * DAY, 0.2, 1, 0, 400);
	o.mem_used_known = false;
	o.oom_kills = 1;
	o.uptime = 5;
	recommender_observe(cfg, &u, &o, o.time, 300);
	recommender_recommend(cfg, &u, &rec);
	assert_true(rec.mem.percentile >= 400.0 * MiB);
	config_free(cfg);
}

/* ---- the engine under the percentile policy ---- */

struct pcase {
	const char *name;
	const char *service;
	double cpu, cpu_limit;
	double mem, mem_limit; /* MiB */
	double history_days;   /* of steady use fed before: cpu_hist cores, mem_hist MiB */
	double cpu_hist, mem_hist;
	struct engine_state st;
	const char *reason;
	double cpu_to; /* 0: no CPU change */
	double mem_to; /* MiB, 0: no memory change */
	const char *contains;
};

static void run_case(const struct rm_config *cfg, const struct pcase *c,
                     struct engine_state *ret_st, struct engine_decision *d)
{
	struct usage_history u;
	struct recommendation rec;
	struct engine_policy pol;
	usage_history_init(&u);
	if (c->history_days > 0)
		feed(cfg, &u, NOW - c->history_days * DAY, c->history_days, c->cpu_hist,
		     c->cpu_limit, c->mem_hist, c->mem_limit);
	recommender_recommend(cfg, &u, &rec);
	engine_policy_for(cfg, c->service, &pol);
	struct observation o = obs_at(NOW, c->cpu, c->cpu_limit, c->mem, c->mem_limit);
	struct engine_input in = {
		.cfg = cfg, .policy = &pol, .obs = &o, .now = NOW, .day = TODAY, .rec = &rec
	};
	struct engine_state st = c->st;
	st.day = TODAY;
	engine_decide(&in, &st, &st, d);
	if (ret_st)
		*ret_st = st;
}

static const struct pcase pcases[] = {
	{ "no history: learning",
	  "web",
	  0.5,
	  2,
	  400,
	  2048,
	  0,
	  0,
	  0,
	  { 0 },
	  "learning",
	  0,
	  0,
	  "no usage history yet" },
	{ "loose limits after a week: decreased to the targets",
	  "web",
	  0.5,
	  2,
	  400,
	  2048,
	  7,
	  0.5,
	  400,
	  { 0 },
	  "cpu_recommended",
	  0.61,
	  452,
	  "expected slack" },
	{ "too little history: no decrease",
	  "web",
	  0.5,
	  2,
	  400,
	  2048,
	  0.2,
	  0.5,
	  400,
	  { 0 },
	  "learning",
	  0,
	  0,
	  "no decrease before 12h of history" },
	{ "a decrease a day",
	  "web",
	  0.5,
	  2,
	  400,
	  2048,
	  7,
	  0.5,
	  400,
	  { .cpu_changed = NOW - 3600, .mem_changed = NOW - 3600 },
	  "decrease_paced",
	  0,
	  0,
	  "no decrease within 1d of a change" },
	{ "critical never decreased",
	  "db",
	  0.5,
	  2,
	  400,
	  2048,
	  7,
	  0.5,
	  400,
	  { 0 },
	  "critical_floor",
	  0,
	  0,
	  "not decreased (critical service)" },
	{ "within the bounds: nothing",
	  "web",
	  0.5,
	  0.62,
	  400,
	  460,
	  7,
	  0.5,
	  400,
	  { 0 },
	  "none",
	  0,
	  0,
	  "within recommendation" },
	{ "too tight: raised without waiting for history",
	  "web",
	  0.5,
	  0.5,
	  400,
	  410,
	  0.2,
	  0.5,
	  400,
	  { 0 },
	  "cpu_recommended",
	  0.0,
	  0,
	  "below" },
	{ "sustained memory pressure beyond the history: urgent, through the daily cap",
	  "web",
	  0.5,
	  0.62,
	  600,
	  640,
	  7,
	  0.5,
	  400,
	  { .mem_high = 2,
	    .changes_today = 6,
	    .last_change = NOW - 60,
	    .last_result = ENGINE_RESULT_APPLIED },
	  "mem_high",
	  0,
	  800,
	  "> 80% for 3 checks" },
	{ "use above the threshold but within the history: not pressure",
	  "web",
	  0.5,
	  0.62,
	  410,
	  460,
	  7,
	  0.5,
	  400,
	  { .mem_high = 5 },
	  "none",
	  0,
	  0,
	  NULL },
	{ "daily cap holds a plain recommendation",
	  "web",
	  0.5,
	  2,
	  400,
	  2048,
	  7,
	  0.5,
	  400,
	  { .changes_today = 6 },
	  "daily_cap",
	  0,
	  0,
	  "held by daily cap" },
};

static void test_percentile_rules(void **state)
{
	(void)state;
	struct rm_config *cfg = cfg_default();
	for (size_t i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		const struct pcase *c = &pcases[i];
		struct engine_decision d;
		run_case(cfg, c, NULL, &d);
		const char *got = engine_reason_to_string(d.reason);
		if (strcmp(got, c->reason) != 0)
			fail_msg("[%s] reason %s, want %s: %s", c->name, got, c->reason,
			         d.explanation);
		if (c->contains && !strstr(d.explanation, c->contains))
			fail_msg("[%s] explanation lacks '%s': %s", c->name, c->contains,
			         d.explanation);
		if (c->cpu_to > 0 && (!d.change_cpu || fabs(d.cpu_to - c->cpu_to) > 0.021))
			fail_msg("[%s] cpu %g, want %g: %s", c->name, d.change_cpu ? d.cpu_to : -1,
			         c->cpu_to, d.explanation);
		if (c->mem_to > 0 &&
		    (!d.change_mem || fabs((double)d.mem_to / MiB - c->mem_to) > c->mem_to * 0.03))
			fail_msg("[%s] mem %g MiB, want %g: %s", c->name,
			         d.change_mem ? (double)d.mem_to / MiB : -1, c->mem_to,
			         d.explanation);
		if (c->cpu_to == 0 && c->mem_to == 0 && strcmp(c->reason, "cpu_recommended") != 0 &&
		    engine_decision_changes(&d) && strcmp(c->reason, "mem_high") != 0)
			fail_msg("[%s] unexpected change: %s", c->name, d.explanation);
	}
	config_free(cfg);
}

/* The explanation names the percentile, window, margin, confidence, the
 * bound that clamped it and the expected slack. */
static void test_percentile_explanation(void **state)
{
	(void)state;
	struct rm_config *cfg = cfg_yaml("adjustment: {min_memory: 512M}\n"
	                                 "services: {monitored: [web], critical: [], "
	                                 "optional: [], baseline: {}, priority: {}}\n");
	struct pcase c = { "clamped", "web", 0.5, 2, 400, 2048, 7, 0.5, 400, { 0 } };
	struct engine_decision d;
	run_case(cfg, &c, NULL, &d);
	assert_true(d.change_mem && d.mem_to == 512 * MiB);
	static const char *const parts[] = { "cpu p98 ",      "half-life 1d", "confidence 7.0d",
		                             "% margin = ",   "mem p99.9 ",   "(min)",
		                             "expected slack" };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (!strstr(d.explanation, parts[i]))
			fail_msg("'%s' missing from: %s", parts[i], d.explanation);
	config_free(cfg);
}

/* An OOM kill is remembered until a memory increase answers it, is never held
 * by the cooldown or the daily cap, and still counts toward the cap. */
static void test_percentile_oom(void **state)
{
	(void)state;
	struct rm_config *cfg = cfg_yaml("automation: {actions: {increase_on_high: false}}\n"
	                                 "services: {monitored: [web], critical: [], "
	                                 "optional: [], baseline: {}, priority: {}}\n");
	struct engine_policy pol;
	engine_policy_for(cfg, "web", &pol);
	struct recommendation rec = { 0 };
	struct engine_state st = { .day = TODAY,
		                   .changes_today = 6,
		                   .last_change = NOW - 60,
		                   .last_result = ENGINE_RESULT_APPLIED };
	struct engine_decision d;
	struct observation o = obs_at(NOW, 0.2, 1, 100, 400);
	o.oom_kills = 1;
	o.uptime = 10;
	struct engine_input in = {
		.cfg = cfg, .policy = &pol, .obs = &o, .now = NOW, .day = TODAY, .rec = &rec
	};
	/* increase_on_high off holds it (docs/engine.md), but it is remembered. */
	engine_decide(&in, &st, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_DISABLED_ACTION);
	assert_true(st.oom_pending);
	/* The next check carries no kill; with the switch on, the OOM is answered
	 * through the cap and the cooldown: at least double the limit. */
	config_free(cfg);
	cfg = cfg_yaml("services: {monitored: [web], critical: [], optional: [], baseline: {}, "
	               "priority: {}}\n");
	in.cfg = cfg;
	o.oom_kills = 0;
	o.uptime = 310;
	in.now = o.time = NOW + 300;
	engine_decide(&in, &st, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_OOM);
	assert_true(d.change_mem && d.mem_to >= 800 * MiB);
	assert_non_null(strstr(d.explanation, "not answered yet"));
	engine_apply_result(cfg, &st, &d, true, in.now, TODAY);
	assert_false(st.oom_pending);
	assert_int_equal(st.changes_today, 7);
	/* A failed answer keeps it pending. */
	st.oom_pending = true;
	engine_apply_result(cfg, &st, &d, false, in.now, TODAY);
	assert_true(st.oom_pending);
	config_free(cfg);
}

/* A CPU decrease stops at a limit that throttled recently. */
static void test_percentile_throttle_floor(void **state)
{
	(void)state;
	struct rm_config *cfg = cfg_default();
	struct usage_history u;
	struct recommendation rec;
	struct engine_policy pol;
	usage_history_init(&u);
	feed(cfg, &u, NOW - 3 * DAY, 3, 0.3, 2.0, 300, 512);
	/* One check throttled 20 % at a 0.6 limit, a day ago. */
	struct observation t = obs_at(NOW - DAY, 0.5, 0.6, 300, 512);
	t.cpu_throttled_known = true;
	t.cpu_throttled = 0.2;
	recommender_observe(cfg, &u, &t, t.time, 300);
	recommender_recommend(cfg, &u, &rec);
	assert_true(fabs(rec.cpu.floor - 0.72) < 1e-9);
	engine_policy_for(cfg, "web", &pol);
	struct observation o = obs_at(NOW, 0.3, 2.0, 300, 512);
	struct engine_input in = {
		.cfg = cfg, .policy = &pol, .obs = &o, .now = NOW, .day = TODAY, .rec = &rec
	};
	struct engine_state st = { .day = TODAY };
	struct engine_decision d;
	engine_decide(&in, &st, &st, &d);
	assert_true(d.change_cpu);
	assert_true(fabs(d.cpu_to - 0.72) < 1e-9);
	assert_non_null(strstr(d.explanation, "(throttled 23h55m ago)"));
	config_free(cfg);
}

/* Over many random observations and histories: within bounds, a critical
 * service never decreased, only change reasons change anything, and only
 * urgent raises go past the daily cap. */
static void test_percentile_properties(void **state)
{
	(void)state;
	struct rm_config *cfg = cfg_yaml("services:\n"
	                                 "  monitored: [web, db]\n"
	                                 "  critical: [db]\n"
	                                 "  optional: []\n"
	                                 "  priority: {}\n"
	                                 "  baseline: {db: {cpu: 0.5, memory: 256M}}\n");
	for (int i = 0; i < 3000; i++) {
		const char *svc = rnd() < 0.3 ? "db" : "web";
		struct engine_policy pol;
		engine_policy_for(cfg, svc, &pol);
		struct usage_history u;
		struct recommendation rec;
		usage_history_init(&u);
		double cpu_lim = 0.1 + rnd() * 4, mem_lim = 64 + rnd() * 4000;
		if (rnd() < 0.9)
			feed(cfg, &u, NOW - 3 * DAY, rnd() * 3, rnd() * cpu_lim * 1.5, cpu_lim,
			     rnd() * mem_lim * 1.2, mem_lim);
		recommender_recommend(cfg, &u, &rec);
		struct observation o =
		        obs_at(NOW, rnd() * cpu_lim * 1.5, cpu_lim, rnd() * mem_lim, mem_lim);
		o.oom_kills = rnd() < 0.05;
		o.cpu_throttled_known = rnd() < 0.5;
		o.cpu_throttled = rnd();
		struct engine_state st = {
			.day = TODAY,
			.cpu_high = (unsigned)(rnd() * 5),
			.mem_high = (unsigned)(rnd() * 5),
			.throttled = (unsigned)(rnd() * 5),
			.changes_today = (unsigned)(rnd() * 8),
			.oom_pending = rnd() < 0.1,
			.last_change = NOW - rnd() * 4000,
			.last_result = rnd() < 0.5 ? ENGINE_RESULT_APPLIED : ENGINE_RESULT_NONE,
		};
		struct engine_input in = {
			.cfg = cfg, .policy = &pol, .obs = &o, .now = NOW, .day = TODAY, .rec = &rec
		};
		struct engine_state before = st;
		struct engine_decision d;
		engine_decide(&in, &st, &st, &d);
		if (!engine_decision_changes(&d))
			continue;
		assert_true(engine_reason_is_change(d.reason));
		if (d.change_cpu) {
			assert_true(d.cpu_to >= pol.cpu_floor - 1e-9);
			assert_true(d.cpu_to <= pol.cpu_ceiling + 1e-9);
			if (pol.class == CLASS_CRITICAL)
				assert_true(d.cpu_to >= d.cpu_from);
		}
		if (d.change_mem) {
			assert_true(d.mem_to >= pol.mem_floor && d.mem_to <= pol.mem_ceiling);
			assert_true(d.mem_to % MiB == 0);
			if (pol.class == CLASS_CRITICAL)
				assert_true(d.mem_to >= d.mem_from);
		}
		bool urgent =
		        d.reason == ENGINE_REASON_OOM || d.reason == ENGINE_REASON_THROTTLED ||
		        d.reason == ENGINE_REASON_CPU_HIGH || d.reason == ENGINE_REASON_MEM_HIGH;
		if (before.changes_today >= cfg->adjustment.max_adjustments_per_day)
			assert_true(urgent);
	}
	config_free(cfg);
}

/* ---- the state file ---- */

static void test_state_round_trip(void **state)
{
	(void)state;
	struct rm_config *cfg = cfg_default();
	struct rm_state *s = state_new();
	struct state_service *sv = state_service_get(s, "web");
	feed(cfg, &sv->usage, NOW, 3, 0.4, 1.0, 300, 512);
	sv->usage.cpu_floor = 0.75;
	sv->usage.cpu_floor_time = NOW + 5;
	sv->engine.oom_pending = true;
	sv->engine.mem_changed = NOW - 10;
	char *json = state_json_serialize(s);
	assert_non_null(strstr(json, "\"version\": 2"));
	struct rm_state *t = NULL;
	char err[256];
	assert_int_equal(state_json_parse(json, strlen(json), &t, err, sizeof(err)), 0);
	const struct state_service *tv = state_service_find(t, "web");
	assert_non_null(tv);
	assert_memory_equal(tv->usage.cpu.bucket, sv->usage.cpu.bucket,
	                    sizeof(sv->usage.cpu.bucket));
	assert_memory_equal(tv->usage.mem.bucket, sv->usage.mem.bucket,
	                    sizeof(sv->usage.mem.bucket));
	assert_true(tv->usage.cpu.ref == sv->usage.cpu.ref &&
	            tv->usage.cpu.sum == sv->usage.cpu.sum);
	assert_int_equal(tv->usage.mem.samples, sv->usage.mem.samples);
	assert_true(tv->usage.cpu_floor == 0.75 && tv->usage.cpu_floor_time == NOW + 5);
	assert_true(tv->engine.oom_pending && tv->engine.mem_changed == NOW - 10);
	/* The same recommendation from either. */
	struct recommendation a, b;
	recommender_recommend(cfg, &sv->usage, &a);
	recommender_recommend(cfg, &tv->usage, &b);
	assert_true(a.cpu.target == b.cpu.target && a.mem.target == b.mem.target);
	/* A service's state stays a few KiB. */
	assert_true(strlen(json) < 16 * 1024);
	free(json);
	state_free(t);
	state_free(s);
	config_free(cfg);
}

/* Version 1 files (before the histograms) load with their engine state,
 * counters, journal and history, and no usage history; they save as 2. */
static void test_state_upgrade_v1(void **state)
{
	(void)state;
	char *text;
	size_t len;
	char err[256];
	struct rm_state *s = NULL;
	assert_int_equal(file_read_all(RM_TEST_DATA "/state/v1.json", 1 << 20, &text, &len), 0);
	assert_non_null(strstr(text, "\"version\": 1"));
	assert_int_equal(state_json_parse(text, len, &s, err, sizeof(err)), 0);
	const struct state_service *sv = state_service_find(s, "web");
	assert_non_null(sv);
	assert_int_equal(sv->engine.changes_today, 2);
	assert_int_equal(sv->engine.mem_low, 2);
	assert_int_equal(sv->counters.total_adjustments, 5);
	assert_true(sv->last_good.known && sv->last_good.cpu == 1.0);
	assert_true(histogram_empty(&sv->usage.cpu) && histogram_empty(&sv->usage.mem));
	assert_true(sv->usage.cpu.base == HISTOGRAM_CPU_BASE);
	assert_false(sv->engine.oom_pending);
	assert_int_equal(s->n_journal, 1);
	assert_int_equal(s->journal[0].machine.phase, BG_WAIT_HEALTHY);
	assert_int_equal(s->n_history, 1);
	char *out = state_json_serialize(s);
	assert_non_null(strstr(out, "\"version\": 2"));
	struct rm_state *t = NULL;
	assert_int_equal(state_json_parse(out, strlen(out), &t, err, sizeof(err)), 0);
	assert_int_equal(state_service_find(t, "web")->engine.changes_today, 2);
	free(out);
	state_free(t);
	state_free(s);
	free(text);
}

static void test_state_bad_histograms(void **state)
{
	(void)state;
	static const struct {
		const char *json, *err;
	} bad[] = {
		{ "{\"version\":2,\"services\":{\"a\":{\"usage\":{\"cpu\":{\"offset\":0,"
		  "\"weights\":"
		  "[1,-2]}}}}}",
		  "services.a.usage.cpu.weights" },
		{ "{\"version\":2,\"services\":{\"a\":{\"usage\":{\"memory\":{\"offset\":699,"
		  "\"weights\":[1,2]}}}}}",
		  "more buckets than a histogram has" },
		{ "{\"version\":2,\"services\":{\"a\":{\"usage\":{\"cpu\":{\"offset\":700}}}}}",
		  "services.a.usage.cpu.offset" },
		{ "{\"version\":2,\"services\":{\"a\":{\"usage\":{\"cpu\":{\"sum\":-1,\"weights\":"
		  "[1]}}}}}",
		  "not a valid histogram" },
		{ "{\"version\":2,\"services\":{\"a\":{\"usage\":{\"cpu\":[]}}}}",
		  "services.a.usage.cpu" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rm_state *s = NULL;
		char err[256] = "";
		int r = state_json_parse(bad[i].json, strlen(bad[i].json), &s, err, sizeof(err));
		if (r != -EBADMSG || !strstr(err, bad[i].err))
			fail_msg("case %zu: %d '%s', want '%s'", i, r, err, bad[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_histogram_percentile_vs_sorted),
		cmocka_unit_test(test_histogram_decay),
		cmocka_unit_test(test_histogram_bounded),
		cmocka_unit_test(test_recommend_steady),
		cmocka_unit_test(test_recommend_throttled),
		cmocka_unit_test(test_recommend_oom),
		cmocka_unit_test(test_percentile_rules),
		cmocka_unit_test(test_percentile_explanation),
		cmocka_unit_test(test_percentile_oom),
		cmocka_unit_test(test_percentile_throttle_floor),
		cmocka_unit_test(test_percentile_properties),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_state_upgrade_v1),
		cmocka_unit_test(test_state_bad_histograms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
