/* test_simulate: the trace parser (every header, every error with its line)
 * and the replay mechanics (peak window, OOM restart, local-day cap, ranking). */
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
#include "rm/simulate.h"
#include "rm/units.h"
#include "rm/util.h"

#define MiB UNITS_MIB

static struct rm_config *cfg_from(const char *yaml)
{
	struct config_report rep = { 0 };
	struct rm_config *cfg = NULL;
	/* These cases replay the threshold rule (test_recommender.c has the
	 * percentile policy's), one check per row of a minute. */
	static char policy[] = "ADJUSTMENT_POLICY=threshold", interval[] = "CHECK_INTERVAL=60";
	char *const envp[] = { policy, interval, NULL };
	int r = config_load_data(yaml, strlen(yaml), "test", envp, &cfg, &rep);
	if (r < 0)
		config_report_print(&rep, "test", stderr);
	config_report_free(&rep);
	assert_int_equal(r, 0);
	return cfg;
}

static struct simulate_trace *parse_ok(const char *text)
{
	struct simulate_trace *t = NULL;
	char err[256] = "";
	int r = simulate_trace_parse(text, strlen(text), "t.csv", &t, err, sizeof(err));
	if (r < 0)
		fail_msg("unexpected parse error: %s", err);
	return t;
}

static void test_parse_headers(void **state)
{
	struct simulate_trace *t =
	        parse_ok("# a free comment\n"
	                 "# start: 2024-03-09T06:30:00Z\n"
	                 "# uptime: 1h\n"
	                 "# host: cpu=4 memory=8G\n"
	                 "# limits:\n"
	                 "#   web: cpu=500m memory=1.5G\n"
	                 "#   db: cpu=none memory=none\n"
	                 "#\n"
	                 "time,service,cpu_used,mem_used,oom_kills,throttled_ratio\r\n"
	                 "0,web,0.25,100Mi,0,0.5\r\n"
	                 "0,db,,\r\n"
	                 "60,web,0.3,104857600,,\r\n"
	                 "\n"
	                 "120,db,1,1G,2,\n");
	assert_true(t->start == 1709965800.0);
	assert_true(t->uptime == 3600);
	assert_true(t->host_cpus == 4);
	assert_int_equal(t->host_mem, 8 * UNITS_GIB);
	assert_int_equal(t->n_services, 2);
	assert_string_equal(t->services[0].name, "web");
	assert_true(t->services[0].has_cpu_limit && t->services[0].cpu_limit == 0.5);
	assert_int_equal(t->services[0].mem_limit, 1536 * MiB);
	assert_int_equal(t->services[0].limits_line, 6);
	assert_int_equal(t->services[0].first_line, 10);
	assert_true(t->services[1].has_cpu_limit && t->services[1].cpu_limit == 0);
	assert_true(t->services[1].has_mem_limit && t->services[1].mem_limit == 0);
	assert_int_equal(t->n_samples, 4);
	const struct simulate_sample *s = t->samples;
	assert_true(s[0].cpu_known && s[0].cpu_used == 0.25);
	assert_true(s[0].mem_known && s[0].mem_used == 100 * MiB);
	assert_true(s[0].oom_known && s[0].oom_kills == 0);
	assert_true(s[0].throttled_known && s[0].throttled == 0.5);
	assert_false(s[1].cpu_known || s[1].mem_known || s[1].throttled_known);
	assert_true(s[1].oom_known);  /* no column: no OOM kills */
	assert_false(s[2].oom_known); /* empty column: unknown */
	assert_int_equal(s[3].oom_kills, 2);
	assert_int_equal(s[3].line, 14);
	simulate_trace_free(t);

	/* Defaults: no header at all. */
	t = parse_ok("5,web,1,1M");
	assert_true(t->start == 0 && t->uptime == 86400 && t->host_cpus == 0);
	assert_false(t->services[0].has_cpu_limit);
	simulate_trace_free(t);
	t = parse_ok("# start: 1700000000\n0,web,1,1M\n");
	assert_true(t->start == 1700000000.0);
	simulate_trace_free(t);
}

struct bad_case {
	const char *text;
	const char *err;
};

static const struct bad_case bad_cases[] = {
	{ "", "t.csv: no samples" },
	{ "# only comments\n", "t.csv: no samples" },
	{ "0,web,1\n", "t.csv:1: expected 4 to 7 fields" },
	{ "0,web,1,1M,0,0,7,8,9,10\n", "t.csv:1: expected 4 to 7 fields" },
	{ "x,web,1,1M\n", "t.csv:1: time 'x': not a number" },
	{ "-1,web,1,1M\n", "t.csv:1: time '-1': negative" },
	{ "nan,web,1,1M\n", "t.csv:1: time 'nan': NaN is not a value" },
	{ "0,web,NaN,1M\n", "t.csv:1: cpu_used 'NaN': NaN is not a value" },
	{ "0,web,-0.1,1M\n", "t.csv:1: cpu_used '-0.1': negative" },
	{ "0,web,inf,1M\n", "t.csv:1: cpu_used 'inf': infinity" },
	{ "0,web,1,-5M\n", "t.csv:1: mem_used '-5M': negative" },
	{ "0,web,1,nan\n", "t.csv:1: mem_used 'nan': NaN" },
	{ "0,web,1,1M,-1\n", "t.csv:1: oom_kills '-1'" },
	{ "0,web,1,1M,0,1.5\n", "t.csv:1: throttled_ratio '1.5': a share of periods" },
	{ "0,web,1,1M,0,-0.1\n", "t.csv:1: throttled_ratio '-0.1': negative" },
	{ "0,web,1,1M,0,0,-1\n", "t.csv:1: cpu_demand '-1'" },
	{ "0,web,1,1M,0,0,1,2\n", "t.csv:1: expected 4 to 7 fields" },
	{ "0,we b,1,1M\n", "t.csv:1: invalid service name 'we b'" },
	{ "0,,1,1M\n", "t.csv:1: invalid service name ''" },
	{ "60,web,1,1M\n0,web,1,1M\n", "t.csv:2: time 0 goes backwards" },
	{ "0,web,1,1M\n0,web,1,1M\n", "t.csv:2: service 'web' has two rows at time 0" },
	{ "time,service,cpu,mem_used\n", "t.csv:1: header column 3 is 'cpu'" },
	{ "# start: yesterday\n0,web,1,1M\n", "t.csv:1: start: expects" },
	{ "# start: 2024-13-01T00:00:00Z\n", "t.csv:1: start: expects" },
	{ "# uptime: long\n", "t.csv:1: uptime: expects a duration" },
	{ "# host: cpu=many\n", "t.csv:1: host: cpu 'many': not a number" },
	{ "# host: disk=1\n", "t.csv:1: host: unknown key 'disk'" },
	{ "# limits: web\n", "t.csv:1: limits: takes one indented" },
	{ "# limits:\n#   web cpu=1\n", "t.csv:2: expected '#   service: cpu=... memory=...'" },
	{ "# limits:\n#   web: cpu=0\n", "t.csv:2: limits of 'web': cpu '0': must be above 0" },
	{ "# limits:\n#   web: memory=0\n", "t.csv:2: limits of 'web': memory '0': must be" },
	{ "# limits:\n#   web: cpu\n", "t.csv:2: limits of 'web': expected key=value" },
	{ "# limits:\n#   web: cpu=1\n#   web: cpu=2\n",
	  "t.csv:3: service 'web' already has limits (line 2)" },
	{ "# limits:\n#   a/b: cpu=1\n", "t.csv:2: invalid service name 'a/b'" },
};

static void test_parse_errors(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct simulate_trace *t = NULL;
		char err[256] = "";
		int r = simulate_trace_parse(c->text, strlen(c->text), "t.csv", &t, err,
		                             sizeof(err));
		if (r != -EINVAL || t != NULL)
			fail_msg("case %zu parsed: %s", i, c->text);
		if (strncmp(err, c->err, strlen(c->err)) != 0 && !strstr(err, c->err))
			fail_msg("case %zu: '%s' does not start with '%s'", i, err, c->err);
	}
	/* NUL bytes and overlong lines. */
	struct simulate_trace *t = NULL;
	char err[256];
	assert_int_equal(simulate_trace_parse("0,web\0,1,1M\n", 12, "t.csv", &t, err, sizeof(err)),
	                 -EINVAL);
	assert_non_null(strstr(err, "NUL bytes"));
	char *big = malloc(10000);
	memset(big, '#', 9999);
	big[9999] = '\0';
	assert_int_equal(simulate_trace_parse(big, 9999, "t.csv", &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.csv:1: line longer than"));
	free(big);
	/* A missing file. */
	assert_int_equal(simulate_trace_load("/nonexistent/x.csv", &t, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.csv: cannot read the trace"));
}

static struct simulate_result *run_ok(const struct rm_config *cfg, const struct simulate_trace *t,
                                      bool all)
{
	struct simulate_result *res = NULL;
	char err[256] = "";
	if (simulate_run(cfg, t, all, &res, err, sizeof(err)) < 0)
		fail_msg("simulate_run: %s", err);
	return res;
}

/* A memory decrease stays above the peak seen within trend_window, and drops
 * once the peak has left the window. */
static void test_peak_window(void **state)
{
	struct rm_config *cfg = cfg_from("monitoring: {trend_window: 10m}\n"
	                                 "thresholds: {min_uptime: 0}\n"
	                                 "adjustment: {cooldown_period: 0, verify_window: 0}\n"
	                                 "services: {monitored: [web], critical: [], optional: [], "
	                                 "priority: {}, baseline: {}}\n");
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_puts(&sb, "# limits:\n#   web: cpu=1 memory=2000M\n");
	/* 900 MiB at t=0, then 100 MiB. */
	for (int i = 0; i < 40; i++)
		strbuf_printf(&sb, "%d,web,0.5,%dM\n", i * 60, i == 0 ? 900 : 100);
	struct simulate_trace *t = parse_ok(sb.data);
	struct simulate_result *res = run_ok(cfg, t, false);
	assert_true(res->n_events >= 2);
	/* First decrease at the third low reading (t=180): 2000 * 0.75 = 1500. */
	assert_true(res->events[0].time == 180);
	assert_int_equal(res->events[0].decision.mem_to, 1500 * MiB);
	/* Then 1125, then held at 900 * 1.15 = 1035 while t=0 is in the window. */
	assert_int_equal(res->events[1].decision.mem_to, 1125 * MiB);
	assert_int_equal(res->events[2].decision.mem_to, 1035 * MiB);
	assert_non_null(strstr(res->events[2].decision.explanation, "(peak 900 MiB + 15%)"));
	/* After 10 minutes the 900 MiB reading is gone and the decreases go on. */
	bool lower = false;
	for (size_t i = 3; i < res->n_events; i++)
		if (res->events[i].decision.mem_to < 1035 * MiB) {
			assert_true(res->events[i].time > 600);
			lower = true;
			break;
		}
	assert_true(lower);
	assert_int_equal(res->summaries[0].samples, 40);
	simulate_result_free(res);
	simulate_trace_free(t);
	strbuf_free(&sb);
	config_free(cfg);
}

/* An OOM restarts the container: the next checks are warming up. */
static void test_oom_restart(void **state)
{
	struct rm_config *cfg = cfg_from("services: {monitored: [web], critical: [], optional: [], "
	                                 "priority: {}, baseline: {}}\n");
	struct simulate_trace *t = parse_ok("# limits:\n#   web: cpu=1 memory=512M\n"
	                                    "0,web,0.5,300M,0\n"
	                                    "60,web,0.5,500M,1\n"
	                                    "120,web,0.5,100M,0\n"
	                                    "720,web,0.5,100M,0\n");
	struct simulate_result *res = run_ok(cfg, t, true);
	assert_int_equal(res->n_events, 4);
	assert_int_equal(res->events[1].decision.reason, ENGINE_REASON_OOM);
	assert_int_equal(res->events[1].decision.mem_to, 640 * MiB);
	assert_int_equal(res->events[2].decision.reason, ENGINE_REASON_WARMING_UP);
	/* Judged again after min_uptime: the first low reading counts. */
	assert_int_equal(res->events[3].decision.reason, ENGINE_REASON_HYSTERESIS);
	assert_int_equal(res->summaries[0].final_mem, 640 * MiB);
	assert_int_equal(res->summaries[0].changes, 1);
	simulate_result_free(res);
	simulate_trace_free(t);
	config_free(cfg);
}

/* The daily cap follows the local day of TZ: in Kolkata the day turns at
 * 18:30 UTC. */
static void test_local_day_cap(void **state)
{
	struct rm_config *cfg =
	        cfg_from("thresholds: {min_uptime: 0}\n"
	                 "adjustment: {cooldown_period: 0, max_adjustments_per_day: 1}\n"
	                 "services: {monitored: [web], critical: [], optional: [], priority: {}, "
	                 "baseline: {}}\n");
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_puts(&sb, "# start: 2024-03-09T18:00:00Z\n# limits:\n#   web: cpu=0.5 memory=1G\n");
	for (int i = 0; i < 60; i++) /* always 100% of whatever the limit is */
		strbuf_printf(&sb, "%d,web,8,500M\n", i * 60);
	struct simulate_trace *t = parse_ok(sb.data);
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	struct simulate_result *res = run_ok(cfg, t, false);
	assert_int_equal(res->n_events, 2);
	assert_true(res->events[0].time == 120);  /* third reading */
	assert_true(res->events[1].time == 1800); /* 18:30 UTC = local midnight */
	simulate_result_free(res);
	/* In UTC the same trace stays within one day. */
	setenv("TZ", "UTC", 1);
	tzset();
	res = run_ok(cfg, t, false);
	assert_int_equal(res->n_events, 1);
	simulate_result_free(res);
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
	simulate_trace_free(t);
	strbuf_free(&sb);
	config_free(cfg);
}

/* Several services due in one check come out by priority; slack and
 * over-limit shares are measured against the limits in force. */
static void test_rank_and_summary(void **state)
{
	struct rm_config *cfg = cfg_from("thresholds: {min_uptime: 0, consecutive_checks: 1}\n"
	                                 "services:\n"
	                                 "  monitored: [low, high, mid]\n"
	                                 "  critical: []\n"
	                                 "  optional: []\n"
	                                 "  baseline: {}\n"
	                                 "  priority: {low: 3, high: 1, mid: 2}\n");
	struct simulate_trace *t = parse_ok("# limits:\n"
	                                    "#   low: cpu=1 memory=1G\n"
	                                    "#   high: cpu=1 memory=1G\n"
	                                    "#   mid: cpu=1 memory=1G\n"
	                                    "0,low,0.9,500M\n"
	                                    "0,high,0.9,500M\n"
	                                    "0,mid,0.9,500M\n"
	                                    "60,low,1.5,500M\n"
	                                    "60,high,,500M\n"
	                                    "60,mid,0.5,500M\n");
	struct simulate_result *res = run_ok(cfg, t, false);
	assert_int_equal(res->n_events, 3);
	assert_string_equal(t->services[res->events[0].service].name, "high");
	assert_string_equal(t->services[res->events[1].service].name, "mid");
	assert_string_equal(t->services[res->events[2].service].name, "low");
	/* low: 0.9 of 1.0 then 1.5 of 1.25 (over the limit: slack 0, not -20%). */
	const struct simulate_summary *s = &res->summaries[0];
	assert_int_equal(s->cpu_samples, 2);
	assert_int_equal(s->cpu_over, 1);
	assert_true(fabs(s->cpu_slack_mean - (0.1 + 0) / 2) < 1e-9);
	assert_true(fabs(s->cpu_slack_p95 - 0.1) < 1e-9);
	assert_true(fabs(s->final_cpu - 1.25) < 1e-9);
	/* high: the unknown reading is not measured. */
	assert_int_equal(res->summaries[1].cpu_samples, 1);
	assert_int_equal(res->summaries[1].samples, 2);

	FILE *f = tmpfile();
	assert_int_equal(simulate_write_table(res, f), 0);
	assert_int_equal(simulate_write_json(res, f), 0);
	fclose(f);
	simulate_result_free(res);
	simulate_trace_free(t);
	config_free(cfg);
}

/* The watch after a change (closed loop): a memory decrease followed by an
 * OOM kill within adjustment.verify_window is reverted to the limit before
 * it, and memory is not decreased again for adjustment.revert_backoff. */
static void test_revert_after_oom(void **state)
{
	(void)state;
	const char *yaml = "monitoring: {check_interval: 300}\n"
	                   "thresholds: {min_uptime: 0}\n"
	                   "adjustment: {policy: percentile, verify_window: 30m, "
	                   "revert_backoff: 6h}\n"
	                   "recommender: {min_history: 1h, half_life: 1h, decrease_interval: 10m}\n"
	                   "services: {monitored: [web], critical: [], optional: [], baseline: {}, "
	                   "priority: {}}\n";
	struct config_report rep = { 0 };
	struct rm_config *cfg = NULL;
	char *const envp[] = { NULL };
	assert_int_equal(config_load_data(yaml, strlen(yaml), "test", envp, &cfg, &rep), 0);
	config_report_free(&rep);
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_puts(&sb, "# limits:\n#   web: cpu=2 memory=1024M\n"
	                 "time,service,cpu_used,mem_used,oom_kills,throttled_ratio,cpu_demand\n");
	/* 300 MiB for 70 minutes, then 700 MiB: above the cut, below the old limit. */
	for (int i = 0; i < 48; i++)
		strbuf_printf(&sb, "%d,web,0.2,%dM,,,0.2\n", i * 300, i < 14 ? 300 : 700);
	struct simulate_trace *t = parse_ok(sb.data);
	struct simulate_result *res = run_ok(cfg, t, true);
	double cut = -1, reverted = -1;
	for (size_t i = 0; i < res->n_events; i++) {
		const struct engine_decision *d = &res->events[i].decision;
		if (cut < 0 && d->change_mem && d->mem_to < 1024 * MiB)
			cut = res->events[i].time;
		if (d->reason == ENGINE_REASON_REVERTED && d->change_mem) {
			assert_int_equal(d->mem_to, 1024 * MiB);
			assert_non_null(strstr(d->explanation, "reverted (oom_kill)"));
			reverted = res->events[i].time;
		}
		if (reverted >= 0 && res->events[i].time > reverted)
			assert_false(d->change_mem && d->mem_to < d->mem_from);
	}
	assert_true(cut > 0);
	assert_true(reverted > cut && reverted - cut <= 1800);
	assert_int_equal(res->summaries[0].reverts, 1);
	simulate_result_free(res);
	simulate_trace_free(t);
	strbuf_free(&sb);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_headers),    cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_peak_window),      cmocka_unit_test(test_oom_restart),
		cmocka_unit_test(test_local_day_cap),    cmocka_unit_test(test_rank_and_summary),
		cmocka_unit_test(test_revert_after_oom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
