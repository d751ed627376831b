/* daemon_internal: what the daemon's own files share: the loop's state
 * (struct daemon and what it holds of each service), and its clocks. Not a
 * public interface: daemon.c is the loop, daemon_view.c renders its view,
 * daemon_cmd.c runs commands, daemon_events.c reads Docker's events,
 * daemon_setup.c builds, reloads and reconciles at start-up. */
#ifndef RM_DAEMON_INTERNAL_H
#define RM_DAEMON_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rm/config.h"
#include "rm/daemon.h"
#include "rm/deploy.h"
#include "rm/docker.h"
#include "rm/engine.h"
#include "rm/notify.h"
#include "rm/source.h"
#include "rm/state.h"
#include "rm/state_store.h"
#include "rm/util.h"
#include "rm/view.h"
#include "rm/web.h"

/* Alertmanager is not one: its state is in the notification counters. */
enum { DEP_PROMETHEUS, DEP_DOCKER, N_DEPS };

struct dep {
	const char *name;
	bool configured;
	int up; /* -1 unknown, 0 down, 1 up */
	char detail[160];
	double since;
};

/* What the loop knows of one service besides its persisted state. */
struct svc {
	char *name;
	bool measured;
	struct observation obs;
	struct view_point points[VIEW_POINTS];
	size_t n_points;
	bool has_decision;
	struct engine_decision decision;
	double decision_time;
	bool has_rec; /* percentile policy: the last recommendation */
	struct recommendation rec;
	char last_reco[96]; /* the last recommendation logged (dedup) */
	bool deploying;
	char phase[24];
	char strategy[16];
	bool has_last_deploy;
	char last_status[16];
	char last_strategy[16];
	double last_time, last_duration, last_cpu;
	uint64_t last_mem;
	char **containers;
	size_t n_containers;
	bool health_known;   /* a running container has a health check (the last list) */
	bool unhealthy;      /* and one of them says "unhealthy" */
	bool eval_now;       /* an OOM or die event asks for a check now */
	unsigned event_ooms; /* OOM events since the last check */
	bool high_notified;
	bool critical_notified;
	bool drift_reported;
	bool foreign_reported; /* another process's deployment logged */
};

struct job {
	struct daemon *d;
	char *service;
	const struct rm_config *cfg;  /* kept alive while jobs run (see retire) */
	struct docker_client *docker; /* the job's own client (a reload may replace the loop's) */
	struct engine_decision decision;
	struct deploy_request req;
	struct deploy_result res;
	volatile int abort;
	struct job *next; /* in the done list */
};

struct command {
	struct web_command cmd;
	char *service;
	char *user;
	int result;
	char msg[384];
	bool done;
	struct command *next;
};

struct daemon {
	struct daemon_options opts;
	struct rm_config *cfg;
	struct rm_config **retired; /* old configs still used by running jobs */
	size_t n_retired;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct rm_state *state;
	struct state_store *store; /* the file: locked saves that merge other writers' records */
	struct svc *svcs;
	size_t n_svcs;
	struct source source;
	struct docker_client *docker;
	struct docker_events *events;
	pthread_t events_thread;
	atomic_bool events_run;
	struct notifier *notifier;
	struct web_server *web;
	int wake_fd;
	int sig_fd;
	struct job *done;
	struct job **running;
	size_t n_running;
	struct command *commands;
	bool stopping;
	bool paused;
	double started;
	double last_check;
	double last_check_duration;
	unsigned long checks;
	char source_used[16];
	struct dep deps[N_DEPS];
	double host_cpus;
	uint64_t host_mem;
	double host_info_time;
	/* The engine's clock: wall time at the start plus the monotonic time
	 * since, so that a jump of the wall clock neither ends nor stretches a
	 * cooldown or a backoff (steady_now); the daily cap follows the
	 * calendar, the wall clock's local day. */
	double wall0, mono0;
	char state_error[200]; /* why the last save failed; "" = saved */
	double state_error_since;
};

static inline bool dry_run(const struct daemon *d)
{
	return d->opts.dry_run || d->cfg->automation.dry_run;
}

static inline double steady_now(const struct daemon *d)
{
	return d->wall0 + (time_monotonic() - d->mono0);
}

/* The snapshot the web layer serves, built from the loop's state (lock
 * held). Owned by the caller (web_publish takes it). */
struct view *daemon_build_view(struct daemon *d);

/* daemon.c, the loop (each "lock held" where it says so). */
/* Wakes the loop from its wait (another thread has work for it). */
void daemon_wake(struct daemon *d);
/* state_own_fn: the services the daemon's own workers are deploying. */
bool daemon_owns_journal(const char *service, void *ctx);
/* Saves the state (lock held), merging first what another writer (the
 * CLI's deploy, rollback, reconcile) saved since the daemon's last save. */
int daemon_save_state(struct daemon *d, double now, char *err, size_t errlen);
struct svc *daemon_svc_find(struct daemon *d, const char *name);
/* The service named name, added when it is new. */
struct svc *daemon_svc_get(struct daemon *d, const char *name);
/* Starts watching the change res applied (lock held), on the steady clock.
 * The serving container is the baseline: its restarts and OOM kills count
 * from now. */
void daemon_watch_begin(struct daemon *d, const struct svc *s, struct state_service *ss,
                        const struct deploy_result *res, double steady);
void daemon_history_add(struct daemon *d, enum state_event_kind kind, const char *service,
                        const struct engine_decision *dec, const char *outcome,
                        const char *strategy, double duration, const char *explanation);
/* Starts deploying dec for service s (lock held). */
void daemon_job_start(struct daemon *d, struct svc *s, const struct engine_decision *dec);
/* Publishes a fresh view (lock held). */
void daemon_publish(struct daemon *d);
/* Whether the source has Prometheus decides whether it is a dependency. */
void daemon_deps_configure(struct daemon *d);

/* daemon_cmd.c: commands from the web layer and the CLI. */
/* Takes in what another writer saved since the daemon's last save (lock
 * held): its deployments in flight, history and records. */
void daemon_refresh_state(struct daemon *d);
/* Runs the queued commands (takes the lock). */
void daemon_commands_run(struct daemon *d);
/* web_command_fn: hands the command to the loop and waits for it. */
int daemon_on_command(void *ctx, const struct web_command *cmd, char *msg, size_t msglen);

/* daemon_events.c: the events thread (arg: the daemon). */
void *daemon_events_main(void *arg);

/* daemon_setup.c: set-up, reload, start-up reconciliation. */
void daemon_open_log_file(const struct rm_config *cfg);
/* Builds the parts that depend on the configuration. */
int daemon_build_peers(struct daemon *d, const struct rm_config *cfg, struct source *ret_source,
                       struct docker_client **ret_docker, char *err, size_t errlen);
/* SIGHUP: a new configuration, or the running one stays (logged). */
void daemon_reload(struct daemon *d);
/* Frees the configurations replaced by reloads once no job uses them. */
void daemon_retire_configs(struct daemon *d);
/* Finishes or undoes the deployments the journal holds (a restart cut them). */
void daemon_reconcile_journal(struct daemon *d);

#endif
