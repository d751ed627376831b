/* cmd_run: the daemon command: parses its options and runs the control loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rm/cli.h"
#include "rm/config.h"
#include "rm/daemon.h"
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

static int run_run(int argc, char **argv)
{
	struct daemon_options o = { 0 };
	int r = run_parse(argc, argv, &o.config_path, &o.dry_run, &o.once);
	if (r)
		return r;
	return daemon_main(&o);
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
