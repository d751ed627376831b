/* engine: the pure decision engine (rules and gate order in docs/engine.md). */
#include "rm/engine.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/units.h"
#include "rm/util.h"

static const char *const reason_names[_ENGINE_REASON_MAX] = {
	[ENGINE_REASON_NONE] = "none",
	[ENGINE_REASON_UNKNOWN_DATA] = "unknown_data",
	[ENGINE_REASON_WARMING_UP] = "warming_up",
	[ENGINE_REASON_COOLDOWN] = "cooldown",
	[ENGINE_REASON_BACKOFF] = "backoff",
	[ENGINE_REASON_DAILY_CAP] = "daily_cap",
	[ENGINE_REASON_HYSTERESIS] = "hysteresis",
	[ENGINE_REASON_CPU_HIGH] = "cpu_high",
	[ENGINE_REASON_CPU_LOW] = "cpu_low",
	[ENGINE_REASON_MEM_HIGH] = "mem_high",
	[ENGINE_REASON_MEM_LOW] = "mem_low",
	[ENGINE_REASON_OOM] = "oom",
	[ENGINE_REASON_THROTTLED] = "throttled",
	[ENGINE_REASON_BELOW_MIN_STEP] = "below_min_step",
	[ENGINE_REASON_AT_BOUND] = "at_bound",
	[ENGINE_REASON_CRITICAL_FLOOR] = "critical_floor",
	[ENGINE_REASON_DISABLED_ACTION] = "disabled_action",
	[ENGINE_REASON_OPTIONAL_SCALE_DOWN] = "optional_scale_down",
	[ENGINE_REASON_NO_LIMIT] = "no_limit",
	[ENGINE_REASON_INITIAL_LIMIT] = "initial_limit",
	[ENGINE_REASON_CPU_RECOMMENDED] = "cpu_recommended",
	[ENGINE_REASON_MEM_RECOMMENDED] = "mem_recommended",
	[ENGINE_REASON_LEARNING] = "learning",
	[ENGINE_REASON_DECREASE_PACED] = "decrease_paced",
	[ENGINE_REASON_REVERTED] = "reverted",
};

static const char *const result_names[_ENGINE_RESULT_MAX] = {
	[ENGINE_RESULT_NONE] = "none",
	[ENGINE_RESULT_APPLIED] = "applied",
	[ENGINE_RESULT_FAILED] = "failed",
};

/* Counters saturate here rather than wrap. */
#define COUNTER_MAX 1000000u
/* Values beyond these are garbage, not measurements. */
#define CPU_SANE_MAX 1e6
/* Percentile policy: an OOM kill at least doubles the memory limit. */
#define OOM_STEP 2.0
/* Longest failure backoff, unless failure_backoff itself is longer. */
#define BACKOFF_CAP 86400.0

const char *engine_reason_to_string(enum engine_reason r)
{
	if ((unsigned)r >= _ENGINE_REASON_MAX)
		return "invalid";
	return reason_names[r];
}

int engine_reason_from_string(const char *s)
{
	for (int i = 0; s && i < _ENGINE_REASON_MAX; i++)
		if (strcmp(reason_names[i], s) == 0)
			return i;
	return -EINVAL;
}

bool engine_reason_is_change(enum engine_reason r)
{
	switch (r) {
	case ENGINE_REASON_CPU_HIGH:
	case ENGINE_REASON_CPU_LOW:
	case ENGINE_REASON_MEM_HIGH:
	case ENGINE_REASON_MEM_LOW:
	case ENGINE_REASON_OOM:
	case ENGINE_REASON_THROTTLED:
	case ENGINE_REASON_OPTIONAL_SCALE_DOWN:
	case ENGINE_REASON_INITIAL_LIMIT:
	case ENGINE_REASON_CPU_RECOMMENDED:
	case ENGINE_REASON_MEM_RECOMMENDED:
		return true;
	default:
		return false;
	}
}

const char *engine_result_to_string(enum engine_result r)
{
	if ((unsigned)r >= _ENGINE_RESULT_MAX)
		return "invalid";
	return result_names[r];
}

int engine_result_from_string(const char *s)
{
	for (int i = 0; s && i < _ENGINE_RESULT_MAX; i++)
		if (strcmp(result_names[i], s) == 0)
			return i;
	return -EINVAL;
}

void engine_policy_for(const struct rm_config *cfg, const char *service, struct engine_policy *ret)
{
	const struct service_baseline *b = config_service_baseline(cfg, service);
	struct engine_policy p = {
		.class = config_service_class(cfg, service),
		.priority = config_service_priority(cfg, service),
		.cpu_floor = cfg->adjustment.min_cpu,
		.cpu_ceiling = cfg->adjustment.max_cpu,
		.mem_floor = cfg->adjustment.min_memory,
		.mem_ceiling = cfg->adjustment.max_memory,
	};
	if (b && b->has_cpu) {
		p.has_cpu_baseline = true;
		p.cpu_baseline = b->cpu;
		if (b->cpu > p.cpu_floor)
			p.cpu_floor = b->cpu;
	}
	if (b && b->has_memory) {
		p.has_mem_baseline = true;
		p.mem_baseline = b->memory;
		if (b->memory > p.mem_floor)
			p.mem_floor = b->memory;
	}
	if (p.cpu_ceiling < p.cpu_floor)
		p.cpu_ceiling = p.cpu_floor;
	if (p.mem_ceiling < p.mem_floor)
		p.mem_ceiling = p.mem_floor;
	*ret = p;
}

/* true when the policy's floor of the resource is the service's baseline
 * rather than adjustment.min_*. */
static bool floor_is_baseline(const struct engine_policy *p, bool is_cpu)
{
	return is_cpu ? p->has_cpu_baseline && p->cpu_baseline >= p->cpu_floor
	              : p->has_mem_baseline && p->mem_baseline >= p->mem_floor;
}

/* "2Gi", "1536Mi", else bytes: exact, so that a value just beyond a bound never
 * reads as the bound itself. */
static void fmt_memory_exact(uint64_t bytes, char *buf, size_t len)
{
	unsigned long long b = bytes;
	if (b && b % UNITS_GIB == 0)
		snprintf(buf, len, "%lluGi", b / UNITS_GIB);
	else if (b && b % UNITS_MIB == 0)
		snprintf(buf, len, "%lluMi", b / UNITS_MIB);
	else
		snprintf(buf, len, "%lluB", b);
}

/* Says which bound a manual value (already formatted in val) is beyond: the
 * key that sets it and its value. Returns -ERANGE. */
static int manual_refusal(const struct rm_config *cfg, const struct engine_policy *p,
                          const char *service, bool is_cpu, bool below, const char *val, char *why,
                          size_t len)
{
	const char *res = is_cpu ? "cpu" : "memory";
	/* A baseline above max raises the ceiling to it (engine_policy_for). */
	bool baseline = below    ? floor_is_baseline(p, is_cpu)
	                : is_cpu ? p->cpu_ceiling > cfg->adjustment.max_cpu
	                         : p->mem_ceiling > cfg->adjustment.max_memory;
	bool critical = below && baseline && p->class == CLASS_CRITICAL;
	char key[160], bound[32];
	if (baseline)
		snprintf(key, sizeof(key), "services.baseline.%s.%s", service, res);
	else
		snprintf(key, sizeof(key), "adjustment.%s_%s", below ? "min" : "max", res);
	if (is_cpu)
		snprintf(bound, sizeof(bound), "%g", below ? p->cpu_floor : p->cpu_ceiling);
	else
		fmt_memory_exact(below ? p->mem_floor : p->mem_ceiling, bound, sizeof(bound));
	snprintf(why, len, "%s %s is %s %s (%s%s)", res, val, below ? "below" : "above", key, bound,
	         critical ? ", the floor of a critical service" : "");
	return -ERANGE;
}

int engine_check_manual(const struct rm_config *cfg, const char *service, bool has_cpu, double cpu,
                        bool has_memory, uint64_t memory, char *why, size_t whylen)
{
	struct engine_policy p;
	char v[32];
	engine_policy_for(cfg, service, &p);
	/* The slack absorbs float noise ("100m" is min_cpu 0.1); NaN is below. */
	bool cpu_low = !(cpu >= p.cpu_floor - 1e-9);
	if (has_cpu && (cpu_low || cpu > p.cpu_ceiling + 1e-9)) {
		snprintf(v, sizeof(v), "%g", cpu);
		return manual_refusal(cfg, &p, service, true, cpu_low, v, why, whylen);
	}
	if (has_memory && (memory < p.mem_floor || memory > p.mem_ceiling)) {
		fmt_memory_exact(memory, v, sizeof(v));
		return manual_refusal(cfg, &p, service, false, memory < p.mem_floor, v, why,
		                      whylen);
	}
	return 0;
}

/* What one resource wants before the gates. */
enum want {
	WANT_NONE,
	WANT_UP,
	WANT_DOWN,
	WANT_INITIAL,
};

/* One resource's evaluation. `cause` says why it wants something, `outcome`
 * what finally happened; `text` is its part of the explanation. */
struct res {
	bool valid;
	bool unlimited;
	double use, limit, ratio; /* cores or bytes */
	enum want want;
	enum engine_reason cause;
	enum engine_reason outcome;
	bool change;
	double to;
	/* Percentile policy: the recommendation of this resource (NULL: none),
	 * and whether the want is urgent (OOM, throttling, sustained pressure:
	 * never held by the cooldown or the daily cap). */
	const struct rec_resource *rec;
	bool urgent;
	double revert_until; /* no decrease before (engine_note_revert) */
	char text[512];
};

static unsigned bump(unsigned c)
{
	return c < COUNTER_MAX ? c + 1 : c;
}

static bool sane(double v, double max)
{
	return isfinite(v) && v >= 0 && v <= max;
}

static void append(char *buf, size_t len, const char *fmt, ...) RM_PRINTF(3, 4);
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* "512" for whole MiB, else one decimal. */
static const char *fmt_mib(double bytes, char *buf, size_t len)
{
	double mib = bytes / (double)UNITS_MIB;
	if (mib == floor(mib) && mib < 1e15)
		snprintf(buf, len, "%.0f", mib);
	else
		snprintf(buf, len, "%.1f", mib);
	return buf;
}

static void fmt_amount(bool is_cpu, double v, char *buf, size_t len)
{
	if (is_cpu) {
		snprintf(buf, len, "%.2f", v);
	} else {
		fmt_mib(v, buf, len);
	}
}

static const char *unit_of(bool is_cpu)
{
	return is_cpu ? "cores" : "MiB";
}

/* Checks what every decision needs: a container, fresh data, a known uptime.
 * On failure writes what is missing into why. */
static bool observation_usable(const struct engine_input *in, char *why, size_t len)
{
	const struct observation *o = in->obs;
	double max_age = 2.0 * in->cfg->monitoring.check_interval;
	if (o->n_containers == 0) {
		snprintf(why, len, "no container found");
		return false;
	}
	if (!isfinite(o->time)) {
		snprintf(why, len, "observation time is invalid");
		return false;
	}
	if (in->now - o->time > max_age) {
		snprintf(why, len, "observation is %.0fs old (stale, limit %.0fs)",
		         in->now - o->time, max_age);
		return false;
	}
	if (o->time - in->now > max_age) {
		snprintf(why, len, "observation is %.0fs in the future", o->time - in->now);
		return false;
	}
	if (!o->uptime_known || !sane(o->uptime, 1e12)) {
		snprintf(why, len, "uptime %s", o->uptime_known ? "is invalid" : "unknown");
		return false;
	}
	return true;
}

/* Validates one resource's use and limit; on failure res->text says which. */
static void res_load(struct res *r, const char *name, bool use_known, double use, bool lim_known,
                     double lim, double max)
{
	r->use = use;
	r->limit = lim;
	if (!use_known || !lim_known || !sane(use, max) || !sane(lim, max)) {
		const char *what = !use_known        ? "use unknown"
		                   : !sane(use, max) ? "use is invalid"
		                   : !lim_known      ? "limit unknown"
		                                     : "limit is invalid";
		r->outcome = ENGINE_REASON_UNKNOWN_DATA;
		snprintf(r->text, sizeof(r->text), "%s %s", name, what);
		return;
	}
	r->valid = true;
	r->unlimited = lim <= 0;
	if (!r->unlimited)
		r->ratio = use / lim;
}

/* Advances a pair of hysteresis counters with one reading. */
static void count(double ratio, double high, double low, unsigned *c_high, unsigned *c_low)
{
	if (ratio > high) {
		*c_high = bump(*c_high);
		*c_low = 0;
	} else if (ratio < low) {
		*c_low = bump(*c_low);
		*c_high = 0;
	} else {
		*c_high = 0;
		*c_low = 0;
	}
}

static unsigned checks_needed(const struct rm_config *cfg)
{
	return cfg->thresholds.consecutive_checks ? cfg->thresholds.consecutive_checks : 1;
}

/* Sets want/cause for one resource from its counters, or the outcome when
 * nothing is due. Only CPU counts throttled periods as well. */
static void res_wants(const struct engine_input *in, const struct engine_state *st, struct res *r,
                      bool is_cpu)
{
	const struct rm_config *cfg = in->cfg;
	const char *name = is_cpu ? "cpu" : "mem", *unit = unit_of(is_cpu);
	unsigned n = checks_needed(cfg);
	unsigned high = is_cpu ? st->cpu_high : st->mem_high;
	unsigned low = is_cpu ? st->cpu_low : st->mem_low;
	unsigned throttled = is_cpu ? st->throttled : 0;
	double high_at = is_cpu ? cfg->thresholds.cpu_high : cfg->thresholds.memory_high;
	double low_at = is_cpu ? cfg->thresholds.cpu_low : cfg->thresholds.memory_low;
	bool host_short = is_cpu ? in->host_short_cpu : in->host_short_mem;
	char lim_s[32];
	if (!r->valid)
		return;
	if (r->unlimited) {
		if (cfg->adjustment.manage_unlimited) {
			char use_s[32];
			fmt_amount(is_cpu, r->use, use_s, sizeof(use_s));
			r->want = WANT_INITIAL;
			r->cause = ENGINE_REASON_INITIAL_LIMIT;
			snprintf(r->text, sizeof(r->text), "%s has no limit (use %s %s)", name,
			         use_s, unit);
		} else {
			r->outcome = ENGINE_REASON_NO_LIMIT;
			snprintf(r->text, sizeof(r->text), "%s has no limit (not managed)", name);
		}
		return;
	}
	fmt_amount(is_cpu, r->limit, lim_s, sizeof(lim_s));
	bool optional_short = host_short && in->policy->class == CLASS_OPTIONAL &&
	                      cfg->automation.actions.scale_down_optional;
	if (optional_short) {
		r->want = WANT_DOWN;
		r->cause = ENGINE_REASON_OPTIONAL_SCALE_DOWN;
		snprintf(r->text, sizeof(r->text),
		         "%s %.1f%% of %s %s, optional service and host short of %s", name,
		         r->ratio * 100, lim_s, unit, is_cpu ? "cpu" : "memory");
	} else if (high >= n) {
		r->want = WANT_UP;
		r->cause = is_cpu ? ENGINE_REASON_CPU_HIGH : ENGINE_REASON_MEM_HIGH;
		snprintf(r->text, sizeof(r->text), "%s %.1f%% of %s %s > %g%% for %u checks", name,
		         r->ratio * 100, lim_s, unit, high_at * 100, high);
	} else if (throttled >= n) {
		r->want = WANT_UP;
		r->cause = ENGINE_REASON_THROTTLED;
		snprintf(r->text, sizeof(r->text),
		         "cpu throttled in %.1f%% of periods > %g%% for %u checks (use %.1f%% of "
		         "%s cores)",
		         in->obs->cpu_throttled * 100, cfg->thresholds.cpu_throttle_high * 100,
		         throttled, r->ratio * 100, lim_s);
	} else if (low >= n && throttled == 0) {
		/* A throttled container is short of CPU, whatever its average says. */
		r->want = WANT_DOWN;
		r->cause = is_cpu ? ENGINE_REASON_CPU_LOW : ENGINE_REASON_MEM_LOW;
		snprintf(r->text, sizeof(r->text), "%s %.1f%% of %s %s < %g%% for %u checks", name,
		         r->ratio * 100, lim_s, unit, low_at * 100, low);
		if (in->policy->class == CLASS_CRITICAL) {
			r->want = WANT_NONE;
			r->outcome = ENGINE_REASON_CRITICAL_FLOOR;
			strncat(r->text, ": not decreased (critical service)",
			        sizeof(r->text) - strlen(r->text) - 1);
		}
	} else if (high || low || throttled) {
		r->outcome = ENGINE_REASON_HYSTERESIS;
		if (throttled && !high)
			snprintf(r->text, sizeof(r->text),
			         "cpu throttled in %.1f%% of periods > %g%% (%u of %u checks)",
			         in->obs->cpu_throttled * 100,
			         cfg->thresholds.cpu_throttle_high * 100, throttled, n);
		else
			snprintf(r->text, sizeof(r->text),
			         "%s %.1f%% of %s %s %s %g%% (%u of %u checks)", name,
			         r->ratio * 100, lim_s, unit, high ? ">" : "<",
			         (high ? high_at : low_at) * 100, high ? high : low, n);
	} else {
		r->outcome = ENGINE_REASON_NONE;
		snprintf(r->text, sizeof(r->text), "%s %.1f%% of %s %s", name, r->ratio * 100,
		         lim_s, unit);
	}
}

static bool percentile_policy(const struct rm_config *cfg)
{
	return cfg->adjustment.policy == POLICY_PERCENTILE;
}

/* "p98 0.52 cores over 3.1d (half-life 1d) + 22% margin = 0.60 cores" */
static void fmt_rec(const struct engine_input *in, const struct rec_resource *rc, bool is_cpu,
                    char *buf, size_t len)
{
	const struct rm_config *cfg = in->cfg;
	double pct = is_cpu ? cfg->recommender.cpu_percentile : cfg->recommender.memory_percentile;
	char p[24], t[24], hist[24], hl[24];
	fmt_amount(is_cpu, rc->percentile, p, sizeof(p));
	fmt_amount(is_cpu, rc->target, t, sizeof(t));
	units_format_duration(in->rec->history, hist, sizeof(hist));
	units_format_duration(cfg->recommender.half_life, hl, sizeof(hl));
	snprintf(buf, len,
	         "p%g %s %s over %s (half-life %s, confidence %.1fd) + %.0f%% margin = %s %s",
	         pct * 100, p, unit_of(is_cpu), hist, hl, in->rec->confidence, rc->margin * 100, t,
	         unit_of(is_cpu));
}

/* Percentile policy: what one resource wants. Urgent raises first (sustained
 * use above the high threshold, CPU throttling), then the recommendation's
 * bounds. The OOM kill is handled by mem_wants before this. */
static void pct_wants(const struct engine_input *in, const struct engine_state *st, struct res *r,
                      bool is_cpu)
{
	const struct rm_config *cfg = in->cfg;
	const char *name = is_cpu ? "cpu" : "mem", *unit = unit_of(is_cpu);
	unsigned n = checks_needed(cfg);
	unsigned high = is_cpu ? st->cpu_high : st->mem_high;
	unsigned throttled = is_cpu ? st->throttled : 0;
	double high_at = is_cpu ? cfg->thresholds.cpu_high : cfg->thresholds.memory_high;
	bool host_short = is_cpu ? in->host_short_cpu : in->host_short_mem;
	const struct rec_resource *rc = r->rec;
	char lim_s[32], rec_s[256], lo[32], hi[32];
	if (!r->valid || r->unlimited) {
		res_wants(in, st, r, is_cpu);
		return;
	}
	fmt_amount(is_cpu, r->limit, lim_s, sizeof(lim_s));
	if (high >= n || throttled >= n) {
		r->want = WANT_UP;
		r->urgent = true;
		if (high >= n) {
			r->cause = is_cpu ? ENGINE_REASON_CPU_HIGH : ENGINE_REASON_MEM_HIGH;
			snprintf(r->text, sizeof(r->text),
			         "%s %.1f%% of %s %s > %g%% for %u checks", name, r->ratio * 100,
			         lim_s, unit, high_at * 100, high);
		} else {
			r->cause = ENGINE_REASON_THROTTLED;
			snprintf(r->text, sizeof(r->text),
			         "cpu throttled in %.1f%% of periods > %g%% for %u checks (use "
			         "%.1f%% of %s cores)",
			         in->obs->cpu_throttled * 100,
			         cfg->thresholds.cpu_throttle_high * 100, throttled, r->ratio * 100,
			         lim_s);
		}
		return;
	}
	if (host_short && in->policy->class == CLASS_OPTIONAL &&
	    cfg->automation.actions.scale_down_optional) {
		res_wants(in, st, r, is_cpu);
		return;
	}
	if (!rc || !rc->known) {
		r->outcome = ENGINE_REASON_LEARNING;
		snprintf(r->text, sizeof(r->text), "%s %.1f%% of %s %s, no usage history yet", name,
		         r->ratio * 100, lim_s, unit);
		return;
	}
	fmt_rec(in, rc, is_cpu, rec_s, sizeof(rec_s));
	fmt_amount(is_cpu, rc->lower, lo, sizeof(lo));
	fmt_amount(is_cpu, rc->upper, hi, sizeof(hi));
	bool below = r->limit<rc->lower, above = r->limit> rc->upper;
	snprintf(r->text, sizeof(r->text), "%s %s; limit %s %s %s [%s, %s]", name, rec_s, lim_s,
	         unit,
	         below   ? "below"
	         : above ? "above"
	                 : "within",
	         lo, hi);
	if (!below && !above) {
		r->outcome = ENGINE_REASON_NONE;
		return;
	}
	r->want = below ? WANT_UP : WANT_DOWN;
	r->cause = is_cpu ? ENGINE_REASON_CPU_RECOMMENDED : ENGINE_REASON_MEM_RECOMMENDED;
	if (below)
		return;
	double changed = is_cpu ? st->cpu_changed : st->mem_changed;
	char d[32], w[32];
	if (in->policy->class == CLASS_CRITICAL) {
		r->want = WANT_NONE;
		r->outcome = ENGINE_REASON_CRITICAL_FLOOR;
		append(r->text, sizeof(r->text), ": not decreased (critical service)");
	} else if (is_cpu && in->obs->cpu_throttled_known && in->obs->cpu_throttled > 0) {
		r->want = WANT_NONE;
		r->outcome = ENGINE_REASON_NONE;
		append(r->text, sizeof(r->text), ": not decreased while throttled (%.1f%%)",
		       in->obs->cpu_throttled * 100);
	} else if (in->rec->history < cfg->recommender.min_history) {
		r->want = WANT_NONE;
		r->outcome = ENGINE_REASON_LEARNING;
		units_format_duration(cfg->recommender.min_history, w, sizeof(w));
		append(r->text, sizeof(r->text), ": no decrease before %s of history", w);
	} else if (changed > 0 && in->now - changed < cfg->recommender.decrease_interval) {
		r->want = WANT_NONE;
		r->outcome = ENGINE_REASON_DECREASE_PACED;
		units_format_duration(cfg->recommender.decrease_interval - (in->now - changed), d,
		                      sizeof(d));
		units_format_duration(cfg->recommender.decrease_interval, w, sizeof(w));
		append(r->text, sizeof(r->text), ": no decrease within %s of a change, %s left", w,
		       d);
	}
}

/* Which want rule applies to a resource under the configured policy. */
static void wants(const struct engine_input *in, const struct engine_state *st, struct res *r,
                  bool is_cpu)
{
	if (percentile_policy(in->cfg))
		pct_wants(in, st, r, is_cpu);
	else
		res_wants(in, st, r, is_cpu);
}

/* Percentile policy: a reading above the high threshold is pressure only when
 * the use is also beyond what the history expects (the percentile plus half
 * its margin), or within half a margin of the limit itself (a leak that the
 * history follows): a limit at its target keeps its usual peaks above the
 * threshold. Otherwise the counter restarts. */
static void pressure_only(const struct res *r, const struct rec_resource *rc, unsigned *c_high)
{
	double guard = 1 + rc->margin / 2;
	if (r->valid && rc->known && r->use <= rc->percentile * guard && r->use <= r->limit / guard)
		*c_high = 0;
}

static bool oom_pending(const struct observation *o)
{
	return o->oom_known && o->oom_kills > 0 && o->mem_limit_known && o->mem_limit > 0;
}

/* Sets want/cause for memory; an OOM kill needs only the limit. */
static void mem_wants(const struct engine_input *in, const struct engine_state *st, struct res *r)
{
	const struct observation *o = in->obs;
	bool remembered = percentile_policy(in->cfg) && st->oom_pending && o->mem_limit_known &&
	                  o->mem_limit > 0;
	if (oom_pending(o) || remembered) {
		char lim_s[32];
		fmt_mib((double)o->mem_limit, lim_s, sizeof(lim_s));
		r->want = WANT_UP;
		r->cause = ENGINE_REASON_OOM;
		r->urgent = percentile_policy(in->cfg);
		r->limit = (double)o->mem_limit;
		if (oom_pending(o))
			snprintf(r->text, sizeof(r->text), "mem %u OOM kill%s at %s MiB",
			         o->oom_kills, o->oom_kills == 1 ? "" : "s", lim_s);
		else
			snprintf(r->text, sizeof(r->text),
			         "mem OOM kill not answered yet (limit %s MiB)", lim_s);
		return;
	}
	wants(in, st, r, false);
}

/* Applies the gates that hold every want: backoff, daily cap, cooldown (not
 * for an OOM), then the automation.actions switches. */
static void gate(const struct engine_input *in, const struct engine_state *st, struct res *r)
{
	const struct rm_config *cfg = in->cfg;
	if (r->want == WANT_NONE)
		return;
	enum engine_reason held = ENGINE_REASON_NONE;
	char why[96] = "";
	if (st->last_result == ENGINE_RESULT_FAILED && in->now < st->backoff_until) {
		held = ENGINE_REASON_BACKOFF;
		snprintf(why, sizeof(why), "held by backoff after %u failed change%s, %.0fs left",
		         st->failures, st->failures == 1 ? "" : "s", st->backoff_until - in->now);
	} else if (!r->urgent && st->changes_today >= cfg->adjustment.max_adjustments_per_day) {
		held = ENGINE_REASON_DAILY_CAP;
		snprintf(why, sizeof(why), "held by daily cap, %u of %u changes made today",
		         st->changes_today, cfg->adjustment.max_adjustments_per_day);
	} else if (r->cause != ENGINE_REASON_OOM && !r->urgent &&
	           st->last_result == ENGINE_RESULT_APPLIED &&
	           in->now - st->last_change < cfg->adjustment.cooldown_period) {
		held = ENGINE_REASON_COOLDOWN;
		snprintf(why, sizeof(why), "held by cooldown, %.0fs of %.0fs left",
		         cfg->adjustment.cooldown_period - (in->now - st->last_change),
		         cfg->adjustment.cooldown_period);
	} else if (r->want == WANT_DOWN && in->now < st->watch_until) {
		held = ENGINE_REASON_COOLDOWN;
		char left[32];
		units_format_duration(st->watch_until - in->now, left, sizeof(left));
		snprintf(why, sizeof(why), "held while the last change is watched, %s left", left);
	} else if (r->want == WANT_DOWN && in->now < r->revert_until) {
		held = ENGINE_REASON_REVERTED;
		char left[32];
		units_format_duration(r->revert_until - in->now, left, sizeof(left));
		snprintf(why, sizeof(why), "a decrease was reverted, none for %s more", left);
	} else if (r->want == WANT_UP && !cfg->automation.actions.increase_on_high) {
		held = ENGINE_REASON_DISABLED_ACTION;
		snprintf(why, sizeof(why),
		         "not increased (automation.actions.increase_on_high off)");
	} else if (r->want == WANT_DOWN && r->cause != ENGINE_REASON_OPTIONAL_SCALE_DOWN &&
	           !cfg->automation.actions.decrease_on_low) {
		held = ENGINE_REASON_DISABLED_ACTION;
		snprintf(why, sizeof(why),
		         "not decreased (automation.actions.decrease_on_low off)");
	}
	if (held == ENGINE_REASON_NONE)
		return;
	r->want = WANT_NONE;
	r->outcome = held;
	append(r->text, sizeof(r->text), ": %s", why);
}

/* Turns a wanted target into a value rounded to the resource's unit (0.01
 * cores, 1 MiB) and clamped to its bounds, and sets the outcome. The floor is
 * rounded up and the ceiling down, so a rounded result stays inside. */
static void settle(const struct engine_input *in, struct res *r, bool is_cpu, double target,
                   double safety, const char *safety_note)
{
	const struct rm_config *cfg = in->cfg;
	const struct engine_policy *p = in->policy;
	double unit = is_cpu ? 0.01 : (double)UNITS_MIB;
	double floor_v = is_cpu ? p->cpu_floor : (double)p->mem_floor;
	double ceil_v = is_cpu ? p->cpu_ceiling : (double)p->mem_ceiling;
	/* A tiny epsilon keeps 0.1 * 100 from rounding up to 11 centi-cores. */
	double lo = ceil(floor_v / unit - 1e-9);
	double hi = floor(ceil_v / unit + 1e-9);
	const char *note = NULL;
	char a[32], b[32];

	double steps = round(target / unit);
	if (safety > 0) {
		double s = ceil(safety / unit - 1e-9);
		if (steps < s) {
			steps = s;
			note = safety_note;
		}
	}
	if (steps > hi) {
		steps = hi;
		note = "max";
	}
	if (steps < lo) {
		steps = lo;
		note = floor_is_baseline(p, is_cpu) ? "baseline" : "min";
	}
	if (lo > hi) {
		r->outcome = ENGINE_REASON_AT_BOUND;
		append(r->text, sizeof(r->text), ": no whole step between min and max");
		return;
	}
	double to = steps * unit;
	double cur = r->limit;
	fmt_amount(is_cpu, cur, a, sizeof(a));
	fmt_amount(is_cpu, to, b, sizeof(b));

	if (r->want == WANT_UP && to <= cur) {
		r->outcome = ENGINE_REASON_AT_BOUND;
		append(r->text, sizeof(r->text), ": %s max %s %s",
		       cur > to ? "above" : "already at", b, unit_of(is_cpu));
		return;
	}
	if (r->want == WANT_DOWN && to >= cur) {
		r->outcome = ENGINE_REASON_AT_BOUND;
		if (note && note == safety_note)
			append(r->text, sizeof(r->text), ": cannot go below %s %s (%s)", b,
			       unit_of(is_cpu), note);
		else
			append(r->text, sizeof(r->text), ": %s %s %s %s",
			       cur < to ? "below" : "already at", note ? note : "floor", b,
			       unit_of(is_cpu));
		return;
	}
	if (r->want != WANT_INITIAL) {
		double min_abs = is_cpu ? cfg->adjustment.min_change_cpu
		                        : (double)cfg->adjustment.min_change_memory;
		double min_step = fmax(cfg->adjustment.min_change * cur, min_abs);
		/* Exactly the minimum step is worth it; the slack absorbs float noise. */
		if (fabs(to - cur) < min_step - (is_cpu ? 1e-9 : 0.5)) {
			char m[32];
			fmt_amount(is_cpu, min_step, m, sizeof(m));
			r->outcome = ENGINE_REASON_BELOW_MIN_STEP;
			append(r->text, sizeof(r->text),
			       ": %s -> %s %s is below the min step %s %s", a, b, unit_of(is_cpu),
			       m, unit_of(is_cpu));
			return;
		}
	}
	r->change = true;
	r->to = to;
	r->outcome = r->cause;
	if (r->want == WANT_INITIAL)
		append(r->text, sizeof(r->text), ": none -> %s %s", b, unit_of(is_cpu));
	else
		append(r->text, sizeof(r->text), ": %s -> %s %s", a, b, unit_of(is_cpu));
	if (note)
		append(r->text, sizeof(r->text), " (%s)", note);
}

/* What a want asks for before settle: a step from the limit, or for a first
 * limit the baseline (else the minimum), raised to where the current use
 * sits at the high threshold, not above. */
static double want_target(const struct engine_input *in, const struct res *r, bool is_cpu)
{
	const struct rm_config *cfg = in->cfg;
	const struct engine_policy *p = in->policy;
	double target, high;
	double step = fmax(cfg->adjustment.increase_factor, 1.0);
	/* Percentile: after an OOM kill the size of the peak that killed it is
	 * not known: at least double, so that one kill is answered at once. */
	if (r->urgent && r->cause == ENGINE_REASON_OOM)
		step = fmax(OOM_STEP, step * (1 + cfg->recommender.memory_margin));
	if (r->rec && r->rec->known && r->want != WANT_INITIAL &&
	    r->cause != ENGINE_REASON_OPTIONAL_SCALE_DOWN) {
		/* Percentile: the target; an urgent raise is at least one step up. */
		if (r->urgent)
			return fmax(r->rec->target, r->limit * step);
		return r->rec->target;
	}
	if (r->urgent)
		return r->limit * step;
	if (r->want == WANT_UP)
		return r->limit * fmax(cfg->adjustment.increase_factor, 1.0);
	if (r->want == WANT_DOWN)
		return r->limit * fmin(cfg->adjustment.decrease_factor, 1.0);
	if (is_cpu) {
		target = p->has_cpu_baseline ? p->cpu_baseline : cfg->adjustment.min_cpu;
		high = cfg->thresholds.cpu_high;
	} else {
		target = p->has_mem_baseline ? (double)p->mem_baseline
		                             : (double)cfg->adjustment.min_memory;
		high = cfg->thresholds.memory_high;
	}
	return high > 0 ? fmax(target, r->use / high) : target;
}

/* Percentile policy: what the new limit leaves unused on average. */
static void note_slack(struct res *r)
{
	if (r->change && r->rec && r->rec->known && r->to > 0)
		append(r->text, sizeof(r->text), ", expected slack %.0f%%",
		       fmax(0, 1 - r->rec->mean / r->to) * 100);
}

/* CPU: a decrease never goes below a limit that throttled recently (the
 * percentile policy's floor). */
static void cpu_target(const struct engine_input *in, struct res *r)
{
	double floor = 0;
	char note[64] = "";
	if (r->want == WANT_NONE)
		return;
	if (r->want == WANT_DOWN && r->rec && r->rec->floor > 0 &&
	    r->cause != ENGINE_REASON_OPTIONAL_SCALE_DOWN) {
		char age[32];
		floor = r->rec->floor;
		units_format_duration(r->rec->floor_age, age, sizeof(age));
		snprintf(note, sizeof(note), "throttled %s ago", age);
	}
	settle(in, r, true, want_target(in, r, true), floor, note);
	note_slack(r);
}

/* Memory never goes below its peak and the safety margin, but to grow. */
static void mem_target(const struct engine_input *in, struct res *r)
{
	const struct rm_config *cfg = in->cfg;
	const struct observation *o = in->obs;
	double margin = 1.0 + cfg->adjustment.memory_safety_margin;
	double peak = r->valid ? r->use : 0;
	char note[64], pk[32];
	if (r->want == WANT_NONE)
		return;
	if (o->mem_peak_known && (double)o->mem_peak > peak)
		peak = (double)o->mem_peak;
	snprintf(note, sizeof(note), "peak %s MiB + %g%%", fmt_mib(peak, pk, sizeof(pk)),
	         cfg->adjustment.memory_safety_margin * 100);
	settle(in, r, false, want_target(in, r, false), r->want == WANT_UP ? 0 : peak * margin,
	       note);
	note_slack(r);
}

/* Headline rank: lower is more important. Changes first, then the gates. */
static int reason_rank(enum engine_reason r)
{
	static const enum engine_reason order[] = {
		ENGINE_REASON_OOM,
		ENGINE_REASON_THROTTLED,
		ENGINE_REASON_CPU_HIGH,
		ENGINE_REASON_MEM_HIGH,
		ENGINE_REASON_OPTIONAL_SCALE_DOWN,
		ENGINE_REASON_CPU_LOW,
		ENGINE_REASON_MEM_LOW,
		ENGINE_REASON_CPU_RECOMMENDED,
		ENGINE_REASON_MEM_RECOMMENDED,
		ENGINE_REASON_INITIAL_LIMIT,
		ENGINE_REASON_BACKOFF,
		ENGINE_REASON_DAILY_CAP,
		ENGINE_REASON_COOLDOWN,
		ENGINE_REASON_DISABLED_ACTION,
		ENGINE_REASON_CRITICAL_FLOOR,
		ENGINE_REASON_AT_BOUND,
		ENGINE_REASON_BELOW_MIN_STEP,
		ENGINE_REASON_DECREASE_PACED,
		ENGINE_REASON_REVERTED,
		ENGINE_REASON_LEARNING,
		ENGINE_REASON_WARMING_UP,
		ENGINE_REASON_UNKNOWN_DATA,
		ENGINE_REASON_HYSTERESIS,
		ENGINE_REASON_NO_LIMIT,
		ENGINE_REASON_NONE,
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(order); i++)
		if (order[i] == r)
			return (int)i;
	return (int)RM_ARRAY_SIZE(order);
}

static void reset_counters(struct engine_state *st)
{
	st->cpu_high = st->cpu_low = st->mem_high = st->mem_low = st->throttled = 0;
}

static bool quiet(enum engine_reason r)
{
	return r == ENGINE_REASON_NONE || r == ENGINE_REASON_HYSTERESIS ||
	       r == ENGINE_REASON_WARMING_UP || r == ENGINE_REASON_NO_LIMIT ||
	       r == ENGINE_REASON_LEARNING;
}

/* Joins the per-resource texts into the one-line explanation. When something
 * changes, quiet resources (none, hysteresis, warming up, no limit) are left out. */
static void explain(struct engine_decision *d, const struct res *cpu, const struct res *mem,
                    bool percentile)
{
	const struct res *rs[2] = { cpu, mem };
	bool changing = d->change_cpu || d->change_mem;
	d->explanation[0] = '\0';
	if (d->reason == ENGINE_REASON_NONE)
		append(d->explanation, sizeof(d->explanation),
		       "%s: ", percentile ? "within recommendation" : "within thresholds");
	for (int i = 0, n = 0; i < 2; i++) {
		const struct res *r = rs[i];
		if (!r->text[0])
			continue;
		if (changing && quiet(r->outcome))
			continue;
		append(d->explanation, sizeof(d->explanation), "%s%s", n++ ? "; " : "", r->text);
	}
	if (!changing && d->reason != ENGINE_REASON_NONE)
		append(d->explanation, sizeof(d->explanation), "; keeping current limits");
}

void engine_decide(const struct engine_input *in, const struct engine_state *state,
                   struct engine_state *ret_state, struct engine_decision *ret)
{
	const struct rm_config *cfg = in->cfg;
	const struct observation *o = in->obs;
	struct engine_state st = *state;
	struct engine_decision d = { 0 };
	struct res cpu = { 0 }, mem = { 0 };
	char why[128];

	d.cpu_from = d.cpu_to = o->cpu_limit_known && isfinite(o->cpu_limit) ? o->cpu_limit : 0;
	d.mem_from = d.mem_to = o->mem_limit_known ? o->mem_limit : 0;
	if (st.day != in->day) {
		st.day = in->day;
		st.changes_today = 0;
	}

	if (!observation_usable(in, why, sizeof(why))) {
		reset_counters(&st);
		d.reason = d.cpu_reason = d.mem_reason = ENGINE_REASON_UNKNOWN_DATA;
		append(d.explanation, sizeof(d.explanation),
		       "unknown data: %s%s%.*s; keeping current limits", why,
		       o->unknown_reason[0] ? "; " : "", (int)sizeof(o->unknown_reason),
		       o->unknown_reason);
		goto out;
	}

	res_load(&cpu, "cpu", o->cpu_used_known, o->cpu_used, o->cpu_limit_known, o->cpu_limit,
	         CPU_SANE_MAX);
	res_load(&mem, "mem", o->mem_used_known, (double)o->mem_used, o->mem_limit_known,
	         (double)o->mem_limit, 1e20);

	/* Readings of a young container are start-up noise: they do not count. */
	bool young = o->uptime < cfg->thresholds.min_uptime;
	if (young || !cpu.valid || cpu.unlimited) {
		st.cpu_high = st.cpu_low = st.throttled = 0;
	} else {
		count(cpu.ratio, cfg->thresholds.cpu_high, cfg->thresholds.cpu_low, &st.cpu_high,
		      &st.cpu_low);
		bool thr_ok = o->cpu_throttled_known && sane(o->cpu_throttled, 1.0);
		st.throttled = thr_ok && o->cpu_throttled > cfg->thresholds.cpu_throttle_high
		                       ? bump(st.throttled)
		                       : 0;
	}
	if (young || !mem.valid || mem.unlimited)
		st.mem_high = st.mem_low = 0;
	else
		count(mem.ratio, cfg->thresholds.memory_high, cfg->thresholds.memory_low,
		      &st.mem_high, &st.mem_low);
	if (percentile_policy(cfg) && in->rec) {
		pressure_only(&cpu, &in->rec->cpu, &st.cpu_high);
		pressure_only(&mem, &in->rec->mem, &st.mem_high);
	}

	if (percentile_policy(cfg)) {
		/* The low counters mean nothing here; an OOM kill is kept until answered. */
		st.cpu_low = st.mem_low = 0;
		if (oom_pending(o))
			st.oom_pending = true;
		if (in->rec) {
			cpu.rec = &in->rec->cpu;
			mem.rec = &in->rec->mem;
		}
	}
	bool oom_due = oom_pending(o) || (percentile_policy(cfg) && st.oom_pending &&
	                                  o->mem_limit_known && o->mem_limit > 0);
	if (young) {
		char up[32], min[32];
		units_format_duration(o->uptime, up, sizeof(up));
		units_format_duration(cfg->thresholds.min_uptime, min, sizeof(min));
		cpu.valid = false;
		cpu.outcome = ENGINE_REASON_WARMING_UP;
		snprintf(cpu.text, sizeof(cpu.text), "warming up: up %s < min_uptime %s", up, min);
		/* A quick OOM is the one thing a young container is judged on (VPA does
		 * the same): the restart it caused would otherwise hide it for good. */
		if (!oom_due) {
			mem.outcome = ENGINE_REASON_WARMING_UP;
			mem.text[0] = '\0';
		} else {
			mem.valid = false;
		}
	}
	if (!young)
		wants(in, &st, &cpu, true);
	if (!young || oom_due)
		mem_wants(in, &st, &mem);

	cpu.revert_until = st.cpu_revert_until;
	mem.revert_until = st.mem_revert_until;
	gate(in, &st, &cpu);
	gate(in, &st, &mem);
	cpu_target(in, &cpu);
	mem_target(in, &mem);

	d.cpu_reason = cpu.outcome;
	d.mem_reason = mem.outcome;
	if (cpu.change) {
		d.change_cpu = true;
		d.cpu_to = cpu.to;
	}
	if (mem.change) {
		d.change_mem = true;
		d.mem_to = (uint64_t)mem.to;
	}
	d.reason = reason_rank(cpu.outcome) <= reason_rank(mem.outcome) ? cpu.outcome : mem.outcome;
	explain(&d, &cpu, &mem, percentile_policy(cfg));
out:
	*ret_state = st;
	*ret = d;
}

void engine_apply_result(const struct rm_config *cfg, struct engine_state *state,
                         const struct engine_decision *d, bool success, double now, int32_t day)
{
	if (!engine_decision_changes(d))
		return;
	if (state->day != day) {
		state->day = day;
		state->changes_today = 0;
	}
	if (state->changes_today < UINT_MAX)
		state->changes_today++;
	state->last_change = now;
	if (success) {
		state->last_result = ENGINE_RESULT_APPLIED;
		state->failures = 0;
		state->backoff_until = 0;
		reset_counters(state);
		if (d->change_mem && d->mem_to > d->mem_from)
			state->oom_pending = false;
		if (d->change_cpu)
			state->cpu_changed = now;
		if (d->change_mem)
			state->mem_changed = now;
		return;
	}
	state->last_result = ENGINE_RESULT_FAILED;
	if (state->failures < COUNTER_MAX)
		state->failures++;
	double base = cfg->adjustment.failure_backoff;
	unsigned doublings = state->failures - 1 < 20 ? state->failures - 1 : 20;
	double wait = base * (double)(1u << doublings);
	double cap = fmax(BACKOFF_CAP, base);
	state->backoff_until = now + fmin(wait, cap);
}

void engine_note_revert(const struct rm_config *cfg, struct engine_state *state, double cpu_from,
                        double cpu_to, uint64_t mem_from, uint64_t mem_to, double now)
{
	double until = now + cfg->adjustment.revert_backoff;
	if (cpu_to > 0 && cpu_from > 0 && cpu_to < cpu_from - 1e-9)
		state->cpu_revert_until = fmax(state->cpu_revert_until, until);
	if (mem_to > 0 && mem_from > 0 && mem_to < mem_from)
		state->mem_revert_until = fmax(state->mem_revert_until, until);
}

void engine_recommended_limits(const struct engine_policy *p, const struct recommendation *rec,
                               double *ret_cpu, uint64_t *ret_mem)
{
	double cpu = 0, mem = 0;
	if (rec->cpu.known) {
		cpu = fmin(fmax(round(rec->cpu.target * 100) / 100, p->cpu_floor), p->cpu_ceiling);
	}
	if (rec->mem.known) {
		mem = round(rec->mem.target / (double)UNITS_MIB) * (double)UNITS_MIB;
		mem = fmin(fmax(mem, (double)p->mem_floor), (double)p->mem_ceiling);
	}
	*ret_cpu = cpu;
	*ret_mem = (uint64_t)mem;
}

void engine_host_short(double host_cpus, uint64_t host_mem, double sum_cpu_limits,
                       uint64_t sum_mem_limits, bool *ret_short_cpu, bool *ret_short_mem)
{
	*ret_short_cpu = isfinite(host_cpus) && host_cpus > 0 && sum_cpu_limits > host_cpus;
	*ret_short_mem = host_mem > 0 && sum_mem_limits > host_mem;
}

static int rank_class(const struct engine_rank_item *it)
{
	if (!it->changes)
		return 3;
	if (it->reason == ENGINE_REASON_OOM)
		return 0;
	if (it->reason == ENGINE_REASON_OPTIONAL_SCALE_DOWN)
		return 1;
	return 2;
}

static int rank_compare(const void *pa, const void *pb)
{
	const struct engine_rank_item *a = pa, *b = pb;
	int ca = rank_class(a), cb = rank_class(b);
	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	int c = strcmp(a->service ? a->service : "", b->service ? b->service : "");
	if (c)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

void engine_rank(struct engine_rank_item *items, size_t n)
{
	if (n > 1)
		qsort(items, n, sizeof(*items), rank_compare);
}
