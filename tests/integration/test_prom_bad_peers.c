/* test_prom_bad_peers: the Prometheus source against peers that misbehave
 * (down, hung, HTTP errors, broken or endless bodies), served on loopback.
 * Each must fail the whole collect with a clear error, quickly, with no value
 * given out. */
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
#include "rm/config.h"
#include "rm/source_prom.h"
#include "rm/util.h"

struct outcome {
	int r;
	char err[1024];
	double seconds;
	struct source_stats stats;
};

/* Collects two services through a Prometheus source at port, and checks that
 * a failure leaves every value unknown. */
static void collect_at(int port, double timeout, struct outcome *o)
{
	struct rm_config *cfg = config_new_default();
	free(cfg->monitoring.prometheus_url);
	cfg->monitoring.prometheus_url = xasprintf("http://127.0.0.1:%d", port);
	cfg->monitoring.query_timeout = timeout;
	struct source src;
	assert_int_equal(source_prom_new(cfg, &src), 0);
	const char *services[] = { "web", "db" };
	struct observation obs[2];
	memset(obs, 0, sizeof(obs));
	memset(o, 0, sizeof(*o));
	double t0 = time_monotonic();
	o->r = source_collect(&src, services, 2, time_wall(), obs, &o->stats, o->err,
	                      sizeof(o->err));
	o->seconds = time_monotonic() - t0;
	if (o->r < 0) {
		for (int i = 0; i < 2; i++) {
			assert_false(obs[i].cpu_used_known || obs[i].cpu_limit_known ||
			             obs[i].mem_used_known || obs[i].mem_limit_known ||
			             obs[i].uptime_known || obs[i].oom_known);
			assert_int_equal(obs[i].n_containers, 0);
		}
		/* The first failed query stops the collect. */
		assert_int_equal(o->stats.requests, 1);
	}
	printf("# %s -> %d (%s) in %.2f s\n", cfg->monitoring.prometheus_url, o->r, o->err,
	       o->seconds);
	source_free(&src);
	config_free(cfg);
}

/* Serves answer to every request and collects against it. */
static void collect_canned(char *answer, double timeout, struct outcome *o)
{
	struct lserver s = { .mode = LS_RESPOND, .respond = lserver_canned, .ctx = answer };
	assert_int_equal(lserver_start(&s), 0);
	collect_at(s.port, timeout, o);
	lserver_stop(&s);
	free(answer);
}

static void test_refused(void **state)
{
	struct outcome o;
	int port = loopback_unused_port();
	collect_at(port, 2, &o);
	assert_int_equal(o.r, -ECONNREFUSED);
	char where[64];
	snprintf(where, sizeof(where), "127.0.0.1:%d", port);
	assert_non_null(strstr(o.err, where));
	assert_true(o.seconds < 2);
}

static void test_hung_peer_times_out(void **state)
{
	struct lserver s = { .mode = LS_SILENT };
	assert_int_equal(lserver_start(&s), 0);
	struct outcome o;
	collect_at(s.port, 1, &o);
	lserver_stop(&s);
	assert_int_equal(o.r, -ETIMEDOUT);
	assert_non_null(strstr(o.err, "no answer within 1s"));
	assert_true(o.seconds >= 0.9 && o.seconds < 3);
}

static void test_http_500(void **state)
{
	struct outcome o;
	collect_canned(xstrdup("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
	                       "Content-Length: 17\r\nConnection: close\r\n\r\ninternal meltdown"),
	               2, &o);
	assert_int_equal(o.r, -EIO);
	assert_non_null(strstr(o.err, "HTTP 500"));
	assert_non_null(strstr(o.err, "internal meltdown"));
}

static void test_prometheus_errors(void **state)
{
	struct outcome o;
	collect_canned(
	        lserver_json_answer(400, "Bad Request",
	                            "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
	                            "\"1:1: parse error: no expression found in input\"}"),
	        2, &o);
	assert_int_equal(o.r, -EINVAL);
	assert_non_null(strstr(o.err, "bad_data"));
	assert_non_null(strstr(o.err, "no expression found in input"));

	collect_canned(
	        lserver_json_answer(503, "Service Unavailable",
	                            "{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":"
	                            "\"query timed out in expression evaluation\"}"),
	        2, &o);
	assert_int_equal(o.r, -ETIMEDOUT);
	assert_non_null(strstr(o.err, "query timed out"));
}

static void test_malformed_json(void **state)
{
	struct outcome o;
	collect_canned(lserver_json_answer(200, "OK", "{not json at all"), 2, &o);
	assert_int_equal(o.r, -EBADMSG);
	assert_non_null(strstr(o.err, "not the API's JSON"));

	collect_canned(
	        lserver_json_answer(200, "OK",
	                            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	                            "\"result\":[{\"metric\":{\"name\":\"web\"},\"value\":[17"),
	        2, &o);
	assert_int_equal(o.r, -EBADMSG);

	/* Valid JSON of the wrong shape for these queries. */
	collect_canned(
	        lserver_json_answer(200, "OK",
	                            "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
	                            "\"result\":[1,\"1\"]}}"),
	        2, &o);
	assert_int_equal(o.r, -EBADMSG);
	assert_non_null(strstr(o.err, "scalar"));
}

static void test_truncated_transfer(void **state)
{
	struct outcome o;
	/* The body stops long before its announced length. */
	collect_canned(xstrdup("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	                       "Content-Length: 1000\r\nConnection: close\r\n\r\n"
	                       "{\"status\":\"success\""),
	               2, &o);
	assert_int_equal(o.r, -EPROTO);
}

static void test_endless_body(void **state)
{
	struct lserver s = { .mode = LS_ENDLESS };
	assert_int_equal(lserver_start(&s), 0);
	struct outcome o;
	collect_at(s.port, 20, &o);
	lserver_stop(&s);
	assert_int_equal(o.r, -EFBIG);
	assert_non_null(strstr(o.err, "larger than"));
	assert_true(o.seconds < 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),        cmocka_unit_test(test_hung_peer_times_out),
		cmocka_unit_test(test_http_500),       cmocka_unit_test(test_prometheus_errors),
		cmocka_unit_test(test_malformed_json), cmocka_unit_test(test_truncated_transfer),
		cmocka_unit_test(test_endless_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
