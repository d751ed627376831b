/* test_swarm_json: Swarm services and tasks as the Engine sends them, the
 * stack-qualified and bare names a monitored name matches, and the update
 * body: only the limits (and reservations above them), UpdateConfig and
 * our labels change; every other part of the spec goes back as it came. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "rm/swarm.h"

static const char service[] =
        "{\"ID\":\"svc1\",\"Version\":{\"Index\":42},"
        "\"Spec\":{\"Name\":\"shop_web\",\"Labels\":{\"com.docker.stack.namespace\":\"shop\"},"
        "\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"web:1\",\"Env\":[\"A=1\"]},"
        "\"Resources\":{\"Limits\":{\"NanoCPUs\":500000000,\"MemoryBytes\":67108864},"
        "\"Reservations\":{\"NanoCPUs\":400000000,\"MemoryBytes\":16777216}},"
        "\"ForceUpdate\":0},"
        "\"Mode\":{\"Replicated\":{\"Replicas\":2}},"
        "\"EndpointSpec\":{\"Mode\":\"dnsrr\"}},"
        "\"PreviousSpec\":{\"Name\":\"shop_web\",\"TaskTemplate\":{\"Resources\":{\"Limits\":"
        "{\"NanoCPUs\":250000000,\"MemoryBytes\":33554432}}}},"
        "\"UpdateStatus\":{\"State\":\"rollback_completed\",\"StartedAt\":"
        "\"2026-12-02T08:00:00.1Z\",\"Message\":\"rollback completed\"}}";

static void test_parse_service(void **state)
{
	(void)state;
	struct swarm_service s = { 0 };
	char err[256];
	assert_int_equal(swarm_json_parse_service(service, strlen(service), &s, err, sizeof(err)),
	                 0);
	assert_string_equal(s.id, "svc1");
	assert_string_equal(s.name, "shop_web");
	assert_int_equal(s.version, 42);
	assert_int_equal(s.replicas, 2);
	assert_false(s.global);
	assert_int_equal(s.limits.nano_cpus, 500000000);
	assert_int_equal(s.limits.memory, 64 << 20);
	assert_int_equal(s.reservations.memory, 16 << 20);
	assert_true(s.has_previous);
	assert_int_equal(s.prev_limits.nano_cpus, 250000000);
	assert_string_equal(s.update_state, "rollback_completed");
	assert_string_equal(s.update_started, "2026-12-02T08:00:00.1Z");
	assert_true(swarm_service_matches(&s, "shop_web"));
	assert_true(swarm_service_matches(&s, "web"));
	assert_false(swarm_service_matches(&s, "eb"));
	assert_false(swarm_service_matches(&s, "shop"));
	swarm_service_free(&s);
}

static void test_select(void **state)
{
	(void)state;
	const char *json = "[{\"ID\":\"a\",\"Spec\":{\"Name\":\"blog_web\",\"Labels\":"
	                   "{\"com.docker.stack.namespace\":\"blog\"}}},"
	                   "{\"ID\":\"b\",\"Spec\":{\"Name\":\"shop_web\",\"Labels\":"
	                   "{\"com.docker.stack.namespace\":\"shop\"}}},"
	                   "{\"ID\":\"c\",\"Spec\":{\"Name\":\"shop_api\"}},"
	                   "{\"ID\":\"d\",\"Spec\":{\"Name\":\"db\"}}]";
	struct swarm_service_list l = { 0 };
	char err[256];
	assert_int_equal(swarm_json_parse_services(json, strlen(json), &l, err, sizeof(err)), 0);
	assert_int_equal(swarm_service_select(&l, "web", ""), 0); /* the first stack's */
	assert_int_equal(swarm_service_select(&l, "web", "shop"), 1);
	assert_int_equal(swarm_service_select(&l, "shop_web", "shop"), 1);
	assert_int_equal(swarm_service_select(&l, "blog_web", "shop"), -1); /* another stack */
	assert_int_equal(swarm_service_select(&l, "api", "shop"), 2);       /* named, no label */
	assert_int_equal(swarm_service_select(&l, "db", ""), 3);
	assert_int_equal(swarm_service_select(&l, "db", "shop"), -1);
	assert_int_equal(swarm_service_select(&l, "nope", ""), -1);
	swarm_service_list_free(&l);
}

static void test_parse_bad(void **state)
{
	(void)state;
	struct swarm_service s = { 0 };
	struct swarm_service_list l = { 0 };
	struct swarm_task_list t = { 0 };
	char err[256];
	const char *no_spec = "{\"ID\":\"x\"}";
	assert_int_equal(swarm_json_parse_service(no_spec, strlen(no_spec), &s, err, sizeof(err)),
	                 -EBADMSG);
	const char *neg = "{\"ID\":\"x\",\"Spec\":{\"Name\":\"a\",\"TaskTemplate\":{\"Resources\":"
	                  "{\"Limits\":{\"NanoCPUs\":-1}}}}}";
	assert_int_equal(swarm_json_parse_service(neg, strlen(neg), &s, err, sizeof(err)),
	                 -EBADMSG);
	assert_non_null(strstr(err, "NanoCPUs"));
	assert_int_equal(swarm_json_parse_services("{}", 2, &l, err, sizeof(err)), -EBADMSG);
	assert_int_equal(swarm_json_parse_tasks("[1]", 3, &t, err, sizeof(err)), -EBADMSG);
	char deep[300];
	memset(deep, '[', sizeof(deep));
	assert_int_equal(swarm_json_parse_services(deep, sizeof(deep), &l, err, sizeof(err)),
	                 -EBADMSG);
}

static void test_parse_tasks(void **state)
{
	(void)state;
	const char *tasks = "[{\"ID\":\"t1\",\"ServiceID\":\"svc1\",\"NodeID\":\"n1\","
	                    "\"DesiredState\":\"running\",\"Status\":{\"State\":\"running\","
	                    "\"ContainerStatus\":{\"ContainerID\":\"c1\"}}},"
	                    "{\"ID\":\"t2\",\"ServiceID\":\"svc1\",\"Status\":{\"State\":"
	                    "\"pending\"}}]";
	struct swarm_task_list l = { 0 };
	char err[256];
	assert_int_equal(swarm_json_parse_tasks(tasks, strlen(tasks), &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].container_id, "c1");
	assert_string_equal(l.items[0].node_id, "n1");
	assert_null(l.items[1].container_id);
	assert_string_equal(l.items[1].state, "pending");
	swarm_task_list_free(&l);
}

static json_t *body_of(const struct swarm_update *u)
{
	struct swarm_service s = { 0 };
	char err[256], *body = NULL;
	assert_int_equal(swarm_json_parse_service(service, strlen(service), &s, err, sizeof(err)),
	                 0);
	assert_int_equal(swarm_json_update_body(s.spec, u, &body), 0);
	json_t *o = json_loads(body, 0, NULL);
	assert_non_null(o);
	free(body);
	swarm_service_free(&s);
	return o;
}

static void test_update_body(void **state)
{
	(void)state;
	struct docker_label_ref labels[] = { { "resource-manager.change", "cpu=1.5 memory=1" },
		                             { "com.docker.stack.namespace", NULL } };
	struct swarm_update u = { .set_cpu = true,
		                  .nano_cpus = 300000000,
		                  .set_memory = false,
		                  .monitor = 5,
		                  .labels = labels,
		                  .n_labels = 2 };
	json_t *o = body_of(&u);
	json_t *res = json_object_get(json_object_get(o, "TaskTemplate"), "Resources");
	json_t *lim = json_object_get(res, "Limits"), *rsv = json_object_get(res, "Reservations");
	assert_int_equal(json_integer_value(json_object_get(lim, "NanoCPUs")), 300000000);
	assert_int_equal(json_integer_value(json_object_get(lim, "MemoryBytes")), 64 << 20);
	/* The reservation above the new limit comes down to it; the other stays. */
	assert_int_equal(json_integer_value(json_object_get(rsv, "NanoCPUs")), 300000000);
	assert_int_equal(json_integer_value(json_object_get(rsv, "MemoryBytes")), 16 << 20);
	json_t *uc = json_object_get(o, "UpdateConfig");
	assert_string_equal(json_string_value(json_object_get(uc, "Order")), "start-first");
	assert_string_equal(json_string_value(json_object_get(uc, "FailureAction")), "rollback");
	assert_int_equal(json_integer_value(json_object_get(uc, "Monitor")), 5000000000LL);
	assert_null(json_object_get(uc, "Parallelism"));
	json_t *l = json_object_get(o, "Labels");
	assert_string_equal(json_string_value(json_object_get(l, "resource-manager.change")),
	                    "cpu=1.5 memory=1");
	assert_null(json_object_get(l, "com.docker.stack.namespace"));
	/* The rest of the spec as it came. */
	json_t *cs = json_object_get(json_object_get(o, "TaskTemplate"), "ContainerSpec");
	assert_string_equal(json_string_value(json_object_get(cs, "Image")), "web:1");
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(o, "EndpointSpec"), "Mode")),
	        "dnsrr");
	json_decref(o);
	u.stop_first = true;
	o = body_of(&u);
	uc = json_object_get(o, "UpdateConfig");
	assert_string_equal(json_string_value(json_object_get(uc, "Order")), "stop-first");
	assert_int_equal(json_integer_value(json_object_get(uc, "Parallelism")), 1);
	json_decref(o);
}

static void test_update_body_refused(void **state)
{
	(void)state;
	char *body = NULL;
	struct swarm_update none = { 0 };
	assert_int_equal(swarm_json_update_body("{}", &none, &body), -EINVAL);
	struct swarm_update zero = { .set_memory = true, .memory = 0 };
	assert_int_equal(swarm_json_update_body("{}", &zero, &body), -EINVAL);
	struct swarm_update ok = { .set_memory = true, .memory = 1 << 20 };
	assert_int_equal(swarm_json_update_body("[]", &ok, &body), -EBADMSG);
	assert_int_equal(swarm_json_update_body("{", &ok, &body), -EBADMSG);
	assert_null(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_service), cmocka_unit_test(test_select),
		cmocka_unit_test(test_parse_bad),     cmocka_unit_test(test_parse_tasks),
		cmocka_unit_test(test_update_body),   cmocka_unit_test(test_update_body_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
