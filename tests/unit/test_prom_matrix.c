/* test_prom_matrix: the range-query answer parser: a matrix, an error answer,
 * special values kept, and every malformed shape refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rm/prom_matrix.h"

static void test_matrix(void **state)
{
	(void)state;
	const char *j = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
	                "{\"metric\":{\"name\":\"web-1\",\"x\":\"y\"},\"values\":[[1700000000,"
	                "\"0.25\"],[1700000300.5,\"NaN\"],[1700000600,\"+Inf\"]]},"
	                "{\"metric\":{},\"values\":[]}]}}";
	struct prom_matrix m;
	char err[160] = "";
	assert_int_equal(prom_matrix_parse(j, strlen(j), &m, err, sizeof(err)), 0);
	assert_true(m.success);
	assert_int_equal(m.n_series, 2);
	assert_string_equal(prom_series_label(&m.series[0], "name"), "web-1");
	assert_null(prom_series_label(&m.series[0], "nope"));
	assert_int_equal(m.series[0].n, 3);
	assert_true(m.series[0].t[1] == 1700000300.5);
	assert_true(m.series[0].v[0] == 0.25);
	assert_true(isnan(m.series[0].v[1]));
	assert_true(isinf(m.series[0].v[2]) && m.series[0].v[2] > 0);
	assert_int_equal(m.series[1].n, 0);
	prom_matrix_free(&m);
	prom_matrix_free(NULL);
}

static void test_error_answer(void **state)
{
	(void)state;
	const char *j = "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"exceeded "
	                "maximum resolution of 11,000 points per timeseries\"}";
	struct prom_matrix m;
	assert_int_equal(prom_matrix_parse(j, strlen(j), &m, NULL, 0), 0);
	assert_false(m.success);
	assert_string_equal(m.error_type, "bad_data");
	assert_non_null(strstr(m.error, "resolution"));
	prom_matrix_free(&m);
}

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		const char *json, *err;
	} bad[] = {
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}",
		  "resultType vector" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{"
		  "\"metric\":{},\"values\":[[1,2]]}]}}",
		  "not [time, \"value\"]" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{"
		  "\"metric\":{},\"values\":[[1,\"lots\"]]}]}}",
		  "not [time, \"value\"]" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{"
		  "\"metric\":{},\"values\":[[2,\"1\"],[1,\"1\"]]}]}}",
		  "times go back" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{"
		  "\"metric\":{\"a\":1},\"values\":[]}]}}",
		  "label value is not a string" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[7]}}",
		  "expected {\"metric\"" },
		{ "{\"status\":", "line 1" },
		{ "[[[[[[[[[[]]]]]]]]]]", "nested deeper than 8" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct prom_matrix m = { 0 };
		char err[160] = "";
		int r = prom_matrix_parse(bad[i].json, strlen(bad[i].json), &m, err, sizeof(err));
		if (r != -EBADMSG || !strstr(err, bad[i].err))
			fail_msg("case %zu: %d '%s', want '%s'", i, r, err, bad[i].err);
		assert_int_equal(m.n_series, 0);
	}
	/* 100,000 levels: refused before the recursive parser sees them. */
	size_t n = 100000;
	char *deep = malloc(n + 1);
	memset(deep, '[', n);
	deep[n] = '\0';
	struct prom_matrix m;
	assert_int_equal(prom_matrix_parse(deep, n, &m, NULL, 0), -EBADMSG);
	free(deep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_error_answer),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
