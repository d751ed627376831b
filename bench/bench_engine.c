/* bench_engine: decision throughput of the pure engine on synthetic
 * observations. S services with a mix of profiles (steady, CPU high and low,
 * memory high and low, throttled, unknown data, young, OOM) are decided for C
 * checks 300 s apart; a change is recorded as applied and the service's
 * limits follow it, as they would after a deployment. Only engine_decide and
 * engine_apply_result are timed; the observations are generated outside the
 * timed part.
 *
 *   bench_engine [--services S] [--checks C] [--runs R]
 *
 * Prints one key=value line: CPU ns per decision (thread CPU time) and
 * decisions per second (median, min and max over R runs), wall ns per
 * decision beside it, and the mix of reasons of one run. Under
 * valgrind --tool=callgrind --toggle-collect=engine_decide the instruction
 * count divided by `decisions_total` is the cost of one decision. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"
#include "rm/config.h"
#include "rm/engine.h"
#include "rm/util.h"

#define MIB      (1024.0 * 1024.0)
#define START    1767225600.0 /* 2026-01-01T00:00:00Z */
#define INTERVAL 300.0
#define MAX_RUNS 100

enum profile {
	P_STEADY,
	P_CPU_HIGH,
	P_CPU_LOW,
	P_MEM_HIGH,
	P_MEM_LOW,
	P_THROTTLED,
	P_UNKNOWN,
	P_YOUNG_OOM,
	_P_MAX,
};

struct svc {
	enum profile profile;
	double cpu_limit, cpu_use; /* cores */
	double mem_limit, mem_use; /* bytes */
	struct engine_policy policy;
	struct engine_state state;
};

static uint64_t rng_state;

/* xorshift64*: the same sequence on every machine. */
static double rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ull) >> 11) * 0x1.0p-53;
}

static void svcs_init(struct svc *s, size_t n, const struct rm_config *cfg)
{
	rng_state = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < n; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].profile = (enum profile)(i % _P_MAX);
		s[i].cpu_limit = 0.5 * (double)(1 + i % 4);
		s[i].mem_limit = (double)(128u << (i % 4)) * MIB;
		double cpu_share = s[i].profile == P_CPU_HIGH  ? 0.92
		                   : s[i].profile == P_CPU_LOW ? 0.1
		                                               : 0.5;
		double mem_share = s[i].profile == P_MEM_HIGH  ? 0.9
		                   : s[i].profile == P_MEM_LOW ? 0.1
		                                               : 0.5;
		s[i].cpu_use = cpu_share * s[i].cpu_limit;
		s[i].mem_use = mem_share * s[i].mem_limit;
		char name[32];
		snprintf(name, sizeof(name), "svc-%05zu", i);
		engine_policy_for(cfg, name, &s[i].policy);
	}
}

/* One service's observation at check k: its usage with +-10 % noise. */
static void observe(const struct svc *s, unsigned k, double now, struct observation *o)
{
	memset(o, 0, sizeof(*o));
	o->time = now;
	o->n_containers = 1;
	double noise = 0.9 + 0.2 * rnd();
	o->cpu_used_known = o->cpu_trend_known = o->cpu_limit_known = true;
	o->cpu_used = s->cpu_use * noise;
	o->cpu_trend = s->cpu_use;
	o->cpu_limit = s->cpu_limit;
	o->cpu_throttled_known = true;
	o->cpu_throttled = s->profile == P_THROTTLED ? 0.4 : 0.01;
	o->mem_used_known = o->mem_peak_known = o->mem_limit_known = true;
	o->mem_used = (uint64_t)(s->mem_use * noise);
	o->mem_peak = (uint64_t)(s->mem_use * 1.05);
	o->mem_limit = (uint64_t)s->mem_limit;
	o->uptime_known = o->oom_known = true;
	o->uptime = 86400 + k * INTERVAL;
	if (s->profile == P_UNKNOWN && k % 2) {
		o->mem_used_known = false;
		snprintf(o->unknown_reason, sizeof(o->unknown_reason), "no memory series for svc");
	}
	if (s->profile == P_YOUNG_OOM) {
		o->uptime = (k % 4) * 200.0;
		o->oom_kills = k % 4 == 0;
	}
}

/* Follows an applied change, as the next observation would see it. */
static void follow(struct svc *s, const struct engine_decision *d)
{
	if (d->change_cpu)
		s->cpu_limit = d->cpu_to;
	if (d->change_mem)
		s->mem_limit = (double)d->mem_to;
}

/* One run: every check of every service. Returns the CPU seconds spent
 * deciding and adds the wall seconds to *wall; fills the reason counts when
 * counts is non-NULL. */
static double run_once(const struct rm_config *cfg, struct svc *s, size_t n, unsigned checks,
                       struct observation *obs, size_t *counts, double *wall)
{
	svcs_init(s, n, cfg);
	double spent = 0;
	for (unsigned k = 0; k < checks; k++) {
		double now = START + k * INTERVAL;
		int32_t day = (int32_t)(now / 86400);
		for (size_t i = 0; i < n; i++)
			observe(&s[i], k, now, &obs[i]);
		double t0 = bench_thread_cpu_now(), w0 = bench_wall_now();
		for (size_t i = 0; i < n; i++) {
			struct engine_input in = { .cfg = cfg,
				                   .policy = &s[i].policy,
				                   .obs = &obs[i],
				                   .now = now,
				                   .day = day };
			struct engine_decision d;
			engine_decide(&in, &s[i].state, &s[i].state, &d);
			if (engine_decision_changes(&d)) {
				engine_apply_result(cfg, &s[i].state, &d, true, now, day);
				follow(&s[i], &d);
			}
			if (counts)
				counts[d.reason]++;
		}
		spent += bench_thread_cpu_now() - t0;
		*wall += bench_wall_now() - w0;
	}
	return spent;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "services", required_argument, NULL, 's' },
		{ "checks", required_argument, NULL, 'c' },
		{ "runs", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	size_t n = 1000;
	unsigned checks = 200, runs = 5;
	int c;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			checks = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			runs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
			        "usage: bench_engine [--services S] [--checks C] [--runs R]\n");
			return 2;
		}
	}
	if (n == 0 || checks == 0 || runs == 0 || runs > MAX_RUNS) {
		fprintf(stderr,
		        "bench_engine: services, checks and runs must be > 0 (runs <= %d)\n",
		        MAX_RUNS);
		return 2;
	}
	struct rm_config *cfg = config_new_default();
	struct svc *s = xcalloc(n, sizeof(*s));
	struct observation *obs = xcalloc(n, sizeof(*obs));
	size_t counts[_ENGINE_REASON_MAX] = { 0 };
	double ns[MAX_RUNS], wall_ns[MAX_RUNS];
	double decisions = (double)n * checks;
	for (unsigned r = 0; r < runs; r++) {
		double wall = 0;
		ns[r] = run_once(cfg, s, n, checks, obs, r == 0 ? counts : NULL, &wall) /
		        decisions * 1e9;
		wall_ns[r] = wall / decisions * 1e9;
	}
	struct bench_spread sp = bench_spread_of(ns, runs);
	struct bench_spread wp = bench_spread_of(wall_ns, runs);
	printf("services=%zu checks=%u runs=%u decisions_total=%.0f ns_per_decision_med=%.1f "
	       "ns_per_decision_min=%.1f ns_per_decision_max=%.1f decisions_per_s_med=%.0f "
	       "wall_ns_per_decision_med=%.1f wall_ns_per_decision_min=%.1f "
	       "wall_ns_per_decision_max=%.1f",
	       n, checks, runs, decisions * runs, sp.med, sp.min, sp.max, 1e9 / sp.med, wp.med,
	       wp.min, wp.max);
	printf(" mix=");
	const char *sep = "";
	for (int i = 0; i < _ENGINE_REASON_MAX; i++) {
		if (!counts[i])
			continue;
		printf("%s%s:%zu", sep, engine_reason_to_string(i), counts[i]);
		sep = ",";
	}
	printf("\n");
	free(obs);
	free(s);
	config_free(cfg);
	return 0;
}
