/* test_docker_bad_peers: the Docker client against peers that misbehave:
 * nothing listening, a listener that never answers, HTTP 500, malformed,
 * truncated and endless bodies. Each gives a clear errno, bounded in time.
 * The peers are loopback servers (tests/loopback_server.c) serving test
 * data, not fakes of the engine's normal behaviour. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		cmocka_unit_test(test_refused),    cmocka_unit_test(test_silent),
		cmocka_unit_test(test_status_500), cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_endless),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
