/* state_store: one writer of the state file at a time (a lock file), and the
 * daemon's merge of what other writers saved since its own last save. */
#include "rm/state_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "rm/util.h"

#define STATE_FILE_MAX (64u * 1024 * 1024)

int state_lock(const char *path, double timeout)
{
	char *lp = xasprintf("%s.lock", path);
	int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	/* flock needs no write access: a lock file another user created (the
	 * CLI as root beside the daemon's uid), or a read-only folder, still
	 * serves. */
	if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM))
		fd = open(lp, O_RDONLY | O_CLOEXEC);
	int r = fd < 0 ? -errno : 0;
	free(lp);
	if (r < 0)
		return r;
	double end = time_monotonic() + timeout;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = -errno;
			close(fd);
			return r;
		}
		if (time_monotonic() >= end) {
			close(fd);
			return -EWOULDBLOCK;
		}
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return fd;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- the merge (pure) ---- */

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool limits_eq(const struct state_limits *a, const struct state_limits *b)
{
	return a->known == b->known && a->cpu == b->cpu && a->memory == b->memory;
}

static bool journal_eq(const struct state_journal *a, const struct state_journal *b)
{
	if (!a || !b)
		return a == b;
	return str_eq(a->strategy, b->strategy) && str_eq(a->backend, b->backend) &&
	       a->machine.phase == b->machine.phase && a->machine.entered == b->machine.entered &&
	       a->machine.started == b->machine.started && str_eq(a->blue_id, b->blue_id) &&
	       str_eq(a->green_id, b->green_id) && str_eq(a->green_name, b->green_name);
}

static bool event_eq(const struct state_event *a, const struct state_event *b)
{
	return a->time == b->time && a->kind == b->kind && a->duration == b->duration &&
	       str_eq(a->service, b->service) && str_eq(a->outcome, b->outcome) &&
	       str_eq(a->reason, b->reason) && str_eq(a->explanation, b->explanation);
}

static const struct state_journal *journal_of(const struct rm_state *s, const char *service)
{
	return s ? state_journal_find((struct rm_state *)(uintptr_t)s, service) : NULL;
}

static void merge_journal(struct rm_state *mine, const struct rm_state *base,
                          const struct rm_state *theirs, state_own_fn own, void *ctx)
{
	/* Entries theirs removed since base. */
	for (size_t i = 0; base && i < base->n_journal; i++) {
		const char *svc = base->journal[i].service;
		if (!journal_of(theirs, svc) && !(own && own(svc, ctx)))
			state_journal_remove(mine, svc);
	}
	/* Entries theirs added or moved on. */
	for (size_t i = 0; i < theirs->n_journal; i++) {
		const struct state_journal *t = &theirs->journal[i];
		if (journal_eq(t, journal_of(base, t->service)) || (own && own(t->service, ctx)))
			continue;
		state_journal_put(mine, t);
	}
}

static bool event_in(const struct rm_state *s, const struct state_event *ev)
{
	for (size_t i = 0; s && i < s->n_history; i++)
		if (event_eq(&s->history[i], ev))
			return true;
	return false;
}

static void merge_history(struct rm_state *mine, const struct rm_state *base,
                          const struct rm_state *theirs, size_t max_history)
{
	for (size_t i = 0; i < theirs->n_history; i++) {
		const struct state_event *ev = &theirs->history[i];
		if (event_in(base, ev) || event_in(mine, ev))
			continue;
		/* Appended, then moved back to its place in time. */
		state_history_add(mine, ev, max_history + 1);
		size_t k = mine->n_history - 1;
		struct state_event e = mine->history[k];
		while (k > 0 && mine->history[k - 1].time > e.time) {
			mine->history[k] = mine->history[k - 1];
			k--;
		}
		mine->history[k] = e;
		if (mine->n_history > max_history) {
			/* The oldest goes (state_history_add's own bound, one late). */
			struct state_event first = mine->history[0];
			free(first.service);
			free(first.reason);
			free(first.explanation);
			free(first.outcome);
			free(first.strategy);
			free(first.backend);
			memmove(&mine->history[0], &mine->history[1],
			        (mine->n_history - 1) * sizeof(*mine->history));
			mine->n_history--;
		}
	}
}

static unsigned long grown(unsigned long theirs, unsigned long base)
{
	return theirs > base ? theirs - base : 0;
}

static void merge_service(struct state_service *m, const struct state_service *b,
                          const struct state_service *t)
{
	static const struct state_service none = { 0 };
	if (!b)
		b = &none;
	struct state_counters *c = &m->counters;
	const struct state_counters *bc = &b->counters, *tc = &t->counters;
	c->total_adjustments += grown(tc->total_adjustments, bc->total_adjustments);
	c->successful_adjustments += grown(tc->successful_adjustments, bc->successful_adjustments);
	c->failed_adjustments += grown(tc->failed_adjustments, bc->failed_adjustments);
	c->blue_green_deployments += grown(tc->blue_green_deployments, bc->blue_green_deployments);
	c->blue_green_failed += grown(tc->blue_green_failed, bc->blue_green_failed);
	c->rollbacks += grown(tc->rollbacks, bc->rollbacks);
	c->threshold_breaches += grown(tc->threshold_breaches, bc->threshold_breaches);
	c->reverts += grown(tc->reverts, bc->reverts);
	c->verified += grown(tc->verified, bc->verified);
	if (!limits_eq(&t->last_good, &b->last_good))
		m->last_good = t->last_good;
	if (!limits_eq(&t->applied, &b->applied))
		m->applied = t->applied;
	if (t->replicas != b->replicas)
		m->replicas = t->replicas;
}

void state_merge(struct rm_state *mine, const struct rm_state *base, const struct rm_state *theirs,
                 state_own_fn own, void *own_ctx, size_t max_history)
{
	merge_journal(mine, base, theirs, own, own_ctx);
	merge_history(mine, base, theirs, max_history);
	for (size_t i = 0; i < theirs->n_services; i++) {
		const struct state_service *t = &theirs->services[i];
		const struct state_service *b = base ? state_service_find(base, t->name) : NULL;
		merge_service(state_service_get(mine, t->name), b, t);
	}
}

/* ---- the daemon's store ---- */

struct state_store {
	char *path;
	char *base; /* the file's text as the daemon last read or wrote it; NULL: no file */
};

int state_store_open(const char *path, struct state_store **ret_store, struct rm_state **ret_state,
                     char *err, size_t errlen)
{
	int r = state_load(path, ret_state, err, errlen);
	if (r < 0)
		return r;
	struct state_store *st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	size_t len;
	if (file_read_all(path, STATE_FILE_MAX, &st->base, &len) < 0)
		st->base = NULL;
	*ret_store = st;
	return r;
}

void state_store_free(struct state_store *st)
{
	if (!st)
		return;
	free(st->path);
	free(st->base);
	free(st);
}

int state_store_refresh(struct state_store *st, struct rm_state *mine, state_own_fn own,
                        void *own_ctx, size_t max_history, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	struct rm_state *theirs = NULL, *base = NULL;
	int r = file_read_all(st->path, STATE_FILE_MAX, &text, &len);
	if (r == -ENOENT) {
		/* Removed by hand: the next save writes it again. */
		free(st->base);
		st->base = NULL;
		return 0;
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot read %s: %s", st->path, strerror(-r));
		return r;
	}
	if (st->base && strcmp(st->base, text) == 0) {
		free(text);
		return 0;
	}
	char why[256];
	if (state_json_parse(text, len, &theirs, why, sizeof(why)) < 0) {
		/* Not ours to move aside while the daemon runs: the save replaces it. */
		snprintf(err, errlen, "%s was changed and cannot be parsed (%s)", st->path, why);
		free(text);
		return -EBADMSG;
	}
	if (st->base && state_json_parse(st->base, strlen(st->base), &base, why, sizeof(why)) < 0)
		base = NULL;
	state_merge(mine, base, theirs, own, own_ctx, max_history);
	state_free(base);
	state_free(theirs);
	free(st->base);
	st->base = text;
	return 1;
}

int state_store_save(struct state_store *st, struct rm_state *mine, double now, state_own_fn own,
                     void *own_ctx, size_t max_history, char *err, size_t errlen)
{
	int lock = state_lock(st->path, STATE_LOCK_TIMEOUT);
	if (lock < 0) {
		snprintf(err, errlen, "cannot lock %s.lock: %s", st->path,
		         lock == -EWOULDBLOCK ? "another writer holds it" : strerror(-lock));
		return lock;
	}
	int r = state_store_refresh(st, mine, own, own_ctx, max_history, err, errlen);
	if (r == -EBADMSG)
		r = 0; /* replaced by a whole file below */
	if (r < 0)
		goto out;
	mine->saved_at = now;
	char *json = state_json_serialize(mine);
	size_t len = strlen(json);
	json = xrealloc(json, len + 2);
	memcpy(json + len, "\n", 2);
	r = file_write_atomic(st->path, json, len + 1, 0600, err, errlen);
	if (r < 0) {
		free(json);
		goto out;
	}
	free(st->base);
	st->base = json;
out:
	state_unlock(lock);
	return r;
}

int state_update(const char *path, state_update_fn fn, void *ctx, double now, char *err,
                 size_t errlen)
{
	int lock = state_lock(path, STATE_LOCK_TIMEOUT);
	if (lock < 0) {
		snprintf(err, errlen, "cannot lock %s.lock: %s", path,
		         lock == -EWOULDBLOCK ? "another writer holds it" : strerror(-lock));
		return lock;
	}
	struct rm_state *s = NULL;
	int r = state_load(path, &s, err, errlen);
	if (r < 0)
		goto out;
	fn(s, ctx);
	char serr[512];
	int w = state_save(path, s, now, serr, sizeof(serr));
	if (w < 0) {
		snprintf(err, errlen, "%s", serr);
		r = w;
	} /* else r stays 1 when a corrupt file was moved aside (err says so) */
	state_free(s);
out:
	state_unlock(lock);
	return r;
}
