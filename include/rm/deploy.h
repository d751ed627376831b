/* deploy: applies new limits to a service with zero downtime: in place (the
 * Engine's update call) or by a blue-green replacement driven by the pure
 * machine in bluegreen.h, with rollback; and reconciles deployments that were
 * interrupted (crash, SIGKILL) from the journal and the deployment.* labels.
 *
 * deploy_run blocks until the deployment ends (the daemon calls it from a
 * worker thread; the CLI calls it directly). Every phase change is reported
 * through the journal callback BEFORE the phase's side effect. */
#ifndef RM_DEPLOY_H
#define RM_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>

#include "rm/config.h"
#include "rm/state.h"

struct docker_client;

struct deploy_request {
	const char *service; /* compose service or exact container name */
	bool set_cpu;
	double cpu; /* cores, total over replicas */
	bool set_memory;
	uint64_t memory;               /* bytes, total over replicas */
	enum deploy_strategy strategy; /* STRATEGY_AUTO picks (see deploy_pick_strategy) */
	bool dry_run;                  /* plan and report, no Docker write call */
	bool rollback;                 /* false: --no-rollback */
	bool drain;                    /* false: --no-drain */
	bool force; /* allow blue-green of a stateful service or one without health check */
	double health_timeout; /* seconds; 0 = blue_green.health_check_timeout */
	/* Called on every phase change, before its side effect; the daemon
	 * persists it (state_save). Return < 0 to abort (the deployment rolls
	 * back). May be NULL. */
	int (*journal)(void *ctx, const struct state_journal *j);
	void *journal_ctx;
	/* Called with progress lines ("phase create_green: ..."), may be NULL. */
	void (*progress)(void *ctx, const char *line);
	void *progress_ctx;
	/* Set (from another thread) to ask for a prompt rollback. May be NULL. */
	volatile int *abort_flag;
};

enum deploy_outcome {
	DEPLOY_APPLIED,     /* new limits in place and verified */
	DEPLOY_DRY_RUN,     /* planned only */
	DEPLOY_SKIPPED,     /* nothing to do, or refused before any change (reason in message) */
	DEPLOY_ROLLED_BACK, /* failed, old container serving with the old limits */
	DEPLOY_FAILED,      /* failed and could not roll back: manual attention */
	_DEPLOY_OUTCOME_MAX,
};
const char *deploy_outcome_to_string(enum deploy_outcome o);

/* Which apply backend ran a deployment (struct apply_ops in
 * deploy_internal.h): the blue-green container executor, the in-place
 * update of containers, or a Swarm service update. Chosen by the service's
 * kind (Compose containers or Swarm service) and, for containers, the
 * strategy. NONE: refused before any backend was chosen. */
enum deploy_backend {
	DEPLOY_BACKEND_NONE,
	DEPLOY_BACKEND_BLUEGREEN,
	DEPLOY_BACKEND_INPLACE,
	DEPLOY_BACKEND_SWARM,
	_DEPLOY_BACKEND_MAX,
};
/* "none", "bluegreen", "inplace", "swarm". */
const char *deploy_backend_to_string(enum deploy_backend b);
/* The backend, or -EINVAL for a name not in the table. */
int deploy_backend_from_string(const char *s);

/* The kinds of service a deployment can target. */
enum deploy_kind {
	DEPLOY_KIND_CONTAINERS, /* Compose service or plain containers */
	DEPLOY_KIND_SWARM,      /* a Swarm service */
};

/* PURE. The backend for a service of kind deployed with strategy s (auto
 * already resolved). */
enum deploy_backend deploy_backend_pick(enum deploy_kind kind, enum deploy_strategy s);

/* PURE. The backend that wrote journal entry j: its "backend" key, or, in
 * a journal written before that key existed, its strategy ("blue-green",
 * "in-place"). NONE when neither says. */
enum deploy_backend deploy_backend_of_journal(const struct state_journal *j);

struct deploy_result {
	enum deploy_outcome outcome;
	enum deploy_strategy strategy; /* what was used */
	enum deploy_backend backend;   /* which backend ran it (NONE: refused before) */
	bool health_timeout;           /* green never became healthy (exit code 4) */
	bool rollback_failed;          /* the undo itself failed (exit code 3) */
	bool refused;                  /* not applied: unsafe or invalid (exit code 1) */
	double duration;               /* seconds, whole deployment */
	double green_ready;            /* seconds from green's start to healthy (blue-green) */
	struct state_limits from, to;  /* totals over the replicas */
	unsigned replicas;             /* running containers of the service it found */
	char message[640];             /* one line: what happened and what happens next */
};

/* The strategy `auto` resolves to for a service: in-place for stateful
 * services, containers publishing fixed host ports, and services without a
 * health check (unless blue-green is forced); otherwise blue-green; in-place
 * when blue_green.enabled is false. */
struct docker_inspect;
enum deploy_strategy deploy_pick_strategy(const struct rm_config *cfg, const char *service,
                                          const struct docker_inspect *blue, bool force, char *why,
                                          size_t whylen);

/* Counts a deployment that ran to res's outcome into c (dry runs and
 * skipped deployments count nothing). */
void deploy_count(struct state_counters *c, const struct deploy_result *res);

/* The one place a finished deployment of service is recorded in s, for the
 * daemon and the CLI alike: its journal entry goes; unless it was a dry run,
 * the counters grow (deploy_count), a success makes res->from the rollback
 * target (last good) and res->to the managed limits (applied, drift), and a
 * deployment event (reason, explanation; res's outcome, strategy, duration,
 * limits) joins the history, bounded by max_history. */
void deploy_record(struct rm_state *s, const char *service, const struct deploy_result *res,
                   const char *reason, const char *explanation, double now, size_t max_history);

/* Runs one deployment. Returns 0 when the deployment ran to an outcome (see
 * ret->outcome), or a negative errno when it could not start (bad request,
 * Docker unreachable: ret->message says why, nothing was changed). */
int deploy_run(struct docker_client *c, const struct rm_config *cfg,
               const struct deploy_request *req, struct deploy_result *ret);

/* Finishes or undoes an interrupted deployment found in the journal (or by
 * deployment.* labels when j is NULL and service is given): afterwards exactly
 * one container serves the service, with either the old or the new limits, and
 * no leftover. Returns 0 with the outcome in ret, or a negative errno:
 * -EBUSY (ret->message says so) when another process is deploying the service
 * right now (it holds the service's deploy lock): nothing is touched. */
int deploy_reconcile(struct docker_client *c, const struct rm_config *cfg,
                     const struct state_journal *j, const char *service, struct deploy_result *ret);

/* Whether service is a Swarm service whose spec carries a change of ours
 * not yet concluded (the resource-manager.change label): a fresh instance,
 * with no journal, reconciles it with deploy_reconcile(c, cfg, NULL, ...). */
bool deploy_swarm_changed(struct docker_client *c, const struct rm_config *cfg,
                          const char *service);

#endif
