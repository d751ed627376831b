/* deploy_internal: what deploy.c and deploy_bluegreen.c share. */
#ifndef RM_DEPLOY_INTERNAL_H
#define RM_DEPLOY_INTERNAL_H

#include <stdbool.h>

#include "rm/deploy.h"
#include "rm/docker.h"
#include "rm/swarm.h"
#include "rm/util.h"

/* Labels a blue-green copy carries (the original's status reads the first five). */
#define DEPLOY_LABEL_TYPE      "deployment.type"
#define DEPLOY_LABEL_PHASE     "deployment.phase"
#define DEPLOY_LABEL_TIMESTAMP "deployment.timestamp"
#define DEPLOY_LABEL_NEW_CPU   "deployment.new_cpu"
#define DEPLOY_LABEL_NEW_MEM   "deployment.new_memory"
#define DEPLOY_LABEL_BLUE_ID   "deployment.blue_id"
#define DEPLOY_LABEL_BLUE_NAME "deployment.blue_name"

/* Labels in a Swarm service's spec (kept in Swarm's Raft store): the change
 * in progress ("cpu=C memory=BYTES", totals over the replicas; present only
 * while the spec holds that change and it is not yet concluded) and the
 * last known good limits (same form). */
#define DEPLOY_SWARM_LABEL_CHANGE "resource-manager.change"
#define DEPLOY_SWARM_LABEL_GOOD   "resource-manager.last_good"

/* Test-only: the name of a phase in which the executor stops and sleeps
 * (after journaling it, before its side effect) so a test can SIGKILL the
 * process at that exact point ("in_place": an in-place update, journaled,
 * not sent). Never set in production. */
#define DEPLOY_TEST_PAUSE_ENV "RM_TEST_PAUSE_IN_PHASE"
/* Test-only: with the pause above, a file whose appearance ends the pause
 * (the phase then runs), so a test can act on the engine in that phase. */
#define DEPLOY_TEST_RESUME_ENV "RM_TEST_RESUME_FILE"

void deploy_progress(const struct deploy_request *req, const char *fmt, ...) RM_PRINTF(2, 3);
/* One deployment (or reconciliation) per service at a time, across
 * processes (daemon and CLI): an exclusive lock on a file next to the state
 * file. Returns the fd (close it to release), -1 when there is no place for
 * it, or -EBUSY while another process holds it. */
int deploy_lock_service(const struct rm_config *cfg, const char *service);
bool deploy_has_healthcheck(const struct docker_inspect *c);
double deploy_cpu_of(const struct docker_host_config *h);
/* The container name without the engine's leading '/'. Borrowed. */
const char *deploy_name(const struct docker_inspect *c);

/* Replaces one container (blue, as inspected) by a copy with the limits want,
 * through the blue-green machine. Fills ret (outcome, message, green_ready,
 * health_timeout, rollback_failed). Returns 0. */
int deploy_bluegreen_one(struct docker_client *c, const struct rm_config *cfg,
                         const struct deploy_request *req, const struct docker_inspect *blue,
                         const struct docker_limits *want, struct deploy_result *ret);

/* Dry run: what deploy_bluegreen_one would do, into ret->message. */
void deploy_bluegreen_plan(const struct docker_inspect *blue, const struct docker_limits *want,
                           struct deploy_result *ret);

/* The blue-green backend's reconcile: from the journal entry j, or from
 * the deployment.* labels of the service's containers when j is NULL. */
int deploy_bluegreen_reconcile(struct docker_client *c, const struct rm_config *cfg,
                               const struct state_journal *j, const char *service,
                               struct deploy_result *ret);
/* Reconciles a blue-green deployment from the deployment.* labels alone. */
int deploy_bluegreen_reconcile_labels(struct docker_client *c, const struct rm_config *cfg,
                                      const char *service, struct deploy_result *ret);

/* Probes url (through the router) with one GET per connection until `need`
 * answers in a row are 2xx, for at most budget seconds (each request at
 * most 5 s). Returns 0, -ETIMEDOUT when the streak was not reached in time,
 * or -ECANCELED on an abort. why always gets the account: the URL, the
 * longest streak, and each status seen with its count. */
int deploy_probe_url(const char *url, unsigned need, double budget, volatile int *abort_flag,
                     char *why, size_t whylen);

/* Reads GET <api>/api/http/services/<service>@docker every 0.5 s until the
 * server whose host is one of ips is "UP" there, for at most budget seconds.
 * Returns 0, -ETIMEDOUT, -ECANCELED (abort) or -EINVAL (api unusable); why
 * gets the last answer (each server with its status). */
int deploy_traefik_wait(const char *api, const char *service, const char *const *ips, size_t n_ips,
                        double budget, volatile int *abort_flag, char *why, size_t whylen);

/* ---- the apply seam: one interface, one backend per way of applying ---- */

/* What a backend applies to; everything borrowed for the call. */
struct apply_args {
	struct docker_client *c;
	const struct rm_config *cfg;
	const struct deploy_request *req;
	struct docker_inspect *containers; /* container backends: the running replicas */
	size_t n;
	const struct swarm_service *svc;  /* swarm backend: the service as inspected */
	const struct docker_limits *want; /* per replica (container or task) */
};

struct apply_ops {
	enum deploy_backend backend;
	/* Applies a->want, or plans it into ret->message when a->req->dry_run;
	 * journals each step through a->req->journal before its side effect.
	 * Fills ret's outcome, message, health_timeout, rollback_failed.
	 * Returns 0 when it ran to an outcome, a negative errno when it could
	 * not start (nothing changed; ret->message says why). */
	int (*apply)(const struct apply_args *a, struct deploy_result *ret);
	/* Finishes or undoes an interrupted deployment this backend journaled
	 * (j), or one found from the cluster alone (j NULL, service given).
	 * Returns 0 with the outcome in ret, or a negative errno. */
	int (*reconcile)(struct docker_client *c, const struct rm_config *cfg,
	                 const struct state_journal *j, const char *service,
	                 struct deploy_result *ret);
};

extern const struct apply_ops deploy_apply_bluegreen;
extern const struct apply_ops deploy_apply_inplace;
extern const struct apply_ops deploy_apply_swarm;

/* The backend's operations; NULL for DEPLOY_BACKEND_NONE. */
const struct apply_ops *deploy_apply_ops(enum deploy_backend b);

/* The Swarm service named service (Spec.Name, or <project>_<service> with
 * services.project), inspected into ret. -ENOENT when there is none, or
 * when the engine is not a swarm manager. */
int deploy_swarm_find(struct docker_client *c, const struct rm_config *cfg, const char *service,
                      struct swarm_service *ret, char *err, size_t errlen);

/* Swarm: the per-task limits of a request over the service's replicas. */
bool deploy_split_limits(const struct deploy_request *req, size_t n, struct docker_limits *want);

#endif
