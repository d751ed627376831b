/* test_web: the HTTP server on loopback, spoken to over raw sockets: every
 * endpoint's status, content type, headers and JSON shape; auth and CSRF
 * refused and accepted; oversized and malformed requests; unknown paths and
 * wrong methods; a publisher racing readers (run it under TSan too). */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "rm/config.h"
#include "rm/log.h"
#include "rm/web.h"
#include "web_sample.h"

#define TOKEN "s3cret-token-for-tests"

/* ---- a raw HTTP client ---- */

struct resp {
	int status;
	char *raw;
	const char *body; /* into raw */
};

static void resp_free(struct resp *r)
{
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

static void send_raw(int port, const char *req, size_t len, struct resp *r)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	for (size_t off = 0; off < len;) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the server may answer and close early (413) */
		off += (size_t)n;
	}
	struct strbuf sb;
	strbuf_init(&sb);
	char buf[8192];
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 10000) <= 0)
			fail_msg("no answer within 10 s to: %.80s", req);
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		strbuf_append(&sb, buf, (size_t)n);
		/* Done once the body announced is in, as real clients do (the
		 * server may keep reading an unread request body for a while). */
		const char *end = strstr(sb.data, "\r\n\r\n");
		const char *cl = strcasestr(sb.data, "\r\nContent-Length:");
		if (end && strncmp(req, "HEAD ", 5) == 0)
			break;
		if (end && cl && cl < end &&
		    sb.len - (size_t)(end + 4 - sb.data) >= strtoul(cl + 17, NULL, 10))
			break;
	}
	close(fd);
	r->raw = strbuf_steal(&sb);
	if (sscanf(r->raw, "HTTP/1.%*d %d", &r->status) != 1)
		fail_msg("not an HTTP response: '%.200s'", r->raw);
	const char *b = strstr(r->raw, "\r\n\r\n");
	r->body = b ? b + 4 : "";
}

/* METHOD path with extra header lines (each "Name: value\r\n") and a body. */
static void request(int port, const char *method, const char *path, const char *headers,
                    const char *body, struct resp *r)
{
	char *req;
	if (body)
		req = xasprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sContent-Type: "
		                "application/json\r\nContent-Length: %zu\r\n\r\n%s",
		                method, path, port, headers ? headers : "", strlen(body), body);
	else
		req = xasprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n", method, path,
		                port, headers ? headers : "");
	send_raw(port, req, strlen(req), r);
	free(req);
}

/* The value of a response header (case-insensitive name), copied into buf. */
static const char *header(const struct resp *r, const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);
	for (const char *p = strstr(r->raw, "\r\n"); p && p < r->body; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
			const char *v = p + 3 + n;
			while (*v == ' ')
				v++;
			size_t k = strcspn(v, "\r");
			snprintf(buf, len, "%.*s", (int)k, v);
			return buf;
		}
	}
	return NULL;
}

static json_t *body_json(const struct resp *r)
{
	json_error_t e;
	json_t *j = json_loads(r->body, 0, &e);
	if (!j)
		fail_msg("body is not JSON (%s): %s", e.text, r->body);
	return j;
}

/* request(), which must answer status. */
static void request_expect(int port, const char *method, const char *path, const char *headers,
                           const char *body, int status, struct resp *r)
{
	request(port, method, path, headers, body, r);
	if (r->status != status)
		fail_msg("%s %.80s: %d, not %d", method, path, r->status, status);
}

/* A request whose answer matters only by its status. */
static void expect_status(int port, const char *method, const char *path, const char *headers,
                          const char *body, int status)
{
	struct resp r;
	request_expect(port, method, path, headers, body, status, &r);
	resp_free(&r);
}

/* The JSON body of a request that must answer status. */
static json_t *request_json(int port, const char *method, const char *path, const char *headers,
                            const char *body, int status)
{
	struct resp r;
	request_expect(port, method, path, headers, body, status, &r);
	json_t *j = body_json(&r);
	resp_free(&r);
	return j;
}

/* ---- the daemon side: a command callback over a sample view ---- */

struct daemon {
	pthread_mutex_t lock;
	struct web_server *w;
	int calls;
	struct web_command last;
	char service[64], user[64];
	bool grafana_pending;
	bool paused;
};

static void republish(struct daemon *d)
{
	struct view *v = sample_view(SAMPLE_NOW);
	v->now = v->last_check = time_wall();
	v->services[0].pending = d->grafana_pending;
	v->paused = d->paused;
	web_publish(d->w, v);
}

static int on_command(void *ctx, const struct web_command *cmd, char *msg, size_t msglen)
{
	struct daemon *d = ctx;
	pthread_mutex_lock(&d->lock);
	d->calls++;
	d->last = *cmd;
	snprintf(d->service, sizeof(d->service), "%s", cmd->service ? cmd->service : "");
	snprintf(d->user, sizeof(d->user), "%s", cmd->user);
	d->last.service = d->service;
	d->last.user = d->user;
	int r = 0;
	if (cmd->kind == WEB_CMD_APPROVE || cmd->kind == WEB_CMD_REJECT) {
		if (!d->grafana_pending || strcmp(cmd->service, "grafana") != 0) {
			snprintf(msg, msglen, "no decision waits for approval for %s",
			         cmd->service);
			r = -EINVAL;
		} else {
			d->grafana_pending = false;
			snprintf(msg, msglen, "%s %s",
			         cmd->kind == WEB_CMD_APPROVE ? "approved" : "rejected",
			         cmd->service);
		}
	} else if (cmd->kind == WEB_CMD_PAUSE || cmd->kind == WEB_CMD_RESUME) {
		d->paused = cmd->kind == WEB_CMD_PAUSE;
		snprintf(msg, msglen, "automation %s", d->paused ? "paused" : "resumed");
	} else if (cmd->has_memory && cmd->memory < 4096) {
		/* What the daemon answers for values outside the bounds. */
		snprintf(msg, msglen,
		         "memory %lluB is below adjustment.min_memory (4096B); nothing was changed",
		         (unsigned long long)cmd->memory);
		r = -ERANGE;
	} else {
		snprintf(msg, msglen, "deployment queued");
	}
	if (r == 0)
		republish(d);
	pthread_mutex_unlock(&d->lock);
	return r;
}

static int calls(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	int n = d->calls;
	pthread_mutex_unlock(&d->lock);
	return n;
}

/* The last command, read under the lock (the callback runs on a worker). */
static struct web_command last_cmd(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	struct web_command c = d->last;
	pthread_mutex_unlock(&d->lock);
	return c;
}

static char token_path[64];

static struct rm_config *test_config(void)
{
	struct rm_config *cfg = config_new_default();
	cfg->metrics.port = 0;
	free(cfg->metrics.bind_address);
	cfg->metrics.bind_address = xstrdup("127.0.0.1");
	free(cfg->web.admin_token_file);
	cfg->web.admin_token_file = xstrdup(token_path);
	cfg->web.trust_forward_auth = true;
	free(cfg->web.health_socket);
	cfg->web.health_socket = xstrdup("none");
	struct strlist *l = &cfg->web.allowed_hosts;
	l->items = xreallocarray(l->items, l->n + 1, sizeof(*l->items));
	l->items[l->n++] = xstrdup("rm.example.com");
	l->items = xreallocarray(l->items, l->n + 1, sizeof(*l->items));
	l->items[l->n++] = xstrdup("stack_resource-manager_1");
	return cfg;
}

static struct daemon *start(struct rm_config *cfg)
{
	struct daemon *d = xcalloc(1, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->grafana_pending = true;
	char err[256] = "";
	int r = web_start(cfg, on_command, d, &d->w, err, sizeof(err));
	if (r < 0)
		fail_msg("web_start: %s", err);
	assert_true(web_port(d->w) > 0);
	pthread_mutex_lock(&d->lock);
	republish(d);
	pthread_mutex_unlock(&d->lock);
	return d;
}

static void stop(struct daemon *d)
{
	web_stop(d->w);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static struct daemon *main_daemon;
static int port;

static int setup(void **state)
{
	log_set_level(LOG_WARN);
	snprintf(token_path, sizeof(token_path), "/tmp/rm-web-token-XXXXXX");
	int fd = mkstemp(token_path);
	if (fd < 0)
		return -1;
	const char text[] = TOKEN "\n";
	if (write(fd, text, sizeof(text) - 1) != (ssize_t)sizeof(text) - 1)
		return -1;
	close(fd);
	struct rm_config *cfg = test_config();
	main_daemon = start(cfg);
	port = web_port(main_daemon->w);
	config_free(cfg);
	return 0;
}

static int teardown(void **state)
{
	stop(main_daemon);
	unlink(token_path);
	return 0;
}

#define AUTH   "Authorization: Bearer " TOKEN "\r\n"
#define CSRF   "X-Requested-By: resource-manager\r\n"
#define ORIGIN "Origin: http://127.0.0.1:%d\r\n"

/* ---- tests ---- */

static void assert_security_headers(const struct resp *r)
{
	char h[512];
	assert_non_null(header(r, "Content-Security-Policy", h, sizeof(h)));
	assert_non_null(strstr(h, "script-src 'self'"));
	assert_null(strstr(h, "unsafe-inline"));
	assert_non_null(strstr(h, "frame-ancestors 'none'"));
	assert_string_equal(header(r, "X-Content-Type-Options", h, sizeof(h)), "nosniff");
	assert_string_equal(header(r, "X-Frame-Options", h, sizeof(h)), "DENY");
}

static void test_health(void **state)
{
	struct resp r;
	request(port, "GET", "/health", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	char h[256];
	assert_string_equal(header(&r, "Content-Type", h, sizeof(h)), "application/json");
	assert_string_equal(header(&r, "Cache-Control", h, sizeof(h)), "no-store");
	assert_security_headers(&r);
	json_t *j = body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "healthy");
	assert_non_null(json_string_value(json_object_get(j, "timestamp")));
	assert_true(json_is_number(json_object_get(j, "last_check_age_seconds")));
	assert_true(json_is_object(json_object_get(json_object_get(j, "dependencies"), "docker")));
	json_decref(j);
	resp_free(&r);
	/* A query string is fine; HEAD has no body. */
	expect_status(port, "GET", "/health?x=1", NULL, NULL, 200);
	request(port, "HEAD", "/health", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "");
	resp_free(&r);
}

static void test_metrics(void **state)
{
	struct resp r;
	request(port, "GET", "/metrics", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	char h[256];
	assert_string_equal(header(&r, "Content-Type", h, sizeof(h)),
	                    "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(header(&r, "Cache-Control", h, sizeof(h)), "no-store");
	assert_non_null(strstr(r.body, "# TYPE resource_manager_total_adjustments counter\n"));
	assert_non_null(strstr(r.body, "services_monitored 3\n"));
	resp_free(&r);
}

static void test_status_service_history(void **state)
{
	struct resp r;
	char h[256];
	request(port, "GET", "/api/v1/status", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type", h, sizeof(h)), "application/json");
	assert_string_equal(header(&r, "Cache-Control", h, sizeof(h)), "no-store");
	json_t *j = body_json(&r);
	assert_int_equal(json_array_size(json_object_get(j, "services")), 3);
	assert_true(json_is_object(json_object_get(j, "automation")));
	assert_true(json_is_array(json_object_get(j, "dependencies")));
	json_decref(j);
	resp_free(&r);

	j = request_json(port, "GET", "/api/v1/services/postgres", NULL, NULL, 200);
	assert_string_equal(json_string_value(json_object_get(j, "class")), "critical");
	assert_true(json_is_object(json_object_get(j, "points")));
	json_decref(j);

	j = request_json(port, "GET", "/api/v1/services/nope", NULL, NULL, 404);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "nope"));
	json_decref(j);

	j = request_json(port, "GET", "/api/v1/history?service=postgres&limit=1", NULL, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "events")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "matched")), 2);
	json_decref(j);

	j = request_json(port, "GET", "/api/v1/history", NULL, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "events")), 3);
	json_decref(j);

	static const char *const bad[] = { "/api/v1/history?limit=0", "/api/v1/history?limit=abc",
		                           "/api/v1/history?limit=1001",
		                           "/api/v1/history?limit=99999999999999999999" };
	for (size_t i = 0; i < RM_ARRAY_SIZE(bad); i++) {
		j = request_json(port, "GET", bad[i], NULL, NULL, 400);
		assert_non_null(json_string_value(json_object_get(j, "error")));
		json_decref(j);
	}
}

static void test_dashboard_assets(void **state)
{
	struct resp r;
	char h[256];
	request(port, "GET", "/", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type", h, sizeof(h)), "text/html; charset=utf-8");
	assert_security_headers(&r);
	assert_non_null(strstr(r.body, "<script src=\"/assets/app.js\""));
	assert_non_null(strstr(r.body, "<script src=\"/assets/chart.js\""));
	/* No inline script: every <script has a src. */
	for (const char *p = strstr(r.body, "<script"); p; p = strstr(p + 1, "<script"))
		assert_true(strncmp(p, "<script src=", 12) == 0);
	assert_null(strstr(r.body, " onclick="));
	resp_free(&r);

	static const struct {
		const char *path, *ctype, *needle;
	} assets[] = {
		{ "/assets/app.js", "text/javascript; charset=utf-8", "/api/v1/status" },
		{ "/assets/chart.js", "text/javascript; charset=utf-8", "Chart.js v" },
		{ "/assets/app.css", "text/css; charset=utf-8", "prefers-color-scheme: dark" },
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(assets); i++) {
		request(port, "GET", assets[i].path, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(header(&r, "Content-Type", h, sizeof(h)), assets[i].ctype);
		assert_non_null(strstr(r.body, assets[i].needle));
		resp_free(&r);
	}
}

static void test_unknown_paths_and_methods(void **state)
{
	struct resp r;
	char h[256];
	static const char *const missing[] = {
		"/nope",
		"/assets/",
		"/assets/../../etc/passwd",
		"/etc/passwd",
		"/api/v1",
		"/api/v1/services/",
		"/api/v1/services/grafana/explode",
		"/api/v1/services/a%2Fb",
		"/index.html",
		"/metrics/",
		"/health/x",
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(missing); i++) {
		request(port, "GET", missing[i], NULL, NULL, &r);
		if (r.status != 404)
			fail_msg("%s: %d", missing[i], r.status);
		assert_string_equal(header(&r, "Content-Type", h, sizeof(h)), "application/json");
		resp_free(&r);
	}
	static const struct {
		const char *method, *path, *allow;
	} wrong[] = {
		{ "POST", "/health", "GET, HEAD" },
		{ "DELETE", "/api/v1/status", "GET, HEAD" },
		{ "PUT", "/api/v1/services/grafana", "GET, HEAD" },
		{ "GET", "/api/v1/automation/pause", "POST" },
		{ "GET", "/api/v1/services/grafana/approve", "POST" },
		{ "PUT", "/api/v1/services/grafana/deploy", "POST" },
		{ "POST", "/", "GET, HEAD" },
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(wrong); i++) {
		request(port, wrong[i].method, wrong[i].path, AUTH CSRF, NULL, &r);
		if (r.status != 405)
			fail_msg("%s %s: %d", wrong[i].method, wrong[i].path, r.status);
		assert_string_equal(header(&r, "Allow", h, sizeof(h)), wrong[i].allow);
		resp_free(&r);
	}
	assert_int_equal(calls(main_daemon), 0);
}

static void test_csrf_and_auth_refused(void **state)
{
	struct resp r;
	char hdr[256];
	int before = calls(main_daemon);
	/* Token but no CSRF header. */
	expect_status(port, "POST", "/api/v1/services/grafana/approve", AUTH, "{}", 403);
	/* A wrong CSRF header value. */
	expect_status(port, "POST", "/api/v1/services/grafana/approve",
	              AUTH "X-Requested-By: evil\r\n", "{}", 403);
	/* Cross-site Origin. */
	expect_status(port, "POST", "/api/v1/services/grafana/approve",
	              AUTH CSRF "Origin: http://evil.example\r\n", "{}", 403);
	expect_status(port, "POST", "/api/v1/automation/pause", AUTH CSRF "Origin: null\r\n", NULL,
	              403);
	/* Not UTF-8: still a JSON error, which quotes nothing it was sent. */
	json_t *e = request_json(port, "POST", "/api/v1/automation/pause",
	                         AUTH CSRF "Origin: http://\xff\xfe\r\n", NULL, 403);
	assert_non_null(strstr(json_string_value(json_object_get(e, "error")), "Origin"));
	assert_null(strstr(json_string_value(json_object_get(e, "error")), "http://"));
	json_decref(e);
	/* CSRF header but no or bad credentials. */
	static const char *const bad[] = {
		CSRF,
		CSRF "Authorization: Bearer wrong\r\n",
		CSRF "Authorization: Bearer " TOKEN "x\r\n",
		CSRF "Authorization: Bearer s3cret\r\n",
		CSRF "Authorization: Basic " TOKEN "\r\n",
		CSRF "X-Forwarded-User: \r\n",
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(bad); i++) {
		request(port, "POST", "/api/v1/services/grafana/approve", bad[i], NULL, &r);
		if (r.status != 401)
			fail_msg("%s: %d", bad[i], r.status);
		assert_non_null(header(&r, "WWW-Authenticate", hdr, sizeof(hdr)));
		resp_free(&r);
	}
	assert_int_equal(calls(main_daemon), before);
	/* Nothing changed. */
	request(port, "GET", "/api/v1/services/grafana", NULL, NULL, &r);
	json_t *j = body_json(&r);
	assert_true(json_is_object(json_object_get(j, "pending")));
	json_decref(j);
	resp_free(&r);
}

static void test_commands_accepted(void **state)
{
	struct resp r;
	char hdr[256];
	int before = calls(main_daemon);
	snprintf(hdr, sizeof(hdr), AUTH CSRF ORIGIN, port);
	json_t *j = request_json(port, "POST", "/api/v1/services/grafana/approve", hdr, NULL, 200);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_string_equal(json_string_value(json_object_get(j, "message")), "approved grafana");
	json_decref(j);
	assert_int_equal(calls(main_daemon), before + 1);
	assert_int_equal(last_cmd(main_daemon).kind, WEB_CMD_APPROVE);
	assert_string_equal(last_cmd(main_daemon).user, "token");
	/* The re-published view no longer has it pending. */
	request(port, "GET", "/api/v1/services/grafana", NULL, NULL, &r);
	j = body_json(&r);
	assert_true(json_is_null(json_object_get(j, "pending")));
	json_decref(j);
	resp_free(&r);
	/* Approving again is refused by the daemon: 409 with its message. */
	j = request_json(port, "POST", "/api/v1/services/grafana/reject", AUTH CSRF, "{}", 409);
	assert_true(json_is_false(json_object_get(j, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "no decision"));
	json_decref(j);
	/* Unknown service: 404 before the daemon is asked. */
	int n = calls(main_daemon);
	expect_status(port, "POST", "/api/v1/services/nope/approve", AUTH CSRF, NULL, 404);
	assert_int_equal(calls(main_daemon), n);
	/* Forward-auth user. */
	request(port, "POST", "/api/v1/automation/pause", CSRF "X-Forwarded-User: alice\r\n", NULL,
	        &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_int_equal(last_cmd(main_daemon).kind, WEB_CMD_PAUSE);
	assert_string_equal(last_cmd(main_daemon).service, "");
	assert_string_equal(last_cmd(main_daemon).user, "alice");
	request(port, "GET", "/api/v1/status", NULL, NULL, &r);
	j = body_json(&r);
	assert_true(json_is_true(json_object_get(json_object_get(j, "automation"), "paused")));
	json_decref(j);
	resp_free(&r);
	expect_status(port, "POST", "/api/v1/automation/resume",
	              CSRF "X-Auth-Request-User: bob@example.com\r\n", NULL, 200);
	assert_string_equal(last_cmd(main_daemon).user, "bob@example.com");
	/* Deploy with units and with numbers. */
	expect_status(port, "POST", "/api/v1/services/postgres/deploy", AUTH CSRF,
	              "{\"cpu\": \"1500m\", \"memory\": \"512M\"}", 200);
	assert_int_equal(last_cmd(main_daemon).kind, WEB_CMD_DEPLOY);
	assert_true(last_cmd(main_daemon).has_cpu && last_cmd(main_daemon).cpu == 1.5);
	assert_true(last_cmd(main_daemon).has_memory &&
	            last_cmd(main_daemon).memory == 512ull << 20);
	expect_status(port, "POST", "/api/v1/services/postgres/deploy", AUTH CSRF,
	              "{\"memory\": 1048576}", 200);
	assert_false(last_cmd(main_daemon).has_cpu);
	assert_int_equal(last_cmd(main_daemon).memory, 1048576);
	/* Outside the configured bounds: 400 with the daemon's reason as the error. */
	request(port, "POST", "/api/v1/services/postgres/deploy", AUTH CSRF, "{\"memory\": 1000}",
	        &r);
	assert_int_equal(r.status, 400);
	j = body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
	                    "memory 1000B is below adjustment.min_memory (4096B); nothing was "
	                    "changed");
	json_decref(j);
	resp_free(&r);
}

static void test_malformed_and_oversized(void **state)
{
	struct resp r;
	int before = calls(main_daemon);
	static const char *const bodies[] = {
		"{\"cpu\": ",
		"[1, 2]",
		"{\"cpu\": 1, \"cpu\": 2}",
		"{\"cpu\": -1}",
		"{\"cpu\": \"lots\"}",
		"{\"memory\": \"12 parsecs\"}",
		"{\"gpu\": 1}",
		"{}",
		"\"text\"",
		"nul\x01l",
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(bodies); i++) {
		request(port, "POST", "/api/v1/services/postgres/deploy", AUTH CSRF, bodies[i], &r);
		if (r.status != 400)
			fail_msg("body %s: %d", bodies[i], r.status);
		json_t *j = body_json(&r);
		assert_true(strlen(json_string_value(json_object_get(j, "error"))) > 5);
		json_decref(j);
		resp_free(&r);
	}
	expect_status(port, "POST", "/api/v1/services/postgres/deploy", AUTH CSRF, NULL, 400);
	expect_status(port, "POST", "/api/v1/automation/pause", AUTH CSRF, "{not json", 400);

	/* Declared larger than web.max_body: 413 without reading it. */
	char *req =
	        xasprintf("POST /api/v1/automation/pause HTTP/1.1\r\nHost: localhost\r\n" AUTH CSRF
	                  "Content-Length: %u\r\n\r\n{",
	                  70000u);
	send_raw(port, req, strlen(req), &r);
	free(req);
	assert_int_equal(r.status, 413);
	resp_free(&r);
	/* A body just over the limit, fully sent. */
	size_t big = 64 * 1024 + 1;
	char *body = xmalloc(big + 1);
	memset(body, ' ', big);
	body[big] = '\0';
	expect_status(port, "POST", "/api/v1/automation/pause", AUTH CSRF, body, 413);
	free(body);
	assert_int_equal(calls(main_daemon), before);

	/* A long URI. */
	char path[1600];
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	expect_status(port, "GET", path, NULL, NULL, 414);
	/* Headers beyond civetweb's buffer. */
	char *huge = xmalloc(20000);
	int o = snprintf(huge, 20000, "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ");
	memset(huge + o, 'b', 19000 - (size_t)o);
	strcpy(huge + 19000, "\r\n\r\n");
	send_raw(port, huge, strlen(huge), &r);
	assert_true(r.status == 413 || r.status == 431 || r.status == 400);
	resp_free(&r);
	free(huge);
	/* Garbage. */
	send_raw(port, "BLAH\r\n\r\n", 8, &r);
	assert_true(r.status >= 400 && r.status < 500);
	resp_free(&r);
}

static void test_no_credentials_configured(void **state)
{
	struct rm_config *cfg = test_config();
	free(cfg->web.admin_token_file);
	cfg->web.admin_token_file = xstrdup("");
	cfg->web.trust_forward_auth = false;
	struct daemon *d = start(cfg);
	int p = web_port(d->w);
	struct resp r;
	expect_status(p, "POST", "/api/v1/automation/pause",
	              AUTH CSRF "X-Forwarded-User: alice\r\n", NULL, 403);
	assert_int_equal(calls(d), 0);
	expect_status(p, "GET", "/health", NULL, NULL, 200);
	stop(d);
	/* metrics.enabled: false serves nothing. */
	cfg->metrics.enabled = false;
	struct web_server *w = (void *)&r; /* any non-NULL: web_start must clear it */
	char err[64];
	assert_int_equal(web_start(cfg, on_command, NULL, &w, err, sizeof(err)), 0);
	assert_null(w);
	assert_int_equal(web_port(w), 0);
	config_free(cfg);
}

static void test_read_requires_auth(void **state)
{
	struct rm_config *cfg = test_config();
	cfg->web.read_requires_auth = true;
	free(cfg->metrics.path);
	cfg->metrics.path = xstrdup("/prom");
	struct daemon *d = start(cfg);
	int p = web_port(d->w);
	static const char *const guarded[] = { "/api/v1/status", "/api/v1/services/grafana",
		                               "/api/v1/history", "/prom" };
	for (size_t i = 0; i < RM_ARRAY_SIZE(guarded); i++) {
		expect_status(p, "GET", guarded[i], NULL, NULL, 401);
		expect_status(p, "GET", guarded[i], AUTH, NULL, 200);
		expect_status(p, "GET", guarded[i], "X-Forwarded-User: carol\r\n", NULL, 200);
	}
	static const char *const open[] = { "/health", "/", "/assets/app.js" };
	for (size_t i = 0; i < RM_ARRAY_SIZE(open); i++)
		expect_status(p, "GET", open[i], NULL, NULL, 200);
	/* metrics.path moves /metrics. */
	expect_status(p, "GET", "/metrics", AUTH, NULL, 404);
	stop(d);
	config_free(cfg);
}

static void test_start_errors(void **state)
{
	struct rm_config *cfg = test_config();
	free(cfg->web.admin_token_file);
	cfg->web.admin_token_file = xstrdup("/nonexistent/token");
	struct web_server *w = NULL;
	char err[256] = "";
	assert_int_equal(web_start(cfg, on_command, NULL, &w, err, sizeof(err)), -ENOENT);
	assert_null(w);
	assert_non_null(strstr(err, "web.admin_token_file"));
	assert_non_null(strstr(err, "/nonexistent/token"));
	/* An empty token file. */
	char empty[] = "/tmp/rm-web-empty-XXXXXX";
	int fd = mkstemp(empty);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\n \n", 3), 3);
	close(fd);
	free(cfg->web.admin_token_file);
	cfg->web.admin_token_file = xstrdup(empty);
	assert_int_equal(web_start(cfg, on_command, NULL, &w, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no usable token"));
	unlink(empty);
	/* Port in use. */
	free(cfg->web.admin_token_file);
	cfg->web.admin_token_file = xstrdup("");
	cfg->metrics.port = (unsigned)port;
	int r = web_start(cfg, on_command, NULL, &w, err, sizeof(err));
	assert_true(r < 0);
	assert_null(w);
	assert_non_null(strstr(err, "cannot listen"));
	config_free(cfg);
	/* NULL server: publish frees, the rest are no-ops. */
	web_publish(NULL, sample_view(SAMPLE_NOW));
	web_stop(NULL);
}

/* {"cpu": [[[...]]]} nested `levels` deep. */
static char *nested_body(size_t levels)
{
	size_t len = 8 + 2 * levels + 2;
	char *b = xmalloc(len);
	size_t o = (size_t)snprintf(b, len, "{\"cpu\":");
	memset(b + o, '[', levels);
	memset(b + o + levels, ']', levels);
	strcpy(b + o + 2 * levels, "}");
	return b;
}

/* Issue 19: jansson recursed once per level on a worker's 100 KiB stack and
 * a 2 KB body crashed the process. Now the depth is refused before parsing. */
static void test_json_nesting_refused(void **state)
{
	struct rm_config *cfg = test_config();
	cfg->web.max_body = 1 << 20; /* room for 100,000 levels */
	struct daemon *d = start(cfg);
	int p = web_port(d->w);
	static const size_t levels[] = { 1000, 100000, 3 };
	for (size_t i = 0; i < RM_ARRAY_SIZE(levels); i++) {
		char *b = nested_body(levels[i]);
		json_t *j = request_json(p, "POST", "/api/v1/services/postgres/deploy", AUTH CSRF,
		                         b, 400);
		assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "nested"));
		json_decref(j);
		free(b);
		expect_status(p, "GET", "/health", NULL, NULL, 200); /* still alive */
	}
	/* Two levels is what the API allows: the usual validation answers. */
	json_t *j = request_json(p, "POST", "/api/v1/services/postgres/deploy", AUTH CSRF,
	                         "{\"cpu\": [1]}", 400);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "cpu:"));
	json_decref(j);
	assert_int_equal(calls(d), 0);
	stop(d);
	config_free(cfg);
}

/* Issue 19: DNS rebinding. A page on evil.example, rebound to this address,
 * sends Host and Origin evil.example: both match each other, so the CSRF check
 * alone let it through. The Host allow-list refuses it, forward-auth or not. */
static void test_host_rebinding_refused(void **state)
{
	char hdr[512];
	int before = calls(main_daemon);
	snprintf(hdr, sizeof(hdr),
	         "Host: evil.example:%d\r\nOrigin: http://evil.example:%d\r\n" CSRF
	         "X-Forwarded-User: m\r\n",
	         port, port);
	char *req = xasprintf("POST /api/v1/automation/pause HTTP/1.1\r\n%s"
	                      "Content-Length: 0\r\n\r\n",
	                      hdr);
	struct resp r;
	send_raw(port, req, strlen(req), &r);
	free(req);
	assert_int_equal(r.status, 421);
	assert_security_headers(&r);
	resp_free(&r);
	assert_int_equal(calls(main_daemon), before);
	/* Reading too: the page would read the status through the rebound name. */
	static const char *const refused[] = {
		"GET /api/v1/status HTTP/1.1\r\nHost: evil.example\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: evil.example.\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: localhost.evil.example:80\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: localhost:80x\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: \r\n\r\n",
		"GET /health HTTP/1.1\r\n\r\n",
		/* Behind the trusted proxy, the name it forwards is checked too. */
		"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Host: evil.example\r\n\r\n",
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(refused); i++) {
		send_raw(port, refused[i], strlen(refused[i]), &r);
		if (r.status != 421 && r.status != 400)
			fail_msg("%s: %d", refused[i], r.status);
		resp_free(&r);
	}
	/* The names it is reached by. */
	static const char *const allowed[] = {
		"GET /health HTTP/1.1\r\nHost: localhost:8000\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: LOCALHOST.\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: [::1]:8000\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: 10.1.2.3\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: resource-manager:8000\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: stack_resource-manager_1:8000\r\n\r\n",
		("GET /health HTTP/1.1\r\nHost: rm.example.com\r\nX-Forwarded-Host: "
		 "rm.example.com\r\n\r\n"),
		"GET /health HTTP/1.0\r\n\r\n",
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(allowed); i++) {
		send_raw(port, allowed[i], strlen(allowed[i]), &r);
		if (r.status != 200)
			fail_msg("%s: %d", allowed[i], r.status);
		resp_free(&r);
	}
}

/* Issue 19: RFC 9112 says 400 to a duplicate or comma-separated
 * Content-Length, and to one beside Transfer-Encoding; civetweb took the first
 * value, which a proxy in front may read the other way (smuggling). */
static void test_duplicate_content_length_refused(void **state)
{
	static const char *const framing[] = {
		"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
		"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}",
		"Content-Length: 2, 2\r\n\r\n{}",
		"Content-Length: +2\r\n\r\n{}",
		"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
		/* civetweb read these as one Content-Length (it drops the space) or
		 * none (it stops at the folded line and drops the rest). */
		"Content-Length : 2\r\n\r\n{}",
		"X-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\n{}",
		"Host: evil.example\r\nContent-Length: 2\r\n\r\n{}",
	};
	int before = calls(main_daemon);
	for (size_t i = 0; i < RM_ARRAY_SIZE(framing); i++) {
		char *req = xasprintf("POST /api/v1/automation/resume HTTP/1.1\r\nHost: "
		                      "localhost\r\n" AUTH CSRF "%s",
		                      framing[i]);
		struct resp r;
		send_raw(port, req, strlen(req), &r);
		if (r.status != 400)
			fail_msg("%s: %d", framing[i], r.status);
		assert_security_headers(&r);
		resp_free(&r);
		free(req);
	}
	/* An encoded NUL would cut the path short. */
	expect_status(port, "GET", "/health%00.html", NULL, NULL, 400);
	/* Chunks alone: 411, a body needs a length here. */
	const char chunked[] =
	        "POST /api/v1/automation/resume HTTP/1.1\r\nHost: localhost\r\n" AUTH CSRF
	        "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
	struct resp r;
	send_raw(port, chunked, strlen(chunked), &r);
	assert_int_equal(r.status, 411);
	resp_free(&r);
	assert_int_equal(calls(main_daemon), before);
	/* One length still works. */
	expect_status(port, "POST", "/api/v1/automation/resume", AUTH CSRF, "{}", 200);
}

/* Issue 19: civetweb's own error pages (bad version, bad framing, headers too
 * large) had none of the security headers, and the 505 quoted the request
 * line as text/plain. */
static void test_error_pages_have_headers(void **state)
{
	static const char *const bad[] = {
		"GET /<script>alert(1)</script> HTTP/1.2\r\nHost: localhost\r\n\r\n",
		"GET /<script>alert(1)</script> HTTP/9.9\r\nHost: localhost\r\n\r\n",
		"POST /<script> HTTP/1.1\r\nHost: localhost\r\nContent-Length: x<script>\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip<script>\r\n\r\n",
		"BLAH<script>\r\n\r\n",
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(bad); i++) {
		struct resp r;
		char h[256];
		send_raw(port, bad[i], strlen(bad[i]), &r);
		if (r.status < 400)
			fail_msg("%s: %d", bad[i], r.status);
		assert_security_headers(&r);
		assert_string_equal(header(&r, "Content-Type", h, sizeof(h)), "application/json");
		assert_string_equal(header(&r, "Cache-Control", h, sizeof(h)), "no-store");
		if (strstr(r.raw, "<script"))
			fail_msg("echoed: %s", r.raw);
		json_t *j = body_json(&r);
		assert_non_null(json_string_value(json_object_get(j, "error")));
		json_decref(j);
		resp_free(&r);
	}
}

/* Issue 19: the open /health named the Docker endpoint and quoted the
 * connection error. Only a reader who may read the status sees that. */
static void test_health_without_detail(void **state)
{
	struct rm_config *cfg = test_config();
	cfg->web.read_requires_auth = true;
	struct daemon *d = start(cfg);
	int p = web_port(d->w);
	struct view *v = sample_view(SAMPLE_NOW);
	v->now = v->last_check = time_wall();
	v->deps[0].up = false;
	snprintf(v->deps[0].detail, sizeof(v->deps[0].detail),
	         "tcp://socket-proxy:2375: Could not resolve host");
	web_publish(d->w, v);
	struct resp r;
	request(p, "GET", "/health", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "socket-proxy"));
	assert_null(strstr(r.body, "detail"));
	json_t *j = body_json(&r);
	json_t *docker = json_object_get(json_object_get(j, "dependencies"), "docker");
	assert_string_equal(json_string_value(json_object_get(docker, "status")), "down");
	assert_string_equal(json_string_value(json_object_get(j, "status")), "degraded");
	json_decref(j);
	resp_free(&r);
	/* Credentials, with read_requires_auth: the detail is there. */
	request(p, "GET", "/health", AUTH, NULL, &r);
	assert_non_null(strstr(r.body, "socket-proxy:2375: Could not resolve host"));
	resp_free(&r);
	stop(d);
	/* Without read_requires_auth, credentials change nothing. */
	cfg->web.read_requires_auth = false;
	d = start(cfg);
	p = web_port(d->w);
	v = sample_view(SAMPLE_NOW);
	v->deps[0].up = false;
	snprintf(v->deps[0].detail, sizeof(v->deps[0].detail), "tcp://socket-proxy:2375");
	web_publish(d->w, v);
	request(p, "GET", "/health", AUTH, NULL, &r);
	assert_null(strstr(r.body, "socket-proxy"));
	resp_free(&r);
	stop(d);
	config_free(cfg);
}

static int connect_port(int p)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Seconds until the server closes fd (reading and dropping what it says),
 * while one byte is sent every `every` seconds; gives up after `limit`. */
static double seconds_to_close(int fd, double every, double limit, char *first, size_t len)
{
	double start = time_monotonic(), next = start + every;
	size_t got = 0;
	while (time_monotonic() - start < limit) {
		struct pollfd pf = { fd, POLLIN, 0 };
		if (poll(&pf, 1, 50) > 0) {
			char buf[4096];
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			if (n <= 0)
				return time_monotonic() - start;
			size_t k = (size_t)n < len - 1 - got ? (size_t)n : len - 1 - got;
			memcpy(first + got, buf, k);
			got += k;
			first[got] = '\0';
		}
		if (every > 0 && time_monotonic() >= next) {
			(void)send(fd, "x", 1, MSG_NOSIGNAL);
			next += every;
		}
	}
	return limit;
}

/* Issue 19: after answering 401/404/413, civetweb read the announced body, a
 * byte a second, for as long as it came (its timeout was per read). Now an
 * early answer closes the connection, and a body must arrive by the
 * request's deadline (web.request_timeout, 4 s here) or get 408. The bounds
 * below tell these apart (an early close comes well before the deadline);
 * they are wide, for a loaded machine. */
static void test_slow_bodies_cut_off(void **state)
{
	struct rm_config *cfg = test_config();
	cfg->web.request_timeout = 4;
	struct daemon *d = start(cfg);
	int p = web_port(d->w);
	static const char *const early[] = {
		"POST /nope HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000000\r\n\r\nx",
		"POST /api/v1/automation/pause HTTP/1.1\r\nHost: localhost\r\n" CSRF
		"Content-Length: 100\r\n\r\nx",
		"POST /api/v1/automation/pause HTTP/1.1\r\nHost: localhost\r\n" AUTH CSRF
		"Content-Length: 1000000000\r\n\r\nx",
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(early); i++) {
		int fd = connect_port(p);
		assert_int_equal(send(fd, early[i], strlen(early[i]), 0),
		                 (ssize_t)strlen(early[i]));
		char first[256] = "";
		double t = seconds_to_close(fd, 0.2, 10, first, sizeof(first));
		close(fd);
		if (t > 2.5 || strncmp(first, "HTTP/1.1 4", 10) != 0)
			fail_msg("%.60s: closed after %.1f s, answer '%.40s'", early[i], t, first);
	}
	/* A valid request whose body trickles in: 408 by the deadline. */
	int fd = connect_port(p);
	const char slow[] =
	        "POST /api/v1/automation/pause HTTP/1.1\r\nHost: localhost\r\n" AUTH CSRF
	        "Content-Length: 100\r\n\r\n{";
	assert_int_equal(send(fd, slow, strlen(slow), 0), (ssize_t)strlen(slow));
	char first[256] = "";
	double t = seconds_to_close(fd, 0.3, 12, first, sizeof(first));
	close(fd);
	if (t > 7.5 || strncmp(first, "HTTP/1.1 408", 12) != 0)
		fail_msg("trickled body: closed after %.1f s, answer '%.40s'", t, first);
	/* Headers that never end: closed by the deadline too, with no answer. */
	fd = connect_port(p);
	assert_int_equal(send(fd, "GET /health HTTP/1.1\r\n", 22, 0), 22);
	t = seconds_to_close(fd, 0.3, 10, first, sizeof(first));
	close(fd);
	if (t > 7.5)
		fail_msg("trickled headers: closed after %.1f s", t);
	assert_int_equal(calls(d), 0);
	stop(d);
	config_free(cfg);
}

/* GET over a unix socket; returns the status (0: no answer) and the raw answer. */
static int unix_get(const char *path, const char *req, char *buf, size_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int status = 0;
	buf[0] = '\0';
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req)) {
		size_t got = 0;
		ssize_t n;
		while (got + 1 < len && (n = recv(fd, buf + got, len - 1 - got, 0)) > 0)
			got += (size_t)n;
		buf[got] = '\0';
		sscanf(buf, "HTTP/1.1 %d", &status);
	}
	close(fd);
	return status;
}

/* The reserved /health listener: a unix socket with a thread of its own,
 * /health only, no detail, a second per connection; a stale socket left by
 * a killed run is replaced, and the socket goes away with the server. */
static void test_health_socket(void **state)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/rm-web-health-%d.sock", (int)getpid());
	/* A stale socket, as SIGKILL leaves it. */
	int stale = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	assert_int_equal(bind(stale, (struct sockaddr *)&a, sizeof(a)), 0);
	close(stale);
	struct rm_config *cfg = test_config();
	free(cfg->web.health_socket);
	cfg->web.health_socket = xstrdup(path);
	struct daemon *d = start(cfg);
	struct view *v = sample_view(SAMPLE_NOW);
	v->now = v->last_check = time_wall();
	v->deps[0].up = false;
	snprintf(v->deps[0].detail, sizeof(v->deps[0].detail), "tcp://socket-proxy:2375 refused");
	web_publish(d->w, v);
	char buf[4096];
	assert_int_equal(
	        unix_get(path, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf)), 200);
	assert_non_null(strstr(buf, "\"status\":\"degraded\""));
	assert_null(strstr(buf, "socket-proxy"));
	assert_int_equal(unix_get(path, "HEAD /health?x HTTP/1.1\r\n\r\n", buf, sizeof(buf)), 200);
	assert_null(strstr(buf, "{"));
	assert_int_equal(unix_get(path, "GET /api/v1/status HTTP/1.1\r\n\r\n", buf, sizeof(buf)),
	                 404);
	assert_int_equal(unix_get(path, "POST /health HTTP/1.1\r\n\r\n", buf, sizeof(buf)), 404);
	/* A client that never finishes is dropped after a second. */
	double t0 = time_monotonic();
	assert_int_equal(unix_get(path, "GET /health HTTP/1.1\r\n", buf, sizeof(buf)), 0);
	double t = time_monotonic() - t0;
	if (t < 0.8 || t > 3)
		fail_msg("an unfinished request was dropped after %.1f s", t);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	stop(d);
	assert_int_equal(stat(path, &st), -1); /* removed */
	/* Something else at the path is not replaced: no listener, a warning. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	d = start(cfg);
	assert_int_equal(unix_get(path, "GET /health HTTP/1.1\r\n\r\n", buf, sizeof(buf)), 0);
	expect_status(web_port(d->w), "GET", "/health", NULL, NULL, 200);
	stop(d);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
	config_free(cfg);
}

/* Readers on several threads while the loop publishes new views. */
struct reader {
	atomic_bool *stop;
	int ok;
	const char *path;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	while (!atomic_load(rd->stop)) {
		struct resp r;
		request(port, "GET", rd->path, NULL, NULL, &r);
		rd->ok += r.status == 200;
		resp_free(&r);
	}
	return NULL;
}

static void test_publish_while_reading(void **state)
{
	atomic_bool halt = false;
	static const char *const paths[] = { "/api/v1/status", "/metrics", "/health",
		                             "/api/v1/history?limit=5" };
	struct reader rd[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		rd[i] = (struct reader){ &halt, 0, paths[i] };
		pthread_create(&t[i], NULL, reader_main, &rd[i]);
	}
	for (int i = 0; i < 300; i++) {
		pthread_mutex_lock(&main_daemon->lock);
		republish(main_daemon);
		pthread_mutex_unlock(&main_daemon->lock);
		usleep(1000);
	}
	atomic_store(&halt, true);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_true(rd[i].ok > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_status_service_history),
		cmocka_unit_test(test_dashboard_assets),
		cmocka_unit_test(test_unknown_paths_and_methods),
		cmocka_unit_test(test_csrf_and_auth_refused),
		cmocka_unit_test(test_commands_accepted),
		cmocka_unit_test(test_malformed_and_oversized),
		cmocka_unit_test(test_no_credentials_configured),
		cmocka_unit_test(test_read_requires_auth),
		cmocka_unit_test(test_start_errors),
		cmocka_unit_test(test_publish_while_reading),
		cmocka_unit_test(test_json_nesting_refused),
		cmocka_unit_test(test_host_rebinding_refused),
		cmocka_unit_test(test_duplicate_content_length_refused),
		cmocka_unit_test(test_error_pages_have_headers),
		cmocka_unit_test(test_health_without_detail),
		cmocka_unit_test(test_slow_bodies_cut_off),
		cmocka_unit_test(test_health_socket),
	};
	/* RM_TEST_FILTER=test_name runs one test (e.g. against an older build). */
	if (getenv("RM_TEST_FILTER"))
		cmocka_set_test_filter(getenv("RM_TEST_FILTER"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
