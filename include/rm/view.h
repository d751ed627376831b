/* view: a self-contained copy of what the daemon knows, taken at the end of
 * each check (and after each command), for the web layer to render. Plain
 * data; the web layer never sees live state. Every pointer is owned by the
 * view and freed by view_free. */
#ifndef RM_VIEW_H
#define RM_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rm/config.h"
#include "rm/engine.h"
#include "rm/notify.h"
#include "rm/observation.h"
#include "rm/state.h"

/* Recent checks kept per service for the charts. */
#define VIEW_POINTS 120

struct view_point {
	double time;
	bool cpu_known;
	double cpu_ratio; /* use / limit */
	bool mem_known;
	double mem_ratio;
	double cpu_limit;   /* cores, 0 = none */
	uint64_t mem_limit; /* bytes, 0 = none */
};

/* Counters since the daemon's first start (persisted in the history). */
struct view_counters {
	unsigned long total_adjustments; /* changes attempted */
	unsigned long successful_adjustments;
	unsigned long failed_adjustments;
	unsigned long blue_green_deployments;
	unsigned long rollbacks;
	unsigned long threshold_breaches; /* readings beyond a threshold */
	/* Blue-green deployments by outcome (blue_green_deployment_total{status}). */
	unsigned long blue_green_succeeded;
	unsigned long blue_green_failed;
	unsigned long reverts;  /* changes undone by their watch */
	unsigned long verified; /* changes whose watch ended clean */
};

struct view_service {
	char *name;
	enum service_class class;
	int priority;
	char **containers; /* names of the replicas seen */
	size_t n_containers;
	bool measured; /* obs comes from a successful collect */
	struct observation obs;
	struct view_point points[VIEW_POINTS]; /* oldest first */
	size_t n_points;
	struct engine_state engine;
	bool has_decision; /* the latest decision */
	struct engine_decision decision;
	double decision_time;
	double cooldown_remaining; /* seconds, 0 = none */
	double backoff_remaining;
	bool pending; /* a decision waits for approval */
	struct engine_decision pending_decision;
	double pending_expires;
	bool deploying;
	char deploy_phase[24]; /* bluegreen phase name or "in_place" */
	char deploy_strategy[16];
	struct view_counters counters;
	bool has_last_deploy;        /* the last deployment's outcome */
	char last_deploy_status[16]; /* "success", "failure", "rolled_back" */
	char last_deploy_strategy[16];
	double last_deploy_time;
	double last_deploy_duration;
	double last_deploy_cpu; /* cores, the limits it set */
	uint64_t last_deploy_mem;
	/* The last change is being watched (adjustment.verify_window) until
	 * watch_until (epoch seconds); its limits before and after. */
	bool watching;
	double watch_until;
	double watch_cpu_from, watch_cpu_to;
	uint64_t watch_mem_from, watch_mem_to;
	/* Percentile policy: the latest recommendation, and the limits it asks
	 * for within the service's bounds (0 = not known). */
	bool has_rec;
	struct recommendation rec;
	double rec_cpu;
	uint64_t rec_mem;
};

struct view_dependency {
	char name[16]; /* "docker", "prometheus", "alertmanager" */
	bool configured;
	bool up;
	char detail[160]; /* the last error when down */
	double since;     /* when it went up or down */
};

struct view {
	double now;
	double started;             /* when the daemon started */
	double last_check;          /* wall time of the last completed check, 0 = none yet */
	double last_check_duration; /* seconds */
	double check_interval;
	/* How long one check may wait on its peers (the Engine's and
	 * Prometheus' timeouts): a check that slow is not a stuck loop. */
	double peer_timeout;
	unsigned long checks;
	char source[16]; /* metrics source used by the last check */
	char version[32];
	bool automation_enabled;
	bool paused; /* paused through the API */
	bool dry_run;
	bool manual_approval;
	char policy[16]; /* adjustment.policy */
	struct {
		double cpu_high, cpu_low, memory_high, memory_low;
		unsigned consecutive_checks;
	} thresholds;
	struct view_dependency deps[3];
	size_t n_deps;
	struct view_service *services;
	size_t n_services;
	struct state_event *history; /* oldest first */
	size_t n_history;
	struct notify_stats notify;
	/* The state file cannot be saved (full disk, read-only folder): the
	 * state is kept in memory and saved again once it can be. "" = saved. */
	char state_error[200];
	double state_error_since;
};

void view_free(struct view *v);
/* The service named, or NULL. */
const struct view_service *view_find(const struct view *v, const char *name);

#endif
