/* tracegen: writes a synthetic usage trace in simulate's CSV format (with the
 * cpu_demand column), one service per workload family, deterministic for a
 * seed; input of the recommender benchmark (bench/recommender.sh).
 *
 *   tracegen --seed N [--days 14] [--step 30] [--family NAME]... [--out FILE]
 *            [--describe]
 *
 * Every family's parameters (baselines, amplitudes, phases, periods, growth)
 * are drawn from the seed, each family from its own random stream, so a
 * family's rows do not depend on which other families are selected. Noise is
 * multiplicative lognormal with AR(1) memory in log space (bursts last
 * minutes). The initial limits are what a user would set by hand: 2-4x the
 * peak, tight for memory on `oomer` and for CPU on `throttled`. --describe
 * prints percentiles per service instead of the trace. Bad arguments: a
 * message and exit 2. The figures depend on libm (exp, log, cos, pow): the
 * same seed gives the same bytes on the same machine. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/util.h"

#define MIB         (1024.0 * 1024.0)
#define HOUR        3600.0
#define DAY         86400.0
#define TWO_PI      6.283185307179586
#define EXIT_USAGE  2
#define MAX_DAYS    366
#define MAX_SAMPLES 4000000                /* per service: 16 bytes each */
#define START       "2026-01-05T00:00:00Z" /* a Monday */
#define MAX_CPU     4.0                    /* most limits set by hand stay within a small host */
#define MAX_MEM     (8192.0 * MIB)         /* the default adjustment.max_memory */

/* xoshiro256** seeded through splitmix64: the same numbers everywhere. */
struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1). */
static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static double rng_range(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_unit(r);
}

/* Standard normal (Box-Muller; the second value is not kept). */
static double rng_normal(struct rng *r)
{
	double u = 1.0 - rng_unit(r); /* (0, 1]: log(u) is finite */
	return sqrt(-2.0 * log(u)) * cos(TWO_PI * rng_unit(r));
}

/* Pareto with scale xm and shape alpha, by inversion. */
static double rng_pareto(struct rng *r, double xm, double alpha)
{
	return xm / pow(1.0 - rng_unit(r), 1.0 / alpha);
}

/* Multiplicative noise of mean 1: lognormal with log-sigma sigma, AR(1) in
 * log space with correlation time tau seconds. */
struct noise {
	double x, phi, sigma;
};

static void noise_init(struct noise *n, struct rng *r, double sigma, double tau, double step)
{
	n->phi = exp(-step / tau);
	n->sigma = sigma;
	n->x = sigma * rng_normal(r);
}

static double noise_next(struct noise *n, struct rng *r)
{
	n->x = n->phi * n->x + sqrt(1.0 - n->phi * n->phi) * n->sigma * rng_normal(r);
	return exp(n->x - n->sigma * n->sigma / 2.0);
}

static double round_up(double v, double unit)
{
	return ceil(v / unit - 1e-9) * unit;
}

/* Daily curve: 1 at the peak hour, 0 twelve hours away, low all night. */
static double diurnal(double hour, double peak)
{
	double d = 0.5 * (1.0 + cos(TWO_PI * (hour - peak) / 24.0));
	return pow(d, 1.5);
}

/* The time of a sample: t=0 is a Monday 00:00 UTC. */
struct when {
	double t, hour;
	bool weekend;
};

struct svc;

struct family {
	const char *name;
	void (*init)(struct svc *s);
	/* Demand at w: CPU in cores, memory in bytes. */
	void (*sample)(struct svc *s, const struct when *w, double *cpu, double *mem);
	/* Optional, after the generic limits: adjusts the series or the limits. */
	void (*finish)(struct svc *s);
};

/* One service: its family's parameters and state, its series, its limits. */
struct svc {
	const struct family *fam;
	struct rng rng;
	struct noise cpu_noise, mem_noise;
	double step, duration; /* seconds */
	/* Parameters most families share. */
	double cpu_base, cpu_amp, peak, weekend; /* cores, hour, factor */
	double mem_base, mem_amp;                /* bytes, share */
	/* An episode (burst, spike, job, backup...) runs until `until`. */
	double until, size, mem_size;
	/* Family-specific parameters and state. */
	double rate, len, at, factor, next, last, level, cap, alpha;
	double *cpu, *mem; /* owned: demand per sample, cores and bytes */
	size_t n;
	double cpu_limit, mem_limit; /* cores, bytes */
};

/* Starts an episode at t with probability per_hour * step / 3600 when none runs. */
static bool episode_starts(struct svc *s, double t, double per_hour)
{
	return t >= s->until && rng_unit(&s->rng) < per_hour * s->step / HOUR;
}

static double load_day(const struct svc *s, const struct when *w)
{
	return w->weekend ? s->weekend : 1.0;
}

/* web: diurnal frontend (Traefik, a web app): base + amplitude x daily
 * curve, lighter weekends, short bursts; memory steady with a cache swing. */
static void web_init(struct svc *s)
{
	struct rng *r = &s->rng;
	s->cpu_base = rng_range(r, 0.04, 0.10);
	s->cpu_amp = rng_range(r, 0.35, 0.80);
	s->peak = rng_range(r, 13, 17);
	s->weekend = rng_range(r, 0.5, 0.7);
	s->rate = rng_range(r, 1, 3); /* bursts per hour */
	s->mem_base = rng_range(r, 300, 520) * MIB;
	s->mem_amp = rng_range(r, 0.04, 0.12);
	noise_init(&s->cpu_noise, r, rng_range(r, 0.12, 0.25), rng_range(r, 90, 300), s->step);
	noise_init(&s->mem_noise, r, rng_range(r, 0.01, 0.03), 1800, s->step);
}

static void web_sample(struct svc *s, const struct when *w, double *cpu, double *mem)
{
	struct rng *r = &s->rng;
	double d = diurnal(w->hour, s->peak), load = load_day(s, w);
	if (episode_starts(s, w->t, s->rate)) {
		s->until = w->t + rng_range(r, 30, 120);
		s->size = s->cpu_amp * rng_range(r, 0.5, 1.2);
	}
	*cpu = (s->cpu_base + s->cpu_amp * d * load) * noise_next(&s->cpu_noise, r);
	if (w->t < s->until)
		*cpu += s->size;
	*mem = s->mem_base * (1.0 + s->mem_amp * d * load) * noise_next(&s->mem_noise, r);
}

/* api: bursty API: low base, Pareto-sized spikes (capped) of 30 s to 3 min,
 * a few per hour; memory steady with request-driven bumps. */
static void api_init(struct svc *s)
{
	struct rng *r = &s->rng;
	s->cpu_base = rng_range(r, 0.03, 0.07);
	s->peak = rng_range(r, 11, 16);
	s->weekend = rng_range(r, 0.6, 0.8);
	s->rate = rng_range(r, 2, 6);
	s->level = rng_range(r, 0.15, 0.30); /* Pareto scale, cores */
	s->alpha = rng_range(r, 1.3, 1.7);
	s->cap = rng_range(r, 1.5, 2.5);
	s->mem_base = rng_range(r, 180, 320) * MIB;
	s->mem_amp = rng_range(r, 20, 60) * MIB; /* per core of spike */
	noise_init(&s->cpu_noise, r, rng_range(r, 0.15, 0.30), rng_range(r, 60, 180), s->step);
	noise_init(&s->mem_noise, r, rng_range(r, 0.01, 0.03), 900, s->step);
}

static void api_sample(struct svc *s, const struct when *w, double *cpu, double *mem)
{
	struct rng *r = &s->rng;
	double d = diurnal(w->hour, s->peak), load = load_day(s, w);
	if (episode_starts(s, w->t, s->rate * (0.5 + d) * load)) {
		s->until = w->t + rng_range(r, 30, 180);
		s->size = fmin(rng_pareto(r, s->level, s->alpha), s->cap);
	}
	*cpu = s->cpu_base * (1.0 + d * load) * noise_next(&s->cpu_noise, r);
	*mem = s->mem_base * noise_next(&s->mem_noise, r);
	if (w->t < s->until) {
		*cpu += s->size * rng_range(r, 0.8, 1.2);
		*mem += s->size * s->mem_amp;
	}
}

/* cron: hourly job (backups, feeds, a scraper): idle, then a 1-2 core burst
 * of 2-5 min at the top of every hour with its memory. */
static void cron_init(struct svc *s)
{
	struct rng *r = &s->rng;
	s->cpu_base = rng_range(r, 0.015, 0.025);
	s->level = rng_range(r, 1.1, 1.8); /* cores during the job */
	s->len = rng_range(r, 150, 270);   /* seconds, jittered per run */
	s->mem_base = rng_range(r, 40, 60) * MIB;
	s->mem_amp = rng_range(r, 260, 380) * MIB; /* memory during the job */
	noise_init(&s->cpu_noise, r, rng_range(r, 0.10, 0.20), rng_range(r, 60, 180), s->step);
	noise_init(&s->mem_noise, r, rng_range(r, 0.01, 0.03), 600, s->step);
}

static void cron_sample(struct svc *s, const struct when *w, double *cpu, double *mem)
{
	struct rng *r = &s->rng;
	double sec = fmod(w->t, HOUR);
	if (sec < s->step) { /* first sample of the hour: this run's shape */
		s->until = w->t - sec + fmin(300, fmax(120, s->len * rng_range(r, 0.8, 1.2)));
		s->size = fmin(2.0, fmax(1.0, s->level * rng_range(r, 0.85, 1.15)));
		s->mem_size = s->mem_amp * rng_range(r, 0.95, 1.05);
	}
	double n = noise_next(&s->cpu_noise, r), m = noise_next(&s->mem_noise, r);
	if (w->t < s->until) {
		*cpu = fmin(2.0, s->size * fmin(1.1, fmax(0.9, n))); /* a job runs flat out */
		*mem = (s->mem_base +
		        (s->mem_size - s->mem_base) * fmin(1.0, (sec + s->step) / 60)) *
		       m;
	} else {
		*cpu = s->cpu_base * n;
		*mem = s->mem_base * m;
	}
}

/* jvm: a JVM service (Keycloak, a Spring app): the heap grows in steps to a
 * plateau over hours, a GC sawtooth inside it, GC CPU spikes; a weekly
 * restart resets the heap, with a JIT warm-up. */
static void jvm_init(struct svc *s)
{
	struct rng *r = &s->rng;
	s->cpu_base = rng_range(r, 0.15, 0.35);
	s->cpu_amp = rng_range(r, 0.10, 0.30);
	s->peak = rng_range(r, 10, 16);
	s->weekend = rng_range(r, 0.6, 0.8);
	s->mem_base = rng_range(r, 120, 220) * MIB;             /* off-heap */
	s->size = rng_range(r, 128, 256) * MIB;                 /* initial heap */
	s->cap = rng_range(r, 768, 1536) * MIB;                 /* heap plateau */
	s->mem_size = (s->cap - s->size) / rng_range(r, 6, 12); /* heap step */
	s->len = rng_range(r, 40, 100) * 60;                    /* mean time between steps */
	s->rate = rng_range(r, 120, 480);                       /* GC period, seconds */
	s->mem_amp = rng_range(r, 0.15, 0.35);                  /* sawtooth share of the heap */
	s->factor = rng_range(r, 0.4, 1.0);                     /* GC CPU spike, cores */
	s->alpha = rng_range(r, 1.0, 2.0);                      /* warm-up CPU, cores */
	s->at = floor(rng_range(r, 2, 7)) * DAY + rng_range(r, 2, 5) * HOUR; /* restart */
	s->level = s->cap; /* committed heap: up for days at t=0 */
	s->last = -7 * DAY;
	s->next = INFINITY;
	noise_init(&s->cpu_noise, r, rng_range(r, 0.10, 0.25), rng_range(r, 120, 300), s->step);
	noise_init(&s->mem_noise, r, rng_range(r, 0.005, 0.015), 600, s->step);
}

static void jvm_sample(struct svc *s, const struct when *w, double *cpu, double *mem)
{
	struct rng *r = &s->rng;
	if (w->t >= s->at) {
		s->level = s->size;
		s->last = w->t;
		s->at += 7 * DAY;
		s->next = w->t + s->len * rng_range(r, 0.5, 1.5);
	}
	if (w->t >= s->next) {
		s->level = fmin(s->cap, s->level + s->mem_size);
		s->next = s->level < s->cap ? w->t + s->len * rng_range(r, 0.5, 1.5) : INFINITY;
	}
	double age = w->t - s->last, saw = fmod(age, s->rate) / s->rate;
	double fill = 1.0 - s->mem_amp + s->mem_amp * saw;
	*mem = (s->mem_base + s->level * fill) * noise_next(&s->mem_noise, r);
	*cpu = (s->cpu_base + s->cpu_amp * diurnal(w->hour, s->peak) * load_day(s, w)) *
	       noise_next(&s->cpu_noise, r);
	if (saw < s->step / s->rate) /* a collection happened in this sample */
		*cpu += s->factor * s->level / s->cap;
	if (age < 150)
		*cpu += s->alpha;
}

/* leak: a worker leaking memory from ~200 MiB by 300-800 MiB a day,
 * restarted by an external job every 1-3 days; CPU low and steady. */
static void leak_init(struct svc *s)
{
	struct rng *r = &s->rng;
	s->cpu_base = rng_range(r, 0.05, 0.15);
	s->mem_base = rng_range(r, 180, 220) * MIB;
	s->rate = rng_range(r, 300, 800) * MIB / DAY; /* bytes per second */
	s->last = -rng_range(r, 0, 1) * DAY;          /* up for a while at t=0 */
	s->next = s->last + rng_range(r, 1, 3) * DAY;
	noise_init(&s->cpu_noise, r, rng_range(r, 0.10, 0.20), rng_range(r, 60, 240), s->step);
	noise_init(&s->mem_noise, r, rng_range(r, 0.005, 0.015), 600, s->step);
}

static void leak_sample(struct svc *s, const struct when *w, double *cpu, double *mem)
{
	struct rng *r = &s->rng;
	if (w->t >= s->next) {
		s->last = w->t;
		s->next = w->t + rng_range(r, 1, 3) * DAY;
	}
	*cpu = s->cpu_base * noise_next(&s->cpu_noise, r);
	*mem = (s->mem_base + s->rate * (w->t - s->last)) * noise_next(&s->mem_noise, r);
}

/* db: a growing database (Postgres): the buffer cache grows 20-40 % over 14
 * days; CPU diurnal with a nightly backup/vacuum of 30-60 min. */
static void db_init(struct svc *s)
{
	struct rng *r = &s->rng;
	s->cpu_base = rng_range(r, 0.05, 0.12);
	s->cpu_amp = rng_range(r, 0.15, 0.40);
	s->peak = rng_range(r, 12, 16);
	s->weekend = rng_range(r, 0.6, 0.8);
	s->mem_base = rng_range(r, 400, 800) * MIB;
	s->rate = rng_range(r, 0.20, 0.40) / (14 * DAY); /* growth per second */
	s->at = rng_range(r, 1, 4) * HOUR;               /* backup start, local */
	s->len = rng_range(r, 30, 60) * 60;
	s->level = rng_range(r, 0.6, 1.2);         /* backup CPU, cores */
	s->mem_size = rng_range(r, 64, 160) * MIB; /* backup memory */
	noise_init(&s->cpu_noise, r, rng_range(r, 0.10, 0.25), rng_range(r, 120, 400), s->step);
	noise_init(&s->mem_noise, r, rng_range(r, 0.005, 0.015), 1800, s->step);
}

static void db_sample(struct svc *s, const struct when *w, double *cpu, double *mem)
{
	struct rng *r = &s->rng;
	bool backup = fmod(w->t - s->at + DAY, DAY) < s->len;
	double n = noise_next(&s->cpu_noise, r);
	*cpu = (s->cpu_base + s->cpu_amp * diurnal(w->hour, s->peak) * load_day(s, w)) * n;
	*mem = s->mem_base * (1.0 + s->rate * w->t) * noise_next(&s->mem_noise, r);
	if (backup) {
		*cpu += s->level * n;
		*mem += s->mem_size;
	}
}

/* sidecar: an idle sidecar (an exporter, a log shipper): 5 millicores,
 * 15-30 MiB flat. */
static void sidecar_init(struct svc *s)
{
	struct rng *r = &s->rng;
	s->cpu_base = rng_range(r, 0.004, 0.006);
	s->mem_base = rng_range(r, 15, 30) * MIB;
	noise_init(&s->cpu_noise, r, rng_range(r, 0.10, 0.20), rng_range(r, 60, 300), s->step);
	noise_init(&s->mem_noise, r, rng_range(r, 0.005, 0.01), 1800, s->step);
}

static void sidecar_sample(struct svc *s, const struct when *w, double *cpu, double *mem)
{
	*cpu = s->cpu_base * noise_next(&s->cpu_noise, &s->rng);
	*mem = s->mem_base * noise_next(&s->mem_noise, &s->rng);
}

/* The limits a compose file often carries for a sidecar. */
static void sidecar_finish(struct svc *s)
{
	s->cpu_limit = 1.0;
	s->mem_limit = 512 * MIB;
}

/* step: diurnal like web, and at a random moment of days 4-9 (of 14; scaled
 * to --days) the traffic doubles for good: CPU x2, memory +30-50 %. */
static void step_init(struct svc *s)
{
	struct rng *r = &s->rng;
	s->cpu_base = rng_range(r, 0.04, 0.08);
	s->cpu_amp = rng_range(r, 0.25, 0.50);
	s->peak = rng_range(r, 12, 17);
	s->weekend = rng_range(r, 0.5, 0.7);
	s->mem_base = rng_range(r, 250, 450) * MIB;
	s->mem_amp = rng_range(r, 0.04, 0.10);
	s->at = s->duration * rng_range(r, 4, 9) / 14;
	s->factor = rng_range(r, 1.3, 1.5);
	noise_init(&s->cpu_noise, r, rng_range(r, 0.12, 0.25), rng_range(r, 90, 300), s->step);
	noise_init(&s->mem_noise, r, rng_range(r, 0.01, 0.03), 1800, s->step);
}

static void step_sample(struct svc *s, const struct when *w, double *cpu, double *mem)
{
	struct rng *r = &s->rng;
	double d = diurnal(w->hour, s->peak), load = load_day(s, w);
	bool after = w->t >= s->at;
	*cpu = (s->cpu_base + s->cpu_amp * d * load) * noise_next(&s->cpu_noise, r);
	*mem = s->mem_base * (1.0 + s->mem_amp * d * load) * noise_next(&s->mem_noise, r);
	if (after) {
		*cpu *= 2.0;
		*mem *= s->factor;
	}
}

/* oomer: a steady service (a reporting app) whose memory goes once to
 * 1.3-1.8x its usual maximum for 2-10 min (a big report or import), above
 * its tight initial limit. oomer_finish sets the excursion and the limit. */
static void oomer_init(struct svc *s)
{
	struct rng *r = &s->rng;
	s->cpu_base = rng_range(r, 0.15, 0.35);
	s->peak = rng_range(r, 10, 16);
	s->weekend = rng_range(r, 0.7, 0.9);
	s->mem_base = rng_range(r, 300, 500) * MIB;
	s->mem_amp = rng_range(r, 0.03, 0.08);
	s->at = floor(s->duration * rng_range(r, 0.15, 0.9) / s->step) * s->step;
	s->len = rng_range(r, 120, 600);
	s->factor = rng_range(r, 1.3, 1.8);
	s->level = rng_range(r, 0.5, 1.0); /* CPU of the report, cores */
	noise_init(&s->cpu_noise, r, rng_range(r, 0.10, 0.20), rng_range(r, 60, 240), s->step);
	noise_init(&s->mem_noise, r, rng_range(r, 0.01, 0.02), 1200, s->step);
}

static void oomer_sample(struct svc *s, const struct when *w, double *cpu, double *mem)
{
	struct rng *r = &s->rng;
	double d = diurnal(w->hour, s->peak) * load_day(s, w);
	*cpu = s->cpu_base * (1.0 + 0.3 * d) * noise_next(&s->cpu_noise, r);
	*mem = s->mem_base * (1.0 + s->mem_amp * d) * noise_next(&s->mem_noise, r);
	if (w->t >= s->at && w->t < s->at + s->len)
		*cpu += s->level;
}

static bool oomer_in_spike(const struct svc *s, size_t k)
{
	double t = (double)k * s->step;
	return t >= s->at && t < s->at + s->len;
}

/* Memory limit 1.1-1.2x the usual maximum: the excursion goes above it. */
static void oomer_finish(struct svc *s)
{
	double usual = 0;
	for (size_t k = 0; k < s->n; k++)
		if (!oomer_in_spike(s, k))
			usual = fmax(usual, s->mem[k]);
	for (size_t k = 0; k < s->n; k++)
		if (oomer_in_spike(s, k))
			s->mem[k] = usual * s->factor * rng_range(&s->rng, 1.0, 1.03);
	s->mem_limit = round_up(usual * rng_range(&s->rng, 1.1, 1.2), 16 * MIB);
}

/* throttled: CPU demand of 0.6-1.0 cores with a diurnal swing, above its
 * hand-set 0.5-core limit most of the day. */
static void throttled_init(struct svc *s)
{
	struct rng *r = &s->rng;
	s->cpu_base = rng_range(r, 0.62, 0.72);
	s->cpu_amp = rng_range(r, 0.85, 1.0) - s->cpu_base;
	s->peak = rng_range(r, 12, 17);
	s->weekend = rng_range(r, 0.85, 0.95);
	s->mem_base = rng_range(r, 150, 250) * MIB;
	noise_init(&s->cpu_noise, r, rng_range(r, 0.10, 0.15), rng_range(r, 120, 300), s->step);
	noise_init(&s->mem_noise, r, rng_range(r, 0.01, 0.02), 1200, s->step);
}

static void throttled_sample(struct svc *s, const struct when *w, double *cpu, double *mem)
{
	struct rng *r = &s->rng;
	double d = diurnal(w->hour, s->peak);
	*cpu = (s->cpu_base + s->cpu_amp * d) * load_day(s, w) * noise_next(&s->cpu_noise, r);
	*mem = s->mem_base * noise_next(&s->mem_noise, r);
}

static void throttled_finish(struct svc *s)
{
	s->cpu_limit = 0.5;
}

/* The families, in the order of the trace's services. */
static const struct family families[] = {
	{ "web", web_init, web_sample, NULL },
	{ "api", api_init, api_sample, NULL },
	{ "cron", cron_init, cron_sample, NULL },
	{ "jvm", jvm_init, jvm_sample, NULL },
	{ "leak", leak_init, leak_sample, NULL },
	{ "db", db_init, db_sample, NULL },
	{ "sidecar", sidecar_init, sidecar_sample, sidecar_finish },
	{ "step", step_init, step_sample, NULL },
	{ "oomer", oomer_init, oomer_sample, oomer_finish },
	{ "throttled", throttled_init, throttled_sample, throttled_finish },
};
#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

/* Limits set by hand: 2-4x the peak, CPU within a small host, memory within
 * the default bounds (families with other limits change them afterwards). */
static void svc_limits(struct svc *s)
{
	double cpu_peak = 0, mem_peak = 0;
	for (size_t k = 0; k < s->n; k++) {
		cpu_peak = fmax(cpu_peak, s->cpu[k]);
		mem_peak = fmax(mem_peak, s->mem[k]);
	}
	s->cpu_limit = fmin(MAX_CPU, round_up(cpu_peak * rng_range(&s->rng, 2, 4), 0.25));
	s->mem_limit = fmin(MAX_MEM, round_up(mem_peak * rng_range(&s->rng, 2, 4), 64 * MIB));
}

/* A stream per family: seed and name hashed (FNV-1a) together. */
static uint64_t family_seed(uint64_t seed, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	uint64_t x = seed ^ h;
	return splitmix64(&x);
}

/* Generates the whole series of s (n samples, step seconds apart). */
static void svc_generate(struct svc *s, const struct family *fam, uint64_t seed, size_t n,
                         double step)
{
	memset(s, 0, sizeof(*s));
	s->fam = fam;
	s->step = step;
	s->n = n;
	s->duration = (double)n * step;
	s->cpu = xcalloc(n, sizeof(double));
	s->mem = xcalloc(n, sizeof(double));
	rng_seed(&s->rng, family_seed(seed, fam->name));
	fam->init(s);
	for (size_t k = 0; k < n; k++) {
		struct when w = { .t = (double)k * step };
		double day = floor(w.t / DAY);
		w.hour = (w.t - day * DAY) / HOUR;
		w.weekend = (long)day % 7 >= 5;
		double cpu, mem;
		fam->sample(s, &w, &cpu, &mem);
		s->cpu[k] = fmax(cpu, 0.001);
		s->mem[k] = fmax(mem, MIB);
	}
	svc_limits(s);
	if (fam->finish)
		fam->finish(s);
}

struct opts {
	uint64_t seed;
	bool has_seed, describe;
	unsigned days, step;
	bool want[N_FAMILIES];
	const char *out;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tracegen --seed N [--days 14] [--step 30] [--family NAME]... "
	           "[--out FILE] [--describe]\nfamilies:");
	for (size_t i = 0; i < N_FAMILIES; i++)
		fprintf(f, " %s", families[i].name);
	fprintf(f, "\n");
}

/* Parses a whole decimal number in [min, max]. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	char *end;
	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int bad_arg(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "tracegen: %s '%s': expected %s; nothing written (see --help)\n", opt, val,
	        want);
	return -EINVAL;
}

static int parse_family(struct opts *o, const char *name)
{
	for (size_t i = 0; i < N_FAMILIES; i++)
		if (strcmp(families[i].name, name) == 0) {
			o->want[i] = true;
			return 0;
		}
	fprintf(stderr, "tracegen: --family '%s': unknown family; nothing written\n", name);
	usage(stderr);
	return -EINVAL;
}

/* Applies one option; returns 0, 1 for --help, or -EINVAL (message printed). */
static int parse_opt(struct opts *o, int c, const char *arg)
{
	uint64_t v;
	switch (c) {
	case 's':
		if (parse_u64(arg, 0, UINT64_MAX, &o->seed) < 0)
			return bad_arg("--seed", arg, "a whole number (0 to 2^64-1)");
		o->has_seed = true;
		return 0;
	case 'd':
		if (parse_u64(arg, 1, MAX_DAYS, &v) < 0)
			return bad_arg("--days", arg, "a whole number of days from 1 to 366");
		o->days = (unsigned)v;
		return 0;
	case 't':
		if (parse_u64(arg, 1, 3600, &v) < 0)
			return bad_arg("--step", arg, "seconds between samples, 1 to 3600");
		o->step = (unsigned)v;
		return 0;
	case 'f':
		return parse_family(o, arg);
	case 'o':
		o->out = arg;
		return 0;
	case 'D':
		o->describe = true;
		return 0;
	case 'h':
		return 1;
	default:
		return -EINVAL;
	}
}

/* Parses argv into o. Returns 0, 1 for --help, or -EINVAL (message printed). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "days", required_argument, NULL, 'd' },
		{ "step", required_argument, NULL, 't' },
		{ "family", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "describe", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct opts){ .days = 14, .step = 30 };
	opterr = 0;
	int c, r;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			fprintf(stderr, "tracegen: %s '%s'; nothing written\n",
			        c == '?' ? "unknown option" : "missing value for",
			        argv[optind - 1]);
			usage(stderr);
			return -EINVAL;
		}
		if ((r = parse_opt(o, c, optarg)) != 0)
			return r;
	}
	if (optind < argc) {
		fprintf(stderr, "tracegen: unexpected argument '%s'; nothing written\n",
		        argv[optind]);
		return -EINVAL;
	}
	if (!o->has_seed) {
		fprintf(stderr, "tracegen: --seed N is required; nothing written\n");
		usage(stderr);
		return -EINVAL;
	}
	if ((uint64_t)o->days * 86400 / o->step > MAX_SAMPLES) {
		fprintf(stderr,
		        "tracegen: %u days at --step %u is more than %d samples per "
		        "service; use fewer days or a longer step; nothing written\n",
		        o->days, o->step, MAX_SAMPLES);
		return -EINVAL;
	}
	return 0;
}

static void write_header(struct strbuf *sb, const struct opts *o, const struct svc *svcs,
                         size_t n_svcs)
{
	strbuf_printf(sb, "# tracegen seed=%" PRIu64 " days=%u step=%u families=", o->seed, o->days,
	              o->step);
	for (size_t i = 0; i < n_svcs; i++)
		strbuf_printf(sb, "%s%s", i ? "," : "", svcs[i].fam->name);
	strbuf_printf(sb, "\n# start: %s\n# uptime: 7d\n# limits:\n", START);
	for (size_t i = 0; i < n_svcs; i++)
		strbuf_printf(sb, "#   %s: cpu=%.2f memory=%.0fM\n", svcs[i].fam->name,
		              svcs[i].cpu_limit, svcs[i].mem_limit / MIB);
	strbuf_puts(sb, "time,service,cpu_used,mem_used,oom_kills,throttled_ratio,cpu_demand\n");
}

static void write_trace(struct strbuf *sb, const struct opts *o, const struct svc *svcs,
                        size_t n_svcs)
{
	write_header(sb, o, svcs, n_svcs);
	size_t n = n_svcs ? svcs[0].n : 0;
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < n_svcs; i++) {
			char cpu[32];
			snprintf(cpu, sizeof(cpu), "%.3f", svcs[i].cpu[k]);
			strbuf_printf(sb, "%zu,%s,%s,%.0f,,,%s\n", k * o->step, svcs[i].fam->name,
			              cpu, round(svcs[i].mem[k]), cpu);
		}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted v[0..n). */
static double percentile(const double *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p * (double)n);
	return v[rank ? rank - 1 : 0];
}

/* Sorts a copy of v[0..n) into tmp; returns the share of v above limit. */
static double sort_copy(const double *v, size_t n, double limit, double *tmp)
{
	size_t over = 0;
	for (size_t k = 0; k < n; k++)
		over += v[k] > limit;
	memcpy(tmp, v, n * sizeof(double));
	qsort(tmp, n, sizeof(double), cmp_double);
	return n ? (double)over / (double)n : 0;
}

static void write_describe(struct strbuf *sb, const struct svc *svcs, size_t n_svcs)
{
	strbuf_puts(sb, "service     cpu p50    p95    p99    max  limit  >limit   "
	                "mem p50      max    limit  >limit\n");
	for (size_t i = 0; i < n_svcs; i++) {
		const struct svc *s = &svcs[i];
		double *tmp = xcalloc(s->n ? s->n : 1, sizeof(double));
		double over = sort_copy(s->cpu, s->n, s->cpu_limit, tmp);
		strbuf_printf(sb, "%-10s %7.3f %6.3f %6.3f %6.3f %6.2f %6.1f%%", s->fam->name,
		              percentile(tmp, s->n, 0.50), percentile(tmp, s->n, 0.95),
		              percentile(tmp, s->n, 0.99), tmp[s->n - 1], s->cpu_limit, 100 * over);
		over = sort_copy(s->mem, s->n, s->mem_limit, tmp);
		strbuf_printf(sb, " %6.0fMiB %5.0fMiB %5.0fMiB %6.2f%%\n",
		              percentile(tmp, s->n, 0.50) / MIB, tmp[s->n - 1] / MIB,
		              s->mem_limit / MIB, 100 * over);
		free(tmp);
	}
}

static int write_out(const struct opts *o, const struct strbuf *sb)
{
	char err[512];
	if (o->out) {
		if (file_write_atomic(o->out, sb->data, sb->len, 0644, err, sizeof(err)) < 0) {
			fprintf(stderr, "tracegen: %s; nothing written\n", err);
			return -EIO;
		}
		return 0;
	}
	if (fwrite(sb->data, 1, sb->len, stdout) != sb->len || fflush(stdout) != 0) {
		fprintf(stderr, "tracegen: cannot write to standard output: %s\n", strerror(errno));
		return -EIO;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct svc svcs[N_FAMILIES];
	size_t n_svcs = 0;
	bool all = true;
	int r = parse_args(argc, argv, &o), ret = EXIT_USAGE;
	if (r != 0) {
		if (r > 0)
			usage(stdout);
		return r > 0 ? 0 : EXIT_USAGE;
	}
	for (size_t i = 0; i < N_FAMILIES; i++)
		all = all && !o.want[i];
	size_t n = (size_t)o.days * 86400 / o.step;
	for (size_t i = 0; i < N_FAMILIES; i++)
		if (all || o.want[i])
			svc_generate(&svcs[n_svcs++], &families[i], o.seed, n, o.step);

	struct strbuf sb;
	strbuf_init(&sb);
	if (o.describe)
		write_describe(&sb, svcs, n_svcs);
	else
		write_trace(&sb, &o, svcs, n_svcs);
	ret = write_out(&o, &sb) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

	strbuf_free(&sb);
	for (size_t i = 0; i < n_svcs; i++) {
		free(svcs[i].cpu);
		free(svcs[i].mem);
	}
	return ret;
}
