/* test_prom_json: the instant-query answer parser on valid, error, odd and broken input. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rm/prom_json.h"

static int parse(const char *s, struct prom_response *r, char *err, size_t errlen)
{
	return prom_json_parse(s, strlen(s), r, err, errlen);
}

static void test_vector(void **state)
{
	const char *s = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
	                "{\"metric\":{\"name\":\"p-web-1\",\"container_label_com_docker_compose_"
	                "service\":\"web\"},\"value\":[1700000000.5,\"0.25\"]},"
	                "{\"metric\":{},\"value\":[1700000000,\"9223372036854771712\"]}]}}";
	struct prom_response r;
	char err[200] = "";
	assert_int_equal(parse(s, &r, err, sizeof(err)), 0);
	assert_true(r.success);
	assert_int_equal(r.type, PROM_RESULT_VECTOR);
	assert_int_equal(r.n_samples, 2);
	assert_string_equal(prom_sample_label(&r.samples[0], "name"), "p-web-1");
	assert_string_equal(
	        prom_sample_label(&r.samples[0], "container_label_com_docker_compose_service"),
	        "web");
	assert_null(prom_sample_label(&r.samples[0], "image"));
	assert_true(r.samples[0].time == 1700000000.5);
	assert_true(r.samples[0].value == 0.25);
	assert_int_equal(r.samples[1].n_labels, 0);
	assert_true(r.samples[1].value > 9.2e18);
	prom_response_free(&r);
	prom_response_free(&r); /* zeroed: a second free is harmless */
	prom_response_free(NULL);
}

static void test_empty_vector_and_scalar(void **state)
{
	struct prom_response r;
	assert_int_equal(parse("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	                       "\"result\":[]}}",
	                       &r, NULL, 0),
	                 0);
	assert_int_equal(r.n_samples, 0);
	prom_response_free(&r);
	assert_int_equal(parse("{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
	                       "\"result\":[1700000000,\"3\"]}}",
	                       &r, NULL, 0),
	                 0);
	assert_int_equal(r.type, PROM_RESULT_SCALAR);
	assert_int_equal(r.n_samples, 1);
	assert_true(r.samples[0].value == 3);
	prom_response_free(&r);
}

static void test_special_values(void **state)
{
#define SCALAR_FMT                                                                                 \
	"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"%s\"]}}"
	char buf[200];
	struct prom_response r;
	snprintf(buf, sizeof(buf), SCALAR_FMT, "NaN");
	assert_int_equal(parse(buf, &r, NULL, 0), 0);
	assert_true(isnan(r.samples[0].value));
	prom_response_free(&r);
	snprintf(buf, sizeof(buf), SCALAR_FMT, "+Inf");
	assert_int_equal(parse(buf, &r, NULL, 0), 0);
	assert_true(isinf(r.samples[0].value) && r.samples[0].value > 0);
	prom_response_free(&r);
	snprintf(buf, sizeof(buf), SCALAR_FMT, "-Inf");
	assert_int_equal(parse(buf, &r, NULL, 0), 0);
	assert_true(isinf(r.samples[0].value) && r.samples[0].value < 0);
	prom_response_free(&r);
	snprintf(buf, sizeof(buf), SCALAR_FMT, "-1.5e-3");
	assert_int_equal(parse(buf, &r, NULL, 0), 0);
	assert_true(r.samples[0].value == -1.5e-3);
	prom_response_free(&r);
	/* Looser spellings that strtod would take are refused. */
	const char *bad[] = { "", "0x10", "infinity", "nan", "1 ", " 1", "1e999", "12abc" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), SCALAR_FMT, bad[i]);
		assert_int_equal(parse(buf, &r, NULL, 0), -EBADMSG);
	}
}

static void test_error_answer(void **state)
{
	struct prom_response r;
	assert_int_equal(parse("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
	                       "\"1:5: parse error: unexpected\"}",
	                       &r, NULL, 0),
	                 0);
	assert_false(r.success);
	assert_string_equal(r.error_type, "bad_data");
	assert_string_equal(r.error, "1:5: parse error: unexpected");
	assert_int_equal(r.type, PROM_RESULT_NONE);
	prom_response_free(&r);
	assert_int_equal(parse("{\"status\":\"error\"}", &r, NULL, 0), 0);
	assert_string_equal(r.error_type, "unknown");
	prom_response_free(&r);
}

static void test_malformed(void **state)
{
	const char *cases[] = {
		"",
		"{",
		"[]",
		"null",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[",
		"{\"status\":\"success\"}",
		"{\"status\":\"maybe\",\"data\":{}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":{}}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[1]}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{"
		"\"metric\":"
		"{\"a\":1},\"value\":[1,\"1\"]}]}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{"
		"\"metric\":"
		"{},\"value\":[1,1]}]}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{"
		"\"metric\":"
		"{},\"value\":[\"1\",\"1\"]}]}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{"
		"\"metric\":"
		"{},\"value\":[1]}]}}",
		"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{"
		"\"metric\":"
		"{\"a\":\"x\"},\"value\":[1,\"1\"]},{\"value\":[1,\"1\"]}]}}",
		"{\"status\":\"success\",\"status\":\"error\",\"data\":{}}",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prom_response r = { .n_samples = 99 };
		char err[200] = "";
		int k = parse(cases[i], &r, err, sizeof(err));
		if (k != -EBADMSG)
			fail_msg("case %zu: %d", i, k);
		assert_true(err[0] != '\0');
		assert_int_equal(r.n_samples, 99); /* untouched on failure */
	}
	/* Not NUL-terminated: only len bytes are read. */
	const char *s = "{\"status\":\"error\"}garbage";
	struct prom_response r;
	assert_int_equal(prom_json_parse(s, 18, &r, NULL, 0), 0);
	prom_response_free(&r);
}

static void test_result_type_names(void **state)
{
	for (int i = 0; i < _PROM_RESULT_MAX; i++)
		assert_int_equal(prom_result_type_from_string(prom_result_type_to_string(i)), i);
	assert_int_equal(prom_result_type_from_string("matrix"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_empty_vector_and_scalar),
		cmocka_unit_test(test_special_values),
		cmocka_unit_test(test_error_answer),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_result_type_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
