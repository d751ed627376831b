/* traefik_json: Traefik's API answer for one HTTP service
 * (GET /api/http/services/<name>) to plain C structs, and the name the
 * Docker provider gives a container's service. Pure, no I/O.
 *
 * The answer looks like:
 *   {"loadBalancer": {"servers": [{"url": "http://172.19.0.3:8080"}], ...},
 *    "status": "enabled", "usedBy": [...], "name": "web-proj@docker",
 *    "provider": "docker", "type": "loadbalancer",
 *    "serverStatus": {"http://172.19.0.3:8080": "UP"}}
 * Only "name", "status" and "serverStatus" are read; other keys are ignored. */
#ifndef RM_TRAEFIK_JSON_H
#define RM_TRAEFIK_JSON_H

#include <stdbool.h>
#include <stddef.h>

/* Bounds on what a parse accepts: more servers, or longer strings, are an
 * error (-EFBIG), never a truncation. */
#define TRAEFIK_MAX_SERVERS 256
#define TRAEFIK_MAX_STRING  512

struct traefik_server {
	char *url;    /* "http://172.19.0.3:8080" */
	char *status; /* "UP", "DOWN", ... as Traefik wrote it */
};

struct traefik_service {
	char *name;   /* may be NULL */
	char *status; /* "enabled", "disabled", "warning"; may be NULL */
	struct traefik_server *servers;
	size_t n_servers;
};
void traefik_service_free(struct traefik_service *s);

/* Parses len bytes of a service answer into *ret (owned; zeroed first).
 * Returns 0, -EBADMSG for what is not such an answer (err says where), or
 * -EFBIG beyond the bounds above. A service without "serverStatus" (no
 * server yet; Traefik lists each server it built as "UP" until a health
 * check of its own says otherwise) parses with n_servers 0. */
int traefik_json_parse_service(const char *data, size_t len, struct traefik_service *ret, char *err,
                               size_t errlen);

/* The status of the server whose URL's host is ip ("http://<ip>:<port>",
 * with or without a path; IPv6 in brackets), or NULL when no server has it.
 * Borrowed from s. */
const char *traefik_server_status(const struct traefik_service *s, const char *ip);

/* The Docker provider's default service name for a container: its Compose
 * service and project as "<service>_<project>", else its container name,
 * with every run of characters other than letters and digits turned into
 * one '-' and none at either end ("web_my.proj" -> "web-my-proj"). Owned;
 * NULL when nothing is left. */
char *traefik_docker_service_name(const char *compose_service, const char *compose_project,
                                  const char *container_name);

#endif
