/* traefik_json: Traefik's API answer for one HTTP service to plain structs. */
#include "rm/traefik_json.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/json_depth.h"
#include "rm/util.h"

/* A service answer nests 4 levels (loadBalancer.servers[].url). */
#define TRAEFIK_JSON_MAX_DEPTH 16

static int fail(char *err, size_t errlen, int r, const char *field, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", field, what);
	return r;
}

void traefik_service_free(struct traefik_service *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_servers; i++) {
		free(s->servers[i].url);
		free(s->servers[i].status);
	}
	free(s->servers);
	free(s->name);
	free(s->status);
	memset(s, 0, sizeof(*s));
}

/* An optional bounded string member of o into *ret. */
static int opt_string(json_t *o, const char *key, char **ret, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(err, errlen, -EBADMSG, key, "not a string");
	if (json_string_length(v) > TRAEFIK_MAX_STRING)
		return fail(err, errlen, -EFBIG, key, "longer than 512 bytes");
	*ret = xstrndup(json_string_value(v), json_string_length(v));
	return 0;
}

static int parse_servers(json_t *st, struct traefik_service *s, char *err, size_t errlen)
{
	if (!json_is_object(st))
		return fail(err, errlen, -EBADMSG, "serverStatus", "not an object");
	size_t n = json_object_size(st);
	if (n > TRAEFIK_MAX_SERVERS)
		return fail(err, errlen, -EFBIG, "serverStatus", "more than 256 servers");
	s->servers = n ? xcalloc(n, sizeof(*s->servers)) : NULL;
	const char *url;
	json_t *v;
	json_object_foreach(st, url, v)
	{
		if (!json_is_string(v))
			return fail(err, errlen, -EBADMSG, "serverStatus",
			            "a status is not a string");
		if (strlen(url) > TRAEFIK_MAX_STRING || json_string_length(v) > TRAEFIK_MAX_STRING)
			return fail(err, errlen, -EFBIG, "serverStatus", "longer than 512 bytes");
		struct traefik_server *sv = &s->servers[s->n_servers++];
		sv->url = xstrdup(url);
		sv->status = xstrndup(json_string_value(v), json_string_length(v));
	}
	return 0;
}

int traefik_json_parse_service(const char *data, size_t len, struct traefik_service *ret, char *err,
                               size_t errlen)
{
	memset(ret, 0, sizeof(*ret));
	if (!data || !json_depth_within(data, len, TRAEFIK_JSON_MAX_DEPTH))
		return fail(err, errlen, -EBADMSG, "service", "no JSON, or nested deeper than 16");
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr);
	if (!root) {
		if (err && errlen)
			snprintf(err, errlen, "service: invalid JSON at line %d column %d: %s",
			         jerr.line, jerr.column, jerr.text);
		return -EBADMSG;
	}
	int r = 0;
	if (!json_is_object(root)) {
		r = fail(err, errlen, -EBADMSG, "service", "not an object");
		goto out;
	}
	if ((r = opt_string(root, "name", &ret->name, err, errlen)) < 0 ||
	    (r = opt_string(root, "status", &ret->status, err, errlen)) < 0)
		goto out;
	json_t *st = json_object_get(root, "serverStatus");
	if (st && !json_is_null(st))
		r = parse_servers(st, ret, err, errlen);
out:
	json_decref(root);
	if (r < 0)
		traefik_service_free(ret);
	return r;
}

/* true when url's host (after "scheme://", before ':' or '/'; IPv6 inside
 * brackets) is ip. */
static bool url_host_is(const char *url, const char *ip)
{
	const char *h = strstr(url, "://");
	if (!h)
		return false;
	h += 3;
	size_t n;
	if (*h == '[') {
		h++;
		const char *e = strchr(h, ']');
		if (!e)
			return false;
		n = (size_t)(e - h);
	} else {
		n = strcspn(h, ":/");
	}
	return n == strlen(ip) && strncmp(h, ip, n) == 0;
}

const char *traefik_server_status(const struct traefik_service *s, const char *ip)
{
	if (!ip || !*ip)
		return NULL;
	for (size_t i = 0; i < s->n_servers; i++)
		if (url_host_is(s->servers[i].url, ip))
			return s->servers[i].status;
	return NULL;
}

char *traefik_docker_service_name(const char *compose_service, const char *compose_project,
                                  const char *container_name)
{
	char *raw;
	if (compose_service && compose_project)
		raw = xasprintf("%s_%s", compose_service, compose_project);
	else if (container_name)
		raw = xstrdup(container_name);
	else
		return NULL;
	/* Traefik's provider.Normalize: runs of non-alphanumerics become one
	 * '-', none at the ends. */
	char *out = xmalloc(strlen(raw) + 1);
	size_t n = 0;
	bool sep = false;
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
		if (isalnum(*p) || *p >= 0x80) {
			if (sep && n)
				out[n++] = '-';
			sep = false;
			out[n++] = (char)*p;
		} else {
			sep = true;
		}
	}
	out[n] = '\0';
	free(raw);
	if (!n) {
		free(out);
		return NULL;
	}
	return out;
}
