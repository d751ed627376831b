/* render: the published view as the web layer serves it: the JSON of the API,
 * /health and the Prometheus text of /metrics.
 *
 * PURE: a view (and `now` where time matters) in, an owned string out. No
 * clock, no I/O, no logging, no globals. The web layer calls these on its
 * worker threads with a view nobody modifies any more. */
#ifndef RM_RENDER_H
#define RM_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "rm/util.h"
#include "rm/view.h"

/* Largest and default number of events /api/v1/history returns. */
#define RENDER_HISTORY_MAX     1000
#define RENDER_HISTORY_DEFAULT 100

/* Periods without a completed check before /health says "unhealthy"; a
 * period is the longest of the check interval, the last check's duration and
 * the peers' timeouts (view.peer_timeout). */
#define RENDER_HEALTH_MISSED_CHECKS 3

/* GET /api/v1/status at wall time `now` (health and "served_at" use it): the
 * daemon, its dependencies and every service with its recent points. Owned
 * JSON text. */
char *render_status_json(const struct view *v, double now);

/* GET /api/v1/services/{name}: one service. Owned JSON text, or NULL when v
 * has no such service. */
char *render_service_json(const struct view *v, const char *name);

/* GET /api/v1/history: events newest first, only those of `service` when it
 * is non-NULL, at most `limit` (1..RENDER_HISTORY_MAX; the caller clamps).
 * Owned JSON text. */
char *render_history_json(const struct view *v, const char *service, size_t limit);

enum render_health {
	RENDER_HEALTHY,
	RENDER_DEGRADED,  /* a configured dependency is down */
	RENDER_UNHEALTHY, /* no completed check for RENDER_HEALTH_MISSED_CHECKS periods */
	_RENDER_HEALTH_MAX,
};
const char *render_health_to_string(enum render_health h);

/* The status /health reports at wall time `now`. Cheap: reads the timestamps
 * and the dependencies only. */
enum render_health render_health_status(const struct view *v, double now);

/* GET /health: writes the JSON body into *ret_body (owned) and returns the
 * HTTP status: 200, or 503 when unhealthy. Without detail, a dependency that
 * is down shows no "detail" (it may name an endpoint or quote an error), for
 * the open /health. */
int render_health_json(const struct view *v, double now, bool detail, char **ret_body);

/* GET /metrics: Prometheus text format 0.0.4. Every family has one HELP and
 * one TYPE line; docs/metrics.md lists them. Owned text. */
char *render_metrics(const struct view *v);

/* Appends s as a Prometheus label value (\\, \" and \n escaped), without the
 * surrounding quotes. */
void render_label_value(struct strbuf *sb, const char *s);

#endif
