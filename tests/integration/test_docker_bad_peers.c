/* test_docker_bad_peers: the Docker client against peers that misbehave:
 * nothing listening, a listener that never answers, HTTP 500, malformed,
 * truncated and endless bodies. Each gives a clear errno, bounded in time.
 * The peers are small loopback servers written here (test data, not fakes
 * of the engine's normal behaviour). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "rm/docker.h"
#include "rm/util.h"

enum peer_mode {
	PEER_SILENT,    /* accepts, reads, never answers */
	PEER_STATUS500, /* 500 with a Docker error body */
	PEER_MALFORMED, /* 200 with a body that is not JSON */
	PEER_TRUNCATED, /* 200 with half a JSON document */
	PEER_ENDLESS,   /* 200 with a body that never ends */
	PEER_WRONGTYPE, /* 200 with JSON of the wrong shape */
};

struct peer {
	enum peer_mode mode;
	int lfd;
	int port;
	int stop[2];
	pthread_t thread;
};

static void send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, const char *status, const char *body)
{
	char *r = xasprintf("HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
	                    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	                    status, strlen(body), body);
	send_all(fd, r, strlen(r));
	free(r);
}

/* Serves one connection; returns when the client leaves or on stop. */
static void serve(struct peer *p, int fd)
{
	char buf[4096];
	/* Read the request head (bodies are not sent by the calls tested). */
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return;
	switch (p->mode) {
	case PEER_SILENT: {
		struct pollfd pf[2] = { { .fd = fd, .events = POLLIN },
			                { .fd = p->stop[0], .events = POLLIN } };
		while (poll(pf, 2, -1) >= 0 && !pf[1].revents) {
			if (pf[0].revents && recv(fd, buf, sizeof(buf), 0) <= 0)
				break;
		}
		break;
	}
	case PEER_STATUS500:
		respond(fd, "500 Internal Server Error",
		        "{\"message\":\"boom: the engine is broken\"}");
		break;
	case PEER_MALFORMED:
		respond(fd, "200 OK", "<html>not json</html>");
		break;
	case PEER_TRUNCATED:
		respond(fd, "200 OK", "{\"ApiVersion\":\"1.41\",\"Version\":\"20.");
		break;
	case PEER_WRONGTYPE:
		respond(fd, "200 OK", "{\"ApiVersion\":1.41,\"Version\":[]}");
		break;
	case PEER_ENDLESS: {
		const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[";
		send_all(fd, head, strlen(head));
		memset(buf, ' ', sizeof(buf));
		for (;;) {
			if (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) <= 0)
				break;
			struct pollfd pf = { .fd = p->stop[0], .events = POLLIN };
			if (poll(&pf, 1, 0) > 0)
				break;
		}
		break;
	}
	}
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	for (;;) {
		struct pollfd pf[2] = { { .fd = p->lfd, .events = POLLIN },
			                { .fd = p->stop[0], .events = POLLIN } };
		if (poll(pf, 2, -1) < 0 || pf[1].revents)
			return NULL;
		int fd = accept(p->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(p, fd);
		close(fd);
	}
}

static int listen_loopback(int *ret_port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*ret_port = ntohs(a.sin_port);
	return fd;
}

static struct peer *peer_start(enum peer_mode mode)
{
	struct peer *p = xcalloc(1, sizeof(*p));
	p->mode = mode;
	p->lfd = listen_loopback(&p->port);
	assert_int_equal(listen(p->lfd, 8), 0);
	assert_int_equal(pipe(p->stop), 0);
	assert_int_equal(pthread_create(&p->thread, NULL, peer_main, p), 0);
	return p;
}

static void peer_stop(struct peer *p)
{
	assert_int_equal(write(p->stop[1], "x", 1), 1);
	pthread_join(p->thread, NULL);
	close(p->lfd);
	close(p->stop[0]);
	close(p->stop[1]);
	free(p);
}

static struct docker_client *client_for(int port, double timeout, size_t max_body)
{
	char *url = xasprintf("tcp://127.0.0.1:%d", port);
	struct docker_client_options o = {
		.host = url, .api_version = "auto", .timeout = timeout, .max_body = max_body
	};
	struct docker_client *c = NULL;
	assert_int_equal(docker_client_new(&o, &c, NULL, 0), 0);
	free(url);
	return c;
}

static void test_refused(void **state)
{
	int port;
	int fd = listen_loopback(&port);
	close(fd); /* bound, then released: nothing listens there */
	struct docker_client *c = client_for(port, 5, 0);
	char err[512] = "";
	double t0 = time_monotonic();
	assert_int_equal(docker_ping(c, err, sizeof(err)), -ECONNREFUSED);
	struct docker_container_list l;
	assert_int_equal(docker_containers_list(c, false, NULL, 0, &l, err, sizeof(err)),
	                 -ECONNREFUSED);
	assert_non_null(strstr(err, "127.0.0.1"));
	assert_true(time_monotonic() - t0 < 2);
	docker_client_free(c);
}

static void test_silent(void **state)
{
	struct peer *p = peer_start(PEER_SILENT);
	struct docker_client *c = client_for(p->port, 1.0, 0);
	char err[512] = "";
	double t0 = time_monotonic();
	assert_int_equal(docker_ping(c, err, sizeof(err)), -ETIMEDOUT);
	double took = time_monotonic() - t0;
	fprintf(stderr, "silent peer: %.2f s: %s\n", took, err);
	assert_true(took >= 0.9 && took < 3);
	docker_client_free(c);
	peer_stop(p);
}

static void test_status_500(void **state)
{
	struct peer *p = peer_start(PEER_STATUS500);
	struct docker_client *c = client_for(p->port, 5, 0);
	char err[512] = "";
	struct docker_version v;
	assert_int_equal(docker_version(c, &v, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "500"));
	assert_non_null(strstr(err, "boom: the engine is broken"));
	/* Negotiation fails the same way, and no call goes on without it. */
	struct docker_container_list l;
	assert_int_equal(docker_containers_list(c, false, NULL, 0, &l, err, sizeof(err)), -EIO);
	assert_null(docker_api_version(c));
	docker_client_free(c);
	peer_stop(p);
}

static void test_bad_bodies(void **state)
{
	static const enum peer_mode modes[] = { PEER_MALFORMED, PEER_TRUNCATED, PEER_WRONGTYPE };
	for (size_t i = 0; i < RM_ARRAY_SIZE(modes); i++) {
		struct peer *p = peer_start(modes[i]);
		struct docker_client *c = client_for(p->port, 5, 0);
		char err[512] = "";
		struct docker_version v;
		assert_int_equal(docker_version(c, &v, err, sizeof(err)), -EBADMSG);
		fprintf(stderr, "mode %zu: %s\n", i, err);
		assert_non_null(strstr(err, "/version"));
		assert_int_equal(docker_negotiate(c, err, sizeof(err)), -EBADMSG);
		docker_client_free(c);
		peer_stop(p);
	}
}

static void test_endless(void **state)
{
	struct peer *p = peer_start(PEER_ENDLESS);
	struct docker_client *c = client_for(p->port, 10, 1024 * 1024);
	char err[512] = "";
	struct docker_version v;
	double t0 = time_monotonic();
	assert_int_equal(docker_version(c, &v, err, sizeof(err)), -EFBIG);
	assert_true(time_monotonic() - t0 < 5);
	fprintf(stderr, "endless: %s\n", err);
	docker_client_free(c);
	peer_stop(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),    cmocka_unit_test(test_silent),
		cmocka_unit_test(test_status_500), cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_endless),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
