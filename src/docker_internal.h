/* docker_internal: the client's state, shared by docker.c and docker_events.c. */
#ifndef RM_DOCKER_INTERNAL_H
#define RM_DOCKER_INTERNAL_H

#include <stdbool.h>

#include "rm/docker.h"
#include "rm/http.h"

struct docker_client {
	char *host;
	struct http_options opts;
	struct http_endpoint *ep;
	bool fixed;      /* version from the options, never negotiated */
	bool negotiated; /* version and prefix are set */
	char version[16];
	char prefix[24]; /* "/v1.41" */
	unsigned requests;
	double unreachable_wait; /* seconds; see docker_client_set_unreachable_wait */
	size_t bytes_received;
};

void docker_client_set_version(struct docker_client *c, struct docker_api_version v);
/* METHOD path (already versioned or not) on ep (NULL = the client's own),
 * with the status mapped to an errno and Docker's message in err. On 0,
 * *ret holds the 2xx/304 response (owned). */
int docker_raw_request(struct docker_client *c, struct http_endpoint *ep, const char *method,
                       const char *path, const char *body, struct http_response *ret, char *err,
                       size_t errlen);

#endif
