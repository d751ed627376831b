/* test_engine: the decision engine, rule by rule and boundary by boundary,
 * then properties over many random observations and states. */
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
#include <time.h>

#include "rm/config.h"
#include "rm/engine.h"
#include "rm/units.h"

#define MiB     UNITS_MIB
#define NOW     1700000000.0
#define TODAY   19675 /* floor(NOW / 86400) */
#define NO_CPU  (-1.0)
#define UNKNOWN UINT64_MAX

/* Defaults under the threshold policy (the percentile policy has its own
 * tests in test_recommender.c), plus baselines for "web" (normal) and
 * "jaeger" (optional). */
static const char test_yaml[] = "adjustment:\n"
                                "  policy: threshold\n"
                                "services:\n"
                                "  monitored: [web, traefik, jaeger, db]\n"
                                "  critical: [traefik]\n"
                                "  optional: [jaeger]\n"
                                "  priority: {traefik: 1, web: 2, jaeger: 3}\n"
                                "  baseline:\n"
                                "    traefik: {cpu: 0.5, memory: 256M}\n"
                                "    web: {cpu: 0.5, memory: 256M}\n";

static struct rm_config *load_cfg(void)
{
	struct config_report rep = { 0 };
	struct rm_config *cfg = NULL;
	char *const envp[] = { NULL };
	int r = config_load_data(test_yaml, strlen(test_yaml), "test", envp, &cfg, &rep);
	if (r < 0)
		config_report_print(&rep, "test", stderr);
	config_report_free(&rep);
	assert_int_equal(r, 0);
	return cfg;
}

static int setup(void **state)
{
	*state = load_cfg();
	return 0;
}

static int teardown(void **state)
{
	config_free(*state);
	return 0;
}

/* An observation with everything known: cpu in cores, memory in bytes. */
static struct observation obs_make(double cpu_used, double cpu_limit, uint64_t mem_used,
                                   uint64_t mem_limit)
{
	struct observation o = {
		.time = NOW,
		.n_containers = 1,
		.cpu_used_known = true,
		.cpu_used = cpu_used,
		.cpu_limit_known = true,
		.cpu_limit = cpu_limit,
		.mem_used_known = true,
		.mem_used = mem_used,
		.mem_limit_known = true,
		.mem_limit = mem_limit,
		.uptime_known = true,
		.uptime = 3600,
		.oom_known = true,
	};
	return o;
}

static void decide(const struct rm_config *cfg, const char *service, const struct observation *o,
                   struct engine_state *st, struct engine_decision *d)
{
	struct engine_policy pol;
	engine_policy_for(cfg, service, &pol);
	struct engine_input in = { .cfg = cfg, .policy = &pol, .obs = o, .now = NOW, .day = TODAY };
	engine_decide(&in, st, st, d);
}

/* One row of the rule table. Counters are the state before the reading. */
struct rule_case {
	const char *name;
	const char *service;
	double cpu_used, cpu_limit;
	uint64_t mem_used, mem_limit;
	unsigned cpu_high, cpu_low, mem_high, mem_low;
	uint64_t mem_peak; /* 0 = unknown */
	const char *reason;
	double cpu_to;           /* NO_CPU = no CPU change */
	uint64_t mem_to;         /* 0 = no memory change */
	const char *explanation; /* exact, or NULL */
	const char *contains;    /* substring, or NULL */
};

static const struct rule_case rule_cases[] = {
	/* CPU thresholds: strict, counted, reset. */
	{ "cpu exactly at high does not count", "web", 0.8, 1.0, 200 * MiB, 512 * MiB, 2, 0, 0, 0,
	  0, "none", NO_CPU, 0, "within thresholds: cpu 80.0% of 1.00 cores; mem 39.1% of 512 MiB",
	  NULL },
	{ "cpu above high, third reading", "web", 0.853, 1.0, 200 * MiB, 512 * MiB, 2, 0, 0, 0, 0,
	  "cpu_high", 1.25, 0, "cpu 85.3% of 1.00 cores > 80% for 3 checks: 1.00 -> 1.25 cores",
	  NULL },
	{ "cpu above high, second reading", "web", 0.853, 1.0, 200 * MiB, 512 * MiB, 1, 0, 0, 0, 0,
	  "hysteresis", NO_CPU, 0, NULL, "cpu 85.3% of 1.00 cores > 80% (2 of 3 checks)" },
	{ "cpu back inside resets", "web", 0.5, 1.0, 200 * MiB, 512 * MiB, 2, 0, 0, 0, 0, "none",
	  NO_CPU, 0, NULL, NULL },
	{ "cpu exactly at low does not count", "web", 0.3, 1.0, 200 * MiB, 512 * MiB, 0, 2, 0, 0, 0,
	  "none", NO_CPU, 0, NULL, NULL },
	{ "cpu below low, third reading", "web", 0.2, 1.0, 200 * MiB, 512 * MiB, 0, 2, 0, 0, 0,
	  "cpu_low", 0.75, 0, "cpu 20.0% of 1.00 cores < 30% for 3 checks: 1.00 -> 0.75 cores",
	  NULL },
	/* Memory thresholds. */
	{ "mem exactly at high does not count", "web", 0.5, 1.0, 400 * MiB, 500 * MiB, 0, 0, 2, 0,
	  0, "none", NO_CPU, 0, NULL, NULL },
	{ "mem above high, third reading", "web", 0.5, 1.0, 466 * MiB, 512 * MiB, 0, 0, 2, 0, 0,
	  "mem_high", NO_CPU, 640 * MiB, "mem 91.0% of 512 MiB > 80% for 3 checks: 512 -> 640 MiB",
	  NULL },
	{ "mem below low", "web", 0.5, 1.0, 100 * MiB, 1024 * MiB, 0, 0, 0, 2, 0, "mem_low", NO_CPU,
	  768 * MiB, "mem 9.8% of 1024 MiB < 30% for 3 checks: 1024 -> 768 MiB", NULL },
	{ "mem exactly at low does not count", "web", 0.5, 1.0, 300 * MiB, 1000 * MiB, 0, 0, 0, 2,
	  0, "none", NO_CPU, 0, NULL, NULL },
	/* Memory safety margin over the recent peak. */
	{ "mem decrease held above peak + margin", "web", 0.5, 1.0, 100 * MiB, 1024 * MiB, 0, 0, 0,
	  2, 800 * MiB, "mem_low", NO_CPU, 920 * MiB, NULL,
	  "1024 -> 920 MiB (peak 800 MiB + 15%)" },
	{ "mem decrease impossible under peak + margin", "web", 0.5, 1.0, 100 * MiB, 1024 * MiB, 0,
	  0, 0, 2, 950 * MiB, "at_bound", NO_CPU, 0, NULL,
	  "cannot go below 1093 MiB (peak 950 MiB + 15%)" },
	{ "mem safety floor rounds up to whole MiB", "web", 0.5, 1.0, 100 * MiB, 1024 * MiB, 0, 0,
	  0, 2, 700 * MiB + 1, "mem_low", NO_CPU, 806 * MiB, NULL, NULL },
	/* Both at once: one decision, one deployment. */
	{ "cpu and mem both high", "web", 0.9, 1.0, 466 * MiB, 512 * MiB, 2, 0, 2, 0, 0, "cpu_high",
	  1.25, 640 * MiB,
	  "cpu 90.0% of 1.00 cores > 80% for 3 checks: 1.00 -> 1.25 cores; "
	  "mem 91.0% of 512 MiB > 80% for 3 checks: 512 -> 640 MiB",
	  NULL },
	{ "cpu high and mem low", "web", 0.9, 1.0, 100 * MiB, 1024 * MiB, 2, 0, 0, 2, 0, "cpu_high",
	  1.25, 768 * MiB, NULL, NULL },
	/* Bounds, both directions. */
	{ "increase clamped to max", "web", 6.9, 7.0, 200 * MiB, 512 * MiB, 2, 0, 0, 0, 0,
	  "cpu_high", 8.0, 0, NULL, "7.00 -> 8.00 cores (max)" },
	{ "increase at max", "web", 7.9, 8.0, 200 * MiB, 512 * MiB, 2, 0, 0, 0, 0, "at_bound",
	  NO_CPU, 0, NULL, "already at max 8.00 cores" },
	{ "increase above max never lowers", "web", 9.9, 10.0, 200 * MiB, 512 * MiB, 2, 0, 0, 0, 0,
	  "at_bound", NO_CPU, 0, NULL, "above max 8.00 cores" },
	{ "mem increase clamped to max", "web", 0.5, 1.0, 6900 * MiB, 7000 * MiB, 0, 0, 2, 0, 0,
	  "mem_high", NO_CPU, 8192 * MiB, NULL, "(max)" },
	{ "decrease clamped to min", "db", 0.01, 0.12, 200 * MiB, 512 * MiB, 0, 2, 0, 0, 0,
	  "cpu_low", 0.10, 0, NULL, "0.12 -> 0.10 cores (min)" },
	{ "decrease at min", "db", 0.01, 0.1, 200 * MiB, 512 * MiB, 0, 2, 0, 0, 0, "at_bound",
	  NO_CPU, 0, NULL, "already at min 0.10 cores" },
	{ "decrease below min never raises", "db", 0.001, 0.05, 200 * MiB, 512 * MiB, 0, 2, 0, 0, 0,
	  "at_bound", NO_CPU, 0, NULL, "below min 0.10 cores" },
	{ "mem decrease clamped to min", "db", 0.5, 1.0, 1 * MiB, 80 * MiB, 0, 0, 0, 2, 0,
	  "mem_low", NO_CPU, 64 * MiB, NULL, "80 -> 64 MiB (min)" },
	/* Baselines: a floor for any service, and a raise when below it. */
	{ "decrease clamped to baseline", "web", 0.1, 0.6, 200 * MiB, 512 * MiB, 0, 2, 0, 0, 0,
	  "cpu_low", 0.5, 0, NULL, "0.60 -> 0.50 cores (baseline)" },
	{ "decrease at baseline", "web", 0.1, 0.5, 200 * MiB, 512 * MiB, 0, 2, 0, 0, 0, "at_bound",
	  NO_CPU, 0, NULL, "already at baseline 0.50 cores" },
	{ "mem decrease clamped to baseline", "web", 0.5, 1.0, 20 * MiB, 300 * MiB, 0, 0, 0, 2, 0,
	  "mem_low", NO_CPU, 256 * MiB, NULL, "300 -> 256 MiB (baseline)" },
	{ "increase below baseline lifts to baseline", "web", 0.19, 0.2, 200 * MiB, 512 * MiB, 2, 0,
	  0, 0, 0, "cpu_high", 0.5, 0, NULL, "0.20 -> 0.50 cores (baseline)" },
	/* Critical: never decreased, never below baseline. */
	{ "critical never decreased (cpu)", "traefik", 0.1, 2.0, 200 * MiB, 512 * MiB, 0, 2, 0, 0,
	  0, "critical_floor", NO_CPU, 0, NULL, "not decreased (critical service)" },
	{ "critical never decreased (mem)", "traefik", 0.5, 1.0, 10 * MiB, 2048 * MiB, 0, 0, 0, 2,
	  0, "critical_floor", NO_CPU, 0, NULL, NULL },
	{ "critical increase lifted to baseline", "traefik", 0.29, 0.3, 200 * MiB, 512 * MiB, 2, 0,
	  0, 0, 0, "cpu_high", 0.5, 0, NULL, "(baseline)" },
	{ "critical increase normal", "traefik", 0.9, 1.0, 200 * MiB, 512 * MiB, 2, 0, 0, 0, 0,
	  "cpu_high", 1.25, 0, NULL, NULL },
	/* Unlimited resources are not managed by default, and never read as idle. */
	{ "no cpu limit", "web", 0.0, 0.0, 200 * MiB, 512 * MiB, 0, 5, 0, 0, 0, "no_limit", NO_CPU,
	  0, NULL, "cpu has no limit (not managed)" },
	{ "no mem limit", "web", 0.5, 1.0, 10 * MiB, 0, 0, 0, 0, 5, 0, "no_limit", NO_CPU, 0, NULL,
	  "mem has no limit" },
	/* Rounding. */
	{ "cpu rounded to 0.01", "db", 0.33, 0.37, 200 * MiB, 512 * MiB, 2, 0, 0, 0, 0, "cpu_high",
	  0.46, 0, NULL, "0.37 -> 0.46 cores" },
	{ "mem rounded to MiB", "db", 0.5, 1.0, 95 * MiB, 100 * MiB + 1000, 0, 0, 2, 0, 0,
	  "mem_high", NO_CPU, 125 * MiB, NULL, "100.0 -> 125 MiB" },
};

static void test_rules(void **state)
{
	const struct rm_config *cfg = *state;
	for (size_t i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
		const struct rule_case *c = &rule_cases[i];
		struct observation o =
		        obs_make(c->cpu_used, c->cpu_limit, c->mem_used, c->mem_limit);
		if (c->mem_peak) {
			o.mem_peak_known = true;
			o.mem_peak = c->mem_peak;
		}
		struct engine_state st = { .day = TODAY,
			                   .cpu_high = c->cpu_high,
			                   .cpu_low = c->cpu_low,
			                   .mem_high = c->mem_high,
			                   .mem_low = c->mem_low };
		struct engine_decision d;
		decide(cfg, c->service, &o, &st, &d);
		printf("[%s] %s: %s\n", c->name, engine_reason_to_string(d.reason), d.explanation);
		assert_string_equal(engine_reason_to_string(d.reason), c->reason);
		assert_int_equal(d.change_cpu, c->cpu_to != NO_CPU);
		if (c->cpu_to != NO_CPU)
			assert_true(fabs(d.cpu_to - c->cpu_to) < 1e-9);
		else
			assert_true(d.cpu_to == d.cpu_from);
		assert_int_equal(d.change_mem, c->mem_to != 0);
		if (c->mem_to)
			assert_int_equal(d.mem_to, c->mem_to);
		if (c->explanation)
			assert_string_equal(d.explanation, c->explanation);
		if (c->contains && !strstr(d.explanation, c->contains))
			fail_msg("[%s] '%s' lacks '%s'", c->name, d.explanation, c->contains);
	}
}

static void test_counters(void **state)
{
	const struct rm_config *cfg = *state;
	struct engine_state st = { .day = TODAY };
	struct engine_decision d;
	struct observation hi = obs_make(0.9, 1.0, 200 * MiB, 512 * MiB);
	struct observation mid = obs_make(0.5, 1.0, 200 * MiB, 512 * MiB);
	struct observation at = obs_make(0.8, 1.0, 200 * MiB, 512 * MiB);

	decide(cfg, "web", &hi, &st, &d);
	decide(cfg, "web", &hi, &st, &d);
	assert_int_equal(st.cpu_high, 2);
	assert_int_equal(d.reason, ENGINE_REASON_HYSTERESIS);
	/* A reading inside the band resets; so does one exactly at the threshold. */
	decide(cfg, "web", &mid, &st, &d);
	assert_int_equal(st.cpu_high, 0);
	decide(cfg, "web", &hi, &st, &d);
	decide(cfg, "web", &hi, &st, &d);
	decide(cfg, "web", &at, &st, &d);
	assert_int_equal(st.cpu_high, 0);
	assert_int_equal(d.reason, ENGINE_REASON_NONE);
	/* Three in a row act. */
	for (int i = 0; i < 3; i++)
		decide(cfg, "web", &hi, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_CPU_HIGH);
	assert_true(d.change_cpu);
	/* Success resets every counter and starts the cooldown. */
	engine_apply_result(cfg, &st, &d, true, NOW, TODAY);
	assert_int_equal(st.cpu_high, 0);
	assert_int_equal(st.changes_today, 1);
	assert_int_equal(st.last_result, ENGINE_RESULT_APPLIED);
	/* High to low flips the counters. */
	struct observation lo = obs_make(0.1, 1.0, 200 * MiB, 512 * MiB);
	st.cpu_high = 2;
	decide(cfg, "web", &lo, &st, &d);
	assert_int_equal(st.cpu_high, 0);
	assert_int_equal(st.cpu_low, 1);
}

static void test_cooldown_edge(void **state)
{
	const struct rm_config *cfg = *state; /* cooldown_period 1800 */
	struct observation o = obs_make(0.9, 1.0, 200 * MiB, 512 * MiB);
	struct engine_decision d;
	struct engine_state st = { .day = TODAY,
		                   .cpu_high = 5,
		                   .last_result = ENGINE_RESULT_APPLIED,
		                   .last_change = NOW - 1799,
		                   .changes_today = 1 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_COOLDOWN);
	assert_false(engine_decision_changes(&d));
	assert_non_null(strstr(d.explanation, "held by cooldown, 1s of 1800s left"));
	assert_int_equal(st.cpu_high, 6); /* readings still count during cooldown */
	st.last_change = NOW - 1800;
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_CPU_HIGH);
	assert_true(d.change_cpu);
	/* After a failure the cooldown does not apply; the backoff does. */
	st = (struct engine_state){ .day = TODAY,
		                    .cpu_high = 5,
		                    .last_result = ENGINE_RESULT_FAILED,
		                    .failures = 1,
		                    .last_change = NOW - 10,
		                    .backoff_until = NOW + 1 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_BACKOFF);
	st.backoff_until = NOW;
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_CPU_HIGH);
}

static void test_backoff_doubles(void **state)
{
	const struct rm_config *cfg = *state; /* failure_backoff 1h */
	struct engine_decision d = { .change_cpu = true, .cpu_from = 1, .cpu_to = 1.25 };
	struct engine_state st = { .day = TODAY, .cpu_high = 4 };
	engine_apply_result(cfg, &st, &d, false, NOW, TODAY);
	assert_int_equal(st.failures, 1);
	assert_true(st.backoff_until == NOW + 3600);
	assert_int_equal(st.changes_today, 1);
	assert_int_equal(st.cpu_high, 4); /* evidence kept for the retry */
	engine_apply_result(cfg, &st, &d, false, NOW, TODAY);
	assert_true(st.backoff_until == NOW + 7200);
	for (int i = 0; i < 40; i++)
		engine_apply_result(cfg, &st, &d, false, NOW, TODAY);
	assert_true(st.backoff_until == NOW + 86400); /* capped at a day */
	assert_int_equal(st.changes_today, 42);
	engine_apply_result(cfg, &st, &d, true, NOW, TODAY);
	assert_int_equal(st.failures, 0);
	assert_true(st.backoff_until == 0);
	/* A decision without a change records nothing. */
	struct engine_decision none = { 0 };
	struct engine_state before = st;
	engine_apply_result(cfg, &st, &none, false, NOW, TODAY);
	assert_memory_equal(&st, &before, sizeof(st));
}

static void test_daily_cap(void **state)
{
	const struct rm_config *cfg = *state; /* max 6 a day */
	struct observation o = obs_make(0.9, 1.0, 200 * MiB, 512 * MiB);
	struct engine_decision d;
	struct engine_state st = { .day = TODAY, .cpu_high = 5, .changes_today = 6 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_DAILY_CAP);
	assert_non_null(strstr(d.explanation, "6 of 6 changes made today"));
	st.changes_today = 5;
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_CPU_HIGH);
	/* A new day starts a new count. */
	st = (struct engine_state){ .day = TODAY - 1, .cpu_high = 5, .changes_today = 6 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_CPU_HIGH);
	assert_int_equal(st.day, TODAY);
	assert_int_equal(st.changes_today, 0);
}

/* Decides at `now` with the day computed from TZ the way the daemon does. */
static enum engine_reason decide_at(const struct rm_config *cfg, double now,
                                    struct engine_state *st)
{
	struct observation o = obs_make(0.9, 1.0, 200 * MiB, 512 * MiB);
	o.time = now;
	struct engine_policy pol;
	engine_policy_for(cfg, "web", &pol);
	struct engine_input in = {
		.cfg = cfg, .policy = &pol, .obs = &o, .now = now, .day = engine_local_day(now)
	};
	struct engine_decision d;
	engine_decide(&in, st, st, &d);
	return d.reason;
}

static void test_midnight_rollover_tz(void **state)
{
	const struct rm_config *cfg = *state;
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	/* New York, EST (UTC-5): 2024-03-10 04:59:59 UTC is 23:59:59 on the 9th. */
	setenv("TZ", "America/New_York", 1);
	tzset();
	double before = 1710046799.0, after = before + 1;
	assert_int_equal(engine_local_day(before), engine_days_from_civil(2024, 3, 9));
	assert_int_equal(engine_local_day(after), engine_days_from_civil(2024, 3, 10));
	/* UTC midnight (19:00 local) is not a new day there. */
	double utc_midnight = 1709942400.0; /* 2024-03-09 00:00:00 UTC */
	assert_int_equal(engine_local_day(utc_midnight), engine_days_from_civil(2024, 3, 8));
	assert_int_equal(engine_local_day(utc_midnight - 1), engine_days_from_civil(2024, 3, 8));

	struct engine_state st = { .day = engine_local_day(before),
		                   .cpu_high = 5,
		                   .changes_today = 6 };
	assert_int_equal(decide_at(cfg, before, &st), ENGINE_REASON_DAILY_CAP);
	assert_int_equal(decide_at(cfg, after, &st), ENGINE_REASON_CPU_HIGH);
	assert_int_equal(st.changes_today, 0);

	/* Kolkata (UTC+5:30): 18:29:59 UTC is 23:59:59 local. */
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	before = 1710008999.0; /* 2024-03-09 18:29:59 UTC */
	after = before + 1;
	assert_int_equal(engine_local_day(before), engine_days_from_civil(2024, 3, 9));
	assert_int_equal(engine_local_day(after), engine_days_from_civil(2024, 3, 10));
	st = (struct engine_state){ .day = engine_local_day(before),
		                    .cpu_high = 5,
		                    .changes_today = 6 };
	assert_int_equal(decide_at(cfg, before, &st), ENGINE_REASON_DAILY_CAP);
	assert_int_equal(decide_at(cfg, after, &st), ENGINE_REASON_CPU_HIGH);

	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
	assert_int_equal(engine_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(engine_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(engine_days_from_civil(1969, 12, 31), -1);
}

static void test_unknown_data(void **state)
{
	const struct rm_config *cfg = *state;
	struct engine_decision d;
	struct engine_state st;
	struct observation o;

	/* Unknown CPU use is never 0% use: counters reset, no decrease. */
	o = obs_make(0.0, 1.0, 200 * MiB, 512 * MiB);
	o.cpu_used_known = false;
	st = (struct engine_state){ .day = TODAY, .cpu_low = 7 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_UNKNOWN_DATA);
	assert_false(engine_decision_changes(&d));
	assert_int_equal(st.cpu_low, 0);
	assert_non_null(strstr(d.explanation, "cpu use unknown"));

	o = obs_make(NAN, 1.0, 200 * MiB, 512 * MiB);
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_UNKNOWN_DATA);
	assert_non_null(strstr(d.explanation, "cpu use is invalid"));

	o = obs_make(0.5, INFINITY, 200 * MiB, 512 * MiB);
	decide(cfg, "web", &o, &st, &d);
	assert_non_null(strstr(d.explanation, "cpu limit is invalid"));

	o = obs_make(0.5, 1.0, 200 * MiB, 512 * MiB);
	o.mem_limit_known = false;
	st = (struct engine_state){ .day = TODAY, .mem_low = 7 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_UNKNOWN_DATA);
	assert_non_null(strstr(d.explanation, "mem limit unknown"));
	assert_int_equal(st.mem_low, 0);

	/* Partial data: the known resource still acts, the explanation names the other. */
	o = obs_make(0.9, 1.0, 200 * MiB, 512 * MiB);
	o.mem_used_known = false;
	st = (struct engine_state){ .day = TODAY, .cpu_high = 2 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_CPU_HIGH);
	assert_true(d.change_cpu);
	assert_false(d.change_mem);
	assert_int_equal(d.mem_reason, ENGINE_REASON_UNKNOWN_DATA);
	assert_non_null(strstr(d.explanation, "mem use unknown"));

	/* Whole-observation problems. */
	o = obs_make(0.1, 1.0, 200 * MiB, 512 * MiB);
	o.time = NOW - 601; /* 2 x check_interval */
	st = (struct engine_state){ .day = TODAY, .cpu_low = 7 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_UNKNOWN_DATA);
	assert_non_null(strstr(d.explanation, "stale"));
	assert_int_equal(st.cpu_low, 0);
	o.time = NOW - 600;
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_HYSTERESIS);

	o = obs_make(0.1, 1.0, 200 * MiB, 512 * MiB);
	o.n_containers = 0;
	decide(cfg, "web", &o, &st, &d);
	assert_non_null(strstr(d.explanation, "no container found"));

	o = obs_make(0.1, 1.0, 200 * MiB, 512 * MiB);
	o.uptime_known = false;
	snprintf(o.unknown_reason, sizeof(o.unknown_reason), "docker inspect failed");
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_UNKNOWN_DATA);
	assert_string_equal(
	        d.explanation,
	        "unknown data: uptime unknown; docker inspect failed; keeping current limits");

	/* Unknown throttling is simply not considered. */
	o = obs_make(0.5, 1.0, 200 * MiB, 512 * MiB);
	o.cpu_throttled_known = false;
	o.cpu_throttled = 0.99;
	st = (struct engine_state){ .day = TODAY, .throttled = 5 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_NONE);
	assert_int_equal(st.throttled, 0);
}

static void test_warming_up(void **state)
{
	const struct rm_config *cfg = *state; /* min_uptime 600 */
	struct observation o = obs_make(0.9, 1.0, 466 * MiB, 512 * MiB);
	struct engine_decision d;
	struct engine_state st = { .day = TODAY, .cpu_high = 5, .mem_high = 5 };
	o.uptime = 599;
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_WARMING_UP);
	assert_false(engine_decision_changes(&d));
	assert_int_equal(st.cpu_high, 0);
	assert_int_equal(st.mem_high, 0);
	assert_string_equal(d.explanation,
	                    "warming up: up 9m59s < min_uptime 10m; keeping current limits");
	o.uptime = 600;
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(st.cpu_high, 1);
}

static void test_oom(void **state)
{
	const struct rm_config *cfg = *state;
	struct observation o = obs_make(0.5, 1.0, 500 * MiB, 512 * MiB);
	struct engine_decision d;
	struct engine_state st = { .day = TODAY };
	o.oom_kills = 1;
	/* At once: no hysteresis. */
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_OOM);
	assert_int_equal(d.mem_to, 640 * MiB);
	assert_string_equal(d.explanation, "mem 1 OOM kill at 512 MiB: 512 -> 640 MiB");
	/* Through cooldown and warm-up (the OOM restarted the container). */
	st = (struct engine_state){ .day = TODAY,
		                    .last_result = ENGINE_RESULT_APPLIED,
		                    .last_change = NOW - 60,
		                    .changes_today = 1 };
	o.uptime = 5;
	o.mem_used_known = false; /* the new container has no use yet */
	o.oom_kills = 2;
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_OOM);
	assert_true(d.change_mem);
	assert_false(d.change_cpu);
	assert_int_equal(d.mem_to, 640 * MiB);
	/* Not through the daily cap, the backoff or max. */
	st.changes_today = 6;
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_DAILY_CAP);
	st = (struct engine_state){ .day = TODAY,
		                    .last_result = ENGINE_RESULT_FAILED,
		                    .failures = 1,
		                    .backoff_until = NOW + 100 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_BACKOFF);
	st = (struct engine_state){ .day = TODAY };
	o.mem_limit = 8192 * MiB;
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_AT_BOUND);
	assert_false(d.change_mem);
	o.mem_limit = 7000 * MiB;
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_OOM);
	assert_int_equal(d.mem_to, 8192 * MiB);
	/* An OOM with CPU due changes both. */
	o = obs_make(0.9, 1.0, 500 * MiB, 512 * MiB);
	o.oom_kills = 1;
	st = (struct engine_state){ .day = TODAY, .cpu_high = 2 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_OOM);
	assert_true(d.change_cpu && d.change_mem);
}

static void test_min_step(void **state)
{
	struct rm_config *cfg = *state;
	double dec = cfg->adjustment.decrease_factor;
	struct observation o = obs_make(0.1, 1.0, 100 * MiB, 1024 * MiB);
	struct engine_decision d;
	struct engine_state st;

	/* 5% of 1.00 cores is exactly the minimum step: worth it. */
	cfg->adjustment.decrease_factor = 0.95;
	st = (struct engine_state){ .day = TODAY, .cpu_low = 2 };
	decide(cfg, "db", &o, &st, &d);
	assert_int_equal(d.cpu_reason, ENGINE_REASON_CPU_LOW);
	assert_true(fabs(d.cpu_to - 0.95) < 1e-9);
	/* 3% is not. */
	cfg->adjustment.decrease_factor = 0.97;
	st = (struct engine_state){ .day = TODAY, .cpu_low = 2, .mem_low = 2 };
	decide(cfg, "db", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_BELOW_MIN_STEP);
	assert_false(engine_decision_changes(&d));
	assert_non_null(
	        strstr(d.explanation, "1.00 -> 0.97 cores is below the min step 0.05 cores"));
	assert_non_null(strstr(d.explanation, "1024 -> 993 MiB is below the min step 51.2 MiB"));
	/* The absolute floor: 5% of 0.12 is 0.006, but 0.01 cores is the least. */
	cfg->adjustment.decrease_factor = 0.95;
	o = obs_make(0.01, 0.12, 100 * MiB, 1024 * MiB);
	st = (struct engine_state){ .day = TODAY, .cpu_low = 2 };
	decide(cfg, "db", &o, &st, &d);
	assert_true(d.change_cpu); /* 0.12 -> 0.11 is exactly 0.01 */
	assert_true(fabs(d.cpu_to - 0.11) < 1e-9);
	cfg->adjustment.min_change_cpu = 0.02;
	st = (struct engine_state){ .day = TODAY, .cpu_low = 2 };
	decide(cfg, "db", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_BELOW_MIN_STEP);
	cfg->adjustment.min_change_cpu = 0.01;
	/* Memory: 4 MiB is the least. */
	o = obs_make(0.5, 1.0, 10 * MiB, 70 * MiB);
	st = (struct engine_state){ .day = TODAY, .mem_low = 2 };
	decide(cfg, "db", &o, &st, &d); /* 70 * 0.95 = 66.5 -> 67 MiB: 3 MiB */
	assert_int_equal(d.reason, ENGINE_REASON_BELOW_MIN_STEP);
	cfg->adjustment.decrease_factor = dec;
}

static void test_actions_disabled(void **state)
{
	struct rm_config *cfg = *state;
	struct observation hi = obs_make(0.9, 1.0, 200 * MiB, 512 * MiB);
	struct observation lo = obs_make(0.1, 1.0, 200 * MiB, 512 * MiB);
	struct engine_decision d;
	struct engine_state st = { .day = TODAY, .cpu_high = 5 };
	cfg->automation.actions.increase_on_high = false;
	decide(cfg, "web", &hi, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_DISABLED_ACTION);
	assert_non_null(strstr(d.explanation, "increase_on_high off"));
	cfg->automation.actions.increase_on_high = true;
	cfg->automation.actions.decrease_on_low = false;
	st = (struct engine_state){ .day = TODAY, .cpu_low = 5 };
	decide(cfg, "web", &lo, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_DISABLED_ACTION);
	assert_non_null(strstr(d.explanation, "decrease_on_low off"));
	cfg->automation.actions.decrease_on_low = true;
	st = (struct engine_state){ .day = TODAY, .cpu_low = 5 };
	decide(cfg, "web", &lo, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_CPU_LOW);
}

static void test_throttled(void **state)
{
	const struct rm_config *cfg = *state; /* cpu_throttle_high 0.25 */
	struct observation o = obs_make(0.5, 1.0, 200 * MiB, 512 * MiB);
	struct engine_decision d;
	struct engine_state st = { .day = TODAY };
	o.cpu_throttled_known = true;
	o.cpu_throttled = 0.4;
	decide(cfg, "web", &o, &st, &d);
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_HYSTERESIS);
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_THROTTLED);
	assert_true(fabs(d.cpu_to - 1.25) < 1e-9);
	assert_string_equal(d.explanation,
	                    "cpu throttled in 40.0% of periods > 25% for 3 checks (use 50.0% of "
	                    "1.00 cores): 1.00 -> 1.25 cores");
	/* Exactly at the threshold does not count. */
	o.cpu_throttled = 0.25;
	st = (struct engine_state){ .day = TODAY, .throttled = 2 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(st.throttled, 0);
	assert_int_equal(d.reason, ENGINE_REASON_NONE);
	/* Throttled beats low average use: never decreased while throttled. */
	o = obs_make(0.1, 1.0, 200 * MiB, 512 * MiB);
	o.cpu_throttled_known = true;
	o.cpu_throttled = 0.5;
	st = (struct engine_state){ .day = TODAY, .cpu_low = 2, .throttled = 2 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_THROTTLED);
	assert_true(d.cpu_to > d.cpu_from);
	/* Even one throttled reading holds a decrease. */
	st = (struct engine_state){ .day = TODAY, .cpu_low = 2 };
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(st.cpu_low, 3);
	assert_int_equal(d.reason, ENGINE_REASON_HYSTERESIS);
	assert_false(d.change_cpu);
	o.cpu_throttled = 0.1;
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_CPU_LOW);
}

static void test_manage_unlimited(void **state)
{
	struct rm_config *cfg = *state;
	struct observation o = obs_make(0.2, 0.0, 300 * MiB, 0);
	struct engine_decision d;
	struct engine_state st = { .day = TODAY };
	cfg->adjustment.manage_unlimited = true;
	decide(cfg, "web", &o, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_INITIAL_LIMIT);
	assert_true(fabs(d.cpu_to - 0.5) < 1e-9); /* baseline */
	assert_int_equal(d.mem_to, 375 * MiB);    /* use / memory_high beats baseline 256M */
	assert_string_equal(d.explanation, "cpu has no limit (use 0.20 cores): none -> 0.50 cores; "
	                                   "mem has no limit (use 300 MiB): none -> "
	                                   "375 MiB");
	/* No baseline: the minimum, unless use needs more. */
	o = obs_make(0.01, 0.0, 10 * MiB, 0);
	decide(cfg, "db", &o, &st, &d);
	assert_true(fabs(d.cpu_to - 0.1) < 1e-9);
	assert_int_equal(d.mem_to, 64 * MiB);
	cfg->adjustment.manage_unlimited = false;
}

static void test_optional_scale_down(void **state)
{
	const struct rm_config *cfg = *state;
	struct observation o = obs_make(0.5, 1.0, 400 * MiB, 1024 * MiB);
	struct engine_policy pol;
	struct engine_decision d;
	struct engine_state st = { .day = TODAY };
	engine_policy_for(cfg, "jaeger", &pol);
	assert_int_equal(pol.class, CLASS_OPTIONAL);
	assert_int_equal(pol.priority, 3);
	struct engine_input in = { .cfg = cfg,
		                   .policy = &pol,
		                   .obs = &o,
		                   .now = NOW,
		                   .day = TODAY,
		                   .host_short_mem = true };
	engine_decide(&in, &st, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_OPTIONAL_SCALE_DOWN);
	assert_int_equal(d.mem_to, 768 * MiB);
	assert_false(d.change_cpu);
	/* A normal service is not shrunk for the host. */
	engine_policy_for(cfg, "db", &pol);
	st = (struct engine_state){ .day = TODAY };
	engine_decide(&in, &st, &st, &d);
	assert_int_equal(d.reason, ENGINE_REASON_NONE);

	bool sc, sm;
	engine_host_short(4, 8 * UNITS_GIB, 4.5, 4 * UNITS_GIB, &sc, &sm);
	assert_true(sc);
	assert_false(sm);
	engine_host_short(0, 0, 100, 100 * UNITS_GIB, &sc, &sm);
	assert_false(sc || sm);
}

static void test_rank(void **state)
{
	struct engine_rank_item it[] = {
		{ "zeta", 2, ENGINE_REASON_CPU_HIGH, true, 0 },
		{ "alpha", 3, ENGINE_REASON_NONE, false, 1 },
		{ "beta", 1, ENGINE_REASON_CPU_LOW, true, 2 },
		{ "jaeger", 3, ENGINE_REASON_OPTIONAL_SCALE_DOWN, true, 3 },
		{ "gamma", 3, ENGINE_REASON_OOM, true, 4 },
		{ "alpha", 2, ENGINE_REASON_MEM_HIGH, true, 5 },
	};
	engine_rank(it, 6);
	const size_t want[] = { 4, 3, 2, 5, 0, 1 };
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(it[i].index, want[i]);
}

static void test_names(void **state)
{
	for (int i = 0; i < _ENGINE_REASON_MAX; i++) {
		const char *s = engine_reason_to_string(i);
		assert_string_not_equal(s, "invalid");
		assert_int_equal(engine_reason_from_string(s), i);
	}
	assert_int_equal(engine_reason_from_string("bogus"), -EINVAL);
	assert_int_equal(engine_reason_from_string(NULL), -EINVAL);
	assert_string_equal(engine_reason_to_string(_ENGINE_REASON_MAX), "invalid");
	for (int i = 0; i < _ENGINE_RESULT_MAX; i++)
		assert_int_equal(engine_result_from_string(engine_result_to_string(i)), i);
	assert_int_equal(engine_result_from_string("x"), -EINVAL);
}

static void test_policy(void **state)
{
	const struct rm_config *cfg = *state;
	struct engine_policy p;
	engine_policy_for(cfg, "traefik", &p);
	assert_int_equal(p.class, CLASS_CRITICAL);
	assert_true(p.cpu_floor == 0.5);
	assert_int_equal(p.mem_floor, 256 * MiB);
	assert_true(p.cpu_ceiling == 8.0);
	engine_policy_for(cfg, "db", &p);
	assert_int_equal(p.class, CLASS_NORMAL);
	assert_false(p.has_cpu_baseline);
	assert_true(p.cpu_floor == 0.1);
	assert_int_equal(p.priority, 2);
}

/* A manual deploy's values against the engine's bounds: refused with the
 * key and the bound named, inclusive at both ends. */
static void assert_manual(const struct rm_config *cfg, const char *svc, double cpu, uint64_t mem,
                          const char *want)
{
	char why[320] = "";
	int r = engine_check_manual(cfg, svc, cpu != NO_CPU, cpu, mem != UNKNOWN, mem, why,
	                            sizeof(why));
	if (!want) {
		if (r != 0)
			fail_msg("%s cpu %g mem %llu refused: %s", svc, cpu,
			         (unsigned long long)mem, why);
		return;
	}
	assert_int_equal(r, -ERANGE);
	if (strcmp(why, want) != 0)
		fail_msg("%s: got '%s', want '%s'", svc, why, want);
}

static void test_check_manual(void **state)
{
	const struct rm_config *cfg = *state;
	double cpu;
	/* db: no baseline, the adjustment bounds (0.1..8 cores, 64Mi..8Gi). */
	assert_manual(cfg, "db", 0.1, 64 * MiB, NULL);
	assert_manual(cfg, "db", 8.0, 8192 * MiB, NULL);
	assert_int_equal(units_parse_cpu("100m", &cpu), 0);
	assert_manual(cfg, "db", cpu, UNKNOWN, NULL);
	assert_manual(cfg, "db", 0.05, 64 * MiB, "cpu 0.05 is below adjustment.min_cpu (0.1)");
	assert_manual(cfg, "db", 8.5, 64 * MiB, "cpu 8.5 is above adjustment.max_cpu (8)");
	assert_manual(cfg, "db", 1, 64 * MiB - 1,
	              "memory 67108863B is below adjustment.min_memory (64Mi)");
	assert_manual(cfg, "db", NO_CPU, 32 * MiB,
	              "memory 32Mi is below adjustment.min_memory (64Mi)");
	assert_manual(cfg, "db", 1, 8193 * MiB,
	              "memory 8193Mi is above adjustment.max_memory (8Gi)");
	assert_manual(cfg, "db", NAN, UNKNOWN, "cpu nan is below adjustment.min_cpu (0.1)");
	/* Only what is asked is checked. */
	assert_manual(cfg, "db", NO_CPU, UNKNOWN, NULL);
	assert_manual(cfg, "db", NO_CPU, 128 * MiB, NULL);
	/* A baseline is the floor, for a critical service said so. */
	assert_manual(cfg, "web", 0.5, 256 * MiB, NULL);
	assert_manual(cfg, "web", 0.4, UNKNOWN, "cpu 0.4 is below services.baseline.web.cpu (0.5)");
	assert_manual(cfg, "traefik", 0.5, 256 * MiB, NULL);
	assert_manual(cfg, "traefik", 1, 128 * MiB,
	              "memory 128Mi is below services.baseline.traefik.memory (256Mi, the floor "
	              "of a critical service)");
	assert_manual(cfg, "traefik", 0.25, UNKNOWN,
	              "cpu 0.25 is below services.baseline.traefik.cpu (0.5, the floor of a "
	              "critical service)");
	/* An unknown name (a CLI deploy of any container) gets the adjustment bounds. */
	assert_manual(cfg, "other", 0.1, 64 * MiB, NULL);
	/* A short buffer gets the message cut, never overflowed. */
	char why[16];
	assert_int_equal(engine_check_manual(cfg, "db", true, 0.01, false, 0, why, sizeof(why)),
	                 -ERANGE);
	assert_int_equal(strlen(why), sizeof(why) - 1);
}

/* xorshift64*: deterministic randomness for the property tests. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}
static double rnd01(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}
static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static double rnd_cpu(void)
{
	switch (rnd_below(8)) {
	case 0:
		return 0;
	case 1:
		return NAN;
	case 2:
		return 20 * rnd01(); /* above max */
	default:
		return round(rnd01() * 400) / 100;
	}
}

static uint64_t rnd_mem(void)
{
	switch (rnd_below(8)) {
	case 0:
		return 0;
	case 1:
		return rnd(); /* anything */
	case 2:
		return (uint64_t)(rnd01() * 20000) * MiB;
	default:
		return (uint64_t)(rnd01() * 2048 * MiB);
	}
}

static struct observation rnd_obs(double now)
{
	struct observation o = {
		.time = now - (rnd_below(20) ? 0 : rnd01() * 2000),
		.n_containers = rnd_below(10) ? 1 + rnd_below(3) : 0,
		.cpu_used_known = rnd_below(10) != 0,
		.cpu_used = rnd_cpu(),
		.cpu_limit_known = rnd_below(10) != 0,
		.cpu_limit = rnd_cpu(),
		.cpu_throttled_known = rnd_below(2),
		.cpu_throttled = rnd_below(10) ? rnd01() : NAN,
		.mem_used_known = rnd_below(10) != 0,
		.mem_used = rnd_mem(),
		.mem_peak_known = rnd_below(2),
		.mem_peak = rnd_mem(),
		.mem_limit_known = rnd_below(10) != 0,
		.mem_limit = rnd_mem(),
		.uptime_known = rnd_below(20) != 0,
		.uptime = rnd_below(5) ? 3600 : rnd01() * 1200,
		.oom_known = rnd_below(2),
		.oom_kills = rnd_below(8) ? 0 : 1 + rnd_below(3),
	};
	return o;
}

static void check_decision(const struct engine_policy *p, const struct engine_decision *d)
{
	assert_true(d->explanation[0] != '\0');
	assert_int_equal(engine_decision_changes(d), engine_reason_is_change(d->reason));
	if (d->change_cpu) {
		assert_true(engine_reason_is_change(d->cpu_reason));
		assert_true(d->cpu_to >= p->cpu_floor - 1e-9);
		assert_true(d->cpu_to <= p->cpu_ceiling + 1e-9);
		assert_true(d->cpu_to != d->cpu_from);
		assert_true(fabs(d->cpu_to * 100 - round(d->cpu_to * 100)) < 1e-6);
		if (p->class == CLASS_CRITICAL) {
			assert_true(d->cpu_to >= d->cpu_from || d->cpu_from == 0);
			assert_true(d->cpu_to >= p->cpu_baseline - 1e-9);
		}
	} else {
		assert_true(d->cpu_to == d->cpu_from);
	}
	if (d->change_mem) {
		assert_true(engine_reason_is_change(d->mem_reason));
		assert_true(d->mem_to >= p->mem_floor);
		assert_true(d->mem_to <= p->mem_ceiling);
		assert_true(d->mem_to != d->mem_from);
		assert_int_equal(d->mem_to % MiB, 0);
		if (p->class == CLASS_CRITICAL) {
			assert_true(d->mem_to >= d->mem_from || d->mem_from == 0);
			assert_true(d->mem_to >= p->mem_baseline);
		}
	} else {
		assert_true(d->mem_to == d->mem_from);
	}
}

/* Many random single decisions from random states. */
static void test_property_single(void **state)
{
	struct rm_config *cfg = *state;
	static const char *const services[] = { "web", "traefik", "jaeger", "db" };
	for (int i = 0; i < 200000; i++) {
		struct engine_policy pol;
		const char *svc = services[rnd_below(4)];
		engine_policy_for(cfg, svc, &pol);
		struct observation o = rnd_obs(NOW);
		struct engine_state st = {
			.cpu_high = rnd_below(5),
			.cpu_low = rnd_below(5),
			.mem_high = rnd_below(5),
			.mem_low = rnd_below(5),
			.throttled = rnd_below(5),
			.last_change = NOW - rnd01() * 4000,
			.last_result = rnd_below(3),
			.failures = rnd_below(4),
			.backoff_until = NOW + (rnd01() - 0.5) * 4000,
			.day = TODAY - (int32_t)rnd_below(2),
			.changes_today = rnd_below(8),
		};
		cfg->adjustment.manage_unlimited = rnd_below(2);
		struct engine_input in = { .cfg = cfg,
			                   .policy = &pol,
			                   .obs = &o,
			                   .now = NOW,
			                   .day = TODAY,
			                   .host_short_cpu = rnd_below(2),
			                   .host_short_mem = rnd_below(2) };
		struct engine_decision d;
		struct engine_state next;
		engine_decide(&in, &st, &next, &d);
		check_decision(&pol, &d);
		/* What the engine decides, a manual deploy may ask for. */
		char why[320];
		assert_int_equal(engine_check_manual(cfg, svc, d.change_cpu, d.cpu_to, d.change_mem,
		                                     d.mem_to, why, sizeof(why)),
		                 0);
		if (engine_decision_changes(&d)) {
			/* A change always passed the gates. */
			assert_true(next.changes_today < cfg->adjustment.max_adjustments_per_day);
			assert_false(st.last_result == ENGINE_RESULT_FAILED &&
			             NOW < st.backoff_until);
		}
	}
	cfg->adjustment.manage_unlimited = false;
}

/* Long random runs with state carried along: the daily cap always holds. */
static void test_property_daily_cap(void **state)
{
	struct rm_config *cfg = *state;
	double cooldown = cfg->adjustment.cooldown_period;
	cfg->adjustment.cooldown_period = 0; /* make the cap the binding limit */
	static const char *const services[] = { "web", "traefik", "jaeger", "db" };
	for (int run = 0; run < 40; run++) {
		struct engine_policy pol;
		engine_policy_for(cfg, services[run % 4], &pol);
		struct engine_state st = { 0 };
		double cpu_limit = 1.0;
		uint64_t mem_limit = 512 * MiB;
		int32_t day = -1;
		unsigned per_day = 0;
		for (int step = 0; step < 3000; step++) {
			double now = NOW + step * 300.0;
			int32_t today = (int32_t)floor(now / 86400);
			struct observation o = rnd_obs(now);
			o.time = now;
			o.cpu_limit = cpu_limit;
			o.mem_limit = mem_limit;
			o.cpu_limit_known = o.mem_limit_known = true;
			o.oom_kills = rnd_below(4) ? 0 : 1;
			struct engine_input in = { .cfg = cfg,
				                   .policy = &pol,
				                   .obs = &o,
				                   .now = now,
				                   .day = today,
				                   .host_short_cpu = rnd_below(4) == 0 };
			struct engine_decision d;
			engine_decide(&in, &st, &st, &d);
			check_decision(&pol, &d);
			if (!engine_decision_changes(&d))
				continue;
			if (today != day) {
				day = today;
				per_day = 0;
			}
			per_day++;
			assert_true(per_day <= cfg->adjustment.max_adjustments_per_day);
			bool ok = rnd_below(3) != 0;
			engine_apply_result(cfg, &st, &d, ok, now, today);
			if (ok) {
				cpu_limit = d.cpu_to;
				mem_limit = d.mem_to;
			}
		}
	}
	cfg->adjustment.cooldown_period = cooldown;
}

/* The engine must be cheap: 5,000 services per check in well under a second. */
static void test_speed(void **state)
{
	const struct rm_config *cfg = *state;
	struct engine_policy pol;
	engine_policy_for(cfg, "web", &pol);
	struct observation o = obs_make(0.9, 1.0, 466 * MiB, 512 * MiB);
	struct engine_state st = { .day = TODAY, .cpu_high = 2, .mem_high = 2 };
	struct engine_input in = {
		.cfg = cfg, .policy = &pol, .obs = &o, .now = NOW, .day = TODAY
	};
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 50000; i++) {
		struct engine_state next;
		struct engine_decision d;
		engine_decide(&in, &st, &next, &d);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("50000 decisions in %.3fs (%.1f us each)\n", secs, secs / 50000 * 1e6);
	assert_true(secs < 5.0); /* generous for sanitizer builds */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_cooldown_edge),
		cmocka_unit_test(test_backoff_doubles),
		cmocka_unit_test(test_daily_cap),
		cmocka_unit_test(test_midnight_rollover_tz),
		cmocka_unit_test(test_unknown_data),
		cmocka_unit_test(test_warming_up),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_min_step),
		cmocka_unit_test(test_actions_disabled),
		cmocka_unit_test(test_throttled),
		cmocka_unit_test(test_manage_unlimited),
		cmocka_unit_test(test_optional_scale_down),
		cmocka_unit_test(test_rank),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_check_manual),
		cmocka_unit_test(test_property_single),
		cmocka_unit_test(test_property_daily_cap),
		cmocka_unit_test(test_speed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
