/* prom: a Prometheus HTTP API client for instant and range queries
 * (POST /api/v1/query and /api/v1/query_range, form bodies), over the http
 * transport. Does not log above debug. */
#ifndef RM_PROM_H
#define RM_PROM_H

#include <stddef.h>

#include "rm/prom_json.h"
#include "rm/prom_matrix.h"

/* Largest answer accepted; a bigger or endless body fails with -EFBIG. */
#define PROM_MAX_BODY (32u * 1024u * 1024u)

struct prom_client;

/* Prepares a client for url ("http://127.0.0.1:9090"); timeout (seconds, > 0)
 * bounds each query, and is passed to Prometheus as its own query timeout.
 * max_body 0 means PROM_MAX_BODY. Returns 0 and *ret, or -EINVAL for a URL
 * that is not http(s) (message in err, may be NULL). Makes no request. */
int prom_client_new(const char *url, double timeout, size_t max_body, struct prom_client **ret,
                    char *err, size_t errlen);
void prom_client_free(struct prom_client *c);
/* The URL, for messages; borrowed from c. */
const char *prom_client_url(const struct prom_client *c);

/* Runs the instant query promql evaluated at time at (seconds since the
 * epoch; 0 = Prometheus' now). Returns 0 with *ret filled (a successful
 * answer; free with prom_response_free), or a negative errno with a message
 * in err (may be NULL) naming the URL and, when Prometheus gave one, its
 * error text:
 *   -ECONNREFUSED / -EHOSTUNREACH  Prometheus down or unreachable
 *   -ETIMEDOUT                     no answer within the timeout, or
 *                                  Prometheus' own query timeout
 *   -EINVAL                        Prometheus refused the query (HTTP 400/422)
 *   -EIO                           HTTP 5xx or another HTTP status, transport
 *   -EFBIG                         answer larger than max_body
 *   -EPROTO                        broken HTTP or truncated transfer
 *   -EBADMSG                       the answer is not the API's JSON */
int prom_query(struct prom_client *c, const char *promql, double at, struct prom_response *ret,
               char *err, size_t errlen);

/* As prom_query, with the query already percent-encoded as http_urlencode
 * gives it: for callers that build big queries from pieces encoded once. */
int prom_query_encoded(struct prom_client *c, const char *promql_encoded, double at,
                       struct prom_response *ret, char *err, size_t errlen);

/* A range query (POST /api/v1/query_range) of the percent-encoded query
 * from start to end (epoch seconds) every step seconds. Returns 0 with *ret
 * (free with prom_matrix_free), or the errors of prom_query; Prometheus
 * refusing more than its 11,000 points per series is -EINVAL with its
 * message. */
int prom_query_range_encoded(struct prom_client *c, const char *promql_encoded, double start,
                             double end, double step, struct prom_matrix *ret, char *err,
                             size_t errlen);

/* Requests made and body bytes received since the client was created. */
unsigned prom_client_requests(const struct prom_client *c);
size_t prom_client_bytes(const struct prom_client *c);

#endif
