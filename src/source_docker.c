/* source_docker: observations from the Docker Engine's inspect and stats. */
#include "rm/source_docker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/cgroup_stats.h"
#include "rm/config.h"
#include "rm/discovery.h"
#include "rm/docker.h"
#include "rm/log.h"
#include "rm/swarm.h"
#include "rm/util.h"

#define MAX_PARALLEL SOURCE_DOCKER_PARALLEL_MAX
#define MEM_SAMPLES  64

static const char first_sample[] = "first sample";

/* What the source remembers of one container between checks. */
struct cstate {
	char *id;
	bool seen; /* in the current check */
	double started_at;
	bool have_prev;
	uint64_t prev_cpu;
	double prev_read;
	bool prev_steady; /* prev_read is on the steady clock (cgroup files) */
	bool prev_thr_known;
	uint64_t prev_periods, prev_throttled;
	bool inspected; /* oom_killed below is meaningful */
	bool oom_killed;
	unsigned oom_events; /* engine oom events since the previous check */
	unsigned missed;     /* checks in a row that did not see it */
	struct {
		double t;
		uint64_t v;
	} mem[MEM_SAMPLES];
	size_t n_mem, mem_next;
};

/* One container's fetch (by a worker) and what it gives (by the collector). */
struct item {
	const char *id; /* borrowed from the list */
	int r;
	char err[200];
	struct docker_inspect in;
	struct docker_stats st;
	int r2; /* the second sample (second_samples) */
	struct docker_stats st2;

	bool gone; /* vanished or stopped since the list */
	bool cpu_known, thr_known, mem_known;
	const char *cpu_reason;
	double cpu;
	uint64_t periods, throttled;
	uint64_t mem, mem_peak;
	unsigned ooms;
};

struct source_docker {
	struct docker_client *client;
	struct docker_client *pool[MAX_PARALLEL];
	unsigned parallel; /* workers per collect, 1..MAX_PARALLEL */
	struct docker_events *events;
	struct discovery_rules rules;
	char *project;
	char *cgroup_root; /* "" = always the engine's stats */
	enum memory_metric memory_metric;
	double mem_window;
	struct cstate *cs;
	size_t n_cs;
};

struct work {
	struct item *items;
	size_t n;
	size_t next;
	bool stats_only; /* the second sample of second_samples */
	pthread_mutex_t mu;
	struct source_docker *sd;
};

struct worker_arg {
	struct work *w;
	struct docker_client *client;
};

static struct cstate *cstate_get(struct source_docker *sd, const char *id)
{
	for (size_t i = 0; i < sd->n_cs; i++)
		if (strcmp(sd->cs[i].id, id) == 0)
			return &sd->cs[i];
	sd->cs = xreallocarray(sd->cs, sd->n_cs + 1, sizeof(*sd->cs));
	struct cstate *c = &sd->cs[sd->n_cs++];
	memset(c, 0, sizeof(*c));
	c->id = xstrdup(id);
	return c;
}

/* Forgets containers not seen in this check. */
static void cstate_prune(struct source_docker *sd)
{
	size_t k = 0;
	for (size_t i = 0; i < sd->n_cs; i++) {
		struct cstate *c = &sd->cs[i];
		c->missed = c->seen ? 0 : c->missed + 1;
		/* An oom event may come before the first check that sees its
		 * container: keep unseen ones for one more check only. */
		if (c->seen || (c->oom_events && c->missed < 2)) {
			sd->cs[k] = *c;
			sd->cs[k++].seen = false;
		} else {
			free(sd->cs[i].id);
		}
	}
	sd->n_cs = k;
}

static void *worker_main(void *arg)
{
	struct worker_arg *a = arg;
	struct work *w = a->w;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		size_t i = w->next++;
		pthread_mutex_unlock(&w->mu);
		if (i >= w->n)
			break;
		struct item *it = &w->items[i];
		if (w->stats_only) {
			if (it->cpu_reason != first_sample)
				continue;
			if (*w->sd->cgroup_root &&
			    cgroup_stats_read(w->sd->cgroup_root, it->id, time_monotonic(),
			                      &it->st2) == 0)
				it->r2 = 0;
			else
				it->r2 = docker_container_stats(a->client, it->id, &it->st2,
				                                it->err, sizeof(it->err));
			continue;
		}
		it->r = docker_container_inspect(a->client, it->id, &it->in, it->err,
		                                 sizeof(it->err));
		if (it->r != 0 || !it->in.state.running)
			continue;
		/* The cgroup files when readable; else the engine's stats, which
		 * wait for its one-second tick. The files are timed on the steady
		 * clock: a rate needs elapsed time, and the wall clock may jump. */
		if (*w->sd->cgroup_root &&
		    cgroup_stats_read(w->sd->cgroup_root, it->id, time_monotonic(), &it->st) == 0)
			continue;
		it->r = docker_container_stats(a->client, it->id, &it->st, it->err,
		                               sizeof(it->err));
	}
	return NULL;
}

/* Inspect + stats of every item (stats_only: stats of the items at their
 * first sample), up to sd->parallel at a time. */
static void fetch_all(struct source_docker *sd, struct item *items, size_t n, bool stats_only)
{
	struct work w = { .items = items, .n = n, .stats_only = stats_only, .sd = sd };
	struct worker_arg args[MAX_PARALLEL];
	pthread_t threads[MAX_PARALLEL];
	size_t k = n < sd->parallel ? n : sd->parallel;
	pthread_mutex_init(&w.mu, NULL);
	for (size_t i = 0; i < k; i++) {
		if (!sd->pool[i])
			sd->pool[i] = docker_client_dup(sd->client);
		args[i] = (struct worker_arg){ &w, sd->pool[i] };
		if (pthread_create(&threads[i], NULL, worker_main, &args[i]) != 0)
			abort();
	}
	for (size_t i = 0; i < k; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&w.mu);
}

static void drain_events(struct source_docker *sd)
{
	struct docker_event e;
	while (docker_events_next(sd->events, 0, &e) == 1) {
		if (e.action == DOCKER_EVENT_OOM && e.id)
			cstate_get(sd, e.id)->oom_events++;
		docker_event_free(&e);
	}
}

/* CPU use and throttling from this stats sample and the previous one of
 * the container (restarted: the previous one is of an earlier run). */
static void item_cpu(struct cstate *c, struct item *it, bool restarted)
{
	const struct docker_stats *s = &it->st;
	if (!s->cpu_known) {
		it->cpu_reason = "no CPU counters in stats";
	} else if (!c->have_prev || restarted || s->cpu_total_usage < c->prev_cpu ||
	           s->steady_clock != c->prev_steady || s->read_time <= c->prev_read) {
		/* A sample from the cgroup files after one from the engine's stats
		 * (or back: a file unreadable once) has its time on another
		 * clock: their difference is no interval. */
		it->cpu_reason = first_sample;
	} else {
		it->cpu_known = true;
		it->cpu = (double)(s->cpu_total_usage - c->prev_cpu) / 1e9 /
		          (s->read_time - c->prev_read);
		if (c->prev_thr_known && s->throttling_known &&
		    s->throttling_periods >= c->prev_periods &&
		    s->throttled_periods >= c->prev_throttled) {
			it->thr_known = true;
			it->periods = s->throttling_periods - c->prev_periods;
			it->throttled = s->throttled_periods - c->prev_throttled;
		}
	}
	if (s->cpu_known) {
		c->have_prev = true;
		c->prev_cpu = s->cpu_total_usage;
		c->prev_read = s->read_time;
		c->prev_steady = s->steady_clock;
		c->prev_thr_known = s->throttling_known;
		c->prev_periods = s->throttling_periods;
		c->prev_throttled = s->throttled_periods;
	}
}

/* Turns one container's inspect and stats into values, updating its state. */
static void item_compute(struct source_docker *sd, struct item *it, double now)
{
	if (it->r == -ENOENT || (it->r == 0 && !it->in.state.running)) {
		it->gone = true;
		return;
	}
	struct cstate *c = cstate_get(sd, it->id);
	c->seen = true;
	it->ooms = c->oom_events;
	c->oom_events = 0;
	if (it->r < 0)
		return;
	/* State.OOMKilled only counts when seen changing from false. */
	if (it->in.state.oom_killed && c->inspected && !c->oom_killed && it->ooms == 0)
		it->ooms = 1;
	c->oom_killed = it->in.state.oom_killed;
	c->inspected = true;

	const struct docker_stats *s = &it->st;
	bool restarted = c->have_prev && c->started_at != it->in.state.started_at_time;
	c->started_at = it->in.state.started_at_time;
	item_cpu(c, it, restarted);

	if (s->mem_known) {
		it->mem_known = true;
		it->mem = sd->memory_metric == MEMORY_METRIC_USAGE ? s->mem_usage
		                                                   : docker_stats_working_set(s);
		c->mem[c->mem_next].t = now;
		c->mem[c->mem_next].v = it->mem;
		c->mem_next = (c->mem_next + 1) % MEM_SAMPLES;
		if (c->n_mem < MEM_SAMPLES)
			c->n_mem++;
		it->mem_peak = it->mem;
		for (size_t i = 0; i < c->n_mem; i++)
			if (c->mem[i].t >= now - sd->mem_window && c->mem[i].v > it->mem_peak)
				it->mem_peak = c->mem[i].v;
	}
}

/* A container seen for the first time (the first check, a new replica, a
 * green) has one CPU sample: a second one at least 1 s later gives its use
 * now rather than at the next check (`observe --once` knows CPU). */
static void second_samples(struct source_docker *sd, struct item *items, size_t n)
{
	size_t want = 0;
	for (size_t i = 0; i < n; i++)
		want += items[i].r == 0 && !items[i].gone && items[i].cpu_reason == first_sample;
	if (!want)
		return;
	/* Every first read ended before now: 1 s from now is 1 s after each. */
	struct timespec ts = { 1, 0 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	fetch_all(sd, items, n, true);
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		if (it->r < 0 || it->gone || it->cpu_reason != first_sample || it->r2 < 0)
			continue;
		it->st = it->st2;
		item_cpu(cstate_get(sd, it->id), it, false);
	}
}

/* Appends a reason once ("a; b"). */
static void add_reason(struct observation *o, const char *what, const char *why)
{
	char part[120];
	/* Long reasons are cut to what fits, on purpose. */
	if (snprintf(part, sizeof(part), "%s: %s", what, why) < 0 ||
	    strstr(o->unknown_reason, part))
		return;
	size_t len = strlen(o->unknown_reason);
	if (snprintf(o->unknown_reason + len, sizeof(o->unknown_reason) - len, "%s%s",
	             len ? "; " : "", part) < 0)
		o->unknown_reason[len] = '\0';
}

static void observe_service(const struct discovery_group *g, struct item *items,
                            const size_t *item_of, double now, struct observation *o)
{
	bool cpu = true, thr = true, mem = true, inspected = true, have_uptime = false;
	uint64_t periods = 0, throttled = 0;
	o->time = now;
	for (size_t k = 0; k < g->n; k++) {
		struct item *it = &items[item_of[g->idx[k]]];
		if (it->gone)
			continue;
		o->n_containers++;
		if (it->r < 0) {
			cpu = thr = mem = inspected = false;
			add_reason(o, "docker", it->err);
			continue;
		}
		const struct docker_host_config *hc = &it->in.host_config;
		o->cpu_limit += docker_host_config_cpus(hc);
		o->mem_limit += (uint64_t)hc->memory;
		o->oom_kills += it->ooms;
		double up = now - it->in.state.started_at_time;
		if (!have_uptime || up < o->uptime)
			o->uptime = up < 0 ? 0 : up;
		have_uptime = true;
		if (it->cpu_known) {
			o->cpu_used += it->cpu;
		} else {
			cpu = false;
			add_reason(o, "cpu", it->cpu_reason);
		}
		if (it->thr_known) {
			periods += it->periods;
			throttled += it->throttled;
		} else {
			thr = false;
		}
		if (it->mem_known) {
			o->mem_used += it->mem;
			o->mem_peak += it->mem_peak;
		} else {
			mem = false;
			add_reason(o, "memory", "no memory usage in stats");
		}
	}
	if (o->n_containers == 0) {
		memset(o, 0, sizeof(*o));
		o->time = now;
		snprintf(o->unknown_reason, sizeof(o->unknown_reason),
		         "no running container matches");
		return;
	}
	/* A limit summed over replicas is only meaningful if every replica
	 * has one; "no limit" on any of them means no limit for the service. */
	for (size_t k = 0; k < g->n; k++) {
		struct item *it = &items[item_of[g->idx[k]]];
		if (it->gone || it->r < 0)
			continue;
		if (docker_host_config_cpus(&it->in.host_config) == 0)
			o->cpu_limit = 0;
		if (it->in.host_config.memory == 0)
			o->mem_limit = 0;
	}
	o->cpu_used_known = cpu;
	o->cpu_throttled_known = thr;
	o->cpu_throttled = thr && periods ? (double)throttled / (double)periods : 0;
	o->mem_used_known = o->mem_peak_known = mem;
	o->cpu_limit_known = o->mem_limit_known = o->uptime_known = o->oom_known = inspected;
	if (!cpu)
		o->cpu_used = 0;
	if (!mem)
		o->mem_used = o->mem_peak = 0;
	if (!inspected)
		o->cpu_limit = o->mem_limit = o->uptime = o->oom_kills = 0;
	if (cpu && !thr)
		add_reason(o, "throttling", "no CFS counters between two samples");
}

/* The Swarm service of a group's task containers ("<stack>_<name>"), or
 * NULL for a Compose service. Borrowed from list. */
static const char *swarm_service_of(const struct docker_container_list *list,
                                    const struct discovery_group *g)
{
	for (size_t k = 0; k < g->n; k++) {
		const char *sw =
		        docker_labels_get(&list->items[g->idx[k]].labels, SWARM_LABEL_SERVICE);
		if (sw)
			return sw;
	}
	return NULL;
}

/* A Swarm service whose tasks run partly on other nodes: this node's sums
 * scaled to all its replicas, and the observation marked partial. */
static void scale_partial(struct observation *o, uint64_t replicas, const char *name)
{
	if (o->n_containers == 0 || replicas <= o->n_containers)
		return;
	double f = (double)replicas / (double)o->n_containers;
	o->partial = true;
	o->cpu_used *= f;
	o->cpu_limit *= f;
	o->mem_used = (uint64_t)((double)o->mem_used * f);
	o->mem_peak = (uint64_t)((double)o->mem_peak * f);
	o->mem_limit = (uint64_t)((double)o->mem_limit * f);
	char why[100];
	snprintf(why, sizeof(why), "%u of %llu tasks of %s on this node, sums scaled",
	         o->n_containers, (unsigned long long)replicas, name);
	add_reason(o, "partial", why);
	o->n_containers = (unsigned)replicas;
}

/* Marks the Swarm services among groups that run tasks elsewhere: one
 * GET /services per collect, only when some group is a Swarm service. */
static void mark_partial(struct source_docker *sd, const struct docker_container_list *list,
                         const struct discovery_group *groups, size_t n, struct observation *out)
{
	struct swarm_service_list sl = { 0 };
	bool listed = false;
	for (size_t s = 0; s < n; s++) {
		const char *sw = swarm_service_of(list, &groups[s]);
		if (!sw)
			continue;
		char err[256];
		if (!listed && swarm_services_list(sd->client, &sl, err, sizeof(err)) < 0)
			break;
		listed = true;
		for (size_t i = 0; i < sl.n; i++)
			if (strcmp(sl.items[i].name, sw) == 0 && !sl.items[i].global)
				scale_partial(&out[s], sl.items[i].replicas, sw);
	}
	swarm_service_list_free(&sl);
}

/* Requests and bytes of the main client and the pool together. */
static void total_counters(const struct source_docker *sd, unsigned *ret_req, size_t *ret_bytes)
{
	docker_client_counters(sd->client, ret_req, ret_bytes);
	for (size_t i = 0; i < MAX_PARALLEL && sd->pool[i]; i++) {
		unsigned r;
		size_t b;
		docker_client_counters(sd->pool[i], &r, &b);
		*ret_req += r;
		*ret_bytes += b;
	}
}

static int collect(void *impl, const char *const *services, size_t n, double now,
                   struct observation *out, struct source_stats *stats, char *err, size_t errlen)
{
	struct source_docker *sd = impl;
	double t0 = time_monotonic();
	struct docker_container_list list = { 0 };
	unsigned req0, req;
	size_t bytes0, bytes;
	total_counters(sd, &req0, &bytes0);
	int r = docker_containers_list(sd->client, false, NULL, 0, &list, err, errlen);
	if (r < 0)
		return r;
	if (!sd->events)
		docker_events_start(sd->client, NULL, &sd->events);
	drain_events(sd);

	struct discovery_group *groups = xcalloc(n + 1, sizeof(*groups));
	discovery_group_services(&list, services, n, &sd->rules, true, groups);
	/* Each matching container is fetched once, even if in two services. */
	size_t *item_of = xcalloc(list.n + 1, sizeof(*item_of));
	bool *wanted = xcalloc(list.n + 1, sizeof(*wanted));
	struct item *items = xcalloc(list.n + 1, sizeof(*items));
	size_t n_items = 0;
	for (size_t s = 0; s < n; s++)
		for (size_t k = 0; k < groups[s].n; k++)
			wanted[groups[s].idx[k]] = true;
	for (size_t i = 0; i < list.n; i++) {
		if (!wanted[i])
			continue;
		item_of[i] = n_items;
		items[n_items++].id = list.items[i].id;
	}
	fetch_all(sd, items, n_items, false);
	drain_events(sd); /* oom events that came while fetching */
	for (size_t i = 0; i < n_items; i++)
		item_compute(sd, &items[i], now);
	second_samples(sd, items, n_items);
	for (size_t s = 0; s < n; s++)
		observe_service(&groups[s], items, item_of, now, &out[s]);
	mark_partial(sd, &list, groups, n, out);
	cstate_prune(sd);

	if (stats) {
		total_counters(sd, &req, &bytes);
		stats->requests = req - req0;
		stats->bytes_received = bytes - bytes0;
		stats->seconds = time_monotonic() - t0;
	}
	for (size_t i = 0; i < n_items; i++)
		docker_inspect_free(&items[i].in);
	for (size_t s = 0; s < n; s++)
		discovery_group_free(&groups[s]);
	free(groups);
	free(items);
	free(wanted);
	free(item_of);
	docker_container_list_free(&list);
	return 0;
}

static void source_docker_free(void *impl)
{
	struct source_docker *sd = impl;
	if (!sd)
		return;
	docker_events_stop(sd->events);
	for (size_t i = 0; i < MAX_PARALLEL; i++)
		docker_client_free(sd->pool[i]);
	docker_client_free(sd->client);
	for (size_t i = 0; i < sd->n_cs; i++)
		free(sd->cs[i].id);
	free(sd->cs);
	free(sd->project);
	free(sd->cgroup_root);
	free(sd);
}

static const struct source_ops source_docker_ops = {
	.name = "docker",
	.collect = collect,
	.free = source_docker_free,
};

void source_docker_set_parallel(struct source *s, unsigned n)
{
	/* A programmer error: only a Docker source fetches in parallel. */
	if (s->ops != &source_docker_ops)
		abort();
	struct source_docker *sd = s->impl;
	sd->parallel = n < 1 ? 1 : n > MAX_PARALLEL ? MAX_PARALLEL : n;
}

void source_docker_set_cgroup_root(struct source *s, const char *root)
{
	if (s->ops != &source_docker_ops)
		abort();
	struct source_docker *sd = s->impl;
	free(sd->cgroup_root);
	sd->cgroup_root = xstrdup(root ? root : "");
}

int source_docker_new(const struct rm_config *cfg, struct source *ret)
{
	char err[256];
	struct docker_client_options o = { .host = cfg->docker.host,
		                           .api_version = cfg->docker.api_version,
		                           .timeout = cfg->docker.timeout };
	struct docker_client *c = NULL;
	int r = docker_client_new(&o, &c, err, sizeof(err));
	if (r < 0) {
		log_error("source", "cannot use the Docker engine\terror=\"%s\"", err);
		return r;
	}
	struct source_docker *sd = xcalloc(1, sizeof(*sd));
	sd->client = c;
	sd->parallel = SOURCE_DOCKER_PARALLEL;
	sd->project = xstrdup(cfg->services.project ? cfg->services.project : "");
	sd->cgroup_root = xstrdup(cfg->docker.cgroup_root ? cfg->docker.cgroup_root : "");
	sd->rules.project = sd->project;
	sd->rules.label_opt_in = cfg->services.label_opt_in;
	sd->rules.skip_green = true;
	sd->memory_metric = cfg->monitoring.memory_metric;
	sd->mem_window =
	        cfg->monitoring.analysis_window > 0 ? cfg->monitoring.analysis_window : 300;
	*ret = (struct source){ .ops = &source_docker_ops, .impl = sd };
	return 0;
}
