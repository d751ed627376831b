/* daemon_events: the thread that reads Docker's events for the loop: OOM,
 * die and (during a watch) a failing health check ask for a check now. */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "daemon_internal.h"
#include "rm/docker.h"
#include "rm/log.h"
#include "rm/state.h"

void *daemon_events_main(void *arg)
{
	struct daemon *d = arg;
	while (d->events_run) {
		struct docker_event e;
		if (docker_events_next(d->events, 0.5, &e) != 1)
			continue;
		bool failing = e.action == DOCKER_EVENT_HEALTH_STATUS && e.health &&
		               strcmp(e.health, "unhealthy") == 0;
		if (e.action == DOCKER_EVENT_OOM || e.action == DOCKER_EVENT_DIE || failing) {
			pthread_mutex_lock(&d->lock);
			struct svc *s = NULL;
			if (e.service)
				s = daemon_svc_find(d, e.service);
			if (!s && e.name)
				s = daemon_svc_find(d, e.name);
			const struct state_service *ss =
			        s ? state_service_find(d->state, s->name) : NULL;
			if (failing && !(ss && ss->watching))
				s = NULL; /* a failing health check matters to a watch only */
			if (s && !s->deploying) {
				s->eval_now = true;
				if (e.action == DOCKER_EVENT_OOM)
					s->event_ooms++;
				log_info("daemon",
				         "container event, evaluating now\tservice=%s "
				         "event=%s container=%s",
				         s->name, docker_event_action_to_string(e.action),
				         e.name ? e.name : "?");
			}
			pthread_mutex_unlock(&d->lock);
			if (s)
				daemon_wake(d);
		}
		docker_event_free(&e);
	}
	return NULL;
}
