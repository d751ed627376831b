/* docker_events: the reconnecting /events reader thread and its queue. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docker_internal.h"
#include "rm/docker.h"
#include "rm/http.h"
#include "rm/log.h"
#include "rm/util.h"

/* A line longer than this is not an event: the stream is out of step. */
#define EVENTS_MAX_LINE (1024 * 1024)
/* Events remembered to drop the ones a since= replay sends again. */
#define EVENTS_RECENT 64

struct recent_key {
	int64_t time_nano;
	char id[72];
	char action[48];
};

struct docker_events {
	struct docker_client *client; /* owned, used by the thread only */
	struct docker_events_options opts;
	pthread_t thread;

	pthread_mutex_t mu; /* guards everything below up to the reader's own state */
	pthread_cond_t cond;
	bool stop;
	struct http_cancel *cancel; /* ends the stream in progress at once on stop */
	struct docker_event *queue; /* ring of opts.queue_max */
	size_t head, count;
	unsigned connections;
	char last_error[256];

	/* Reader thread only. */
	struct strbuf line;
	int64_t since_nano;
	struct recent_key recent[EVENTS_RECENT];
	size_t n_recent, recent_next;
	char *filters; /* url-encoded */
};

static void timespec_after(struct timespec *ts, double seconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	double ns = (double)ts->tv_nsec + seconds * 1e9;
	ts->tv_sec += (time_t)(ns / 1e9);
	ts->tv_nsec = (long)(ns - (double)(time_t)(ns / 1e9) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Queues e (moved). Called with mu held. A full queue is dropped for one
 * RELIST: the consumer resynchronises from a fresh list. */
static void queue_push_locked(struct docker_events *ev, struct docker_event *e)
{
	size_t cap = ev->opts.queue_max;
	if (ev->count == cap) {
		for (size_t i = 0; i < ev->count; i++)
			docker_event_free(&ev->queue[(ev->head + i) % cap]);
		ev->head = ev->count = 0;
		if (e->action != DOCKER_EVENT_RELIST) {
			docker_event_free(e);
			e->action = DOCKER_EVENT_RELIST;
		}
	}
	ev->queue[(ev->head + ev->count) % cap] = *e;
	ev->count++;
	memset(e, 0, sizeof(*e));
	pthread_cond_broadcast(&ev->cond);
}

static void queue_relist(struct docker_events *ev)
{
	struct docker_event e = { .action = DOCKER_EVENT_RELIST };
	pthread_mutex_lock(&ev->mu);
	queue_push_locked(ev, &e);
	pthread_mutex_unlock(&ev->mu);
}

static bool stopping(struct docker_events *ev)
{
	pthread_mutex_lock(&ev->mu);
	bool s = ev->stop;
	pthread_mutex_unlock(&ev->mu);
	return s;
}

static void set_error(struct docker_events *ev, const char *msg)
{
	pthread_mutex_lock(&ev->mu);
	snprintf(ev->last_error, sizeof(ev->last_error), "%s", msg);
	pthread_mutex_unlock(&ev->mu);
}

/* Sleeps up to seconds, or less when asked to stop. Returns true on stop. */
static bool wait_or_stop(struct docker_events *ev, double seconds)
{
	struct timespec ts;
	timespec_after(&ts, seconds);
	pthread_mutex_lock(&ev->mu);
	while (!ev->stop && pthread_cond_timedwait(&ev->cond, &ev->mu, &ts) != ETIMEDOUT)
		;
	bool s = ev->stop;
	pthread_mutex_unlock(&ev->mu);
	return s;
}

static bool seen_recently(struct docker_events *ev, const struct docker_event *e)
{
	for (size_t i = 0; i < ev->n_recent; i++) {
		const struct recent_key *k = &ev->recent[i];
		if (k->time_nano == e->time_nano && strncmp(k->id, e->id, sizeof(k->id) - 1) == 0 &&
		    strncmp(k->action, e->action_raw, sizeof(k->action) - 1) == 0)
			return true;
	}
	return false;
}

static void remember(struct docker_events *ev, const struct docker_event *e)
{
	struct recent_key *k = &ev->recent[ev->recent_next];
	k->time_nano = e->time_nano;
	snprintf(k->id, sizeof(k->id), "%s", e->id);
	snprintf(k->action, sizeof(k->action), "%s", e->action_raw);
	ev->recent_next = (ev->recent_next + 1) % EVENTS_RECENT;
	if (ev->n_recent < EVENTS_RECENT)
		ev->n_recent++;
	if (e->time_nano > ev->since_nano)
		ev->since_nano = e->time_nano;
}

static void handle_line(struct docker_events *ev, const char *line, size_t len)
{
	struct docker_event e = { 0 };
	char err[256];
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return;
	if (docker_json_parse_event(line, len, &e, err, sizeof(err)) < 0) {
		log_debug("docker", "skipping an event that does not parse\terror=\"%s\"", err);
		return;
	}
	if (seen_recently(ev, &e)) {
		docker_event_free(&e);
		return;
	}
	remember(ev, &e);
	pthread_mutex_lock(&ev->mu);
	queue_push_locked(ev, &e);
	pthread_mutex_unlock(&ev->mu);
}

/* Splits the stream into lines; an event may span several chunks. */
static int on_data(const char *data, size_t len, void *ctx)
{
	struct docker_events *ev = ctx;
	if (stopping(ev))
		return 1;
	strbuf_append(&ev->line, data, len);
	size_t start = 0;
	for (size_t i = 0; i < ev->line.len; i++) {
		if (ev->line.data[i] != '\n')
			continue;
		handle_line(ev, ev->line.data + start, i - start);
		start = i + 1;
	}
	if (start > 0) {
		memmove(ev->line.data, ev->line.data + start, ev->line.len - start + 1);
		ev->line.len -= start;
	}
	if (ev->line.len > EVENTS_MAX_LINE) {
		ev->line.len = 0;
		ev->line.data[0] = '\0';
		queue_relist(ev);
	}
	return 0;
}

/* Waits until the engine answers, then queues a RELIST. Returns false on stop. */
static bool reach_engine(struct docker_events *ev)
{
	double backoff = 0.2;
	char err[256];
	for (;;) {
		if (stopping(ev))
			return false;
		int r = docker_negotiate(ev->client, err, sizeof(err));
		if (r == 0)
			r = docker_ping(ev->client, err, sizeof(err));
		if (r == 0)
			break;
		set_error(ev, err);
		log_debug("docker", "events: engine not reachable, retrying\terror=\"%s\" in=%.1fs",
		          err, backoff);
		if (wait_or_stop(ev, backoff))
			return false;
		backoff *= 2;
		if (backoff > ev->opts.backoff_max)
			backoff = ev->opts.backoff_max;
	}
	pthread_mutex_lock(&ev->mu);
	ev->connections++;
	pthread_mutex_unlock(&ev->mu);
	queue_relist(ev);
	return true;
}

static void *reader_main(void *arg)
{
	struct docker_events *ev = arg;
	char err[256];
	bool broken = true; /* the start counts as a break: the consumer lists */
	while (!stopping(ev)) {
		if (broken && !reach_engine(ev))
			break;
		broken = false;
		char *path = xasprintf("%s/events?since=%lld.%09lld&filters=%s", ev->client->prefix,
		                       (long long)(ev->since_nano / 1000000000),
		                       (long long)(ev->since_nano % 1000000000), ev->filters);
		ev->line.len = 0;
		err[0] = '\0';
		int r = http_stream(ev->client->ep, path, ev->opts.renew, on_data, ev, ev->cancel,
		                    err, sizeof(err));
		free(path);
		if (stopping(ev))
			break;
		/* Our own renewal: since= resumes where this stream ended. */
		if (r == -ETIMEDOUT)
			continue;
		set_error(ev, r < 0 ? err : "the engine ended the event stream");
		log_debug("docker", "events: stream broke, reconnecting\terror=\"%s\"",
		          r < 0 ? err : "end of stream");
		broken = true;
		if (wait_or_stop(ev, 0.2))
			break;
	}
	return NULL;
}

int docker_events_start(const struct docker_client *c, const struct docker_events_options *opts,
                        struct docker_events **ret)
{
	static const char *const actions[] = { "start",         "die",     "oom",
		                               "health_status", "destroy", "rename" };
	static const char *const types[] = { "container" };
	struct docker_events *ev = xcalloc(1, sizeof(*ev));
	if (opts)
		ev->opts = *opts;
	if (ev->opts.renew <= 0)
		ev->opts.renew = 2;
	if (ev->opts.queue_max == 0)
		ev->opts.queue_max = 1024;
	if (ev->opts.backoff_max <= 0)
		ev->opts.backoff_max = 5;
	ev->client = docker_client_dup(c);
	ev->cancel = http_cancel_new();
	ev->queue = xcalloc(ev->opts.queue_max, sizeof(*ev->queue));
	strbuf_init(&ev->line);
	ev->since_nano = (int64_t)(time_wall() * 1e9);
	struct docker_filter f[] = { { "type", types, 1 },
		                     { "event", actions, RM_ARRAY_SIZE(actions) } };
	char *json = docker_json_filters(f, RM_ARRAY_SIZE(f));
	ev->filters = http_urlencode(json);
	free(json);

	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ev->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&ev->mu, NULL);
	if (pthread_create(&ev->thread, NULL, reader_main, ev) != 0)
		abort();
	*ret = ev;
	return 0;
}

int docker_events_next(struct docker_events *ev, double timeout, struct docker_event *ret)
{
	struct timespec ts;
	timespec_after(&ts, timeout > 0 ? timeout : 0);
	pthread_mutex_lock(&ev->mu);
	while (ev->count == 0 && timeout > 0 &&
	       pthread_cond_timedwait(&ev->cond, &ev->mu, &ts) != ETIMEDOUT)
		;
	int r = 0;
	if (ev->count > 0) {
		*ret = ev->queue[ev->head];
		memset(&ev->queue[ev->head], 0, sizeof(*ret));
		ev->head = (ev->head + 1) % ev->opts.queue_max;
		ev->count--;
		r = 1;
	}
	pthread_mutex_unlock(&ev->mu);
	return r;
}

unsigned docker_events_connections(struct docker_events *ev)
{
	pthread_mutex_lock(&ev->mu);
	unsigned n = ev->connections;
	pthread_mutex_unlock(&ev->mu);
	return n;
}

void docker_events_last_error(struct docker_events *ev, char *buf, size_t len)
{
	pthread_mutex_lock(&ev->mu);
	snprintf(buf, len, "%s", ev->last_error);
	pthread_mutex_unlock(&ev->mu);
}

void docker_events_stop(struct docker_events *ev)
{
	if (!ev)
		return;
	pthread_mutex_lock(&ev->mu);
	ev->stop = true;
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->mu);
	http_cancel_fire(ev->cancel);
	pthread_join(ev->thread, NULL);
	http_cancel_free(ev->cancel);
	for (size_t i = 0; i < ev->count; i++)
		docker_event_free(&ev->queue[(ev->head + i) % ev->opts.queue_max]);
	free(ev->queue);
	strbuf_free(&ev->line);
	free(ev->filters);
	docker_client_free(ev->client);
	pthread_cond_destroy(&ev->cond);
	pthread_mutex_destroy(&ev->mu);
	free(ev);
}
