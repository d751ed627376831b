/* http: all outgoing HTTP (libcurl), to a base URL or over a unix socket.
 *
 * An endpoint is built from a URL: "http://host:port", "https://host",
 * "unix:///var/run/docker.sock" (HTTP over the socket) or Docker's
 * "tcp://host:port" (plain HTTP). Each endpoint keeps one curl handle, so
 * connections are reused; an endpoint is used by one thread at a time. */
#ifndef RM_HTTP_H
#define RM_HTTP_H

#include <stddef.h>

/* Default cap on a response body; a bigger or endless body is an error. */
#define HTTP_DEFAULT_MAX_BODY (16u * 1024u * 1024u)

struct http_endpoint;

struct http_options {
	double connect_timeout; /* seconds; 0 = 5 s */
	double timeout;         /* whole request, seconds; 0 = 30 s */
	size_t max_body;        /* bytes; 0 = HTTP_DEFAULT_MAX_BODY */
};

struct http_response {
	long status; /* HTTP status, 0 when no response */
	char *body;  /* NUL-terminated, owned */
	size_t body_len;
	char *content_type; /* owned, may be NULL */
};
void http_response_free(struct http_response *r);

/* Parses url and prepares an endpoint. Returns 0 and *ret, or -EINVAL for a
 * URL it cannot use (the scheme is named in the error). */
int http_endpoint_new(const char *url, const struct http_options *opts, struct http_endpoint **ret);
void http_endpoint_free(struct http_endpoint *ep);
/* "unix:///var/run/docker.sock" or "http://host:9090", for messages. */
const char *http_endpoint_describe(const struct http_endpoint *ep);

/* Performs METHOD base+path (path starts with '/', query included) with an
 * optional body (content type application/json when body is non-NULL).
 * Returns 0 with *ret filled for ANY HTTP status (callers check status), or
 * a negative errno with a message in err (may be NULL):
 *   -ECONNREFUSED / -EHOSTUNREACH  peer down or unreachable
 *   -ETIMEDOUT                     connect or total timeout
 *   -EFBIG                         body larger than max_body
 *   -EPROTO                        broken HTTP, truncated transfer
 *   -EIO                           other transport failures */
int http_request(struct http_endpoint *ep, const char *method, const char *path, const char *body,
                 struct http_response *ret, char *err, size_t errlen);

/* As http_request, with extra request headers: a NULL-terminated list of
 * "Name: value" strings (may be NULL). */
int http_request_headers(struct http_endpoint *ep, const char *method, const char *path,
                         const char *body, const char *const *headers, struct http_response *ret,
                         char *err, size_t errlen);

/* Percent-encodes s for a query string. Returns an owned string. */
char *http_urlencode(const char *s);

/* Ends streams from another thread: after http_cancel_fire, the stream in
 * progress under this handle returns within milliseconds (as a stop), and
 * any later one at once. */
struct http_cancel;
struct http_cancel *http_cancel_new(void);
void http_cancel_fire(struct http_cancel *c); /* any thread */
void http_cancel_free(struct http_cancel *c); /* no stream may be using it */

/* Streaming GET: calls on_data for each chunk as it arrives until the peer
 * closes, on_data returns non-zero (stop), cancel (may be NULL) fires, or
 * the timeout passes (0 = none, the connect timeout still applies). Returns
 * 0 on a clean end or stop, a negative errno otherwise. Uses its own
 * connection. */
int http_stream(const struct http_endpoint *ep, const char *path, double timeout,
                int (*on_data)(const char *data, size_t len, void *ctx), void *ctx,
                struct http_cancel *cancel, char *err, size_t errlen);

#endif
