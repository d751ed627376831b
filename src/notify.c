/* notify: Alertmanager v2 and webhook notifications from a background sender. */
#include "rm/notify.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rm/config.h"
#include "rm/http.h"
#include "rm/log.h"
#include "rm/util.h"

#define QUEUE_MAX     256
#define MAX_ATTEMPTS  5
#define RESOLVE_AFTER 3600.0

static const struct {
	const char *event;
	const char *alertname;
	const char *severity;
} event_table[] = {
	{ NOTIFY_RESOURCE_ADJUSTMENT, "ResourceAdjustment", "info" },
	{ NOTIFY_BLUE_GREEN_DEPLOYMENT, "BlueGreenDeployment", "info" },
	{ NOTIFY_DEPLOYMENT_FAILURE, "DeploymentFailure", "warning" },
	{ NOTIFY_CHANGE_REVERTED, "ChangeReverted", "warning" },
	{ NOTIFY_SERVICE_CRITICAL, "ServiceCritical", "critical" },
	{ NOTIFY_THRESHOLD_BREACH, "ThresholdBreach", "warning" },
};

const char *notify_alertname(const char *event)
{
	for (size_t i = 0; i < RM_ARRAY_SIZE(event_table); i++)
		if (strcmp(event_table[i].event, event) == 0)
			return event_table[i].alertname;
	return NULL;
}

static const char *default_severity(const char *event)
{
	for (size_t i = 0; i < RM_ARRAY_SIZE(event_table); i++)
		if (strcmp(event_table[i].event, event) == 0)
			return event_table[i].severity;
	return "info";
}

static const char *summary_verb(const char *event)
{
	if (strcmp(event, NOTIFY_DEPLOYMENT_FAILURE) == 0)
		return "Deployment failed for";
	if (strcmp(event, NOTIFY_CHANGE_REVERTED) == 0)
		return "Change reverted for";
	if (strcmp(event, NOTIFY_BLUE_GREEN_DEPLOYMENT) == 0)
		return "Blue-green deployment for";
	if (strcmp(event, NOTIFY_SERVICE_CRITICAL) == 0)
		return "Service at its limit:";
	if (strcmp(event, NOTIFY_THRESHOLD_BREACH) == 0)
		return "Threshold breached by";
	return "Resource adjustment for";
}

char *notify_alertmanager_body(const struct notify_event *ev, double resolve_after)
{
	char starts[40], ends[40];
	time_format_rfc3339(ev->time, starts, sizeof(starts));
	time_format_rfc3339(ev->time + resolve_after, ends, sizeof(ends));
	const char *an = notify_alertname(ev->event);
	char *summary = xasprintf("%s %s", summary_verb(ev->event), ev->service);
	json_t *labels = json_pack("{s:s, s:s, s:s, s:s}", "alertname", an ? an : "ResourceManager",
	                           "service", ev->service, "severity",
	                           ev->severity ? ev->severity : default_severity(ev->event),
	                           "event", ev->event);
	if (ev->action)
		json_object_set_new(labels, "action", json_string(ev->action));
	if (ev->resource_type)
		json_object_set_new(labels, "resource_type", json_string(ev->resource_type));
	json_t *alert = json_pack("{s:o, s:{s:s, s:s}, s:s, s:s}", "labels", labels, "annotations",
	                          "summary", summary, "description", ev->reason ? ev->reason : "",
	                          "startsAt", starts, "endsAt", ends);
	json_t *arr = json_array();
	json_array_append_new(arr, alert);
	char *s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	free(summary);
	char *out = xstrdup(s);
	free(s);
	return out;
}

char *notify_webhook_body(const struct notify_event *ev)
{
	char ts[40];
	time_format_rfc3339(ev->time, ts, sizeof(ts));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "event", ev->event, "service",
	                      ev->service, "action", ev->action ? ev->action : "", "resource_type",
	                      ev->resource_type ? ev->resource_type : "", "reason",
	                      ev->reason ? ev->reason : "", "timestamp", ts);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	char *out = xstrdup(s);
	free(s);
	return out;
}

enum {
	CH_ALERTMANAGER = 1,
	CH_WEBHOOK = 2,
};

struct item {
	char *am_body;
	char *wh_body;
	unsigned pending; /* channels still to deliver */
	unsigned attempts;
	double next_attempt; /* monotonic */
};

struct notifier {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool stop;
	double stop_deadline;
	struct item queue[QUEUE_MAX];
	size_t head, count;
	bool busy; /* the sender holds an item outside the queue */
	struct notify_stats stats;
	double last_drop_log; /* monotonic, for rate-limiting the drop warning */
	/* Owned copies of the config the sender needs. */
	bool enabled;
	struct strlist events;
	struct http_endpoint *am;
	struct http_endpoint *wh;
	char **wh_headers; /* NULL-terminated "Name: value" */
};

static void item_free(struct item *it)
{
	free(it->am_body);
	free(it->wh_body);
	memset(it, 0, sizeof(*it));
}

/* Delivers one body; returns true on a 2xx answer. */
static bool deliver(struct notifier *n, unsigned ch, const char *body)
{
	struct http_response resp = { 0 };
	char err[256] = "";
	struct http_endpoint *ep = ch == CH_ALERTMANAGER ? n->am : n->wh;
	const char *path = ch == CH_ALERTMANAGER ? "/api/v2/alerts" : "";
	const char *const *headers = ch == CH_WEBHOOK ? (const char *const *)n->wh_headers : NULL;
	int r = http_request_headers(ep, "POST", path, body, headers, &resp, err, sizeof(err));
	bool ok = r == 0 && resp.status >= 200 && resp.status < 300;
	if (!ok) {
		char q[300];
		if (r == 0)
			snprintf(err, sizeof(err), "HTTP %ld %.120s", resp.status,
			         resp.body ? resp.body : "");
		log_debug("notify", "delivery failed, will retry\tchannel=%s error=%s",
		          ch == CH_ALERTMANAGER ? "alertmanager" : "webhook",
		          log_quote(err, q, sizeof(q)));
	}
	http_response_free(&resp);
	return ok;
}

static void *sender_main(void *arg)
{
	struct notifier *n = arg;
	pthread_mutex_lock(&n->lock);
	for (;;) {
		double now = time_monotonic();
		if (n->stop && (n->count == 0 || now >= n->stop_deadline))
			break;
		if (n->count == 0 || n->queue[n->head].next_attempt > now) {
			double until = n->count ? n->queue[n->head].next_attempt : now + 3600;
			if (n->stop && until > n->stop_deadline)
				until = n->stop_deadline;
			double wall = time_wall() + (until - now);
			struct timespec ts = { (time_t)wall,
				               (long)((wall - (double)(time_t)wall) * 1e9) };
			pthread_cond_timedwait(&n->cond, &n->lock, &ts);
			continue;
		}
		struct item it = n->queue[n->head];
		n->head = (n->head + 1) % QUEUE_MAX;
		n->count--;
		n->busy = true;
		pthread_mutex_unlock(&n->lock);

		unsigned delivered = 0;
		if ((it.pending & CH_ALERTMANAGER) && deliver(n, CH_ALERTMANAGER, it.am_body))
			delivered |= CH_ALERTMANAGER;
		if ((it.pending & CH_WEBHOOK) && deliver(n, CH_WEBHOOK, it.wh_body))
			delivered |= CH_WEBHOOK;

		pthread_mutex_lock(&n->lock);
		n->busy = false;
		for (unsigned ch = 1; ch <= 2; ch <<= 1)
			if (delivered & ch)
				n->stats.sent++;
		it.pending &= ~delivered;
		it.attempts++;
		if (it.pending && it.attempts < MAX_ATTEMPTS && !n->stop && n->count < QUEUE_MAX) {
			/* Retry later, at the back of the queue: 1, 2, 4, 8 s. */
			it.next_attempt = time_monotonic() + (double)(1u << (it.attempts - 1));
			n->queue[(n->head + n->count) % QUEUE_MAX] = it;
			n->count++;
			n->stats.retries++;
		} else {
			if (it.pending) {
				n->stats.dropped++;
				log_warn("notify",
				         "notification dropped after %u attempts; the event stays "
				         "in the log and history",
				         it.attempts);
			}
			item_free(&it);
		}
		pthread_cond_broadcast(&n->cond);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

static struct http_endpoint *channel_endpoint(const char *name, const char *url)
{
	struct http_options opts = { .connect_timeout = 3, .timeout = 10, .max_body = 1 << 20 };
	struct http_endpoint *ep = NULL;
	if (http_endpoint_new(url, &opts, &ep) < 0) {
		char q[256];
		log_warn("notify", "channel disabled: its URL cannot be used\tchannel=%s url=%s",
		         name, log_quote(url, q, sizeof(q)));
		return NULL;
	}
	return ep;
}

struct notifier *notifier_new(const struct rm_config *cfg)
{
	struct notifier *n = xcalloc(1, sizeof(*n));
	n->last_drop_log = -1e9;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	n->enabled = cfg->notifications.enabled;
	for (size_t i = 0; i < cfg->notifications.events.n; i++) {
		n->events.items = xreallocarray(n->events.items, n->events.n + 1, sizeof(char *));
		n->events.items[n->events.n++] = xstrdup(cfg->notifications.events.items[i]);
	}
	if (n->enabled && cfg->notifications.alertmanager.enabled)
		n->am = channel_endpoint("alertmanager", cfg->notifications.alertmanager.url);
	if (n->enabled && cfg->notifications.webhook.enabled) {
		n->wh = channel_endpoint("webhook", cfg->notifications.webhook.url);
		size_t nh = cfg->notifications.webhook.n_headers;
		n->wh_headers = xcalloc(nh + 1, sizeof(char *));
		for (size_t i = 0; i < nh; i++)
			n->wh_headers[i] =
			        xasprintf("%s: %s", cfg->notifications.webhook.headers[i].name,
			                  cfg->notifications.webhook.headers[i].value);
	}
	if (pthread_create(&n->thread, NULL, sender_main, n) != 0)
		abort();
	return n;
}

void notifier_send(struct notifier *n, const struct notify_event *ev)
{
	pthread_mutex_lock(&n->lock);
	/* A reverted change is a failed one: deployment_failure subscribes to it. */
	bool wanted = strlist_contains(&n->events, ev->event) ||
	              (strcmp(ev->event, NOTIFY_CHANGE_REVERTED) == 0 &&
	               strlist_contains(&n->events, NOTIFY_DEPLOYMENT_FAILURE));
	if (!n->enabled || !wanted) {
		n->stats.filtered++;
		pthread_mutex_unlock(&n->lock);
		return;
	}
	unsigned channels = (n->am ? CH_ALERTMANAGER : 0) | (n->wh ? CH_WEBHOOK : 0);
	if (!channels) {
		pthread_mutex_unlock(&n->lock);
		return;
	}
	if (n->count >= QUEUE_MAX) {
		n->stats.dropped++;
		pthread_mutex_unlock(&n->lock);
		log_warn("notify", "notification queue full, event dropped\tevent=%s service=%s",
		         ev->event, ev->service);
		return;
	}
	struct item it = { .pending = channels, .next_attempt = 0 };
	if (n->am)
		it.am_body = notify_alertmanager_body(ev, RESOLVE_AFTER);
	if (n->wh)
		it.wh_body = notify_webhook_body(ev);
	n->queue[(n->head + n->count) % QUEUE_MAX] = it;
	n->count++;
	n->stats.queued++;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

int notifier_flush(struct notifier *n, double timeout)
{
	double deadline = time_monotonic() + timeout;
	pthread_mutex_lock(&n->lock);
	while ((n->count > 0 || n->busy) && time_monotonic() < deadline) {
		double wall = time_wall() + 0.05;
		struct timespec ts = { (time_t)wall, (long)((wall - (double)(time_t)wall) * 1e9) };
		pthread_cond_timedwait(&n->cond, &n->lock, &ts);
	}
	int r = n->count > 0 || n->busy ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&n->lock);
	return r;
}

void notifier_get_stats(struct notifier *n, struct notify_stats *ret)
{
	pthread_mutex_lock(&n->lock);
	*ret = n->stats;
	pthread_mutex_unlock(&n->lock);
}

void notifier_free(struct notifier *n, double grace)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	n->stop_deadline = time_monotonic() + grace;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
	pthread_join(n->thread, NULL);
	while (n->count > 0) {
		n->stats.dropped++;
		item_free(&n->queue[n->head]);
		n->head = (n->head + 1) % QUEUE_MAX;
		n->count--;
	}
	http_endpoint_free(n->am);
	http_endpoint_free(n->wh);
	for (size_t i = 0; n->wh_headers && n->wh_headers[i]; i++)
		free(n->wh_headers[i]);
	free(n->wh_headers);
	for (size_t i = 0; i < n->events.n; i++)
		free(n->events.items[i]);
	free(n->events.items);
	pthread_cond_destroy(&n->cond);
	pthread_mutex_destroy(&n->lock);
	free(n);
}
