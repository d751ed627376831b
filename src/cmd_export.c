/* cmd_export: `export-overrides`: writes a Compose override file with the
 * limits resource-manager manages, so a user can make them permanent. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rm/cli.h"
#include "rm/config.h"
#include "rm/overrides.h"
#include "rm/state.h"
#include "rm/units.h"
#include "rm/util.h"

static void write_overrides(const struct rm_state *s, FILE *out)
{
	char when[40], *header;
	struct override *o = xcalloc(s->n_services + 1, sizeof(*o));
	size_t n = 0;
	time_format_rfc3339(time_wall(), when, sizeof(when));
	for (size_t i = 0; i < s->n_services; i++) {
		const struct state_service *sv = &s->services[i];
		if (!sv->applied.known)
			continue;
		unsigned r = sv->replicas ? sv->replicas : 1;
		o[n++] = (struct override){ sv->name, sv->applied.cpu / r, sv->applied.memory / r };
	}
	header = xasprintf(
	        "Written by resource-manager export-overrides at %s.\n"
	        "The limits resource-manager applied last, per container. Use with:\n"
	        "  docker compose -f docker-compose.yml -f <this file> up -d\n"
	        "Services are named as monitored; a name that is a container name rather\n"
	        "than a Compose service must be renamed to its service here.%s",
	        when, n ? "" : "\nNo service has had its limits changed yet.");
	overrides_write(out, header, o, n);
	free(header);
	free(o);
}

static int export_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *output = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:o:", opts, NULL)) != -1) {
		if (c == 'c') {
			config = optarg;
		} else if (c == 'o') {
			output = optarg;
		} else {
			fprintf(stderr,
			        "resource-manager export-overrides: bad option '%s'; see --help\n",
			        argv[optind - 1]);
			return EXIT_INVALID;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "resource-manager export-overrides: unexpected argument '%s'\n",
		        argv[optind]);
		return EXIT_INVALID;
	}
	struct rm_config *cfg = NULL;
	int r = cli_load_config(config, &cfg);
	if (r)
		return r;
	struct rm_state *s = NULL;
	char err[512];
	r = state_load(cfg->state.path, &s, err, sizeof(err));
	if (r != 0) {
		fprintf(stderr, "resource-manager export-overrides: %s\n", err);
		state_free(s);
		config_free(cfg);
		return EXIT_RUNTIME;
	}
	int status = EXIT_OK;
	if (!output) {
		write_overrides(s, stdout);
	} else {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (!f)
			abort();
		write_overrides(s, f);
		fclose(f);
		if (file_write_atomic(output, text, len, 0644, err, sizeof(err)) < 0) {
			fprintf(stderr, "resource-manager export-overrides: %s\n", err);
			status = EXIT_RUNTIME;
		} else {
			fprintf(stderr, "wrote %s\n", output);
		}
		free(text);
	}
	state_free(s);
	config_free(cfg);
	return status;
}

const struct cli_command cmd_export_overrides = {
	.name = "export-overrides",
	.summary = "write a Compose override file with the managed limits",
	.usage = "Usage: resource-manager export-overrides [--config FILE] [--output FILE]\n"
	         "\n"
	         "Reads the state file (state.path) and writes a Compose override file with\n"
	         "the limits resource-manager applied last, per container, to FILE or to\n"
	         "standard output. `docker compose -f docker-compose.yml -f FILE up -d` then\n"
	         "keeps them when containers are recreated.\n"
	         "\n"
	         "Exit status: 0 written, 1 bad arguments or config, 2 state unreadable.\n",
	.run = export_run,
};
