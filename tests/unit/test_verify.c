/* test_verify: the verdicts of the watch after a change, signal by signal,
 * with no false positive for a clean change or an old restart count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "rm/config.h"
#include "rm/units.h"
#include "rm/verify.h"

#define MiB UNITS_MIB
#define T0  1700000000.0

static struct rm_config *cfg;

static int setup(void **state)
{
	(void)state;
	struct config_report rep = { 0 };
	char *const envp[] = { NULL };
	const char *yaml =
	        "adjustment: {verify_window: 10m}\nthresholds: {consecutive_checks: 2}\n";
	int r = config_load_data(yaml, strlen(yaml), "test", envp, &cfg, &rep);
	config_report_free(&rep);
	return r;
}

static int teardown(void **state)
{
	(void)state;
	config_free(cfg);
	return 0;
}

struct vcase {
	const char *name;
	double cpu_from, cpu_to;
	unsigned mem_from, mem_to; /* MiB */
	struct verify_signals s0;  /* at the start */
	bool thr_before_known;
	double thr_before;
	struct verify_signals s; /* at the check */
	double at;               /* seconds after the start */
	enum verify_verdict want;
	enum verify_signal signal;
	const char *contains;
	unsigned steps; /* checks with the same signals (0: one) */
};

#define KNOWN(r, o)                                                                                \
	{                                                                                          \
		.restarts_known = true, .restarts = r, .ooms_known = true, .ooms = o               \
	}

static const struct vcase cases[] = {
	{ "OOM after a memory cut", 1, 1, 512, 384, KNOWN(0, 0), false, 0, KNOWN(0, 1), 240,
	  VERIFY_REGRESSED, VERIFY_SIGNAL_OOM, "1 OOM kill 4m after 512 -> 384 MiB" },
	{ "restart after a memory cut", 1, 1, 512, 384, KNOWN(2, 0), false, 0, KNOWN(3, 0), 60,
	  VERIFY_REGRESSED, VERIFY_SIGNAL_RESTART, "restart count 2 -> 3" },
	{ "an old restart count is not a regression", 1, 1, 512, 384, KNOWN(5, 1), false, 0,
	  KNOWN(5, 1), 300, VERIFY_WATCHING, VERIFY_SIGNAL_NONE, NULL },
	{ "clean window passes at its end",
	  1,
	  0.5,
	  512,
	  384,
	  KNOWN(5, 1),
	  true,
	  0.02,
	  { .restarts_known = true,
	    .restarts = 5,
	    .ooms_known = true,
	    .ooms = 1,
	    .health_known = true,
	    .throttled_known = true,
	    .throttled = 0.03 },
	  600,
	  VERIFY_PASSED,
	  VERIFY_SIGNAL_NONE,
	  "in 10m" },
	{ "health check failing",
	  1,
	  0.5,
	  512,
	  512,
	  KNOWN(0, 0),
	  false,
	  0,
	  { .health_known = true, .unhealthy = true },
	  60,
	  VERIFY_REGRESSED,
	  VERIFY_SIGNAL_HEALTH,
	  "health check failing 1m after 1.00 -> 0.50 cores" },
	{ "a health check already failing before the change is not the change's doing",
	  1,
	  0.5,
	  512,
	  512,
	  { .health_known = true, .unhealthy = true },
	  false,
	  0,
	  { .health_known = true, .unhealthy = true },
	  60,
	  VERIFY_WATCHING,
	  VERIFY_SIGNAL_NONE,
	  NULL },
	{ "throttling after a CPU cut",
	  1,
	  0.5,
	  512,
	  512,
	  KNOWN(0, 0),
	  true,
	  0.05,
	  { .throttled_known = true, .throttled = 0.41 },
	  300,
	  VERIFY_REGRESSED,
	  VERIFY_SIGNAL_THROTTLING,
	  "throttled in 41.0% of periods > 25% for 2 checks 5m after 1.00 -> 0.50 cores (5.0% "
	  "before)",
	  2 },
	{ "one throttled reading after a CPU cut is not yet a regression",
	  1,
	  0.5,
	  512,
	  512,
	  KNOWN(0, 0),
	  true,
	  0.05,
	  { .throttled_known = true, .throttled = 0.5 },
	  300,
	  VERIFY_WATCHING,
	  VERIFY_SIGNAL_NONE,
	  NULL },
	{ "throttling no worse than before the cut",
	  1,
	  0.5,
	  512,
	  512,
	  KNOWN(0, 0),
	  true,
	  0.5,
	  { .throttled_known = true, .throttled = 0.41 },
	  300,
	  VERIFY_WATCHING,
	  VERIFY_SIGNAL_NONE,
	  NULL },
	{ "throttling after a CPU raise is not the change's fault",
	  0.5,
	  1,
	  512,
	  512,
	  KNOWN(0, 0),
	  false,
	  0,
	  { .throttled_known = true, .throttled = 0.6 },
	  300,
	  VERIFY_WATCHING,
	  VERIFY_SIGNAL_NONE,
	  NULL },
	{ "OOM after a memory raise is the engine's business", 1, 1, 384, 512, KNOWN(0, 0), false,
	  0, KNOWN(0, 1), 300, VERIFY_WATCHING, VERIFY_SIGNAL_NONE, NULL },
	{ "unknown signals prove nothing",
	  1,
	  0.5,
	  512,
	  384,
	  KNOWN(0, 0),
	  false,
	  0,
	  { 0 },
	  601,
	  VERIFY_PASSED,
	  VERIFY_SIGNAL_NONE,
	  NULL },
};

static void test_verdicts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *c = &cases[i];
		struct verify_watch w;
		struct verify_result r;
		verify_begin(cfg, &w, T0, c->cpu_from, c->cpu_to, (uint64_t)c->mem_from * MiB,
		             (uint64_t)c->mem_to * MiB, &c->s0, c->thr_before_known, c->thr_before);
		assert_true(w.until == T0 + 600);
		for (unsigned k = 0; k < (c->steps ? c->steps : 1); k++)
			verify_step(cfg, &w, &c->s, T0 + c->at, &r);
		if (r.verdict != c->want || r.signal != c->signal)
			fail_msg("[%s] %s/%s, want %s/%s: %s", c->name,
			         verify_verdict_to_string(r.verdict),
			         verify_signal_to_string(r.signal),
			         verify_verdict_to_string(c->want),
			         verify_signal_to_string(c->signal), r.why);
		if (c->contains && !strstr(r.why, c->contains))
			fail_msg("[%s] '%s' lacks '%s'", c->name, r.why, c->contains);
		assert_int_equal(w.checks, c->steps ? c->steps : 1);
	}
	assert_int_equal(verify_verdict_from_string("regressed"), VERIFY_REGRESSED);
	assert_true(verify_verdict_from_string("bogus") < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
