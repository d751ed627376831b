/* docker: Docker Engine API client over http.h (calls and version negotiation). */
#include "rm/docker.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docker_internal.h"
#include "rm/http.h"
#include "rm/log.h"
#include "rm/util.h"

int docker_client_new(const struct docker_client_options *opts, struct docker_client **ret,
                      char *err, size_t errlen)
{
	struct docker_api_version v;
	const char *api = opts->api_version;
	if (api && (strcmp(api, "auto") == 0 || api[0] == '\0'))
		api = NULL;
	if (api && docker_api_version_parse(api, &v) < 0) {
		if (err)
			snprintf(err, errlen, "docker: API version '%s' is not 'auto' or like 1.41",
			         api);
		return -EINVAL;
	}
	struct http_options ho = { .timeout = opts->timeout > 0 ? opts->timeout : 30,
		                   .max_body = opts->max_body };
	if (ho.timeout < ho.connect_timeout || ho.connect_timeout == 0)
		ho.connect_timeout = ho.timeout < 5 ? ho.timeout : 5;
	struct http_endpoint *ep = NULL;
	if (!opts->host || http_endpoint_new(opts->host, &ho, &ep) < 0) {
		if (err)
			snprintf(err, errlen,
			         "docker: host '%s' is not unix:///path, tcp://host:port or "
			         "http(s)://",
			         opts->host ? opts->host : "");
		return -EINVAL;
	}
	struct docker_client *c = xcalloc(1, sizeof(*c));
	c->host = xstrdup(opts->host);
	c->opts = ho;
	c->ep = ep;
	if (api) {
		c->fixed = true;
		docker_client_set_version(c, v);
	}
	*ret = c;
	return 0;
}

struct docker_client *docker_client_dup(const struct docker_client *c)
{
	struct docker_client *d = xcalloc(1, sizeof(*d));
	d->host = xstrdup(c->host);
	d->opts = c->opts;
	d->fixed = c->fixed;
	d->negotiated = c->negotiated;
	d->unreachable_wait = c->unreachable_wait;
	memcpy(d->version, c->version, sizeof(d->version));
	memcpy(d->prefix, c->prefix, sizeof(d->prefix));
	/* The URL was accepted once; it cannot fail now. */
	if (http_endpoint_new(c->host, &c->opts, &d->ep) < 0)
		abort();
	return d;
}

void docker_client_free(struct docker_client *c)
{
	if (!c)
		return;
	http_endpoint_free(c->ep);
	free(c->host);
	free(c);
}

void docker_client_counters(const struct docker_client *c, unsigned *ret_requests,
                            size_t *ret_bytes)
{
	*ret_requests = c->requests;
	*ret_bytes = c->bytes_received;
}

const char *docker_client_describe(const struct docker_client *c)
{
	return c->host;
}

void docker_client_set_unreachable_wait(struct docker_client *c, double seconds)
{
	c->unreachable_wait = seconds > 0 ? seconds : 0;
}

double docker_client_unreachable_wait(const struct docker_client *c)
{
	return c->unreachable_wait;
}

void docker_client_set_version(struct docker_client *c, struct docker_api_version v)
{
	snprintf(c->version, sizeof(c->version), "%u.%u", v.major, v.minor);
	snprintf(c->prefix, sizeof(c->prefix), "/v%u.%u", v.major, v.minor);
	c->negotiated = true;
}

const char *docker_api_version(const struct docker_client *c)
{
	return c->negotiated ? c->version : NULL;
}

static int status_to_errno(long status)
{
	if ((status >= 200 && status < 300) || status == 304)
		return 0;
	switch (status) {
	case 400:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 409:
		return -EBUSY;
	default:
		return -EIO;
	}
}

int docker_raw_request(struct docker_client *c, struct http_endpoint *ep, const char *method,
                       const char *path, const char *body, struct http_response *ret, char *err,
                       size_t errlen)
{
	struct http_response resp = { 0 };
	double until = 0;
	int r;
	for (;;) {
		r = http_request(ep ? ep : c->ep, method, path, body, &resp, err, errlen);
		c->requests++;
		if (r != -ECONNREFUSED || c->unreachable_wait <= 0)
			break;
		double now = time_monotonic();
		if (until == 0) {
			until = now + c->unreachable_wait;
			log_warn("docker",
			         "the engine cannot be reached; waiting up to %.0f s for it\t"
			         "host=%s request=\"%s %s\"",
			         c->unreachable_wait, c->host, method, path);
		}
		if (now >= until)
			break;
		struct timespec ts = { 0, 250000000 };
		nanosleep(&ts, NULL);
	}
	if (until != 0 && r != -ECONNREFUSED)
		log_info("docker", "the engine answers again\thost=%s", c->host);
	/* curl's words for a unix socket ("localhost port 80") mislead. */
	if (r == -ECONNREFUSED && until != 0 && err)
		snprintf(err, errlen, "the Docker engine at %s cannot be reached (waited %.0f s)",
		         c->host, c->unreachable_wait);
	if (r < 0)
		return r;
	c->bytes_received += resp.body_len;
	r = status_to_errno(resp.status);
	if (r < 0) {
		char *msg = docker_json_error_message(resp.body, resp.body_len);
		if (err)
			snprintf(err, errlen, "%s %s: HTTP %ld: %s", method, path, resp.status,
			         msg ? msg : "(no message)");
		free(msg);
		http_response_free(&resp);
		return r;
	}
	*ret = resp;
	return 0;
}

int docker_negotiate(struct docker_client *c, char *err, size_t errlen)
{
	if (c->negotiated)
		return 0;
	struct docker_version v = { 0 };
	int r = docker_version(c, &v, err, errlen);
	if (r < 0)
		return r;
	struct docker_api_version server, min = { 1, 12 }, mine, use;
	/* Both were checked by the parser. */
	docker_api_version_parse(v.api_version, &server);
	if (v.min_api_version)
		docker_api_version_parse(v.min_api_version, &min);
	docker_api_version_parse(DOCKER_CLIENT_API_MAX, &mine);
	use = docker_api_version_cmp(server, mine) < 0 ? server : mine;
	/* An engine newer than this client may refuse old versions (Engine 29
	 * refuses < 1.44): never go below its minimum. */
	if (docker_api_version_cmp(use, min) < 0)
		use = min;
	if (docker_api_version_cmp(use, server) > 0) {
		if (err)
			snprintf(err, errlen, "docker: engine API %s has a minimum %s above itself",
			         v.api_version, v.min_api_version);
		r = -EPROTONOSUPPORT;
		goto out;
	}
	docker_client_set_version(c, use);
	log_debug("docker", "negotiated API version\thost=%s version=%s server=%s min=%s", c->host,
	          c->version, v.api_version, v.min_api_version ? v.min_api_version : "?");
out:
	docker_version_free(&v);
	return r;
}

/* METHOD /vX.Y<path> with the negotiated version, on ep (NULL = the client's
 * own). */
static int vrequest(struct docker_client *c, struct http_endpoint *ep, const char *method,
                    const char *path, const char *body, struct http_response *ret, char *err,
                    size_t errlen)
{
	int r = docker_negotiate(c, err, errlen);
	if (r < 0)
		return r;
	char *full = xasprintf("%s%s", c->prefix, path);
	r = docker_raw_request(c, ep, method, full, body, ret, err, errlen);
	free(full);
	return r;
}

/* A request whose answer is of no interest beyond its status. */
static int vcall(struct docker_client *c, const char *method, const char *path, const char *body,
                 char *err, size_t errlen)
{
	struct http_response resp = { 0 };
	int r = vrequest(c, NULL, method, path, body, &resp, err, errlen);
	http_response_free(&resp);
	return r;
}

/* "/containers/<id, encoded><rest>", rest formatted (owned). */
static char *container_vpath(const char *id, const char *fmt, va_list ap) RM_PRINTF(2, 0);
static char *container_vpath(const char *id, const char *fmt, va_list ap)
{
	char *rest = xvasprintf(fmt, ap);
	char *enc = http_urlencode(id);
	char *path = xasprintf("/containers/%s%s", enc, rest);
	free(enc);
	free(rest);
	return path;
}

static char *container_path(const char *id, const char *fmt, ...) RM_PRINTF(2, 3);
static char *container_path(const char *id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *path = container_vpath(id, fmt, ap);
	va_end(ap);
	return path;
}

/* What an answer is parsed into: the ret given with it points to that. */
enum answer {
	ANSWER_VERSION, /* struct docker_version */
	ANSWER_INFO,    /* struct docker_info */
	ANSWER_LIST,    /* struct docker_container_list */
	ANSWER_INSPECT, /* struct docker_inspect */
	ANSWER_CREATE,  /* char *, the new container's id */
	ANSWER_STATS,   /* struct docker_stats */
};

static int parse_as(enum answer kind, const char *data, size_t len, void *ret, char *err,
                    size_t errlen)
{
	switch (kind) {
	case ANSWER_VERSION:
		return docker_json_parse_version(data, len, ret, err, errlen);
	case ANSWER_INFO:
		return docker_json_parse_info(data, len, ret, err, errlen);
	case ANSWER_LIST:
		return docker_json_parse_container_list(data, len, ret, err, errlen);
	case ANSWER_INSPECT:
		return docker_json_parse_inspect(data, len, ret, err, errlen);
	case ANSWER_CREATE:
		return docker_json_parse_create(data, len, ret, err, errlen);
	case ANSWER_STATS:
		return docker_json_parse_stats(data, len, ret, err, errlen);
	}
	abort();
}

/* Ends a request (r, the answer in *resp) whose answer is parsed as kind into
 * ret: a parse error is prefixed with what, the request, keeping Docker's
 * words. Frees the answer. */
static int parse_answer(int r, struct http_response *resp, enum answer kind, void *ret,
                        const char *what, char *err, size_t errlen)
{
	if (r == 0) {
		r = parse_as(kind, resp->body, resp->body_len, ret, err, errlen);
		if (r < 0 && err && errlen) {
			char *tmp = xstrdup(err);
			snprintf(err, errlen, "%s: %s", what, tmp);
			free(tmp);
		}
	}
	http_response_free(resp);
	return r;
}

/* METHOD path (versioned) with body, its answer parsed as kind into ret (see
 * parse_answer). */
static int vparse(struct docker_client *c, const char *method, const char *path, const char *body,
                  enum answer kind, void *ret, const char *what, char *err, size_t errlen)
{
	struct http_response resp = { 0 };
	int r = vrequest(c, NULL, method, path, body, &resp, err, errlen);
	return parse_answer(r, &resp, kind, ret, what, err, errlen);
}

int docker_ping(struct docker_client *c, char *err, size_t errlen)
{
	struct http_response resp = { 0 };
	int r = docker_raw_request(c, NULL, "GET", "/_ping", NULL, &resp, err, errlen);
	if (r == 0 && (resp.body_len < 2 || strncmp(resp.body, "OK", 2) != 0)) {
		if (err)
			snprintf(err, errlen, "GET /_ping: the answer is not OK");
		r = -EBADMSG;
	}
	http_response_free(&resp);
	return r;
}

int docker_version(struct docker_client *c, struct docker_version *ret, char *err, size_t errlen)
{
	struct http_response resp = { 0 };
	int r = docker_raw_request(c, NULL, "GET", "/version", NULL, &resp, err, errlen);
	return parse_answer(r, &resp, ANSWER_VERSION, ret, "GET /version", err, errlen);
}

int docker_info(struct docker_client *c, struct docker_info *ret, char *err, size_t errlen)
{
	return vparse(c, "GET", "/info", NULL, ANSWER_INFO, ret, "GET /info", err, errlen);
}

int docker_containers_list(struct docker_client *c, bool all, const char *const *labels,
                           size_t n_labels, struct docker_container_list *ret, char *err,
                           size_t errlen)
{
	struct strbuf path;
	strbuf_init(&path);
	strbuf_printf(&path, "/containers/json?all=%s", all ? "true" : "false");
	if (n_labels) {
		struct docker_filter f = { "label", labels, n_labels };
		char *json = docker_json_filters(&f, 1);
		char *enc = http_urlencode(json);
		strbuf_printf(&path, "&filters=%s", enc);
		free(enc);
		free(json);
	}
	int r = vparse(c, "GET", path.data, NULL, ANSWER_LIST, ret, "GET /containers/json", err,
	               errlen);
	strbuf_free(&path);
	return r;
}

/* GET /containers/{id}<rest>, its answer parsed as kind into ret; a parse
 * error names the path. */
static int container_get(struct docker_client *c, const char *id, const char *rest,
                         enum answer kind, void *ret, char *err, size_t errlen)
{
	char *path = container_path(id, "%s", rest);
	int r = vparse(c, "GET", path, NULL, kind, ret, path, err, errlen);
	free(path);
	return r;
}

int docker_container_inspect(struct docker_client *c, const char *id, struct docker_inspect *ret,
                             char *err, size_t errlen)
{
	return container_get(c, id, "/json", ANSWER_INSPECT, ret, err, errlen);
}

int docker_container_create(struct docker_client *c, const char *name, const char *body,
                            char **ret_id, char *err, size_t errlen)
{
	char *enc = name ? http_urlencode(name) : NULL;
	char *path =
	        enc ? xasprintf("/containers/create?name=%s", enc) : xstrdup("/containers/create");
	int r = vparse(c, "POST", path, body, ANSWER_CREATE, ret_id, path, err, errlen);
	free(path);
	free(enc);
	return r;
}

/* METHOD /containers/{id}<rest> with body, the answer of no interest. */
static int container_call(struct docker_client *c, const char *method, const char *id,
                          const char *body, char *err, size_t errlen, const char *fmt, ...)
        RM_PRINTF(7, 8);
static int container_call(struct docker_client *c, const char *method, const char *id,
                          const char *body, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *path = container_vpath(id, fmt, ap);
	va_end(ap);
	int r = vcall(c, method, path, body, err, errlen);
	free(path);
	return r;
}

int docker_container_start(struct docker_client *c, const char *id, char *err, size_t errlen)
{
	return container_call(c, "POST", id, NULL, err, errlen, "/start");
}

int docker_container_stop(struct docker_client *c, const char *id, int timeout_s, char *err,
                          size_t errlen)
{
	if (timeout_s < 0)
		timeout_s = 0;
	/* The engine answers only after the grace period: this request gets
	 * its own endpoint with a timeout that covers it. */
	struct http_options ho = c->opts;
	ho.timeout += timeout_s;
	struct http_endpoint *ep = NULL;
	if (http_endpoint_new(c->host, &ho, &ep) < 0)
		abort();
	char *path = container_path(id, "/stop?t=%d", timeout_s);
	struct http_response resp = { 0 };
	int r = vrequest(c, ep, "POST", path, NULL, &resp, err, errlen);
	http_response_free(&resp);
	http_endpoint_free(ep);
	free(path);
	return r;
}

int docker_container_kill(struct docker_client *c, const char *id, const char *signal, char *err,
                          size_t errlen)
{
	char *enc = http_urlencode(signal ? signal : "SIGKILL");
	int r = container_call(c, "POST", id, NULL, err, errlen, "/kill?signal=%s", enc);
	free(enc);
	return r;
}

int docker_container_remove(struct docker_client *c, const char *id, bool force, bool volumes,
                            char *err, size_t errlen)
{
	return container_call(c, "DELETE", id, NULL, err, errlen, "?force=%s&v=%s",
	                      force ? "true" : "false", volumes ? "true" : "false");
}

int docker_container_rename(struct docker_client *c, const char *id, const char *new_name,
                            char *err, size_t errlen)
{
	char *enc = http_urlencode(new_name);
	int r = container_call(c, "POST", id, NULL, err, errlen, "/rename?name=%s", enc);
	free(enc);
	return r;
}

int docker_container_update(struct docker_client *c, const char *id, const char *body, char *err,
                            size_t errlen)
{
	return container_call(c, "POST", id, body, err, errlen, "/update");
}

int docker_container_set_limits(struct docker_client *c, const struct docker_inspect *cur,
                                const struct docker_limits *want, char *err, size_t errlen)
{
	char *body = NULL;
	int r = docker_json_update_body(&cur->host_config, want, &body);
	if (r < 0) {
		if (err)
			snprintf(err, errlen, "docker: no valid limit to set on %s", cur->id);
		return r;
	}
	r = docker_container_update(c, cur->id, body, err, errlen);
	free(body);
	return r;
}

int docker_network_connect(struct docker_client *c, const char *network, const char *container,
                           const char *const *aliases, size_t n_aliases, char *err, size_t errlen)
{
	return docker_network_connect_ip(c, network, container, aliases, n_aliases, NULL, err,
	                                 errlen);
}

int docker_network_connect_ip(struct docker_client *c, const char *network, const char *container,
                              const char *const *aliases, size_t n_aliases, const char *ipv4,
                              char *err, size_t errlen)
{
	char *body = docker_json_connect_body(container, aliases, n_aliases, ipv4);
	char *enc = http_urlencode(network);
	char *path = xasprintf("/networks/%s/connect", enc);
	int r = vcall(c, "POST", path, body, err, errlen);
	free(path);
	free(enc);
	free(body);
	return r;
}

int docker_network_disconnect(struct docker_client *c, const char *network, const char *container,
                              bool force, char *err, size_t errlen)
{
	char *body = docker_json_disconnect_body(container, force);
	char *enc = http_urlencode(network);
	char *path = xasprintf("/networks/%s/disconnect", enc);
	int r = vcall(c, "POST", path, body, err, errlen);
	free(path);
	free(enc);
	free(body);
	return r;
}

int docker_container_stats(struct docker_client *c, const char *id, struct docker_stats *ret,
                           char *err, size_t errlen)
{
	return container_get(c, id, "/stats?stream=false&one-shot=true", ANSWER_STATS, ret, err,
	                     errlen);
}
