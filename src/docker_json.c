/* docker_json: Docker Engine API JSON to plain C structs and back (pure). */
#include "rm/docker_json.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rm/json_depth.h"
#include "rm/util.h"

/* Far more than the Engine nests its answers (about 6), far less than a
 * stack holds. */
#define DOCKER_JSON_MAX_DEPTH 64

/* Where errors go while one document is decoded. */
struct jctx {
	char *err;
	size_t errlen;
};

static int fail(struct jctx *c, const char *field, const char *what)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: %s", field, what);
	return -EBADMSG;
}

static json_t *load(const char *data, size_t len, const char *doc, json_type want, struct jctx *c)
{
	json_error_t jerr;
	/* jansson recurses once per level; the Engine's answers need about 6. */
	if (data && !json_depth_within(data, len, DOCKER_JSON_MAX_DEPTH)) {
		if (c->err && c->errlen)
			snprintf(c->err, c->errlen, "%s: JSON nested deeper than %d levels", doc,
			         DOCKER_JSON_MAX_DEPTH);
		return NULL;
	}
	json_t *root = json_loadb(data ? data : "", data ? len : 0, 0, &jerr);
	if (!root) {
		if (c->err && c->errlen)
			snprintf(c->err, c->errlen, "%s: invalid JSON at line %d column %d: %s",
			         doc, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (json_typeof(root) != want) {
		fail(c, doc, want == JSON_ARRAY ? "not an array" : "not an object");
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Child object at key: NULL (ok) when absent or null, -EBADMSG when not an object. */
static int get_obj(json_t *o, const char *key, const char *field, json_t **ret, struct jctx *c)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return fail(c, field, "not an object");
	*ret = v;
	return 0;
}

static int get_str(json_t *o, const char *key, const char *field, bool required, char **ret,
                   struct jctx *c)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (!v || json_is_null(v))
		return required ? fail(c, field, "missing") : 0;
	if (!json_is_string(v))
		return fail(c, field, "not a string");
	free(*ret);
	*ret = xstrndup(json_string_value(v), json_string_length(v));
	return 0;
}

/* Integers; a real with an integral value in range is accepted too. */
static int get_i64(json_t *o, const char *key, const char *field, bool required, int64_t *ret,
                   bool *ret_found, struct jctx *c)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (ret_found)
		*ret_found = false;
	if (!v || json_is_null(v))
		return required ? fail(c, field, "missing") : 0;
	if (json_is_integer(v)) {
		*ret = (int64_t)json_integer_value(v);
	} else if (json_is_real(v)) {
		double d = json_real_value(v);
		/* 2^63 bounds: anything outside cannot be converted without UB. */
		if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d))
			return fail(c, field, "not an integer in range");
		*ret = (int64_t)d;
	} else {
		return fail(c, field, "not a number");
	}
	if (ret_found)
		*ret_found = true;
	return 0;
}

static int get_u64(json_t *o, const char *key, const char *field, bool required, uint64_t *ret,
                   bool *ret_found, struct jctx *c)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (ret_found)
		*ret_found = false;
	if (v && json_is_real(v)) {
		/* Counters above 2^63 arrive as reals. */
		double d = json_real_value(v);
		if (!(d >= 0 && d < 18446744073709551616.0) || d != floor(d))
			return fail(c, field, "not an unsigned integer in range");
		*ret = (uint64_t)d;
		if (ret_found)
			*ret_found = true;
		return 0;
	}
	int64_t i = 0;
	bool found = false;
	int r = get_i64(o, key, field, required, &i, &found, c);
	if (r < 0)
		return r;
	if (!found)
		return 0;
	if (i < 0)
		return fail(c, field, "negative");
	*ret = (uint64_t)i;
	if (ret_found)
		*ret_found = true;
	return 0;
}

static int get_int(json_t *o, const char *key, const char *field, int *ret, struct jctx *c)
{
	int64_t i = 0;
	bool found = false;
	int r = get_i64(o, key, field, false, &i, &found, c);
	if (r < 0)
		return r;
	if (!found)
		return 0;
	if (i < -2147483647 - 1 || i > 2147483647)
		return fail(c, field, "out of range");
	*ret = (int)i;
	return 0;
}

static int get_bool(json_t *o, const char *key, const char *field, bool *ret, struct jctx *c)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return fail(c, field, "not a boolean");
	*ret = json_is_true(v);
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* An array of strings (null or absent gives none). */
static int get_strv(json_t *o, const char *key, const char *field, char ***ret, size_t *ret_n,
                    struct jctx *c)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return fail(c, field, "not an array");
	size_t n = json_array_size(v);
	char **items = xcalloc(n ? n : 1, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(v, i);
		if (!json_is_string(s)) {
			strv_free(items, i);
			return fail(c, field, "holds a non-string");
		}
		items[i] = xstrndup(json_string_value(s), json_string_length(s));
	}
	strv_free(*ret, *ret_n);
	*ret = items;
	*ret_n = n;
	return 0;
}

static void labels_free(struct docker_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static int get_labels(json_t *o, const char *key, const char *field, struct docker_labels *ret,
                      struct jctx *c)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return fail(c, field, "not an object");
	struct docker_labels l = { .items = xcalloc(json_object_size(v) + 1, sizeof(*l.items)) };
	const char *k;
	json_t *val;
	json_object_foreach(v, k, val)
	{
		if (!json_is_string(val)) {
			labels_free(&l);
			return fail(c, field, "holds a non-string value");
		}
		l.items[l.n].key = xstrdup(k);
		l.items[l.n].value = xstrndup(json_string_value(val), json_string_length(val));
		l.n++;
	}
	labels_free(ret);
	*ret = l;
	return 0;
}

const char *docker_labels_get(const struct docker_labels *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return l->items[i].value;
	return NULL;
}

int docker_api_version_parse(const char *s, struct docker_api_version *ret)
{
	unsigned long maj, min;
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	maj = strtoul(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	min = strtoul(end + 1, &end, 10);
	if (*end || maj > 1000 || min > 1000)
		return -EINVAL;
	ret->major = (unsigned)maj;
	ret->minor = (unsigned)min;
	return 0;
}

int docker_api_version_cmp(struct docker_api_version a, struct docker_api_version b)
{
	if (a.major != b.major)
		return a.major < b.major ? -1 : 1;
	if (a.minor != b.minor)
		return a.minor < b.minor ? -1 : 1;
	return 0;
}

static bool digits(const char *s, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

int docker_json_parse_time(const char *s, double *ret)
{
	int Y, M, D, h, m, sec, oh = 0, om = 0;
	if (!s || strlen(s) < 20 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) ||
	    s[7] != '-' || !digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &m) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return -EINVAL;
	const char *p = s + 19;
	double frac = 0, scale = 0.1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	int sign = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
			return -EINVAL;
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	if (Y <= 1) { /* Go's zero time */
		*ret = 0;
		return 0;
	}
	struct tm tm = { .tm_year = Y - 1900,
		         .tm_mon = M - 1,
		         .tm_mday = D,
		         .tm_hour = h,
		         .tm_min = m,
		         .tm_sec = sec };
	time_t t = timegm(&tm);
	*ret = (double)t + frac - sign * (oh * 3600.0 + om * 60.0);
	return 0;
}

/* ---- /version and /info ---- */

void docker_version_free(struct docker_version *v)
{
	if (!v)
		return;
	free(v->version);
	free(v->api_version);
	free(v->min_api_version);
	memset(v, 0, sizeof(*v));
}

int docker_json_parse_version(const char *data, size_t len, struct docker_version *ret, char *err,
                              size_t errlen)
{
	struct jctx c = { err, errlen };
	struct docker_version v = { 0 };
	struct docker_api_version api;
	int r = -EBADMSG;
	json_t *root = load(data, len, "version", JSON_OBJECT, &c);
	if (!root)
		goto out;
	if ((r = get_str(root, "Version", "Version", false, &v.version, &c)) < 0 ||
	    (r = get_str(root, "ApiVersion", "ApiVersion", true, &v.api_version, &c)) < 0 ||
	    (r = get_str(root, "MinAPIVersion", "MinAPIVersion", false, &v.min_api_version, &c)) <
	            0)
		goto out;
	if (docker_api_version_parse(v.api_version, &api) < 0 ||
	    (v.min_api_version && docker_api_version_parse(v.min_api_version, &api) < 0)) {
		r = fail(&c, "ApiVersion", "not a version such as 1.41");
		goto out;
	}
	*ret = v;
	memset(&v, 0, sizeof(v));
	r = 0;
out:
	docker_version_free(&v);
	json_decref(root);
	return r;
}

void docker_info_free(struct docker_info *i)
{
	if (!i)
		return;
	free(i->cgroup_driver);
	memset(i, 0, sizeof(*i));
}

int docker_json_parse_info(const char *data, size_t len, struct docker_info *ret, char *err,
                           size_t errlen)
{
	struct jctx c = { err, errlen };
	struct docker_info info = { 0 };
	char *cgv = NULL;
	int64_t ncpu = 0;
	int r = -EBADMSG;
	json_t *root = load(data, len, "info", JSON_OBJECT, &c);
	if (!root)
		goto out;
	if ((r = get_i64(root, "NCPU", "NCPU", false, &ncpu, NULL, &c)) < 0 ||
	    (r = get_u64(root, "MemTotal", "MemTotal", false, &info.mem_total, NULL, &c)) < 0 ||
	    (r = get_str(root, "CgroupVersion", "CgroupVersion", false, &cgv, &c)) < 0 ||
	    (r = get_str(root, "CgroupDriver", "CgroupDriver", false, &info.cgroup_driver, &c)) < 0)
		goto out;
	if (ncpu < 0 || ncpu > 1000000) {
		r = fail(&c, "NCPU", "out of range");
		goto out;
	}
	info.ncpu = (unsigned)ncpu;
	if (cgv && strcmp(cgv, "1") == 0)
		info.cgroup_version = 1;
	else if (cgv && strcmp(cgv, "2") == 0)
		info.cgroup_version = 2;
	*ret = info;
	memset(&info, 0, sizeof(info));
	r = 0;
out:
	free(cgv);
	docker_info_free(&info);
	json_decref(root);
	return r;
}

/* ---- container list ---- */

enum docker_health docker_health_from_status(const char *status)
{
	if (!status)
		return DOCKER_HEALTH_NONE;
	if (strstr(status, "(unhealthy)"))
		return DOCKER_HEALTH_UNHEALTHY;
	if (strstr(status, "(healthy)"))
		return DOCKER_HEALTH_HEALTHY;
	if (strstr(status, "(health: starting)"))
		return DOCKER_HEALTH_STARTING;
	return DOCKER_HEALTH_NONE;
}

static void summary_free(struct docker_container_summary *s)
{
	free(s->id);
	strv_free(s->names, s->n_names);
	labels_free(&s->labels);
	free(s->state);
}

void docker_container_list_free(struct docker_container_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		summary_free(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

int docker_json_parse_container_list(const char *data, size_t len,
                                     struct docker_container_list *ret, char *err, size_t errlen)
{
	struct jctx c = { err, errlen };
	struct docker_container_list l = { 0 };
	int r = -EBADMSG;
	json_t *root = load(data, len, "containers", JSON_ARRAY, &c);
	if (!root)
		goto out;
	l.items = xcalloc(json_array_size(root) + 1, sizeof(*l.items));
	for (size_t i = 0; i < json_array_size(root); i++) {
		json_t *e = json_array_get(root, i);
		struct docker_container_summary *s = &l.items[l.n++];
		if (!json_is_object(e)) {
			r = fail(&c, "containers[]", "not an object");
			goto out;
		}
		if ((r = get_str(e, "Id", "containers[].Id", true, &s->id, &c)) < 0 ||
		    (r = get_strv(e, "Names", "containers[].Names", &s->names, &s->n_names, &c)) <
		            0 ||
		    (r = get_labels(e, "Labels", "containers[].Labels", &s->labels, &c)) < 0 ||
		    (r = get_str(e, "State", "containers[].State", false, &s->state, &c)) < 0 ||
		    (r = get_i64(e, "Created", "containers[].Created", false, &s->created, NULL,
		                 &c)) < 0)
			goto out;
		json_t *st = json_object_get(e, "Status");
		s->health = docker_health_from_status(json_is_string(st) ? json_string_value(st)
		                                                         : NULL);
	}
	*ret = l;
	memset(&l, 0, sizeof(l));
	r = 0;
out:
	docker_container_list_free(&l);
	json_decref(root);
	return r;
}

/* ---- inspect ---- */

static const char *const cpu_form_names[_DOCKER_CPU_FORM_MAX] = { "none", "nano_cpus",
	                                                          "cpu_quota" };

const char *docker_cpu_form_to_string(enum docker_cpu_form f)
{
	return (unsigned)f < _DOCKER_CPU_FORM_MAX ? cpu_form_names[f] : NULL;
}

int docker_cpu_form_from_string(const char *s)
{
	for (int i = 0; s && i < _DOCKER_CPU_FORM_MAX; i++)
		if (strcmp(cpu_form_names[i], s) == 0)
			return i;
	return -EINVAL;
}

enum docker_cpu_form docker_host_config_cpu_form(const struct docker_host_config *hc)
{
	if (hc->nano_cpus > 0)
		return DOCKER_CPU_NANO;
	if (hc->cpu_quota > 0)
		return DOCKER_CPU_QUOTA;
	return DOCKER_CPU_NONE;
}

double docker_host_config_cpus(const struct docker_host_config *hc)
{
	switch (docker_host_config_cpu_form(hc)) {
	case DOCKER_CPU_NANO:
		return (double)hc->nano_cpus / 1e9;
	case DOCKER_CPU_QUOTA:
		return (double)hc->cpu_quota /
		       (double)(hc->cpu_period > 0 ? hc->cpu_period : 100000);
	default:
		return 0;
	}
}

static void networks_free(struct docker_network *n, size_t count)
{
	for (size_t i = 0; n && i < count; i++) {
		free(n[i].name);
		strv_free(n[i].aliases, n[i].n_aliases);
		free(n[i].ip_address);
	}
	free(n);
}

void docker_inspect_free(struct docker_inspect *i)
{
	if (!i)
		return;
	free(i->id);
	free(i->name);
	free(i->created);
	free(i->state.status);
	free(i->state.started_at);
	free(i->state.health_status);
	free(i->config.image);
	labels_free(&i->config.labels);
	strv_free(i->config.healthcheck.test, i->config.healthcheck.n_test);
	strv_free(i->config.env, i->config.n_env);
	strv_free(i->config.cmd, i->config.n_cmd);
	strv_free(i->config.entrypoint, i->config.n_entrypoint);
	free(i->config.user);
	free(i->config.working_dir);
	free(i->config.stop_signal);
	for (size_t k = 0; k < i->host_config.n_port_bindings; k++) {
		free(i->host_config.port_bindings[k].container_port);
		free(i->host_config.port_bindings[k].host_ip);
		free(i->host_config.port_bindings[k].host_port);
	}
	free(i->host_config.port_bindings);
	free(i->host_config.restart_policy);
	free(i->host_config.network_mode);
	networks_free(i->networks, i->n_networks);
	free(i->raw_json);
	memset(i, 0, sizeof(*i));
}

static int parse_state(json_t *root, struct docker_inspect *in, struct jctx *c)
{
	json_t *st, *health;
	int r;
	if ((r = get_obj(root, "State", "State", &st, c)) < 0)
		return r;
	if (!st)
		return fail(c, "State", "missing");
	if ((r = get_str(st, "Status", "State.Status", false, &in->state.status, c)) < 0 ||
	    (r = get_bool(st, "Running", "State.Running", &in->state.running, c)) < 0 ||
	    (r = get_bool(st, "OOMKilled", "State.OOMKilled", &in->state.oom_killed, c)) < 0 ||
	    (r = get_str(st, "StartedAt", "State.StartedAt", false, &in->state.started_at, c)) <
	            0 ||
	    (r = get_int(st, "Pid", "State.Pid", &in->state.pid, c)) < 0 ||
	    (r = get_int(st, "ExitCode", "State.ExitCode", &in->state.exit_code, c)) < 0 ||
	    (r = get_obj(st, "Health", "State.Health", &health, c)) < 0 ||
	    (r = get_str(health, "Status", "State.Health.Status", false, &in->state.health_status,
	                 c)) < 0)
		return r;
	if (in->state.started_at &&
	    docker_json_parse_time(in->state.started_at, &in->state.started_at_time) < 0)
		return fail(c, "State.StartedAt", "not an RFC 3339 time");
	return 0;
}

static int parse_config(json_t *root, struct docker_inspect *in, struct jctx *c)
{
	json_t *cf, *hc;
	struct docker_healthcheck *h = &in->config.healthcheck;
	int r;
	if ((r = get_obj(root, "Config", "Config", &cf, c)) < 0 ||
	    (r = get_str(cf, "Image", "Config.Image", false, &in->config.image, c)) < 0 ||
	    (r = get_labels(cf, "Labels", "Config.Labels", &in->config.labels, c)) < 0 ||
	    (r = get_strv(cf, "Env", "Config.Env", &in->config.env, &in->config.n_env, c)) < 0 ||
	    (r = get_strv(cf, "Cmd", "Config.Cmd", &in->config.cmd, &in->config.n_cmd, c)) < 0 ||
	    (r = get_strv(cf, "Entrypoint", "Config.Entrypoint", &in->config.entrypoint,
	                  &in->config.n_entrypoint, c)) < 0 ||
	    (r = get_str(cf, "User", "Config.User", false, &in->config.user, c)) < 0 ||
	    (r = get_str(cf, "WorkingDir", "Config.WorkingDir", false, &in->config.working_dir,
	                 c)) < 0 ||
	    (r = get_obj(cf, "Healthcheck", "Config.Healthcheck", &hc, c)) < 0 ||
	    (r = get_strv(hc, "Test", "Config.Healthcheck.Test", &h->test, &h->n_test, c)) < 0 ||
	    (r = get_i64(hc, "Interval", "Config.Healthcheck.Interval", false, &h->interval, NULL,
	                 c)) < 0 ||
	    (r = get_i64(hc, "Timeout", "Config.Healthcheck.Timeout", false, &h->timeout, NULL,
	                 c)) < 0 ||
	    (r = get_i64(hc, "StartPeriod", "Config.Healthcheck.StartPeriod", false,
	                 &h->start_period, NULL, c)) < 0 ||
	    (r = get_int(hc, "Retries", "Config.Healthcheck.Retries", &h->retries, c)) < 0 ||
	    (r = get_str(cf, "StopSignal", "Config.StopSignal", false, &in->config.stop_signal,
	                 c)) < 0)
		return r;
	in->config.stop_timeout = -1;
	if ((r = get_int(cf, "StopTimeout", "Config.StopTimeout", &in->config.stop_timeout, c)) < 0)
		return r;
	return 0;
}

static int parse_port_bindings(json_t *hc, struct docker_host_config *h, struct jctx *c)
{
	json_t *pb;
	int r = get_obj(hc, "PortBindings", "HostConfig.PortBindings", &pb, c);
	if (r < 0 || !pb)
		return r;
	const char *port;
	json_t *list;
	size_t total = 0;
	json_object_foreach(pb, port, list)
	{
		if (!json_is_array(list) && !json_is_null(list))
			return fail(c, "HostConfig.PortBindings", "not an array");
		total += json_array_size(list);
	}
	h->port_bindings = xcalloc(total + 1, sizeof(*h->port_bindings));
	json_object_foreach(pb, port, list)
	{
		for (size_t i = 0; i < json_array_size(list); i++) {
			json_t *b = json_array_get(list, i);
			struct docker_port_binding *p = &h->port_bindings[h->n_port_bindings++];
			p->container_port = xstrdup(port);
			if (!json_is_object(b))
				return fail(c, "HostConfig.PortBindings[]", "not an object");
			if ((r = get_str(b, "HostIp", "HostConfig.PortBindings[].HostIp", false,
			                 &p->host_ip, c)) < 0 ||
			    (r = get_str(b, "HostPort", "HostConfig.PortBindings[].HostPort", false,
			                 &p->host_port, c)) < 0)
				return r;
			if (!p->host_ip)
				p->host_ip = xstrdup("");
			if (!p->host_port)
				p->host_port = xstrdup("");
		}
	}
	return 0;
}

static int parse_host_config(json_t *root, struct docker_inspect *in, struct jctx *c)
{
	json_t *hc, *rp;
	struct docker_host_config *h = &in->host_config;
	int r;
	if ((r = get_obj(root, "HostConfig", "HostConfig", &hc, c)) < 0)
		return r;
	if (!hc)
		return fail(c, "HostConfig", "missing");
	if ((r = get_i64(hc, "NanoCpus", "HostConfig.NanoCpus", false, &h->nano_cpus, NULL, c)) <
	            0 ||
	    (r = get_i64(hc, "CpuQuota", "HostConfig.CpuQuota", false, &h->cpu_quota, NULL, c)) <
	            0 ||
	    (r = get_i64(hc, "CpuPeriod", "HostConfig.CpuPeriod", false, &h->cpu_period, NULL, c)) <
	            0 ||
	    (r = get_i64(hc, "Memory", "HostConfig.Memory", false, &h->memory, NULL, c)) < 0 ||
	    (r = get_i64(hc, "MemorySwap", "HostConfig.MemorySwap", false, &h->memory_swap, NULL,
	                 c)) < 0 ||
	    (r = get_str(hc, "NetworkMode", "HostConfig.NetworkMode", false, &h->network_mode, c)) <
	            0 ||
	    (r = get_obj(hc, "RestartPolicy", "HostConfig.RestartPolicy", &rp, c)) < 0 ||
	    (r = get_str(rp, "Name", "HostConfig.RestartPolicy.Name", false, &h->restart_policy,
	                 c)) < 0 ||
	    (r = get_int(rp, "MaximumRetryCount", "HostConfig.RestartPolicy.MaximumRetryCount",
	                 &h->restart_max_retry, c)) < 0 ||
	    (r = parse_port_bindings(hc, h, c)) < 0)
		return r;
	if (h->nano_cpus < 0 || h->cpu_period < 0 || h->memory < 0 || h->memory_swap < -1)
		return fail(c, "HostConfig", "negative limit");
	return 0;
}

static int parse_networks(json_t *root, struct docker_inspect *in, struct jctx *c)
{
	json_t *ns, *nets;
	int r;
	if ((r = get_obj(root, "NetworkSettings", "NetworkSettings", &ns, c)) < 0 ||
	    (r = get_obj(ns, "Networks", "NetworkSettings.Networks", &nets, c)) < 0 || !nets)
		return r;
	in->networks = xcalloc(json_object_size(nets) + 1, sizeof(*in->networks));
	const char *name;
	json_t *n;
	json_object_foreach(nets, name, n)
	{
		struct docker_network *d = &in->networks[in->n_networks++];
		d->name = xstrdup(name);
		if (!json_is_object(n))
			return fail(c, "NetworkSettings.Networks[]", "not an object");
		if ((r = get_strv(n, "Aliases", "NetworkSettings.Networks[].Aliases", &d->aliases,
		                  &d->n_aliases, c)) < 0 ||
		    (r = get_str(n, "IPAddress", "NetworkSettings.Networks[].IPAddress", false,
		                 &d->ip_address, c)) < 0)
			return r;
		if (!d->ip_address)
			d->ip_address = xstrdup("");
		json_t *links = json_object_get(n, "Links");
		json_t *opts = json_object_get(n, "DriverOpts");
		d->endpoint_more = (json_is_array(links) && json_array_size(links)) ||
		                   (json_is_object(opts) && json_object_size(opts));
	}
	return 0;
}

int docker_json_parse_inspect(const char *data, size_t len, struct docker_inspect *ret, char *err,
                              size_t errlen)
{
	struct jctx c = { err, errlen };
	struct docker_inspect in = { 0 };
	int64_t restarts = 0;
	int r = -EBADMSG;
	json_t *root = load(data, len, "inspect", JSON_OBJECT, &c);
	if (!root)
		goto out;
	if ((r = get_str(root, "Id", "Id", true, &in.id, &c)) < 0 ||
	    (r = get_str(root, "Name", "Name", false, &in.name, &c)) < 0 ||
	    (r = get_str(root, "Created", "Created", false, &in.created, &c)) < 0 ||
	    (r = get_i64(root, "RestartCount", "RestartCount", false, &restarts,
	                 &in.restart_count_known, &c)) < 0 ||
	    (r = parse_state(root, &in, &c)) < 0 || (r = parse_config(root, &in, &c)) < 0 ||
	    (r = parse_host_config(root, &in, &c)) < 0 || (r = parse_networks(root, &in, &c)) < 0)
		goto out;
	if (restarts < 0 || restarts > UINT32_MAX) {
		r = fail(&c, "RestartCount", "not a count");
		goto out;
	}
	in.restart_count = (unsigned)restarts;
	in.raw_json = xstrndup(data, len);
	*ret = in;
	memset(&in, 0, sizeof(in));
	r = 0;
out:
	docker_inspect_free(&in);
	json_decref(root);
	return r;
}

/* ---- stats ---- */

int docker_json_parse_stats(const char *data, size_t len, struct docker_stats *ret, char *err,
                            size_t errlen)
{
	struct jctx c = { err, errlen };
	struct docker_stats s = { 0 };
	json_t *cpu, *usage, *thr, *mem, *mstats;
	char *read = NULL;
	int64_t online = 0;
	bool found_total = false, found_periods = false, found_tif = false, found_if = false;
	uint64_t tif = 0, inf = 0;
	int r = -EBADMSG;
	json_t *root = load(data, len, "stats", JSON_OBJECT, &c);
	if (!root)
		goto out;
	if ((r = get_str(root, "read", "read", false, &read, &c)) < 0 ||
	    (r = get_obj(root, "cpu_stats", "cpu_stats", &cpu, &c)) < 0 ||
	    (r = get_obj(cpu, "cpu_usage", "cpu_stats.cpu_usage", &usage, &c)) < 0 ||
	    (r = get_u64(usage, "total_usage", "cpu_stats.cpu_usage.total_usage", false,
	                 &s.cpu_total_usage, &found_total, &c)) < 0 ||
	    (r = get_u64(cpu, "system_cpu_usage", "cpu_stats.system_cpu_usage", false,
	                 &s.system_cpu_usage, NULL, &c)) < 0 ||
	    (r = get_i64(cpu, "online_cpus", "cpu_stats.online_cpus", false, &online, NULL, &c)) <
	            0 ||
	    (r = get_obj(cpu, "throttling_data", "cpu_stats.throttling_data", &thr, &c)) < 0 ||
	    (r = get_u64(thr, "periods", "cpu_stats.throttling_data.periods", false,
	                 &s.throttling_periods, &found_periods, &c)) < 0 ||
	    (r = get_u64(thr, "throttled_periods", "cpu_stats.throttling_data.throttled_periods",
	                 false, &s.throttled_periods, NULL, &c)) < 0 ||
	    (r = get_obj(root, "memory_stats", "memory_stats", &mem, &c)) < 0 ||
	    (r = get_u64(mem, "usage", "memory_stats.usage", false, &s.mem_usage, &s.mem_known,
	                 &c)) < 0 ||
	    (r = get_u64(mem, "limit", "memory_stats.limit", false, &s.mem_limit, NULL, &c)) < 0 ||
	    (r = get_obj(mem, "stats", "memory_stats.stats", &mstats, &c)) < 0 ||
	    (r = get_u64(mstats, "total_inactive_file", "memory_stats.stats.total_inactive_file",
	                 false, &tif, &found_tif, &c)) < 0 ||
	    (r = get_u64(mstats, "inactive_file", "memory_stats.stats.inactive_file", false, &inf,
	                 &found_if, &c)) < 0)
		goto out;
	if (online < 0 || online > 1000000) {
		r = fail(&c, "cpu_stats.online_cpus", "out of range");
		goto out;
	}
	s.online_cpus = (unsigned)online;
	if (read && docker_json_parse_time(read, &s.read_time) < 0) {
		r = fail(&c, "read", "not an RFC 3339 time");
		goto out;
	}
	/* A stopped container reports zero counters and the zero time. */
	s.cpu_known = found_total && s.read_time > 0;
	s.throttling_known = found_periods && s.read_time > 0;
	/* cgroup v1 has both keys; total_ is the hierarchical one the CLI uses. */
	s.inactive_file_known = found_tif || found_if;
	s.inactive_file = found_tif ? tif : inf;
	*ret = s;
	r = 0;
out:
	free(read);
	json_decref(root);
	return r;
}

uint64_t docker_stats_working_set(const struct docker_stats *s)
{
	if (!s->inactive_file_known || s->inactive_file > s->mem_usage)
		return s->inactive_file_known ? 0 : s->mem_usage;
	return s->mem_usage - s->inactive_file;
}

/* ---- events ---- */

static const char *const event_action_names[_DOCKER_EVENT_ACTION_MAX] = {
	"other", "start", "die", "oom", "health_status", "destroy", "rename", "relist",
};

const char *docker_event_action_to_string(enum docker_event_action a)
{
	return (unsigned)a < _DOCKER_EVENT_ACTION_MAX ? event_action_names[a] : NULL;
}

int docker_event_action_from_string(const char *s)
{
	for (int i = 0; s && i < _DOCKER_EVENT_ACTION_MAX; i++)
		if (strcmp(event_action_names[i], s) == 0)
			return i;
	return -EINVAL;
}

void docker_event_free(struct docker_event *e)
{
	if (!e)
		return;
	free(e->type);
	free(e->action_raw);
	free(e->id);
	free(e->name);
	free(e->service);
	free(e->project);
	free(e->health);
	free(e->old_name);
	memset(e, 0, sizeof(*e));
}

static void event_classify(struct docker_event *e)
{
	const char *a = e->action_raw;
	const char *hs = "health_status";
	size_t hl = strlen(hs);
	e->action = DOCKER_EVENT_OTHER;
	if (strncmp(a, hs, hl) == 0 && (a[hl] == '\0' || a[hl] == ':')) {
		e->action = DOCKER_EVENT_HEALTH_STATUS;
		const char *v = a + hl + (a[hl] == ':');
		while (*v == ' ')
			v++;
		if (*v)
			e->health = xstrdup(v);
		return;
	}
	int i = docker_event_action_from_string(a);
	/* "relist" and "other" are ours, never the engine's. */
	if (i > 0 && i != DOCKER_EVENT_RELIST && i != DOCKER_EVENT_HEALTH_STATUS)
		e->action = (enum docker_event_action)i;
}

int docker_json_parse_event(const char *data, size_t len, struct docker_event *ret, char *err,
                            size_t errlen)
{
	struct jctx c = { err, errlen };
	struct docker_event e = { 0 };
	json_t *actor, *attrs;
	char *exit_code = NULL;
	int r = -EBADMSG;
	json_t *root = load(data, len, "event", JSON_OBJECT, &c);
	if (!root)
		goto out;
	if ((r = get_str(root, "Type", "Type", true, &e.type, &c)) < 0 ||
	    (r = get_str(root, "Action", "Action", true, &e.action_raw, &c)) < 0 ||
	    (r = get_obj(root, "Actor", "Actor", &actor, &c)) < 0 ||
	    (r = get_str(actor, "ID", "Actor.ID", true, &e.id, &c)) < 0 ||
	    (r = get_obj(actor, "Attributes", "Actor.Attributes", &attrs, &c)) < 0 ||
	    (r = get_str(attrs, "name", "Actor.Attributes.name", false, &e.name, &c)) < 0 ||
	    (r = get_str(attrs, "com.docker.compose.service",
	                 "Actor.Attributes.com.docker.compose.service", false, &e.service, &c)) <
	            0 ||
	    (r = get_str(attrs, "com.docker.compose.project",
	                 "Actor.Attributes.com.docker.compose.project", false, &e.project, &c)) <
	            0 ||
	    (r = get_str(attrs, "oldName", "Actor.Attributes.oldName", false, &e.old_name, &c)) <
	            0 ||
	    (r = get_str(attrs, "exitCode", "Actor.Attributes.exitCode", false, &exit_code, &c)) <
	            0 ||
	    (r = get_i64(root, "time", "time", false, &e.time, NULL, &c)) < 0 ||
	    (r = get_i64(root, "timeNano", "timeNano", false, &e.time_nano, NULL, &c)) < 0)
		goto out;
	if (!actor) {
		r = fail(&c, "Actor", "missing");
		goto out;
	}
	if (exit_code) {
		char *end;
		long v = strtol(exit_code, &end, 10);
		if (*end || end == exit_code || v < -2147483647 || v > 2147483647) {
			r = fail(&c, "Actor.Attributes.exitCode", "not an integer");
			goto out;
		}
		e.exit_code = (int)v;
	}
	if (e.name && e.name[0] == '/')
		memmove(e.name, e.name + 1, strlen(e.name));
	if (e.time_nano == 0 && e.time > 0 && e.time < INT64_MAX / 1000000000)
		e.time_nano = e.time * 1000000000;
	event_classify(&e);
	*ret = e;
	memset(&e, 0, sizeof(e));
	r = 0;
out:
	free(exit_code);
	docker_event_free(&e);
	json_decref(root);
	return r;
}

/* ---- small documents ---- */

char *docker_json_error_message(const char *data, size_t len)
{
	struct jctx c = { NULL, 0 };
	char *msg = NULL;
	json_t *root = load(data, len, "error", JSON_OBJECT, &c);
	if (root)
		get_str(root, "message", "message", false, &msg, &c);
	json_decref(root);
	return msg;
}

int docker_json_parse_create(const char *data, size_t len, char **ret_id, char *err, size_t errlen)
{
	struct jctx c = { err, errlen };
	char *id = NULL;
	int r = -EBADMSG;
	json_t *root = load(data, len, "create", JSON_OBJECT, &c);
	if (!root)
		goto out;
	if ((r = get_str(root, "Id", "Id", true, &id, &c)) < 0)
		goto out;
	*ret_id = id;
	id = NULL;
out:
	free(id);
	json_decref(root);
	return r;
}

char *docker_json_filters(const struct docker_filter *f, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array();
		for (size_t k = 0; k < f[i].n_values; k++)
			json_array_append_new(a, json_string(f[i].values[k]));
		json_object_set_new(o, f[i].key, a);
	}
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		abort();
	return s;
}

/* Sets the new limits on o (a HostConfig or an update body) for a container
 * whose current HostConfig is cur. */
static void set_limits(json_t *o, const struct docker_host_config *cur,
                       const struct docker_limits *want)
{
	if (want->set_cpu) {
		if (docker_host_config_cpu_form(cur) == DOCKER_CPU_QUOTA) {
			int64_t period = cur->cpu_period > 0 ? cur->cpu_period : 100000;
			json_object_set_new(o, "CpuPeriod", json_integer(period));
			json_object_set_new(o, "CpuQuota",
			                    json_integer((json_int_t)llround(want->cpus * period)));
		} else {
			json_object_set_new(o, "NanoCpus",
			                    json_integer((json_int_t)llround(want->cpus * 1e9)));
		}
	}
	if (want->set_memory) {
		int64_t swap;
		if (cur->memory_swap == -1)
			swap = -1;
		else if (cur->memory > 0 && cur->memory_swap > cur->memory &&
		         cur->memory_swap - cur->memory <= INT64_MAX - want->memory)
			swap = want->memory + (cur->memory_swap - cur->memory);
		else
			swap = want->memory * 2;
		json_object_set_new(o, "Memory", json_integer(want->memory));
		json_object_set_new(o, "MemorySwap", json_integer(swap));
	}
}

static bool limits_valid(const struct docker_host_config *cur, const struct docker_limits *want)
{
	return !((want->set_cpu && !(want->cpus > 0 && want->cpus < 1e6)) ||
	         (want->set_memory && (want->memory <= 0 || want->memory > INT64_MAX / 4)) ||
	         cur->cpu_period > 1000000);
}

int docker_json_update_body(const struct docker_host_config *cur, const struct docker_limits *want,
                            char **ret_body)
{
	if ((!want->set_cpu && !want->set_memory) || !limits_valid(cur, want))
		return -EINVAL;
	json_t *o = json_object();
	set_limits(o, cur, want);
	*ret_body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!*ret_body)
		abort();
	return 0;
}

/* ---- clone ---- */

void docker_clone_free(struct docker_clone *c)
{
	if (!c)
		return;
	free(c->body);
	for (size_t i = 0; i < c->n_networks; i++) {
		free(c->networks[i].name);
		strv_free(c->networks[i].aliases, c->networks[i].n_aliases);
	}
	free(c->networks);
	free(c->primary.name);
	strv_free(c->primary.aliases, c->primary.n_aliases);
	memset(c, 0, sizeof(*c));
}

/* true when alias names this very container (its id, short id or default
 * hostname), which the engine adds by itself and a copy must not claim. */
static bool own_alias(const char *alias, const char *id)
{
	size_t n = strlen(alias);
	return n >= 12 && strncmp(alias, id, n) == 0;
}

/* The aliases of endpoint ep, without the container's own names: an owned
 * array (NULL when none) in ret, count in ret_n. */
static void clone_aliases(json_t *ep, const char *id, char ***ret, size_t *ret_n)
{
	json_t *a = json_object_get(ep, "Aliases");
	*ret = NULL;
	*ret_n = 0;
	if (!json_is_array(a))
		return;
	*ret = xcalloc(json_array_size(a) + 1, sizeof(**ret));
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s && !own_alias(s, id))
			(*ret)[(*ret_n)++] = xstrdup(s);
	}
}

/* Whether a mount at dest is already declared by Binds or a sourced Mounts entry. */
static bool mount_declared(json_t *host, const char *dest)
{
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(host, "Binds"), i, v)
	{
		const char *b = json_string_value(v);
		const char *colon = b ? strchr(b, ':') : NULL;
		if (colon) {
			size_t n = strcspn(colon + 1, ":");
			if (strlen(dest) == n && strncmp(colon + 1, dest, n) == 0)
				return true;
		}
	}
	json_array_foreach(json_object_get(host, "Mounts"), i, v)
	{
		const char *t = json_string_value(json_object_get(v, "Target"));
		if (t && strcmp(t, dest) == 0)
			return true;
	}
	return false;
}

/* Volumes blue got without a name it chose (image VOLUME, compose anonymous
 * volumes) are bound by their generated name, so the copy shares the data. */
static void clone_anonymous_volumes(json_t *root, json_t *host)
{
	json_t *mounts = json_object_get(host, "Mounts");
	if (json_is_array(mounts)) {
		/* A volume mount without a source would make a fresh, empty one. */
		for (size_t i = json_array_size(mounts); i-- > 0;) {
			json_t *m = json_array_get(mounts, i);
			const char *type = json_string_value(json_object_get(m, "Type"));
			const char *src = json_string_value(json_object_get(m, "Source"));
			if (type && strcmp(type, "volume") == 0 && (!src || !*src))
				json_array_remove(mounts, i);
		}
	}
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(root, "Mounts"), i, v)
	{
		const char *type = json_string_value(json_object_get(v, "Type"));
		const char *name = json_string_value(json_object_get(v, "Name"));
		const char *dest = json_string_value(json_object_get(v, "Destination"));
		if (!type || strcmp(type, "volume") != 0 || !name || !*name || !dest ||
		    mount_declared(host, dest))
			continue;
		json_t *binds = json_object_get(host, "Binds");
		if (!json_is_array(binds)) {
			binds = json_array();
			json_object_set_new(host, "Binds", binds);
		}
		bool rw = json_is_true(json_object_get(v, "RW"));
		json_array_append_new(binds, json_sprintf("%s:%s%s", name, dest, rw ? "" : ":ro"));
	}
}

/* The network the copy is created on: NetworkMode when blue is on it, the
 * bridge for "default", else the first one. NULL: no network of its own
 * (host, none, container:...). */
static const char *clone_primary_network(json_t *nets, const char *mode)
{
	if (!json_is_object(nets) || json_object_size(nets) == 0)
		return NULL;
	if (mode && (strcmp(mode, "host") == 0 || strcmp(mode, "none") == 0 ||
	             strncmp(mode, "container:", 10) == 0))
		return NULL;
	if (mode && json_object_get(nets, mode))
		return mode;
	if (mode && strcmp(mode, "default") == 0 && json_object_get(nets, "bridge"))
		return "bridge";
	return json_object_iter_key(json_object_iter(nets));
}

static json_t *clone_endpoint(json_t *ep, const char *id)
{
	json_t *o = json_object();
	char **aliases;
	size_t n;
	clone_aliases(ep, id, &aliases, &n);
	if (n) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_string(aliases[i]));
		json_object_set_new(o, "Aliases", a);
	}
	strv_free(aliases, n);
	json_t *links = json_object_get(ep, "Links");
	if (json_is_array(links) && json_array_size(links))
		json_object_set(o, "Links", links);
	json_t *opts = json_object_get(ep, "DriverOpts");
	if (json_is_object(opts) && json_object_size(opts))
		json_object_set(o, "DriverOpts", opts);
	return o;
}

static void clone_networks(json_t *root, json_t *body, const char *mode, const char *id,
                           struct docker_clone *ret)
{
	json_t *nets = json_object_get(json_object_get(root, "NetworkSettings"), "Networks");
	const char *primary = clone_primary_network(nets, mode);
	if (!primary)
		return;
	json_t *eps = json_object();
	json_object_set_new(eps, primary, clone_endpoint(json_object_get(nets, primary), id));
	json_t *nc = json_object();
	json_object_set_new(nc, "EndpointsConfig", eps);
	json_object_set_new(body, "NetworkingConfig", nc);
	ret->networks = xcalloc(json_object_size(nets), sizeof(*ret->networks));
	const char *name;
	json_t *ep;
	json_object_foreach(nets, name, ep)
	{
		if (strcmp(name, primary) == 0)
			continue;
		struct docker_clone_network *n = &ret->networks[ret->n_networks++];
		n->name = xstrdup(name);
		clone_aliases(ep, id, &n->aliases, &n->n_aliases);
	}
}

int docker_json_clone_body(const char *raw_inspect, size_t len, const struct docker_limits *want,
                           const struct docker_label_ref *extra_labels, size_t n_extra,
                           struct docker_clone *ret, char *err, size_t errlen)
{
	struct jctx c = { err, errlen };
	struct docker_inspect in = { 0 };
	struct docker_clone out = { 0 };
	json_t *root = NULL, *body = NULL;
	int r = docker_json_parse_inspect(raw_inspect, len, &in, err, errlen);
	if (r < 0)
		goto out;
	r = -EINVAL;
	if (!limits_valid(&in.host_config, want)) {
		fail(&c, "limits", "not positive or out of range");
		goto out;
	}
	r = -EBADMSG;
	root = load(raw_inspect, len, "inspect", JSON_OBJECT, &c);
	json_t *cfg = json_object_get(root, "Config");
	json_t *hc = json_object_get(root, "HostConfig");
	if (!json_is_object(cfg) || !json_is_object(hc)) {
		fail(&c, "Config", "missing");
		goto out;
	}
	body = json_deep_copy(cfg);
	/* The image blue runs, even if its tag has moved since. */
	json_t *image = json_object_get(root, "Image");
	if (json_is_string(image) && json_string_length(image))
		json_object_set(body, "Image", image);
	const char *host = json_string_value(json_object_get(cfg, "Hostname"));
	if (!host || own_alias(host, in.id))
		json_object_del(body, "Hostname");
	json_object_del(body, "MacAddress");
	json_t *labels = json_object_get(body, "Labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(body, "Labels", labels);
	}
	for (size_t i = 0; i < n_extra; i++)
		json_object_set_new(labels, extra_labels[i].key,
		                    json_string(extra_labels[i].value));
	json_t *hcopy = json_deep_copy(hc);
	set_limits(hcopy, &in.host_config, want);
	clone_anonymous_volumes(root, hcopy);
	json_object_set_new(body, "HostConfig", hcopy);
	clone_networks(root, body, in.host_config.network_mode, in.id, &out);
	out.body = json_dumps(body, JSON_COMPACT);
	if (!out.body)
		abort();
	*ret = out;
	memset(&out, 0, sizeof(out));
	r = 0;
out:
	docker_clone_free(&out);
	json_decref(body);
	json_decref(root);
	docker_inspect_free(&in);
	return r;
}

static char *dump_owned(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		abort();
	return s;
}

char *docker_json_connect_body(const char *container, const char *const *aliases, size_t n_aliases,
                               const char *ipv4)
{
	json_t *o = json_object();
	json_object_set_new(o, "Container", json_string(container));
	json_t *ep = json_object();
	if (n_aliases) {
		json_t *a = json_array();
		for (size_t i = 0; i < n_aliases; i++)
			json_array_append_new(a, json_string(aliases[i]));
		json_object_set_new(ep, "Aliases", a);
	}
	if (ipv4)
		json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", ipv4));
	json_object_set_new(o, "EndpointConfig", ep);
	return dump_owned(o);
}

char *docker_json_disconnect_body(const char *container, bool force)
{
	return dump_owned(json_pack("{s:s, s:b}", "Container", container, "Force", force));
}

int docker_json_clone_strip_aliases(struct docker_clone *c)
{
	json_t *root = c->body ? json_loads(c->body, 0, NULL) : NULL;
	json_t *eps = json_object_get(json_object_get(root, "NetworkingConfig"), "EndpointsConfig");
	int r = -EBADMSG;
	if (!json_is_object(eps) || json_object_size(eps) != 1)
		goto out;
	void *it = json_object_iter(eps);
	json_t *ep = json_object_iter_value(it);
	json_t *a = json_object_get(ep, "Aliases");
	free(c->primary.name);
	strv_free(c->primary.aliases, c->primary.n_aliases);
	c->primary.name = xstrdup(json_object_iter_key(it));
	c->primary.n_aliases = 0;
	c->primary.aliases = xcalloc(json_array_size(a) + 1, sizeof(char *));
	for (size_t i = 0; i < json_array_size(a); i++)
		if (json_is_string(json_array_get(a, i)))
			c->primary.aliases[c->primary.n_aliases++] =
			        xstrdup(json_string_value(json_array_get(a, i)));
	json_object_del(ep, "Aliases");
	free(c->body);
	c->body = dump_owned(json_incref(root));
	r = 0;
out:
	json_decref(root);
	return r;
}

bool docker_json_alias_is_own(const char *alias, const char *id)
{
	return own_alias(alias, id);
}
