/* test_engine_safety: the safety rules a deliberate bug once slipped past
 * (issue 17): the memory floor follows current use, an OOM raise obeys
 * increase_on_high, the backoff cap under a failure_backoff longer than a
 * day, and the unit T is 1024-based. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/config.h"
#include "rm/engine.h"
#include "rm/units.h"

#define MiB   UNITS_MIB
#define NOW   1700000000.0
#define TODAY 19675

static struct rm_config *load(const char *yaml)
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

static const char yaml[] = "services:\n"
                           "  monitored: [web, jaeger]\n"
                           "  optional: [jaeger]\n";

static struct observation obs(double cpu, double cpu_limit, uint64_t mem, uint64_t mem_limit)
{
	return (struct observation){
		.time = NOW,
		.n_containers = 1,
		.cpu_used_known = true,
		.cpu_used = cpu,
		.cpu_limit_known = true,
		.cpu_limit = cpu_limit,
		.mem_used_known = true,
		.mem_used = mem,
		.mem_limit_known = true,
		.mem_limit = mem_limit,
		.uptime_known = true,
		.uptime = 3600,
		.oom_known = true,
	};
}

static void decide(const struct rm_config *cfg, const char *svc, const struct observation *o,
                   bool host_short_mem, struct engine_state *st, struct engine_decision *d)
{
	struct engine_policy pol;
	engine_policy_for(cfg, svc, &pol);
	struct engine_input in = { .cfg = cfg,
		                   .policy = &pol,
		                   .obs = o,
		                   .now = NOW,
		                   .day = TODAY,
		                   .host_short_mem = host_short_mem };
	engine_decide(&in, st, st, d);
}

/* An optional service using 900 of 1024 MiB on a host short of memory is
 * not cut below its use + the safety margin (15 %): 768 MiB would OOM it. */
static void test_memory_floor_follows_current_use(void **state)
{
	struct rm_config *cfg = load(yaml);
	uint64_t floor = (uint64_t)(900.0 * MiB * (1.0 + cfg->adjustment.memory_safety_margin));
	struct observation o = obs(0.5, 1.0, 900 * MiB, 1024 * MiB);
	for (int peak = 0; peak < 3; peak++) {
		/* Peak unknown, lower than use (another window), or equal. */
		o.mem_peak_known = peak > 0;
		o.mem_peak = peak == 1 ? 600 * MiB : 900 * MiB;
		struct engine_state st = { .day = TODAY, .mem_low = 10 };
		struct engine_decision d;
		decide(cfg, "jaeger", &o, true, &st, &d);
		if (d.change_mem)
			assert_true(d.mem_to >= floor);
	}
	/* The rule still shrinks what use leaves room for. */
	o = obs(0.5, 1.0, 400 * MiB, 1024 * MiB);
	struct engine_state st = { .day = TODAY };
	struct engine_decision d;
	decide(cfg, "jaeger", &o, true, &st, &d);
	assert_true(d.change_mem && d.mem_to < 1024 * MiB);
	assert_true(d.mem_to >= (uint64_t)(400.0 * MiB * 1.15));
	config_free(cfg);
}

/* While the last change is watched (verify.h), no decrease: its verdict
 * must be about that change alone. An increase (an OOM) still goes ahead,
 * and the hold ends with the watch. */
static void test_no_decrease_while_watched(void **state)
{
	struct rm_config *cfg = load("adjustment: {policy: threshold}\n"
	                             "services: {monitored: [web]}\n");
	struct observation low = obs(0.05, 1.0, 100 * MiB, 1024 * MiB);
	struct engine_state st = {
		.day = TODAY, .cpu_low = 10, .mem_low = 10, .watch_until = NOW + 120
	};
	struct engine_decision d;
	decide(cfg, "web", &low, false, &st, &d);
	assert_false(d.change_cpu || d.change_mem);
	assert_int_equal(d.reason, ENGINE_REASON_COOLDOWN);
	assert_non_null(strstr(d.explanation, "held while the last change is watched, 2m left"));
	struct observation oom = obs(0.5, 1.0, 500 * MiB, 512 * MiB);
	oom.oom_kills = 1;
	decide(cfg, "web", &oom, false, &st, &d);
	assert_true(d.change_mem && d.mem_to > 512 * MiB);
	st = (struct engine_state){
		.day = TODAY, .cpu_low = 10, .mem_low = 10, .watch_until = NOW - 1
	};
	decide(cfg, "web", &low, false, &st, &d);
	assert_true(d.change_cpu || d.change_mem);
	config_free(cfg);
}

/* docs/engine.md: with increase_on_high off, an OOM does not raise memory. */
static void test_oom_raise_held_by_increase_switch(void **state)
{
	struct rm_config *cfg = load(yaml);
	struct observation o = obs(0.5, 1.0, 500 * MiB, 512 * MiB);
	o.oom_kills = 1;
	struct engine_state st = { .day = TODAY };
	struct engine_decision d;
	decide(cfg, "web", &o, false, &st, &d);
	assert_true(d.change_mem && d.mem_to > 512 * MiB); /* on: raised */
	cfg->automation.actions.increase_on_high = false;
	st = (struct engine_state){ .day = TODAY };
	decide(cfg, "web", &o, false, &st, &d);
	assert_false(d.change_mem && d.mem_to > d.mem_from);
	assert_false(d.change_cpu && d.cpu_to > d.cpu_from);
	config_free(cfg);
}

/* The backoff never exceeds a day, unless failure_backoff itself is longer:
 * then it is failure_backoff, not a day and not a doubling of it. */
static void test_backoff_cap_with_long_failure_backoff(void **state)
{
	struct rm_config *cfg = load("adjustment: {failure_backoff: 48h}\n"
	                             "services: {monitored: [web]}\n");
	struct engine_decision d = { .change_cpu = true, .cpu_from = 1, .cpu_to = 1.25 };
	struct engine_state st = { .day = TODAY };
	engine_apply_result(cfg, &st, &d, false, NOW, TODAY);
	assert_true(st.backoff_until == NOW + 48 * 3600);
	for (int i = 0; i < 5; i++) {
		engine_apply_result(cfg, &st, &d, false, NOW, TODAY);
		assert_true(st.backoff_until == NOW + 48 * 3600);
	}
	config_free(cfg);
	cfg = load("adjustment: {failure_backoff: 10h}\nservices: {monitored: [web]}\n");
	st = (struct engine_state){ .day = TODAY };
	engine_apply_result(cfg, &st, &d, false, NOW, TODAY);
	assert_true(st.backoff_until == NOW + 10 * 3600);
	engine_apply_result(cfg, &st, &d, false, NOW, TODAY);
	assert_true(st.backoff_until == NOW + 20 * 3600);
	engine_apply_result(cfg, &st, &d, false, NOW, TODAY);
	assert_true(st.backoff_until == NOW + 24 * 3600);
	config_free(cfg);
}

/* T and Ti are 1024^4 bytes, as K, M and G are powers of 1024. */
static void test_unit_t_is_binary(void **state)
{
	uint64_t v = 0;
	assert_int_equal(units_parse_memory("1T", &v), 0);
	assert_true(v == 1024ull * 1024 * 1024 * 1024);
	assert_int_equal(units_parse_memory("2Ti", &v), 0);
	assert_true(v == 2ull << 40);
	assert_int_equal(units_parse_memory("1G", &v), 0);
	assert_true(v == 1ull << 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_floor_follows_current_use),
		cmocka_unit_test(test_oom_raise_held_by_increase_switch),
		cmocka_unit_test(test_no_decrease_while_watched),
		cmocka_unit_test(test_backoff_cap_with_long_failure_backoff),
		cmocka_unit_test(test_unit_t_is_binary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
