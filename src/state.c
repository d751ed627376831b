/* state: the persistent state in memory, and its atomic file storage. */
#include "rm/state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rm/util.h"

static const char *const event_kind_names[_STATE_EVENT_KIND_MAX] = { "decision", "deployment" };

const char *state_event_kind_to_string(enum state_event_kind k)
{
	return (int)k >= 0 && k < _STATE_EVENT_KIND_MAX ? event_kind_names[k] : "unknown";
}

int state_event_kind_from_string(const char *s)
{
	for (int i = 0; i < _STATE_EVENT_KIND_MAX; i++)
		if (strcmp(event_kind_names[i], s) == 0)
			return i;
	return -EINVAL;
}

struct rm_state *state_new(void)
{
	return xcalloc(1, sizeof(struct rm_state));
}

static void event_free(struct state_event *ev)
{
	free(ev->service);
	free(ev->reason);
	free(ev->explanation);
	free(ev->outcome);
	free(ev->strategy);
	free(ev->backend);
}

static void journal_free(struct state_journal *j)
{
	free(j->service);
	free(j->strategy);
	free(j->backend);
	free(j->blue_id);
	free(j->blue_name);
	free(j->green_id);
	free(j->green_name);
}

static void pending_free(struct state_pending *p)
{
	free(p->service);
	free(p->reason);
	free(p->explanation);
}

void state_free(struct rm_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_services; i++)
		free(s->services[i].name);
	free(s->services);
	for (size_t i = 0; i < s->n_journal; i++)
		journal_free(&s->journal[i]);
	free(s->journal);
	for (size_t i = 0; i < s->n_history; i++)
		event_free(&s->history[i]);
	free(s->history);
	for (size_t i = 0; i < s->n_pending; i++)
		pending_free(&s->pending[i]);
	free(s->pending);
	free(s);
}

const struct state_service *state_service_find(const struct rm_state *s, const char *name)
{
	for (size_t i = 0; i < s->n_services; i++)
		if (strcmp(s->services[i].name, name) == 0)
			return &s->services[i];
	return NULL;
}

struct state_service *state_service_get(struct rm_state *s, const char *name)
{
	const struct state_service *f = state_service_find(s, name);
	if (f)
		return &s->services[f - s->services];
	s->services = xreallocarray(s->services, s->n_services + 1, sizeof(*s->services));
	struct state_service *sv = &s->services[s->n_services++];
	memset(sv, 0, sizeof(*sv));
	sv->name = xstrdup(name);
	usage_history_init(&sv->usage);
	return sv;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void state_history_add(struct rm_state *s, const struct state_event *ev, size_t max_history)
{
	if (max_history == 0)
		return;
	while (s->n_history >= max_history) {
		event_free(&s->history[0]);
		memmove(&s->history[0], &s->history[1], (s->n_history - 1) * sizeof(*s->history));
		s->n_history--;
	}
	s->history = xreallocarray(s->history, s->n_history + 1, sizeof(*s->history));
	struct state_event *e = &s->history[s->n_history++];
	*e = *ev;
	e->service = dup_or_null(ev->service);
	e->reason = dup_or_null(ev->reason);
	e->explanation = dup_or_null(ev->explanation);
	e->outcome = dup_or_null(ev->outcome);
	e->strategy = dup_or_null(ev->strategy);
	e->backend = dup_or_null(ev->backend);
}

struct state_journal *state_journal_find(struct rm_state *s, const char *service)
{
	for (size_t i = 0; i < s->n_journal; i++)
		if (strcmp(s->journal[i].service, service) == 0)
			return &s->journal[i];
	return NULL;
}

struct state_journal *state_journal_add(struct rm_state *s, const char *service)
{
	state_journal_remove(s, service);
	s->journal = xreallocarray(s->journal, s->n_journal + 1, sizeof(*s->journal));
	struct state_journal *j = &s->journal[s->n_journal++];
	memset(j, 0, sizeof(*j));
	j->service = xstrdup(service);
	return j;
}

void state_journal_put(struct rm_state *s, const struct state_journal *j)
{
	struct state_journal *e = state_journal_add(s, j->service);
	e->strategy = dup_or_null(j->strategy);
	e->backend = dup_or_null(j->backend);
	e->machine = j->machine;
	e->blue_id = dup_or_null(j->blue_id);
	e->blue_name = dup_or_null(j->blue_name);
	e->green_id = dup_or_null(j->green_id);
	e->green_name = dup_or_null(j->green_name);
	e->from = j->from;
	e->to = j->to;
}

void state_journal_remove(struct rm_state *s, const char *service)
{
	struct state_journal *j = state_journal_find(s, service);
	if (!j)
		return;
	size_t i = (size_t)(j - s->journal);
	journal_free(j);
	memmove(&s->journal[i], &s->journal[i + 1], (s->n_journal - i - 1) * sizeof(*j));
	s->n_journal--;
}

struct state_pending *state_pending_find(struct rm_state *s, const char *service)
{
	for (size_t i = 0; i < s->n_pending; i++)
		if (strcmp(s->pending[i].service, service) == 0)
			return &s->pending[i];
	return NULL;
}

struct state_pending *state_pending_add(struct rm_state *s, const char *service)
{
	state_pending_remove(s, service);
	s->pending = xreallocarray(s->pending, s->n_pending + 1, sizeof(*s->pending));
	struct state_pending *p = &s->pending[s->n_pending++];
	memset(p, 0, sizeof(*p));
	p->service = xstrdup(service);
	return p;
}

void state_pending_remove(struct rm_state *s, const char *service)
{
	struct state_pending *p = state_pending_find(s, service);
	if (!p)
		return;
	size_t i = (size_t)(p - s->pending);
	pending_free(p);
	memmove(&s->pending[i], &s->pending[i + 1], (s->n_pending - i - 1) * sizeof(*p));
	s->n_pending--;
}

int state_load(const char *path, struct rm_state **ret, char *err, size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	int r = file_read_all(path, 64u * 1024 * 1024, &data, &len);
	if (r == -ENOENT) {
		*ret = state_new();
		return 0;
	}
	if (r < 0 && r != -EFBIG) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	char why[256] = "file larger than 64 MiB";
	struct rm_state *s = NULL;
	if (r == 0 && state_json_parse(data, len, &s, why, sizeof(why)) == 0) {
		free(data);
		*ret = s;
		return 0;
	}
	free(data);
	/* Never silently reset: keep the bad file for inspection. */
	char *aside = xasprintf("%s.corrupt-%lld", path, (long long)time_wall());
	if (rename(path, aside) < 0)
		snprintf(err, errlen, "%s is corrupt (%s) and could not be moved aside: %s", path,
		         why, strerror(errno));
	else
		snprintf(err, errlen, "%s is corrupt (%s); moved to %s, starting from empty state",
		         path, why, aside);
	free(aside);
	*ret = state_new();
	return 1;
}

int state_save(const char *path, const struct rm_state *s, double now, char *err, size_t errlen)
{
	struct rm_state copy = *s;
	copy.saved_at = now;
	char *json = state_json_serialize(&copy);
	size_t len = strlen(json);
	json = xrealloc(json, len + 2);
	memcpy(json + len, "\n", 2);
	int r = file_write_atomic(path, json, len + 1, 0600, err, errlen);
	free(json);
	return r;
}
