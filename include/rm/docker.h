/* docker: a client for the Docker Engine API over http.h, with API version
 * negotiation, errno-mapped errors and a reconnecting /events reader.
 *
 * Errors: every call returns 0 (or a count) or a negative errno, with a
 * message in err (may be NULL) that carries Docker's own "message" when the
 * engine sent one:
 *   -ENOENT   404 (no such container)
 *   -EBUSY    409 (conflict: name in use, container running, ...)
 *   -EINVAL   400 (bad parameter)
 *   -EACCES   401/403 (e.g. refused by a socket proxy)
 *   -EIO      5xx and other unexpected statuses
 *   -EBADMSG  a response that is not the JSON expected
 *   -EPROTONOSUPPORT  no API version both sides speak
 *   and the transport's -ECONNREFUSED, -ETIMEDOUT, -EFBIG, -EPROTO, -EIO.
 * A 304 (already started / already stopped) is success.
 *
 * A client is used by one thread at a time; docker_client_dup gives another
 * thread its own. Creating a client does not contact the engine: the API
 * version is negotiated on the first call that needs it. */
#ifndef RM_DOCKER_H
#define RM_DOCKER_H

#include <stdbool.h>
#include <stddef.h>

#include "rm/docker_json.h"

/* The newest API version this client knows. */
#define DOCKER_CLIENT_API_MAX "1.47"

struct docker_client;

struct docker_client_options {
	const char *host;        /* "unix:///var/run/docker.sock", "tcp://host:2375" */
	const char *api_version; /* "auto" (or NULL) negotiates; "1.41" is used as is */
	double timeout;          /* seconds per request; 0 = 30 */
	size_t max_body;         /* bytes; 0 = the http default */
};

/* Returns 0 and *ret, or -EINVAL for an unusable host or api_version (err says
 * which). Does no I/O. */
int docker_client_new(const struct docker_client_options *opts, struct docker_client **ret,
                      char *err, size_t errlen);
/* Another client with the same settings and negotiated version, for another
 * thread. Never fails. */
struct docker_client *docker_client_dup(const struct docker_client *c);
void docker_client_free(struct docker_client *c);
/* Requests made and response bytes received by c so far. */
void docker_client_counters(const struct docker_client *c, unsigned *ret_requests,
                            size_t *ret_bytes);
/* "unix:///var/run/docker.sock", for messages. Borrowed. */
const char *docker_client_describe(const struct docker_client *c);
/* While the engine cannot be reached at all (connection refused, socket
 * gone: the request was never delivered, so any call may be repeated), wait
 * for it up to seconds per request before failing (0, the default: fail at
 * once). Deployments set it so that a restart of dockerd does not cut them. */
void docker_client_set_unreachable_wait(struct docker_client *c, double seconds);
double docker_client_unreachable_wait(const struct docker_client *c);

/* Negotiates the API version if not done yet: from GET /version, the lower of
 * the engine's ApiVersion and DOCKER_CLIENT_API_MAX, never below the engine's
 * MinAPIVersion. A fixed version from the options is used without asking.
 * Returns 0, a transport error, -EBADMSG or -EPROTONOSUPPORT. */
int docker_negotiate(struct docker_client *c, char *err, size_t errlen);
/* The version in use ("1.41"), or NULL before negotiation. Borrowed. */
const char *docker_api_version(const struct docker_client *c);

/* GET /_ping: 0 when the engine answers "OK". */
int docker_ping(struct docker_client *c, char *err, size_t errlen);
/* GET /version (unversioned path). *ret owned, docker_version_free. */
int docker_version(struct docker_client *c, struct docker_version *ret, char *err, size_t errlen);
/* GET /info. *ret owned, docker_info_free. */
int docker_info(struct docker_client *c, struct docker_info *ret, char *err, size_t errlen);

/* GET /containers/json: all = include stopped ones; labels[0..n_labels) are
 * label filters, "key" or "key=value", all of which must hold. *ret owned,
 * docker_container_list_free. */
int docker_containers_list(struct docker_client *c, bool all, const char *const *labels,
                           size_t n_labels, struct docker_container_list *ret, char *err,
                           size_t errlen);
/* GET /containers/{id}/json; id is an id or a name. *ret owned. */
int docker_container_inspect(struct docker_client *c, const char *id, struct docker_inspect *ret,
                             char *err, size_t errlen);
/* POST /containers/create?name=NAME (name may be NULL) with a JSON body as the
 * API takes it. Returns 0 and the new id in *ret_id (owned). */
int docker_container_create(struct docker_client *c, const char *name, const char *body,
                            char **ret_id, char *err, size_t errlen);
int docker_container_start(struct docker_client *c, const char *id, char *err, size_t errlen);
/* Stops with a grace period of timeout_s seconds (the request waits that
 * long on top of the client timeout). */
int docker_container_stop(struct docker_client *c, const char *id, int timeout_s, char *err,
                          size_t errlen);
/* signal: "SIGKILL", "TERM", ... */
int docker_container_kill(struct docker_client *c, const char *id, const char *signal, char *err,
                          size_t errlen);
int docker_container_remove(struct docker_client *c, const char *id, bool force, bool volumes,
                            char *err, size_t errlen);
/* new_name without the leading '/'. */
int docker_container_rename(struct docker_client *c, const char *id, const char *new_name,
                            char *err, size_t errlen);
/* POST /containers/{id}/update with a ready JSON body. */
int docker_container_update(struct docker_client *c, const char *id, const char *body, char *err,
                            size_t errlen);
/* Changes CPU and/or memory limits of container cur (as inspected) in place,
 * in the CPU form it was created with and with MemorySwap alongside Memory
 * (see docker_json_update_body). -EINVAL when want asks for nothing. */
int docker_container_set_limits(struct docker_client *c, const struct docker_inspect *cur,
                                const struct docker_limits *want, char *err, size_t errlen);
/* POST /networks/{network}/connect: joins container to network with the
 * given aliases (may be none). */
int docker_network_connect(struct docker_client *c, const char *network, const char *container,
                           const char *const *aliases, size_t n_aliases, char *err, size_t errlen);
/* As docker_network_connect, asking for the IPv4 address ipv4 (NULL: any).
 * The engine refuses an address (-EINVAL) on a network whose subnet it
 * chose itself. */
int docker_network_connect_ip(struct docker_client *c, const char *network, const char *container,
                              const char *const *aliases, size_t n_aliases, const char *ipv4,
                              char *err, size_t errlen);
/* POST /networks/{network}/disconnect (force: even a stopped container's). */
int docker_network_disconnect(struct docker_client *c, const char *network, const char *container,
                              bool force, char *err, size_t errlen);
/* One-shot stats (stream=false&one-shot=true). *ret filled. */
int docker_container_stats(struct docker_client *c, const char *id, struct docker_stats *ret,
                           char *err, size_t errlen);

/* ---- events ---- */

/* A reader of GET /events (type=container; start, die, oom, health_status,
 * destroy, rename) on its own thread, into a bounded queue.
 *
 * It reconnects after any break, with a backoff from 0.2 s doubling to
 * backoff_max, asking for events since the last one it saw (duplicates are
 * dropped). It queues a DOCKER_EVENT_RELIST item whenever the engine answers
 * (GET /_ping) at start and after each break, and when the queue overflowed
 * (the queued events are then dropped): the consumer lists containers again.
 * The stream is renewed every `renew` seconds, without a relist, because
 * http_stream cannot be interrupted while the engine is silent: a stop
 * returns within about that time. */
struct docker_events;

struct docker_events_options {
	double renew;       /* seconds; 0 = 2 */
	size_t queue_max;   /* events; 0 = 1024 */
	double backoff_max; /* seconds; 0 = 5 */
};

/* Starts the reader on a copy of c's settings (c is not used afterwards).
 * Negotiates the API version first if needed; never fails on a peer that is
 * down (the thread keeps retrying). Returns 0 and *ret. */
int docker_events_start(const struct docker_client *c, const struct docker_events_options *opts,
                        struct docker_events **ret);
/* Waits up to timeout seconds (0 = do not wait) for the next item. Returns 1
 * with *ret filled (owned, docker_event_free), or 0 when none came. Safe to
 * call from one consumer thread while the reader runs. */
int docker_events_next(struct docker_events *ev, double timeout, struct docker_event *ret);
/* How many times the reader found the engine reachable (at start and after
 * each break) and queued a RELIST; for tests and logs. */
unsigned docker_events_connections(struct docker_events *ev);
/* The last transport error, copied into buf ("" when none). */
void docker_events_last_error(struct docker_events *ev, char *buf, size_t len);
/* Stops the thread (waits for it) and frees everything. Accepts NULL. */
void docker_events_stop(struct docker_events *ev);

#endif
