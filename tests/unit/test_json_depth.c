/* test_json_depth: the bracket count that bounds every jansson parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rm/json_depth.h"
#include "rm/util.h"

static bool within(const char *s, size_t limit)
{
	return json_depth_within(s, strlen(s), limit);
}

static void test_counts_objects_and_arrays(void **state)
{
	assert_true(within("", 0));
	assert_true(within("42", 0));
	assert_false(within("{}", 0));
	assert_true(within("{}", 1));
	assert_true(within("{\"a\": [1, 2], \"b\": {}}", 2));
	assert_false(within("{\"a\": [1, [2]]}", 2));
	assert_true(within("[[]] [[]]", 2)); /* siblings do not add up */
	assert_true(within("]]]][[", 2));    /* malformed: left to the parser */
}

static void test_skips_strings(void **state)
{
	assert_true(within("{\"[[[[{{{{\": \"]]]]\"}", 1));
	assert_true(within("[\"\\\"[[[\"]", 1));     /* an escaped quote does not end it */
	assert_false(within("[\"\\\\\", [[]]]", 2)); /* an escaped backslash does */
	assert_true(within("[\"unterminated [[[[", 1));
}

static void test_deep_input_stops_early(void **state)
{
	size_t n = 100000;
	char *s = xmalloc(2 * n + 1);
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\0';
	assert_false(json_depth_within(s, 2 * n, 64));
	assert_true(json_depth_within(s, 2 * n, n));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_objects_and_arrays),
		cmocka_unit_test(test_skips_strings),
		cmocka_unit_test(test_deep_input_stops_early),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
