/* test_docker_bad_peers: the Docker client against peers that misbehave:
 * nothing listening, a listener that never answers, HTTP 500, malformed,
 * truncated and endless bodies. Each gives a clear errno, bounded in time.
 * The peers are loopback servers (tests/loopback_server.c) serving test
 * data, not fakes of the engine's normal behaviour. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "loopback_server.h"
#include "rm/docker.h"
#include "rm/util.h"

/* A peer answering every request with status and a JSON body. */
static void canned_start(struct lserver *p, int status, const char *reason, const char *body)
{
	*p = (struct lserver){ .mode = LS_RESPOND,
		               .respond = lserver_canned,
		               .ctx = lserver_json_answer(status, reason, body) };
	assert_int_equal(lserver_start(p), 0);
}

static void canned_stop(struct lserver *p)
{
	lserver_stop(p);
	free(p->ctx);
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
	int port = loopback_unused_port();
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

/* An engine that cannot be reached, with the wait a deployment sets: the
 * call waits for it (bounded) and goes through once it listens; when it
 * never does, the error says how long it waited. */
struct late_peer {
	struct lserver p;
	double delay;
	int started; /* lserver_start's result */
};

static void *late_start(void *arg)
{
	struct late_peer *l = arg;
	struct timespec ts = { 0, (long)(l->delay * 1e9) };
	nanosleep(&ts, NULL);
	l->p.mode = LS_RESPOND;
	l->p.respond = lserver_canned;
	l->p.ctx = lserver_json_answer(200, "OK", "OK");
	l->started = lserver_start(&l->p);
	return NULL;
}

static void test_unreachable_wait(void **state)
{
	int port = loopback_unused_port();
	struct docker_client *c = client_for(port, 5, 0);
	docker_client_set_unreachable_wait(c, 1.0);
	char err[512] = "";
	double t0 = time_monotonic();
	assert_int_equal(docker_ping(c, err, sizeof(err)), -ECONNREFUSED);
	double took = time_monotonic() - t0;
	fprintf(stderr, "never there: %.2f s: %s\n", took, err);
	assert_true(took >= 1.0 && took < 3);
	assert_non_null(strstr(err, "cannot be reached (waited 1 s)"));

	/* Back after 0.5 s: the same call succeeds. */
	struct late_peer l = { .p = { .port = port }, .delay = 0.5 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, late_start, &l), 0);
	docker_client_set_unreachable_wait(c, 5.0);
	t0 = time_monotonic();
	int r = docker_ping(c, err, sizeof(err));
	took = time_monotonic() - t0;
	pthread_join(th, NULL);
	fprintf(stderr, "back after 0.5 s (listening: %d): %.2f s: %d %s\n", l.started, took, r,
	        r ? err : "");
	assert_int_equal(l.started, 0);
	assert_int_equal(r, 0);
	assert_true(took >= 0.4 && took < 3);
	canned_stop(&l.p);

	/* Without the wait (the default), a refusal fails at once. */
	docker_client_set_unreachable_wait(c, 0);
	t0 = time_monotonic();
	assert_int_equal(docker_ping(c, err, sizeof(err)), -ECONNREFUSED);
	assert_true(time_monotonic() - t0 < 0.5);
	docker_client_free(c);
}

static void test_silent(void **state)
{
	struct lserver p = { .mode = LS_SILENT };
	assert_int_equal(lserver_start(&p), 0);
	struct docker_client *c = client_for(p.port, 1.0, 0);
	char err[512] = "";
	double t0 = time_monotonic();
	assert_int_equal(docker_ping(c, err, sizeof(err)), -ETIMEDOUT);
	double took = time_monotonic() - t0;
	fprintf(stderr, "silent peer: %.2f s: %s\n", took, err);
	assert_true(took >= 0.9 && took < 3);
	docker_client_free(c);
	lserver_stop(&p);
}

static void test_status_500(void **state)
{
	struct lserver p;
	canned_start(&p, 500, "Internal Server Error",
	             "{\"message\":\"boom: the engine is broken\"}");
	struct docker_client *c = client_for(p.port, 5, 0);
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
	canned_stop(&p);
}

static void test_bad_bodies(void **state)
{
	/* Not JSON, half a document, JSON of the wrong shape. */
	static const char *const bodies[] = { "<html>not json</html>",
		                              "{\"ApiVersion\":\"1.41\",\"Version\":\"20.",
		                              "{\"ApiVersion\":1.41,\"Version\":[]}" };
	for (size_t i = 0; i < RM_ARRAY_SIZE(bodies); i++) {
		struct lserver p;
		canned_start(&p, 200, "OK", bodies[i]);
		struct docker_client *c = client_for(p.port, 5, 0);
		char err[512] = "";
		struct docker_version v;
		assert_int_equal(docker_version(c, &v, err, sizeof(err)), -EBADMSG);
		fprintf(stderr, "mode %zu: %s\n", i, err);
		assert_non_null(strstr(err, "/version"));
		assert_int_equal(docker_negotiate(c, err, sizeof(err)), -EBADMSG);
		docker_client_free(c);
		canned_stop(&p);
	}
}

static void test_endless(void **state)
{
	struct lserver p = {
		.mode = LS_ENDLESS,
		.endless_head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[",
	};
	assert_int_equal(lserver_start(&p), 0);
	struct docker_client *c = client_for(p.port, 10, 1024 * 1024);
	char err[512] = "";
	struct docker_version v;
	double t0 = time_monotonic();
	assert_int_equal(docker_version(c, &v, err, sizeof(err)), -EFBIG);
	assert_true(time_monotonic() - t0 < 5);
	fprintf(stderr, "endless: %s\n", err);
	docker_client_free(c);
	lserver_stop(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),    cmocka_unit_test(test_unreachable_wait),
		cmocka_unit_test(test_silent),     cmocka_unit_test(test_status_500),
		cmocka_unit_test(test_bad_bodies), cmocka_unit_test(test_endless),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
