/* source_prom: observations from cAdvisor series in Prometheus, a fixed number
 * of queries per check for all monitored services together. */
#include "rm/source_prom.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/config.h"
#include "rm/discovery.h"
#include "rm/http.h"
#include "rm/prom.h"
#include "rm/units.h"
#include "rm/util.h"

#define L_SERVICE "container_label_com_docker_compose_service"
#define L_PROJECT "container_label_com_docker_compose_project"
#define L_NAME    "name"
/* A Swarm task's service ("<stack>_<service>") and stack: cAdvisor on each
 * node exports them, so a service's replicas on every node sum up. */
#define L_SWARM  "container_label_com_docker_swarm_service_name"
#define L_STACK  "container_label_com_docker_stack_namespace"
#define GROUP_BY "(" L_SERVICE ", " L_PROJECT ", " L_NAME ", " L_SWARM ", " L_STACK ")"

/* A memory limit at or above this is cgroup's "unlimited" (2^63 - page). */
#define MEM_UNLIMITED_SENTINEL 4611686018427387904.0 /* 2^62 */

enum quantity {
	Q_CPU,
	Q_CPU_TREND,
	Q_CPU_LIMIT,
	Q_THROTTLED,
	Q_CFS_PERIODS,
	Q_MEM,
	Q_MEM_PEAK,
	Q_MEM_LIMIT,
	Q_OOM,
	Q_UPTIME,
	_Q_MAX,
};

/* Names used in unknown_reason. */
static const char *const quantity_names[_Q_MAX] = {
	[Q_CPU] = "cpu",
	[Q_CPU_TREND] = "cpu_trend",
	[Q_CPU_LIMIT] = "cpu_limit",
	[Q_THROTTLED] = "cpu_throttled",
	[Q_CFS_PERIODS] = "cfs_periods",
	[Q_MEM] = "memory",
	[Q_MEM_PEAK] = "memory_peak",
	[Q_MEM_LIMIT] = "memory_limit",
	[Q_OOM] = "oom",
	[Q_UPTIME] = "uptime",
};

_Static_assert(_Q_MAX == SOURCE_PROM_QUERIES, "one query per quantity");

struct source_prom {
	struct prom_client *client;
	char *project; /* "" = any */
	double analysis_window, trend_window, check_interval;
	enum memory_metric memory_metric;
};

/* One container's value for each quantity, as Prometheus gave it. */
struct cval {
	bool present;
	double v;
};

struct container {
	char *name; /* owned; the cAdvisor name label, "" when absent */
	struct cval q[_Q_MAX];
};

struct service_acc {
	struct container *c; /* owned */
	size_t n;
};

/* The monitored names, for exact lookup: open addressing on an FNV-1a hash;
 * names are borrowed from the caller's list. */
struct name_table {
	struct name_slot {
		const char *name; /* NULL: empty */
		size_t idx;
	} * slots;
	size_t mask;
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Fills t with names[0..n); a name given twice keeps its first index. */
static void name_table_build(struct name_table *t, const char *const *names, size_t n)
{
	size_t size = 16;
	while (size < 2 * n)
		size *= 2;
	t->slots = xcalloc(size, sizeof(*t->slots));
	t->mask = size - 1;
	for (size_t i = 0; i < n; i++) {
		size_t h = name_hash(names[i]) & t->mask;
		while (t->slots[h].name && strcmp(t->slots[h].name, names[i]) != 0)
			h = (h + 1) & t->mask;
		if (!t->slots[h].name)
			t->slots[h] = (struct name_slot){ names[i], i };
	}
}

/* The index of name, or -1. */
static long lookup(const struct name_table *t, const char *name)
{
	for (size_t h = name_hash(name) & t->mask; t->slots[h].name; h = (h + 1) & t->mask)
		if (strcmp(t->slots[h].name, name) == 0)
			return (long)t->slots[h].idx;
	return -1;
}

/* Appends s to sb with RE2's metacharacters escaped. */
static void append_regex_escaped(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (strchr("\\.+*?()|[]{}^$", *s))
			strbuf_append(sb, "\\", 1);
		strbuf_append(sb, s, 1);
	}
}

/* Turns raw into the body of a PromQL double-quoted string. */
static char *promql_string(const char *raw)
{
	struct strbuf sb;
	strbuf_init(&sb);
	for (const char *p = raw; *p; p++) {
		if (*p == '\\' || *p == '"')
			strbuf_append(&sb, "\\", 1);
		if (*p == '\n')
			strbuf_puts(&sb, "\\n");
		else
			strbuf_append(&sb, p, 1);
	}
	return strbuf_steal(&sb);
}

/* The two selectors of every query, for services[0..n):
 *   - without a project: by compose service label, then by container name,
 *     each an anchored alternation of the escaped names;
 *   - with a project: every container of that project (filtered here, by
 *     exact name), then containers of no project by name. Prometheus' cost
 *     is per series selected and per alternation compiled, not per name
 *     filtered out here (docs/benchmarks.md §1).
 * by_swarm selects Swarm tasks: by their service's stack-qualified or
 * bare name, or with a project every task of that stack (the project is the
 * stack; assign() filters by exact name).
 * by_name is NULL when no container can match by name (collect narrows it to
 * what the discovery query found). */
struct selectors {
	char *by_service;
	char *by_name;
	char *by_swarm;
};

/* "^(?:a|b|...)$" as the body of a PromQL string. */
static char *alternation(const char *const *names, size_t n)
{
	struct strbuf re;
	strbuf_init(&re);
	strbuf_puts(&re, "^(?:");
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_puts(&re, "|");
		append_regex_escaped(&re, names[i]);
	}
	strbuf_puts(&re, ")$");
	char *ret = promql_string(re.data);
	strbuf_free(&re);
	return ret;
}

/* The by-name selector of a project-restricted source: no project, and a
 * name among names[0..n) (NULL when n is 0: nothing to select). */
static char *by_name_no_project(const char *const *names, size_t n)
{
	if (n == 0)
		return NULL;
	char *alt = alternation(names, n);
	char *sel = xasprintf(L_PROJECT "=\"\"," L_NAME "=~\"%s\"", alt);
	free(alt);
	return sel;
}

static void selectors_build(const struct source_prom *sp, const char *const *services, size_t n,
                            struct selectors *ret)
{
	if (*sp->project) {
		char *proj = promql_string(sp->project);
		ret->by_service = xasprintf(L_PROJECT "=\"%s\"", proj);
		ret->by_swarm = xasprintf(L_STACK "=\"%s\"", proj);
		free(proj);
		ret->by_name = by_name_no_project(services, n);
		return;
	}
	char *names = alternation(services, n);
	ret->by_service = xasprintf(L_SERVICE "=~\"%s\"", names);
	ret->by_name = xasprintf(L_NAME "=~\"%s\"", names);
	/* "<stack>_<name>" or the name itself; assign() checks the stack. */
	ret->by_swarm = xasprintf(L_SWARM "=~\"^(?:.+_)?%s\"", names + 1);
	free(names);
}

static void selectors_free(struct selectors *s)
{
	free(s->by_service);
	free(s->by_name);
	free(s->by_swarm);
}

/* A query being written, as PromQL or percent-encoded for a form body. The
 * selectors are built (and encoded) once per collect and spliced in as they
 * are; the small fixed pieces are encoded as they are appended. Encoding is
 * byte by byte, so the encoded query is the encoding of the PromQL. */
struct qbuf {
	struct strbuf sb;
	bool encode;
};

static void q_puts(struct qbuf *b, const char *s)
{
	if (!b->encode) {
		strbuf_puts(&b->sb, s);
		return;
	}
	char *e = http_urlencode(s);
	strbuf_puts(&b->sb, e);
	free(e);
}

static void q_printf(struct qbuf *b, const char *fmt, ...) RM_PRINTF(2, 3);
static void q_printf(struct qbuf *b, const char *fmt, ...)
{
	char buf[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	q_puts(b, buf);
}

/* Appends "PRE metric{by_service} POST or PRE metric{by_name} POST or
 * PRE metric{by_swarm} POST" (the by-name part only when there is a by-name
 * selector). */
static void append_either(struct qbuf *b, const struct selectors *sel, const char *pre,
                          const char *metric, const char *post)
{
	q_printf(b, "%s%s{", pre, metric);
	strbuf_puts(&b->sb, sel->by_service);
	q_printf(b, "}%s", post);
	if (sel->by_name) {
		q_printf(b, " or %s%s{", pre, metric);
		strbuf_puts(&b->sb, sel->by_name);
		q_printf(b, "}%s", post);
	}
	q_printf(b, " or %s%s{", pre, metric);
	strbuf_puts(&b->sb, sel->by_swarm);
	q_printf(b, "}%s", post);
}

/* "AGG by (service, project, name) (PRE metric{...} POST or ...)" */
static void append_grouped(struct qbuf *b, const char *agg, const struct selectors *sel,
                           const char *pre, const char *metric, const char *post)
{
	q_printf(b, "%s by " GROUP_BY " (", agg);
	append_either(b, sel, pre, metric, post);
	q_puts(b, ")");
}

/* Query q over the selectors sel: PromQL, or its percent-encoding when
 * encode (sel then encoded too). */
static char *query_text(const struct source_prom *sp, enum quantity q, const struct selectors *sel,
                        bool encode)
{
	char aw[32], tw[32], ci[32], range[40];
	units_format_prom_duration(sp->analysis_window, aw, sizeof(aw));
	units_format_prom_duration(sp->trend_window, tw, sizeof(tw));
	units_format_prom_duration(sp->check_interval, ci, sizeof(ci));
	snprintf(range, sizeof(range), "[%s])", aw);
	const char *mem = sp->memory_metric == MEMORY_METRIC_USAGE
	                          ? "container_memory_usage_bytes"
	                          : "container_memory_working_set_bytes";
	struct qbuf b = { .encode = encode };
	strbuf_init(&b.sb);
	switch (q) {
	case Q_CPU:
		/* sum: cAdvisor may export one series per CPU. */
		append_grouped(&b, "sum", sel, "rate(", "container_cpu_usage_seconds_total", range);
		break;
	case Q_CPU_TREND:
		/* The mean rate over the trend window: the same quantity as an
		 * average of short rates over it, without a subquery (which
		 * evaluated the inner query at 60 steps: the dearest query). */
		snprintf(range, sizeof(range), "[%s])", tw);
		append_grouped(&b, "sum", sel, "rate(", "container_cpu_usage_seconds_total", range);
		break;
	case Q_CPU_LIMIT:
		append_grouped(&b, "max", sel, "", "container_spec_cpu_quota", "");
		q_puts(&b, " / ");
		append_grouped(&b, "max", sel, "", "container_spec_cpu_period", "");
		break;
	case Q_THROTTLED:
		append_grouped(&b, "sum", sel, "rate(", "container_cpu_cfs_throttled_periods_total",
		               range);
		break;
	case Q_CFS_PERIODS:
		append_grouped(&b, "sum", sel, "rate(", "container_cpu_cfs_periods_total", range);
		break;
	case Q_MEM:
		/* max, not sum: one container's gauge, even if exported twice. */
		append_grouped(&b, "max", sel, "", mem, "");
		break;
	case Q_MEM_PEAK:
		append_grouped(&b, "max", sel, "max_over_time(", mem, range);
		break;
	case Q_MEM_LIMIT:
		append_grouped(&b, "max", sel, "", "container_spec_memory_limit_bytes", "");
		break;
	case Q_OOM:
		snprintf(range, sizeof(range), "[%s])", ci);
		append_grouped(&b, "sum", sel, "increase(", "container_oom_events_total", range);
		break;
	case Q_UPTIME:
		q_puts(&b, "time() - ");
		append_grouped(&b, "max", sel, "", "container_start_time_seconds", "");
		break;
	default:
		abort();
	}
	return strbuf_steal(&b.sb);
}

/* The selectors percent-encoded, for query_text(..., true). */
static void selectors_encode(const struct selectors *sel, struct selectors *ret)
{
	ret->by_service = http_urlencode(sel->by_service);
	ret->by_name = sel->by_name ? http_urlencode(sel->by_name) : NULL;
	ret->by_swarm = http_urlencode(sel->by_swarm);
}

/* The grouping labels of a sample, in GROUP_BY's order. */
enum glabel { G_SERVICE, G_PROJECT, G_NAME, G_SWARM, G_STACK, _G_MAX };
static const char *const glabel_names[_G_MAX] = { L_SERVICE, L_PROJECT, L_NAME, L_SWARM, L_STACK };

/* Finds a sample's grouping labels. The answer's parser stores each label
 * name once, so a name is first recognised by its address, as the one of
 * the previous sample, and only otherwise by comparing text. */
struct label_finder {
	const char *key[_G_MAX]; /* the label names last seen */
};

static void find_labels(struct label_finder *lf, const struct prom_sample *s,
                        const char *ret[_G_MAX])
{
	for (int g = 0; g < _G_MAX; g++)
		ret[g] = NULL;
	for (size_t i = 0; i < s->n_labels; i++) {
		const char *k = s->labels[i].name;
		int g = 0;
		while (g < _G_MAX && k != lf->key[g])
			g++;
		for (int t = 0; g == _G_MAX && t < _G_MAX; t++)
			if (strcmp(k, glabel_names[t]) == 0)
				g = t;
		if (g < _G_MAX) {
			lf->key[g] = k;
			ret[g] = s->labels[i].value;
		}
	}
}

/* A Swarm task's service: its stack-qualified name, else the bare name
 * after its stack's prefix; with services.project, only that stack. */
static long assign_swarm(const struct source_prom *sp, const struct name_table *names,
                         const char *swarm, const char *stack)
{
	size_t n = stack ? strlen(stack) : 0;
	if (*sp->project && (!stack || strcmp(stack, sp->project) != 0))
		return -1;
	long i = lookup(names, swarm);
	if (i < 0 && n && strncmp(swarm, stack, n) == 0 && swarm[n] == '_')
		i = lookup(names, swarm + n + 1);
	return i;
}

/* Which service a series belongs to (index into services), or -1. */
static long assign(const struct source_prom *sp, const struct name_table *names,
                   const char *const l[_G_MAX])
{
	const char *svc = l[G_SERVICE], *proj = l[G_PROJECT], *name = l[G_NAME];
	if (l[G_SWARM] && *l[G_SWARM])
		return assign_swarm(sp, names, l[G_SWARM], l[G_STACK]);
	bool no_project = !proj || !*proj;
	bool in_project = !*sp->project || (proj && strcmp(proj, sp->project) == 0);
	if (svc && *svc && in_project) {
		long i = lookup(names, svc);
		if (i >= 0)
			return i;
	}
	if (name && *name && (in_project || no_project))
		return lookup(names, name);
	return -1;
}

static struct container *container_get(struct service_acc *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->c[i].name, name) == 0)
			return &a->c[i];
	a->c = xreallocarray(a->c, a->n + 1, sizeof(*a->c));
	struct container *c = &a->c[a->n++];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	return c;
}

/* Why values are unknown, gathered while summarizing one service. */
struct reasons {
	const char *missing[_Q_MAX];
	size_t n_missing;
	char bad[120];
};

static void reason_missing(struct reasons *r, enum quantity q)
{
	r->missing[r->n_missing++] = quantity_names[q];
}

static void reason_bad(struct reasons *r, enum quantity q, double v)
{
	size_t len = strlen(r->bad);
	const char *what = isnan(v) ? "NaN" : isinf(v) ? (v > 0 ? "+Inf" : "-Inf") : "negative";
	snprintf(r->bad + len, sizeof(r->bad) - len, "%s%s is %s", len ? "; " : "",
	         quantity_names[q], what);
}

static void reasons_write(const struct reasons *r, const char *service, char *buf, size_t len)
{
	struct strbuf sb;
	strbuf_init(&sb);
	if (r->n_missing) {
		strbuf_puts(&sb, "no ");
		for (size_t i = 0; i < r->n_missing; i++)
			strbuf_printf(&sb, "%s%s", i ? ", " : "", r->missing[i]);
		strbuf_printf(&sb, " series for %s", service);
	}
	if (r->bad[0])
		strbuf_printf(&sb, "%s%s for %s", sb.len ? "; " : "", r->bad, service);
	snprintf(buf, len, "%s", sb.data ? sb.data : "");
	strbuf_free(&sb);
}

/* Sums quantity q over every container; false (with a reason) when one lacks
 * it or has a value that is not finite and non-negative. */
static bool sum_all(const struct service_acc *a, enum quantity q, struct reasons *why, double *ret)
{
	double sum = 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct cval *v = &a->c[i].q[q];
		if (!v->present) {
			reason_missing(why, q);
			return false;
		}
		if (!isfinite(v->v) || v->v < 0) {
			reason_bad(why, q, v->v);
			return false;
		}
		sum += v->v;
	}
	*ret = sum;
	return true;
}

/* CPU limit: no quota series, or a quota <= 0, is "no limit"; one replica
 * without a limit makes the service's total unlimited. */
static void summarize_cpu_limit(const struct service_acc *a, struct reasons *why,
                                struct observation *o)
{
	double sum = 0;
	bool unlimited = false;
	for (size_t i = 0; i < a->n; i++) {
		const struct cval *v = &a->c[i].q[Q_CPU_LIMIT];
		if (!v->present || v->v <= 0) {
			unlimited = true;
			continue;
		}
		if (!isfinite(v->v)) {
			reason_bad(why, Q_CPU_LIMIT, v->v);
			return;
		}
		sum += v->v;
	}
	o->cpu_limit_known = true;
	o->cpu_limit = unlimited ? 0 : sum;
}

/* Throttling pooled over the replicas that have CFS series: throttled
 * periods / periods. No CFS series at all under no CPU limit means no
 * throttling, since CFS only throttles a quota. */
static void summarize_throttling(const struct service_acc *a, struct reasons *why,
                                 struct observation *o)
{
	double thr = 0, per = 0;
	bool any = false;
	for (size_t i = 0; i < a->n; i++) {
		const struct cval *t = &a->c[i].q[Q_THROTTLED], *p = &a->c[i].q[Q_CFS_PERIODS];
		if (!t->present || !p->present)
			continue;
		if (!isfinite(t->v) || !isfinite(p->v) || t->v < 0 || p->v < 0) {
			reason_bad(why, Q_THROTTLED, isfinite(t->v) ? p->v : t->v);
			return;
		}
		thr += t->v;
		per += p->v;
		any = true;
	}
	if (!any && !(o->cpu_limit_known && o->cpu_limit == 0)) {
		reason_missing(why, Q_THROTTLED);
		return;
	}
	o->cpu_throttled_known = true;
	o->cpu_throttled = per > 0 ? fmin(1.0, thr / per) : 0;
}

/* Memory limit: 0 or cgroup's huge sentinel is "no limit". */
static void summarize_mem_limit(const struct service_acc *a, struct reasons *why,
                                struct observation *o)
{
	double sum = 0;
	bool unlimited = false;
	for (size_t i = 0; i < a->n; i++) {
		const struct cval *v = &a->c[i].q[Q_MEM_LIMIT];
		if (!v->present) {
			reason_missing(why, Q_MEM_LIMIT);
			return;
		}
		if (!isfinite(v->v) || v->v < 0) {
			reason_bad(why, Q_MEM_LIMIT, v->v);
			return;
		}
		if (v->v == 0 || v->v >= MEM_UNLIMITED_SENTINEL)
			unlimited = true;
		else
			sum += v->v;
	}
	o->mem_limit_known = true;
	o->mem_limit = unlimited ? 0 : (uint64_t)llround(sum);
}

static void summarize_uptime(const struct service_acc *a, struct reasons *why,
                             struct observation *o)
{
	double youngest = INFINITY;
	for (size_t i = 0; i < a->n; i++) {
		const struct cval *v = &a->c[i].q[Q_UPTIME];
		if (!v->present) {
			reason_missing(why, Q_UPTIME);
			return;
		}
		if (!isfinite(v->v)) {
			reason_bad(why, Q_UPTIME, v->v);
			return;
		}
		youngest = fmin(youngest, v->v);
	}
	o->uptime_known = true;
	o->uptime = youngest < 0 ? 0 : youngest; /* a start stamp a little ahead */
}

static bool to_bytes(double v, uint64_t *ret)
{
	if (v >= 18446744073709551615.0)
		return false;
	*ret = (uint64_t)llround(v);
	return true;
}

static void summarize(const struct service_acc *a, const char *service, double now,
                      struct observation *o)
{
	struct reasons why = { 0 };
	double v;
	o->time = now;
	o->n_containers = (unsigned)a->n;
	if (a->n == 0) {
		snprintf(o->unknown_reason, sizeof(o->unknown_reason),
		         "no series for %s: no container has that compose service or name",
		         service);
		return;
	}
	if ((o->cpu_used_known = sum_all(a, Q_CPU, &why, &v)))
		o->cpu_used = v;
	if ((o->cpu_trend_known = sum_all(a, Q_CPU_TREND, &why, &v)))
		o->cpu_trend = v;
	summarize_cpu_limit(a, &why, o);
	summarize_throttling(a, &why, o);
	if (sum_all(a, Q_MEM, &why, &v))
		o->mem_used_known = to_bytes(v, &o->mem_used);
	if (sum_all(a, Q_MEM_PEAK, &why, &v))
		o->mem_peak_known = to_bytes(v, &o->mem_peak);
	summarize_mem_limit(a, &why, o);
	if (sum_all(a, Q_OOM, &why, &v) && v < 4e9) {
		o->oom_known = true;
		/* increase() extrapolates: 0.97 means one kill. */
		o->oom_kills = (unsigned)llround(v);
	}
	summarize_uptime(a, &why, o);
	reasons_write(&why, service, o->unknown_reason, sizeof(o->unknown_reason));
}

/* Runs query q and files each series under its service and container. */
static int run_query(struct source_prom *sp, enum quantity q, const struct selectors *sel_encoded,
                     const struct name_table *names, double now, struct service_acc *accs,
                     char *err, size_t errlen)
{
	struct prom_response resp = { 0 };
	char *form = query_text(sp, q, sel_encoded, true);
	int r = prom_query_encoded(sp->client, form, now, &resp, err, errlen);
	if (r < 0)
		goto out;
	if (resp.type != PROM_RESULT_VECTOR) {
		r = -EBADMSG;
		snprintf(err, errlen, "Prometheus %s: the %s query gave a %s, not a vector",
		         prom_client_url(sp->client), quantity_names[q],
		         prom_result_type_to_string(resp.type));
		goto out;
	}
	struct label_finder lf = { 0 };
	for (size_t i = 0; i < resp.n_samples; i++) {
		const struct prom_sample *s = &resp.samples[i];
		const char *l[_G_MAX];
		find_labels(&lf, s, l);
		long k = assign(sp, names, l);
		if (k < 0)
			continue;
		struct container *c = container_get(&accs[k], l[G_NAME] ? l[G_NAME] : "");
		c->q[q].present = true;
		c->q[q].v = s->value;
	}
out:
	prom_response_free(&resp);
	free(form);
	return r;
}

/* A blue-green's green is left out while blue still reports: the usage of
 * a service is never blue + green (discovery_name_is_green). */
static void acc_drop_greens(struct service_acc *a)
{
	size_t others = 0, n = 0;
	for (size_t i = 0; i < a->n; i++)
		others += !discovery_name_is_green(a->c[i].name);
	if (others == 0 || others == a->n)
		return;
	for (size_t i = 0; i < a->n; i++) {
		if (discovery_name_is_green(a->c[i].name))
			free(a->c[i].name);
		else
			a->c[n++] = a->c[i];
	}
	a->n = n;
}

/* The discovery query of a project-restricted collect: which monitored
 * names belong to containers of no compose project, from every series the
 * queries read (an instant selector: series seen in the last 5 minutes). */
static char *discovery_text(const struct source_prom *sp, const struct selectors *sel, bool encode)
{
	const char *mem = sp->memory_metric == MEMORY_METRIC_USAGE
	                          ? "container_memory_usage_bytes"
	                          : "container_memory_working_set_bytes";
	struct qbuf b = { .encode = encode };
	strbuf_init(&b.sb);
	q_printf(&b, "group by (" L_NAME ") ({__name__=~\"^(?:%s|", mem);
	q_puts(&b, "container_cpu_usage_seconds_total|container_cpu_cfs_throttled_periods_total|"
	           "container_cpu_cfs_periods_total|container_spec_cpu_quota|"
	           "container_spec_cpu_period|container_spec_memory_limit_bytes|"
	           "container_oom_events_total|container_start_time_seconds)$\",");
	strbuf_puts(&b.sb, sel->by_name);
	q_puts(&b, "})");
	return strbuf_steal(&b.sb);
}

/* Narrows sel's (and sel_encoded's) by-name selector to the monitored names
 * that containers of no project carry now, or drops it when there are none. */
static int discover(struct source_prom *sp, struct selectors *sel, struct selectors *sel_encoded,
                    const struct name_table *names, const char *const *services, size_t n,
                    double now, char *err, size_t errlen)
{
	struct prom_response resp = { 0 };
	char *form = discovery_text(sp, sel_encoded, true);
	bool *seen = xcalloc(n, sizeof(*seen));
	const char **found = xcalloc(n, sizeof(*found));
	size_t n_found = 0;
	int r = prom_query_encoded(sp->client, form, now, &resp, err, errlen);
	if (r < 0)
		goto out;
	if (resp.type != PROM_RESULT_VECTOR) {
		r = -EBADMSG;
		snprintf(err, errlen, "Prometheus %s: the discovery query gave a %s, not a vector",
		         prom_client_url(sp->client), prom_result_type_to_string(resp.type));
		goto out;
	}
	for (size_t i = 0; i < resp.n_samples; i++) {
		const char *name = prom_sample_label(&resp.samples[i], L_NAME);
		long k = name ? lookup(names, name) : -1;
		if (k >= 0 && !seen[k]) {
			seen[k] = true;
			found[n_found++] = services[k];
		}
	}
	free(sel->by_name);
	free(sel_encoded->by_name);
	sel->by_name = by_name_no_project(found, n_found);
	sel_encoded->by_name = sel->by_name ? http_urlencode(sel->by_name) : NULL;
out:
	prom_response_free(&resp);
	free(form);
	free(seen);
	free(found);
	return r;
}

static int prom_collect(void *impl, const char *const *services, size_t n, double now,
                        struct observation *out, struct source_stats *stats, char *err,
                        size_t errlen)
{
	struct source_prom *sp = impl;
	double t0 = time_monotonic();
	unsigned req0 = prom_client_requests(sp->client);
	size_t bytes0 = prom_client_bytes(sp->client);
	struct selectors sel = { 0 }, sel_encoded = { 0 };
	struct name_table names = { 0 };
	struct service_acc *accs = xcalloc(n ? n : 1, sizeof(*accs));
	char scratch[8];
	int r = 0;
	if (!err) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	if (n == 0)
		goto out;
	name_table_build(&names, services, n);
	/* The selectors, built and encoded once for the ten queries. */
	selectors_build(sp, services, n, &sel);
	selectors_encode(&sel, &sel_encoded);
	if (*sp->project) {
		r = discover(sp, &sel, &sel_encoded, &names, services, n, now, err, errlen);
		if (r < 0)
			goto out;
	}
	/* Every query must answer before any value is given out. */
	for (int q = 0; q < _Q_MAX; q++) {
		r = run_query(sp, (enum quantity)q, &sel_encoded, &names, now, accs, err, errlen);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		acc_drop_greens(&accs[i]);
		summarize(&accs[i], services[i], now, &out[i]);
	}
out:
	if (stats) {
		stats->requests = prom_client_requests(sp->client) - req0;
		stats->bytes_received = prom_client_bytes(sp->client) - bytes0;
		stats->seconds = time_monotonic() - t0;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < accs[i].n; j++)
			free(accs[i].c[j].name);
		free(accs[i].c);
	}
	free(accs);
	free(names.slots);
	selectors_free(&sel);
	selectors_free(&sel_encoded);
	return r;
}

static void prom_source_free(void *impl)
{
	struct source_prom *sp = impl;
	if (!sp)
		return;
	prom_client_free(sp->client);
	free(sp->project);
	free(sp);
}

static const struct source_ops prom_ops = {
	.name = "prometheus",
	.collect = prom_collect,
	.free = prom_source_free,
};

int source_prom_new(const struct rm_config *cfg, struct source *ret)
{
	const char *url = cfg->monitoring.prometheus_url;
	if (!url || !*url)
		return -ENOENT;
	struct prom_client *client = NULL;
	int r = prom_client_new(url, cfg->monitoring.query_timeout, 0, &client, NULL, 0);
	if (r < 0)
		return r;
	struct source_prom *sp = xcalloc(1, sizeof(*sp));
	sp->client = client;
	sp->project = xstrdup(cfg->services.project ? cfg->services.project : "");
	sp->analysis_window = cfg->monitoring.analysis_window;
	sp->trend_window = cfg->monitoring.trend_window;
	sp->check_interval = cfg->monitoring.check_interval;
	sp->memory_metric = cfg->monitoring.memory_metric;
	*ret = (struct source){ .ops = &prom_ops, .impl = sp };
	return 0;
}

char *source_prom_query_text(const struct source *s, unsigned i, const char *const *services,
                             size_t n)
{
	/* A programmer error: only a Prometheus source has query texts. */
	if (s->ops != &prom_ops || i >= _Q_MAX)
		abort();
	struct selectors sel = { 0 };
	selectors_build(s->impl, services, n, &sel);
	char *text = query_text(s->impl, (enum quantity)i, &sel, false);
	selectors_free(&sel);
	return text;
}

char *source_prom_query_form(const struct source *s, unsigned i, const char *const *services,
                             size_t n)
{
	if (s->ops != &prom_ops || i >= _Q_MAX)
		abort();
	struct selectors sel = { 0 }, sel_encoded = { 0 };
	selectors_build(s->impl, services, n, &sel);
	selectors_encode(&sel, &sel_encoded);
	char *form = query_text(s->impl, (enum quantity)i, &sel_encoded, true);
	selectors_free(&sel);
	selectors_free(&sel_encoded);
	return form;
}

/* ---- History ---- */

/* Prometheus refuses more points per series than this in a range query. */
#define MAX_POINTS_PER_SERIES 10000
#define DEFAULT_MAX_POINTS    50000
/* Consecutive failed chunks that end a history read. */
#define MAX_FAILED_CHUNKS 3

/* One chunk's answers, one matrix per quantity, and a cursor per series. */
struct chunk {
	struct prom_matrix m[_Q_MAX];
	size_t *cursor[_Q_MAX];
};

static void chunk_free(struct chunk *c)
{
	for (int q = 0; q < _Q_MAX; q++) {
		prom_matrix_free(&c->m[q]);
		free(c->cursor[q]);
		c->cursor[q] = NULL;
	}
}

/* Asks every quantity but the trend for steps t0..t1. */
static int chunk_query(struct source_prom *sp, const struct selectors *sel_encoded, double t0,
                       double t1, double step, struct chunk *c, char *err, size_t errlen)
{
	for (int q = 0; q < _Q_MAX; q++) {
		if (q == Q_CPU_TREND)
			continue;
		char *form = query_text(sp, (enum quantity)q, sel_encoded, true);
		int r = prom_query_range_encoded(sp->client, form, t0, t1, step, &c->m[q], err,
		                                 errlen);
		free(form);
		if (r < 0)
			return r;
		c->cursor[q] = xcalloc(c->m[q].n_series + 1, sizeof(size_t));
	}
	return 0;
}

static void accs_clear(struct service_acc *accs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < accs[i].n; j++)
			free(accs[i].c[j].name);
		free(accs[i].c);
		accs[i] = (struct service_acc){ 0 };
	}
}

/* Files the values every series has at time t under their services. */
static void chunk_gather(const struct source_prom *sp, struct chunk *c,
                         const struct name_table *names, double t, struct service_acc *accs)
{
	for (int q = 0; q < _Q_MAX; q++) {
		for (size_t k = 0; k < c->m[q].n_series; k++) {
			const struct prom_series *s = &c->m[q].series[k];
			size_t *cur = &c->cursor[q][k];
			while (*cur < s->n && s->t[*cur] < t - 1e-3)
				(*cur)++;
			if (*cur >= s->n || s->t[*cur] > t + 1e-3)
				continue;
			const char *l[_G_MAX];
			for (int g = 0; g < _G_MAX; g++)
				l[g] = prom_series_label(s, glabel_names[g]);
			long i = assign(sp, names, l);
			if (i < 0)
				continue;
			const char *name = l[G_NAME];
			struct container *ct = container_get(&accs[i], name ? name : "");
			ct->q[q].present = true;
			ct->q[q].v = s->v[*cur];
		}
	}
}

/* The observations of steps t0..t1 from a chunk's answers. */
static void chunk_emit(const struct source_prom *sp, struct chunk *c,
                       const struct name_table *names, const char *const *services, size_t n,
                       double t0, double t1, double step, source_prom_history_fn fn, void *ctx,
                       struct source_prom_history_stats *st)
{
	struct service_acc *accs = xcalloc(n, sizeof(*accs));
	for (double t = t0; t <= t1 + 1e-6; t += step) {
		chunk_gather(sp, c, names, t, accs);
		for (size_t i = 0; i < n; i++) {
			if (accs[i].n == 0) {
				st->gaps++;
				continue;
			}
			struct observation o = { 0 };
			summarize(&accs[i], services[i], t, &o);
			/* The memory series here is the peak over the step. */
			if (o.mem_peak_known) {
				o.mem_interval_peak_known = true;
				o.mem_interval_peak = o.mem_peak;
			}
			st->observations++;
			fn(ctx, i, &o);
		}
		accs_clear(accs, n);
	}
	free(accs);
}

static size_t chunk_steps_for(size_t n, size_t max_points)
{
	size_t per = (max_points ? max_points : DEFAULT_MAX_POINTS) / (n ? n : 1);
	if (per < 1)
		per = 1;
	return per > MAX_POINTS_PER_SERIES ? MAX_POINTS_PER_SERIES : per;
}

/* Prometheus' refusal of too many points per series. */
static bool too_long(int r, const char *err)
{
	return r == -EINVAL && (strstr(err, "resolution") || strstr(err, "too many"));
}

int source_prom_history(const struct source *s, const char *const *services, size_t n,
                        const struct source_prom_history_opts *opts, source_prom_history_fn fn,
                        void *ctx, struct source_prom_history_stats *stats, char *err,
                        size_t errlen)
{
	double start = opts->start, end = opts->end, step = opts->step;
	bool stderr_progress = opts->progress;
	unsigned max_failed = opts->max_failed ? opts->max_failed : MAX_FAILED_CHUNKS;
	if (s->ops != &prom_ops || !(step > 0) || !(end >= start) || n == 0)
		return -EINVAL;
	/* The same queries as collect, over one step. */
	struct source_prom sp = *(const struct source_prom *)s->impl;
	sp.analysis_window = sp.check_interval = step;
	struct selectors sel = { 0 }, sel_encoded = { 0 };
	struct name_table names = { 0 };
	struct source_prom_history_stats st = { 0 };
	unsigned req0 = prom_client_requests(sp.client);
	size_t bytes0 = prom_client_bytes(sp.client), per = chunk_steps_for(n, opts->max_points);
	unsigned failed_in_row = 0;
	char cerr[512] = "";
	int r = 0, last_r = 0;
	name_table_build(&names, services, n);
	selectors_build(&sp, services, n, &sel);
	selectors_encode(&sel, &sel_encoded);
	st.steps = (size_t)floor((end - start) / step) + 1;
	for (double t0 = start; t0 <= end + 1e-6;) {
		double t1 = fmin(t0 + (double)(per - 1) * step, end);
		struct chunk c = { 0 };
		r = chunk_query(&sp, &sel_encoded, t0, t1, step, &c, cerr, sizeof(cerr));
		if (r < 0 && too_long(r, cerr) && per > 1) {
			chunk_free(&c);
			per = (per + 1) / 2;
			continue;
		}
		st.chunks++;
		if (r < 0) {
			last_r = r;
			st.failed_chunks++;
			st.partial = true;
			if (!st.first_error[0])
				snprintf(st.first_error, sizeof(st.first_error), "%.255s", cerr);
			if (stderr_progress)
				fprintf(stderr, "history: steps %.0f-%.0f skipped: %s\n", t0, t1,
				        cerr);
			if (++failed_in_row >= max_failed)
				goto fail;
		} else {
			failed_in_row = 0;
			chunk_emit(&sp, &c, &names, services, n, t0, t1, step, fn, ctx, &st);
			if (stderr_progress)
				fprintf(stderr, "history: %.0f%% (%zu chunks, %u requests)\n",
				        100.0 * fmin(1, (t1 - start + step) / (end - start + step)),
				        st.chunks, prom_client_requests(sp.client) - req0);
		}
		chunk_free(&c);
		t0 = t1 + step;
	}
	r = 0;
	if (st.failed_chunks == st.chunks)
		goto fail;
	goto out;
fail:
	r = last_r < 0 ? last_r : -EIO;
	if (err)
		snprintf(err, errlen, "%s", st.first_error[0] ? st.first_error : cerr);
out:
	st.requests = prom_client_requests(sp.client) - req0;
	st.bytes = prom_client_bytes(sp.client) - bytes0;
	if (stats)
		*stats = st;
	free(names.slots);
	selectors_free(&sel);
	selectors_free(&sel_encoded);
	return r;
}
