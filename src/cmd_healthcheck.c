/* cmd_healthcheck: the container's health probe (the scratch image has no
 * shell or curl): GET /health of the running daemon, exit 0 when it says 200. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rm/cli.h"
#include "rm/config.h"
#include "rm/http.h"
#include "rm/util.h"
#include "rm/web_health.h"

#define HEALTHCHECK_TIMEOUT 2.0

static int healthcheck_parse(int argc, char **argv, const char **ret_config, const char **ret_url)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "url", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:u:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*ret_config = optarg;
			break;
		case 'u':
			*ret_url = optarg;
			break;
		case ':':
			fprintf(stderr, "resource-manager healthcheck: option %s needs a value\n",
			        argv[optind - 1]);
			return EXIT_INVALID;
		default:
			fprintf(stderr,
			        "resource-manager healthcheck: unknown option '%s'; see "
			        "'resource-manager healthcheck --help'\n",
			        argv[optind - 1]);
			return EXIT_INVALID;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "resource-manager healthcheck: unexpected argument '%s'\n",
		        argv[optind]);
		return EXIT_INVALID;
	}
	return EXIT_OK;
}

/* The base URL of /health from the config: the daemon's reserved health
 * socket when it is there (it answers while slow clients hold the public
 * port's workers), else the bound address, loopback for "any". */
static int url_from_config(const char *path, char **ret)
{
	struct rm_config *cfg = NULL;
	int r = cli_load_config(path, &cfg);
	if (r)
		return r;
	if (!cfg->metrics.enabled) {
		printf("unhealthy: metrics.enabled is false, so no web server answers /health\n");
		config_free(cfg);
		return EXIT_RUNTIME;
	}
	char *sock = web_health_socket_path(cfg);
	struct stat st;
	const char *host = cfg->metrics.bind_address;
	if (!*host || strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	if (sock && stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
		*ret = xasprintf("unix://%s", sock);
	else
		*ret = xasprintf("http://%s:%u/health", host, cfg->metrics.port);
	free(sock);
	config_free(cfg);
	return EXIT_OK;
}

static int healthcheck_run(int argc, char **argv)
{
	const char *config = NULL, *url_arg = NULL;
	int r = healthcheck_parse(argc, argv, &config, &url_arg);
	if (r)
		return r;
	char *url = NULL;
	if (url_arg)
		url = xstrdup(url_arg);
	else if ((r = url_from_config(config, &url)))
		return r;

	/* Split base and path: http_request takes them apart (a unix socket's
	 * URL is all base). */
	const char *scheme = strstr(url, "://");
	const char *slash =
	        scheme && strncmp(url, "unix://", 7) != 0 ? strchr(scheme + 3, '/') : NULL;
	char *base = slash ? xstrndup(url, (size_t)(slash - url)) : xstrdup(url);
	const char *path = slash ? slash : "/health";
	struct http_options opts = { .connect_timeout = HEALTHCHECK_TIMEOUT,
		                     .timeout = HEALTHCHECK_TIMEOUT,
		                     .max_body = 64 * 1024 };
	struct http_endpoint *ep = NULL;
	struct http_response resp = { 0 };
	char err[256] = "";
	if (!scheme || http_endpoint_new(base, &opts, &ep) < 0) {
		fprintf(stderr, "resource-manager healthcheck: cannot use URL '%s'\n", url);
		r = EXIT_INVALID;
		goto out;
	}
	if (http_request(ep, "GET", path, NULL, &resp, err, sizeof(err)) < 0) {
		printf("unhealthy: %s: %s\n", url, err);
		r = EXIT_RUNTIME;
		goto out;
	}
	json_t *j = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
	const char *status = json_string_value(json_object_get(j, "status"));
	printf("%s: HTTP %ld from %s\n",
	       status               ? status
	       : resp.status == 200 ? "ok"
	                            : "unhealthy",
	       resp.status, url);
	json_decref(j);
	r = resp.status == 200 ? EXIT_OK : EXIT_RUNTIME;
out:
	http_response_free(&resp);
	http_endpoint_free(ep);
	free(base);
	free(url);
	return r;
}

const struct cli_command cmd_healthcheck = {
	.name = "healthcheck",
	.summary = "probe the running daemon's /health (for Docker's HEALTHCHECK)",
	.usage = "Usage: resource-manager healthcheck [--config FILE] [--url URL]\n"
	         "\n"
	         "GETs /health of the running daemon with a 2 s timeout: by default over\n"
	         "its health socket (web.health_socket) when it is there, else\n"
	         "http://127.0.0.1:<metrics.port>/health (metrics.bind_address when it names\n"
	         "one address), or URL. Prints one line with the status it reports.\n"
	         "The image has no shell or curl; its HEALTHCHECK runs this command.\n"
	         "\n"
	         "Options:\n"
	         "  -c, --config FILE  configuration to read metrics.port from\n"
	         "  -u, --url URL      the URL to probe instead\n"
	         "\n"
	         "Exit status: 0 on HTTP 200 (healthy or degraded), 1 on bad arguments or\n"
	         "configuration, 2 otherwise (unhealthy, no answer, timeout).\n",
	.run = healthcheck_run,
};
