/* test_traefik_json: Traefik's API answer for one HTTP service (the shape
 * GET /api/http/services/<name> returns), its bounds, and the Docker
 * provider's default service name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rm/traefik_json.h"
#include "rm/util.h"

/* An answer of the documented shape: blue UP, green (just added) DOWN. */
static const char *const answer =
        "{\"loadBalancer\":{\"servers\":[{\"url\":\"http://172.19.0.2:8080\"},"
        "{\"url\":\"http://172.19.0.4:8080\"}],\"passHostHeader\":true,"
        "\"healthCheck\":{\"path\":\"/health\",\"interval\":\"2s\"}},"
        "\"status\":\"enabled\",\"usedBy\":[\"web@docker\"],"
        "\"serverStatus\":{\"http://172.19.0.2:8080\":\"UP\",\"http://172.19.0.4:8080\":\"DOWN\"},"
        "\"name\":\"web-proj@docker\",\"provider\":\"docker\",\"type\":\"loadbalancer\"}";

static void test_parse_service(void **state)
{
	struct traefik_service s;
	char err[128] = "";
	assert_int_equal(traefik_json_parse_service(answer, strlen(answer), &s, err, sizeof(err)),
	                 0);
	assert_string_equal(s.name, "web-proj@docker");
	assert_string_equal(s.status, "enabled");
	assert_int_equal(s.n_servers, 2);
	assert_string_equal(traefik_server_status(&s, "172.19.0.2"), "UP");
	assert_string_equal(traefik_server_status(&s, "172.19.0.4"), "DOWN");
	/* A host that only starts like a listed one is not it. */
	assert_null(traefik_server_status(&s, "172.19.0.41"));
	assert_null(traefik_server_status(&s, "172.19.0."));
	assert_null(traefik_server_status(&s, ""));
	traefik_service_free(&s);
	traefik_service_free(NULL);
}

static void test_without_server_status(void **state)
{
	/* No server yet: no statuses. */
	const char *in = "{\"loadBalancer\":{\"servers\":[]},\"status\":\"enabled\"}";
	struct traefik_service s;
	assert_int_equal(traefik_json_parse_service(in, strlen(in), &s, NULL, 0), 0);
	assert_int_equal(s.n_servers, 0);
	assert_null(traefik_server_status(&s, "172.19.0.2"));
	traefik_service_free(&s);
	/* https, IPv6 in brackets, a path after the port. */
	in = "{\"serverStatus\":{\"https://[fd00::3]:8443\":\"UP\",\"http://10.0.0.9/"
	     "x\":\"DOWN\"}}";
	assert_int_equal(traefik_json_parse_service(in, strlen(in), &s, NULL, 0), 0);
	assert_string_equal(traefik_server_status(&s, "fd00::3"), "UP");
	assert_string_equal(traefik_server_status(&s, "10.0.0.9"), "DOWN");
	assert_null(s.name);
	traefik_service_free(&s);
}

static void test_bad_answers(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"[]",
		"null",
		"{\"serverStatus\":[]}",
		"{\"serverStatus\":{\"http://a:1\":5}}",
		"{\"name\":7}",
		"{\"status\":{}}",
		"{\"serverStatus\":{\"http://a:1\":\"UP\",\"http://b:1\":null}}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct traefik_service s;
		char err[128] = "";
		assert_int_equal(
		        traefik_json_parse_service(bad[i], strlen(bad[i]), &s, err, sizeof(err)),
		        -EBADMSG);
		assert_true(err[0] != '\0');
		assert_int_equal(s.n_servers, 0);
		assert_null(s.servers);
	}
}

static void test_bounds(void **state)
{
	/* 257 servers: refused, never cut short. */
	size_t cap = 64 * 300;
	char *in = xmalloc(cap);
	size_t o = (size_t)snprintf(in, cap, "{\"serverStatus\":{");
	for (int i = 0; i < TRAEFIK_MAX_SERVERS + 1; i++)
		o += (size_t)snprintf(in + o, cap - o, "%s\"http://10.0.%d.%d:80\":\"UP\"",
		                      i ? "," : "", i / 250, i % 250);
	snprintf(in + o, cap - o, "}}");
	struct traefik_service s;
	char err[128];
	assert_int_equal(traefik_json_parse_service(in, strlen(in), &s, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "256"));
	/* 256 are fine. */
	char *last = strrchr(in, ',');
	snprintf(last, cap - (size_t)(last - in), "}}");
	assert_int_equal(traefik_json_parse_service(in, strlen(in), &s, err, sizeof(err)), 0);
	assert_int_equal(s.n_servers, TRAEFIK_MAX_SERVERS);
	traefik_service_free(&s);
	/* A 600-byte server URL. */
	o = (size_t)snprintf(in, cap, "{\"serverStatus\":{\"http://");
	memset(in + o, 'a', 600);
	snprintf(in + o + 600, cap - o - 600, ":80\":\"UP\"}}");
	assert_int_equal(traefik_json_parse_service(in, strlen(in), &s, err, sizeof(err)), -EFBIG);
	free(in);
}

static void test_docker_service_name(void **state)
{
	char *n = traefik_docker_service_name("web", "my.proj", "proj-web-1");
	assert_string_equal(n, "web-my-proj");
	free(n);
	n = traefik_docker_service_name(NULL, NULL, "/__odd--name__");
	assert_string_equal(n, "odd-name");
	free(n);
	/* Only the project: the container name. */
	n = traefik_docker_service_name(NULL, "proj", "proj-web-1");
	assert_string_equal(n, "proj-web-1");
	free(n);
	assert_null(traefik_docker_service_name(NULL, NULL, "--"));
	assert_null(traefik_docker_service_name(NULL, NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_service),
		cmocka_unit_test(test_without_server_status),
		cmocka_unit_test(test_bad_answers),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_docker_service_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
