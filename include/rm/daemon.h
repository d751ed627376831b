/* daemon: `resource-manager run`: the control loop. Every check_interval
 * (monotonic, start to start) it collects observations for every monitored
 * service, decides with the engine, applies due changes through deploy
 * (worker threads, bounded concurrency, priority order), persists the state,
 * sends notifications and publishes a view for the web layer. OOM and die
 * events trigger an immediate evaluation of that service. SIGTERM/SIGINT
 * stop it cleanly (deployments reach a safe point or roll back within a
 * bounded time); SIGHUP reloads the configuration when it validates. */
#ifndef RM_DAEMON_H
#define RM_DAEMON_H

#include <stdbool.h>

struct daemon_options {
	const char *config_path; /* NULL: $CONFIG_PATH, /config/config.yml, embedded */
	bool dry_run;            /* --dry-run: no Docker write call, whatever the config says */
	bool once;               /* run one check, wait for its deployments, exit */
};

/* Runs until a stop signal. Returns the process exit status: 0 after a clean
 * stop, 1 for an invalid configuration, 2 for a runtime failure at start. */
int daemon_main(const struct daemon_options *opts);

#endif
