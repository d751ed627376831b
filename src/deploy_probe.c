/* deploy_probe: the blue-green verify phase's checks through the router: a
 * URL that must answer 2xx a number of times in a row, and Traefik's API,
 * where green's server must be UP. HTTP only; bounded in time. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deploy_internal.h"
#include "rm/http.h"
#include "rm/traefik_json.h"

/* The statuses a probe saw, for the explanation (0: no answer). */
#define PROBE_MAX_CODES 8

struct probe_tally {
	unsigned total;
	struct {
		long code;
		unsigned n;
	} codes[PROBE_MAX_CODES];
	size_t n_codes;
	unsigned other; /* answers with a status beyond the table */
	char last_error[160];
};

static void tally_add(struct probe_tally *t, long code)
{
	t->total++;
	for (size_t i = 0; i < t->n_codes; i++)
		if (t->codes[i].code == code) {
			t->codes[i].n++;
			return;
		}
	if (t->n_codes < PROBE_MAX_CODES) {
		t->codes[t->n_codes].code = code;
		t->codes[t->n_codes++].n = 1;
	} else {
		t->other++;
	}
}

/* "200 x12, 404 x13, no answer x2 (last: ...)" into buf. */
static void tally_format(const struct probe_tally *t, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < t->n_codes && o < len; i++) {
		if (t->codes[i].code)
			o += (size_t)snprintf(buf + o, len - o, "%s%ld x%u", o ? ", " : "",
			                      t->codes[i].code, t->codes[i].n);
		else
			o += (size_t)snprintf(buf + o, len - o, "%sno answer x%u (last: %s)",
			                      o ? ", " : "", t->codes[i].n, t->last_error);
	}
	if (t->other && o < len)
		snprintf(buf + o, len - o, ", other statuses x%u", t->other);
}

static bool aborted(const volatile int *abort_flag)
{
	return abort_flag && *abort_flag;
}

static void nap(double seconds)
{
	if (seconds <= 0)
		return;
	struct timespec ts = { (time_t)seconds, (long)((seconds - floor(seconds)) * 1e9) };
	nanosleep(&ts, NULL);
}

/* Splits url into an endpoint base and a path ("" when it has none). */
static char *url_base(const char *url, const char **ret_path)
{
	const char *scheme = strstr(url, "://");
	const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
	*ret_path = slash ? slash : "";
	return slash ? xstrndup(url, (size_t)(slash - url)) : xstrdup(url);
}

/* One GET with a connection of its own (a router balances connections as
 * well as requests: a reused one could stick to one server). The status, or
 * 0 with t->last_error set when there was no answer. */
static long probe_once(const char *base, const char *path, double timeout, struct probe_tally *t)
{
	struct http_options o = { .connect_timeout = fmin(2, timeout),
		                  .timeout = timeout,
		                  .max_body = 1 << 20 };
	struct http_endpoint *ep = NULL;
	struct http_response resp = { 0 };
	char err[160] = "";
	long code = 0;
	if (http_endpoint_new(base, &o, &ep) < 0)
		snprintf(err, sizeof(err), "the URL cannot be used");
	else if (http_request(ep, "GET", path, NULL, &resp, err, sizeof(err)) == 0)
		code = resp.status;
	if (!code)
		snprintf(t->last_error, sizeof(t->last_error), "%s", err);
	http_response_free(&resp);
	http_endpoint_free(ep);
	return code;
}

int deploy_probe_url(const char *url, unsigned need, double budget, volatile int *abort_flag,
                     char *why, size_t whylen)
{
	const char *path;
	char *base = url_base(url, &path);
	struct probe_tally t = { 0 };
	double start = time_monotonic(), end = start + budget;
	unsigned streak = 0, best = 0;
	int r = -ETIMEDOUT;
	for (;;) {
		if (aborted(abort_flag)) {
			r = -ECANCELED;
			break;
		}
		double left = end - time_monotonic();
		if (left <= 0.05)
			break;
		long code = probe_once(base, path, fmin(5, left), &t);
		tally_add(&t, code);
		streak = code >= 200 && code < 300 ? streak + 1 : 0;
		if (streak > best)
			best = streak;
		if (streak >= need) {
			r = 0;
			break;
		}
		nap(fmin(0.05, end - time_monotonic()));
	}
	char seen[256];
	tally_format(&t, seen, sizeof(seen));
	snprintf(why, whylen,
	         "%s: %u consecutive 2xx answer(s) of %u needed%s (%.1f s); %u request(s): %s", url,
	         r == 0 ? streak : best, need, r == 0 ? "" : ", not reached in time",
	         time_monotonic() - start, t.total, t.total ? seen : "none sent");
	free(base);
	return r;
}

/* "url=UP, url=DOWN" (at most what fits) into buf. */
static void servers_format(const struct traefik_service *s, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < s->n_servers && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s=%s", i ? ", " : "", s->servers[i].url,
		                      s->servers[i].status);
	if (!s->n_servers)
		snprintf(buf, len, "no server with a status");
}

/* One read of the service: 1 green UP, 0 not yet (why says how it stands),
 * the answer kept in why either way. */
static int traefik_once(struct http_endpoint *ep, const char *path, const char *const *ips,
                        size_t n_ips, char *why, size_t whylen)
{
	struct http_response resp = { 0 };
	char err[200] = "";
	int res = 0;
	if (http_request(ep, "GET", path, NULL, &resp, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "no answer: %s", err);
		goto out;
	}
	if (resp.status != 200) {
		snprintf(why, whylen, "HTTP %ld%s", resp.status,
		         resp.status == 404 ? " (Traefik does not know the service)" : "");
		goto out;
	}
	struct traefik_service s = { 0 };
	if (traefik_json_parse_service(resp.body, resp.body_len, &s, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "an answer that is not a service: %s", err);
		goto out;
	}
	const char *st = NULL;
	const char *ip = n_ips ? ips[0] : "";
	for (size_t i = 0; i < n_ips && !st; i++)
		if ((st = traefik_server_status(&s, ips[i])))
			ip = ips[i];
	char list[400];
	servers_format(&s, list, sizeof(list));
	if (st && strcmp(st, "UP") == 0)
		res = 1;
	snprintf(why, whylen, "green (%s) %s%s; servers: %s", ip, st ? "is " : "is not listed",
	         st ? st : "", list);
	traefik_service_free(&s);
out:
	http_response_free(&resp);
	return res;
}

int deploy_traefik_wait(const char *api, const char *service, const char *const *ips, size_t n_ips,
                        double budget, volatile int *abort_flag, char *why, size_t whylen)
{
	struct http_options o = { .connect_timeout = 2, .timeout = 5, .max_body = 1 << 20 };
	struct http_endpoint *ep = NULL;
	if (http_endpoint_new(api, &o, &ep) < 0) {
		snprintf(why, whylen, "Traefik's API %s cannot be used", api);
		return -EINVAL;
	}
	char *enc = http_urlencode(service);
	char *path = xasprintf("/api/http/services/%s@docker", enc);
	double start = time_monotonic(), end = start + budget;
	char last[600] = "nothing read";
	int r = -ETIMEDOUT;
	for (;;) {
		if (aborted(abort_flag)) {
			r = -ECANCELED;
			break;
		}
		if (traefik_once(ep, path, ips, n_ips, last, sizeof(last)) > 0) {
			r = 0;
			break;
		}
		if (time_monotonic() + 0.5 >= end)
			break;
		nap(0.5);
	}
	snprintf(why, whylen, "Traefik's API %s%s: %s%s (%.1f s)", api, path, last,
	         r == 0 ? "" : ", not UP in time", time_monotonic() - start);
	free(path);
	free(enc);
	http_endpoint_free(ep);
	return r;
}
