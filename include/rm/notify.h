/* notify: notifications to Alertmanager (API v2) and a webhook, sent from a
 * background thread through a bounded queue with retries, so that sending
 * never blocks the loop. Only the events listed in notifications.events are
 * sent; drops (queue full, retries exhausted) are counted and logged. */
#ifndef RM_NOTIFY_H
#define RM_NOTIFY_H

#include <stddef.h>

struct rm_config;

/* The original's event names. */
#define NOTIFY_RESOURCE_ADJUSTMENT   "resource_adjustment"
#define NOTIFY_BLUE_GREEN_DEPLOYMENT "blue_green_deployment"
#define NOTIFY_DEPLOYMENT_FAILURE    "deployment_failure"
#define NOTIFY_CHANGE_REVERTED       "change_reverted"
#define NOTIFY_SERVICE_CRITICAL      "service_critical"
#define NOTIFY_THRESHOLD_BREACH      "threshold_breach"

/* One event; strings are borrowed for the duration of the call that takes it. */
struct notify_event {
	const char *event; /* one of the names above */
	const char *service;
	const char *action;        /* "increase", "decrease", "rollback", ... */
	const char *resource_type; /* "cpu", "memory" or "both" */
	const char *reason;        /* the engine's one-line explanation */
	const char *severity;      /* "info", "warning" or "critical"; NULL picks by event */
	double time;               /* epoch seconds */
};

struct notify_stats {
	unsigned long queued;
	unsigned long sent; /* deliveries that succeeded (per channel) */
	unsigned long retries;
	unsigned long dropped;  /* queue full or retries exhausted */
	unsigned long filtered; /* not in notifications.events */
};

/* Alertmanager's alertname for an event ("ResourceAdjustment"...), or NULL. */
const char *notify_alertname(const char *event);

/* PURE. The Alertmanager v2 body (a JSON array with one alert): labels
 * alertname, service, severity, event; annotations summary, description;
 * startsAt, and endsAt = startsAt + resolve_after. Owned string. */
char *notify_alertmanager_body(const struct notify_event *ev, double resolve_after);
/* PURE. The webhook body with the original's keys: event, service, action,
 * resource_type, reason, timestamp (RFC 3339). Owned string. */
char *notify_webhook_body(const struct notify_event *ev);

struct notifier;

/* Starts the sender thread. Never fails; channels that are disabled or whose
 * URL cannot be used are skipped (logged once). */
struct notifier *notifier_new(const struct rm_config *cfg);
/* Copies ev into the queue and returns at once. */
void notifier_send(struct notifier *n, const struct notify_event *ev);
/* Waits up to timeout seconds for the queue to drain (tests, shutdown). Returns
 * 0 when empty, -ETIMEDOUT otherwise. */
int notifier_flush(struct notifier *n, double timeout);
void notifier_get_stats(struct notifier *n, struct notify_stats *ret);
/* Stops the thread after at most `grace` seconds of further sending. NULL ok. */
void notifier_free(struct notifier *n, double grace);

#endif
