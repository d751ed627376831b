/* deploy_internal: what deploy.c and deploy_bluegreen.c share. */
#ifndef RM_DEPLOY_INTERNAL_H
#define RM_DEPLOY_INTERNAL_H

#include <stdbool.h>

#include "rm/deploy.h"
#include "rm/docker.h"
#include "rm/util.h"

/* Labels a blue-green copy carries (the original's status reads the first five). */
#define DEPLOY_LABEL_TYPE      "deployment.type"
#define DEPLOY_LABEL_PHASE     "deployment.phase"
#define DEPLOY_LABEL_TIMESTAMP "deployment.timestamp"
#define DEPLOY_LABEL_NEW_CPU   "deployment.new_cpu"
#define DEPLOY_LABEL_NEW_MEM   "deployment.new_memory"
#define DEPLOY_LABEL_BLUE_ID   "deployment.blue_id"
#define DEPLOY_LABEL_BLUE_NAME "deployment.blue_name"

/* Test-only: the name of a phase in which the executor stops and sleeps
 * (after journaling it, before its side effect) so a test can SIGKILL the
 * process at that exact point. Never set in production. */
#define DEPLOY_TEST_PAUSE_ENV "RM_TEST_PAUSE_IN_PHASE"

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

#endif
