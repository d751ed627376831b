/* test_docker_events: the /events reader on the real engine: start, die, oom,
 * health_status, rename and destroy events, a relist and recovery after the
 * stream is cut by a loopback TCP proxy, and a prompt stop. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "integration/docker_testlib.h"
#include "loopback_server.h"
#include "rm/docker.h"

/* Waits for an event of action on container id (any id when NULL); other
 * containers' events (other tests share the engine) are skipped. */
static bool wait_for(struct docker_events *ev, enum docker_event_action action, const char *id,
                     double timeout, struct docker_event *ret)
{
	double end = time_monotonic() + timeout;
	while (time_monotonic() < end) {
		struct docker_event e = { 0 };
		if (docker_events_next(ev, end - time_monotonic(), &e) != 1)
			continue;
		bool match = e.action == action && (!id || (e.id && strcmp(e.id, id) == 0));
		if (match && ret) {
			*ret = e;
			return true;
		}
		docker_event_free(&e);
		if (match)
			return true;
	}
	return false;
}

static void test_container_events(void **state)
{
	struct docker_client *c = tl_client(NULL, 10);
	struct docker_events_options eo = { .renew = 1 };
	struct docker_events *ev = NULL;
	assert_int_equal(docker_events_start(c, &eo, &ev), 0);
	assert_true(wait_for(ev, DOCKER_EVENT_RELIST, NULL, 10, NULL));

	char *name = tl_name("ev"), *renamed = tl_name("ev2"), *oom = tl_name("ev-oom");
	tl_track(renamed);
	char id[65], oom_id[65];
	assert_int_equal(tl_run(name, NULL, "idle", id), 0);
	struct docker_event e = { 0 };
	assert_true(wait_for(ev, DOCKER_EVENT_START, id, 10, &e));
	assert_string_equal(e.name, name);
	assert_string_equal(e.type, "container");
	docker_event_free(&e);
	/* The image's healthcheck runs every second. */
	assert_true(wait_for(ev, DOCKER_EVENT_HEALTH_STATUS, id, 15, &e));
	assert_string_equal(e.health, "healthy");
	docker_event_free(&e);
	char *cmd = xasprintf("rename %s %s", name, renamed);
	assert_int_equal(tl_docker(cmd), 0);
	free(cmd);
	assert_true(wait_for(ev, DOCKER_EVENT_RENAME, id, 10, &e));
	assert_string_equal(e.name, renamed);
	docker_event_free(&e);
	cmd = xasprintf("kill %s", renamed);
	assert_int_equal(tl_docker(cmd), 0);
	free(cmd);
	assert_true(wait_for(ev, DOCKER_EVENT_DIE, id, 10, &e));
	assert_int_equal(e.exit_code, 137);
	docker_event_free(&e);
	cmd = xasprintf("rm -f %s", renamed);
	assert_int_equal(tl_docker(cmd), 0);
	free(cmd);
	assert_true(wait_for(ev, DOCKER_EVENT_DESTROY, id, 10, NULL));

	/* A process asking for more than the limit is OOM-killed. */
	assert_int_equal(tl_run(oom, "--memory 32m --no-healthcheck", "idle", oom_id), 0);
	cmd = xasprintf("exec %s dd if=/dev/zero of=/dev/null bs=100M count=1", oom);
	tl_docker(cmd);
	free(cmd);
	assert_true(wait_for(ev, DOCKER_EVENT_OOM, oom_id, 10, NULL));
	assert_int_equal(docker_events_connections(ev), 1);

	double t0 = time_monotonic();
	docker_events_stop(ev);
	assert_true(time_monotonic() - t0 < 3);
	free(name);
	free(renamed);
	free(oom);
	docker_client_free(c);
}

/* A loopback TCP proxy to the engine's unix socket that can cut every
 * connection on demand, as a socket proxy does to /events. */
struct proxy {
	int lfd;
	int port;
	char *sock_path;
	int wake[2];
	pthread_mutex_t mu;
	bool drop, stop;
	int fds[64][2];
	size_t n;
	pthread_t thread;
};

static void proxy_close_pair(struct proxy *p, size_t i)
{
	close(p->fds[i][0]);
	close(p->fds[i][1]);
	p->fds[i][0] = p->fds[p->n - 1][0];
	p->fds[i][1] = p->fds[p->n - 1][1];
	p->n--;
}

static void proxy_accept(struct proxy *p)
{
	int cfd = accept(p->lfd, NULL, NULL);
	if (cfd < 0)
		return;
	int ufd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un ua = { .sun_family = AF_UNIX };
	snprintf(ua.sun_path, sizeof(ua.sun_path), "%s", p->sock_path);
	if (ufd < 0 || connect(ufd, (struct sockaddr *)&ua, sizeof(ua)) < 0 || p->n == 64) {
		close(cfd);
		if (ufd >= 0)
			close(ufd);
		return;
	}
	p->fds[p->n][0] = cfd;
	p->fds[p->n][1] = ufd;
	p->n++;
}

/* Copies what is readable on side s of pair i to the other side. */
static bool proxy_forward(struct proxy *p, size_t i, int s)
{
	char buf[16384];
	ssize_t n = read(p->fds[i][s], buf, sizeof(buf));
	if (n <= 0)
		return false;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(p->fds[i][!s], buf + off, (size_t)(n - off));
		if (w <= 0)
			return false;
		off += w;
	}
	return true;
}

static void *proxy_main(void *arg)
{
	struct proxy *p = arg;
	for (;;) {
		struct pollfd pfd[2 + 128];
		size_t n = 0;
		pfd[n++] = (struct pollfd){ .fd = p->wake[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = p->lfd, .events = POLLIN };
		for (size_t i = 0; i < p->n; i++) {
			pfd[n++] = (struct pollfd){ .fd = p->fds[i][0], .events = POLLIN };
			pfd[n++] = (struct pollfd){ .fd = p->fds[i][1], .events = POLLIN };
		}
		if (poll(pfd, n, -1) < 0)
			continue;
		if (pfd[0].revents) {
			char b;
			if (read(p->wake[0], &b, 1) < 0) {
				/* Nothing to do: the flags say why we woke. */
			}
			pthread_mutex_lock(&p->mu);
			bool drop = p->drop, stop = p->stop;
			p->drop = false;
			pthread_mutex_unlock(&p->mu);
			if (drop || stop)
				while (p->n)
					proxy_close_pair(p, 0);
			if (stop)
				return NULL;
			continue;
		}
		/* Only the pairs polled above have revents: one accepted now waits
		 * for the next poll (a blocking read on it would stall them all). */
		size_t polled = p->n;
		if (pfd[1].revents)
			proxy_accept(p);
		/* Pairs, backwards so that closing one does not skip another. */
		for (size_t k = polled; k-- > 0;) {
			for (int s = 0; s < 2; s++) {
				if (pfd[2 + 2 * k + (size_t)s].revents && k < p->n &&
				    !proxy_forward(p, k, s)) {
					proxy_close_pair(p, k);
					break;
				}
			}
		}
	}
}

static void proxy_signal(struct proxy *p, bool stop)
{
	pthread_mutex_lock(&p->mu);
	if (stop)
		p->stop = true;
	else
		p->drop = true;
	pthread_mutex_unlock(&p->mu);
	if (write(p->wake[1], "x", 1) != 1)
		fail_msg("proxy wake");
}

static struct proxy *proxy_start(const char *unix_url)
{
	struct proxy *p = xcalloc(1, sizeof(*p));
	p->sock_path = xstrdup(unix_url + strlen("unix://"));
	p->lfd = loopback_listen(0, &p->port);
	assert_true(p->lfd >= 0);
	assert_int_equal(pipe(p->wake), 0);
	pthread_mutex_init(&p->mu, NULL);
	assert_int_equal(pthread_create(&p->thread, NULL, proxy_main, p), 0);
	return p;
}

static void proxy_stop(struct proxy *p)
{
	proxy_signal(p, true);
	pthread_join(p->thread, NULL);
	close(p->lfd);
	close(p->wake[0]);
	close(p->wake[1]);
	pthread_mutex_destroy(&p->mu);
	free(p->sock_path);
	free(p);
}

static void test_reconnect_through_proxy(void **state)
{
	if (strncmp(tl_host(), "unix://", 7) != 0)
		skip();
	struct proxy *p = proxy_start(tl_host());
	char *url = xasprintf("tcp://127.0.0.1:%d", p->port);
	struct docker_client *c = tl_client(url, 10);
	/* Renewals (every 3 s) do not count as breaks; the proxy's cuts do. */
	struct docker_events_options eo = { .renew = 3, .backoff_max = 1 };
	struct docker_events *ev = NULL;
	assert_int_equal(docker_events_start(c, &eo, &ev), 0);
	assert_true(wait_for(ev, DOCKER_EVENT_RELIST, NULL, 10, NULL));
	assert_int_equal(docker_events_connections(ev), 1);

	char *a = tl_name("px-a"), *b = tl_name("px-b");
	char id_a[65], id_b[65];
	assert_int_equal(tl_run(a, "--no-healthcheck", "idle", id_a), 0);
	assert_true(wait_for(ev, DOCKER_EVENT_START, id_a, 10, NULL));

	proxy_signal(p, false);
	assert_true(wait_for(ev, DOCKER_EVENT_RELIST, NULL, 10, NULL));
	assert_int_equal(docker_events_connections(ev), 2);
	char last[256];
	docker_events_last_error(ev, last, sizeof(last));
	fprintf(stderr, "break seen as: %s\n", last);
	assert_true(last[0] != '\0');

	assert_int_equal(tl_run(b, "--no-healthcheck", "idle", id_b), 0);
	assert_true(wait_for(ev, DOCKER_EVENT_START, id_b, 10, NULL));

	double t0 = time_monotonic();
	docker_events_stop(ev);
	assert_true(time_monotonic() - t0 < 1.0);

	docker_client_free(c);
	proxy_stop(p);
	free(url);
	free(a);
	free(b);
}

/* A stop ends the stream in progress at once, not at its next renewal. */
static void test_stop_is_prompt(void **state)
{
	struct docker_client *c = tl_client(NULL, 10);
	struct docker_events_options eo = { .renew = 60 };
	struct docker_events *ev = NULL;
	assert_int_equal(docker_events_start(c, &eo, &ev), 0);
	assert_true(wait_for(ev, DOCKER_EVENT_RELIST, NULL, 10, NULL));
	usleep(300 * 1000); /* the stream's request is out, its wait begun */
	double t0 = time_monotonic();
	docker_events_stop(ev);
	double took = time_monotonic() - t0;
	fprintf(stderr, "stop took %.3f s\n", took);
	assert_true(took < 1.0);
	docker_client_free(c);
}

static void test_engine_down_then_stop(void **state)
{
	/* A port nobody listens on: connection refused, retried with backoff. */
	char *url = xasprintf("tcp://127.0.0.1:%d", loopback_unused_port());
	struct docker_client *c = tl_client(url, 2);
	struct docker_events *ev = NULL;
	assert_int_equal(docker_events_start(c, NULL, &ev), 0);
	struct docker_event e;
	assert_int_equal(docker_events_next(ev, 1.0, &e), 0);
	assert_int_equal(docker_events_connections(ev), 0);
	char last[256];
	docker_events_last_error(ev, last, sizeof(last));
	assert_true(last[0] != '\0');
	double t0 = time_monotonic();
	docker_events_stop(ev);
	assert_true(time_monotonic() - t0 < 1.5);
	docker_client_free(c);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_events),
		cmocka_unit_test(test_reconnect_through_proxy),
		cmocka_unit_test(test_stop_is_prompt),
		cmocka_unit_test(test_engine_down_then_stop),
	};
	int r = cmocka_run_group_tests(tests, tl_setup, NULL);
	tl_remove_all();
	return r;
}
