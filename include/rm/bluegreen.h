/* bluegreen: the blue-green replacement as a PURE state machine.
 *
 * Every legal edge is in one table; bg_step is the only way to move, and it
 * refuses illegal edges. Each phase has a deadline. The executor (the
 * orchestrator) performs a phase's Docker calls, then reports the outcome as
 * an event; it persists the machine (the journal) before each side effect.
 * bg_recover decides, from a journal found at start-up and what Docker shows,
 * how to finish or undo a deployment that was interrupted. No I/O, no clock. */
#ifndef RM_BLUEGREEN_H
#define RM_BLUEGREEN_H

#include <stdbool.h>

enum bg_phase {
	BG_PREPARE, /* read blue, decide green's spec */
	BG_CREATE_GREEN,
	BG_START_GREEN,
	BG_WAIT_HEALTHY, /* health_status events, or the stability period */
	BG_LIST_GREEN,   /* green gets the service's network aliases: DNS routers add it */
	BG_SETTLE,       /* the router picks green up */
	BG_VERIFY,       /* probes through the router (verify_url, Traefik's API) */
	BG_UNLIST_BLUE,  /* blue's network aliases go: DNS-discovering routers drop it */
	BG_DRAIN_BLUE,   /* the router notices; blue still serves in-flight requests */
	BG_STOP_BLUE,    /* stop signal, grace period */
	BG_REMOVE_BLUE,
	BG_FINALIZE, /* rename green to blue's name, verify limits and labels */
	BG_DONE,
	BG_ROLLBACK, /* undo: remove green; restart blue if it was stopped */
	BG_ROLLED_BACK,
	BG_FAILED, /* rollback itself failed: manual attention */
	_BG_PHASE_MAX,
};

enum bg_event {
	BG_EV_DONE,    /* the phase's work succeeded */
	BG_EV_FAILED,  /* the phase's work failed */
	BG_EV_TIMEOUT, /* the phase's deadline passed */
	BG_EV_ABORT,   /* shutdown or operator abort */
	_BG_EVENT_MAX,
};

const char *bg_phase_to_string(enum bg_phase p);
int bg_phase_from_string(const char *s);
const char *bg_event_to_string(enum bg_event e);
int bg_event_from_string(const char *s);

/* Terminal phases: done, rolled back, failed. */
bool bg_phase_is_terminal(enum bg_phase p);
/* true once blue may have been stopped: undoing means restarting blue. */
bool bg_phase_blue_touched(enum bg_phase p);
/* true for the phases where green exists (or may, while it is created). */
bool bg_phase_green_exists(enum bg_phase p);

/* Time limits, seconds. */
struct bg_timeouts {
	double docker_call; /* create, start, rename, remove */
	double health;      /* blue_green.health_check_timeout */
	double settle;
	double verify; /* the probes' whole budget (0 when there are none) */
	double drain;
	double stop_grace; /* blue's own stop timeout */
	double rollback;   /* blue_green.rollback_timeout */
};

/* The deadline of a phase entered at `entered`: entered + its time limit
 * (plus a margin for the Docker call where the phase waits on one). */
double bg_phase_deadline(enum bg_phase p, double entered, const struct bg_timeouts *t);

struct bg_machine {
	enum bg_phase phase;
	double entered;          /* when the phase began */
	double started;          /* when the deployment began */
	bool rollback_enabled;   /* false: --no-rollback (failures end in failed) */
	bool blue_stopped;       /* blue was stopped (or may have been) */
	enum bg_phase failed_in; /* where the failure happened (for the reason) */
	enum bg_event failed_by;
};

void bg_init(struct bg_machine *m, double now, bool rollback_enabled);

/* The phase the machine goes to from its current phase on event ev; returns
 * 0, or -EINVAL when there is no such edge (terminal phases, an abort during
 * rollback). A success moves forward. A failure, timeout or abort before
 * finalize moves to rollback (blue untouched, or restarted if it was stopped),
 * or to failed when rollback is disabled; in prepare nothing was done yet, so
 * it ends rolled back at once. In finalize blue is already gone and green
 * serves: a failure there ends in failed, green left serving. A failure of
 * the rollback itself ends in failed. */
int bg_next(const struct bg_machine *m, enum bg_event ev, enum bg_phase *ret_next);

/* Applies ev at time now: checks the edge is legal, moves, stamps the time and
 * records why. Returns the new phase or -EINVAL (machine unchanged). */
int bg_step(struct bg_machine *m, enum bg_event ev, double now);

/* true when from -> to is an edge of the table (for the tests and checks). */
bool bg_table_edge(enum bg_phase from, enum bg_phase to);

/* Crash recovery. What Docker shows at start-up for an interrupted deployment. */
struct bg_facts {
	bool blue_exists;
	bool blue_running;
	bool green_exists;
	bool green_running;
	bool green_healthy; /* healthy, or running past the stability period without a check */
};

enum bg_recovery {
	BG_RECOVER_NOTHING,      /* already consistent (blue serving, no green) */
	BG_RECOVER_ROLL_BACK,    /* remove green (if any), start blue if it is stopped */
	BG_RECOVER_ROLL_FORWARD, /* green serves: remove blue (if any), finalize green */
	BG_RECOVER_MANUAL,       /* neither container can serve: report, touch nothing */
	_BG_RECOVERY_MAX,
};
const char *bg_recovery_to_string(enum bg_recovery r);

/* Decides deterministically how to end a deployment journaled in `phase`.
 * Before blue is touched, the answer is always roll back; after blue was
 * stopped, forward when green is healthy, else back to blue. */
enum bg_recovery bg_recover(enum bg_phase phase, const struct bg_facts *facts);

#endif
