/* test_docker_json: the Docker wire formats on responses captured from the engine. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rm/docker_json.h"
#include "rm/util.h"

static char *fixture(const char *name, size_t *ret_len)
{
	char *path = xasprintf("%s/docker/%s", RM_TEST_DATA, name);
	char *data = NULL;
	size_t len = 0;
	int r = file_read_all(path, 1 << 20, &data, &len);
	assert_int_equal(r, 0);
	free(path);
	*ret_len = len;
	return data;
}

static void test_version(void **state)
{
	size_t len;
	char *d = fixture("version.json", &len);
	struct docker_version v = { 0 };
	char err[256] = "";
	assert_int_equal(docker_json_parse_version(d, len, &v, err, sizeof(err)), 0);
	assert_string_equal(v.api_version, "1.41");
	assert_string_equal(v.min_api_version, "1.12");
	assert_non_null(strstr(v.version, "20.10"));
	docker_version_free(&v);
	free(d);

	struct docker_api_version a, b;
	assert_int_equal(docker_api_version_parse("1.41", &a), 0);
	assert_int_equal(docker_api_version_parse("1.5", &b), 0);
	assert_true(docker_api_version_cmp(a, b) > 0);
	assert_int_equal(docker_api_version_parse("1.", &a), -EINVAL);
	assert_int_equal(docker_api_version_parse("v1.41", &a), -EINVAL);
	assert_int_equal(docker_api_version_parse("1.41x", &a), -EINVAL);

	const char *bad = "{\"ApiVersion\": 141}";
	assert_int_equal(docker_json_parse_version(bad, strlen(bad), &v, err, sizeof(err)),
	                 -EBADMSG);
	assert_non_null(strstr(err, "ApiVersion"));
}

static void test_info(void **state)
{
	size_t len;
	char *d = fixture("info.json", &len);
	struct docker_info i = { 0 };
	assert_int_equal(docker_json_parse_info(d, len, &i, NULL, 0), 0);
	assert_true(i.ncpu >= 1);
	assert_true(i.mem_total > 0);
	assert_int_equal(i.cgroup_version, 1);
	assert_string_equal(i.cgroup_driver, "cgroupfs");
	docker_info_free(&i);
	free(d);
}

static void test_container_list(void **state)
{
	size_t len;
	char *d = fixture("containers.json", &len);
	struct docker_container_list l = { 0 };
	assert_int_equal(docker_json_parse_container_list(d, len, &l, NULL, 0), 0);
	assert_true(l.n >= 2);
	bool seen = false;
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(strlen(l.items[i].id), 64);
		if (l.items[i].n_names && strcmp(l.items[i].names[0], "/fx-busy") == 0) {
			seen = true;
			assert_string_equal(
			        docker_labels_get(&l.items[i].labels, "com.docker.compose.service"),
			        "web");
			assert_string_equal(l.items[i].state, "running");
		}
	}
	assert_true(seen);
	docker_container_list_free(&l);
	free(d);
}

static void test_inspect_nanocpus(void **state)
{
	size_t len;
	char *d = fixture("inspect_nanocpus.json", &len);
	struct docker_inspect in = { 0 };
	char err[256] = "";
	assert_int_equal(docker_json_parse_inspect(d, len, &in, err, sizeof(err)), 0);
	assert_string_equal(in.name, "/fx-busy");
	assert_true(in.state.running);
	assert_false(in.state.oom_killed);
	assert_true(in.state.started_at_time > 1.7e9);
	assert_int_equal(in.host_config.nano_cpus, 500000000);
	assert_int_equal(in.host_config.memory, 64 * 1024 * 1024);
	assert_int_equal(docker_host_config_cpu_form(&in.host_config), DOCKER_CPU_NANO);
	assert_true(docker_host_config_cpus(&in.host_config) == 0.5);
	assert_string_equal(in.config.image, "rm-test/workload:1");
	assert_string_equal(docker_labels_get(&in.config.labels, "com.docker.compose.project"),
	                    "demo");
	assert_int_equal(in.config.n_cmd, 2);
	assert_string_equal(in.config.cmd[0], "busy");
	assert_int_equal(in.config.n_entrypoint, 1);
	assert_int_equal(in.config.healthcheck.n_test, 4);
	assert_int_equal(in.config.healthcheck.retries, 2);
	assert_int_equal(in.host_config.n_port_bindings, 1);
	assert_string_equal(in.host_config.port_bindings[0].container_port, "8080/tcp");
	assert_string_equal(in.host_config.port_bindings[0].host_ip, "127.0.0.1");
	assert_string_equal(in.host_config.port_bindings[0].host_port, "18080");
	assert_string_equal(in.host_config.network_mode, "rmfx");
	assert_int_equal(in.n_networks, 1);
	assert_string_equal(in.networks[0].name, "rmfx");
	bool alias = false;
	for (size_t i = 0; i < in.networks[0].n_aliases; i++)
		alias |= strcmp(in.networks[0].aliases[i], "web") == 0;
	assert_true(alias);
	assert_int_equal(strlen(in.raw_json), len);
	docker_inspect_free(&in);
	free(d);
}

static void test_inspect_quota_and_stopped(void **state)
{
	size_t len;
	char *d = fixture("inspect_quota.json", &len);
	struct docker_inspect in = { 0 };
	assert_int_equal(docker_json_parse_inspect(d, len, &in, NULL, 0), 0);
	assert_int_equal(docker_host_config_cpu_form(&in.host_config), DOCKER_CPU_QUOTA);
	assert_int_equal(in.host_config.cpu_quota, 50000);
	assert_int_equal(in.host_config.cpu_period, 100000);
	assert_int_equal(in.host_config.memory_swap, 128 * 1024 * 1024);
	assert_string_equal(in.host_config.restart_policy, "unless-stopped");
	bool env = false;
	for (size_t i = 0; i < in.config.n_env; i++)
		env |= strcmp(in.config.env[i], "FOO=bar") == 0;
	assert_true(env);
	docker_inspect_free(&in);
	free(d);

	d = fixture("inspect_stopped.json", &len);
	assert_int_equal(docker_json_parse_inspect(d, len, &in, NULL, 0), 0);
	assert_false(in.state.running);
	assert_string_equal(in.state.status, "exited");
	docker_inspect_free(&in);
	free(d);

	d = fixture("inspect_health.json", &len);
	assert_int_equal(docker_json_parse_inspect(d, len, &in, NULL, 0), 0);
	assert_non_null(in.state.health_status);
	docker_inspect_free(&in);
	free(d);
}

static void test_stats(void **state)
{
	size_t len;
	char *d = fixture("stats_v1.json", &len);
	struct docker_stats s = { 0 };
	assert_int_equal(docker_json_parse_stats(d, len, &s, NULL, 0), 0);
	assert_true(s.cpu_known);
	assert_int_equal(s.cpu_total_usage, 1674521177);
	assert_int_equal(s.online_cpus, 2);
	assert_true(s.throttling_known);
	assert_int_equal(s.throttling_periods, 34);
	assert_int_equal(s.throttled_periods, 31);
	assert_true(s.mem_known);
	assert_int_equal(s.mem_usage, 876544);
	assert_true(s.inactive_file_known);
	assert_int_equal(docker_stats_working_set(&s), 876544);
	assert_true(s.read_time > 1.7e9);
	free(d);

	d = fixture("stats_v2.json", &len);
	assert_int_equal(docker_json_parse_stats(d, len, &s, NULL, 0), 0);
	assert_int_equal(s.inactive_file, 8388608);
	assert_int_equal(docker_stats_working_set(&s), 52428800 - 8388608);
	assert_int_equal(s.online_cpus, 4);
	assert_true(s.read_time - 1795807800.5 < 1e-3 && s.read_time - 1795807800.5 > -1e-3);
	free(d);

	d = fixture("stats_stopped.json", &len);
	assert_int_equal(docker_json_parse_stats(d, len, &s, NULL, 0), 0);
	assert_false(s.cpu_known);
	assert_false(s.mem_known);
	free(d);

	char err[256] = "";
	const char *bad = "{\"memory_stats\": {\"usage\": -5}}";
	assert_int_equal(docker_json_parse_stats(bad, strlen(bad), &s, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "memory_stats.usage"));
	bad = "{\"cpu_stats\": {\"cpu_usage\": {\"total_usage\": \"x\"}}}";
	assert_int_equal(docker_json_parse_stats(bad, strlen(bad), &s, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "cpu_stats.cpu_usage.total_usage"));
	bad = "{\"read\": \"yesterday\"}";
	assert_int_equal(docker_json_parse_stats(bad, strlen(bad), &s, err, sizeof(err)), -EBADMSG);
}

static void test_events(void **state)
{
	size_t len;
	char *d = fixture("events.jsonl", &len);
	int counts[_DOCKER_EVENT_ACTION_MAX] = { 0 };
	bool healthy = false, renamed = false, died = false;
	char *line = d;
	while (line < d + len) {
		char *nl = memchr(line, '\n', (size_t)(d + len - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(d + len - line);
		struct docker_event e = { 0 };
		char err[256];
		assert_int_equal(docker_json_parse_event(line, n, &e, err, sizeof(err)), 0);
		assert_string_equal(e.type, "container");
		assert_int_equal(strlen(e.id), 64);
		assert_true(e.time_nano > e.time);
		counts[e.action]++;
		if (e.action == DOCKER_EVENT_HEALTH_STATUS && strcmp(e.health, "healthy") == 0) {
			healthy = true;
			assert_string_equal(e.service, "web");
			assert_string_equal(e.project, "demo");
		}
		if (e.action == DOCKER_EVENT_RENAME) {
			renamed = true;
			assert_string_equal(e.name, "fx-quota2");
			assert_string_equal(e.old_name, "/fx-quota");
		}
		if (e.action == DOCKER_EVENT_DIE)
			died = true;
		docker_event_free(&e);
		line += n + 1;
	}
	assert_true(counts[DOCKER_EVENT_START] >= 2);
	assert_true(counts[DOCKER_EVENT_OOM] >= 1);
	assert_true(healthy && renamed && died);
	free(d);

	const char *other =
	        "{\"Type\":\"container\",\"Action\":\"relist\",\"Actor\":{\"ID\":\"x\"}}";
	struct docker_event e = { 0 };
	assert_int_equal(docker_json_parse_event(other, strlen(other), &e, NULL, 0), 0);
	assert_int_equal(e.action, DOCKER_EVENT_OTHER);
	docker_event_free(&e);
	const char *noactor = "{\"Type\":\"container\",\"Action\":\"start\"}";
	assert_int_equal(docker_json_parse_event(noactor, strlen(noactor), &e, NULL, 0), -EBADMSG);
}

static void test_update_body(void **state)
{
	struct docker_host_config nano = { .nano_cpus = 500000000,
		                           .memory = 64 << 20,
		                           .memory_swap = 128 << 20 };
	struct docker_host_config quota = {
		.cpu_quota = 50000, .cpu_period = 50000, .memory = 64 << 20, .memory_swap = -1
	};
	struct docker_host_config none = { 0 };
	struct docker_limits want = {
		.set_cpu = true, .cpus = 1.5, .set_memory = true, .memory = 256 << 20
	};
	char *body = NULL;
	assert_int_equal(docker_json_update_body(&nano, &want, &body), 0);
	assert_string_equal(body, "{\"Memory\":268435456,\"MemorySwap\":335544320,"
	                          "\"NanoCpus\":1500000000}");
	free(body);
	assert_int_equal(docker_json_update_body(&quota, &want, &body), 0);
	assert_string_equal(body, "{\"CpuPeriod\":50000,\"CpuQuota\":75000,\"Memory\":268435456,"
	                          "\"MemorySwap\":-1}");
	free(body);
	assert_int_equal(docker_json_update_body(&none, &want, &body), 0);
	assert_string_equal(body, "{\"Memory\":268435456,\"MemorySwap\":536870912,"
	                          "\"NanoCpus\":1500000000}");
	free(body);
	struct docker_limits nothing = { 0 };
	assert_int_equal(docker_json_update_body(&none, &nothing, &body), -EINVAL);
	struct docker_limits zero = { .set_cpu = true, .cpus = 0 };
	assert_int_equal(docker_json_update_body(&none, &zero, &body), -EINVAL);
}

static void test_bad_documents(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"[]",
		"null",
		"{\"Id\": 5}",
		"{\"Id\": \"x\", \"State\": []}",
		"{\"Id\": \"x\", \"State\": {}, \"HostConfig\": {\"Memory\": 1.5}}",
		"{\"Id\": \"x\", \"State\": {}, \"HostConfig\": {\"NanoCpus\": 1e300}}",
		"{\"Id\": \"x\", \"State\": {\"StartedAt\": \"2020-13-01T00:00:00Z\"}, "
		"\"HostConfig\": {}}",
		"{\"Id\": \"x\", \"State\": {}, \"HostConfig\": {}, \"Config\": {\"Labels\": "
		"{\"a\": 1}}}",
		"{\"Id\": \"x\", \"State\": {}, \"HostConfig\": {\"PortBindings\": {\"80/tcp\": "
		"[1]}}}",
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(bad); i++) {
		struct docker_inspect in = { 0 };
		char err[256] = "";
		assert_int_equal(
		        docker_json_parse_inspect(bad[i], strlen(bad[i]), &in, err, sizeof(err)),
		        -EBADMSG);
		assert_true(err[0] != '\0');
		assert_null(in.id);
	}
	struct docker_container_list l = { 0 };
	const char *list = "[{\"Id\": \"a\"}, 7]";
	assert_int_equal(docker_json_parse_container_list(list, strlen(list), &l, NULL, 0),
	                 -EBADMSG);
	const char *eb = "{\"message\":\"No such container: x\"}";
	char *msg = docker_json_error_message(eb, strlen(eb));
	assert_string_equal(msg, "No such container: x");
	free(msg);
	assert_null(docker_json_error_message("oops", 4));

	double t;
	assert_int_equal(docker_json_parse_time("2026-11-27T19:27:05+01:00", &t), 0);
	assert_true(t == 1795804025.0);
	assert_int_equal(docker_json_parse_time("0001-01-01T00:00:00Z", &t), 0);
	assert_true(t == 0);
	assert_int_equal(docker_json_parse_time("2026-11-27T19:27:05", &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_container_list),
		cmocka_unit_test(test_inspect_nanocpus),
		cmocka_unit_test(test_inspect_quota_and_stopped),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_update_body),
		cmocka_unit_test(test_bad_documents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
