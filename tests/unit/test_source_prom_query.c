/* test_source_prom_query: the PromQL the Prometheus source sends (no network):
 * anchored, escaped alternations, one query per quantity whatever the count
 * of services, the project restriction, and the configured windows. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rm/config.h"
#include "rm/http.h"
#include "rm/source_prom.h"
#include "rm/util.h"

static struct rm_config *test_config(const char *project)
{
	struct rm_config *cfg = config_new_default();
	free(cfg->monitoring.prometheus_url);
	cfg->monitoring.prometheus_url = xstrdup("http://127.0.0.1:1");
	cfg->monitoring.analysis_window = 10;
	cfg->monitoring.trend_window = 120;
	free(cfg->services.project);
	cfg->services.project = xstrdup(project);
	return cfg;
}

static void test_escaping_and_anchors(void **state)
{
	struct rm_config *cfg = test_config("");
	struct source src;
	assert_int_equal(source_prom_new(cfg, &src), 0);
	const char *services[] = { "web", "a.b", "x+y", "q\"uote" };
	char *q = source_prom_query_text(&src, 0, services, 4);
	/* Regex-escaped, then PromQL-string-escaped (\ doubled, " escaped). */
	assert_non_null(strstr(q, "container_label_com_docker_compose_service=~\"^(?:web|a\\\\.b|"
	                          "x\\\\+y|q\\\"uote)$\""));
	assert_non_null(strstr(q, "name=~\"^(?:web|a\\\\.b|x\\\\+y|q\\\"uote)$\""));
	assert_null(strstr(q, ".*"));
	assert_non_null(strstr(q, ".+_"));
	assert_non_null(strstr(q, "[10s]"));
	assert_non_null(strstr(q, "sum by (container_label_com_docker_compose_service, "
	                          "container_label_com_docker_compose_project, name, "
	                          "container_label_com_docker_swarm_service_name, "
	                          "container_label_com_docker_stack_namespace)"));
	/* Swarm tasks: the stack-qualified or the bare name. */
	assert_non_null(strstr(q,
	                       "container_label_com_docker_swarm_service_name=~\"^(?:.+_)?(?:web|"
	                       "a\\\\.b|x\\\\+y|q\\\"uote)$\""));
	free(q);
	source_free(&src);
	config_free(cfg);
}

static void test_project(void **state)
{
	struct rm_config *cfg = test_config("my.proj");
	struct source src;
	assert_int_equal(source_prom_new(cfg, &src), 0);
	const char *services[] = { "web" };
	for (unsigned i = 0; i < SOURCE_PROM_QUERIES; i++) {
		char *q = source_prom_query_text(&src, i, services, 1);
		/* The project's containers, not an alternation of their services... */
		assert_non_null(
		        strstr(q, "{container_label_com_docker_compose_project=\"my.proj\"}"));
		assert_null(strstr(q, "container_label_com_docker_compose_service=~"));
		/* ...or, by exact name, a container of no project. */
		assert_non_null(strstr(q, "{container_label_com_docker_compose_project=\"\","
		                          "name=~\"^(?:web)$\"}"));
		/* The project is the stack of a Swarm service. */
		assert_non_null(
		        strstr(q, "{container_label_com_docker_stack_namespace=\"my.proj\"}"));
		free(q);
	}
	source_free(&src);
	config_free(cfg);
}

static void test_fixed_count(void **state)
{
	struct rm_config *cfg = test_config("");
	cfg->monitoring.memory_metric = MEMORY_METRIC_USAGE;
	struct source src;
	assert_int_equal(source_prom_new(cfg, &src), 0);
	const char *services[] = { "web" };
	bool usage = false, trend = false, quota = false, subquery = false;
	for (unsigned i = 0; i < SOURCE_PROM_QUERIES; i++) {
		char *q = source_prom_query_text(&src, i, services, 1);
		usage |= strstr(q, "container_memory_usage_bytes") != NULL;
		assert_null(strstr(q, "container_memory_working_set_bytes"));
		/* The trend is a rate over the trend window, no subquery. */
		trend |= strstr(q, "rate(container_cpu_usage_seconds_total{") &&
		         strstr(q, "[120s])");
		subquery |= strstr(q, "s:") != NULL;
		quota |= strstr(q, "container_spec_cpu_quota") != NULL;
		free(q);
	}
	assert_true(usage && trend && quota);
	assert_false(subquery);
	source_free(&src);
	config_free(cfg);
}

/* The form body collect sends (alternations encoded once and spliced in) is
 * exactly the encoding of the PromQL, for every query, with and without a
 * project, with names that need escaping and encoding. */
static void test_form_is_encoded_text(void **state)
{
	const char *services[] = {
		"web",   "a.b",      "x+y", "q\"uote", "sp ace", "p%c", "\xc3\xa9t\xc3\xa9",
		"a&b=c", "new\nline"
	};
	const char *projects[] = { "", "my.proj", "a&b" };
	for (size_t p = 0; p < sizeof(projects) / sizeof(projects[0]); p++) {
		struct rm_config *cfg = test_config(projects[p]);
		struct source src;
		assert_int_equal(source_prom_new(cfg, &src), 0);
		for (unsigned i = 0; i < SOURCE_PROM_QUERIES; i++) {
			for (size_t n = 1; n <= sizeof(services) / sizeof(services[0]); n += 4) {
				char *text = source_prom_query_text(&src, i, services, n);
				char *form = source_prom_query_form(&src, i, services, n);
				char *want = http_urlencode(text);
				assert_string_equal(form, want);
				free(text);
				free(form);
				free(want);
			}
		}
		source_free(&src);
		config_free(cfg);
	}
}

static void test_no_url(void **state)
{
	struct rm_config *cfg = test_config("");
	cfg->monitoring.prometheus_url[0] = '\0';
	struct source src = { 0 };
	assert_int_equal(source_prom_new(cfg, &src), -ENOENT);
	assert_null(src.ops);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping_and_anchors),
		cmocka_unit_test(test_project),
		cmocka_unit_test(test_fixed_count),
		cmocka_unit_test(test_form_is_encoded_text),
		cmocka_unit_test(test_no_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
