/* bluegreen: the blue-green replacement as a pure state machine with an edge table. */
#include "rm/bluegreen.h"

#include <errno.h>
#include <string.h>

static const char *const phase_names[_BG_PHASE_MAX] = {
	[BG_PREPARE] = "prepare",
	[BG_CREATE_GREEN] = "create_green",
	[BG_START_GREEN] = "start_green",
	[BG_WAIT_HEALTHY] = "wait_healthy",
	[BG_LIST_GREEN] = "list_green",
	[BG_SETTLE] = "settle",
	[BG_VERIFY] = "verify",
	[BG_UNLIST_BLUE] = "unlist_blue",
	[BG_DRAIN_BLUE] = "drain_blue",
	[BG_STOP_BLUE] = "stop_blue",
	[BG_REMOVE_BLUE] = "remove_blue",
	[BG_FINALIZE] = "finalize",
	[BG_DONE] = "done",
	[BG_ROLLBACK] = "rollback",
	[BG_ROLLED_BACK] = "rolled_back",
	[BG_FAILED] = "failed",
};

static const char *const event_names[_BG_EVENT_MAX] = {
	[BG_EV_DONE] = "done",
	[BG_EV_FAILED] = "failed",
	[BG_EV_TIMEOUT] = "timeout",
	[BG_EV_ABORT] = "abort",
};

static const char *const recovery_names[_BG_RECOVERY_MAX] = {
	[BG_RECOVER_NOTHING] = "nothing",
	[BG_RECOVER_ROLL_BACK] = "roll_back",
	[BG_RECOVER_ROLL_FORWARD] = "roll_forward",
	[BG_RECOVER_MANUAL] = "manual",
};

const char *bg_phase_to_string(enum bg_phase p)
{
	return (int)p >= 0 && p < _BG_PHASE_MAX ? phase_names[p] : "unknown";
}

int bg_phase_from_string(const char *s)
{
	for (int i = 0; i < _BG_PHASE_MAX; i++)
		if (strcmp(phase_names[i], s) == 0)
			return i;
	return -EINVAL;
}

const char *bg_event_to_string(enum bg_event e)
{
	return (int)e >= 0 && e < _BG_EVENT_MAX ? event_names[e] : "unknown";
}

int bg_event_from_string(const char *s)
{
	for (int i = 0; i < _BG_EVENT_MAX; i++)
		if (strcmp(event_names[i], s) == 0)
			return i;
	return -EINVAL;
}

const char *bg_recovery_to_string(enum bg_recovery r)
{
	return (int)r >= 0 && r < _BG_RECOVERY_MAX ? recovery_names[r] : "unknown";
}

/* Every legal edge: the success successor and the failure successor of each
 * phase (failure covers failed, timeout and abort). -1: no edge. The failure
 * edge of the phases before finalize is rollback; with rollback disabled it
 * becomes failed (see bg_next). */
static const struct {
	int on_done;
	int on_failure;
} edges[_BG_PHASE_MAX] = {
	[BG_PREPARE] = { BG_CREATE_GREEN, BG_ROLLED_BACK },
	[BG_CREATE_GREEN] = { BG_START_GREEN, BG_ROLLBACK },
	[BG_START_GREEN] = { BG_WAIT_HEALTHY, BG_ROLLBACK },
	[BG_WAIT_HEALTHY] = { BG_LIST_GREEN, BG_ROLLBACK },
	[BG_LIST_GREEN] = { BG_SETTLE, BG_ROLLBACK },
	[BG_SETTLE] = { BG_VERIFY, BG_ROLLBACK },
	[BG_VERIFY] = { BG_UNLIST_BLUE, BG_ROLLBACK },
	[BG_UNLIST_BLUE] = { BG_DRAIN_BLUE, BG_ROLLBACK },
	[BG_DRAIN_BLUE] = { BG_STOP_BLUE, BG_ROLLBACK },
	[BG_STOP_BLUE] = { BG_REMOVE_BLUE, BG_ROLLBACK },
	[BG_REMOVE_BLUE] = { BG_FINALIZE, BG_ROLLBACK },
	[BG_FINALIZE] = { BG_DONE, BG_FAILED },
	[BG_DONE] = { -1, -1 },
	[BG_ROLLBACK] = { BG_ROLLED_BACK, BG_FAILED },
	[BG_ROLLED_BACK] = { -1, -1 },
	[BG_FAILED] = { -1, -1 },
};

bool bg_table_edge(enum bg_phase from, enum bg_phase to)
{
	if ((int)from < 0 || from >= _BG_PHASE_MAX)
		return false;
	if (edges[from].on_done == (int)to || edges[from].on_failure == (int)to)
		return true;
	/* --no-rollback turns each rollback edge into one to failed. */
	return edges[from].on_failure == BG_ROLLBACK && to == BG_FAILED;
}

bool bg_phase_is_terminal(enum bg_phase p)
{
	return p == BG_DONE || p == BG_ROLLED_BACK || p == BG_FAILED;
}

bool bg_phase_blue_touched(enum bg_phase p)
{
	return p == BG_STOP_BLUE || p == BG_REMOVE_BLUE || p == BG_FINALIZE || p == BG_DONE;
}

bool bg_phase_green_exists(enum bg_phase p)
{
	return p >= BG_CREATE_GREEN && p <= BG_DONE;
}

double bg_phase_deadline(enum bg_phase p, double entered, const struct bg_timeouts *t)
{
	double limit;
	switch (p) {
	case BG_WAIT_HEALTHY:
		limit = t->health;
		break;
	case BG_SETTLE:
		limit = t->settle + t->docker_call;
		break;
	case BG_VERIFY:
		limit = t->verify + t->docker_call;
		break;
	case BG_LIST_GREEN:
	case BG_UNLIST_BLUE:
		/* a disconnect and a connect per network, and an inspect */
		limit = 3 * t->docker_call;
		break;
	case BG_DRAIN_BLUE:
		limit = t->drain + t->docker_call;
		break;
	case BG_STOP_BLUE:
		limit = t->stop_grace + t->docker_call;
		break;
	case BG_ROLLBACK:
		limit = t->rollback;
		break;
	case BG_DONE:
	case BG_ROLLED_BACK:
	case BG_FAILED:
		return 1e300; /* terminal: no deadline */
	default:
		limit = t->docker_call;
		break;
	}
	return entered + limit;
}

void bg_init(struct bg_machine *m, double now, bool rollback_enabled)
{
	memset(m, 0, sizeof(*m));
	m->phase = BG_PREPARE;
	m->entered = now;
	m->started = now;
	m->rollback_enabled = rollback_enabled;
	m->failed_in = BG_PREPARE;
	m->failed_by = BG_EV_DONE;
}

int bg_next(const struct bg_machine *m, enum bg_event ev, enum bg_phase *ret_next)
{
	if ((int)m->phase < 0 || m->phase >= _BG_PHASE_MAX || (int)ev < 0 || ev >= _BG_EVENT_MAX)
		return -EINVAL;
	/* An abort never interrupts an undo in progress. */
	if (m->phase == BG_ROLLBACK && ev == BG_EV_ABORT)
		return -EINVAL;
	int next = ev == BG_EV_DONE ? edges[m->phase].on_done : edges[m->phase].on_failure;
	if (next < 0)
		return -EINVAL;
	if (next == BG_ROLLBACK && !m->rollback_enabled)
		next = BG_FAILED;
	*ret_next = (enum bg_phase)next;
	return 0;
}

int bg_step(struct bg_machine *m, enum bg_event ev, double now)
{
	enum bg_phase next;
	int r = bg_next(m, ev, &next);
	if (r < 0)
		return r;
	if (ev != BG_EV_DONE && m->phase != BG_ROLLBACK) {
		m->failed_in = m->phase;
		m->failed_by = ev;
	}
	if (m->phase == BG_STOP_BLUE || next == BG_REMOVE_BLUE)
		m->blue_stopped = true;
	m->phase = next;
	m->entered = now;
	return (int)next;
}

enum bg_recovery bg_recover(enum bg_phase phase, const struct bg_facts *f)
{
	bool green_serves = f->green_exists && f->green_running && f->green_healthy;
	switch (phase) {
	case BG_DONE:
	case BG_ROLLED_BACK:
		/* The journal ended cleanly; only leftovers need work. */
		if (f->blue_exists && f->green_exists)
			return phase == BG_DONE && green_serves ? BG_RECOVER_ROLL_FORWARD
			                                        : BG_RECOVER_ROLL_BACK;
		return BG_RECOVER_NOTHING;
	case BG_STOP_BLUE:
	case BG_REMOVE_BLUE:
	case BG_FINALIZE:
		/* Blue may be stopped already: keep whichever container can serve. */
		if (green_serves)
			return BG_RECOVER_ROLL_FORWARD;
		return f->blue_exists ? BG_RECOVER_ROLL_BACK : BG_RECOVER_MANUAL;
	default:
		/* Blue was never stopped (its aliases may be gone: the roll back gives
		 * them back), or an undo was in progress: go back to it. */
		if (f->blue_exists)
			return BG_RECOVER_ROLL_BACK;
		return green_serves ? BG_RECOVER_ROLL_FORWARD : BG_RECOVER_MANUAL;
	}
}
