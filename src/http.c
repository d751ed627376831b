/* http: all outgoing HTTP through libcurl, to a base URL or a unix socket. */
#include "rm/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rm/util.h"

struct http_endpoint {
	char *base;      /* "http://host:port" (no trailing slash) */
	char *unix_path; /* socket path, or NULL */
	char *describe;
	struct http_options opts;
	CURL *curl; /* reused between requests: keeps the connection */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_response_free(struct http_response *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->content_type);
	r->body = NULL;
	r->content_type = NULL;
	r->body_len = 0;
	r->status = 0;
}

int http_endpoint_new(const char *url, const struct http_options *opts, struct http_endpoint **ret)
{
	pthread_once(&curl_once, curl_init_once);
	struct http_endpoint *ep = xcalloc(1, sizeof(*ep));
	if (opts)
		ep->opts = *opts;
	if (ep->opts.connect_timeout <= 0)
		ep->opts.connect_timeout = 5;
	if (ep->opts.timeout <= 0)
		ep->opts.timeout = 30;
	if (ep->opts.max_body == 0)
		ep->opts.max_body = HTTP_DEFAULT_MAX_BODY;

	if (strncmp(url, "unix://", 7) == 0) {
		if (url[7] != '/') {
			free(ep);
			return -EINVAL;
		}
		ep->unix_path = xstrdup(url + 7);
		/* The host part is not used over a unix socket but must be valid. */
		ep->base = xstrdup("http://localhost");
	} else if (strncmp(url, "tcp://", 6) == 0 && url[6]) {
		ep->base = xasprintf("http://%s", url + 6);
	} else if ((strncmp(url, "http://", 7) == 0 && url[7]) ||
	           (strncmp(url, "https://", 8) == 0 && url[8])) {
		ep->base = xstrdup(url);
	} else {
		free(ep);
		return -EINVAL;
	}
	size_t n = strlen(ep->base);
	while (n > 0 && ep->base[n - 1] == '/')
		ep->base[--n] = '\0';
	ep->describe = xstrdup(url);
	ep->curl = curl_easy_init();
	if (!ep->curl)
		abort();
	*ret = ep;
	return 0;
}

void http_endpoint_free(struct http_endpoint *ep)
{
	if (!ep)
		return;
	curl_easy_cleanup(ep->curl);
	free(ep->base);
	free(ep->unix_path);
	free(ep->describe);
	free(ep);
}

const char *http_endpoint_describe(const struct http_endpoint *ep)
{
	return ep->describe;
}

struct body_sink {
	struct strbuf buf;
	size_t max;
	bool too_big;
};

static size_t body_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct body_sink *s = ctx;
	size_t n = size * nmemb;
	if (s->buf.len + n > s->max) {
		s->too_big = true;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	strbuf_append(&s->buf, data, n);
	return n;
}

static int map_curl_error(CURLcode c, bool too_big)
{
	if (too_big)
		return -EFBIG;
	switch (c) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
		return -EPROTO;
	default:
		return -EIO;
	}
}

static void setup_common(CURL *c, const struct http_endpoint *ep)
{
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(ep->opts.connect_timeout * 1000));
	if (ep->unix_path)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ep->unix_path);
	/* Never go through a proxy from the environment: peers are local services. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "resource-manager/" RM_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
}

int http_request(struct http_endpoint *ep, const char *method, const char *path, const char *body,
                 struct http_response *ret, char *err, size_t errlen)
{
	return http_request_headers(ep, method, path, body, NULL, ret, err, errlen);
}

int http_request_headers(struct http_endpoint *ep, const char *method, const char *path,
                         const char *body, const char *const *extra, struct http_response *ret,
                         char *err, size_t errlen)
{
	CURL *c = ep->curl;
	char curl_err[CURL_ERROR_SIZE] = "";
	struct body_sink sink = { .max = ep->opts.max_body };
	strbuf_init(&sink.buf);
	struct curl_slist *headers = NULL;
	char *url = xasprintf("%s%s", ep->base, path);
	int r = 0;

	curl_easy_reset(c);
	setup_common(c, ep);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(ep->opts.timeout * 1000));
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	bool own_type = false;
	for (const char *const *h = extra; h && *h; h++)
		own_type = own_type || strncasecmp(*h, "Content-Type:", 13) == 0;
	if (body) {
		if (!own_type)
			headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	for (; extra && *extra; extra++)
		headers = curl_slist_append(headers, *extra);
	for (const char *const *h = extra; h && *h; h++)
		headers = curl_slist_append(headers, *h);
	/* No "Expect: 100-continue" round trip. */
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

	CURLcode cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		r = map_curl_error(cc, sink.too_big);
		if (err) {
			if (r == -EFBIG)
				snprintf(err, errlen, "%s %s: response larger than %zu bytes",
				         method, path, ep->opts.max_body);
			else
				snprintf(err, errlen, "%s %s%s: %s", method, ep->describe, path,
				         curl_err[0] ? curl_err : curl_easy_strerror(cc));
		}
		goto out;
	}
	memset(ret, 0, sizeof(*ret));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ret->status);
	char *ct = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	ret->content_type = ct ? xstrdup(ct) : NULL;
	ret->body_len = sink.buf.len;
	ret->body = strbuf_steal(&sink.buf);
out:
	strbuf_free(&sink.buf);
	curl_slist_free_all(headers);
	free(url);
	return r;
}

char *http_urlencode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = xmalloc(3 * n + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

struct stream_ctx {
	int (*on_data)(const char *data, size_t len, void *ctx);
	void *ctx;
	bool stopped;
};

static size_t stream_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct stream_ctx *s = ctx;
	size_t n = size * nmemb;
	if (s->on_data(data, n, s->ctx) != 0) {
		s->stopped = true;
		return 0;
	}
	return n;
}

struct http_cancel {
	pthread_mutex_t mu;
	bool fired;
	CURLM *multi; /* the stream in progress, NULL between streams */
};

struct http_cancel *http_cancel_new(void)
{
	struct http_cancel *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void http_cancel_fire(struct http_cancel *c)
{
	pthread_mutex_lock(&c->mu);
	c->fired = true;
	if (c->multi)
		curl_multi_wakeup(c->multi);
	pthread_mutex_unlock(&c->mu);
}

void http_cancel_free(struct http_cancel *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* Publishes m as the stream cancel may wake (NULL: none). Returns whether
 * cancel has fired. */
static bool cancel_attach(struct http_cancel *cancel, CURLM *m)
{
	if (!cancel)
		return false;
	pthread_mutex_lock(&cancel->mu);
	cancel->multi = m;
	bool fired = cancel->fired;
	pthread_mutex_unlock(&cancel->mu);
	return fired;
}

/* Runs c on its own multi handle, so that cancel can wake the wait. */
static CURLcode perform_cancellable(CURL *c, struct http_cancel *cancel, bool *ret_cancelled)
{
	CURLM *m = curl_multi_init();
	if (!m)
		abort();
	curl_multi_add_handle(m, c);
	CURLcode cc = CURLE_OK;
	int running = 1;
	*ret_cancelled = cancel_attach(cancel, m);
	while (running && !*ret_cancelled) {
		if (curl_multi_perform(m, &running) != CURLM_OK ||
		    (running && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)) {
			cc = CURLE_RECV_ERROR;
			break;
		}
		*ret_cancelled = cancel_attach(cancel, m);
	}
	int left;
	for (CURLMsg *msg; (msg = curl_multi_info_read(m, &left));)
		if (msg->msg == CURLMSG_DONE)
			cc = msg->data.result;
	cancel_attach(cancel, NULL);
	curl_multi_remove_handle(m, c);
	curl_multi_cleanup(m);
	return cc;
}

int http_stream(const struct http_endpoint *ep, const char *path, double timeout,
                int (*on_data)(const char *data, size_t len, void *ctx), void *ctx,
                struct http_cancel *cancel, char *err, size_t errlen)
{
	char curl_err[CURL_ERROR_SIZE] = "";
	struct stream_ctx s = { on_data, ctx, false };
	CURL *c = curl_easy_init();
	if (!c)
		abort();
	char *url = xasprintf("%s%s", ep->base, path);
	setup_common(c, ep);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (timeout > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	bool cancelled = false;
	CURLcode cc = perform_cancellable(c, cancel, &cancelled);
	int r = 0;
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (s.stopped || cancelled) {
		r = 0;
	} else if (cc != CURLE_OK) {
		r = map_curl_error(cc, false);
		if (err)
			snprintf(err, errlen, "GET %s%s: %s", ep->describe, path,
			         curl_err[0] ? curl_err : curl_easy_strerror(cc));
	} else if (status >= 400) {
		r = -EIO;
		if (err)
			snprintf(err, errlen, "GET %s%s: HTTP %ld", ep->describe, path, status);
	}
	curl_easy_cleanup(c);
	free(url);
	return r;
}
