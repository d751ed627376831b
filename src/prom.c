/* prom: instant queries against the Prometheus HTTP API, with error mapping. */
#include "rm/prom.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/http.h"
#include "rm/log.h"
#include "rm/units.h"
#include "rm/util.h"

struct prom_client {
	struct http_endpoint *ep;
	char *url;
	double timeout;
	unsigned requests;
	size_t bytes;
};

int prom_client_new(const char *url, double timeout, size_t max_body, struct prom_client **ret,
                    char *err, size_t errlen)
{
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		if (err)
			snprintf(err, errlen, "Prometheus URL '%s' is not http:// or https://",
			         url);
		return -EINVAL;
	}
	struct http_options opts = {
		.timeout = timeout > 0 ? timeout : 30,
		.max_body = max_body ? max_body : PROM_MAX_BODY,
	};
	/* Connecting to a loopback or LAN peer is quick; do not wait longer than
	 * the whole query may take. */
	opts.connect_timeout = opts.timeout < 5 ? opts.timeout : 5;
	struct http_endpoint *ep = NULL;
	int r = http_endpoint_new(url, &opts, &ep);
	if (r < 0) {
		if (err)
			snprintf(err, errlen, "Prometheus URL '%s' cannot be used", url);
		return r;
	}
	struct prom_client *c = xcalloc(1, sizeof(*c));
	c->ep = ep;
	c->url = xstrdup(url);
	c->timeout = opts.timeout;
	*ret = c;
	return 0;
}

void prom_client_free(struct prom_client *c)
{
	if (!c)
		return;
	http_endpoint_free(c->ep);
	free(c->url);
	free(c);
}

const char *prom_client_url(const struct prom_client *c)
{
	return c->url;
}

unsigned prom_client_requests(const struct prom_client *c)
{
	return c->requests;
}

size_t prom_client_bytes(const struct prom_client *c)
{
	return c->bytes;
}

/* A short printable excerpt of a body that is not the API's JSON. */
static void body_excerpt(const struct http_response *resp, char *buf, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < resp->body_len && n + 1 < len && i < 120; i++) {
		unsigned char ch = (unsigned char)resp->body[i];
		buf[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : ' ';
	}
	buf[n] = '\0';
}

/* Maps an HTTP status (and Prometheus' errorType when it sent one) to an errno. */
static int status_errno(long status, const char *error_type)
{
	if (error_type && strcmp(error_type, "timeout") == 0)
		return -ETIMEDOUT;
	if (status == 400 || status == 422)
		return -EINVAL;
	return -EIO;
}

/* The form body of a query. Sent with POST: a GET's URL would cap the query
 * (Prometheus refuses request headers over 1 MiB, about 17,000 services). */
static char *query_form(const struct prom_client *c, const char *q, double at)
{
	char timeout[32];
	units_format_prom_duration(c->timeout, timeout, sizeof(timeout));
	char tail[96];
	if (at > 0)
		snprintf(tail, sizeof(tail), "&time=%.3f&timeout=%s", at, timeout);
	else
		snprintf(tail, sizeof(tail), "&timeout=%s", timeout);
	/* No printf over the query: it can be megabytes. */
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_puts(&sb, "query=");
	strbuf_puts(&sb, q);
	strbuf_puts(&sb, tail);
	return strbuf_steal(&sb);
}

/* Interprets an answer that came back with an HTTP status. */
static int check_answer(const struct prom_client *c, const struct http_response *resp,
                        struct prom_response *ret, char *err, size_t errlen)
{
	struct prom_response pr = { 0 };
	char perr[160] = "";
	int r = prom_json_parse(resp->body, resp->body_len, &pr, perr, sizeof(perr));
	bool ok_status = resp->status >= 200 && resp->status < 300;
	if (r < 0) {
		char excerpt[128];
		body_excerpt(resp, excerpt, sizeof(excerpt));
		if (!ok_status) {
			r = status_errno(resp->status, NULL);
			if (err)
				snprintf(err, errlen, "Prometheus %s answered HTTP %ld: %s", c->url,
				         resp->status, excerpt[0] ? excerpt : "(empty body)");
		} else if (err) {
			snprintf(err, errlen,
			         "Prometheus %s sent an answer that is not the API's JSON: %s",
			         c->url, perr);
		}
		return r;
	}
	if (!pr.success) {
		r = status_errno(resp->status, pr.error_type);
		if (err)
			snprintf(err, errlen, "Prometheus %s refused the query (HTTP %ld, %s): %s",
			         c->url, resp->status, pr.error_type, pr.error);
		prom_response_free(&pr);
		return r;
	}
	if (!ok_status) {
		if (err)
			snprintf(err, errlen, "Prometheus %s answered HTTP %ld", c->url,
			         resp->status);
		prom_response_free(&pr);
		return -EIO;
	}
	*ret = pr;
	return 0;
}

/* Says what went wrong below HTTP, without the query text. */
static void transport_message(const struct prom_client *c, int r, const char *herr,
                              const char *path, char *err, size_t errlen)
{
	const char *p = strstr(herr, path);
	const char *detail = p ? p + strlen(path) : herr;
	if (detail[0] == ':' && detail[1] == ' ')
		detail += 2;
	switch (r) {
	case -ETIMEDOUT:
		snprintf(err, errlen, "Prometheus %s: no answer within %gs (%s)", c->url,
		         c->timeout, detail);
		break;
	default:
		snprintf(err, errlen, "Prometheus %s: %s", c->url, detail);
	}
}

int prom_query(struct prom_client *c, const char *promql, double at, struct prom_response *ret,
               char *err, size_t errlen)
{
	char *q = http_urlencode(promql);
	int r = prom_query_encoded(c, q, at, ret, err, errlen);
	free(q);
	return r;
}

/* POSTs form to path; the answer in *resp, or a negative errno with the
 * transport's reason in err (without the query text). */
static int post(struct prom_client *c, const char *path, const char *form,
                struct http_response *resp, char *err, size_t errlen)
{
	static const char *const form_type[] = { "Content-Type: application/x-www-form-urlencoded",
		                                 NULL };
	size_t herrlen = strlen(path) + strlen(http_endpoint_describe(c->ep)) + 512;
	char *herr = xcalloc(1, herrlen);
	c->requests++;
	int r = http_request_headers(c->ep, "POST", path, form, form_type, resp, herr, herrlen);
	if (r < 0) {
		if (err)
			transport_message(c, r, herr, path, err, errlen);
	} else {
		c->bytes += resp->body_len;
		log_debug("prom", "query answered\tpath=%s status=%ld bytes=%zu", path,
		          resp->status, resp->body_len);
	}
	free(herr);
	return r;
}

int prom_query_encoded(struct prom_client *c, const char *promql_encoded, double at,
                       struct prom_response *ret, char *err, size_t errlen)
{
	struct http_response resp = { 0 };
	char *form = query_form(c, promql_encoded, at);
	int r = post(c, "/api/v1/query", form, &resp, err, errlen);
	if (r >= 0)
		r = check_answer(c, &resp, ret, err, errlen);
	http_response_free(&resp);
	free(form);
	return r;
}

/* Interprets a range query's answer, as check_answer does an instant one's. */
static int check_range_answer(const struct prom_client *c, const struct http_response *resp,
                              struct prom_matrix *ret, char *err, size_t errlen)
{
	struct prom_matrix m = { 0 };
	char perr[160] = "";
	bool ok_status = resp->status >= 200 && resp->status < 300;
	int r = prom_matrix_parse(resp->body, resp->body_len, &m, perr, sizeof(perr));
	if (r < 0) {
		char excerpt[128];
		body_excerpt(resp, excerpt, sizeof(excerpt));
		r = ok_status ? -EBADMSG : status_errno(resp->status, NULL);
		if (err && ok_status)
			snprintf(err, errlen,
			         "Prometheus %s sent a range answer that is not the API's JSON: %s",
			         c->url, perr);
		else if (err)
			snprintf(err, errlen, "Prometheus %s answered HTTP %ld: %s", c->url,
			         resp->status, excerpt[0] ? excerpt : "(empty body)");
		return r;
	}
	if (!m.success || !ok_status) {
		r = m.success ? -EIO : status_errno(resp->status, m.error_type);
		if (err && m.success)
			snprintf(err, errlen, "Prometheus %s answered HTTP %ld", c->url,
			         resp->status);
		else if (err)
			snprintf(err, errlen, "Prometheus %s refused the query (HTTP %ld, %s): %s",
			         c->url, resp->status, m.error_type, m.error);
		prom_matrix_free(&m);
		return r;
	}
	*ret = m;
	return 0;
}

int prom_query_range_encoded(struct prom_client *c, const char *promql_encoded, double start,
                             double end, double step, struct prom_matrix *ret, char *err,
                             size_t errlen)
{
	struct http_response resp = { 0 };
	char timeout[32], tail[160];
	units_format_prom_duration(c->timeout, timeout, sizeof(timeout));
	snprintf(tail, sizeof(tail), "&start=%.3f&end=%.3f&step=%.3f&timeout=%s", start, end, step,
	         timeout);
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_puts(&sb, "query=");
	strbuf_puts(&sb, promql_encoded);
	strbuf_puts(&sb, tail);
	int r = post(c, "/api/v1/query_range", sb.data, &resp, err, errlen);
	if (r >= 0)
		r = check_range_answer(c, &resp, ret, err, errlen);
	http_response_free(&resp);
	strbuf_free(&sb);
	return r;
}
