/* deploy_swarm: the Swarm backend: new limits go to the service's spec
 * (POST /services/{id}/update) and Swarm rolls the tasks, start-first, with
 * automatic rollback; this follows UpdateStatus to its end, rolls back
 * itself when Swarm pauses, and keeps the change in progress and the last
 * known good limits in the service's labels (Swarm's Raft store), so an
 * instance with an empty /data reconciles from the cluster alone. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deploy_internal.h"
#include "rm/util.h"

/* Tries of an update whose version another writer outdated. */
#define SWARM_CONFLICT_TRIES 5
/* How often UpdateStatus is read while an update runs (seconds). */
#define SWARM_POLL 0.5

struct swarm_exec {
	struct docker_client *c;
	const struct rm_config *cfg;
	const struct deploy_request *req; /* NULL when reconciling */
	struct deploy_result *ret;
	char *id;
	char *name;
	char err[256];
};

int deploy_swarm_find(struct docker_client *c, const struct rm_config *cfg, const char *service,
                      struct swarm_service *ret, char *err, size_t errlen)
{
	struct swarm_service_list l = { 0 };
	int r = swarm_services_list(c, &l, err, errlen);
	if (r < 0)
		return r == -ENOTCONN ? -ENOENT : r;
	long k = swarm_service_select(&l, service, cfg->services.project);
	size_t found = k < 0 ? l.n : (size_t)k;
	if (found == l.n) {
		snprintf(err, errlen, "no Swarm service %s", service);
		r = -ENOENT;
	} else {
		*ret = l.items[found];
		memset(&l.items[found], 0, sizeof(l.items[found]));
		l.items[found].name = xstrdup("");
	}
	swarm_service_list_free(&l);
	return r;
}

bool deploy_swarm_changed(struct docker_client *c, const struct rm_config *cfg, const char *service)
{
	struct swarm_service s = { 0 };
	char err[256];
	bool changed = deploy_swarm_find(c, cfg, service, &s, err, sizeof(err)) == 0 &&
	               docker_labels_get(&s.labels, DEPLOY_SWARM_LABEL_CHANGE);
	swarm_service_free(&s);
	return changed;
}

/* "cpu=0.50 memory=67108864": limits totals as a label value. */
static void limits_label(const struct state_limits *l, char *buf, size_t len)
{
	snprintf(buf, len, "cpu=%.3f memory=%" PRIu64, l->cpu, l->memory);
}

static bool limits_parse(const char *v, struct state_limits *ret)
{
	double cpu;
	unsigned long long mem;
	if (!v || sscanf(v, "cpu=%lf memory=%llu", &cpu, &mem) != 2 || !(cpu >= 0))
		return false;
	*ret = (struct state_limits){ true, cpu, mem };
	return true;
}

static void progress(struct swarm_exec *x, const char *fmt, ...) RM_PRINTF(2, 3);
static void progress(struct swarm_exec *x, const char *fmt, ...)
{
	if (!x->req || !x->req->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *line = xvasprintf(fmt, ap);
	va_end(ap);
	x->req->progress(x->req->progress_ctx, line);
	free(line);
}

static int journal(struct swarm_exec *x, enum bg_phase phase)
{
	if (!x->req || !x->req->journal)
		return 0;
	struct state_journal j = {
		.service = (char *)(uintptr_t)x->req->service,
		.strategy = (char *)(uintptr_t)deploy_strategy_to_string(x->ret->strategy),
		.backend = (char *)(uintptr_t)deploy_backend_to_string(DEPLOY_BACKEND_SWARM),
		.machine = { .phase = phase },
		.blue_id = x->id,
		.blue_name = x->name,
		.from = x->ret->from,
		.to = x->ret->to,
	};
	return x->req->journal(x->req->journal_ctx, &j);
}

/* The labels an update writes: the change in progress (set) and the last
 * known good limits. */
static size_t change_labels(const struct deploy_result *ret, bool in_progress, char *chg,
                            char *good, size_t len, struct docker_label_ref *l)
{
	limits_label(&ret->to, chg, len);
	limits_label(in_progress ? &ret->from : &ret->to, good, len);
	l[0] = (struct docker_label_ref){ DEPLOY_SWARM_LABEL_CHANGE, in_progress ? chg : NULL };
	l[1] = (struct docker_label_ref){ DEPLOY_SWARM_LABEL_GOOD, good };
	return 2;
}

/* One update of the service's spec: limits (u) and labels, retried on a
 * fresh spec while another writer outdates the version. *ret_started gets
 * the UpdateStatus.StartedAt seen before (owned, may be NULL). */
static int update(struct swarm_exec *x, struct swarm_update *u, bool rollback, char **ret_started)
{
	int r = -EAGAIN;
	for (int i = 0; i < SWARM_CONFLICT_TRIES && r == -EAGAIN; i++) {
		struct swarm_service s = { 0 };
		r = swarm_service_inspect(x->c, x->id, &s, x->err, sizeof(x->err));
		char *body = NULL;
		if (r == 0 && rollback)
			body = xstrdup(s.spec);
		else if (r == 0 && (!u || swarm_json_update_body(s.spec, u, &body) < 0))
			r = -EINVAL;
		if (r == 0)
			r = swarm_service_update(x->c, x->id, s.version, body, rollback, x->err,
			                         sizeof(x->err));
		if (r == 0 && ret_started) {
			*ret_started = s.update_started;
			s.update_started = NULL;
		}
		if (r == -EAGAIN)
			progress(x,
			         "swarm: version %" PRIu64 " outdated by another writer, retrying",
			         s.version);
		free(body);
		swarm_service_free(&s);
	}
	return r;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Follows UpdateStatus until the update started after `before` ends or
 * timeout seconds pass. Returns the final state (owned) or NULL on timeout,
 * abort or error (x->err). */
static char *follow(struct swarm_exec *x, const char *before, double timeout)
{
	double end = time_monotonic() + timeout;
	char *last = NULL;
	while (time_monotonic() < end) {
		if (x->req && x->req->abort_flag && *x->req->abort_flag) {
			snprintf(x->err, sizeof(x->err), "aborted");
			break;
		}
		struct swarm_service s = { 0 };
		if (swarm_service_inspect(x->c, x->id, &s, x->err, sizeof(x->err)) < 0)
			break;
		const char *st = s.update_state;
		bool ours = st && !same(s.update_started, before);
		if (ours && (!last || strcmp(last, st) != 0)) {
			progress(x, "swarm: update %s%s%s", st, s.update_message ? ": " : "",
			         s.update_message ? s.update_message : "");
			free(last);
			last = xstrdup(st);
		}
		bool done = ours && (strcmp(st, "completed") == 0 || strstr(st, "paused") ||
		                     strcmp(st, "rollback_completed") == 0);
		swarm_service_free(&s);
		if (done)
			return last;
		struct timespec ts = { 0, (long)(SWARM_POLL * 1e9) };
		nanosleep(&ts, NULL);
	}
	if (!x->err[0])
		snprintf(x->err, sizeof(x->err), "no end of the update within %.0f s (last %s)",
		         timeout, last ? last : "no status");
	free(last);
	return NULL;
}

static double follow_timeout(const struct swarm_exec *x, uint64_t replicas)
{
	double per = x->cfg->blue_green.health_check_timeout;
	if (x->req && x->req->health_timeout > 0)
		per = x->req->health_timeout;
	return 30 + per * (double)(replicas ? replicas : 1);
}

/* The change is over (applied or undone): the change label goes, the last
 * known good is what now runs. A label-only update restarts no task. */
static void finalize_labels(struct swarm_exec *x, bool applied)
{
	char chg[64], good[64];
	struct docker_label_ref l[2];
	struct deploy_result r = *x->ret;
	if (!applied)
		r.to = r.from;
	struct swarm_update u = { .labels = l,
		                  .n_labels = change_labels(&r, false, chg, good, sizeof(chg), l) };
	char e[256];
	snprintf(e, sizeof(e), "%s", x->err);
	if (update(x, &u, false, NULL) < 0)
		progress(x, "swarm: cannot clear the change label (%s); reconcile clears it",
		         x->err);
	snprintf(x->err, sizeof(x->err), "%s", e);
}

/* Asks Swarm to go back to the previous spec and follows it. */
static bool roll_back(struct swarm_exec *x, double timeout)
{
	char *before = NULL;
	journal(x, BG_ROLLBACK);
	progress(x, "swarm: rolling back to the previous spec");
	if (update(x, NULL, true, &before) < 0) {
		free(before);
		return false;
	}
	char *st = follow(x, before, timeout);
	bool ok = st && strcmp(st, "rollback_completed") == 0;
	free(st);
	free(before);
	return ok;
}

/* Ends a followed update whose final state is st (NULL: timeout/abort). */
static void conclude(struct swarm_exec *x, const char *st, double timeout)
{
	struct deploy_result *ret = x->ret;
	if (st && strcmp(st, "completed") == 0) {
		ret->outcome = DEPLOY_APPLIED;
		finalize_labels(x, true);
		snprintf(ret->message, sizeof(ret->message),
		         "Swarm rolled the %u task(s) of %s to the new limits", ret->replicas,
		         x->name);
		return;
	}
	if (st && strcmp(st, "rollback_completed") == 0) {
		ret->outcome = DEPLOY_ROLLED_BACK;
		ret->health_timeout = true;
		snprintf(ret->message, sizeof(ret->message),
		         "the new tasks of %s did not become healthy; Swarm rolled back to the "
		         "previous limits",
		         x->name);
		return;
	}
	char why[300];
	snprintf(why, sizeof(why), "%s", st ? st : x->err);
	bool undone = x->req && !x->req->rollback ? false : roll_back(x, timeout);
	ret->outcome = undone ? DEPLOY_ROLLED_BACK : DEPLOY_FAILED;
	ret->rollback_failed = !undone && (!x->req || x->req->rollback);
	ret->health_timeout = undone && !(x->req && x->req->abort_flag && *x->req->abort_flag);
	if (undone)
		finalize_labels(x, false);
	snprintf(ret->message, sizeof(ret->message), "Swarm update of %s ended %s; %s", x->name,
	         why,
	         undone ? "rolled back to the previous limits" : "previous limits NOT restored");
}

static int swarm_apply(const struct apply_args *a, struct deploy_result *ret)
{
	const struct swarm_service *svc = a->svc;
	struct swarm_exec x = { a->c, a->cfg, a->req, ret, svc->id, svc->name, "" };
	bool stateful = strlist_contains(&a->cfg->services.stateful, a->req->service);
	ret->strategy = stateful ? STRATEGY_IN_PLACE : STRATEGY_BLUE_GREEN;
	if (a->req->dry_run) {
		ret->outcome = DEPLOY_DRY_RUN;
		snprintf(ret->message, sizeof(ret->message),
		         "dry run: would update Swarm service %s (%s, rollback on failure)",
		         svc->name, stateful ? "stop-first, one task at a time" : "start-first");
		return 0;
	}
	int64_t nano = (int64_t)llround(a->want->cpus * 1e9);
	if ((!a->want->set_cpu || nano == svc->limits.nano_cpus) &&
	    (!a->want->set_memory || a->want->memory == svc->limits.memory)) {
		/* Swarm would start no update to follow. */
		ret->outcome = DEPLOY_SKIPPED;
		snprintf(ret->message, sizeof(ret->message),
		         "Swarm service %s already has these limits", svc->name);
		return 0;
	}
	char chg[64], good[64];
	struct docker_label_ref l[2];
	struct swarm_update u = {
		.set_cpu = a->want->set_cpu,
		.nano_cpus = nano,
		.set_memory = a->want->set_memory,
		.memory = a->want->memory,
		.stop_first = stateful,
		.monitor = a->cfg->blue_green.stability_period,
		.labels = l,
		.n_labels = change_labels(ret, true, chg, good, sizeof(chg), l),
	};
	if (journal(&x, BG_PREPARE) < 0) {
		ret->outcome = DEPLOY_SKIPPED;
		snprintf(ret->message, sizeof(ret->message),
		         "cannot journal the change; not applied");
		return 0;
	}
	progress(&x, "swarm: updating %s (%s)", svc->name, stateful ? "stop-first" : "start-first");
	char *before = NULL;
	int r = update(&x, &u, false, &before);
	if (r < 0) {
		free(before);
		ret->outcome = DEPLOY_SKIPPED;
		snprintf(ret->message, sizeof(ret->message),
		         "Swarm refused the update of %s: %s; keeping the current limits",
		         svc->name, x.err);
		return 0;
	}
	journal(&x, BG_WAIT_HEALTHY);
	double timeout = follow_timeout(&x, svc->replicas);
	char *st = follow(&x, before, timeout);
	conclude(&x, st, timeout);
	free(st);
	free(before);
	return 0;
}

/* From the cluster alone: the change label says a change of ours is (or
 * was) current; UpdateStatus says where Swarm is with it. */
static int swarm_reconcile(struct docker_client *c, const struct rm_config *cfg,
                           const struct state_journal *j, const char *service,
                           struct deploy_result *ret)
{
	struct swarm_service s = { 0 };
	char err[256];
	int r = j && j->blue_id ? swarm_service_inspect(c, j->blue_id, &s, err, sizeof(err))
	                        : deploy_swarm_find(c, cfg, service, &s, err, sizeof(err));
	if (r < 0) {
		snprintf(ret->message, sizeof(ret->message), "%s", err);
		return r;
	}
	struct swarm_exec x = { c, cfg, NULL, ret, s.id, s.name, "" };
	const char *chg = docker_labels_get(&s.labels, DEPLOY_SWARM_LABEL_CHANGE);
	const char *good = docker_labels_get(&s.labels, DEPLOY_SWARM_LABEL_GOOD);
	const char *st = s.update_state ? s.update_state : "";
	if (!limits_parse(chg, &ret->to))
		ret->to = j ? j->to : ret->to;
	if (!limits_parse(good, &ret->from) && s.has_previous)
		/* No label (a spec edited by hand): the spec Swarm would roll
		 * back to says what ran before. */
		ret->from = (struct state_limits){ true,
			                           (double)s.prev_limits.nano_cpus / 1e9 *
			                                   (double)s.replicas,
			                           (uint64_t)s.prev_limits.memory * s.replicas };
	else if (!good && j)
		ret->from = j->from;
	ret->replicas = (unsigned)s.replicas;
	ret->strategy = STRATEGY_BLUE_GREEN;
	ret->outcome = DEPLOY_SKIPPED;
	bool rolling_back = strcmp(st, "rollback_started") == 0;
	if (!chg && !rolling_back && !(j && strncmp(st, "rollback", 8) == 0)) {
		/* No change of ours in the spec: none started, or it ended and
		 * its labels were cleared. */
		snprintf(ret->message, sizeof(ret->message),
		         j ? "no change of ours in %s's spec; nothing to finish"
		           : "nothing to reconcile for %s",
		         s.name);
		goto out;
	}
	double timeout = follow_timeout(&x, s.replicas);
	char *end = NULL;
	if (!*st || strcmp(st, "updating") == 0 || rolling_back)
		end = follow(&x, NULL, timeout);
	else
		end = xstrdup(st);
	conclude(&x, end, timeout);
	free(end);
out:
	swarm_service_free(&s);
	return 0;
}

const struct apply_ops deploy_apply_swarm = {
	.backend = DEPLOY_BACKEND_SWARM,
	.apply = swarm_apply,
	.reconcile = swarm_reconcile,
};
