/* cmd_approve: `approve SERVICE [--reject]`: answers a change waiting for
 * approval, through the running daemon's API (token and CSRF header included). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "rm/cli.h"
#include "rm/config.h"
#include "rm/http.h"
#include "rm/util.h"

struct approve_opts {
	const char *config;
	const char *url;
	const char *token_file;
	bool reject;
	const char *service;
};

static int approve_parse(int argc, char **argv, struct approve_opts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "url", required_argument, NULL, 'u' },
		{ "token-file", required_argument, NULL, 't' },
		{ "reject", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:u:t:r", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'u':
			o->url = optarg;
			break;
		case 't':
			o->token_file = optarg;
			break;
		case 'r':
			o->reject = true;
			break;
		default:
			fprintf(stderr, "resource-manager approve: bad option '%s'; see --help\n",
			        argv[optind - 1]);
			return EXIT_INVALID;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "resource-manager approve: give exactly one SERVICE; see --help\n");
		return EXIT_INVALID;
	}
	o->service = argv[optind];
	return EXIT_OK;
}

/* The token, trimmed, or NULL (with a message) when the file cannot be read. */
static char *read_token(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int r = file_read_all(path, 4096, &data, &len);
	if (r < 0) {
		fprintf(stderr, "resource-manager approve: cannot read the token file %s: %s\n",
		        path, strerror(-r));
		return NULL;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
		data[--len] = '\0';
	return data;
}

static int approve_run(int argc, char **argv)
{
	struct approve_opts o = { 0 };
	int r = approve_parse(argc, argv, &o);
	if (r)
		return r;
	struct rm_config *cfg = NULL;
	if ((r = cli_load_config(o.config, &cfg)))
		return r;
	const char *tf = o.token_file ? o.token_file : cfg->web.admin_token_file;
	char *token = NULL, *base = NULL, *path = NULL, *auth = NULL;
	struct http_endpoint *ep = NULL;
	struct http_response resp = { 0 };
	if (!*tf) {
		fprintf(stderr, "resource-manager approve: no token: set web.admin_token_file (or "
		                "--token-file) to the file the service reads its token from\n");
		r = EXIT_INVALID;
		goto out;
	}
	if (!(token = read_token(tf))) {
		r = EXIT_INVALID;
		goto out;
	}
	const char *host = cfg->metrics.bind_address;
	if (!*host || strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	base = o.url ? xstrdup(o.url) : xasprintf("http://%s:%u", host, cfg->metrics.port);
	char *svc = http_urlencode(o.service);
	path = xasprintf("/api/v1/services/%s/%s", svc, o.reject ? "reject" : "approve");
	free(svc);
	auth = xasprintf("Authorization: Bearer %s", token);
	const char *headers[] = { auth, "X-Requested-By: resource-manager", NULL };
	struct http_options hopts = { .connect_timeout = 3, .timeout = 15 };
	char err[256];
	if (http_endpoint_new(base, &hopts, &ep) < 0) {
		fprintf(stderr, "resource-manager approve: cannot use URL '%s'\n", base);
		r = EXIT_INVALID;
		goto out;
	}
	if (http_request_headers(ep, "POST", path, "{}", headers, &resp, err, sizeof(err)) < 0) {
		fprintf(stderr, "resource-manager approve: the service did not answer: %s\n", err);
		r = EXIT_RUNTIME;
		goto out;
	}
	json_t *j = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "message"));
	if (!msg)
		msg = json_string_value(json_object_get(j, "error"));
	printf("%s: %s\n", resp.status == 200 ? "ok" : "refused", msg ? msg : "(no message)");
	json_decref(j);
	r = resp.status == 200 ? EXIT_OK : resp.status == 404 ? EXIT_INVALID : EXIT_RUNTIME;
out:
	http_response_free(&resp);
	http_endpoint_free(ep);
	free(token);
	free(base);
	free(path);
	free(auth);
	config_free(cfg);
	return r;
}

const struct cli_command cmd_approve = {
	.name = "approve",
	.summary = "apply (or --reject) a change waiting for approval",
	.usage = "Usage: resource-manager approve SERVICE [--reject] [--config FILE]\n"
	         "                                [--url URL] [--token-file FILE]\n"
	         "\n"
	         "With automation.manual_approval on, decisions wait for approval. This asks\n"
	         "the running service (its API on metrics.port, or URL) to apply SERVICE's\n"
	         "pending change, or to drop it with --reject. The bearer token is read from\n"
	         "web.admin_token_file (or FILE).\n"
	         "\n"
	         "Exit status: 0 done, 1 bad arguments, config, token or unknown service,\n"
	         "2 the service refused or did not answer.\n",
	.run = approve_run,
};
