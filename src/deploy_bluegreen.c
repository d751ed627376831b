/* deploy_bluegreen: the blue-green executor: each phase's Docker calls for the
 * pure machine in bluegreen.c, journaled before every side effect, with
 * rollback; and the reconciliation of deployments a crash interrupted. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deploy_internal.h"
#include "rm/bluegreen.h"
#include "rm/discovery.h"
#include "rm/docker_json.h"
#include "rm/traefik_json.h"
#include "rm/units.h"

struct bg_exec {
	struct docker_client *c;
	const struct rm_config *cfg;
	const struct deploy_request *req;
	struct deploy_result *ret;
	const struct docker_inspect *blue; /* borrowed */
	struct docker_limits want;
	struct bg_machine m;
	struct bg_timeouts t;
	struct docker_clone clone;
	char *green_name;
	char *green_id;
	struct docker_events *ev;
	double green_started; /* monotonic */
	bool health_failed;
	bool rollback_failed;
	bool green_pending; /* green runs, its health check has not spoken yet */
	bool move;          /* move_aliases for this container (see decide_move) */
	bool unlisted;      /* blue's aliases were (or may have been) taken away */
	char why[512];      /* the failure, for the message */
};

const char *deploy_name(const struct docker_inspect *c)
{
	return c->name && c->name[0] == '/' ? c->name + 1 : (c->name ? c->name : c->id);
}

static bool aborted(const struct bg_exec *x)
{
	return x->req->abort_flag && *x->req->abort_flag;
}

/* Sleeps up to seconds, returning false early when an abort is asked. */
static bool wait_abortable(const struct bg_exec *x, double seconds)
{
	double end = time_monotonic() + seconds;
	for (;;) {
		if (aborted(x))
			return false;
		double left = end - time_monotonic();
		if (left <= 0)
			return true;
		if (left > 0.2)
			left = 0.2;
		struct timespec ts = { 0, (long)(left * 1e9) };
		nanosleep(&ts, NULL);
	}
}

static int journal(struct bg_exec *x)
{
	if (!x->req->journal)
		return 0;
	struct state_journal j = {
		.service = xstrdup(x->req->service),
		.strategy = xstrdup("blue-green"),
		.backend = (char *)(uintptr_t)deploy_backend_to_string(DEPLOY_BACKEND_BLUEGREEN),
		.machine = x->m,
		.blue_id = x->blue->id,
		.blue_name = xstrdup(deploy_name(x->blue)),
		.green_id = x->green_id,
		.green_name = x->green_name,
		.from = x->ret->from,
		.to = x->ret->to,
	};
	int r = x->req->journal(x->req->journal_ctx, &j);
	free(j.service);
	free(j.strategy);
	free(j.blue_name);
	return r;
}

static void test_pause(const struct bg_exec *x)
{
	const char *p = getenv(DEPLOY_TEST_PAUSE_ENV);
	if (!p || strcmp(p, bg_phase_to_string(x->m.phase)) != 0)
		return;
	deploy_progress(x->req, "paused in phase %s (%s, test only)", p, DEPLOY_TEST_PAUSE_ENV);
	const char *resume = getenv(DEPLOY_TEST_RESUME_ENV);
	while (wait_abortable(x, resume ? 0.1 : 3600))
		if (resume && access(resume, F_OK) == 0) {
			deploy_progress(x->req, "resumed in phase %s (test only)", p);
			return;
		}
}

/* Running and, with a health check, healthy; without one, running for the
 * stability period. */
static bool serves(const struct docker_inspect *g, double stability, double now_wall)
{
	if (!g->state.running)
		return false;
	if (deploy_has_healthcheck(g))
		return g->state.health_status && strcmp(g->state.health_status, "healthy") == 0;
	return g->state.started_at_time > 0 && now_wall - g->state.started_at_time >= stability;
}

static enum bg_event fail(struct bg_exec *x, enum bg_event ev, const char *fmt, ...)
        RM_PRINTF(3, 4);

static enum bg_event fail(struct bg_exec *x, enum bg_event ev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
	return ev;
}

static void label_set(struct docker_label_ref *l, size_t *n, const char *k, const char *v)
{
	l[*n].key = k;
	l[*n].value = v;
	(*n)++;
}

static enum bg_event do_prepare(struct bg_exec *x)
{
	char ts[32], cpu[32], mem[32];
	snprintf(ts, sizeof(ts), "%lld", (long long)time_wall());
	snprintf(cpu, sizeof(cpu), "%.2f",
	         x->want.set_cpu ? x->want.cpus : deploy_cpu_of(&x->blue->host_config));
	units_format_memory_mib(x->want.set_memory ? (uint64_t)x->want.memory
	                                           : (uint64_t)x->blue->host_config.memory,
	                        mem, sizeof(mem));
	struct docker_label_ref labels[8];
	size_t n = 0;
	label_set(labels, &n, DEPLOY_LABEL_TYPE, "blue-green");
	label_set(labels, &n, DEPLOY_LABEL_PHASE, "green");
	label_set(labels, &n, DEPLOY_LABEL_TIMESTAMP, ts);
	label_set(labels, &n, DEPLOY_LABEL_NEW_CPU, cpu);
	label_set(labels, &n, DEPLOY_LABEL_NEW_MEM, mem);
	label_set(labels, &n, DEPLOY_LABEL_BLUE_ID, x->blue->id);
	label_set(labels, &n, DEPLOY_LABEL_BLUE_NAME, deploy_name(x->blue));
	char err[256];
	int r = docker_json_clone_body(x->blue->raw_json, strlen(x->blue->raw_json), &x->want,
	                               labels, n, &x->clone, err, sizeof(err));
	if (r < 0)
		return fail(x, BG_EV_FAILED, "cannot build the copy of %s: %s",
		            deploy_name(x->blue), err);
	/* A temporary name; green takes blue's name once blue is gone. */
	x->green_name = xasprintf("%s" DISCOVERY_GREEN_INFIX "%s", deploy_name(x->blue), ts);
	/* Green is created without the aliases and gets them once healthy. */
	x->move = x->cfg->blue_green.move_aliases;
	for (size_t i = 0; x->move && i < x->blue->n_networks; i++)
		if (x->blue->networks[i].endpoint_more) {
			/* A reconnect would lose the endpoint's links and driver
			 * options: the aliases stay put, as before move_aliases. */
			deploy_progress(x->req,
			                "%s has links or driver options on %s: its aliases are "
			                "not moved",
			                deploy_name(x->blue), x->blue->networks[i].name);
			x->move = false;
		}
	if (x->move && docker_json_clone_strip_aliases(&x->clone) < 0)
		x->move = false; /* no network of its own: no alias to move */
	return BG_EV_DONE;
}

static enum bg_event do_create(struct bg_exec *x)
{
	char err[256];
	int r = docker_container_create(x->c, x->green_name, x->clone.body, &x->green_id, err,
	                                sizeof(err));
	if (r < 0)
		return fail(x, BG_EV_FAILED, "create %s: %s", x->green_name, err);
	for (size_t i = 0; i < x->clone.n_networks; i++) {
		const struct docker_clone_network *n = &x->clone.networks[i];
		r = docker_network_connect(x->c, n->name, x->green_id,
		                           (const char *const *)n->aliases,
		                           x->move ? 0 : n->n_aliases, err, sizeof(err));
		if (r < 0)
			return fail(x, BG_EV_FAILED, "connect %s to %s: %s", x->green_name, n->name,
			            err);
	}
	return BG_EV_DONE;
}

static enum bg_event do_start(struct bg_exec *x)
{
	/* Subscribe first: the reader asks for events since it started, so no
	 * health event of green is missed even if its stream connects later. */
	struct docker_events_options eo = { .renew = 1 };
	if (!x->ev)
		docker_events_start(x->c, &eo, &x->ev);
	char err[256];
	x->green_started = time_monotonic();
	int r = docker_container_start(x->c, x->green_id, err, sizeof(err));
	if (r < 0)
		return fail(x, BG_EV_FAILED, "start %s: %s", x->green_name, err);
	return BG_EV_DONE;
}

/* Inspects green: 1 serving, 0 not yet (x->why says how it stands), -1
 * failed (x->why says why). */
static int green_check(struct bg_exec *x, bool has_hc)
{
	struct docker_inspect g = { 0 };
	char err[256];
	int r = docker_container_inspect(x->c, x->green_id, &g, err, sizeof(err));
	if (r < 0) {
		fail(x, BG_EV_FAILED, "inspect %s: %s", x->green_name, err);
		return -1;
	}
	int res = 0;
	if (!g.state.running) {
		fail(x, BG_EV_FAILED, "%s stopped (exit code %d%s)", x->green_name,
		     g.state.exit_code, g.state.oom_killed ? ", OOM-killed" : "");
		res = -1;
	} else if (serves(&g, x->cfg->blue_green.stability_period, time_wall())) {
		res = 1;
	} else {
		x->green_pending = !has_hc || (g.state.health_status &&
		                               strcmp(g.state.health_status, "starting") == 0);
		fail(x, BG_EV_FAILED, "%s does not serve (%s)", x->green_name,
		     has_hc ? (g.state.health_status ? g.state.health_status : "no health")
		            : "not running long enough");
	}
	docker_inspect_free(&g);
	return res;
}

static enum bg_event do_wait_healthy(struct bg_exec *x)
{
	bool has_hc = deploy_has_healthcheck(x->blue);
	double deadline = time_monotonic() + x->t.health;
	double next_check = 0; /* a slow safety net in case an event is lost */
	for (;;) {
		double now = time_monotonic();
		if (now >= next_check) {
			int s = green_check(x, has_hc);
			if (s < 0)
				return BG_EV_FAILED;
			if (s > 0) {
				x->ret->green_ready = time_monotonic() - x->green_started;
				return BG_EV_DONE;
			}
			/* Without a health check, the stability period is the clock. */
			next_check = has_hc ? now + 5 : now + 0.5;
		}
		if (aborted(x))
			return fail(x, BG_EV_ABORT, "aborted");
		/* "unhealthy" is not final: a check that timed out on a busy host
		 * can pass again, so only the deadline ends the wait. */
		if (now >= deadline) {
			x->health_failed = true;
			return fail(x, BG_EV_TIMEOUT, "%s not %s within %.0f s", x->green_name,
			            has_hc ? "healthy" : "stable", x->t.health);
		}
		double wait = fmin(0.5, fmin(deadline, next_check) - now);
		struct docker_event e = { 0 };
		if (x->ev && docker_events_next(x->ev, wait > 0 ? wait : 0, &e) == 1) {
			if (e.action == DOCKER_EVENT_RELIST ||
			    (e.id && strcmp(e.id, x->green_id) == 0 &&
			     (e.action == DOCKER_EVENT_HEALTH_STATUS ||
			      e.action == DOCKER_EVENT_DIE || e.action == DOCKER_EVENT_OOM ||
			      e.action == DOCKER_EVENT_DESTROY)))
				next_check = 0;
			docker_event_free(&e);
		} else if (!x->ev) {
			wait_abortable(x, wait > 0 ? wait : 0);
		}
	}
}

/* Waits seconds (settle, drain) and checks green still serves. A green whose
 * health check has not spoken since it was started again (the engine
 * restarted it) gets the health timeout to say; "unhealthy" fails at once. */
static enum bg_event do_hold(struct bg_exec *x, double seconds)
{
	if (!wait_abortable(x, seconds))
		return fail(x, BG_EV_ABORT, "aborted");
	bool has_hc = deploy_has_healthcheck(x->blue);
	double deadline = time_monotonic() + x->t.health;
	for (;;) {
		int s = green_check(x, has_hc);
		if (s != 0)
			return s > 0 ? BG_EV_DONE : BG_EV_FAILED;
		if (!x->green_pending || time_monotonic() >= deadline)
			return BG_EV_FAILED;
		if (!wait_abortable(x, 0.5))
			return fail(x, BG_EV_ABORT, "aborted");
	}
}

/* The user's aliases of n (without the container's own, id-derived ones):
 * a borrowed array of n->n_aliases entries at most, into out; the count. */
static size_t user_aliases(const struct docker_network *n, const char *id, const char **out)
{
	size_t k = 0;
	for (size_t i = 0; i < n->n_aliases; i++)
		if (!docker_json_alias_is_own(n->aliases[i], id))
			out[k++] = n->aliases[i];
	return k;
}

static const struct docker_network *network_of(const struct docker_inspect *c, const char *name)
{
	for (size_t i = 0; i < c->n_networks; i++)
		if (strcmp(c->networks[i].name, name) == 0)
			return &c->networks[i];
	return NULL;
}

/* Takes container id off network net and puts it back with aliases, at
 * address ip when the engine allows one to be asked for (a subnet the user
 * configured); else at the address its IPAM gives, which on Docker 20.10
 * is the one just freed. */
static int reconnect(struct docker_client *c, const char *id, const char *net,
                     const char *const *aliases, size_t n_aliases, const char *ip, bool was_on,
                     char *err, size_t errlen)
{
	int r = was_on ? docker_network_disconnect(c, net, id, false, err, errlen) : 0;
	if (r < 0 && r != -ENOENT)
		return r;
	r = ip && *ip ? docker_network_connect_ip(c, net, id, aliases, n_aliases, ip, err, errlen)
	              : -EINVAL;
	if (r == -EINVAL)
		r = docker_network_connect(c, net, id, aliases, n_aliases, err, errlen);
	return r;
}

/* Gives container cur, on each network ref is on, the user aliases ref has
 * there (ref_id: whose own aliases to leave out), where cur lacks one.
 * 0, or a negative errno with why extended. */
static int relist(struct docker_client *c, const struct docker_inspect *cur,
                  const struct docker_inspect *ref, char *why, size_t whylen)
{
	for (size_t i = 0; i < ref->n_networks; i++) {
		const struct docker_network *rn = &ref->networks[i];
		const char **want = xcalloc(rn->n_aliases + 1, sizeof(*want));
		size_t nw = user_aliases(rn, ref->id, want);
		const struct docker_network *cn = network_of(cur, rn->name);
		bool missing = nw > 0 && !cn;
		for (size_t k = 0; cn && k < nw && !missing; k++) {
			missing = true;
			for (size_t j = 0; j < cn->n_aliases && missing; j++)
				missing = strcmp(cn->aliases[j], want[k]) != 0;
		}
		int r = 0;
		char err[256] = "";
		if (missing)
			r = reconnect(c, cur->id, rn->name, want, nw, cn ? cn->ip_address : NULL,
			              cn != NULL, err, sizeof(err));
		free(want);
		if (r < 0) {
			size_t o = strlen(why);
			snprintf(why + o, whylen - o, "; aliases on %s not given back: %s",
			         rn->name, err);
			return r;
		}
	}
	return 0;
}

/* Green, healthy, gets blue's aliases on each network (connected again
 * with them at its address): routers that find backends through Docker's
 * DNS add it only now that it answers. */
static enum bg_event do_list_green(struct bg_exec *x)
{
	if (!x->move)
		return BG_EV_DONE;
	struct docker_inspect g = { 0 };
	char err[256];
	if (docker_container_inspect(x->c, x->green_id, &g, err, sizeof(err)) < 0)
		return fail(x, BG_EV_FAILED, "inspect %s: %s", x->green_name, err);
	enum bg_event ev = BG_EV_DONE;
	for (size_t i = 0; i <= x->clone.n_networks && ev == BG_EV_DONE; i++) {
		const struct docker_clone_network *n =
		        i == 0 ? &x->clone.primary : &x->clone.networks[i - 1];
		if (!n->name || !n->n_aliases)
			continue;
		const struct docker_network *gn = network_of(&g, n->name);
		deploy_progress(x->req, "list: %s gets %zu alias(es) on %s", x->green_name,
		                n->n_aliases, n->name);
		if (reconnect(x->c, g.id, n->name, (const char *const *)n->aliases, n->n_aliases,
		              gn ? gn->ip_address : NULL, gn != NULL, err, sizeof(err)) < 0)
			ev = fail(x, BG_EV_FAILED, "connect %s to %s with its aliases: %s",
			          x->green_name, n->name, err);
	}
	docker_inspect_free(&g);
	return ev;
}

static enum bg_event do_verify(struct bg_exec *x)
{
	const struct rm_config *cfg = x->cfg;
	char why[sizeof(x->why)];
	if (*cfg->blue_green.verify_url) {
		deploy_progress(x->req, "verify: %u answers in a row of %s must be 2xx",
		                cfg->blue_green.verify_requests, cfg->blue_green.verify_url);
		int r = deploy_probe_url(
		        cfg->blue_green.verify_url, cfg->blue_green.verify_requests,
		        cfg->blue_green.verify_timeout, x->req->abort_flag, why, sizeof(why));
		deploy_progress(x->req, "verify: %s", why);
		if (r == -ECANCELED)
			return fail(x, BG_EV_ABORT, "aborted");
		if (r < 0)
			return fail(x, BG_EV_FAILED, "verify_url %s", why);
	}
	if (!*cfg->blue_green.traefik_api)
		return BG_EV_DONE;
	/* The service Traefik's Docker provider made of the container: the one
	 * its labels name, else the default name from Compose's labels. */
	const struct docker_labels *l = &x->blue->config.labels;
	char *service = NULL;
	bool any = false;
	for (size_t i = 0; i < l->n && !service; i++) {
		const char *k = l->items[i].key;
		any = any || strncmp(k, "traefik.", 8) == 0;
		if (strncmp(k, "traefik.http.services.", 22) == 0 && strchr(k + 22, '.'))
			service = xstrndup(k + 22, (size_t)(strchr(k + 22, '.') - (k + 22)));
	}
	const char *enable = docker_labels_get(l, "traefik.enable");
	if (!any || (enable && strcmp(enable, "false") == 0)) {
		free(service);
		deploy_progress(
		        x->req, "verify: %s is not routed by Traefik (%s); its API not read",
		        deploy_name(x->blue), any ? "traefik.enable=false" : "no traefik.* label");
		return BG_EV_DONE;
	}
	if (!service)
		service = traefik_docker_service_name(
		        docker_labels_get(l, "com.docker.compose.service"),
		        docker_labels_get(l, "com.docker.compose.project"), deploy_name(x->blue));
	struct docker_inspect g = { 0 };
	char err[256];
	int r = docker_container_inspect(x->c, x->green_id, &g, err, sizeof(err));
	if (r < 0 || !service) {
		free(service);
		docker_inspect_free(&g);
		return r < 0 ? fail(x, BG_EV_FAILED, "inspect %s: %s", x->green_name, err)
		             : fail(x, BG_EV_FAILED, "no Traefik service name for %s",
		                    deploy_name(x->blue));
	}
	const char **ips = xcalloc(g.n_networks + 1, sizeof(*ips));
	size_t n_ips = 0;
	for (size_t i = 0; i < g.n_networks; i++)
		if (g.networks[i].ip_address && *g.networks[i].ip_address)
			ips[n_ips++] = g.networks[i].ip_address;
	r = deploy_traefik_wait(cfg->blue_green.traefik_api, service, ips, n_ips,
	                        cfg->blue_green.verify_timeout, x->req->abort_flag, why,
	                        sizeof(why));
	deploy_progress(x->req, "verify: %s", why);
	free(ips);
	free(service);
	docker_inspect_free(&g);
	if (r == -ECANCELED)
		return fail(x, BG_EV_ABORT, "aborted");
	return r < 0 ? fail(x, BG_EV_FAILED, "%s", why) : BG_EV_DONE;
}

/* Blue leaves its networks' aliases (disconnected and connected again
 * without them, at its address): routers that find backends through
 * Docker's DNS stop sending it new requests while it still serves. */
static enum bg_event do_unlist(struct bg_exec *x)
{
	if (!x->move)
		return BG_EV_DONE;
	const struct docker_inspect *b = x->blue;
	for (size_t i = 0; i < b->n_networks; i++) {
		const struct docker_network *n = &b->networks[i];
		const char **a = xcalloc(n->n_aliases + 1, sizeof(*a));
		size_t na = user_aliases(n, b->id, a);
		free(a);
		if (!na)
			continue;
		deploy_progress(x->req, "unlist: %s leaves its %zu alias(es) on %s", deploy_name(b),
		                na, n->name);
		x->unlisted = true;
		char err[256];
		int r = reconnect(x->c, b->id, n->name, NULL, 0, n->ip_address, true, err,
		                  sizeof(err));
		if (r < 0)
			return fail(x, BG_EV_FAILED, "reconnect %s to %s without aliases: %s",
			            deploy_name(b), n->name, err);
	}
	if (!x->unlisted)
		return BG_EV_DONE;
	/* A new address would be one the router does not know, and the old one
	 * would answer nothing until the router re-resolves: say so. */
	struct docker_inspect now = { 0 };
	char err[256];
	if (docker_container_inspect(x->c, b->id, &now, err, sizeof(err)) == 0)
		for (size_t i = 0; i < b->n_networks; i++) {
			const struct docker_network *was = &b->networks[i];
			const struct docker_network *is = network_of(&now, was->name);
			if (is && was->ip_address && is->ip_address &&
			    strcmp(was->ip_address, is->ip_address) != 0)
				deploy_progress(
				        x->req,
				        "unlist: warning: %s's address on %s changed from %s "
				        "to %s",
				        deploy_name(b), was->name, was->ip_address, is->ip_address);
		}
	docker_inspect_free(&now);
	return BG_EV_DONE;
}

static int stop_grace(const struct docker_inspect *c)
{
	return c->config.stop_timeout >= 0 ? c->config.stop_timeout : 10;
}

static enum bg_event do_stop_blue(struct bg_exec *x)
{
	char err[256];
	int r = docker_container_stop(x->c, x->blue->id, stop_grace(x->blue), err, sizeof(err));
	if (r < 0 && r != -ENOENT)
		return fail(x, BG_EV_FAILED, "stop %s: %s", deploy_name(x->blue), err);
	return BG_EV_DONE;
}

static enum bg_event do_remove_blue(struct bg_exec *x)
{
	char err[256];
	int r = docker_container_remove(x->c, x->blue->id, false, false, err, sizeof(err));
	if (r < 0 && r != -ENOENT)
		return fail(x, BG_EV_FAILED, "remove %s: %s", deploy_name(x->blue), err);
	return BG_EV_DONE;
}

/* Whether g holds the limits want asks for (blue's for what want leaves). */
static bool limits_hold(const struct docker_inspect *g, const struct docker_inspect *blue,
                        const struct docker_limits *want)
{
	double cpu = want && want->set_cpu ? want->cpus : deploy_cpu_of(&blue->host_config);
	int64_t mem = want && want->set_memory ? want->memory : blue->host_config.memory;
	return fabs(deploy_cpu_of(&g->host_config) - cpu) < 0.005 && g->host_config.memory == mem;
}

/* Every label of blue outside deployment.* is on g with the same bytes. */
static bool labels_kept(const struct docker_inspect *g, const struct docker_inspect *blue)
{
	for (size_t i = 0; i < blue->config.labels.n; i++) {
		const struct docker_label *l = &blue->config.labels.items[i];
		if (strncmp(l->key, "deployment.", 11) == 0)
			continue;
		const char *v = docker_labels_get(&g->config.labels, l->key);
		if (!v || strcmp(v, l->value) != 0)
			return false;
	}
	return true;
}

static enum bg_event do_finalize(struct bg_exec *x)
{
	char err[256];
	const char *name = deploy_name(x->blue);
	if (strcmp(x->green_name, name) != 0) {
		int r = docker_container_rename(x->c, x->green_id, name, err, sizeof(err));
		if (r < 0)
			return fail(x, BG_EV_FAILED, "rename %s to %s: %s", x->green_name, name,
			            err);
		free(x->green_name);
		x->green_name = xstrdup(name);
	}
	struct docker_inspect g = { 0 };
	int r = docker_container_inspect(x->c, x->green_id, &g, err, sizeof(err));
	if (r < 0)
		return fail(x, BG_EV_FAILED, "inspect %s: %s", name, err);
	enum bg_event ev = BG_EV_DONE;
	if (!limits_hold(&g, x->blue, &x->want))
		ev = fail(x, BG_EV_FAILED, "%s does not hold the new limits", name);
	else if (!labels_kept(&g, x->blue))
		ev = fail(x, BG_EV_FAILED, "%s lost some of blue's labels", name);
	docker_inspect_free(&g);
	return ev;
}

/* Waits until container id serves (bounded); 0 or -ETIMEDOUT. */
static int wait_serving(struct bg_exec *x, const char *id, double seconds)
{
	double end = time_monotonic() + seconds;
	for (;;) {
		struct docker_inspect b = { 0 };
		char err[256];
		bool ok = docker_container_inspect(x->c, id, &b, err, sizeof(err)) == 0 &&
		          serves(&b, x->cfg->blue_green.stability_period, time_wall());
		docker_inspect_free(&b);
		if (ok)
			return 0;
		if (time_monotonic() >= end)
			return -ETIMEDOUT;
		struct timespec ts = { 0, 200000000 };
		nanosleep(&ts, NULL);
	}
}

/* Takes running container g (as inspected) off its aliases on every network
 * where it has some; true when it left at least one. Best effort: a network
 * it could not leave is said through req (may be NULL). */
static bool unlist_container(struct docker_client *c, const struct docker_inspect *g,
                             const struct deploy_request *req)
{
	bool left = false;
	for (size_t i = 0; g->state.running && i < g->n_networks; i++) {
		const struct docker_network *n = &g->networks[i];
		const char **a = xcalloc(n->n_aliases + 1, sizeof(*a));
		size_t na = user_aliases(n, g->id, a);
		free(a);
		if (!na)
			continue;
		char err[256];
		if (reconnect(c, g->id, n->name, NULL, 0, n->ip_address, true, err, sizeof(err)) <
		    0) {
			if (req)
				deploy_progress(req, "rollback: %s keeps its aliases on %s: %s",
				                deploy_name(g), n->name, err);
		} else {
			left = true;
		}
	}
	return left;
}

/* Before green goes: like blue before its stop, green leaves its aliases and
 * the router gets the drain time to notice, so that removing it fails no
 * request the router still sends it. Best effort: the removal follows. */
static void unlist_green(struct bg_exec *x)
{
	struct docker_inspect g = { 0 };
	char err[256];
	if (!x->cfg->blue_green.move_aliases || !x->green_id ||
	    docker_container_inspect(x->c, x->green_id, &g, err, sizeof(err)) < 0)
		return;
	bool left = unlist_container(x->c, &g, x->req);
	docker_inspect_free(&g);
	if (!left)
		return;
	double wait = x->req->drain ? x->t.drain : 0;
	deploy_progress(x->req, "rollback: %s left its aliases; %.1f s for the router to notice",
	                x->green_name, wait);
	wait_abortable(x, wait);
}

/* Undo: blue serves again (restarted if it was stopped), then green goes. */
static enum bg_event do_rollback(struct bg_exec *x)
{
	char err[256];
	struct docker_inspect b = { 0 };
	int r = docker_container_inspect(x->c, x->blue->id, &b, err, sizeof(err));
	bool blue_exists = r == 0;
	bool blue_running = blue_exists && b.state.running;
	docker_inspect_free(&b);
	if (r < 0 && r != -ENOENT) {
		/* Not "gone": the engine did not say (it may be down). */
		snprintf(x->why + strlen(x->why), sizeof(x->why) - strlen(x->why),
		         "; cannot see %s: %s", deploy_name(x->blue), err);
		return BG_EV_FAILED;
	}
	if (!blue_exists) {
		/* Blue is gone: green is all there is; keep it if it serves. */
		snprintf(x->why + strlen(x->why), sizeof(x->why) - strlen(x->why),
		         "; blue is gone, %s left in place",
		         x->green_name ? x->green_name : "green");
		return BG_EV_FAILED;
	}
	if (!blue_running) {
		deploy_progress(x->req, "rollback: starting %s again", deploy_name(x->blue));
		r = docker_container_start(x->c, x->blue->id, err, sizeof(err));
		if (r < 0 || wait_serving(x, x->blue->id, x->t.rollback) < 0) {
			snprintf(x->why + strlen(x->why), sizeof(x->why) - strlen(x->why),
			         "; blue did not serve again%s%s", r < 0 ? ": " : "",
			         r < 0 ? err : "");
			return BG_EV_FAILED;
		}
	}
	if (x->unlisted) {
		deploy_progress(x->req, "rollback: %s gets its aliases back", deploy_name(x->blue));
		r = docker_container_inspect(x->c, x->blue->id, &b, err, sizeof(err));
		if (r == 0)
			r = relist(x->c, &b, x->blue, x->why, sizeof(x->why));
		else
			snprintf(x->why + strlen(x->why), sizeof(x->why) - strlen(x->why),
			         "; inspect %s: %s", deploy_name(x->blue), err);
		docker_inspect_free(&b);
		if (r < 0)
			return BG_EV_FAILED;
	}
	const char *g = x->green_id ? x->green_id : x->green_name;
	if (g) {
		unlist_green(x);
		deploy_progress(x->req, "rollback: removing %s", x->green_name);
		r = docker_container_remove(x->c, g, true, false, err, sizeof(err));
		if (r < 0 && r != -ENOENT) {
			snprintf(x->why + strlen(x->why), sizeof(x->why) - strlen(x->why),
			         "; green not removed: %s", err);
			return BG_EV_FAILED;
		}
	}
	/* Verify blue holds the limits it had. */
	r = docker_container_inspect(x->c, x->blue->id, &b, err, sizeof(err));
	bool same = r == 0 && limits_hold(&b, x->blue, NULL);
	docker_inspect_free(&b);
	return same ? BG_EV_DONE : BG_EV_FAILED;
}

static enum bg_event run_phase(struct bg_exec *x)
{
	switch (x->m.phase) {
	case BG_PREPARE:
		return do_prepare(x);
	case BG_CREATE_GREEN:
		return do_create(x);
	case BG_START_GREEN:
		return do_start(x);
	case BG_WAIT_HEALTHY:
		return do_wait_healthy(x);
	case BG_LIST_GREEN:
		return do_list_green(x);
	case BG_SETTLE:
		return do_hold(x, x->t.settle);
	case BG_VERIFY:
		return do_verify(x);
	case BG_UNLIST_BLUE:
		return do_unlist(x);
	case BG_DRAIN_BLUE:
		return do_hold(x, x->req->drain ? x->t.drain : 0);
	case BG_STOP_BLUE:
		return do_stop_blue(x);
	case BG_REMOVE_BLUE:
		return do_remove_blue(x);
	case BG_FINALIZE:
		return do_finalize(x);
	case BG_ROLLBACK:
		return do_rollback(x);
	default:
		return BG_EV_FAILED;
	}
}

static void set_timeouts(struct bg_exec *x)
{
	const struct rm_config *cfg = x->cfg;
	x->t = (struct bg_timeouts){
		.docker_call = cfg->docker.timeout > 0 ? cfg->docker.timeout : 30,
		.health = x->req->health_timeout > 0 ? x->req->health_timeout
		                                     : cfg->blue_green.health_check_timeout,
		.settle = cfg->blue_green.settle_time,
		.verify = (*cfg->blue_green.verify_url ? cfg->blue_green.verify_timeout : 0) +
		          (*cfg->blue_green.traefik_api ? cfg->blue_green.verify_timeout : 0),
		.drain = cfg->blue_green.drain_time,
		.stop_grace = stop_grace(x->blue),
		.rollback = cfg->blue_green.rollback_timeout,
	};
	/* Without a health check, green must outlast the stability period. */
	if (!deploy_has_healthcheck(x->blue) && x->t.health < cfg->blue_green.stability_period + 5)
		x->t.health = cfg->blue_green.stability_period + 5;
}

static void finish(struct bg_exec *x)
{
	struct deploy_result *ret = x->ret;
	ret->health_timeout = x->health_failed;
	switch (x->m.phase) {
	case BG_DONE:
		ret->outcome = DEPLOY_APPLIED;
		snprintf(ret->message, sizeof(ret->message),
		         "blue-green: %s replaced by a copy with the new limits (ready in %.1f s)",
		         deploy_name(x->blue), ret->green_ready);
		break;
	case BG_ROLLED_BACK:
		ret->outcome = DEPLOY_ROLLED_BACK;
		snprintf(ret->message, sizeof(ret->message),
		         "blue-green failed in %s (%s); rolled back, %s serves with its limits",
		         bg_phase_to_string(x->m.failed_in), x->why, deploy_name(x->blue));
		break;
	default:
		ret->outcome = DEPLOY_FAILED;
		ret->rollback_failed = x->rollback_failed;
		snprintf(ret->message, sizeof(ret->message),
		         "blue-green failed in %s (%s)%s; manual attention needed",
		         bg_phase_to_string(x->m.failed_in), x->why,
		         x->m.rollback_enabled ? "" : ", rollback disabled");
		break;
	}
}

int deploy_bluegreen_one(struct docker_client *c, const struct rm_config *cfg,
                         const struct deploy_request *req, const struct docker_inspect *blue,
                         const struct docker_limits *want, struct deploy_result *ret)
{
	struct bg_exec x = { .c = c, .cfg = cfg, .req = req, .ret = ret, .blue = blue };
	x.want = *want;
	set_timeouts(&x);
	bg_init(&x.m, time_wall(), req->rollback);
	if (journal(&x) < 0) {
		ret->outcome = DEPLOY_SKIPPED;
		snprintf(ret->message, sizeof(ret->message),
		         "cannot persist the deployment journal; nothing changed");
		return 0;
	}
	while (!bg_phase_is_terminal(x.m.phase)) {
		enum bg_phase was = x.m.phase;
		test_pause(&x);
		enum bg_event ev = run_phase(&x);
		/* An abort is honoured while blue is untouched; once blue is being
		 * stopped, finishing forward is the quicker way to one container. */
		if (ev == BG_EV_DONE && aborted(&x) && !bg_phase_blue_touched(x.m.phase) &&
		    x.m.phase != BG_ROLLBACK) {
			ev = BG_EV_ABORT;
			snprintf(x.why, sizeof(x.why), "aborted");
		}
		if (was == BG_ROLLBACK && ev != BG_EV_DONE)
			x.rollback_failed = true;
		if (bg_step(&x.m, ev, time_wall()) < 0) {
			/* An abort during rollback has no edge: the undo goes on. */
			continue;
		}
		deploy_progress(req, "phase %s -> %s%s%s", bg_phase_to_string(was),
		                bg_phase_to_string(x.m.phase), ev == BG_EV_DONE ? "" : ": ",
		                ev == BG_EV_DONE ? "" : x.why);
		/* Write-ahead: a phase that cannot be journaled is not entered;
		 * while blue is untouched that means rolling back. */
		if (journal(&x) < 0 && !bg_phase_is_terminal(x.m.phase) &&
		    !bg_phase_blue_touched(x.m.phase) && x.m.phase != BG_ROLLBACK) {
			snprintf(x.why, sizeof(x.why), "cannot persist the journal");
			bg_step(&x.m, BG_EV_ABORT, time_wall());
			deploy_progress(req, "phase -> %s: %s", bg_phase_to_string(x.m.phase),
			                x.why);
			journal(&x);
		}
	}
	finish(&x);
	docker_events_stop(x.ev);
	docker_clone_free(&x.clone);
	free(x.green_name);
	free(x.green_id);
	return 0;
}

void deploy_bluegreen_plan(const struct docker_inspect *blue, const struct docker_limits *want,
                           struct deploy_result *ret)
{
	struct docker_clone cl = { 0 };
	char err[256] = "";
	int r = docker_json_clone_body(blue->raw_json, strlen(blue->raw_json), want, NULL, 0, &cl,
	                               err, sizeof(err));
	ret->outcome = r < 0 ? DEPLOY_SKIPPED : DEPLOY_DRY_RUN;
	if (r < 0)
		snprintf(ret->message, sizeof(ret->message), "dry run: cannot copy %s: %s",
		         deploy_name(blue), err);
	else
		snprintf(ret->message, sizeof(ret->message),
		         "dry run: would start a copy of %s with the new limits (%zu extra "
		         "network(s)), wait until it is healthy, then drain and remove %s",
		         deploy_name(blue), cl.n_networks, deploy_name(blue));
	docker_clone_free(&cl);
}

/* ---- reconciliation ---- */

struct recon_ctx {
	struct docker_client *c;
	const struct rm_config *cfg;
	struct deploy_result *ret;
};

static void recon_msg(struct recon_ctx *rc, enum deploy_outcome o, const char *fmt, ...)
        RM_PRINTF(3, 4);

static void recon_msg(struct recon_ctx *rc, enum deploy_outcome o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rc->ret->message, sizeof(rc->ret->message), fmt, ap);
	va_end(ap);
	rc->ret->outcome = o;
}

/* Inspects ref: 1 found, 0 gone, <0 engine error. */
static int inspect_opt(struct recon_ctx *rc, const char *ref, struct docker_inspect *ret)
{
	char err[256];
	if (!ref || !*ref)
		return 0;
	int r = docker_container_inspect(rc->c, ref, ret, err, sizeof(err));
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		recon_msg(rc, DEPLOY_SKIPPED, "cannot inspect %s: %s", ref, err);
		return r;
	}
	return 1;
}

static int wait_ref_serving(struct recon_ctx *rc, const char *id, double seconds)
{
	struct bg_exec x = { .c = rc->c, .cfg = rc->cfg };
	return wait_serving(&x, id, seconds);
}

/* Ends one interrupted deployment journaled (or found) in phase. */
static int reconcile_one(struct recon_ctx *rc, enum bg_phase phase, const char *blue_ref,
                         const char *green_ref, const char *final_name)
{
	struct docker_inspect b = { 0 }, g = { 0 };
	char err[256];
	int hb = inspect_opt(rc, blue_ref, &b);
	int hg = hb < 0 ? hb : inspect_opt(rc, green_ref, &g);
	int r = hb < 0 ? hb : hg < 0 ? hg : 0;
	if (r < 0)
		goto out;
	/* A copy whose health check has not spoken yet (the engine restarted
	 * it, say): its verdict decides, so wait for it, bounded. */
	if (hg > 0 && g.state.running && deploy_has_healthcheck(&g) && g.state.health_status &&
	    strcmp(g.state.health_status, "starting") == 0) {
		wait_ref_serving(rc, g.id, rc->cfg->blue_green.health_check_timeout);
		docker_inspect_free(&g);
		memset(&g, 0, sizeof(g));
		hg = inspect_opt(rc, green_ref, &g);
		if (hg < 0) {
			r = hg;
			goto out;
		}
	}
	struct bg_facts f = {
		.blue_exists = hb > 0,
		.blue_running = hb > 0 && b.state.running,
		.green_exists = hg > 0,
		.green_running = hg > 0 && g.state.running,
		.green_healthy =
		        hg > 0 && serves(&g, rc->cfg->blue_green.stability_period, time_wall()),
	};
	enum bg_recovery rec = bg_recover(phase, &f);
	/* A finished deployment whose green still has its temporary name. */
	if (rec == BG_RECOVER_NOTHING && f.green_exists && !f.blue_exists && final_name &&
	    strcmp(deploy_name(&g), final_name) != 0 && f.green_healthy)
		rec = BG_RECOVER_ROLL_FORWARD;
	switch (rec) {
	case BG_RECOVER_NOTHING:
		recon_msg(rc, DEPLOY_SKIPPED, "nothing to do: the service is consistent");
		break;
	case BG_RECOVER_ROLL_BACK:
		if (!f.blue_running) {
			r = docker_container_start(rc->c, b.id, err, sizeof(err));
			if (r < 0 ||
			    wait_ref_serving(rc, b.id, rc->cfg->blue_green.rollback_timeout) < 0) {
				recon_msg(rc, DEPLOY_FAILED, "could not restart %s%s%s",
				          deploy_name(&b), r < 0 ? ": " : "", r < 0 ? err : "");
				rc->ret->rollback_failed = true;
				r = 0;
				break;
			}
		}
		if (f.green_exists) {
			/* Blue may have left its aliases (move_aliases): green, its
			 * copy, holds them. */
			struct docker_inspect now = { 0 };
			char why[400] = "";
			r = docker_container_inspect(rc->c, b.id, &now, err, sizeof(err));
			if (r == 0)
				r = relist(rc->c, &now, &g, why, sizeof(why));
			else
				snprintf(why, sizeof(why), "; inspect %s: %s", deploy_name(&b),
				         err);
			docker_inspect_free(&now);
			if (r < 0) {
				recon_msg(rc, DEPLOY_FAILED, "could not give %s its aliases back%s",
				          deploy_name(&b), why);
				rc->ret->rollback_failed = true;
				r = 0;
				break;
			}
			/* Green, maybe still in the router's pool, leaves it first. */
			if (rc->cfg->blue_green.move_aliases && unlist_container(rc->c, &g, NULL)) {
				double wait = fmin(rc->cfg->blue_green.drain_time,
				                   rc->cfg->blue_green.rollback_timeout);
				struct timespec ts = { (time_t)wait,
					               (long)((wait - floor(wait)) * 1e9) };
				nanosleep(&ts, NULL);
			}
			r = docker_container_remove(rc->c, g.id, true, false, err, sizeof(err));
			if (r < 0 && r != -ENOENT) {
				recon_msg(rc, DEPLOY_FAILED, "could not remove %s: %s",
				          deploy_name(&g), err);
				rc->ret->rollback_failed = true;
				r = 0;
				break;
			}
		}
		r = 0;
		recon_msg(rc, DEPLOY_ROLLED_BACK, "rolled back: %s serves with its limits%s%s",
		          deploy_name(&b), f.green_exists ? ", removed " : "",
		          f.green_exists ? deploy_name(&g) : "");
		break;
	case BG_RECOVER_ROLL_FORWARD:
		if (f.blue_exists) {
			if (f.blue_running)
				docker_container_stop(rc->c, b.id, stop_grace(&b), err,
				                      sizeof(err));
			r = docker_container_remove(rc->c, b.id, true, false, err, sizeof(err));
			if (r < 0 && r != -ENOENT) {
				recon_msg(rc, DEPLOY_FAILED, "could not remove %s: %s",
				          deploy_name(&b), err);
				r = 0;
				break;
			}
		}
		if (final_name && strcmp(deploy_name(&g), final_name) != 0) {
			r = docker_container_rename(rc->c, g.id, final_name, err, sizeof(err));
			if (r < 0) {
				recon_msg(rc, DEPLOY_FAILED, "could not rename %s to %s: %s",
				          deploy_name(&g), final_name, err);
				r = 0;
				break;
			}
		}
		r = 0;
		recon_msg(rc, DEPLOY_APPLIED, "finished: %s serves with the new limits",
		          final_name ? final_name : deploy_name(&g));
		break;
	default:
		recon_msg(rc, DEPLOY_FAILED,
		          "neither container can serve (blue %s, green %s): touching nothing",
		          f.blue_exists ? (f.blue_running ? "running" : "stopped") : "gone",
		          f.green_exists ? (f.green_running ? "not healthy" : "stopped") : "gone");
		break;
	}
out:
	docker_inspect_free(&b);
	docker_inspect_free(&g);
	return r;
}

/* Without a journal: copies of a container of the service (deployment.blue_id)
 * whose deployment did not end. */
static int reconcile_labels(struct recon_ctx *rc, const char *service)
{
	struct docker_container_list list = { 0 };
	char err[256];
	int r = docker_containers_list(rc->c, true, NULL, 0, &list, err, sizeof(err));
	if (r < 0) {
		recon_msg(rc, DEPLOY_SKIPPED, "cannot list containers: %s", err);
		return r;
	}
	struct discovery_rules rules = { rc->cfg->services.project,
		                         rc->cfg->services.label_opt_in };
	struct discovery_group grp = { 0 };
	discovery_group_services(&list, &service, 1, &rules, false, &grp);
	unsigned found = 0;
	for (size_t i = 0; i < grp.n && r == 0; i++) {
		const struct docker_container_summary *s = &list.items[grp.idx[i]];
		const char *blue_id = docker_labels_get(&s->labels, DEPLOY_LABEL_BLUE_ID);
		const char *blue_name = docker_labels_get(&s->labels, DEPLOY_LABEL_BLUE_NAME);
		if (!blue_id || !blue_name)
			continue;
		const char *gname = s->n_names ? s->names[0] + (s->names[0][0] == '/') : "";
		struct docker_inspect b = { 0 };
		int hb = inspect_opt(rc, blue_id, &b);
		bool blue_running = hb > 0 && b.state.running;
		docker_inspect_free(&b);
		if (hb < 0) {
			r = hb;
			break;
		}
		enum bg_phase phase;
		if (hb > 0)
			phase = blue_running ? BG_WAIT_HEALTHY : BG_STOP_BLUE;
		else if (strcmp(gname, blue_name) != 0)
			phase = BG_FINALIZE;
		else
			continue; /* a deployment that ended */
		found++;
		r = reconcile_one(rc, phase, hb > 0 ? blue_id : NULL, s->id, blue_name);
	}
	discovery_group_free(&grp);
	docker_container_list_free(&list);
	if (r == 0 && found == 0)
		recon_msg(rc, DEPLOY_SKIPPED, "nothing to reconcile for %s", service);
	return r;
}

int deploy_bluegreen_reconcile_labels(struct docker_client *c, const struct rm_config *cfg,
                                      const char *service, struct deploy_result *ret)
{
	struct recon_ctx rc = { c, cfg, ret };
	return reconcile_labels(&rc, service);
}

int deploy_bluegreen_reconcile(struct docker_client *c, const struct rm_config *cfg,
                               const struct state_journal *j, const char *service,
                               struct deploy_result *ret)
{
	if (!j)
		return deploy_bluegreen_reconcile_labels(c, cfg, service, ret);
	struct recon_ctx rc = { c, cfg, ret };
	ret->strategy = STRATEGY_BLUE_GREEN;
	return reconcile_one(&rc, j->machine.phase, j->blue_id,
	                     j->green_id ? j->green_id : j->green_name, j->blue_name);
}
