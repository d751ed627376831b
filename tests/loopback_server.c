/* loopback_server: the integration tests' HTTP peer on 127.0.0.1 (see the header). */
#include "loopback_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rm/util.h"

int loopback_listen(int port, int *ret_port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*ret_port = ntohs(a.sin_port);
	return fd;
}

int loopback_unused_port(void)
{
	int port = 0;
	int fd = loopback_listen(0, &port);
	if (fd >= 0)
		close(fd);
	return port;
}

bool loopback_send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

char *lserver_canned(void *ctx, const char *request, size_t request_len, size_t *len)
{
	*len = strlen(ctx);
	return xstrdup(ctx);
}

char *lserver_json_answer(int status, const char *reason, const char *body)
{
	return xasprintf("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: "
	                 "%zu\r\nConnection: close\r\n\r\n%s",
	                 status, reason, strlen(body), body);
}

/* Waits until fd is readable; false on stop or a poll error. */
static bool wait_readable(struct lserver *s, int fd)
{
	while (!atomic_load(&s->stop)) {
		struct pollfd p = { fd, POLLIN, 0 };
		int k = poll(&p, 1, 50);
		if (k > 0)
			return true;
		if (k < 0 && errno != EINTR)
			return false;
	}
	return false;
}

/* Reads a request into req: its head, then the body its Content-Length
 * announces. False when the peer left first. */
static bool read_request(struct lserver *s, int fd, struct strbuf *req)
{
	char buf[65536];
	size_t head = 0, body = 0; /* lengths, once the head is in */
	while (!head || req->len < head + body) {
		if (!wait_readable(s, fd))
			return false;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return false;
		strbuf_append(req, buf, (size_t)n);
		const char *end = head ? NULL : strstr(req->data, "\r\n\r\n");
		if (end) {
			const char *cl = strcasestr(req->data, "\r\nContent-Length:");
			head = (size_t)(end + 4 - req->data);
			if (cl && cl < end)
				body = strtoul(cl + 17, NULL, 10);
		}
	}
	return true;
}

/* Reads a request and counts it; false when the peer left first. */
static bool take_request(struct lserver *s, int fd, struct strbuf *req)
{
	if (!read_request(s, fd, req))
		return false;
	atomic_fetch_add(&s->requests, 1);
	return true;
}

static void proxy(struct lserver *s, int fd)
{
	int up = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)s->upstream_port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(up, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(up);
		return;
	}
	char buf[65536];
	while (!atomic_load(&s->stop)) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { up, POLLIN, 0 } };
		if (poll(p, 2, 50) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0 || !loopback_send_all(i == 0 ? up : fd, buf, (size_t)n))
				goto out;
		}
	}
out:
	close(up);
}

static void serve(struct lserver *s, int fd, struct strbuf *req)
{
	static const char endless_head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                                   "Connection: close\r\n\r\n{\"status\":\"success\",";
	char chunk[65536];
	switch (s->mode) {
	case LS_PROXY:
		proxy(s, fd);
		return;
	case LS_SILENT:
		take_request(s, fd, req);
		/* Hold the connection open until the client gives up. */
		while (wait_readable(s, fd) && read(fd, chunk, sizeof(chunk)) > 0)
			;
		return;
	case LS_ENDLESS: {
		const char *head = s->endless_head ? s->endless_head : endless_head;
		if (!take_request(s, fd, req))
			return;
		memset(chunk, ' ', sizeof(chunk));
		if (!loopback_send_all(fd, head, strlen(head)))
			return;
		while (!atomic_load(&s->stop) && loopback_send_all(fd, chunk, sizeof(chunk)))
			;
		return;
	}
	case LS_RESPOND: {
		if (!take_request(s, fd, req))
			return;
		size_t len = 0;
		char *resp = s->respond(s->ctx, req->data, req->len, &len);
		/* Responses say "Connection: close": one request per connection. */
		loopback_send_all(fd, resp, len);
		free(resp);
		return;
	}
	}
}

static void *server_thread(void *arg)
{
	struct lserver *s = arg;
	while (wait_readable(s, s->fd)) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		struct strbuf req;
		strbuf_init(&req);
		serve(s, c, &req);
		strbuf_free(&req);
		close(c);
	}
	return NULL;
}

int lserver_start(struct lserver *s)
{
	s->fd = loopback_listen(s->port, &s->port);
	if (s->fd < 0)
		return s->fd;
	atomic_store(&s->stop, false);
	return -pthread_create(&s->thread, NULL, server_thread, s);
}

void lserver_stop(struct lserver *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->fd);
}
