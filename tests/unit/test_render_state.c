/* test_render_state: /health when the state file cannot be saved (full
 * disk, read-only folder): degraded, with what failed and since when. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rm/render.h"
#include "web_sample.h"

static json_t *health(const struct view *v, int want_code, bool detail)
{
	char *body = NULL;
	assert_int_equal(render_health_json(v, SAMPLE_NOW, detail, &body), want_code);
	json_t *j = json_loads(body, 0, NULL);
	assert_non_null(j);
	free(body);
	return j;
}

static void test_state_not_saved(void **state)
{
	struct view *v = sample_view(SAMPLE_NOW);
	json_t *j = health(v, 200, true);
	json_t *st = json_object_get(j, "state");
	assert_string_equal(json_string_value(json_object_get(st, "status")), "saved");
	assert_null(json_object_get(st, "detail"));
	json_decref(j);

	snprintf(v->state_error, sizeof(v->state_error),
	         "cannot write /data/state.json.tmp-Ab12Cd: No space left on device");
	v->state_error_since = SAMPLE_NOW - 30;
	assert_int_equal(render_health_status(v, SAMPLE_NOW), RENDER_DEGRADED);
	j = health(v, 200, true);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "degraded");
	st = json_object_get(j, "state");
	assert_string_equal(json_string_value(json_object_get(st, "status")), "not_saved");
	assert_non_null(strstr(json_string_value(json_object_get(st, "detail")), "No space left"));
	assert_true(json_is_true(json_object_get(st, "kept_in_memory")));
	assert_non_null(json_object_get(st, "since"));
	json_decref(j);
	/* The open /health says not_saved, without the path. */
	j = health(v, 200, false);
	st = json_object_get(j, "state");
	assert_string_equal(json_string_value(json_object_get(st, "status")), "not_saved");
	assert_null(json_object_get(st, "detail"));
	json_decref(j);
	view_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_not_saved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
