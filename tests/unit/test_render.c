/* test_render: the pure renderers: JSON shapes, history filter, health states,
 * the exact Prometheus text (HELP/TYPE lines, escaping, names). */
#include <jansson.h>
#include <math.h>
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

static json_t *parse(char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("invalid JSON (%s): %s", e.text, text);
	free(text);
	return j;
}

static void test_status_shape(void **state)
{
	struct view *v = sample_view(SAMPLE_NOW);
	json_t *j = parse(render_status_json(v, SAMPLE_NOW));
	assert_string_equal(json_string_value(json_object_get(j, "health")), "healthy");
	json_t *stale = parse(render_status_json(v, SAMPLE_NOW + 3600));
	assert_string_equal(json_string_value(json_object_get(stale, "health")), "unhealthy");
	json_decref(stale);
	assert_int_equal(json_integer_value(json_object_get(j, "pending_approvals")), 1);
	assert_true(
	        json_is_true(json_object_get(json_object_get(j, "automation"), "manual_approval")));
	json_t *svcs = json_object_get(j, "services");
	assert_int_equal(json_array_size(svcs), 3);
	json_t *g = json_array_get(svcs, 0);
	assert_string_equal(json_string_value(json_object_get(g, "name")), "grafana");
	assert_string_equal(json_string_value(json_object_get(g, "class")), "normal");
	json_t *cpu = json_object_get(g, "cpu");
	assert_true(json_real_value(json_object_get(cpu, "ratio")) > 0.849 &&
	            json_real_value(json_object_get(cpu, "ratio")) < 0.851);
	json_t *mem = json_object_get(g, "memory");
	assert_int_equal(json_integer_value(json_object_get(mem, "limit")), 512 << 20);
	json_t *pts = json_object_get(g, "points");
	assert_int_equal(json_array_size(json_object_get(pts, "time")), 30);
	assert_true(json_is_null(json_array_get(json_object_get(pts, "cpu_ratio"), 5)));
	json_t *h = json_object_get(g, "hysteresis");
	assert_int_equal(json_integer_value(json_object_get(h, "cpu_high")), 2);
	assert_int_equal(json_integer_value(json_object_get(h, "needed")), 3);
	json_t *p = json_object_get(g, "pending");
	assert_string_equal(json_string_value(json_object_get(p, "reason")), "cpu_high");
	assert_true(json_is_true(json_object_get(p, "change_cpu")));
	assert_true(json_is_null(json_object_get(p, "memory_to")));
	json_t *pg = json_array_get(svcs, 1);
	assert_true(json_is_null(json_object_get(pg, "pending")));
	json_t *ld = json_object_get(pg, "last_deployment");
	assert_string_equal(json_string_value(json_object_get(ld, "strategy")), "blue-green");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(pg, "counters"),
	                                                    "threshold_breaches")),
	                 17);
	json_t *pc = json_object_get(pg, "counters");
	assert_int_equal(json_integer_value(json_object_get(pc, "reverts")), 2);
	assert_int_equal(json_integer_value(json_object_get(pc, "verified_changes")), 3);
	json_t *pw = json_object_get(pg, "watch");
	assert_int_equal(json_integer_value(json_object_get(pw, "memory_to")), 768 << 20);
	assert_int_equal(json_integer_value(json_object_get(pw, "memory_from")), 1024 << 20);
	assert_true(json_is_null(json_object_get(g, "watch")));
	json_t *w = json_array_get(svcs, 2);
	assert_string_equal(json_string_value(json_object_get(w, "name")), "we\"ird\\na\nme");
	/* Recommendations and the fleet totals (percentile policy). */
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(j, "automation"), "policy")),
	        "percentile");
	json_t *rc = json_object_get(json_object_get(g, "recommendation"), "cpu");
	assert_true(fabs(json_real_value(json_object_get(rc, "limit")) - 0.72) < 1e-9);
	assert_true(fabs(json_real_value(json_object_get(rc, "percentile")) - 0.6) < 1e-9);
	json_t *rm = json_object_get(json_object_get(pg, "recommendation"), "memory");
	assert_true(json_number_value(json_object_get(rm, "limit")) == 1200.0 * (1 << 20));
	assert_true(json_is_null(json_object_get(w, "recommendation")));
	json_t *fc = json_object_get(json_object_get(j, "fleet"), "cpu");
	/* grafana 1.0 + postgres 2.0 cores, recommended 0.72 + 1.20. */
	assert_true(fabs(json_number_value(json_object_get(fc, "limits")) - 3.0) < 1e-9);
	assert_true(fabs(json_number_value(json_object_get(fc, "reclaimable")) - 1.08) < 1e-6);
	assert_int_equal(
	        json_integer_value(json_object_get(json_object_get(j, "fleet"), "services")), 2);
	json_decref(j);
	view_free(v);
}

static void test_unknown_values_are_null(void **state)
{
	struct view *v = sample_view(SAMPLE_NOW);
	v->services[0].measured = false;
	v->services[0].obs.cpu_used_known = false;
	v->services[0].obs.mem_limit_known = false;
	json_t *j = parse(render_service_json(v, "grafana"));
	assert_true(json_is_null(json_object_get(json_object_get(j, "cpu"), "used")));
	assert_true(json_is_null(json_object_get(json_object_get(j, "cpu"), "ratio")));
	assert_true(json_is_null(json_object_get(json_object_get(j, "memory"), "ratio")));
	json_decref(j);
	assert_null(render_service_json(v, "nope"));
	/* An empty view renders too. */
	struct view *e = xcalloc(1, sizeof(*e));
	json_decref(parse(render_status_json(e, 0)));
	json_decref(parse(render_history_json(e, NULL, 10)));
	char *m = render_metrics(e);
	assert_non_null(strstr(m, "services_monitored 0\n"));
	free(m);
	view_free(e);
	view_free(v);
}

static void test_history_filter_and_limit(void **state)
{
	struct view *v = sample_view(SAMPLE_NOW);
	json_t *j = parse(render_history_json(v, NULL, 100));
	json_t *ev = json_object_get(j, "events");
	assert_int_equal(json_array_size(ev), 3);
	/* Newest first. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "service")),
	                    "grafana");
	json_decref(j);
	j = parse(render_history_json(v, "postgres", 1));
	ev = json_object_get(j, "events");
	assert_int_equal(json_array_size(ev), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "matched")), 2);
	json_t *d = json_array_get(ev, 0);
	assert_string_equal(json_string_value(json_object_get(d, "kind")), "deployment");
	assert_true(json_real_value(json_object_get(d, "duration")) == 42.5);
	assert_string_equal(json_string_value(json_object_get(d, "backend")), "bluegreen");
	assert_true(json_real_value(json_object_get(json_object_get(d, "to"), "cpu")) == 1.25);
	json_decref(j);
	j = parse(render_history_json(v, "none", 10));
	assert_int_equal(json_array_size(json_object_get(j, "events")), 0);
	json_decref(j);
	view_free(v);
}

static void test_health(void **state)
{
	struct view *v = sample_view(SAMPLE_NOW);
	char *body = NULL;
	assert_int_equal(render_health_json(v, SAMPLE_NOW, true, &body), 200);
	json_t *j = parse(body);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "healthy");
	assert_non_null(json_string_value(json_object_get(j, "timestamp")));
	assert_true(json_real_value(json_object_get(j, "last_check_age_seconds")) == 20);
	json_t *deps = json_object_get(j, "dependencies");
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(deps, "docker"), "status")),
	        "up");
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(deps, "alertmanager"), "status")),
	        "not_configured");
	json_decref(j);

	/* A configured dependency down: degraded, still 200. */
	v->deps[1].up = false;
	snprintf(v->deps[1].detail, sizeof(v->deps[1].detail), "connection refused");
	assert_int_equal(render_health_status(v, SAMPLE_NOW), RENDER_DEGRADED);
	assert_int_equal(render_health_json(v, SAMPLE_NOW, true, &body), 200);
	j = parse(body);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "degraded");
	json_decref(j);

	/* Three intervals without a check: unhealthy, 503. */
	assert_int_equal(render_health_status(v, v->last_check + 180), RENDER_DEGRADED);
	assert_int_equal(render_health_json(v, v->last_check + 181, true, &body), 503);
	j = parse(body);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "unhealthy");
	json_decref(j);

	/* No check yet: measured from the start. */
	v->last_check = 0;
	v->deps[1].up = true;
	assert_int_equal(render_health_status(v, v->started + 100), RENDER_HEALTHY);
	assert_int_equal(render_health_status(v, v->started + 181), RENDER_UNHEALTHY);

	/* Peers that time out slowly (a hung Engine): a first check waiting on
	 * them is slow, not stuck, until three of their timeouts have passed. */
	v->peer_timeout = 100;
	assert_int_equal(render_health_status(v, v->started + 299), RENDER_HEALTHY);
	assert_int_equal(render_health_status(v, v->started + 301), RENDER_UNHEALTHY);
	view_free(v);
}

static void test_label_escaping(void **state)
{
	struct strbuf sb;
	strbuf_init(&sb);
	render_label_value(&sb, "a\\b\"c\nd");
	assert_string_equal(sb.data, "a\\\\b\\\"c\\nd");
	strbuf_free(&sb);
	struct view *v = sample_view(SAMPLE_NOW);
	char *m = render_metrics(v);
	assert_non_null(strstr(
	        m, "resource_manager_total_adjustments{service=\"we\\\"ird\\\\na\\nme\"} 5\n"));
	free(m);
	view_free(v);
}

/* Every family: exactly one HELP and one TYPE line, TYPE right after HELP,
 * samples only of declared families, no duplicate series. */
static void test_metrics_format(void **state)
{
	struct view *v = sample_view(SAMPLE_NOW);
	char *m = render_metrics(v);
	char *copy = xstrdup(m), *save = NULL;
	char family[128] = "", type[16] = "";
	size_t families = 0;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			char name[128];
			assert_int_equal(sscanf(line + 7, "%127s", name), 1);
			char *pat = xasprintf("\n# HELP %s ", name);
			assert_true(strncmp(m, line, strlen(line)) == 0 || strstr(m, pat) != NULL);
			/* Declared once. */
			const char *first = strstr(m, pat + 1);
			assert_null(strstr(first + 1, pat));
			free(pat);
			snprintf(family, sizeof(family), "%s", name);
			families++;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char name[128];
			assert_int_equal(sscanf(line + 7, "%127s %15s", name, type), 2);
			assert_string_equal(name, family);
			assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
			continue;
		}
		assert_true(line[0] != '#');
		/* A sample belongs to the family declared last. */
		size_t n = strlen(family);
		assert_true(strncmp(line, family, n) == 0 && (line[n] == '{' || line[n] == ' '));
		/* Unique series. */
		const char *sp = strrchr(line, ' ');
		char *series = xasprintf("\n%.*s ", (int)(sp - line), line);
		const char *at = strstr(m, series);
		assert_non_null(at);
		assert_null(strstr(at + 1, series));
		free(series);
	}
	assert_true(families > 30);
	free(copy);

	/* Exact lines of the original's names and the blue-green script's. */
	static const char *const expect[] = {
		("# HELP resource_manager_total_adjustments Limit changes attempted for the "
		 "service.\n"
		 "# TYPE resource_manager_total_adjustments counter\n"
		 "resource_manager_total_adjustments{service=\"grafana\"} 5\n"),
		"# TYPE resource_manager_successful_adjustments counter\n",
		"# TYPE resource_manager_failed_adjustments counter\n",
		"# TYPE resource_manager_blue_green_deployments counter\n",
		"# TYPE resource_manager_rollbacks counter\n",
		"resource_manager_reverts_total{service=\"postgres\"} 2\n",
		"resource_manager_reverts_total{service=\"grafana\"} 0\n",
		"resource_manager_verified_changes_total{service=\"postgres\"} 3\n",
		"resource_manager_change_watch_until_timestamp_seconds{service=\"postgres\"} "
		"1764270300\n",
		"resource_manager_change_watch_until_timestamp_seconds{service=\"grafana\"} 0\n",
		"# TYPE services_monitored gauge\nservices_monitored 3\n",
		"# TYPE threshold_breaches counter\nthreshold_breaches{service=\"grafana\"} 17\n",
		"blue_green_deployment_total{service=\"postgres\",status=\"success\"} 1\n",
		"blue_green_deployment_total{service=\"postgres\",status=\"failure\"} 1\n",
		("blue_green_deployment_duration_seconds{service=\"postgres\",status=\"success\"} "
		 "42.5\n"),
		"blue_green_deployment_timestamp{service=\"postgres\"} 1764269400\n",
		"blue_green_cpu_limit{service=\"postgres\"} 2\n",
		/* Bytes, not MB x 1e6. */
		"blue_green_memory_limit_bytes{service=\"postgres\"} 805306368\n",
		"resource_manager_cpu_usage_ratio{service=\"grafana\"} 0.85\n",
		"resource_manager_memory_limit_bytes{service=\"grafana\"} 536870912\n",
		"resource_manager_pending_approvals 1\n",
		"resource_manager_pending_approval{service=\"grafana\"} 1\n",
		"resource_manager_check_duration_seconds 0.42\n",
		"resource_manager_last_check_timestamp_seconds 1764269980\n",
		"resource_manager_dependency_up{dependency=\"docker\"} 1\n",
		"resource_manager_notifications_dropped_total 1\n",
		"resource_manager_hysteresis_readings{service=\"grafana\",signal=\"cpu_high\"} 2\n",
		"resource_manager_cooldown_remaining_seconds{service=\"postgres\"} 1200\n",
		"# TYPE resource_manager_checks_total counter\nresource_manager_checks_total 60\n",
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(expect); i++)
		if (!strstr(m, expect[i]))
			fail_msg("missing from /metrics:\n%s\n--- got:\n%s", expect[i], m);
	/* An unconfigured dependency has no up/down sample; grafana was not deployed blue-green. */
	assert_null(strstr(m, "dependency=\"alertmanager\""));
	assert_null(strstr(m, "blue_green_cpu_limit{service=\"grafana\"}"));
	free(m);
	view_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_shape),
		cmocka_unit_test(test_unknown_values_are_null),
		cmocka_unit_test(test_history_filter_and_limit),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_metrics_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
