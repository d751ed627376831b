/* test_discovery: exact service matching, compose labels, projects and opt-in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rm/discovery.h"
#include "rm/util.h"

static const char *const list_json =
        "["
        "{\"Id\":\"a\",\"Names\":[\"/grafana\"],\"State\":\"running\",\"Labels\":{}},"
        "{\"Id\":\"b\",\"Names\":[\"/grafana-renderer\"],\"State\":\"running\",\"Labels\":{}},"
        "{\"Id\":\"c\",\"Names\":[\"/jacker-postgres-1\"],\"State\":\"running\",\"Labels\":"
        "{\"com.docker.compose.service\":\"postgres\",\"com.docker.compose.project\":\"jacker\"}},"
        "{\"Id\":\"d\",\"Names\":[\"/jacker-postgres-2\"],\"State\":\"running\",\"Labels\":"
        "{\"com.docker.compose.service\":\"postgres\",\"com.docker.compose.project\":\"jacker\"}},"
        "{\"Id\":\"e\",\"Names\":[\"/other-postgres-1\"],\"State\":\"running\",\"Labels\":"
        "{\"com.docker.compose.service\":\"postgres\",\"com.docker.compose.project\":\"other\"}},"
        "{\"Id\":\"f\",\"Names\":[\"/jacker-postgres-exporter-1\"],\"State\":\"running\","
        "\"Labels\":{\"com.docker.compose.service\":\"postgres-exporter\","
        "\"com.docker.compose.project\":\"jacker\"}},"
        "{\"Id\":\"g\",\"Names\":[\"/jacker-postgres-3\"],\"State\":\"exited\",\"Labels\":"
        "{\"com.docker.compose.service\":\"postgres\",\"com.docker.compose.project\":\"jacker\"}},"
        "{\"Id\":\"h\",\"Names\":[\"/solo\"],\"State\":\"running\",\"Labels\":"
        "{\"resource-manager.enable\":\"true\"}},"
        "{\"Id\":\"i\",\"Names\":[\"/jacker-web-1\"],\"State\":\"running\",\"Labels\":"
        "{\"resource-manager.enable\":\"true\",\"com.docker.compose.service\":\"web\","
        "\"com.docker.compose.project\":\"jacker\"}},"
        "{\"Id\":\"j\",\"Names\":[\"/off\"],\"State\":\"running\",\"Labels\":"
        "{\"resource-manager.enable\":\"false\"}}"
        "]";

static struct docker_container_list load(void)
{
	struct docker_container_list l = { 0 };
	assert_int_equal(
	        docker_json_parse_container_list(list_json, strlen(list_json), &l, NULL, 0), 0);
	return l;
}

static void ids(const struct docker_container_list *l, const struct discovery_group *g, char *out)
{
	for (size_t i = 0; i < g->n; i++)
		out[i] = l->items[g->idx[i]].id[0];
	out[g->n] = '\0';
}

static void test_exact_and_labels(void **state)
{
	struct docker_container_list l = load();
	const char *const services[] = { "grafana", "postgres", "postgres-exporter", "gra" };
	struct discovery_group g[4];
	struct discovery_rules any = { .project = "", .label_opt_in = false };
	char buf[16];
	discovery_group_services(&l, services, 4, &any, true, g);
	ids(&l, &g[0], buf);
	assert_string_equal(buf, "a");
	ids(&l, &g[1], buf);
	assert_string_equal(buf, "cde");
	ids(&l, &g[2], buf);
	assert_string_equal(buf, "f");
	assert_int_equal(g[3].n, 0);
	for (int i = 0; i < 4; i++)
		discovery_group_free(&g[i]);

	struct discovery_rules jacker = { .project = "jacker", .label_opt_in = false };
	discovery_group_services(&l, services, 2, &jacker, false, g);
	ids(&l, &g[1], buf);
	assert_string_equal(buf, "cdg");
	discovery_group_free(&g[0]);
	discovery_group_free(&g[1]);
	docker_container_list_free(&l);
}

static void test_opt_in(void **state)
{
	struct docker_container_list l = load();
	struct discovery_rules on = { .project = NULL, .label_opt_in = true };
	struct discovery_rules off = { .project = NULL, .label_opt_in = false };
	char **names = NULL;
	size_t n = 0;
	discovery_opt_in_services(&l, &on, &names, &n);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "solo");
	assert_string_equal(names[1], "web");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	names = NULL;
	n = 0;
	discovery_opt_in_services(&l, &off, &names, &n);
	assert_int_equal(n, 0);
	assert_true(discovery_matches(&l.items[8], "web", &off));
	assert_null(discovery_opt_in_service(&l.items[9], &on));
	docker_container_list_free(&l);
}

/* Swarm task containers: the stack-qualified and the bare service name;
 * a project (the stack) keeps other stacks' same-named services out; a
 * Compose service beside them is matched as before. */
static void test_swarm_tasks(void **state)
{
	const char *json =
	        "["
	        "{\"Id\":\"s\",\"Names\":[\"/shop_web.1.x\"],\"State\":\"running\",\"Labels\":"
	        "{\"com.docker.swarm.service.name\":\"shop_web\","
	        "\"com.docker.stack.namespace\":\"shop\"}},"
	        "{\"Id\":\"t\",\"Names\":[\"/shop_web.2.y\"],\"State\":\"running\",\"Labels\":"
	        "{\"com.docker.swarm.service.name\":\"shop_web\","
	        "\"com.docker.stack.namespace\":\"shop\"}},"
	        "{\"Id\":\"u\",\"Names\":[\"/blog_web.1.z\"],\"State\":\"running\",\"Labels\":"
	        "{\"com.docker.swarm.service.name\":\"blog_web\","
	        "\"com.docker.stack.namespace\":\"blog\"}},"
	        "{\"Id\":\"v\",\"Names\":[\"/plain.1.w\"],\"State\":\"running\",\"Labels\":"
	        "{\"com.docker.swarm.service.name\":\"plain\"}},"
	        "{\"Id\":\"c\",\"Names\":[\"/shop-web-1\"],\"State\":\"running\",\"Labels\":"
	        "{\"com.docker.compose.service\":\"web\",\"com.docker.compose.project\":\"shop\"}}"
	        "]";
	struct docker_container_list l = { 0 };
	assert_int_equal(docker_json_parse_container_list(json, strlen(json), &l, NULL, 0), 0);
	const char *const services[] = { "shop_web", "web", "plain", "hop_web" };
	struct discovery_group g[4];
	char buf[16];
	struct discovery_rules any = { .project = "" };
	discovery_group_services(&l, services, 4, &any, true, g);
	ids(&l, &g[0], buf);
	assert_string_equal(buf, "st");
	ids(&l, &g[1], buf);
	assert_string_equal(buf, "stuc"); /* every stack's web and the Compose one */
	ids(&l, &g[2], buf);
	assert_string_equal(buf, "v");
	assert_int_equal(g[3].n, 0);
	for (int i = 0; i < 4; i++)
		discovery_group_free(&g[i]);
	struct discovery_rules shop = { .project = "shop" };
	discovery_group_services(&l, services, 4, &shop, true, g);
	ids(&l, &g[1], buf);
	assert_string_equal(buf, "stc");
	assert_int_equal(g[2].n, 0); /* no stack: not the project's */
	for (int i = 0; i < 4; i++)
		discovery_group_free(&g[i]);
	docker_container_list_free(&l);
}

/* The list's Status text carries each container's health (the watch after a
 * change reads it); a Status without a health check, or none, is NONE. */
static void test_health_from_the_list(void **state)
{
	(void)state;
	const char *json = "[{\"Id\":\"a\",\"Status\":\"Up 3 minutes (unhealthy)\"},"
	                   "{\"Id\":\"b\",\"Status\":\"Up 2 seconds (health: starting)\"},"
	                   "{\"Id\":\"c\",\"Status\":\"Up 1 hour (healthy)\"},"
	                   "{\"Id\":\"d\",\"Status\":\"Up 1 hour\"},{\"Id\":\"e\",\"Status\":7},"
	                   "{\"Id\":\"f\"}]";
	static const enum docker_health want[] = { DOCKER_HEALTH_UNHEALTHY, DOCKER_HEALTH_STARTING,
		                                   DOCKER_HEALTH_HEALTHY,   DOCKER_HEALTH_NONE,
		                                   DOCKER_HEALTH_NONE,      DOCKER_HEALTH_NONE };
	struct docker_container_list l = { 0 };
	assert_int_equal(docker_json_parse_container_list(json, strlen(json), &l, NULL, 0), 0);
	assert_int_equal(l.n, 6);
	for (size_t i = 0; i < l.n; i++)
		assert_int_equal(l.items[i].health, want[i]);
	docker_container_list_free(&l);
}

/* A blue-green's green is left out while blue runs, and counts alone. */
static void test_green_left_out_while_blue_runs(void **state)
{
	const char *both =
	        "[{\"Id\":\"b\",\"Names\":[\"/web-1\"],\"State\":\"running\",\"Labels\":"
	        "{\"com.docker.compose.service\":\"web\"}},"
	        "{\"Id\":\"g\",\"Names\":[\"/web-1-rm-1700000000\"],\"State\":\"running\","
	        "\"Labels\":{\"com.docker.compose.service\":\"web\",\"deployment.phase\":"
	        "\"green\"}}]";
	struct docker_container_list l = { 0 };
	assert_int_equal(docker_json_parse_container_list(both, strlen(both), &l, NULL, 0), 0);
	const char *const services[] = { "web" };
	struct discovery_group g;
	char buf[8];
	struct discovery_rules rules = { .skip_green = true };
	discovery_group_services(&l, services, 1, &rules, true, &g);
	ids(&l, &g, buf);
	assert_string_equal(buf, "b");
	discovery_group_free(&g);
	rules.skip_green = false; /* status and reconcile see both */
	discovery_group_services(&l, services, 1, &rules, true, &g);
	ids(&l, &g, buf);
	assert_string_equal(buf, "bg");
	discovery_group_free(&g);
	/* Blue stopped: green serves alone and is the service. */
	free(l.items[0].state);
	l.items[0].state = xstrdup("exited");
	rules.skip_green = true;
	discovery_group_services(&l, services, 1, &rules, true, &g);
	ids(&l, &g, buf);
	assert_string_equal(buf, "g");
	discovery_group_free(&g);
	docker_container_list_free(&l);

	assert_true(discovery_name_is_green("web-1-rm-1700000000"));
	assert_true(discovery_name_is_green("/a-rm-b-rm-12"));
	assert_false(discovery_name_is_green("web-1-rm-"));
	assert_false(discovery_name_is_green("web-1-rm-17x"));
	assert_false(discovery_name_is_green("-rm-12"));
	assert_false(discovery_name_is_green("web"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_and_labels),
		cmocka_unit_test(test_opt_in),
		cmocka_unit_test(test_swarm_tasks),
		cmocka_unit_test(test_green_left_out_while_blue_runs),
		cmocka_unit_test(test_health_from_the_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
