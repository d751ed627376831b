/* recommender: usage histograms per service and the limits they recommend. */
#include "rm/recommender.h"

#include <math.h>

#include "rm/units.h"

/* History below one hour counts as one hour for the confidence. */
#define MIN_CONFIDENCE_DAYS (1.0 / 24)
/* The margin widens by 1 + CONFIDENCE_WIDEN / days, at most MAX_WIDEN times. */
#define CONFIDENCE_WIDEN 0.2
#define MAX_WIDEN        3.0
/* An OOM kill is recorded with this share of the histogram's weight, so that
 * the limit it happened at stays above the percentile for a few half-lives. */
#define OOM_SHARE 0.05
/* Where throttled time goes in the CPU histogram, relative to the limit. */
#define THROTTLED_ABOVE 1.05

void usage_history_init(struct usage_history *u)
{
	histogram_init(&u->cpu, HISTOGRAM_CPU_BASE);
	histogram_init(&u->mem, HISTOGRAM_MEM_BASE);
	u->cpu_floor = u->cpu_floor_time = 0;
}

static bool known_value(bool known, double v)
{
	return known && isfinite(v) && v >= 0;
}

/* The memory limit an OOM kill happened at goes in with a heavy weight: the
 * peak that killed the container is not known, only that it was at least the
 * limit. */
static void observe_oom(struct usage_history *u, const struct observation *o, double now,
                        double weight, double half_life)
{
	double w = histogram_empty(&u->mem) ? weight : u->mem.total * OOM_SHARE;
	/* u->mem.total is relative to its reference: scale the new weight down to it. */
	if (!histogram_empty(&u->mem) && half_life > 0 && now > u->mem.ref)
		w /= exp2((now - u->mem.ref) / half_life);
	histogram_add(&u->mem, (double)o->mem_limit / (double)UNITS_MIB, w, now, half_life);
}

/* CPU use is capped at the limit while throttled, so its average understates
 * the demand. With a throttled share f of the interval, f of the weight goes
 * above the limit (demand was at least the limit then) and the rest at the
 * average of the unthrottled time: once throttling takes more than
 * 1 - cpu_percentile of the time, the percentile is above the limit and the
 * recommendation raises it. */
static void observe_cpu(struct usage_history *u, const struct observation *o, double now, double w,
                        double hl, double pct)
{
	double use = o->cpu_used, lim = o->cpu_limit;
	double f = known_value(o->cpu_throttled_known, o->cpu_throttled) ? o->cpu_throttled : 0;
	if (!(f > 0) || f > 1 || !o->cpu_limit_known || !(lim > 0)) {
		histogram_add(&u->cpu, use, w, now, hl);
		return;
	}
	if (f < 1)
		histogram_add(&u->cpu, fmax(0, (use - f * lim) / (1 - f)), w * (1 - f), now, hl);
	histogram_add(&u->cpu, lim * THROTTLED_ABOVE, w * f, now, hl);
	/* The 5-minute averages hide the bursts that throttle: once the limit is
	 * raised the evidence fades from the histogram, so it is kept apart. */
	bool expired = now - u->cpu_floor_time > RECOMMENDER_THROTTLE_MEMORY * hl;
	if (f > 1 - pct && (expired || lim * (1 + f) >= u->cpu_floor)) {
		u->cpu_floor = lim * (1 + f);
		u->cpu_floor_time = now;
	}
}

void recommender_observe(const struct rm_config *cfg, struct usage_history *u,
                         const struct observation *o, double now, double interval)
{
	double hl = cfg->recommender.half_life;
	double w = interval > 0 && isfinite(interval) ? interval : cfg->monitoring.check_interval;
	if (o->n_containers == 0 || !isfinite(now))
		return;
	if (o->oom_known && o->oom_kills > 0 && o->mem_limit_known && o->mem_limit > 0)
		observe_oom(u, o, now, w, hl);
	if (!o->uptime_known || o->uptime < cfg->thresholds.min_uptime)
		return;
	if (known_value(o->cpu_used_known, o->cpu_used))
		observe_cpu(u, o, now, w, hl, cfg->recommender.cpu_percentile);
	double peak = -1;
	if (o->mem_used_known)
		peak = (double)o->mem_used;
	if (o->mem_interval_peak_known && (double)o->mem_interval_peak > peak)
		peak = (double)o->mem_interval_peak;
	if (peak >= 0)
		histogram_add(&u->mem, peak / (double)UNITS_MIB, w, now, hl);
}

/* Fills one resource from its histogram; scale converts the histogram's unit
 * to the recommendation's (1 for cores, bytes per MiB for memory). */
static void recommend_one(const struct histogram *h, double pct, double margin, double widen,
                          double tolerance, double guard, double scale, struct rec_resource *r)
{
	*r = (struct rec_resource){ 0 };
	if (histogram_empty(h))
		return;
	r->known = true;
	r->samples = h->samples;
	r->percentile = histogram_percentile(h, pct) * scale;
	r->mean = histogram_mean(h) * scale;
	r->p50 = histogram_percentile(h, 0.5) * scale;
	r->p90 = histogram_percentile(h, 0.9) * scale;
	r->p99 = histogram_percentile(h, 0.99) * scale;
	r->max = histogram_percentile(h, 1.0) * scale;
	r->margin = margin * widen;
	r->target = r->percentile * (1 + r->margin);
	/* Too tight once the percentile reaches the limit (CPU: throttling
	 * beyond the percentile's share of time), or for memory once half the
	 * margin is gone: memory is raised before use reaches the limit. */
	r->lower = r->percentile * (1 + r->margin * guard);
	r->upper = r->target * (1 + tolerance);
}

void recommender_recommend(const struct rm_config *cfg, const struct usage_history *u,
                           struct recommendation *ret)
{
	double span = fmax(histogram_span(&u->cpu), histogram_span(&u->mem));
	double days = fmax(span / 86400.0, MIN_CONFIDENCE_DAYS);
	double widen = fmin(1 + CONFIDENCE_WIDEN / days, MAX_WIDEN);
	*ret = (struct recommendation){ .history = span, .confidence = span / 86400.0 };
	recommend_one(&u->cpu, cfg->recommender.cpu_percentile, cfg->recommender.cpu_margin, widen,
	              cfg->recommender.tolerance, 0, 1.0, &ret->cpu);
	double age = u->cpu.last - u->cpu_floor_time;
	if (ret->cpu.known && u->cpu_floor > 0 &&
	    age <= RECOMMENDER_THROTTLE_MEMORY * cfg->recommender.half_life) {
		ret->cpu.floor = u->cpu_floor;
		ret->cpu.floor_age = fmax(age, 0);
	}
	recommend_one(&u->mem, cfg->recommender.memory_percentile, cfg->recommender.memory_margin,
	              widen, cfg->recommender.tolerance, 0.5, (double)UNITS_MIB, &ret->mem);
}
