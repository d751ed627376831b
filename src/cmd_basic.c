/* cmd_basic: the commands that only inform: check-config, version and help. */
#include <curl/curl.h>
#include <cyaml/cyaml.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "rm/cli.h"
#include "rm/config.h"

/* Parses the options every informational command shares. Returns 0, or
 * EXIT_INVALID after printing what was wrong. */
static int parse_config_option(int argc, char **argv, const char *cmd, const char **ret_path,
                               int *ret_quiet)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:q", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*ret_path = optarg;
			break;
		case 'q':
			if (ret_quiet)
				*ret_quiet = 1;
			break;
		case ':':
			fprintf(stderr, "resource-manager %s: option %s needs a value\n", cmd,
			        argv[optind - 1]);
			return EXIT_INVALID;
		default:
			fprintf(stderr,
			        "resource-manager %s: unknown option '%s'; see 'resource-manager "
			        "%s --help'\n",
			        cmd, argv[optind - 1], cmd);
			return EXIT_INVALID;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "resource-manager %s: unexpected argument '%s'\n", cmd,
		        argv[optind]);
		return EXIT_INVALID;
	}
	return EXIT_OK;
}

static int check_config_run(int argc, char **argv)
{
	const char *path = NULL;
	int quiet = 0;
	int r = parse_config_option(argc, argv, "check-config", &path, &quiet);
	if (r)
		return r;
	struct rm_config *cfg = NULL;
	r = cli_load_config(path, &cfg);
	if (r)
		return r;
	if (!quiet)
		config_describe(cfg, stdout);
	printf("configuration OK (%s)\n", cfg->source_path);
	config_free(cfg);
	return EXIT_OK;
}

const struct cli_command cmd_check_config = {
	.name = "check-config",
	.summary = "validate the configuration and print the effective settings",
	.usage = "Usage: resource-manager check-config [--config FILE] [--quiet]\n"
	         "\n"
	         "Loads the configuration (FILE, else $CONFIG_PATH, else /config/config.yml,\n"
	         "else the embedded default), applies environment overrides and validates it.\n"
	         "Prints every key with its effective value and where it came from (default,\n"
	         "file line, or environment variable), then the keys accepted but not used yet.\n"
	         "Every problem is reported at once, with its key path and line.\n"
	         "\n"
	         "  -c, --config FILE  the configuration file\n"
	         "  -q, --quiet        print only problems and the verdict\n"
	         "\n"
	         "Exit status: 0 valid (warnings allowed), 1 invalid.\n",
	.run = check_config_run,
};

static int version_run(int argc, char **argv)
{
	curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	printf("resource-manager %s\n", RM_VERSION);
	printf("libcurl %s, jansson %s, libcyaml %s\n", cv->version, jansson_version_str(),
	       cyaml_version_str);
	return EXIT_OK;
}

const struct cli_command cmd_version = {
	.name = "version",
	.summary = "print the version and the libraries it was built with",
	.usage = "Usage: resource-manager version\n",
	.run = version_run,
};

static int help_run(int argc, char **argv)
{
	if (argc > 1) {
		const struct cli_command *c = cli_find(argv[1]);
		if (!c) {
			fprintf(stderr, "resource-manager help: unknown command '%s'\n", argv[1]);
			return EXIT_INVALID;
		}
		fputs(c->usage, stdout);
		return EXIT_OK;
	}
	printf("Usage: resource-manager [COMMAND] [--config FILE] [options]\n\n"
	       "Keeps the containers of a Docker Compose stack right-sized.\n\n"
	       "Commands:\n");
	for (size_t i = 0; cli_commands[i]; i++)
		printf("  %-17s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
	printf("\n'run' is the default command. 'resource-manager COMMAND --help' tells more.\n"
	       "Exit status: 0 success, 1 invalid input or config, 2 runtime failure.\n");
	return EXIT_OK;
}

const struct cli_command cmd_help = {
	.name = "help",
	.summary = "list the commands, or explain one",
	.usage = "Usage: resource-manager help [COMMAND]\n",
	.run = help_run,
};
