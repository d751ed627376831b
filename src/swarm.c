/* swarm: the Engine's services and tasks endpoints (calls; the wire format
 * is swarm_json.c). */
#include "rm/swarm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker_internal.h"
#include "rm/http.h"
#include "rm/util.h"

/* METHOD /vX.Y<path>; an engine outside a swarm answers 503 "This node is
 * not a swarm manager": -ENOTCONN. A version conflict is -EAGAIN. */
static int request(struct docker_client *c, const char *method, const char *path, const char *body,
                   struct http_response *ret, char *err, size_t errlen)
{
	int r = docker_negotiate(c, err, errlen);
	if (r < 0)
		return r;
	char *full = xasprintf("%s%s", c->prefix, path);
	char e[512] = "";
	r = docker_raw_request(c, NULL, method, full, body, ret, e, sizeof(e));
	free(full);
	if (r == -EIO && strstr(e, "HTTP 503"))
		r = -ENOTCONN;
	else if (r < 0 && strstr(e, "update out of sequence"))
		r = -EAGAIN;
	if (r < 0 && err)
		snprintf(err, errlen, "%s", e);
	return r;
}

int swarm_services_list(struct docker_client *c, struct swarm_service_list *ret, char *err,
                        size_t errlen)
{
	struct http_response resp = { 0 };
	int r = request(c, "GET", "/services", NULL, &resp, err, errlen);
	if (r == 0)
		r = swarm_json_parse_services(resp.body, resp.body_len, ret, err, errlen);
	http_response_free(&resp);
	return r;
}

int swarm_service_inspect(struct docker_client *c, const char *id, struct swarm_service *ret,
                          char *err, size_t errlen)
{
	struct http_response resp = { 0 };
	char *enc = http_urlencode(id);
	char *path = xasprintf("/services/%s", enc);
	int r = request(c, "GET", path, NULL, &resp, err, errlen);
	if (r == 0)
		r = swarm_json_parse_service(resp.body, resp.body_len, ret, err, errlen);
	http_response_free(&resp);
	free(path);
	free(enc);
	return r;
}

int swarm_service_update(struct docker_client *c, const char *id, uint64_t version,
                         const char *body, bool rollback, char *err, size_t errlen)
{
	struct http_response resp = { 0 };
	char *enc = http_urlencode(id);
	char *path = xasprintf("/services/%s/update?version=%llu%s", enc,
	                       (unsigned long long)version, rollback ? "&rollback=previous" : "");
	int r = request(c, "POST", path, body, &resp, err, errlen);
	http_response_free(&resp);
	free(path);
	free(enc);
	return r;
}

int swarm_tasks_list(struct docker_client *c, const char *service, bool running_only,
                     struct swarm_task_list *ret, char *err, size_t errlen)
{
	struct docker_filter f[2] = {
		{ "service", &service, 1 },
		{ "desired-state", (const char *[]){ "running" }, 1 },
	};
	char *filters = docker_json_filters(f, running_only ? 2 : 1);
	char *enc = http_urlencode(filters);
	char *path = xasprintf("/tasks?filters=%s", enc);
	struct http_response resp = { 0 };
	int r = request(c, "GET", path, NULL, &resp, err, errlen);
	if (r == 0)
		r = swarm_json_parse_tasks(resp.body, resp.body_len, ret, err, errlen);
	http_response_free(&resp);
	free(path);
	free(enc);
	free(filters);
	return r;
}
