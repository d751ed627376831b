/* test_apply: the apply seam's pure parts: backend names both ways, the
 * backend a service's kind and strategy pick, the backend of a journal
 * entry (also one written before backends existed), and a state file of
 * that age loading with no backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rm/deploy.h"
#include "rm/state.h"

static void test_names(void **state)
{
	(void)state;
	for (int b = 0; b < _DEPLOY_BACKEND_MAX; b++)
		assert_int_equal(deploy_backend_from_string(deploy_backend_to_string(b)), b);
	assert_string_equal(deploy_backend_to_string(DEPLOY_BACKEND_SWARM), "swarm");
	assert_int_equal(deploy_backend_from_string("kubernetes"), -EINVAL);
	assert_int_equal(deploy_backend_from_string(NULL), -EINVAL);
}

static void test_pick(void **state)
{
	(void)state;
	assert_int_equal(deploy_backend_pick(DEPLOY_KIND_CONTAINERS, STRATEGY_BLUE_GREEN),
	                 DEPLOY_BACKEND_BLUEGREEN);
	assert_int_equal(deploy_backend_pick(DEPLOY_KIND_CONTAINERS, STRATEGY_IN_PLACE),
	                 DEPLOY_BACKEND_INPLACE);
	/* A Swarm service goes to Swarm whatever the container strategy. */
	assert_int_equal(deploy_backend_pick(DEPLOY_KIND_SWARM, STRATEGY_IN_PLACE),
	                 DEPLOY_BACKEND_SWARM);
	assert_int_equal(deploy_backend_pick(DEPLOY_KIND_SWARM, STRATEGY_BLUE_GREEN),
	                 DEPLOY_BACKEND_SWARM);
}

static void test_of_journal(void **state)
{
	(void)state;
	char bg[] = "blue-green", ip[] = "in-place", sw[] = "swarm", junk[] = "teleport";
	struct state_journal j = { .strategy = bg };
	assert_int_equal(deploy_backend_of_journal(&j), DEPLOY_BACKEND_BLUEGREEN);
	j.strategy = ip;
	assert_int_equal(deploy_backend_of_journal(&j), DEPLOY_BACKEND_INPLACE);
	j.backend = sw; /* the backend key wins over the strategy */
	assert_int_equal(deploy_backend_of_journal(&j), DEPLOY_BACKEND_SWARM);
	j.backend = junk;
	j.strategy = NULL;
	assert_int_equal(deploy_backend_of_journal(&j), DEPLOY_BACKEND_NONE);
}

/* A state file from before backends: journal and history without the key. */
static void test_old_file(void **state)
{
	(void)state;
	const char *old = "{\"version\":2,\"journal\":[{\"service\":\"web\",\"strategy\":"
	                  "\"blue-green\",\"phase\":\"wait_healthy\",\"blue_id\":\"abc\"}],"
	                  "\"history\":[{\"time\":1,\"kind\":\"deployment\",\"service\":\"web\","
	                  "\"outcome\":\"applied\",\"strategy\":\"in-place\"}]}";
	struct rm_state *s = NULL;
	char err[256];
	assert_int_equal(state_json_parse(old, strlen(old), &s, err, sizeof(err)), 0);
	assert_int_equal(s->n_journal, 1);
	assert_null(s->journal[0].backend);
	assert_int_equal(deploy_backend_of_journal(&s->journal[0]), DEPLOY_BACKEND_BLUEGREEN);
	assert_int_equal(s->n_history, 1);
	assert_null(s->history[0].backend);
	/* Written back without inventing a backend. */
	char *text = state_json_serialize(s);
	assert_null(strstr(text, "\"backend\""));
	free(text);
	state_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_of_journal),
		cmocka_unit_test(test_old_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
