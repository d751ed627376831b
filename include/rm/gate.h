/* gate: what happens to a decision after the engine (PURE: no clock, no I/O):
 * applied now, only recommended (automation off or paused), a dry run, or
 * held for an operator's approval; whether the running limits drifted from
 * the managed ones; when a pending approval expires. The daemon performs
 * what the gate says. */
#ifndef RM_GATE_H
#define RM_GATE_H

#include <stdbool.h>

#include "rm/engine.h"
#include "rm/observation.h"
#include "rm/state.h"

enum gate_route {
	GATE_NONE,      /* the decision changes nothing */
	GATE_RECOMMEND, /* automation off or paused: logged and recorded only */
	GATE_DRY_RUN,   /* dry run: logged, recorded and notified, nothing touched */
	GATE_APPROVAL,  /* manual approval: waits for `approve` */
	GATE_DEPLOY,    /* deployed now */
	_GATE_ROUTE_MAX,
};
const char *gate_route_to_string(enum gate_route r);

/* The switches the route depends on. */
struct gate_mode {
	bool automation_enabled; /* automation.enabled */
	bool paused;             /* paused through the API */
	bool dry_run;            /* --dry-run or automation.dry_run */
	bool manual_approval;    /* automation.manual_approval */
};

/* Where dec goes under mode m. */
enum gate_route gate_route(const struct gate_mode *m, const struct engine_decision *dec);

/* Whether a drift is put right (automation.reapply_on_drift), under m: only
 * when changes are deployed at all (on, not paused, not a dry run). */
bool gate_reapply_drift(const struct gate_mode *m, bool reapply_on_drift);

/* Drift: the running limits (o) differ from those the last change applied
 * (ss->applied) by more than a hundredth of a core or a MiB. Returns 1 and
 * the decision that puts them back in *ret_dec (explained); 0 when they
 * agree; -1 when it cannot be told: nothing applied yet, a deployment in
 * flight, limits unknown, or less than two check intervals since the last
 * change (the sources lag a scrape or two). */
int gate_check_drift(const struct state_service *ss, const struct observation *o, bool deploying,
                     double now, double check_interval, struct engine_decision *ret_dec);

/* Whether the approval p has expired at now (expires 0: never). */
bool gate_pending_expired(const struct state_pending *p, double now);

/* Whether p already waits for the limits dec asks for (no new request). */
bool gate_pending_same(const struct state_pending *p, const struct engine_decision *dec);

/* The decision a pending approval stands for. */
void gate_pending_decision(const struct state_pending *p, struct engine_decision *ret_dec);

#endif
