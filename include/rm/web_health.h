/* web_health: the reserved path to /health. A unix socket (beside the state
 * file by default) served by one thread of its own, so the container's health
 * check gets an answer while slow or idle clients hold every civetweb worker
 * of the public port. It answers GET and HEAD /health only, renders without
 * detail, and gives each connection one second in all. */
#ifndef RM_WEB_HEALTH_H
#define RM_WEB_HEALTH_H

#include <stddef.h>

#include "rm/config.h"

/* Renders /health: returns the HTTP status and the JSON body in *ret_body
 * (owned by the caller). Runs on the listener's thread. */
typedef int (*web_health_fn)(void *ctx, char **ret_body);

struct web_health;

/* The socket path cfg asks for (owned), or NULL for web.health_socket "none":
 * web.health_socket, or health.sock in the folder of state.path. */
char *web_health_socket_path(const struct rm_config *cfg);

/* Listens on path (a stale socket there is replaced; anything else there is
 * an error) with mode 0600 and starts the thread. Returns 0 and *ret, or a
 * negative errno with the reason in err. */
int web_health_start(const char *path, web_health_fn fn, void *ctx, struct web_health **ret,
                     char *err, size_t errlen);
/* Stops the thread, removes the socket and frees h (NULL is fine). */
void web_health_stop(struct web_health *h);

#endif
