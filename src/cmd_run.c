/* cmd_run: the daemon command. Until the control loop lands (the daemon issue),
 * it loads the config, opens the log, and ticks on the monotonic clock until
 * SIGTERM or SIGINT, saying plainly that it takes no decisions yet. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rm/cli.h"
#include "rm/config.h"
#include "rm/log.h"
#include "rm/units.h"
#include "rm/util.h"

static int run_parse(int argc, char **argv, const char **ret_config, bool *ret_dry_run,
                     bool *ret_once)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "once", no_argument, NULL, '1' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:n", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*ret_config = optarg;
			break;
		case 'n':
			*ret_dry_run = true;
			break;
		case '1':
			*ret_once = true;
			break;
		case ':':
			fprintf(stderr, "resource-manager run: option %s needs a value\n",
			        argv[optind - 1]);
			return EXIT_INVALID;
		default:
			fprintf(stderr,
			        "resource-manager run: unknown option '%s'; see 'resource-manager "
			        "run --help'\n",
			        argv[optind - 1]);
			return EXIT_INVALID;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "resource-manager run: unexpected argument '%s'\n", argv[optind]);
		return EXIT_INVALID;
	}
	return EXIT_OK;
}

static void open_log_file(const struct rm_config *cfg)
{
	if (!cfg->notifications.logfile.enabled)
		return;
	const char *path = cfg->notifications.logfile.path;
	int r = log_open_file(path, cfg->notifications.logfile.level);
	if (r < 0) {
		char q[512];
		log_warn("main",
		         "cannot open the log file, logging to stderr only\tpath=%s error=%s",
		         log_quote(path, q, sizeof(q)), log_quote(strerror(-r), q + 256, 256));
	}
}

static int run_run(int argc, char **argv)
{
	const char *config_path = NULL;
	bool dry_run = false, once = false;
	int r = run_parse(argc, argv, &config_path, &dry_run, &once);
	if (r)
		return r;
	struct rm_config *cfg = NULL;
	r = cli_load_config(config_path, &cfg);
	if (r)
		return r;
	if (dry_run)
		cfg->automation.dry_run = true;
	open_log_file(cfg);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	char interval[32], q[256];
	units_format_duration(cfg->monitoring.check_interval, interval, sizeof(interval));
	log_info("main", "resource-manager %s started\tconfig=%s check_interval=%s dry_run=%s",
	         RM_VERSION, log_quote(cfg->source_path, q, sizeof(q)), interval,
	         cfg->automation.dry_run ? "true" : "false");
	log_warn("main", "the control loop is not built yet: this build checks its configuration "
	                 "and waits, it makes no decision and changes no container");

	double next = time_monotonic();
	unsigned long ticks = 0;
	int sig = 0;
	while (!sig) {
		ticks++;
		log_debug("main", "tick\tn=%lu", ticks);
		if (once)
			break;
		/* Schedule on the monotonic clock: interval, not interval plus work. */
		next += cfg->monitoring.check_interval;
		double wait = next - time_monotonic();
		if (wait < 0) {
			next = time_monotonic();
			wait = 0;
		}
		struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };
		int s = sigtimedwait(&set, NULL, &ts);
		if (s > 0)
			sig = s;
		else if (s < 0 && errno != EAGAIN && errno != EINTR)
			break;
	}
	if (sig)
		log_info("main", "stopping on signal\tsignal=%s", sig == SIGTERM ? "TERM" : "INT");
	log_info("main", "stopped\tticks=%lu", ticks);
	log_open_file(NULL, LOG_INFO);
	config_free(cfg);
	return EXIT_OK;
}

const struct cli_command cmd_run = {
	.name = "run",
	.summary = "run the service (the default command)",
	.usage = "Usage: resource-manager [run] [--config FILE] [--dry-run] [--once]\n"
	         "\n"
	         "Runs the service in the foreground until SIGTERM or SIGINT.\n"
	         "\n"
	         "  -c, --config FILE  the configuration file (default: $CONFIG_PATH, else\n"
	         "                     /config/config.yml, else the embedded default)\n"
	         "  -n, --dry-run      decide and report, never change a container\n"
	         "      --once         run one check and exit\n"
	         "\n"
	         "Exit status: 0 after a clean stop, 1 invalid config, 2 runtime failure.\n",
	.run = run_run,
};
