/* test_gate: the route of a decision (deploy, recommend, dry run, approval)
 * for every combination of switches, drift, and approval expiry: tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "rm/gate.h"
#include "rm/units.h"

#define MiB UNITS_MIB
#define NOW 1700000000.0

struct route_case {
	bool enabled, paused, dry_run, approval, changes;
	enum gate_route want;
};

static const struct route_case route_cases[] = {
	/* enabled paused dry  approval changes -> route */
	{ true, false, false, false, true, GATE_DEPLOY },
	{ true, false, false, true, true, GATE_APPROVAL },
	{ true, false, true, false, true, GATE_DRY_RUN },
	{ true, false, true, true, true, GATE_DRY_RUN }, /* dry run before approval */
	{ true, true, false, false, true, GATE_RECOMMEND },
	{ true, true, true, true, true, GATE_RECOMMEND }, /* paused before all */
	{ false, false, false, false, true, GATE_RECOMMEND },
	{ false, false, true, true, true, GATE_RECOMMEND },
	{ true, false, false, false, false, GATE_NONE },
	{ false, true, true, true, false, GATE_NONE },
};

static void test_route_table(void **state)
{
	for (size_t i = 0; i < sizeof(route_cases) / sizeof(route_cases[0]); i++) {
		const struct route_case *c = &route_cases[i];
		struct gate_mode m = { c->enabled, c->paused, c->dry_run, c->approval };
		struct engine_decision d = { .cpu_from = 1, .cpu_to = 1.25 };
		d.change_cpu = c->changes;
		enum gate_route r = gate_route(&m, &d);
		if (r != c->want)
			fail_msg("case %zu: %s, want %s", i, gate_route_to_string(r),
			         gate_route_to_string(c->want));
	}
	assert_string_equal(gate_route_to_string(GATE_DRY_RUN), "dry_run");
	assert_string_equal(gate_route_to_string(GATE_RECOMMEND), "recommended");
}

static void test_reapply_drift_table(void **state)
{
	static const struct {
		bool enabled, paused, dry_run, reapply, want;
	} cases[] = {
		{ true, false, false, true, true },   { true, false, false, false, false },
		{ false, false, false, true, false }, { true, true, false, true, false },
		{ true, false, true, true, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gate_mode m = { cases[i].enabled, cases[i].paused, cases[i].dry_run, false };
		if (gate_reapply_drift(&m, cases[i].reapply) != cases[i].want)
			fail_msg("case %zu", i);
	}
}

struct drift_case {
	const char *name;
	bool applied_known;
	double applied_cpu;
	uint64_t applied_mem;
	double since_change; /* seconds since the last change */
	bool deploying, limits_known;
	double cpu_limit;
	uint64_t mem_limit;
	int want;
	bool change_cpu, change_mem;
};

static const struct drift_case drift_cases[] = {
	{ "same limits", true, 1.0, 512 * MiB, 60, false, true, 1.0, 512 * MiB, 0, false, false },
	{ "within a hundredth and a MiB", true, 1.0, 512 * MiB, 60, false, true, 1.01,
	  512 * MiB + MiB, 0, false, false },
	{ "cpu drifted", true, 1.0, 512 * MiB, 60, false, true, 0.5, 512 * MiB, 1, true, false },
	{ "memory drifted", true, 1.0, 512 * MiB, 60, false, true, 1.0, 256 * MiB, 1, false, true },
	{ "both drifted", true, 1.0, 512 * MiB, 60, false, true, 2.0, 1024 * MiB, 1, true, true },
	{ "nothing applied yet", false, 0, 0, 60, false, true, 0.5, 256 * MiB, -1, false, false },
	{ "deploying", true, 1.0, 512 * MiB, 60, true, true, 0.5, 256 * MiB, -1, false, false },
	{ "limits unknown", true, 1.0, 512 * MiB, 60, false, false, 0.5, 256 * MiB, -1, false,
	  false },
	{ "too soon after the change", true, 1.0, 512 * MiB, 19, false, true, 0.5, 256 * MiB, -1,
	  false, false },
	{ "cpu unmanaged (0)", true, 0, 512 * MiB, 60, false, true, 0.5, 512 * MiB, 0, false,
	  false },
};

static void test_drift_table(void **state)
{
	for (size_t i = 0; i < sizeof(drift_cases) / sizeof(drift_cases[0]); i++) {
		const struct drift_case *c = &drift_cases[i];
		struct state_service ss = { 0 };
		ss.applied =
		        (struct state_limits){ c->applied_known, c->applied_cpu, c->applied_mem };
		ss.engine.last_change = NOW - c->since_change;
		struct observation o = { .cpu_limit_known = c->limits_known,
			                 .cpu_limit = c->cpu_limit,
			                 .mem_limit_known = c->limits_known,
			                 .mem_limit = c->mem_limit };
		struct engine_decision d = { 0 };
		int r = gate_check_drift(&ss, &o, c->deploying, NOW, 10, &d);
		if (r != c->want)
			fail_msg("%s: %d, want %d", c->name, r, c->want);
		if (r == 1) {
			assert_int_equal(d.change_cpu, c->change_cpu);
			assert_int_equal(d.change_mem, c->change_mem);
			assert_true(d.cpu_to == c->applied_cpu && d.cpu_from == c->cpu_limit);
			assert_true(d.mem_to == c->applied_mem && d.mem_from == c->mem_limit);
			assert_non_null(strstr(d.explanation, "drift: running limits"));
		}
	}
	struct observation o = { 0 };
	struct engine_decision d;
	assert_int_equal(gate_check_drift(NULL, &o, false, NOW, 10, &d), -1);
}

static char s_mem_low[] = "mem_low", s_expl[] = "mem 10% < 30%";

static void test_pending(void **state)
{
	struct state_pending p = { .created = NOW,
		                   .expires = NOW + 3600,
		                   .reason = s_mem_low,
		                   .explanation = s_expl,
		                   .from = { true, 0.5, 256 * MiB },
		                   .to = { true, 0.5, 192 * MiB } };
	static const struct {
		double expires, now;
		bool want;
	} cases[] = {
		{ NOW + 3600, NOW, false },        { NOW + 3600, NOW + 3599.9, false },
		{ NOW + 3600, NOW + 3600, true },  { NOW + 3600, NOW + 86400, true },
		{ 0, NOW + 365 * 86400.0, false }, /* never expires */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p.expires = cases[i].expires;
		if (gate_pending_expired(&p, cases[i].now) != cases[i].want)
			fail_msg("expiry case %zu", i);
	}
	struct engine_decision d;
	gate_pending_decision(&p, &d);
	assert_int_equal(d.reason, ENGINE_REASON_MEM_LOW);
	assert_false(d.change_cpu);
	assert_true(d.change_mem && d.mem_to == 192 * MiB && d.mem_from == 256 * MiB);
	assert_string_equal(d.explanation, "mem 10% < 30%");
	assert_true(gate_pending_same(&p, &d));
	d.mem_to = 160 * MiB;
	assert_false(gate_pending_same(&p, &d));
	assert_false(gate_pending_same(NULL, &d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_table),
		cmocka_unit_test(test_reapply_drift_table),
		cmocka_unit_test(test_drift_table),
		cmocka_unit_test(test_pending),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
