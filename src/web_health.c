/* web_health: /health on a unix socket with a thread of its own (see the
 * header): accept, read one request within a second, answer, close. */
#include "rm/web_health.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rm/util.h"

#define HEALTH_DEADLINE    1.0 /* seconds for one connection, request and answer */
#define HEALTH_MAX_REQ     2048
#define HEALTH_SOCKET_NAME "health.sock"

struct web_health {
	int fd;
	int wake[2]; /* a byte on wake[1] stops the thread */
	pthread_t thread;
	char *path;
	web_health_fn fn;
	void *ctx;
};

char *web_health_socket_path(const struct rm_config *cfg)
{
	const char *s = cfg->web.health_socket;
	if (strcmp(s, "none") == 0)
		return NULL;
	if (*s)
		return xstrdup(s);
	const char *slash = strrchr(cfg->state.path, '/');
	if (!slash)
		return xstrdup(HEALTH_SOCKET_NAME);
	return xasprintf("%.*s/%s", (int)(slash - cfg->state.path), cfg->state.path,
	                 HEALTH_SOCKET_NAME);
}

/* Waits until fd is ready for events, at most until deadline. */
static bool wait_fd(int fd, short events, double deadline)
{
	double left = deadline - time_monotonic();
	if (left <= 0)
		return false;
	struct pollfd p = { fd, events, 0 };
	return poll(&p, 1, (int)(left * 1000) + 1) > 0;
}

/* Reads the request line and headers; returns false on timeout or garbage. */
static bool read_request(int fd, char *buf, size_t cap, double deadline)
{
	size_t len = 0;
	while (len + 1 < cap) {
		if (!wait_fd(fd, POLLIN, deadline))
			return false;
		ssize_t n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return true;
	}
	return false;
}

static void write_all_by(int fd, const char *data, size_t len, double deadline)
{
	while (len > 0 && wait_fd(fd, POLLOUT, deadline)) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

static void serve_one(struct web_health *h, int fd)
{
	double deadline = time_monotonic() + HEALTH_DEADLINE;
	char req[HEALTH_MAX_REQ];
	if (!read_request(fd, req, sizeof(req), deadline))
		return;
	bool head = strncmp(req, "HEAD ", 5) == 0;
	const char *path = head ? req + 5 : strncmp(req, "GET ", 4) == 0 ? req + 4 : NULL;
	int status = 404;
	char *body = NULL;
	if (path && strncmp(path, "/health", 7) == 0 && strchr(" ?", path[7]))
		status = h->fn(h->ctx, &body);
	else
		body = xstrdup("{\"error\":\"only GET /health is served here\"}");
	char *resp = xasprintf("HTTP/1.1 %d %s\r\n"
	                       "Content-Type: application/json\r\n"
	                       "Content-Length: %zu\r\n"
	                       "Cache-Control: no-store\r\n"
	                       "X-Content-Type-Options: nosniff\r\n"
	                       "Connection: close\r\n\r\n%s",
	                       status,
	                       status == 200   ? "OK"
	                       : status == 503 ? "Service Unavailable"
	                                       : "Not Found",
	                       strlen(body), head ? "" : body);
	write_all_by(fd, resp, strlen(resp), deadline);
	free(resp);
	free(body);
}

static void *health_main(void *arg)
{
	struct web_health *h = arg;
	for (;;) {
		struct pollfd p[2] = { { h->fd, POLLIN, 0 }, { h->wake[0], POLLIN, 0 } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int c = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				usleep(100 * 1000); /* out of descriptors: do not spin */
			continue;
		}
		serve_one(h, c);
		close(c);
	}
	return NULL;
}

/* Binds path, replacing a socket left by a run that did not stop cleanly. */
static int listen_at(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "%s: longer than a unix socket path may be", path);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, path);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket; not replacing it",
			         path);
			return -EEXIST;
		}
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

int web_health_start(const char *path, web_health_fn fn, void *ctx, struct web_health **ret,
                     char *err, size_t errlen)
{
	*ret = NULL;
	int fd = listen_at(path, err, errlen);
	if (fd < 0)
		return fd;
	struct web_health *h = xcalloc(1, sizeof(*h));
	h->fd = fd;
	h->fn = fn;
	h->ctx = ctx;
	h->path = xstrdup(path);
	h->wake[0] = h->wake[1] = -1;
	if (pipe2(h->wake, O_CLOEXEC) < 0 || pthread_create(&h->thread, NULL, health_main, h)) {
		snprintf(err, errlen, "cannot start the health listener: %s", strerror(errno));
		if (h->wake[0] >= 0) {
			close(h->wake[0]);
			close(h->wake[1]);
		}
		close(fd);
		unlink(path);
		free(h->path);
		free(h);
		return -EAGAIN;
	}
	*ret = h;
	return 0;
}

void web_health_stop(struct web_health *h)
{
	if (!h)
		return;
	if (write(h->wake[1], "x", 1) == 1)
		pthread_join(h->thread, NULL);
	close(h->wake[0]);
	close(h->wake[1]);
	close(h->fd);
	unlink(h->path);
	free(h->path);
	free(h);
}
