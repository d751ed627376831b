/* web: civetweb glue: routing, auth, CSRF, headers, limits and the published
 * snapshot. Handlers take a reference to the latest view under the lock,
 * render and write without it, and drop the reference. */
#include "rm/web.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rm/json_depth.h"
#include "rm/log.h"
#include "rm/render.h"
#include "rm/units.h"
#include "rm/util.h"
#include "rm/web_health.h"

#define WEB_MAX_HEADERS    "8192" /* civetweb's request (line + headers) buffer */
#define WEB_MAX_JSON_DEPTH 2      /* the API takes flat objects: {"cpu": 1.5} */
#define WEB_MAX_URI        1024
#define WEB_MAX_NAME       128
#define WEB_MAX_TOKEN_FILE 4096
#define WEB_CSRF_HEADER    "X-Requested-By"
#define WEB_CSRF_VALUE     "resource-manager"

/* Embedded at build time (CMakeLists.txt, cmake/embed.cmake). */
extern const unsigned char rm_asset_dashboard_html[], rm_asset_dashboard_css[],
        rm_asset_dashboard_js[], rm_asset_chart_js[];
extern const size_t rm_asset_dashboard_html_len, rm_asset_dashboard_css_len,
        rm_asset_dashboard_js_len, rm_asset_chart_js_len;

/* A published view and the handlers reading it. */
struct snapshot {
	struct view *view;
	/* /metrics, rendered once per view when it is published (it depends on
	 * the view only), so that a scrape is a copy, not a rendering. */
	char *metrics;
	size_t metrics_len;
	unsigned refs; /* under web_server.lock; the server's own pointer is one */
};

struct web_server {
	struct mg_context *ctx;
	pthread_mutex_t lock;
	struct snapshot *current;
	web_command_fn fn;
	void *fn_ctx;
	char *token; /* NULL: no bearer token configured */
	size_t token_len;
	bool trust_forward_auth;
	bool read_requires_auth;
	size_t max_body;
	char *metrics_path;
	int port;
	double request_timeout; /* seconds for a whole request to arrive */
	char **hosts;           /* Host names answered besides IP literals */
	size_t n_hosts;
	bool any_host; /* web.allowed_hosts holds "*" */
	struct web_health *health;
};

/* ---- snapshots ---- */

static struct snapshot *snapshot_acquire(struct web_server *w)
{
	pthread_mutex_lock(&w->lock);
	struct snapshot *s = w->current;
	s->refs++;
	pthread_mutex_unlock(&w->lock);
	return s;
}

static void snapshot_release(struct web_server *w, struct snapshot *s)
{
	pthread_mutex_lock(&w->lock);
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&w->lock);
	if (last) {
		view_free(s->view);
		free(s->metrics);
		free(s);
	}
}

static struct snapshot *snapshot_new(struct view *v)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));
	s->view = v;
	s->metrics = render_metrics(v);
	s->metrics_len = strlen(s->metrics);
	s->refs = 1;
	return s;
}

void web_publish(struct web_server *w, struct view *v)
{
	if (!w) {
		view_free(v);
		return;
	}
	struct snapshot *s = snapshot_new(v);
	pthread_mutex_lock(&w->lock);
	struct snapshot *old = w->current;
	w->current = s;
	pthread_mutex_unlock(&w->lock);
	snapshot_release(w, old);
}

/* ---- responses ---- */

enum cache {
	CACHE_NONE,  /* API, health, metrics: never stored */
	CACHE_ASSET, /* embedded assets: revalidate (they change with the binary) */
};

/* Writes a whole response with the security headers every answer carries.
 * extra: more header lines, each ending in \r\n (may be NULL). */
static void reply(struct mg_connection *c, int status, const char *ctype, const void *body,
                  size_t len, enum cache cache, const char *extra)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	/* civetweb's own errors come before the request line is known. */
	bool head = ri && ri->request_method && strcmp(ri->request_method, "HEAD") == 0;
	mg_printf(c,
	          "HTTP/1.1 %d %s\r\n"
	          "Content-Type: %s\r\n"
	          "Content-Length: %zu\r\n"
	          "Content-Security-Policy: default-src 'none'; script-src 'self'; "
	          "style-src 'self'; img-src 'self' data:; connect-src 'self'; "
	          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"
	          "X-Content-Type-Options: nosniff\r\n"
	          "X-Frame-Options: DENY\r\n"
	          "Referrer-Policy: no-referrer\r\n"
	          "Cross-Origin-Resource-Policy: same-origin\r\n"
	          "Cache-Control: %s\r\n"
	          "%s"
	          "Connection: close\r\n\r\n",
	          status, mg_get_response_code_text(c, status), ctype, len,
	          cache == CACHE_NONE ? "no-store" : "no-cache", extra ? extra : "");
	if (!head && len)
		mg_write(c, body, len);
}

static void reply_json(struct mg_connection *c, int status, const char *json)
{
	reply(c, status, "application/json", json, strlen(json), CACHE_NONE, NULL);
}

/* A JSON string of s with anything but printable ASCII replaced by '?':
 * messages may quote request headers, and jansson refuses invalid UTF-8. */
static json_t *json_text(const char *s)
{
	char *c = xstrdup(s);
	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	json_t *j = json_string(c);
	free(c);
	return j;
}

/* {"error": msg} with the given status. */
static void reply_error(struct mg_connection *c, int status, const char *extra, const char *fmt,
                        ...) RM_PRINTF(4, 5);
static void reply_error(struct mg_connection *c, int status, const char *extra, const char *fmt,
                        ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	json_t *o = json_object();
	json_object_set_new(o, "error", json_text(msg));
	char *body = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (!body)
		abort();
	reply(c, status, "application/json", body, strlen(body), CACHE_NONE, extra);
	free(body);
	free(msg);
}

/* ---- requests ---- */

struct request {
	struct web_server *w;
	struct mg_connection *c;
	const struct mg_request_info *ri;
	const char *path;
	bool get; /* GET or HEAD */
	bool post;
	double deadline;   /* monotonic: the whole request must have arrived by then */
	bool body_pending; /* a body was announced and is not read yet */
};

static bool header_is(const char *value, const char *want)
{
	return value && strcasecmp(value, want) == 0;
}

/* Constant-time in the secret's length: every byte of the secret is compared
 * whatever the candidate holds. */
static bool token_equal(const char *given, size_t given_len, const char *secret, size_t len)
{
	unsigned char d = given_len != len;
	for (size_t i = 0; i < len; i++) {
		unsigned char g = i < given_len ? (unsigned char)given[i] : 0;
		d |= g ^ (unsigned char)secret[i];
	}
	return d == 0;
}

/* The user the request acts as, or NULL when it carries no valid credential. */
static const char *request_user(const struct request *rq)
{
	const struct web_server *w = rq->w;
	const char *auth = mg_get_header(rq->c, "Authorization");
	if (w->token && auth && strncasecmp(auth, "Bearer ", 7) == 0) {
		const char *t = auth + 7;
		while (*t == ' ')
			t++;
		if (token_equal(t, strlen(t), w->token, w->token_len))
			return "token";
	}
	if (w->trust_forward_auth) {
		const char *u = mg_get_header(rq->c, "X-Forwarded-User");
		if (!u || !*u)
			u = mg_get_header(rq->c, "X-Auth-Request-User");
		if (u && *u)
			return u;
	}
	return NULL;
}

/* The Origin's host[:port] equals the Host header (or, behind the proxy we
 * trust, X-Forwarded-Host). */
static bool origin_matches(const struct request *rq, const char *origin)
{
	const char *p = strstr(origin, "://");
	if (!p)
		return false;
	p += 3;
	const char *host = mg_get_header(rq->c, "Host");
	if (host && strcasecmp(p, host) == 0)
		return true;
	const char *fwd =
	        rq->w->trust_forward_auth ? mg_get_header(rq->c, "X-Forwarded-Host") : NULL;
	return fwd && strcasecmp(p, fwd) == 0;
}

/* Refuses (and answers) a mutating request that a cross-site page could have
 * sent: it must carry the custom header, and an Origin must be ours. */
static void log_refused(const struct request *rq, int status, const char *why)
{
	log_info("web", "request refused\tmethod=%s path=%s status=%d reason=%s remote=%s",
	         rq->ri->request_method, rq->path, status, why, rq->ri->remote_addr);
}

static bool check_csrf(const struct request *rq)
{
	if (!header_is(mg_get_header(rq->c, WEB_CSRF_HEADER), WEB_CSRF_VALUE)) {
		log_refused(rq, 403, "csrf_header");
		reply_error(rq->c, 403, NULL,
		            "missing header " WEB_CSRF_HEADER ": " WEB_CSRF_VALUE
		            " (required on every POST)");
		return false;
	}
	const char *origin = mg_get_header(rq->c, "Origin");
	if (origin && !origin_matches(rq, origin)) {
		log_refused(rq, 403, "origin");
		reply_error(rq->c, 403, NULL,
		            "cross-origin request refused: Origin is not this host");
		return false;
	}
	return true;
}

/* Answers 401/403 and returns NULL when the request may not proceed. */
static const char *check_auth(const struct request *rq)
{
	const struct web_server *w = rq->w;
	if (!w->token && !w->trust_forward_auth) {
		log_refused(rq, 403, "no_credentials_configured");
		reply_error(rq->c, 403, NULL,
		            "no credentials are configured: set web.admin_token_file or "
		            "web.trust_forward_auth to allow this");
		return NULL;
	}
	const char *user = request_user(rq);
	if (!user)
		log_refused(rq, 401, "unauthenticated");
	if (!user)
		reply_error(rq->c, 401, "WWW-Authenticate: Bearer realm=\"resource-manager\"\r\n",
		            "authentication required (bearer token%s)",
		            w->trust_forward_auth ? " or forward-auth user header" : "");
	return user;
}

/* Why reading a body failed, as an answer: -EFBIG 413, -ETIMEDOUT 408, else 400. */
static void reply_body_error(const struct request *rq, int r)
{
	if (r == -EFBIG)
		reply_error(rq->c, 413, NULL, "request body larger than %zu bytes (web.max_body)",
		            rq->w->max_body);
	else if (r == -ETIMEDOUT)
		reply_error(rq->c, 408, NULL,
		            "request not received within %g s (web.request_timeout); closing",
		            rq->w->request_timeout);
	else
		reply_error(rq->c, 400, NULL, "request body shorter than announced or unreadable");
}

/* Reads the body (Content-Length bytes, at most max_body) by the request's
 * deadline. Answers 413/408/400 and returns a negative errno on failure;
 * *ret is NUL-terminated and owned. */
static int read_body(struct request *rq, char **ret, size_t *ret_len)
{
	long long cl = rq->ri->content_length;
	size_t len = 0, want = cl > 0 ? (size_t)cl : 0;
	if (cl > (long long)rq->w->max_body) {
		reply_body_error(rq, -EFBIG);
		return -EFBIG;
	}
	char *buf = xmalloc(want + 1);
	int r = 0;
	/* One byte per read: mg_read returns only once all it was asked for has
	 * come (its timeout is per wait between bytes), so a larger read would let
	 * a client trickling bytes hold the worker past the deadline. Bytes
	 * civetweb already buffered with the headers cost no system call. */
	while (r == 0 && len < want) {
		int n = time_monotonic() > rq->deadline ? -ETIMEDOUT : mg_read(rq->c, buf + len, 1);
		if (n < 0)
			r = n == -ETIMEDOUT ? n : -EIO;
		else
			len += (size_t)n; /* 0: a wait timed out; the deadline decides */
	}
	if (r < 0) {
		free(buf);
		reply_body_error(rq, r);
		return r;
	}
	rq->body_pending = false;
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* Parses an optional JSON object body. *ret is NULL for an empty body. */
static int read_json(struct request *rq, json_t **ret)
{
	char *body = NULL;
	size_t len = 0;
	int r = read_body(rq, &body, &len);
	if (r < 0)
		return r;
	*ret = NULL;
	size_t i = 0;
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	/* jansson recurses once per level on a worker's small stack (100 KiB
	 * in Debian's civetweb): never hand it more than the API needs. */
	if (i < len && !json_depth_within(body, len, WEB_MAX_JSON_DEPTH)) {
		reply_error(rq->c, 400, NULL,
		            "JSON nested deeper than %d levels; the API takes a flat object such "
		            "as {\"cpu\": 1.5}",
		            WEB_MAX_JSON_DEPTH);
		free(body);
		return -EBADMSG;
	}
	if (i < len) {
		json_error_t e;
		json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
		if (!j || !json_is_object(j)) {
			if (j)
				reply_error(rq->c, 400, NULL, "malformed JSON: expected an object");
			else
				reply_error(rq->c, 400, NULL,
				            "malformed JSON at line %d column %d: %s", e.line,
				            e.column, e.text);
			json_decref(j);
			free(body);
			return -EBADMSG;
		}
		*ret = j;
	}
	free(body);
	return 0;
}

/* ---- handlers ---- */

static void serve_asset(const struct request *rq, const char *ctype, const unsigned char *data,
                        size_t len)
{
	reply(rq->c, 200, ctype, data, len, CACHE_ASSET, NULL);
}

static void serve_health(const struct request *rq)
{
	/* Open to anyone: the reason a dependency is down (an endpoint, an
	 * error text) only for a reader who could see the status anyway. */
	bool detail = rq->w->read_requires_auth && request_user(rq) != NULL;
	struct snapshot *s = snapshot_acquire(rq->w);
	char *body = NULL;
	int status = render_health_json(s->view, time_wall(), detail, &body);
	snapshot_release(rq->w, s);
	reply_json(rq->c, status, body);
	free(body);
}

static void serve_metrics(const struct request *rq)
{
	struct snapshot *s = snapshot_acquire(rq->w);
	reply(rq->c, 200, "text/plain; version=0.0.4; charset=utf-8", s->metrics, s->metrics_len,
	      CACHE_NONE, NULL);
	snapshot_release(rq->w, s);
}

static void serve_status(const struct request *rq)
{
	struct snapshot *s = snapshot_acquire(rq->w);
	char *body = render_status_json(s->view, time_wall());
	snapshot_release(rq->w, s);
	reply_json(rq->c, 200, body);
	free(body);
}

static void serve_service(const struct request *rq, const char *name)
{
	struct snapshot *s = snapshot_acquire(rq->w);
	char *body = render_service_json(s->view, name);
	snapshot_release(rq->w, s);
	if (body)
		reply_json(rq->c, 200, body);
	else
		reply_error(rq->c, 404, NULL, "no monitored service named '%s'", name);
	free(body);
}

static void serve_history(const struct request *rq)
{
	const char *q = rq->ri->query_string;
	size_t qlen = q ? strlen(q) : 0;
	char service[WEB_MAX_NAME + 1], lim[16];
	bool has_service = q && mg_get_var(q, qlen, "service", service, sizeof(service)) >= 0;
	size_t limit = RENDER_HISTORY_DEFAULT;
	if (q) {
		int n = mg_get_var(q, qlen, "limit", lim, sizeof(lim));
		unsigned u = 0;
		if (n == -2 || (n >= 0 && (units_parse_uint(lim, &u) < 0 || u < 1 ||
		                           u > RENDER_HISTORY_MAX))) {
			reply_error(rq->c, 400, NULL, "limit must be a whole number from 1 to %d",
			            RENDER_HISTORY_MAX);
			return;
		}
		if (n >= 0)
			limit = u;
		if (!has_service &&
		    mg_get_var(q, qlen, "service", service, sizeof(service)) == -2) {
			reply_error(rq->c, 400, NULL, "service name too long");
			return;
		}
	}
	struct snapshot *s = snapshot_acquire(rq->w);
	char *body = render_history_json(s->view, has_service && *service ? service : NULL, limit);
	snapshot_release(rq->w, s);
	reply_json(rq->c, 200, body);
	free(body);
}

static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > WEB_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/* A cpu or memory value of a deploy body: a number, or a string with units. */
static int deploy_value(const json_t *j, bool mem, double *ret_cpu, uint64_t *ret_mem)
{
	if (json_is_number(j)) {
		double x = json_number_value(j);
		if (!(x > 0) || (mem && x > 1e15))
			return -EINVAL;
		if (mem)
			*ret_mem = (uint64_t)x;
		else
			*ret_cpu = x;
		return 0;
	}
	if (!json_is_string(j))
		return -EINVAL;
	int r = mem ? units_parse_memory(json_string_value(j), ret_mem)
	            : units_parse_cpu(json_string_value(j), ret_cpu);
	if (r < 0)
		return r;
	return (mem ? *ret_mem > 0 : *ret_cpu > 0) ? 0 : -EINVAL;
}

/* Fills cmd's deploy fields from the body; answers 400 on failure. */
static int parse_deploy(const struct request *rq, json_t *body, struct web_command *cmd)
{
	const char *key;
	json_t *val;
	if (!body) {
		reply_error(rq->c, 400, NULL, "deploy needs a JSON body with cpu and/or memory");
		return -EINVAL;
	}
	json_object_foreach(body, key, val)
	{
		if (strcmp(key, "cpu") == 0 && !json_is_null(val)) {
			if (deploy_value(val, false, &cmd->cpu, NULL) < 0) {
				reply_error(rq->c, 400, NULL,
				            "cpu: expected cores such as 1.5 or \"500m\"");
				return -EINVAL;
			}
			cmd->has_cpu = true;
		} else if (strcmp(key, "memory") == 0 && !json_is_null(val)) {
			if (deploy_value(val, true, NULL, &cmd->memory) < 0) {
				reply_error(rq->c, 400, NULL,
				            "memory: expected bytes or a size such as \"512M\"");
				return -EINVAL;
			}
			cmd->has_memory = true;
		} else if (strcmp(key, "cpu") != 0 && strcmp(key, "memory") != 0) {
			/* Echo a plain name only: a body is untrusted. */
			bool plain = valid_name(key, strlen(key)) && strlen(key) <= 32;
			reply_error(rq->c, 400, NULL, "unknown key '%s' (expected cpu, memory)",
			            plain ? key : "?");
			return -EINVAL;
		}
	}
	if (!cmd->has_cpu && !cmd->has_memory) {
		reply_error(rq->c, 400, NULL, "deploy needs cpu and/or memory");
		return -EINVAL;
	}
	return 0;
}

static const char *const command_names[_WEB_CMD_MAX] = { "approve", "reject", "pause", "resume",
	                                                 "deploy" };

static int command_status(int r)
{
	switch (r) {
	case 0:
		return 200;
	case -ENOENT:
		return 404;
	case -ERANGE:
		return 400;
	case -EINVAL:
	case -EBUSY:
		return 409;
	case -ETIMEDOUT:
		return 504;
	default:
		return 500;
	}
}

/* POST: CSRF, auth, body, then the daemon's callback. */
static void serve_command(struct request *rq, enum web_command_kind kind, const char *service)
{
	if (!check_csrf(rq))
		return;
	const char *user = check_auth(rq);
	if (!user)
		return;
	json_t *body = NULL;
	if (read_json(rq, &body) < 0)
		return;
	struct web_command cmd = { .kind = kind, .service = service, .user = user };
	if (kind == WEB_CMD_DEPLOY && parse_deploy(rq, body, &cmd) < 0)
		goto out;
	if (service) {
		struct snapshot *s = snapshot_acquire(rq->w);
		bool known = view_find(s->view, service) != NULL;
		snapshot_release(rq->w, s);
		if (!known) {
			reply_error(rq->c, 404, NULL, "no monitored service named '%s'", service);
			goto out;
		}
	}
	char msg[384] = "", q[160];
	int r = rq->w->fn ? rq->w->fn(rq->w->fn_ctx, &cmd, msg, sizeof(msg)) : -ENOTSUP;
	if (r == -ENOTSUP && !*msg)
		snprintf(msg, sizeof(msg), "commands are not available");
	int status = command_status(r);
	log_info("web", "%s %s\tservice=%s user=%s status=%d", command_names[kind],
	         r == 0 ? "accepted" : "refused", service ? service : "-",
	         log_quote(user, q, sizeof(q)), status);
	if (status == 400) {
		/* Invalid input answers like the other 400s: {"error": ...}. */
		reply_error(rq->c, 400, NULL, "%s", msg);
		goto out;
	}
	json_t *o = json_object();
	json_object_set_new(o, "ok", json_boolean(r == 0));
	json_object_set_new(o, "command", json_string(command_names[kind]));
	if (service)
		json_object_set_new(o, "service", json_string(service));
	json_object_set_new(o, "message", json_text(msg));
	char *text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (!text)
		abort();
	reply_json(rq->c, status, text);
	free(text);
out:
	json_decref(body);
}

static void method_not_allowed(const struct request *rq, const char *allow)
{
	char extra[64];
	snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
	reply_error(rq->c, 405, extra, "method %s not allowed here (allowed: %s)",
	            rq->ri->request_method, allow);
}

/* Reads need credentials when web.read_requires_auth is on. */
static bool check_read(const struct request *rq)
{
	return !rq->w->read_requires_auth || check_auth(rq) != NULL;
}

/* GET-only resources. Returns false when path is not one of them. */
static bool route_get(const struct request *rq)
{
	const struct web_server *w = rq->w;
	const char *p = rq->path;
	enum { R_HTML, R_CSS, R_APP, R_CHART, R_HEALTH, R_METRICS, R_STATUS, R_HISTORY } r;
	if (strcmp(p, "/") == 0)
		r = R_HTML;
	else if (strcmp(p, "/assets/app.css") == 0)
		r = R_CSS;
	else if (strcmp(p, "/assets/app.js") == 0)
		r = R_APP;
	else if (strcmp(p, "/assets/chart.js") == 0)
		r = R_CHART;
	else if (strcmp(p, "/health") == 0)
		r = R_HEALTH;
	else if (strcmp(p, w->metrics_path) == 0)
		r = R_METRICS;
	else if (strcmp(p, "/api/v1/status") == 0)
		r = R_STATUS;
	else if (strcmp(p, "/api/v1/history") == 0)
		r = R_HISTORY;
	else
		return false;
	if (!rq->get) {
		method_not_allowed(rq, "GET, HEAD");
		return true;
	}
	/* The page and its assets hold no data; the API calls they make do. */
	if (r >= R_METRICS && !check_read(rq))
		return true;
	switch (r) {
	case R_HTML:
		serve_asset(rq, "text/html; charset=utf-8", rm_asset_dashboard_html,
		            rm_asset_dashboard_html_len);
		break;
	case R_CSS:
		serve_asset(rq, "text/css; charset=utf-8", rm_asset_dashboard_css,
		            rm_asset_dashboard_css_len);
		break;
	case R_APP:
		serve_asset(rq, "text/javascript; charset=utf-8", rm_asset_dashboard_js,
		            rm_asset_dashboard_js_len);
		break;
	case R_CHART:
		serve_asset(rq, "text/javascript; charset=utf-8", rm_asset_chart_js,
		            rm_asset_chart_js_len);
		break;
	case R_HEALTH:
		serve_health(rq);
		break;
	case R_METRICS:
		serve_metrics(rq);
		break;
	case R_STATUS:
		serve_status(rq);
		break;
	case R_HISTORY:
		serve_history(rq);
		break;
	}
	return true;
}

/* /api/v1/services/{name}[/approve|reject|deploy]. */
static bool route_service(struct request *rq)
{
	static const char prefix[] = "/api/v1/services/";
	const char *p = rq->path;
	if (strncmp(p, prefix, sizeof(prefix) - 1) != 0)
		return false;
	p += sizeof(prefix) - 1;
	const char *slash = strchr(p, '/');
	size_t len = slash ? (size_t)(slash - p) : strlen(p);
	if (!valid_name(p, len))
		return false;
	char name[WEB_MAX_NAME + 1];
	memcpy(name, p, len);
	name[len] = '\0';
	if (!slash) {
		if (!rq->get)
			method_not_allowed(rq, "GET, HEAD");
		else if (check_read(rq))
			serve_service(rq, name);
		return true;
	}
	enum web_command_kind kind;
	if (strcmp(slash, "/approve") == 0)
		kind = WEB_CMD_APPROVE;
	else if (strcmp(slash, "/reject") == 0)
		kind = WEB_CMD_REJECT;
	else if (strcmp(slash, "/deploy") == 0)
		kind = WEB_CMD_DEPLOY;
	else
		return false;
	if (!rq->post)
		method_not_allowed(rq, "POST");
	else
		serve_command(rq, kind, name);
	return true;
}

static bool route_automation(struct request *rq)
{
	enum web_command_kind kind;
	if (strcmp(rq->path, "/api/v1/automation/pause") == 0)
		kind = WEB_CMD_PAUSE;
	else if (strcmp(rq->path, "/api/v1/automation/resume") == 0)
		kind = WEB_CMD_RESUME;
	else
		return false;
	if (!rq->post)
		method_not_allowed(rq, "POST");
	else
		serve_command(rq, kind, NULL);
	return true;
}

/* An RFC 9110 token: what a header name must be. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

/* civetweb parses the header lines in place, and two things it accepts leave
 * a mark there. "Name : value" (RFC 9112 5.1: 400) has its space before the
 * colon zeroed too, so a NUL follows the name's own and the value starts
 * further on. A line it cannot read (a folded one, an empty name) ends its
 * parse early, dropping every line after it: then what follows the last
 * header read is not the blank line that ends the headers. */
static bool header_lines_sound(const struct mg_request_info *ri)
{
	for (int i = 0; i < ri->num_headers; i++) {
		const char *n = ri->http_headers[i].name, *v = ri->http_headers[i].value;
		size_t len = strlen(n);
		if (v > n + len + 1 && n[len + 1] == '\0')
			return false;
	}
	if (ri->num_headers == 0)
		return true;
	const char *v = ri->http_headers[ri->num_headers - 1].value;
	const char *p = v + strlen(v), *end = p + 2;
	while (p < end && *p == '\0')
		p++; /* the zeroed CR LF (or LF) of its line */
	return *p == '\r' || *p == '\n';
}

/* RFC 9112: header names are tokens (no "Content-Length :", no folded
 * lines), one Host, one Content-Length of digits only and never beside a
 * Transfer-Encoding; anything else could be read another way by a proxy in
 * front (request smuggling). civetweb itself would take the first
 * Content-Length and drop header lines past its 64th, so a request that fills
 * them is refused too. Chunked bodies get 411, as 6.3 allows: the API's
 * bodies are small, and a length lets the read keep to the deadline. Returns
 * the status (0 when the framing is sound) and the reason in *why. */
static int framing_error(const struct mg_request_info *ri, const char **why)
{
	int lengths = 0, hosts = 0;
	bool te = false;
	*why = "too many header lines";
	if (ri->num_headers >= MG_MAX_HEADERS)
		return 431;
	*why = "malformed header line";
	if (!header_lines_sound(ri))
		return 400;
	for (int i = 0; i < ri->num_headers; i++) {
		const char *n = ri->http_headers[i].name, *v = ri->http_headers[i].value;
		*why = "malformed header name";
		if (!is_token(n))
			return 400;
		*why = "more than one Host header";
		if (strcasecmp(n, "Host") == 0 && ++hosts > 1)
			return 400;
		if (strcasecmp(n, "Content-Length") == 0) {
			*why = "more than one Content-Length header";
			if (++lengths > 1)
				return 400;
			*why = "Content-Length must be one decimal number";
			if (!*v || strspn(v, "0123456789") != strlen(v))
				return 400;
		} else if (strcasecmp(n, "Transfer-Encoding") == 0) {
			te = true;
		}
	}
	*why = "Content-Length together with Transfer-Encoding";
	if (lengths && te)
		return 400;
	*why = "send the body with a Content-Length (chunked bodies are not taken)";
	return te ? 411 : 0;
}

/* An IPv4 or bracketed IPv6 literal: no page can be served from a rebound
 * name under it, so it needs no allow-list. */
static bool host_is_ip(const char *h, size_t len)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, h, len);
	buf[len] = '\0';
	unsigned char addr[16];
	if (buf[0] == '[' && buf[len - 1] == ']') {
		buf[len - 1] = '\0';
		return inet_pton(AF_INET6, buf + 1, addr) == 1;
	}
	return inet_pton(AF_INET, buf, addr) == 1;
}

/* A Host (or X-Forwarded-Host) value names this server: an IP literal, or a
 * name in the allow-list, with an optional port. DNS rebinding sends the
 * attacker's name here, so it never matches. */
static bool host_allowed(const struct web_server *w, const char *host)
{
	if (w->any_host)
		return true;
	size_t len = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":");
	if (len > strlen(host))
		return false;
	const char *port = host + len;
	if (*port && (*port != ':' || strspn(port + 1, "0123456789") != strlen(port + 1)))
		return false;
	if (len > 0 && host[len - 1] == '.')
		len--; /* "localhost." is "localhost" */
	if (host_is_ip(host, len))
		return true;
	for (size_t i = 0; i < w->n_hosts; i++)
		if (strlen(w->hosts[i]) == len && strncasecmp(w->hosts[i], host, len) == 0)
			return true;
	return false;
}

/* Answers 400/421 and returns false for a request that must go no further:
 * bad framing, or a Host this server does not answer to. */
static bool check_request(const struct request *rq)
{
	const char *why;
	int status = framing_error(rq->ri, &why);
	const char *q = rq->ri->query_string;
	if (!status && (strstr(rq->ri->request_uri, "%00") || (q && strstr(q, "%00")))) {
		status = 400; /* a decoded NUL would cut the path or a value short */
		why = "URI with an encoded NUL";
	}
	if (status) {
		log_refused(rq, status, "framing");
		reply_error(rq->c, status, NULL, "%s; closing the connection", why);
		return false;
	}
	const char *host = mg_get_header(rq->c, "Host");
	if (!host && strcmp(rq->ri->http_version, "1.1") == 0) {
		reply_error(rq->c, 400, NULL, "HTTP/1.1 requires a Host header");
		return false;
	}
	const char *fwd =
	        rq->w->trust_forward_auth ? mg_get_header(rq->c, "X-Forwarded-Host") : NULL;
	const char *bad = host && !host_allowed(rq->w, host) ? host
	                  : fwd && !host_allowed(rq->w, fwd) ? fwd
	                                                     : NULL;
	if (bad) {
		char quoted[160];
		log_info("web",
		         "request refused\tmethod=%s status=421 reason=host host=%s remote=%s",
		         rq->ri->request_method, log_quote(bad, quoted, sizeof(quoted)),
		         rq->ri->remote_addr);
		reply_error(rq->c, 421, NULL,
		            "this server does not answer to that host name; add it to "
		            "web.allowed_hosts if it is one of its own");
		return false;
	}
	return true;
}

/* When the connection started (init_connection), kept per connection. */
struct conn_info {
	double started;
};

static int on_init_connection(const struct mg_connection *c, void **ret_data)
{
	struct conn_info *ci = xmalloc(sizeof(*ci));
	ci->started = time_monotonic();
	*ret_data = ci;
	return 0;
}

static void on_connection_close(const struct mg_connection *c)
{
	free(mg_get_user_connection_data(c)); /* NULL on a second call */
}

/* civetweb's begin_request: every request ends here, so civetweb itself never
 * serves a file or lists a folder. */
static int on_request(struct mg_connection *c)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	struct web_server *w = mg_get_user_data(mg_get_context(c));
	const struct conn_info *ci = mg_get_user_connection_data(c);
	struct request rq = {
		.w = w,
		.c = c,
		.ri = ri,
		.path = ri->local_uri ? ri->local_uri : "",
		.get = strcmp(ri->request_method, "GET") == 0 ||
		       strcmp(ri->request_method, "HEAD") == 0,
		.post = strcmp(ri->request_method, "POST") == 0,
		.deadline = (ci ? ci->started : time_monotonic()) + w->request_timeout,
		.body_pending =
		        ri->content_length > 0 || mg_get_header(c, "Transfer-Encoding") != NULL,
	};
	size_t ulen = strlen(ri->request_uri ? ri->request_uri : "") +
	              (ri->query_string ? strlen(ri->query_string) : 0);
	if (!check_request(&rq))
		rq.body_pending = true; /* bad framing: whatever follows is not ours */
	else if (ulen > WEB_MAX_URI)
		reply_error(c, 414, NULL, "URI longer than %d bytes", WEB_MAX_URI);
	else if (!route_get(&rq) && !route_service(&rq) && !route_automation(&rq))
		reply_error(c, 404, NULL, "not found");
	/* An answer given before the body was read (401, 404, 413...): close
	 * now rather than let civetweb read a body nobody needs. */
	if (rq.body_pending)
		mg_close_connection(c);
	return 200; /* civetweb only logs it */
}

/* civetweb's own error answers (malformed request, headers too large, bad
 * version...): the same headers and JSON as ours, and never its message,
 * which may quote the request line. */
static int on_http_error(struct mg_connection *c, int status, const char *msg)
{
	const char *what = status == 400   ? "malformed request"
	                   : status == 411 ? "Content-Length must be one decimal number"
	                   : status == 413 ? "request line and headers larger than 8 KiB"
	                   : status == 505 ? "only HTTP/1.0 and HTTP/1.1 are served"
	                                   : mg_get_response_code_text(c, status);
	reply_error(c, status, NULL, "%s", what);
	return 0;
}

static int on_log(const struct mg_connection *c, const char *message)
{
	char q[256];
	log_debug("web", "civetweb message\tmessage=%s", log_quote(message, q, sizeof(q)));
	return 1;
}

/* Reads web.admin_token_file. Returns 0 (and *ret NULL when none is set) or
 * a negative errno with the reason in err. */
static int load_token(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	*ret = NULL;
	*ret_len = 0;
	if (!path || !*path)
		return 0;
	char *data = NULL;
	size_t len = 0;
	int r = file_read_all(path, WEB_MAX_TOKEN_FILE, &data, &len);
	if (r < 0) {
		snprintf(err, errlen, "web.admin_token_file: cannot read %s: %s", path,
		         r == -EFBIG ? "larger than 4 KiB" : strerror(-r));
		return r;
	}
	while (len > 0 && isspace((unsigned char)data[len - 1]))
		data[--len] = '\0';
	if (len == 0 || strlen(data) != len) {
		snprintf(err, errlen, "web.admin_token_file: %s holds no usable token", path);
		free(data);
		return -EINVAL;
	}
	*ret = data;
	*ret_len = len;
	return 0;
}

/* /health for the reserved listener: no detail, whoever asks. */
static int health_render(void *ctx, char **ret_body)
{
	struct web_server *w = ctx;
	struct snapshot *s = snapshot_acquire(w);
	int status = render_health_json(s->view, time_wall(), false, ret_body);
	snapshot_release(w, s);
	return status;
}

/* The Host names answered: web.allowed_hosts, this machine's host name and
 * metrics.bind_address when it is a name (IP literals need no entry). */
static void hosts_init(struct web_server *w, const struct rm_config *cfg)
{
	const struct strlist *l = &cfg->web.allowed_hosts;
	w->hosts = xcalloc(l->n + 2, sizeof(*w->hosts));
	for (size_t i = 0; i < l->n; i++) {
		w->any_host |= strcmp(l->items[i], "*") == 0;
		w->hosts[w->n_hosts++] = xstrdup(l->items[i]);
	}
	char name[256] = "";
	if (gethostname(name, sizeof(name) - 1) == 0 && *name)
		w->hosts[w->n_hosts++] = xstrdup(name);
	if (*cfg->metrics.bind_address)
		w->hosts[w->n_hosts++] = xstrdup(cfg->metrics.bind_address);
}

/* Starts the reserved /health listener; a failure costs only that path (the
 * healthcheck command then asks the public port), so it is a warning. */
static void health_init(struct web_server *w, const struct rm_config *cfg)
{
	char *path = web_health_socket_path(cfg);
	char err[256];
	if (path && web_health_start(path, health_render, w, &w->health, err, sizeof(err)) < 0)
		log_warn("web",
		         "no reserved health listener, so a flood of slow clients can "
		         "fail the container's health check\treason=%s",
		         err);
	else if (path)
		log_info("web", "health listener\tsocket=%s", path);
	free(path);
}

/* The view served until the daemon publishes its first. */
static struct view *empty_view(const struct rm_config *cfg)
{
	struct view *v = xcalloc(1, sizeof(*v));
	v->now = v->started = time_wall();
	v->check_interval = cfg->monitoring.check_interval;
	snprintf(v->version, sizeof(v->version), "%s", RM_VERSION);
	return v;
}

int web_start(const struct rm_config *cfg, web_command_fn fn, void *ctx, struct web_server **ret,
              char *err, size_t errlen)
{
	*ret = NULL;
	if (!cfg->metrics.enabled) {
		log_info("web", "not serving /health, /metrics, the API or the dashboard "
		                "(metrics.enabled is false)");
		return 0;
	}
	char *token = NULL;
	size_t token_len = 0;
	int r = load_token(cfg->web.admin_token_file, &token, &token_len, err, errlen);
	if (r < 0)
		return r;
	struct web_server *w = xcalloc(1, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	w->fn = fn;
	w->fn_ctx = ctx;
	w->token = token;
	w->token_len = token_len;
	w->trust_forward_auth = cfg->web.trust_forward_auth;
	w->read_requires_auth = cfg->web.read_requires_auth;
	w->max_body = (size_t)cfg->web.max_body;
	w->metrics_path = xstrdup(cfg->metrics.path);
	w->request_timeout = cfg->web.request_timeout;
	hosts_init(w, cfg);
	w->current = snapshot_new(empty_view(cfg));

	char ports[96], threads[16], timeout[16];
	snprintf(ports, sizeof(ports), "%s:%u", cfg->metrics.bind_address, cfg->metrics.port);
	snprintf(threads, sizeof(threads), "%u", cfg->web.workers);
	/* civetweb's timeout bounds the headers as a whole but each body read
	 * on its own: at half the deadline, a request's headers take at most the
	 * deadline, and a body read in progress at the deadline half of it more. */
	snprintf(timeout, sizeof(timeout), "%.0f", cfg->web.request_timeout * 500);
	const char *opts[] = {
		"listening_ports",
		ports,
		"num_threads",
		threads,
		"request_timeout_ms",
		timeout,
		"enable_keep_alive",
		"no",
		/* Routing compares raw paths (no name needs escaping), so a %00
		 * stays visible to check_request instead of cutting the path. */
		"decode_url",
		"no",
		"max_request_size",
		WEB_MAX_HEADERS,
		NULL,
	};
	struct mg_callbacks cb = { 0 };
	cb.begin_request = on_request;
	cb.http_error = on_http_error;
	cb.init_connection = on_init_connection;
	cb.connection_close = on_connection_close;
	cb.log_message = on_log;
	/* No log_access callback: civetweb would format every line with the
	 * non-reentrant localtime(), and /health is polled constantly anyway. */
	char text[256] = "";
	unsigned code = 0;
	struct mg_init_data init = { &cb, w, opts };
	struct mg_error_data e = { &code, text, sizeof(text) };
	mg_init_library(0);
	w->ctx = mg_start2(&init, &e);
	if (!w->ctx) {
		snprintf(err, errlen, "cannot listen on %s: %s", ports,
		         *text ? text : "civetweb failed to start");
		mg_exit_library();
		web_stop(w);
		return -EADDRINUSE;
	}
	struct mg_server_port sp[2];
	int n = mg_get_server_ports(w->ctx, 2, sp);
	w->port = n > 0 ? sp[0].port : (int)cfg->metrics.port;
	health_init(w, cfg);
	log_info("web", "listening\taddress=%s port=%d auth=%s", cfg->metrics.bind_address, w->port,
	         token && w->trust_forward_auth ? "token+forward"
	         : token                        ? "token"
	         : w->trust_forward_auth        ? "forward"
	                                        : "none (read-only)");
	*ret = w;
	return 0;
}

int web_port(const struct web_server *w)
{
	return w ? w->port : 0;
}

void web_stop(struct web_server *w)
{
	if (!w)
		return;
	web_health_stop(w->health);
	if (w->ctx) {
		mg_stop(w->ctx); /* waits for the workers: no handler runs after this */
		mg_exit_library();
	}
	if (w->current)
		snapshot_release(w, w->current);
	pthread_mutex_destroy(&w->lock);
	if (w->token)
		memset(w->token, 0, w->token_len);
	free(w->token);
	free(w->metrics_path);
	for (size_t i = 0; i < w->n_hosts; i++)
		free(w->hosts[i]);
	free(w->hosts);
	free(w);
}
