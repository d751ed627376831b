/* simulate_report: the replay's reports: decisions and summary as a table or
 * JSON, and several policies side by side (--compare). Deterministic. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rm/simulate.h"
#include "rm/units.h"

/* "H:MM:SS" from t=0; hours grow past 24. */
static void fmt_time(double t, char *buf, size_t len)
{
	long long s = (long long)llround(t);
	snprintf(buf, len, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
}

static void fmt_pct(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", v * 100);
}

static double share(size_t part, size_t whole)
{
	return whole ? (double)part / (double)whole : NAN;
}

static double per_day(size_t n, double days)
{
	return days > 0 ? (double)n / days : NAN;
}

static void fmt_cpu(double v, char *buf, size_t len)
{
	if (v > 0)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "none");
}

static void fmt_mem(uint64_t v, char *buf, size_t len)
{
	if (v == 0)
		snprintf(buf, len, "none");
	else if (v % UNITS_MIB == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(v / UNITS_MIB));
	else
		snprintf(buf, len, "%.1f MiB", (double)v / (double)UNITS_MIB);
}

static void fmt_rate(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f", v);
}

static size_t name_width(const struct simulate_trace *t)
{
	size_t w = 10; /* "percentile" */
	for (size_t i = 0; i < t->n_services; i++)
		if (strlen(t->services[i].name) > w)
			w = strlen(t->services[i].name);
	return w;
}

/* The line saying how rows became checks, when they did. */
static void write_cadence(const struct simulate_result *r, FILE *out)
{
	char a[32], b[32];
	units_format_duration(r->interval, a, sizeof(a));
	if (!r->aggregated)
		return;
	units_format_duration(r->row_step, b, sizeof(b));
	fprintf(out,
	        "checks every %s (monitoring.check_interval); rows every %s are aggregated into "
	        "one check each: CPU averaged, memory at its maximum%s\n",
	        a, b, r->trace->closed_loop ? "; closed loop on cpu_demand" : "");
}

#define SUMMARY_HEAD "%-*s  %7s  %7s  %9s  %9s  %9s  %9s  %9s  %9s  %5s  %7s  %9s  %10s\n"

int simulate_write_table(const struct simulate_result *r, FILE *out)
{
	const struct simulate_trace *t = r->trace;
	int w = (int)name_width(t);
	char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[32];
	write_cadence(r, out);
	fprintf(out, "decisions (%s, policy %s)\n", r->all ? "every check" : "changes only",
	        r->policy);
	fprintf(out, "%9s  %-*s  %-19s  %s\n", "time", w, "service", "reason", "explanation");
	for (size_t i = 0; i < r->n_events; i++) {
		const struct simulate_event *ev = &r->events[i];
		fmt_time(ev->time, a, sizeof(a));
		fprintf(out, "%9s  %-*s  %-19s  %s\n", a, w, t->services[ev->service].name,
		        engine_reason_to_string(ev->decision.reason), ev->decision.explanation);
	}
	if (r->n_events == 0)
		fprintf(out, "%9s  (none)\n", "");
	fprintf(out, "\nsummary\n");
	fprintf(out, SUMMARY_HEAD, w, "service", "samples", "changes", "cpu>limit", "mem>limit",
	        "cpu slack", "cpu p95", "mem slack", "mem p95", "ooms", "chg/day", "final cpu",
	        "final mem");
	for (size_t i = 0; i < t->n_services; i++) {
		const struct simulate_summary *s = &r->summaries[i];
		if (!t->services[i].n_samples)
			continue;
		fmt_pct(share(s->cpu_over, s->cpu_samples), a, sizeof(a));
		fmt_pct(share(s->mem_over, s->mem_samples), b, sizeof(b));
		fmt_pct(s->cpu_slack_mean, c, sizeof(c));
		fmt_pct(s->cpu_slack_p95, d, sizeof(d));
		fmt_pct(s->mem_slack_mean, e, sizeof(e));
		fmt_pct(s->mem_slack_p95, f, sizeof(f));
		fmt_cpu(s->final_cpu, g, sizeof(g));
		fmt_rate(per_day(s->changes, s->days), h, sizeof(h));
		char m[32];
		fmt_mem(s->final_mem, m, sizeof(m));
		fprintf(out,
		        "%-*s  %7zu  %7zu  %9s  %9s  %9s  %9s  %9s  %9s  %5zu  %7s  %9s  %10s\n", w,
		        t->services[i].name, s->samples, s->changes, a, b, c, d, e, f,
		        s->oom_events, h, g, m);
	}
	return ferror(out) ? -EIO : 0;
}

/* Rounds to 4 decimals so that the JSON is short and stable; NaN is null. */
static json_t *json_ratio(double v)
{
	if (isnan(v))
		return json_null();
	return json_real(round(v * 10000) / 10000);
}

static json_t *json_cpu(double v)
{
	return v > 0 ? json_real(round(v * 100) / 100) : json_null();
}

static json_t *json_mem(uint64_t v)
{
	return v > 0 ? json_integer((json_int_t)v) : json_null();
}

static json_t *event_json(const struct simulate_trace *t, const struct simulate_event *ev)
{
	const struct engine_decision *d = &ev->decision;
	json_t *o = json_object();
	json_object_set_new(o, "time", json_real(ev->time));
	json_object_set_new(o, "service", json_string(t->services[ev->service].name));
	json_object_set_new(o, "reason", json_string(engine_reason_to_string(d->reason)));
	json_object_set_new(o, "cpu_reason", json_string(engine_reason_to_string(d->cpu_reason)));
	json_object_set_new(o, "memory_reason",
	                    json_string(engine_reason_to_string(d->mem_reason)));
	if (d->change_cpu)
		json_object_set_new(o, "cpu",
		                    json_pack("{s:o, s:o}", "from", json_cpu(d->cpu_from), "to",
		                              json_cpu(d->cpu_to)));
	if (d->change_mem)
		json_object_set_new(o, "memory",
		                    json_pack("{s:o, s:o}", "from", json_mem(d->mem_from), "to",
		                              json_mem(d->mem_to)));
	json_object_set_new(o, "explanation", json_string(d->explanation));
	return o;
}

static json_t *summary_json(const char *name, const struct simulate_summary *s)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:o, s:o, s:{s:o, s:o}, s:{s:o, s:o}, s:{s:o, s:o}}",
	                      "service", name, "samples", (json_int_t)s->samples, "changes",
	                      (json_int_t)s->changes, "cpu_over_limit",
	                      json_ratio(share(s->cpu_over, s->cpu_samples)), "memory_over_limit",
	                      json_ratio(share(s->mem_over, s->mem_samples)), "cpu_slack", "mean",
	                      json_ratio(s->cpu_slack_mean), "p95", json_ratio(s->cpu_slack_p95),
	                      "memory_slack", "mean", json_ratio(s->mem_slack_mean), "p95",
	                      json_ratio(s->mem_slack_p95), "final", "cpu", json_cpu(s->final_cpu),
	                      "memory", json_mem(s->final_mem));
	json_object_set_new(o, "oom_kills", json_integer((json_int_t)s->oom_events));
	json_object_set_new(o, "reverts", json_integer((json_int_t)s->reverts));
	if (s->has_rec)
		json_object_set_new(
		        o, "recommendation",
		        json_pack("{s:o, s:o}", "cpu_target",
		                  s->rec_cpu_target > 0
		                          ? json_real(round(s->rec_cpu_target * 1e4) / 1e4)
		                          : json_null(),
		                  "memory_target",
		                  s->rec_mem_target > 0
		                          ? json_integer((json_int_t)s->rec_mem_target)
		                          : json_null()));
	json_object_set_new(o, "changes_per_day", json_ratio(per_day(s->changes, s->days)));
	return o;
}

static int dump(json_t *root, FILE *out)
{
	int rc = 0;
	if (json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) <
	    0)
		rc = -EIO;
	fputc('\n', out);
	json_decref(root);
	if (ferror(out))
		rc = -EIO;
	return rc;
}

static void cadence_json(const struct simulate_result *r, json_t *root)
{
	json_object_set_new(root, "check_interval", json_real(r->interval));
	json_object_set_new(root, "row_step", json_real(r->row_step));
	json_object_set_new(root, "aggregated", json_boolean(r->aggregated));
	json_object_set_new(root, "closed_loop", json_boolean(r->trace->closed_loop));
}

int simulate_write_json(const struct simulate_result *r, FILE *out)
{
	const struct simulate_trace *t = r->trace;
	json_t *root = json_object();
	json_t *events = json_array();
	json_t *summary = json_array();
	for (size_t i = 0; i < r->n_events; i++)
		json_array_append_new(events, event_json(t, &r->events[i]));
	for (size_t i = 0; i < t->n_services; i++)
		if (t->services[i].n_samples)
			json_array_append_new(summary,
			                      summary_json(t->services[i].name, &r->summaries[i]));
	json_object_set_new(root, "policy", json_string(r->policy));
	cadence_json(r, root);
	json_object_set_new(root, "all_checks", json_boolean(r->all));
	json_object_set_new(root, "decisions", events);
	json_object_set_new(root, "summary", summary);
	return dump(root, out);
}

/* ---- --compare ---- */

static void compare_row(FILE *out, int w, const char *name, double cpu_over, double cpu_slack,
                        double mem_slack, size_t ooms, double chg)
{
	char a[32], b[32], c[32], d[32];
	fmt_pct(cpu_over, a, sizeof(a));
	fmt_pct(cpu_slack, b, sizeof(b));
	fmt_pct(mem_slack, c, sizeof(c));
	fmt_rate(chg, d, sizeof(d));
	fprintf(out, "%-*s  %9s  %9s  %9s  %9zu  %15s\n", w, name, a, b, c, ooms, d);
}

int simulate_write_compare_table(struct simulate_result *const *rs, size_t n, FILE *out)
{
	if (n == 0)
		return 0;
	const struct simulate_trace *t = rs[0]->trace;
	int w = (int)name_width(t);
	write_cadence(rs[0], out);
	fprintf(out, "fleet (%zu services; slack counts rows over the limit as 0)\n",
	        t->n_services);
	fprintf(out, "%-*s  %9s  %9s  %9s  %9s  %15s\n", w, "policy", "cpu>limit", "cpu slack",
	        "mem slack", "oom kills", "changes/svc-day");
	for (size_t k = 0; k < n; k++) {
		struct simulate_fleet f;
		char a[32], b[32];
		simulate_fleet_of(rs[k], &f);
		compare_row(out, w, rs[k]->policy, f.cpu_over, f.cpu_slack, f.mem_slack,
		            f.oom_events, f.changes_per_day);
		fmt_pct(f.cpu_slack_weighted, a, sizeof(a));
		fmt_pct(f.mem_slack_weighted, b, sizeof(b));
		fprintf(out, "%-*s  %9s  %9s  %9s  (weighted by size)\n", w, "", "", a, b);
	}
	for (size_t i = 0; i < t->n_services; i++) {
		if (!t->services[i].n_samples)
			continue;
		fprintf(out, "\n%s\n", t->services[i].name);
		for (size_t k = 0; k < n; k++) {
			const struct simulate_summary *s = &rs[k]->summaries[i];
			compare_row(out, w, rs[k]->policy, share(s->cpu_over, s->cpu_samples),
			            s->cpu_slack_mean, s->mem_slack_mean, s->oom_events,
			            per_day(s->changes, s->days));
		}
	}
	return ferror(out) ? -EIO : 0;
}

static json_t *fleet_json(const struct simulate_fleet *f)
{
	json_t *o = json_object();
	json_object_set_new(o, "cpu_over", json_ratio(f->cpu_over));
	json_object_set_new(o, "cpu_slack", json_ratio(f->cpu_slack));
	json_object_set_new(o, "mem_slack", json_ratio(f->mem_slack));
	json_object_set_new(o, "mem_over", json_ratio(f->mem_over));
	json_object_set_new(o, "cpu_slack_weighted", json_ratio(f->cpu_slack_weighted));
	json_object_set_new(o, "mem_slack_weighted", json_ratio(f->mem_slack_weighted));
	json_object_set_new(o, "oom_kills", json_integer((json_int_t)f->oom_events));
	json_object_set_new(o, "changes", json_integer((json_int_t)f->changes));
	json_object_set_new(o, "changes_per_service_day", json_ratio(f->changes_per_day));
	json_object_set_new(o, "service_days", json_ratio(f->days));
	return o;
}

int simulate_write_compare_json(struct simulate_result *const *rs, size_t n, FILE *out)
{
	json_t *root = json_object();
	json_t *pols = json_array();
	if (n)
		cadence_json(rs[0], root);
	for (size_t k = 0; k < n; k++) {
		const struct simulate_trace *t = rs[k]->trace;
		struct simulate_fleet f;
		json_t *svcs = json_array();
		simulate_fleet_of(rs[k], &f);
		for (size_t i = 0; i < t->n_services; i++)
			if (t->services[i].n_samples)
				json_array_append_new(svcs, summary_json(t->services[i].name,
				                                         &rs[k]->summaries[i]));
		json_array_append_new(pols, json_pack("{s:s, s:o, s:o}", "policy", rs[k]->policy,
		                                      "fleet", fleet_json(&f), "services", svcs));
	}
	json_object_set_new(root, "policies", pols);
	return dump(root, out);
}
