/* deploy: applying new limits to a service: strategy choice, one deployment
 * per service at a time, in-place updates with verification and undo, and
 * the hand-off to the blue-green executor (deploy_bluegreen.c). */
#include "rm/deploy.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "deploy_internal.h"
#include "rm/discovery.h"
#include "rm/docker.h"
#include "rm/units.h"
#include "rm/util.h"

static const char *const outcome_names[_DEPLOY_OUTCOME_MAX] = {
	[DEPLOY_APPLIED] = "applied", [DEPLOY_DRY_RUN] = "dry_run",
	[DEPLOY_SKIPPED] = "skipped", [DEPLOY_ROLLED_BACK] = "rolled_back",
	[DEPLOY_FAILED] = "failed",
};

const char *deploy_outcome_to_string(enum deploy_outcome o)
{
	return (int)o >= 0 && o < _DEPLOY_OUTCOME_MAX ? outcome_names[o] : "unknown";
}

static const char *const backend_names[_DEPLOY_BACKEND_MAX] = {
	[DEPLOY_BACKEND_NONE] = "none",
	[DEPLOY_BACKEND_BLUEGREEN] = "bluegreen",
	[DEPLOY_BACKEND_INPLACE] = "inplace",
	[DEPLOY_BACKEND_SWARM] = "swarm",
};

const char *deploy_backend_to_string(enum deploy_backend b)
{
	return (int)b >= 0 && b < _DEPLOY_BACKEND_MAX ? backend_names[b] : "unknown";
}

int deploy_backend_from_string(const char *s)
{
	for (int i = 0; s && i < _DEPLOY_BACKEND_MAX; i++)
		if (strcmp(s, backend_names[i]) == 0)
			return i;
	return -EINVAL;
}

enum deploy_backend deploy_backend_pick(enum deploy_kind kind, enum deploy_strategy s)
{
	if (kind == DEPLOY_KIND_SWARM)
		return DEPLOY_BACKEND_SWARM;
	return s == STRATEGY_BLUE_GREEN ? DEPLOY_BACKEND_BLUEGREEN : DEPLOY_BACKEND_INPLACE;
}

enum deploy_backend deploy_backend_of_journal(const struct state_journal *j)
{
	int b = deploy_backend_from_string(j->backend);
	if (b > DEPLOY_BACKEND_NONE)
		return (enum deploy_backend)b;
	int s = j->strategy ? deploy_strategy_from_string(j->strategy) : -EINVAL;
	if (s == STRATEGY_BLUE_GREEN || s == STRATEGY_IN_PLACE)
		return deploy_backend_pick(DEPLOY_KIND_CONTAINERS, (enum deploy_strategy)s);
	return DEPLOY_BACKEND_NONE;
}

const struct apply_ops *deploy_apply_ops(enum deploy_backend b)
{
	switch (b) {
	case DEPLOY_BACKEND_BLUEGREEN:
		return &deploy_apply_bluegreen;
	case DEPLOY_BACKEND_INPLACE:
		return &deploy_apply_inplace;
	case DEPLOY_BACKEND_SWARM:
		return &deploy_apply_swarm;
	default:
		return NULL;
	}
}

/* Margin kept above current use when memory is lowered in place: below use,
 * cgroup v2 kills the process and cgroup v1 refuses. */
#define INPLACE_MEMORY_MARGIN 0.10

bool deploy_has_healthcheck(const struct docker_inspect *c)
{
	const struct docker_healthcheck *h = &c->config.healthcheck;
	return h->n_test > 0 && strcmp(h->test[0], "NONE") != 0;
}

static bool publishes_host_port(const struct docker_inspect *c)
{
	for (size_t i = 0; i < c->host_config.n_port_bindings; i++) {
		const char *hp = c->host_config.port_bindings[i].host_port;
		if (hp && *hp)
			return true;
	}
	return false;
}

enum deploy_strategy deploy_pick_strategy(const struct rm_config *cfg, const char *service,
                                          const struct docker_inspect *blue, bool force, char *why,
                                          size_t whylen)
{
	enum deploy_strategy s = config_service_strategy(cfg, service);
	if (s == STRATEGY_IN_PLACE) {
		snprintf(why, whylen, "configured in-place");
		return STRATEGY_IN_PLACE;
	}
	if (!cfg->blue_green.enabled) {
		snprintf(why, whylen, "blue_green.enabled is false");
		return STRATEGY_IN_PLACE;
	}
	bool forced = s == STRATEGY_BLUE_GREEN || force;
	if (strlist_contains(&cfg->services.stateful, service) && !force) {
		snprintf(why, whylen, "stateful service: never two copies at once");
		return STRATEGY_IN_PLACE;
	}
	if (blue && publishes_host_port(blue) && !force) {
		snprintf(why, whylen, "publishes a fixed host port a copy could not bind");
		return STRATEGY_IN_PLACE;
	}
	if (blue && !deploy_has_healthcheck(blue) && !forced) {
		snprintf(why, whylen, "no health check to gate a replacement on");
		return STRATEGY_IN_PLACE;
	}
	snprintf(why, whylen, forced ? "blue-green requested" : "health-checked, stateless");
	return STRATEGY_BLUE_GREEN;
}

/* The running containers of the service, inspected. */
static int service_containers(struct docker_client *c, const struct rm_config *cfg,
                              const char *service, struct docker_inspect **ret, size_t *ret_n,
                              char *err, size_t errlen)
{
	struct docker_container_list list = { 0 };
	int r = docker_containers_list(c, false, NULL, 0, &list, err, errlen);
	if (r < 0)
		return r;
	struct discovery_rules rules = { cfg->services.project, cfg->services.label_opt_in };
	struct discovery_group g = { 0 };
	const char *names[1] = { service };
	discovery_group_services(&list, names, 1, &rules, true, &g);
	struct docker_inspect *v = xcalloc(g.n ? g.n : 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < g.n && r == 0; i++) {
		r = docker_container_inspect(c, list.items[g.idx[i]].id, &v[n], err, errlen);
		if (r == 0)
			n++;
	}
	discovery_group_free(&g);
	docker_container_list_free(&list);
	if (r == 0 && n == 0) {
		snprintf(err, errlen, "no running container of service %s", service);
		r = -ENOENT;
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			docker_inspect_free(&v[i]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

double deploy_cpu_of(const struct docker_host_config *h)
{
	if (h->nano_cpus > 0)
		return (double)h->nano_cpus / 1e9;
	if (h->cpu_quota > 0)
		return (double)h->cpu_quota / (double)(h->cpu_period > 0 ? h->cpu_period : 100000);
	return 0;
}

void deploy_progress(const struct deploy_request *req, const char *fmt, ...)
{
	if (!req->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *line = xvasprintf(fmt, ap);
	va_end(ap);
	req->progress(req->progress_ctx, line);
	free(line);
}

/* Refuses an in-place memory decrease below current use plus a margin. */
static int check_memory_floor(struct docker_client *c, const struct docker_inspect *v, size_t n,
                              uint64_t per_replica, char *msg, size_t msglen)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].host_config.memory > 0 && per_replica >= (uint64_t)v[i].host_config.memory)
			continue; /* not a decrease */
		struct docker_stats st = { 0 };
		char err[256];
		int r = docker_container_stats(c, v[i].id, &st, err, sizeof(err));
		if (r < 0 || !st.mem_known) {
			snprintf(msg, msglen,
			         "cannot read the memory use of %s to lower its limit safely (%s); "
			         "keeping the current limits",
			         v[i].name, r < 0 ? err : "no memory figures");
			return -EAGAIN;
		}
		uint64_t floor = (uint64_t)((double)st.mem_usage * (1.0 + INPLACE_MEMORY_MARGIN));
		if (per_replica < floor) {
			char a[32], b[32];
			units_format_memory(per_replica, a, sizeof(a));
			units_format_memory(st.mem_usage, b, sizeof(b));
			snprintf(
			        msg, msglen,
			        "refused: lowering %s to %s in place is below its current use %s "
			        "plus %.0f%% (cgroup v2 would kill it); keeping the current limits",
			        v[i].name + 1, a, b, INPLACE_MEMORY_MARGIN * 100);
			return -ERANGE;
		}
	}
	return 0;
}

/* The per-container limits of a request over n replicas; false when they
 * round to nothing. */
bool deploy_split_limits(const struct deploy_request *req, size_t n, struct docker_limits *want)
{
	memset(want, 0, sizeof(*want));
	if (req->set_cpu) {
		want->set_cpu = true;
		want->cpus = round(req->cpu / (double)n * 100.0) / 100.0;
	}
	if (req->set_memory) {
		want->set_memory = true;
		want->memory = (int64_t)((req->memory / n) / UNITS_MIB * UNITS_MIB);
	}
	return !((want->set_cpu && want->cpus <= 0) || (want->set_memory && want->memory <= 0));
}

static int run_in_place(const struct apply_args *a, struct deploy_result *ret)
{
	struct docker_client *c = a->c;
	const struct deploy_request *req = a->req;
	struct docker_inspect *v = a->containers;
	size_t n = a->n;
	struct docker_limits want = *a->want;
	if (req->dry_run) {
		ret->outcome = DEPLOY_DRY_RUN;
		snprintf(ret->message, sizeof(ret->message),
		         "dry run: would update %zu container(s) in place", n);
		return 0;
	}
	/* Write-ahead: a restart between the update and its record finds it in
	 * the journal, and reconcile says whether the engine holds it. */
	struct state_journal j = {
		.service = (char *)(uintptr_t)req->service,
		.strategy = (char *)(uintptr_t)deploy_strategy_to_string(STRATEGY_IN_PLACE),
		.backend = (char *)(uintptr_t)deploy_backend_to_string(DEPLOY_BACKEND_INPLACE),
		.from = ret->from,
		.to = ret->to,
	};
	if (req->journal && req->journal(req->journal_ctx, &j) < 0) {
		ret->outcome = DEPLOY_SKIPPED;
		snprintf(ret->message, sizeof(ret->message),
		         "cannot persist the deployment journal; nothing changed");
		return 0;
	}
	const char *pause = getenv(DEPLOY_TEST_PAUSE_ENV);
	if (pause && strcmp(pause, "in_place") == 0) {
		deploy_progress(req, "paused in phase in_place (%s, test only)",
		                DEPLOY_TEST_PAUSE_ENV);
		for (int i = 0; i < 36000 && !(req->abort_flag && *req->abort_flag); i++)
			usleep(100000);
	}
	char err[256] = "";
	size_t done = 0;
	int r = 0;
	for (; done < n; done++) {
		deploy_progress(req, "in_place: updating %s", v[done].name + 1);
		r = docker_container_set_limits(c, &v[done], &want, err, sizeof(err));
		if (r < 0)
			break;
	}
	/* Verify what the engine now holds. */
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct docker_inspect now = { 0 };
		r = docker_container_inspect(c, v[i].id, &now, err, sizeof(err));
		if (r == 0 &&
		    ((want.set_cpu && fabs(deploy_cpu_of(&now.host_config) - want.cpus) > 0.005) ||
		     (want.set_memory && now.host_config.memory != want.memory))) {
			snprintf(err, sizeof(err),
			         "%s does not hold the new limits after the update", v[i].name + 1);
			r = -EIO;
		}
		docker_inspect_free(&now);
	}
	if (r == 0) {
		ret->outcome = DEPLOY_APPLIED;
		snprintf(ret->message, sizeof(ret->message),
		         "updated %zu container(s) in place, no restart", n);
		return 0;
	}
	/* Undo: put back the limits each updated container had. */
	bool undone = true;
	for (size_t i = 0; i < done && i < n; i++) {
		struct docker_limits old = { 0 };
		old.set_cpu = want.set_cpu && deploy_cpu_of(&v[i].host_config) > 0;
		old.cpus = deploy_cpu_of(&v[i].host_config);
		old.set_memory = want.set_memory && v[i].host_config.memory > 0;
		old.memory = v[i].host_config.memory;
		char e2[256];
		struct docker_inspect now = { 0 };
		if (!old.set_cpu && !old.set_memory)
			continue;
		if (docker_container_inspect(c, v[i].id, &now, e2, sizeof(e2)) < 0 ||
		    docker_container_set_limits(c, &now, &old, e2, sizeof(e2)) < 0)
			undone = false;
		docker_inspect_free(&now);
	}
	ret->outcome = undone ? DEPLOY_ROLLED_BACK : DEPLOY_FAILED;
	snprintf(ret->message, sizeof(ret->message), "in-place update failed: %s; %s", err,
	         undone ? "previous limits restored" : "previous limits NOT restored");
	return 0;
}

/* The replicas' limits added up (no limit counts 0). */
static struct state_limits replicas_total(const struct docker_inspect *v, size_t n)
{
	struct state_limits t = { .known = true };
	for (size_t i = 0; i < n; i++) {
		t.cpu += deploy_cpu_of(&v[i].host_config);
		t.memory += (uint64_t)(v[i].host_config.memory > 0 ? v[i].host_config.memory : 0);
	}
	return t;
}

/* Whether the replicas' limits add up to l (a split rounds memory down to
 * whole MiB per replica). */
static bool holds_limits(const struct docker_inspect *v, size_t n, const struct state_limits *l)
{
	struct state_limits t = replicas_total(v, n);
	uint64_t slack = (uint64_t)n * UNITS_MIB;
	return fabs(t.cpu - l->cpu) <= 0.01 * (double)n &&
	       (t.memory > l->memory ? t.memory - l->memory : l->memory - t.memory) < slack;
}

/* An in-place update a restart interrupted: the engine holds the new
 * limits (the update went through; it is recorded as applied), the old ones
 * (it never left; nothing to record), or a mix over several replicas (the
 * rest are updated now). */
static int reconcile_in_place(struct docker_client *c, const struct rm_config *cfg,
                              const struct state_journal *j, const char *service,
                              struct deploy_result *ret)
{
	(void)service;
	ret->outcome = DEPLOY_SKIPPED;
	ret->strategy = STRATEGY_IN_PLACE;
	if (!j) {
		snprintf(ret->message, sizeof(ret->message),
		         "nothing to reconcile: no in-place update in the journal");
		return 0;
	}
	struct docker_inspect *v = NULL;
	size_t n = 0;
	int r = service_containers(c, cfg, j->service, &v, &n, ret->message, sizeof(ret->message));
	if (r < 0)
		return r;
	ret->replicas = (unsigned)n;
	struct deploy_request req = { .service = j->service,
		                      .set_cpu =
		                              j->to.cpu > 0 && fabs(j->to.cpu - j->from.cpu) > 1e-9,
		                      .cpu = j->to.cpu,
		                      .set_memory =
		                              j->to.memory > 0 && j->to.memory != j->from.memory,
		                      .memory = j->to.memory };
	struct docker_limits want;
	if (holds_limits(v, n, &j->to)) {
		ret->outcome = DEPLOY_APPLIED;
		snprintf(
		        ret->message, sizeof(ret->message),
		        "the in-place update had reached the engine: %zu container(s) hold the new "
		        "limits",
		        n);
	} else if (holds_limits(v, n, &j->from)) {
		snprintf(ret->message, sizeof(ret->message),
		         "the in-place update never reached the engine: the old limits stand");
	} else if (n && deploy_split_limits(&req, n, &want)) {
		char err[256] = "";
		for (size_t i = 0; r == 0 && i < n; i++)
			r = docker_container_set_limits(c, &v[i], &want, err, sizeof(err));
		ret->outcome = r == 0 ? DEPLOY_APPLIED : DEPLOY_FAILED;
		if (r == 0)
			snprintf(ret->message, sizeof(ret->message),
			         "the in-place update was cut short; its %zu container(s) updated "
			         "now",
			         n);
		else
			snprintf(ret->message, sizeof(ret->message),
			         "the in-place update was cut short and cannot be finished (%zu "
			         "container(s)): %s",
			         n, err);
		r = 0;
	} else {
		ret->outcome = DEPLOY_FAILED;
		snprintf(ret->message, sizeof(ret->message),
		         "the in-place update was cut short and the service's %zu container(s) "
		         "hold neither the old nor the new limits",
		         n);
	}
	for (size_t i = 0; i < n; i++)
		docker_inspect_free(&v[i]);
	free(v);
	return r;
}

const struct apply_ops deploy_apply_inplace = {
	.backend = DEPLOY_BACKEND_INPLACE,
	.apply = run_in_place,
	.reconcile = reconcile_in_place,
};

/* Blue-green, one replica after the other. */
static int run_blue_green(const struct apply_args *a, struct deploy_result *ret)
{
	struct docker_client *c = a->c;
	const struct rm_config *cfg = a->cfg;
	const struct deploy_request *req = a->req;
	struct docker_inspect *v = a->containers;
	size_t n = a->n;
	const struct docker_limits *want = a->want;
	if (req->dry_run) {
		deploy_bluegreen_plan(&v[0], want, ret);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (n > 1)
			deploy_progress(req, "replica %zu of %zu: %s", i + 1, n,
			                deploy_name(&v[i]));
		deploy_bluegreen_one(c, cfg, req, &v[i], want, ret);
		if (ret->outcome != DEPLOY_APPLIED) {
			if (i > 0) {
				size_t len = strlen(ret->message);
				snprintf(ret->message + len, sizeof(ret->message) - len,
				         " (%zu replica(s) before it keep the new limits)", i);
			}
			break;
		}
	}
	return 0;
}

const struct apply_ops deploy_apply_bluegreen = {
	.backend = DEPLOY_BACKEND_BLUEGREEN,
	.apply = run_blue_green,
	.reconcile = deploy_bluegreen_reconcile,
};

int deploy_lock_service(const struct rm_config *cfg, const char *service)
{
	if (!cfg->state.path || !*cfg->state.path)
		return -1;
	char *dir = xstrdup(cfg->state.path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	char *path = xasprintf("%s/.deploy-%s.lock", slash ? dir : ".", service);
	for (char *p = strrchr(path, '/') + 1; *p; p++)
		if (*p == '/')
			*p = '_';
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	free(dir);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -EBUSY;
	}
	return fd;
}

/* The strategy to use, or a refusal in ret (outcome skipped, refused). */
static bool choose_strategy(const struct rm_config *cfg, const struct deploy_request *req,
                            const struct docker_inspect *blue, enum deploy_strategy *ret_s,
                            struct deploy_result *ret)
{
	char why[128];
	enum deploy_strategy s = req->strategy;
	if (s == STRATEGY_AUTO) {
		s = deploy_pick_strategy(cfg, req->service, blue, req->force, why, sizeof(why));
	} else if (s == STRATEGY_BLUE_GREEN && publishes_host_port(blue)) {
		snprintf(
		        ret->message, sizeof(ret->message),
		        "refused: %s publishes a fixed host port, which a second copy cannot bind; "
		        "use --strategy in-place",
		        deploy_name(blue));
		return false;
	} else if (s == STRATEGY_BLUE_GREEN && !req->force &&
	           strlist_contains(&cfg->services.stateful, req->service)) {
		snprintf(ret->message, sizeof(ret->message),
		         "refused: %s is stateful (never two copies at once); --force overrides",
		         req->service);
		return false;
	} else {
		snprintf(why, sizeof(why), "requested");
	}
	deploy_progress(req, "strategy %s (%s)", deploy_strategy_to_string(s), why);
	*ret_s = s;
	return true;
}

/* Tasks a service runs: its replicas, or for a global service the tasks
 * meant to run (one per node). */
static size_t swarm_replicas(struct docker_client *c, const struct swarm_service *svc)
{
	if (!svc->global)
		return (size_t)svc->replicas;
	struct swarm_task_list tl = { 0 };
	char err[256];
	if (swarm_tasks_list(c, svc->id, true, &tl, err, sizeof(err)) < 0)
		return 0;
	size_t n = tl.n;
	swarm_task_list_free(&tl);
	return n;
}

/* A Swarm service: the limits are per task in the spec; Swarm rolls them. */
static int run_swarm(struct docker_client *c, const struct rm_config *cfg,
                     const struct deploy_request *req, const struct swarm_service *svc,
                     struct deploy_result *ret)
{
	size_t n = swarm_replicas(c, svc);
	double cpu = (double)svc->limits.nano_cpus / 1e9 * (double)n;
	uint64_t mem = (uint64_t)svc->limits.memory * n;
	ret->replicas = (unsigned)n;
	ret->backend = DEPLOY_BACKEND_SWARM;
	ret->from = (struct state_limits){ true, cpu, mem };
	ret->to = (struct state_limits){ true, req->set_cpu ? req->cpu : cpu,
		                         req->set_memory ? req->memory : mem };
	ret->outcome = DEPLOY_SKIPPED;
	struct docker_limits want;
	if (n == 0 || !deploy_split_limits(req, n, &want)) {
		ret->refused = true;
		if (n)
			snprintf(ret->message, sizeof(ret->message),
			         "the new limits are too small to split over %zu tasks", n);
		else
			snprintf(ret->message, sizeof(ret->message),
			         "Swarm service %s runs no task to size", svc->name);
		return 0;
	}
	deploy_progress(req, "backend swarm (service %s, %zu task(s))", svc->name, n);
	struct apply_args a = { c, cfg, req, NULL, n, svc, &want };
	return deploy_apply_swarm.apply(&a, ret);
}

static int run_one(struct docker_client *c, const struct rm_config *cfg,
                   const struct deploy_request *req, struct deploy_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	double t0 = time_monotonic();
	if (!req->set_cpu && !req->set_memory) {
		snprintf(ret->message, sizeof(ret->message), "nothing to change");
		return -EINVAL;
	}
	int lock = req->dry_run ? -1 : deploy_lock_service(cfg, req->service);
	if (lock == -EBUSY) {
		snprintf(ret->message, sizeof(ret->message),
		         "another deployment of %s is in progress", req->service);
		return -EBUSY;
	}
	struct docker_inspect *v = NULL;
	size_t n = 0;
	struct swarm_service svc = { 0 };
	char serr[256];
	int r = deploy_swarm_find(c, cfg, req->service, &svc, serr, sizeof(serr));
	if (r == 0) {
		r = run_swarm(c, cfg, req, &svc, ret);
		swarm_service_free(&svc);
		goto done;
	}
	r = service_containers(c, cfg, req->service, &v, &n, ret->message, sizeof(ret->message));
	if (r < 0)
		goto out;
	ret->replicas = (unsigned)n;
	ret->from = replicas_total(v, n);
	ret->to = (struct state_limits){ true, req->set_cpu ? req->cpu : ret->from.cpu,
		                         req->set_memory ? req->memory : ret->from.memory };
	ret->outcome = DEPLOY_SKIPPED;
	struct docker_limits want;
	enum deploy_strategy s;
	if (!deploy_split_limits(req, n, &want)) {
		ret->refused = true;
		snprintf(ret->message, sizeof(ret->message),
		         "the new limits are too small to split over %zu replicas", n);
		goto done;
	}
	if (!choose_strategy(cfg, req, &v[0], &s, ret)) {
		ret->refused = true;
		goto done;
	}
	if (s == STRATEGY_IN_PLACE && want.set_memory) {
		int fr = check_memory_floor(c, v, n, (uint64_t)want.memory, ret->message,
		                            sizeof(ret->message));
		/* Below current use: a fresh copy can start with less, when the
		 * service could be replaced at all. */
		bool can_replace =
		        cfg->blue_green.enabled && req->strategy == STRATEGY_AUTO &&
		        config_service_strategy(cfg, req->service) != STRATEGY_IN_PLACE &&
		        !publishes_host_port(&v[0]) &&
		        !strlist_contains(&cfg->services.stateful, req->service);
		if (fr == -ERANGE && can_replace) {
			deploy_progress(req, "%s; replacing by blue-green instead", ret->message);
			s = STRATEGY_BLUE_GREEN;
		} else if (fr < 0) {
			ret->refused = fr == -ERANGE;
			goto done;
		}
	}
	ret->strategy = s;
	ret->backend = deploy_backend_pick(DEPLOY_KIND_CONTAINERS, s);
	struct apply_args a = { c, cfg, req, v, n, NULL, &want };
	r = deploy_apply_ops(ret->backend)->apply(&a, ret);
done:
	for (size_t i = 0; i < n; i++)
		docker_inspect_free(&v[i]);
	free(v);
	ret->duration = time_monotonic() - t0;
out:
	if (lock >= 0)
		close(lock);
	return r;
}

static int reconcile_any(struct docker_client *c, const struct rm_config *cfg,
                         const struct state_journal *j, const char *service,
                         struct deploy_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!j && !service)
		return -EINVAL;
	enum deploy_backend b = DEPLOY_BACKEND_BLUEGREEN;
	if (j) {
		b = deploy_backend_of_journal(j);
		ret->from = j->from;
		ret->to = j->to;
	} else {
		/* No journal (a fresh instance): the cluster says. A Swarm
		 * service carries its change in its labels; containers carry
		 * deployment.* labels. */
		struct swarm_service svc = { 0 };
		char err[256];
		if (deploy_swarm_find(c, cfg, service, &svc, err, sizeof(err)) == 0)
			b = DEPLOY_BACKEND_SWARM;
		swarm_service_free(&svc);
	}
	const struct apply_ops *ops = deploy_apply_ops(b);
	if (!ops) {
		ret->outcome = DEPLOY_SKIPPED;
		snprintf(ret->message, sizeof(ret->message),
		         "nothing to reconcile: the journal of %s names no known backend",
		         j->service);
		return 0;
	}
	ret->backend = b;
	const char *name = j ? j->service : service;
	/* A deployment whose process is alive holds this lock: never undo it
	 * under its feet. */
	int lock = deploy_lock_service(cfg, name);
	if (lock == -EBUSY) {
		snprintf(ret->message, sizeof(ret->message),
		         "a deployment of %s is in progress in another process; left to it", name);
		return -EBUSY;
	}
	int r = ops->reconcile(c, cfg, j, service, ret);
	if (lock >= 0)
		close(lock);
	return r;
}

/* A deployment rides out a restart of the engine: each call waits for an
 * unreachable engine up to the Docker timeout (the phase's own checks then
 * judge what the restart did to the containers). */
static double engine_wait_begin(struct docker_client *c, const struct rm_config *cfg)
{
	double was = docker_client_unreachable_wait(c);
	docker_client_set_unreachable_wait(c, cfg->docker.timeout > 0 ? cfg->docker.timeout : 30);
	return was;
}

int deploy_run(struct docker_client *c, const struct rm_config *cfg,
               const struct deploy_request *req, struct deploy_result *ret)
{
	double was = engine_wait_begin(c, cfg);
	int r = run_one(c, cfg, req, ret);
	docker_client_set_unreachable_wait(c, was);
	return r;
}

int deploy_reconcile(struct docker_client *c, const struct rm_config *cfg,
                     const struct state_journal *j, const char *service, struct deploy_result *ret)
{
	double was = engine_wait_begin(c, cfg);
	int r = reconcile_any(c, cfg, j, service, ret);
	docker_client_set_unreachable_wait(c, was);
	return r;
}

void deploy_count(struct state_counters *c, const struct deploy_result *res)
{
	if (res->outcome == DEPLOY_DRY_RUN || res->outcome == DEPLOY_SKIPPED)
		return;
	bool ok = res->outcome == DEPLOY_APPLIED, bg = res->strategy == STRATEGY_BLUE_GREEN;
	c->total_adjustments++;
	if (ok)
		c->successful_adjustments++;
	else
		c->failed_adjustments++;
	if (bg && ok)
		c->blue_green_deployments++;
	if (bg && !ok)
		c->blue_green_failed++;
	if (res->outcome == DEPLOY_ROLLED_BACK)
		c->rollbacks++;
}

void deploy_record(struct rm_state *s, const char *service, const struct deploy_result *res,
                   const char *reason, const char *explanation, double now, size_t max_history)
{
	state_journal_remove(s, service);
	if (res->outcome == DEPLOY_DRY_RUN)
		return;
	struct state_service *ss = state_service_get(s, service);
	deploy_count(&ss->counters, res);
	if (res->outcome == DEPLOY_APPLIED) {
		ss->last_good = res->from;
		ss->applied = res->to;
		/* What the deployment found, not a check's count: a check during a
		 * blue-green may see blue and green both running. */
		ss->replicas = res->replicas ? res->replicas : 1;
	}
	struct state_event ev = {
		.time = now,
		.kind = STATE_EVENT_DEPLOYMENT,
		.service = (char *)(uintptr_t)service,
		.reason = (char *)(uintptr_t)reason,
		.explanation = (char *)(uintptr_t)explanation,
		.outcome = (char *)(uintptr_t)deploy_outcome_to_string(res->outcome),
		.strategy = (char *)(uintptr_t)deploy_strategy_to_string(res->strategy),
		.backend = res->backend ? (char *)(uintptr_t)deploy_backend_to_string(res->backend)
		                        : NULL,
		.duration = res->duration,
		.from = res->from,
		.to = res->to,
	};
	state_history_add(s, &ev, max_history);
}
