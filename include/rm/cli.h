/* cli: the command table and helpers shared by every command. */
#ifndef RM_CLI_H
#define RM_CLI_H

#include <stdio.h>

/* Exit codes common to every command (a command's help may refine them). */
enum {
	EXIT_OK = 0,
	EXIT_INVALID = 1, /* invalid input or config */
	EXIT_RUNTIME = 2, /* runtime failure */
};

struct cli_command {
	const char *name;
	const char *summary;
	const char *usage; /* full help text for "NAME --help" */
	/* argv[0] is the command name. */
	int (*run)(int argc, char **argv);
};

/* Each command module exports one descriptor. */
extern const struct cli_command cmd_run;
extern const struct cli_command cmd_check_config;
extern const struct cli_command cmd_simulate;
extern const struct cli_command cmd_recommend;
extern const struct cli_command cmd_observe;
extern const struct cli_command cmd_export_overrides;
extern const struct cli_command cmd_healthcheck;
extern const struct cli_command cmd_approve;
extern const struct cli_command cmd_deploy;
extern const struct cli_command cmd_rollback;
extern const struct cli_command cmd_status;
extern const struct cli_command cmd_reconcile;
extern const struct cli_command cmd_version;
extern const struct cli_command cmd_help;

/* NULL-terminated table, defined in cli.c. */
extern const struct cli_command *const cli_commands[];
const struct cli_command *cli_find(const char *name);
/* Dispatches argv (argv[0] is the program); "run" is the default command. */
int cli_main(int argc, char **argv);

/* Loads the config named by --config (may be NULL), prints every problem to
 * stderr, applies logging settings. Returns 0 and *ret_cfg or EXIT_INVALID. */
struct rm_config;
int cli_load_config(const char *path, struct rm_config **ret_cfg);

#endif
