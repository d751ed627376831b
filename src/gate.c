/* gate: the route of a decision after the engine, drift and approval expiry (pure). */
#include "rm/gate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/units.h"

static const char *const route_names[_GATE_ROUTE_MAX] = { "none", "recommended", "dry_run",
	                                                  "approval", "deploy" };

const char *gate_route_to_string(enum gate_route r)
{
	return (int)r >= 0 && r < _GATE_ROUTE_MAX ? route_names[r] : "unknown";
}

enum gate_route gate_route(const struct gate_mode *m, const struct engine_decision *dec)
{
	if (!engine_decision_changes(dec))
		return GATE_NONE;
	if (!m->automation_enabled || m->paused)
		return GATE_RECOMMEND;
	if (m->dry_run)
		return GATE_DRY_RUN;
	if (m->manual_approval)
		return GATE_APPROVAL;
	return GATE_DEPLOY;
}

bool gate_reapply_drift(const struct gate_mode *m, bool reapply_on_drift)
{
	return reapply_on_drift && m->automation_enabled && !m->paused && !m->dry_run;
}

int gate_check_drift(const struct state_service *ss, const struct observation *o, bool deploying,
                     double now, double check_interval, struct engine_decision *ret_dec)
{
	if (!ss || !ss->applied.known || deploying || !o->cpu_limit_known || !o->mem_limit_known)
		return -1;
	if (now - ss->engine.last_change < 2 * check_interval)
		return -1;
	bool cpu_drift = ss->applied.cpu > 0 && fabs(o->cpu_limit - ss->applied.cpu) > 0.011;
	bool mem_drift = ss->applied.memory > 0 &&
	                 llabs((long long)o->mem_limit - (long long)ss->applied.memory) >
	                         (long long)UNITS_MIB;
	if (!cpu_drift && !mem_drift)
		return 0;
	struct engine_decision dec = { .reason = ENGINE_REASON_NONE };
	dec.cpu_from = o->cpu_limit;
	dec.cpu_to = ss->applied.cpu;
	dec.change_cpu = cpu_drift;
	dec.mem_from = o->mem_limit;
	dec.mem_to = ss->applied.memory;
	dec.change_mem = mem_drift;
	snprintf(dec.explanation, sizeof(dec.explanation),
	         "drift: running limits %.2f cores / %llu MiB differ from the managed %.2f cores "
	         "/ %llu MiB",
	         o->cpu_limit, (unsigned long long)(o->mem_limit / UNITS_MIB), ss->applied.cpu,
	         (unsigned long long)(ss->applied.memory / UNITS_MIB));
	*ret_dec = dec;
	return 1;
}

bool gate_pending_expired(const struct state_pending *p, double now)
{
	return p->expires > 0 && now >= p->expires;
}

bool gate_pending_same(const struct state_pending *p, const struct engine_decision *dec)
{
	double cpu = dec->change_cpu ? dec->cpu_to : dec->cpu_from;
	uint64_t mem = dec->change_mem ? dec->mem_to : dec->mem_from;
	return p && p->to.cpu == cpu && p->to.memory == mem;
}

void gate_pending_decision(const struct state_pending *p, struct engine_decision *ret_dec)
{
	struct engine_decision *dec = ret_dec;
	memset(dec, 0, sizeof(*dec));
	int r = p->reason ? engine_reason_from_string(p->reason) : -1;
	dec->reason = r < 0 ? ENGINE_REASON_NONE : (enum engine_reason)r;
	dec->cpu_from = p->from.cpu;
	dec->cpu_to = p->to.cpu;
	dec->change_cpu = fabs(p->to.cpu - p->from.cpu) >= 0.005;
	dec->mem_from = p->from.memory;
	dec->mem_to = p->to.memory;
	dec->change_mem = p->to.memory != p->from.memory;
	snprintf(dec->explanation, sizeof(dec->explanation), "%s",
	         p->explanation ? p->explanation : "approved change");
}
