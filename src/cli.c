/* cli: the command table, dispatch, and helpers shared by the commands. */
#include "rm/cli.h"

#include <stdlib.h>
#include <string.h>

#include "rm/config.h"
#include "rm/log.h"

extern char **environ;

/* One command per line (kept out of clang-format so additions merge cleanly). */
/* clang-format off */
const struct cli_command *const cli_commands[] = {
	&cmd_run,
	&cmd_check_config,
	&cmd_observe,
	&cmd_simulate,
	&cmd_recommend,
	&cmd_export_overrides,
	&cmd_healthcheck,
	&cmd_approve,
	&cmd_deploy,
	&cmd_rollback,
	&cmd_status,
	&cmd_reconcile,
	&cmd_version,
	&cmd_help,
	NULL,
};
/* clang-format on */

const struct cli_command *cli_find(const char *name)
{
	for (size_t i = 0; cli_commands[i]; i++)
		if (strcmp(cli_commands[i]->name, name) == 0)
			return cli_commands[i];
	return NULL;
}

int cli_main(int argc, char **argv)
{
	/* "run" is the default: no command, or options first. */
	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
			return cmd_help.run(argc - 1, argv + 1);
		if (argc >= 2 && strcmp(argv[1], "--version") == 0)
			return cmd_version.run(argc - 1, argv + 1);
		/* argv[0] stands for the command name, which run never reads. */
		return cmd_run.run(argc, argv);
	}
	const struct cli_command *c = cli_find(argv[1]);
	if (!c) {
		fprintf(stderr,
		        "resource-manager: unknown command '%s'; nothing was done. "
		        "Run 'resource-manager help' for the list of commands.\n",
		        argv[1]);
		return EXIT_INVALID;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(c->usage, stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--") == 0)
			break;
	}
	return c->run(argc - 1, argv + 1);
}

int cli_load_config(const char *path, struct rm_config **ret_cfg)
{
	struct config_report rep = { 0 };
	struct rm_config *cfg = NULL;
	int r = config_load(path, environ, &cfg, &rep);
	const char *name = cfg ? cfg->source_path : path;
	if (!name)
		name = getenv("CONFIG_PATH") ? getenv("CONFIG_PATH") : "config";
	config_report_print(&rep, name, stderr);
	config_report_free(&rep);
	if (r < 0) {
		fprintf(stderr, "resource-manager: the configuration is invalid; nothing was "
		                "started. Fix the problems above and try again.\n");
		return EXIT_INVALID;
	}
	log_set_level(cfg->logging.level);
	log_set_format(cfg->logging.format);
	*ret_cfg = cfg;
	return EXIT_OK;
}
