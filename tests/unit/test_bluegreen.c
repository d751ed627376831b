/* test_bluegreen: the pure blue-green state machine and crash recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rm/bluegreen.h"

/* Green joins the router's pool once healthy (list_green), blue leaves it
 * (unlist_blue) after green is verified and before the drain: a failure up
 * to the drain still goes back to blue. */
static const enum bg_phase forward[] = { BG_PREPARE,      BG_CREATE_GREEN, BG_START_GREEN,
	                                 BG_WAIT_HEALTHY, BG_LIST_GREEN,   BG_SETTLE,
	                                 BG_VERIFY,       BG_UNLIST_BLUE,  BG_DRAIN_BLUE,
	                                 BG_STOP_BLUE,    BG_REMOVE_BLUE,  BG_FINALIZE,
	                                 BG_DONE };

static void test_forward_path(void **state)
{
	struct bg_machine m;
	bg_init(&m, 100, true);
	for (size_t i = 1; i < sizeof(forward) / sizeof(forward[0]); i++) {
		assert_int_equal(bg_step(&m, BG_EV_DONE, 100 + (double)i), forward[i]);
		assert_true(m.entered == 100 + (double)i);
		assert_true(bg_table_edge(forward[i - 1], forward[i]));
	}
	assert_true(bg_phase_is_terminal(m.phase));
	assert_true(m.blue_stopped);
	/* Nothing leaves a terminal phase. */
	for (int ev = 0; ev < _BG_EVENT_MAX; ev++)
		assert_int_equal(bg_step(&m, ev, 200), -22);
	assert_int_equal(m.phase, BG_DONE);
}

static void test_failure_in_each_phase(void **state)
{
	for (size_t i = 0; i + 1 < sizeof(forward) / sizeof(forward[0]); i++) {
		for (int ev = BG_EV_FAILED; ev < _BG_EVENT_MAX; ev++) {
			struct bg_machine m;
			bg_init(&m, 0, true);
			for (size_t j = 0; j < i; j++)
				assert_true(bg_step(&m, BG_EV_DONE, 1) >= 0);
			int next = bg_step(&m, ev, 2);
			enum bg_phase want = forward[i] == BG_PREPARE    ? BG_ROLLED_BACK
			                     : forward[i] == BG_FINALIZE ? BG_FAILED
			                                                 : BG_ROLLBACK;
			assert_int_equal(next, want);
			assert_int_equal(m.failed_in, forward[i]);
			assert_int_equal(m.failed_by, ev);
			if (want == BG_ROLLBACK) {
				/* An abort never interrupts an undo. */
				assert_int_equal(bg_step(&m, BG_EV_ABORT, 3), -22);
				assert_int_equal(bg_step(&m, BG_EV_DONE, 3), BG_ROLLED_BACK);
			}
			/* With --no-rollback the failure is final, except in prepare. */
			bg_init(&m, 0, false);
			for (size_t j = 0; j < i; j++)
				bg_step(&m, BG_EV_DONE, 1);
			next = bg_step(&m, ev, 2);
			assert_int_equal(next,
			                 forward[i] == BG_PREPARE ? BG_ROLLED_BACK : BG_FAILED);
		}
	}
}

static void test_rollback_failure_is_failed(void **state)
{
	struct bg_machine m;
	bg_init(&m, 0, true);
	bg_step(&m, BG_EV_DONE, 1);
	bg_step(&m, BG_EV_TIMEOUT, 2);
	assert_int_equal(m.phase, BG_ROLLBACK);
	assert_int_equal(bg_step(&m, BG_EV_FAILED, 3), BG_FAILED);
	/* The first failure is the one remembered. */
	assert_int_equal(m.failed_in, BG_CREATE_GREEN);
	assert_int_equal(m.failed_by, BG_EV_TIMEOUT);
}

static void test_random_walks_terminate(void **state)
{
	/* Whatever happens, a deployment ends in a terminal phase within a
	 * bounded number of steps and only along table edges. */
	srand(7);
	for (int walk = 0; walk < 20000; walk++) {
		struct bg_machine m;
		bg_init(&m, 0, rand() % 2);
		int steps = 0;
		while (!bg_phase_is_terminal(m.phase)) {
			enum bg_phase before = m.phase;
			enum bg_event ev = rand() % 3 ? BG_EV_DONE : (enum bg_event)(rand() % 4);
			int r = bg_step(&m, ev, steps);
			if (r >= 0)
				assert_true(bg_table_edge(before, m.phase));
			else
				assert_int_equal(m.phase, before);
			assert_true(++steps < 1000);
		}
	}
}

static void test_names_round_trip(void **state)
{
	for (int p = 0; p < _BG_PHASE_MAX; p++)
		assert_int_equal(bg_phase_from_string(bg_phase_to_string(p)), p);
	for (int e = 0; e < _BG_EVENT_MAX; e++)
		assert_int_equal(bg_event_from_string(bg_event_to_string(e)), e);
	assert_true(bg_phase_from_string("sideways") < 0);
	assert_int_equal(bg_phase_from_string("verify"), BG_VERIFY);
	assert_int_equal(bg_phase_from_string("unlist_blue"), BG_UNLIST_BLUE);
	assert_int_equal(bg_phase_from_string("list_green"), BG_LIST_GREEN);
	/* Journals written before the new phases keep their names. */
	assert_int_equal(bg_phase_from_string("drain_blue"), BG_DRAIN_BLUE);
	assert_int_equal(bg_phase_from_string("settle"), BG_SETTLE);
}

static void test_deadlines(void **state)
{
	struct bg_timeouts t = { .docker_call = 30,
		                 .health = 120,
		                 .settle = 3,
		                 .verify = 20,
		                 .drain = 30,
		                 .stop_grace = 10,
		                 .rollback = 60 };
	assert_true(bg_phase_deadline(BG_WAIT_HEALTHY, 10, &t) == 130);
	assert_true(bg_phase_deadline(BG_SETTLE, 10, &t) == 43);
	assert_true(bg_phase_deadline(BG_VERIFY, 10, &t) == 60);
	assert_true(bg_phase_deadline(BG_UNLIST_BLUE, 0, &t) == 90);
	assert_true(bg_phase_deadline(BG_LIST_GREEN, 0, &t) == 90);
	assert_true(bg_phase_deadline(BG_DRAIN_BLUE, 0, &t) == 60);
	assert_true(bg_phase_deadline(BG_STOP_BLUE, 0, &t) == 40);
	assert_true(bg_phase_deadline(BG_ROLLBACK, 5, &t) == 65);
	assert_true(bg_phase_deadline(BG_CREATE_GREEN, 5, &t) == 35);
	assert_true(bg_phase_deadline(BG_DONE, 5, &t) > 1e100);
}

static void test_recovery_invariants(void **state)
{
	/* Every journaled phase against every combination of what Docker shows. */
	for (int p = 0; p < _BG_PHASE_MAX; p++) {
		for (int bits = 0; bits < 32; bits++) {
			struct bg_facts f = {
				.blue_exists = bits & 1,
				.blue_running = (bits & 1) && (bits & 2),
				.green_exists = bits & 4,
				.green_running = (bits & 4) && (bits & 8),
				.green_healthy = (bits & 4) && (bits & 8) && (bits & 16),
			};
			enum bg_recovery r = bg_recover(p, &f);
			bool green_serves = f.green_healthy;
			if (r == BG_RECOVER_ROLL_FORWARD)
				assert_true(green_serves);
			if (r == BG_RECOVER_ROLL_BACK)
				assert_true(f.blue_exists);
			if (r == BG_RECOVER_NOTHING)
				assert_false(f.blue_exists && f.green_exists);
			/* Before blue was touched, blue is what we go back to. */
			if (!bg_phase_blue_touched(p) && p != BG_ROLLED_BACK && f.blue_exists)
				assert_int_equal(r, BG_RECOVER_ROLL_BACK);
			/* Once blue may be stopped, a serving green is kept. */
			if (bg_phase_blue_touched(p) && p != BG_DONE && green_serves)
				assert_int_equal(r, BG_RECOVER_ROLL_FORWARD);
			/* Manual only when neither container can serve. */
			if (r == BG_RECOVER_MANUAL)
				assert_true(!f.blue_exists && !green_serves);
		}
	}
	/* Blue unlisted (or draining) but running: back to blue, whose aliases
	 * the reconciliation gives back, even when green serves. */
	struct bg_facts both = { .blue_exists = true,
		                 .blue_running = true,
		                 .green_exists = true,
		                 .green_running = true,
		                 .green_healthy = true };
	assert_int_equal(bg_recover(BG_UNLIST_BLUE, &both), BG_RECOVER_ROLL_BACK);
	assert_int_equal(bg_recover(BG_DRAIN_BLUE, &both), BG_RECOVER_ROLL_BACK);
	assert_int_equal(bg_recover(BG_VERIFY, &both), BG_RECOVER_ROLL_BACK);
	assert_int_equal(bg_recover(BG_LIST_GREEN, &both), BG_RECOVER_ROLL_BACK);
	assert_false(bg_phase_blue_touched(BG_UNLIST_BLUE));
	assert_true(bg_phase_green_exists(BG_UNLIST_BLUE));
	struct bg_facts clean = { .blue_exists = true, .blue_running = true };
	assert_int_equal(bg_recover(BG_DONE, &clean), BG_RECOVER_NOTHING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_path),
		cmocka_unit_test(test_failure_in_each_phase),
		cmocka_unit_test(test_rollback_failure_is_failed),
		cmocka_unit_test(test_random_walks_terminate),
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_recovery_invariants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
