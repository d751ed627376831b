/* loopback_server: a small HTTP peer on 127.0.0.1 for the integration tests,
 * run in a thread, one connection at a time. Modes:
 *   LS_RESPOND  answers every request with what a callback builds (an
 *               exporter for Prometheus to scrape, or a canned bad answer)
 *   LS_SILENT   accepts and reads, never answers (a hung peer)
 *   LS_ENDLESS  sends headers, then a body that never ends
 *   LS_PROXY    forwards bytes to 127.0.0.1:upstream_port (stop it to make
 *               the upstream look down, start it again on the same port)
 * Header-only (static inline) so each test program includes what it uses. */
#ifndef RM_TEST_LOOPBACK_SERVER_H
#define RM_TEST_LOOPBACK_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum ls_mode {
	LS_RESPOND,
	LS_SILENT,
	LS_ENDLESS,
	LS_PROXY,
};

struct lserver {
	enum ls_mode mode;
	/* LS_RESPOND: returns a whole HTTP response (malloc'd), length in *len. */
	char *(*respond)(void *ctx, size_t *len);
	void *ctx;
	int upstream_port; /* LS_PROXY */
	int port;          /* 0 before start picks a free one; kept for restarts */
	int fd;
	pthread_t thread;
	atomic_bool stop;
	atomic_uint requests;
};

static inline bool ls_wait_readable(struct lserver *s, int fd)
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

/* Reads a request up to the end of its headers; false when the peer left. */
static inline bool ls_read_request(struct lserver *s, int fd)
{
	char buf[65536];
	size_t len = 0;
	while (ls_wait_readable(s, fd)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return true;
		if (len == sizeof(buf) - 1)
			len = 0; /* a huge request line: keep the tail only */
	}
	return false;
}

static inline bool ls_send_all(int fd, const char *data, size_t len)
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

static inline void ls_proxy(struct lserver *s, int fd)
{
	int up = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(s->upstream_port) };
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
			if (n <= 0 || !ls_send_all(i == 0 ? up : fd, buf, (size_t)n))
				goto out;
		}
	}
out:
	close(up);
}

static inline void ls_serve(struct lserver *s, int fd)
{
	static const char endless_head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                                   "Connection: close\r\n\r\n{\"status\":\"success\",";
	char chunk[65536];
	switch (s->mode) {
	case LS_PROXY:
		ls_proxy(s, fd);
		return;
	case LS_SILENT:
		if (ls_read_request(s, fd))
			atomic_fetch_add(&s->requests, 1);
		/* Hold the connection open until the client gives up. */
		while (ls_wait_readable(s, fd) && read(fd, chunk, sizeof(chunk)) > 0)
			;
		return;
	case LS_ENDLESS:
		if (!ls_read_request(s, fd))
			return;
		atomic_fetch_add(&s->requests, 1);
		memset(chunk, ' ', sizeof(chunk));
		if (!ls_send_all(fd, endless_head, sizeof(endless_head) - 1))
			return;
		while (!atomic_load(&s->stop) && ls_send_all(fd, chunk, sizeof(chunk)))
			;
		return;
	case LS_RESPOND: {
		if (!ls_read_request(s, fd))
			return;
		atomic_fetch_add(&s->requests, 1);
		size_t len = 0;
		char *resp = s->respond(s->ctx, &len);
		/* Responses say "Connection: close": one request per connection. */
		ls_send_all(fd, resp, len);
		free(resp);
		return;
	}
	}
}

static inline void *ls_thread(void *arg)
{
	struct lserver *s = arg;
	while (ls_wait_readable(s, s->fd)) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		ls_serve(s, c);
		close(c);
	}
	return NULL;
}

/* Listens on 127.0.0.1:s->port (0 = any free port, stored back) and starts the
 * thread. Returns 0 or -errno. */
static inline int lserver_start(struct lserver *s)
{
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(s->port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof(a);
	if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->fd, 16) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &alen) < 0) {
		int e = errno;
		close(s->fd);
		return -e;
	}
	s->port = ntohs(a.sin_port);
	atomic_store(&s->stop, false);
	return -pthread_create(&s->thread, NULL, ls_thread, s);
}

/* Stops the thread and closes everything; the port is free again. */
static inline void lserver_stop(struct lserver *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

/* A port on 127.0.0.1 that nothing listens on (just released). */
static inline int lserver_unused_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof(a);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &alen);
	close(fd);
	return ntohs(a.sin_port);
}

#endif
