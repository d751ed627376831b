/* verify: the verdict of a watch after an applied change (see the header). */
#include "rm/verify.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rm/units.h"

static const char *const verdict_names[_VERIFY_VERDICT_MAX] = {
	[VERIFY_WATCHING] = "watching",
	[VERIFY_PASSED] = "passed",
	[VERIFY_REGRESSED] = "regressed",
};

static const char *const signal_names[_VERIFY_SIGNAL_MAX] = {
	[VERIFY_SIGNAL_NONE] = "none",
	[VERIFY_SIGNAL_OOM] = "oom_kill",
	[VERIFY_SIGNAL_RESTART] = "restart",
	[VERIFY_SIGNAL_HEALTH] = "health_check",
	[VERIFY_SIGNAL_THROTTLING] = "cpu_throttling",
};

const char *verify_verdict_to_string(enum verify_verdict v)
{
	return (unsigned)v < _VERIFY_VERDICT_MAX ? verdict_names[v] : "invalid";
}

int verify_verdict_from_string(const char *s)
{
	for (int i = 0; s && i < _VERIFY_VERDICT_MAX; i++)
		if (strcmp(verdict_names[i], s) == 0)
			return i;
	return -EINVAL;
}

const char *verify_signal_to_string(enum verify_signal s)
{
	return (unsigned)s < _VERIFY_SIGNAL_MAX ? signal_names[s] : "invalid";
}

void verify_begin(const struct rm_config *cfg, struct verify_watch *w, double now, double cpu_from,
                  double cpu_to, uint64_t mem_from, uint64_t mem_to,
                  const struct verify_signals *s0, bool throttled_before_known,
                  double throttled_before)
{
	*w = (struct verify_watch){
		.started = now,
		.until = now + cfg->adjustment.verify_window,
		.cpu_decreased = cpu_to > 0 && (cpu_from <= 0 || cpu_to < cpu_from - 1e-9),
		.mem_decreased = mem_to > 0 && (mem_from == 0 || mem_to < mem_from),
		.cpu_from = cpu_from,
		.cpu_to = cpu_to,
		.mem_from = mem_from,
		.mem_to = mem_to,
		.restarts0 = s0->restarts_known ? s0->restarts : 0,
		.ooms0 = s0->ooms_known ? s0->ooms : 0,
		.unhealthy0 = s0->health_known && s0->unhealthy,
		.throttled_before_known = throttled_before_known && isfinite(throttled_before),
		.throttled_before = throttled_before,
	};
}

/* "4m after 512 -> 384 MiB" into buf. */
static void fmt_change(const struct verify_watch *w, bool cpu, double now, char *buf, size_t len)
{
	char age[32];
	units_format_duration(fmax(0, now - w->started), age, sizeof(age));
	if (cpu)
		snprintf(buf, len, "%s after %.2f -> %.2f cores", age, w->cpu_from, w->cpu_to);
	else
		snprintf(buf, len, "%s after %llu -> %llu MiB", age,
		         (unsigned long long)(w->mem_from / UNITS_MIB),
		         (unsigned long long)(w->mem_to / UNITS_MIB));
}

static void regress(struct verify_result *r, enum verify_signal sig)
{
	r->verdict = VERIFY_REGRESSED;
	r->signal = sig;
}

void verify_step(const struct rm_config *cfg, struct verify_watch *w,
                 const struct verify_signals *s, double now, struct verify_result *ret)
{
	struct verify_result r = { .verdict = VERIFY_WATCHING };
	char chg[96];
	double target = cfg->thresholds.cpu_throttle_high;
	unsigned need = cfg->thresholds.consecutive_checks ? cfg->thresholds.consecutive_checks : 1;
	bool over = w->cpu_decreased && s->throttled_known && s->throttled > target &&
	            !(w->throttled_before_known && w->throttled_before >= s->throttled);
	w->throttled_run = over ? w->throttled_run + 1 : 0;
	w->checks++;
	if (w->mem_decreased && s->ooms_known && s->ooms > w->ooms0) {
		regress(&r, VERIFY_SIGNAL_OOM);
		fmt_change(w, false, now, chg, sizeof(chg));
		snprintf(r.why, sizeof(r.why), "%u OOM kill%s %s (none since the change began)",
		         s->ooms - w->ooms0, s->ooms - w->ooms0 == 1 ? "" : "s", chg);
	} else if (w->mem_decreased && s->restarts_known && s->restarts > w->restarts0) {
		regress(&r, VERIFY_SIGNAL_RESTART);
		fmt_change(w, false, now, chg, sizeof(chg));
		snprintf(r.why, sizeof(r.why), "%u restart%s %s (restart count %u -> %u)",
		         s->restarts - w->restarts0, s->restarts - w->restarts0 == 1 ? "" : "s",
		         chg, w->restarts0, s->restarts);
	} else if (s->health_known && s->unhealthy && !w->unhealthy0) {
		regress(&r, VERIFY_SIGNAL_HEALTH);
		bool cpu = w->cpu_to > 0 && fabs(w->cpu_to - w->cpu_from) > 1e-9;
		fmt_change(w, cpu, now, chg, sizeof(chg));
		snprintf(r.why, sizeof(r.why), "health check failing %s (healthy when it began)",
		         chg);
	} else if (over && w->throttled_run >= need) {
		regress(&r, VERIFY_SIGNAL_THROTTLING);
		fmt_change(w, true, now, chg, sizeof(chg));
		if (w->throttled_before_known)
			snprintf(r.why, sizeof(r.why),
			         "CPU throttled in %.1f%% of periods > %g%% for %u checks %s "
			         "(%.1f%% "
			         "before)",
			         s->throttled * 100, target * 100, w->throttled_run, chg,
			         w->throttled_before * 100);
		else
			snprintf(r.why, sizeof(r.why),
			         "CPU throttled in %.1f%% of periods > %g%% for %u checks %s",
			         s->throttled * 100, target * 100, w->throttled_run, chg);
	} else if (now >= w->until) {
		char win[32];
		r.verdict = VERIFY_PASSED;
		units_format_duration(w->until - w->started, win, sizeof(win));
		snprintf(r.why, sizeof(r.why),
		         "no OOM kill, restart, failing health check or throttling above %g%% in "
		         "%s (%u checks)",
		         target * 100, win, w->checks);
	}
	*ret = r;
}
