/* state_json: the state file's JSON wire format (pure: text in, structs out). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/json_depth.h"
#include "rm/state.h"
#include "rm/util.h"

/* Far more than the format nests (about 5), far less than a stack holds. */
#define STATE_JSON_MAX_DEPTH 32

struct pctx {
	char *err;
	size_t errlen;
	bool failed;
};

static void perr(struct pctx *p, const char *path, const char *what)
{
	if (!p->failed)
		snprintf(p->err, p->errlen, "%s: %s", path, what);
	p->failed = true;
}

/* Names path.key as the place of an error (path NULL: key alone). */
static void perr_key(struct pctx *p, const char *path, const char *key, const char *what)
{
	char *fp = path ? xasprintf("%s.%s", path, key) : xstrdup(key);
	perr(p, fp, what);
	free(fp);
}

/* Readers: an absent key keeps the default; a present key of the wrong type
 * is an error naming its path. */

#define TYPE_BIT(t) (1u << (t))

/* o[key] when it is of one of the json_types in the mask types; NULL when it
 * is absent or null, and NULL with an error ("expected <what>") when it is of
 * another type. */
static json_t *get_member(struct pctx *p, json_t *o, const char *key, const char *path,
                          unsigned types, const char *what)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!(types & TYPE_BIT(json_typeof(v)))) {
		perr_key(p, path, key, what);
		return NULL;
	}
	return v;
}

static double get_num(struct pctx *p, json_t *o, const char *key, const char *path, double def)
{
	json_t *v = get_member(p, o, key, path, TYPE_BIT(JSON_INTEGER) | TYPE_BIT(JSON_REAL),
	                       "expected a number");
	return v && isfinite(json_number_value(v)) ? json_number_value(v) : def;
}

static long long get_int(struct pctx *p, json_t *o, const char *key, const char *path,
                         long long min, long long max)
{
	const char *what = "expected an integer in range";
	json_t *v = get_member(p, o, key, path, TYPE_BIT(JSON_INTEGER), what);
	if (!v)
		return 0;
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		perr_key(p, path, key, what);
		return 0;
	}
	return json_integer_value(v);
}

static bool get_bool(struct pctx *p, json_t *o, const char *key, const char *path, bool def)
{
	json_t *v = get_member(p, o, key, path, TYPE_BIT(JSON_TRUE) | TYPE_BIT(JSON_FALSE),
	                       "expected true or false");
	return v ? json_is_true(v) : def;
}

static char *get_str(struct pctx *p, json_t *o, const char *key, const char *path)
{
	json_t *v = get_member(p, o, key, path, TYPE_BIT(JSON_STRING), "expected a string");
	return v ? xstrdup(json_string_value(v)) : NULL;
}

static json_t *get_obj(struct pctx *p, json_t *o, const char *key, const char *path)
{
	return get_member(p, o, key, path, TYPE_BIT(JSON_OBJECT), "expected an object");
}

/* A top-level array: its errors name the key alone ("journal"). */
static json_t *get_arr(struct pctx *p, json_t *o, const char *key)
{
	return get_member(p, o, key, NULL, TYPE_BIT(JSON_ARRAY), "expected an array");
}

/* The string members of an entry kind, at their offsets in its struct (each a
 * char *, owned), for the reader and the writer alike. */
struct str_field {
	const char *key;
	size_t off;
};

static char **str_at(void *entry, const struct str_field *f)
{
	return (char **)((char *)entry + f->off);
}

static void read_strs(struct pctx *p, json_t *o, const char *path, void *entry,
                      const struct str_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		*str_at(entry, &f[i]) = get_str(p, o, f[i].key, path);
}

static void free_strs(void *entry, const struct str_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(*str_at(entry, &f[i]));
}

/* Sets the members that are not NULL. */
static void write_strs(json_t *o, const void *entry, const struct str_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = *(char *const *)((const char *)entry + f[i].off);
		if (v)
			json_object_set_new(o, f[i].key, json_string(v));
	}
}

static const struct str_field journal_strs[] = {
	{ "strategy", offsetof(struct state_journal, strategy) },
	{ "backend", offsetof(struct state_journal, backend) },
	{ "blue_id", offsetof(struct state_journal, blue_id) },
	{ "blue_name", offsetof(struct state_journal, blue_name) },
	{ "green_id", offsetof(struct state_journal, green_id) },
	{ "green_name", offsetof(struct state_journal, green_name) },
};

static const struct str_field history_strs[] = {
	{ "reason", offsetof(struct state_event, reason) },
	{ "explanation", offsetof(struct state_event, explanation) },
	{ "outcome", offsetof(struct state_event, outcome) },
	{ "strategy", offsetof(struct state_event, strategy) },
	{ "backend", offsetof(struct state_event, backend) },
};

static const struct str_field pending_strs[] = {
	{ "reason", offsetof(struct state_pending, reason) },
	{ "explanation", offsetof(struct state_pending, explanation) },
};

static void read_limits(struct pctx *p, json_t *o, const char *key, const char *path,
                        struct state_limits *l)
{
	char *fp = xasprintf("%s.%s", path, key);
	json_t *v = get_obj(p, o, key, path);
	if (v) {
		l->known = true;
		l->cpu = get_num(p, v, "cpu", fp, 0);
		double mem = get_num(p, v, "memory", fp, 0);
		if (mem < 0 || mem > 9e18)
			perr(p, fp, "memory out of range");
		else
			l->memory = (uint64_t)mem;
		if (l->cpu < 0)
			perr(p, fp, "cpu out of range");
	}
	free(fp);
}

static json_t *write_limits(const struct state_limits *l)
{
	if (!l->known)
		return json_null();
	return json_pack("{s:f, s:I}", "cpu", l->cpu, "memory", (json_int_t)l->memory);
}

static void read_engine(struct pctx *p, json_t *o, const char *path, struct engine_state *e)
{
	e->cpu_high = (unsigned)get_int(p, o, "cpu_high", path, 0, 1000000);
	e->cpu_low = (unsigned)get_int(p, o, "cpu_low", path, 0, 1000000);
	e->mem_high = (unsigned)get_int(p, o, "mem_high", path, 0, 1000000);
	e->mem_low = (unsigned)get_int(p, o, "mem_low", path, 0, 1000000);
	e->throttled = (unsigned)get_int(p, o, "throttled", path, 0, 1000000);
	e->last_change = get_num(p, o, "last_change", path, 0);
	e->failures = (unsigned)get_int(p, o, "failures", path, 0, 1000000);
	e->backoff_until = get_num(p, o, "backoff_until", path, 0);
	e->day = (int32_t)get_int(p, o, "day", path, -1000000, 1000000);
	e->changes_today = (unsigned)get_int(p, o, "changes_today", path, 0, 1000000);
	e->oom_pending = get_bool(p, o, "oom_pending", path, false);
	e->cpu_revert_until = get_num(p, o, "cpu_revert_until", path, 0);
	e->mem_revert_until = get_num(p, o, "mem_revert_until", path, 0);
	e->watch_until = get_num(p, o, "watch_until", path, 0); /* absent before the watch hold */
	e->cpu_changed = get_num(p, o, "cpu_changed", path, 0);
	e->mem_changed = get_num(p, o, "mem_changed", path, 0);
	char *r = get_str(p, o, "last_result", path);
	if (r) {
		int v = engine_result_from_string(r);
		if (v < 0)
			perr(p, path, "unknown last_result");
		else
			e->last_result = (enum engine_result)v;
		free(r);
	}
}

static json_t *write_engine(const struct engine_state *e)
{
	json_t *o = json_pack("{s:i, s:i, s:i, s:i, s:i, s:f, s:s, s:i, s:f, s:i, s:i}", "cpu_high",
	                      (int)e->cpu_high, "cpu_low", (int)e->cpu_low, "mem_high",
	                      (int)e->mem_high, "mem_low", (int)e->mem_low, "throttled",
	                      (int)e->throttled, "last_change", e->last_change, "last_result",
	                      engine_result_to_string(e->last_result), "failures", (int)e->failures,
	                      "backoff_until", e->backoff_until, "day", (int)e->day,
	                      "changes_today", (int)e->changes_today);
	json_object_set_new(o, "oom_pending", json_boolean(e->oom_pending));
	json_object_set_new(o, "cpu_changed", json_real(e->cpu_changed));
	json_object_set_new(o, "mem_changed", json_real(e->mem_changed));
	json_object_set_new(o, "cpu_revert_until", json_real(e->cpu_revert_until));
	json_object_set_new(o, "mem_revert_until", json_real(e->mem_revert_until));
	json_object_set_new(o, "watch_until", json_real(e->watch_until));
	return o;
}

/* A histogram: its times, count, weighted sum and total weight, and its
 * buckets from the first to the last that has weight ("offset" is the first
 * one's index). Everything is checked (histogram_validate: the total must be
 * the buckets' sum). */
static void read_histogram(struct pctx *p, json_t *o, const char *path, struct histogram *h)
{
	h->ref = get_num(p, o, "ref", path, 0);
	h->first = get_num(p, o, "first", path, 0);
	h->last = get_num(p, o, "last", path, 0);
	h->sum = get_num(p, o, "sum", path, 0);
	h->total = get_num(p, o, "total", path, 0);
	h->samples = (uint32_t)get_int(p, o, "samples", path, 0, UINT32_MAX);
	long long off = get_int(p, o, "offset", path, 0, HISTOGRAM_BUCKETS - 1);
	json_t *w = get_member(p, o, "weights", path, TYPE_BIT(JSON_ARRAY), "expected an array");
	size_t i;
	json_t *v;
	if (w && (size_t)off + json_array_size(w) > HISTOGRAM_BUCKETS)
		perr_key(p, path, "weights", "more buckets than a histogram has");
	else if (w)
		json_array_foreach(w, i, v)
		{
			if (!json_is_number(v) || !(json_number_value(v) >= 0)) {
				perr_key(p, path, "weights", "expected numbers >= 0");
				break;
			}
			h->bucket[(size_t)off + i] = json_number_value(v);
		}
	if (!p->failed && histogram_validate(h) < 0)
		perr(p, path, "not a valid histogram (weights, sum or times out of range)");
}

static json_t *write_histogram(const struct histogram *h)
{
	size_t lo = 0, hi = 0;
	for (size_t i = 0; i < HISTOGRAM_BUCKETS; i++)
		if (h->bucket[i] > 0) {
			if (hi == 0)
				lo = i;
			hi = i + 1;
		}
	json_t *w = json_array();
	for (size_t i = lo; i < hi; i++)
		json_array_append_new(w, json_real(h->bucket[i]));
	return json_pack("{s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:o}", "ref", h->ref, "first",
	                 h->first, "last", h->last, "sum", h->sum, "total", h->total, "samples",
	                 (json_int_t)h->samples, "offset", (json_int_t)lo, "weights", w);
}

/* The watch after the last change (verify.h). */
static void read_watch(struct pctx *p, json_t *o, const char *path, struct verify_watch *w)
{
	w->started = get_num(p, o, "started", path, 0);
	w->until = get_num(p, o, "until", path, 0);
	w->cpu_decreased = get_bool(p, o, "cpu_decreased", path, false);
	w->mem_decreased = get_bool(p, o, "mem_decreased", path, false);
	w->cpu_from = get_num(p, o, "cpu_from", path, 0);
	w->cpu_to = get_num(p, o, "cpu_to", path, 0);
	double mf = get_num(p, o, "mem_from", path, 0), mt = get_num(p, o, "mem_to", path, 0);
	if (mf < 0 || mf > 9e18 || mt < 0 || mt > 9e18)
		perr(p, path, "memory out of range");
	else {
		w->mem_from = (uint64_t)mf;
		w->mem_to = (uint64_t)mt;
	}
	w->restarts0 = (unsigned)get_int(p, o, "restarts0", path, 0, 1000000);
	w->ooms0 = (unsigned)get_int(p, o, "ooms0", path, 0, 1000000);
	w->unhealthy0 = get_bool(p, o, "unhealthy0", path, false);
	w->throttled_before_known = get_bool(p, o, "throttled_before_known", path, false);
	w->throttled_before = get_num(p, o, "throttled_before", path, 0);
	w->checks = (unsigned)get_int(p, o, "checks", path, 0, 100000000);
	w->ooms_seen = (unsigned)get_int(p, o, "ooms_seen", path, 0, 1000000);
	w->restarted = (unsigned)get_int(p, o, "restarted", path, 0, 1000000);
	w->throttled_run = (unsigned)get_int(p, o, "throttled_run", path, 0, 100000000);
}

static json_t *write_watch(const struct verify_watch *w)
{
	json_t *o = json_pack("{s:f, s:f, s:b, s:b, s:f, s:f, s:I, s:I}", "started", w->started,
	                      "until", w->until, "cpu_decreased", w->cpu_decreased, "mem_decreased",
	                      w->mem_decreased, "cpu_from", w->cpu_from, "cpu_to", w->cpu_to,
	                      "mem_from", (json_int_t)w->mem_from, "mem_to", (json_int_t)w->mem_to);
	json_object_set_new(o, "restarts0", json_integer(w->restarts0));
	json_object_set_new(o, "ooms0", json_integer(w->ooms0));
	json_object_set_new(o, "unhealthy0", json_boolean(w->unhealthy0));
	json_object_set_new(o, "throttled_before_known", json_boolean(w->throttled_before_known));
	json_object_set_new(o, "throttled_before", json_real(w->throttled_before));
	json_object_set_new(o, "checks", json_integer(w->checks));
	json_object_set_new(o, "ooms_seen", json_integer(w->ooms_seen));
	json_object_set_new(o, "restarted", json_integer(w->restarted));
	json_object_set_new(o, "throttled_run", json_integer(w->throttled_run));
	return o;
}

static void read_usage(struct pctx *p, json_t *o, const char *path, struct usage_history *u)
{
	static const char *const keys[] = { "cpu", "memory" };
	u->cpu_floor = get_num(p, o, "cpu_floor", path, 0);
	u->cpu_floor_time = get_num(p, o, "cpu_floor_time", path, 0);
	if (u->cpu_floor < 0)
		perr_key(p, path, "cpu_floor", "expected a number >= 0");
	struct histogram *hs[] = { &u->cpu, &u->mem };
	for (size_t i = 0; i < 2; i++) {
		json_t *h = get_obj(p, o, keys[i], path);
		if (!h)
			continue;
		char *hp = xasprintf("%s.%s", path, keys[i]);
		read_histogram(p, h, hp, hs[i]);
		free(hp);
	}
}

static void read_counters(struct pctx *p, json_t *o, const char *path, struct state_counters *c)
{
	const long long max = 1LL << 53;
	c->total_adjustments = (unsigned long)get_int(p, o, "total_adjustments", path, 0, max);
	c->successful_adjustments =
	        (unsigned long)get_int(p, o, "successful_adjustments", path, 0, max);
	c->failed_adjustments = (unsigned long)get_int(p, o, "failed_adjustments", path, 0, max);
	c->blue_green_deployments =
	        (unsigned long)get_int(p, o, "blue_green_deployments", path, 0, max);
	c->blue_green_failed = (unsigned long)get_int(p, o, "blue_green_failed", path, 0, max);
	c->rollbacks = (unsigned long)get_int(p, o, "rollbacks", path, 0, max);
	c->threshold_breaches = (unsigned long)get_int(p, o, "threshold_breaches", path, 0, max);
	c->reverts = (unsigned long)get_int(p, o, "reverts", path, 0, max); /* 0 before v3 */
	c->verified = (unsigned long)get_int(p, o, "verified", path, 0, max);
}

static json_t *write_counters(const struct state_counters *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "total_adjustments",
	                 (json_int_t)c->total_adjustments, "successful_adjustments",
	                 (json_int_t)c->successful_adjustments, "failed_adjustments",
	                 (json_int_t)c->failed_adjustments, "blue_green_deployments",
	                 (json_int_t)c->blue_green_deployments, "blue_green_failed",
	                 (json_int_t)c->blue_green_failed, "rollbacks", (json_int_t)c->rollbacks,
	                 "threshold_breaches", (json_int_t)c->threshold_breaches, "reverts",
	                 (json_int_t)c->reverts, "verified", (json_int_t)c->verified);
}

static void read_services(struct pctx *p, json_t *root, struct rm_state *s)
{
	json_t *svcs = get_obj(p, root, "services", "state");
	const char *name;
	json_t *v;
	if (!svcs)
		return;
	json_object_foreach(svcs, name, v)
	{
		char *path = xasprintf("services.%s", name);
		if (!json_is_object(v)) {
			perr(p, path, "expected an object");
		} else {
			struct state_service *sv = state_service_get(s, name);
			json_t *e = get_obj(p, v, "engine", path);
			if (e) {
				char *ep = xasprintf("%s.engine", path);
				read_engine(p, e, ep, &sv->engine);
				free(ep);
			}
			json_t *c = get_obj(p, v, "counters", path);
			if (c) {
				char *cp = xasprintf("%s.counters", path);
				read_counters(p, c, cp, &sv->counters);
				free(cp);
			}
			json_t *wt = get_obj(p, v, "watch", path);
			if (wt) {
				char *wp = xasprintf("%s.watch", path);
				sv->watching = true;
				read_watch(p, wt, wp, &sv->watch);
				free(wp);
			}
			json_t *u = get_obj(p, v, "usage", path);
			if (u) {
				char *up = xasprintf("%s.usage", path);
				read_usage(p, u, up, &sv->usage);
				free(up);
			}
			sv->replicas = (unsigned)get_int(p, v, "replicas", path, 0, 1000000);
			read_limits(p, v, "last_good", path, &sv->last_good);
			read_limits(p, v, "applied", path, &sv->applied);
		}
		free(path);
	}
}

/* Reads each entry of the array root[key] with read_entry, whose errors name
 * the entry as key[i]. */
static void read_entries(struct pctx *p, json_t *root, const char *key, struct rm_state *s,
                         void (*read_entry)(struct pctx *p, json_t *v, const char *path,
                                            struct rm_state *s))
{
	json_t *arr = get_arr(p, root, key);
	size_t i;
	json_t *v;
	if (!arr)
		return;
	json_array_foreach(arr, i, v)
	{
		char path[48];
		snprintf(path, sizeof(path), "%s[%zu]", key, i);
		read_entry(p, v, path, s);
	}
}

/* The service of an entry that must be an object naming one (owned), or NULL
 * after an error. */
static char *entry_service(struct pctx *p, json_t *v, const char *path)
{
	char *svc = json_is_object(v) ? get_str(p, v, "service", path) : NULL;
	if (!svc)
		perr(p, path, "expected an object with a service");
	return svc;
}

static void read_journal_entry(struct pctx *p, json_t *v, const char *path, struct rm_state *s)
{
	char *svc = entry_service(p, v, path);
	if (!svc)
		return;
	struct state_journal *j = state_journal_add(s, svc);
	free(svc);
	read_strs(p, v, path, j, journal_strs, RM_ARRAY_SIZE(journal_strs));
	read_limits(p, v, "from", path, &j->from);
	read_limits(p, v, "to", path, &j->to);
	char *phase = get_str(p, v, "phase", path);
	int ph = phase ? bg_phase_from_string(phase) : -EINVAL;
	free(phase);
	if (ph < 0)
		perr(p, path, "unknown or missing phase");
	j->machine.phase = ph < 0 ? BG_PREPARE : (enum bg_phase)ph;
	j->machine.entered = get_num(p, v, "entered", path, 0);
	j->machine.started = get_num(p, v, "started", path, 0);
	j->machine.rollback_enabled = get_bool(p, v, "rollback_enabled", path, true);
	j->machine.blue_stopped = get_bool(p, v, "blue_stopped", path, false);
}

static void read_history_entry(struct pctx *p, json_t *v, const char *path, struct rm_state *s)
{
	if (!json_is_object(v)) {
		perr(p, path, "expected an object");
		return;
	}
	struct state_event ev = { 0 };
	ev.time = get_num(p, v, "time", path, 0);
	char *kind = get_str(p, v, "kind", path);
	int k = kind ? state_event_kind_from_string(kind) : 0;
	free(kind);
	ev.kind = k < 0 ? STATE_EVENT_DECISION : (enum state_event_kind)k;
	ev.service = get_str(p, v, "service", path);
	read_strs(p, v, path, &ev, history_strs, RM_ARRAY_SIZE(history_strs));
	ev.duration = get_num(p, v, "duration", path, 0);
	read_limits(p, v, "from", path, &ev.from);
	read_limits(p, v, "to", path, &ev.to);
	if (!ev.service)
		perr(p, path, "missing service");
	else
		state_history_add(s, &ev, (size_t)-1);
	free(ev.service);
	free_strs(&ev, history_strs, RM_ARRAY_SIZE(history_strs));
}

static void read_pending_entry(struct pctx *p, json_t *v, const char *path, struct rm_state *s)
{
	char *svc = entry_service(p, v, path);
	if (!svc)
		return;
	struct state_pending *pd = state_pending_add(s, svc);
	free(svc);
	pd->created = get_num(p, v, "created", path, 0);
	pd->expires = get_num(p, v, "expires", path, 0);
	read_strs(p, v, path, pd, pending_strs, RM_ARRAY_SIZE(pending_strs));
	read_limits(p, v, "from", path, &pd->from);
	read_limits(p, v, "to", path, &pd->to);
}

int state_json_parse(const char *text, size_t len, struct rm_state **ret, char *err, size_t errlen)
{
	json_error_t jerr;
	struct pctx p = { err, errlen, false };
	/* jansson recurses once per level: the format needs a handful. */
	if (!json_depth_within(text, len, STATE_JSON_MAX_DEPTH)) {
		snprintf(err, errlen,
		         "nested deeper than %d levels: not a state file this program wrote",
		         STATE_JSON_MAX_DEPTH);
		return -EBADMSG;
	}
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "line %d: %s", jerr.line, jerr.text);
		return -EBADMSG;
	}
	struct rm_state *s = state_new();
	if (!json_is_object(root)) {
		perr(&p, "state", "expected a JSON object");
		goto out;
	}
	long long version = get_int(&p, root, "version", "state", 0, 1000000);
	if (!p.failed && version > STATE_FORMAT_VERSION) {
		snprintf(err, errlen, "format version %lld is newer than this build reads (%d)",
		         version, STATE_FORMAT_VERSION);
		p.failed = true;
		goto out;
	}
	s->saved_at = get_num(&p, root, "saved_at", "state", 0);
	read_services(&p, root, s);
	read_entries(&p, root, "journal", s, read_journal_entry);
	read_entries(&p, root, "history", s, read_history_entry);
	read_entries(&p, root, "pending", s, read_pending_entry);
out:
	json_decref(root);
	if (p.failed) {
		state_free(s);
		return -EBADMSG;
	}
	*ret = s;
	return 0;
}

char *state_json_serialize(const struct rm_state *s)
{
	json_t *root = json_object();
	json_object_set_new(root, "version", json_integer(STATE_FORMAT_VERSION));
	json_object_set_new(root, "saved_at", json_real(s->saved_at));
	json_t *svcs = json_object();
	for (size_t i = 0; i < s->n_services; i++) {
		const struct state_service *sv = &s->services[i];
		json_t *o =
		        json_pack("{s:o, s:o, s:i, s:o, s:o}", "engine", write_engine(&sv->engine),
		                  "counters", write_counters(&sv->counters), "replicas",
		                  (int)sv->replicas, "last_good", write_limits(&sv->last_good),
		                  "applied", write_limits(&sv->applied));
		if (!histogram_empty(&sv->usage.cpu) || !histogram_empty(&sv->usage.mem))
			json_object_set_new(o, "usage",
			                    json_pack("{s:o, s:o, s:f, s:f}", "cpu",
			                              write_histogram(&sv->usage.cpu), "memory",
			                              write_histogram(&sv->usage.mem), "cpu_floor",
			                              sv->usage.cpu_floor, "cpu_floor_time",
			                              sv->usage.cpu_floor_time));
		if (sv->watching)
			json_object_set_new(o, "watch", write_watch(&sv->watch));
		json_object_set_new(svcs, sv->name, o);
	}
	json_object_set_new(root, "services", svcs);
	json_t *jr = json_array();
	for (size_t i = 0; i < s->n_journal; i++) {
		const struct state_journal *j = &s->journal[i];
		json_t *o = json_pack("{s:s, s:s, s:f, s:f, s:b, s:b, s:o, s:o}", "service",
		                      j->service, "phase", bg_phase_to_string(j->machine.phase),
		                      "entered", j->machine.entered, "started", j->machine.started,
		                      "rollback_enabled", j->machine.rollback_enabled,
		                      "blue_stopped", j->machine.blue_stopped, "from",
		                      write_limits(&j->from), "to", write_limits(&j->to));
		write_strs(o, j, journal_strs, RM_ARRAY_SIZE(journal_strs));
		json_array_append_new(jr, o);
	}
	json_object_set_new(root, "journal", jr);
	json_t *hist = json_array();
	for (size_t i = 0; i < s->n_history; i++) {
		const struct state_event *ev = &s->history[i];
		json_t *o = json_pack("{s:f, s:s, s:s, s:f, s:o, s:o}", "time", ev->time, "kind",
		                      state_event_kind_to_string(ev->kind), "service", ev->service,
		                      "duration", ev->duration, "from", write_limits(&ev->from),
		                      "to", write_limits(&ev->to));
		write_strs(o, ev, history_strs, RM_ARRAY_SIZE(history_strs));
		json_array_append_new(hist, o);
	}
	json_object_set_new(root, "history", hist);
	json_t *pend = json_array();
	for (size_t i = 0; i < s->n_pending; i++) {
		const struct state_pending *pd = &s->pending[i];
		json_t *o = json_pack("{s:s, s:f, s:f, s:o, s:o}", "service", pd->service,
		                      "created", pd->created, "expires", pd->expires, "from",
		                      write_limits(&pd->from), "to", write_limits(&pd->to));
		write_strs(o, pd, pending_strs, RM_ARRAY_SIZE(pending_strs));
		json_array_append_new(pend, o);
	}
	json_object_set_new(root, "pending", pend);
	char *out = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	json_decref(root);
	if (!out)
		abort();
	char *copy = xstrdup(out);
	free(out);
	return copy;
}
