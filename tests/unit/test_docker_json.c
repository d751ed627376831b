/* test_docker_json: the Docker wire formats on responses captured from the engine. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

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

/* An answer nested deeper than the Engine ever nests is refused before
 * jansson recurses into it (the calls run on worker threads). */
static void test_deep_answer_refused(void **state)
{
	size_t n = 100000;
	char *deep = xmalloc(n + 16);
	strcpy(deep, "{\"Id\":");
	memset(deep + 6, '[', n);
	deep[6 + n] = '\0';
	struct docker_inspect c = { 0 };
	char err[256] = "";
	assert_int_equal(docker_json_parse_inspect(deep, strlen(deep), &c, err, sizeof(err)),
	                 -EBADMSG);
	assert_non_null(strstr(err, "nested deeper than 64"));
	docker_inspect_free(&c);
	free(deep);
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

/* RestartCount: what the post-change watch counts restarts from. */
static void test_inspect_restart_count(void **state)
{
	(void)state;
	size_t len;
	char *d = fixture("inspect_nanocpus.json", &len);
	char *at = strstr(d, "\"RestartCount\":0");
	assert_non_null(at);
	struct docker_inspect in = { 0 };
	char err[160] = "";
	at[15] = '3';
	assert_int_equal(docker_json_parse_inspect(d, len, &in, err, sizeof(err)), 0);
	assert_true(in.restart_count_known && in.restart_count == 3);
	docker_inspect_free(&in);
	at[15] = '-'; /* "RestartCount":- is not JSON; a negative count is refused */
	assert_int_equal(docker_json_parse_inspect(d, len, &in, err, sizeof(err)), -EBADMSG);
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
	assert_true(in.restart_count_known);
	assert_int_equal(in.restart_count, 0);
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

static json_t *loads(const char *s)
{
	json_t *o = json_loads(s, 0, NULL);
	assert_non_null(o);
	return o;
}

/* Green from a compose-style container: labels byte-identical plus deployment.*,
 * aliases kept minus the container's own, new limits, nothing container-specific. */
static void test_clone_body(void **state)
{
	size_t len;
	char *d = fixture("inspect_compose.json", &len);
	json_t *blue = loads(d);
	struct docker_limits want = {
		.set_cpu = true, .cpus = 1.25, .set_memory = true, .memory = 128 << 20
	};
	struct docker_label_ref extra[] = { { "deployment.type", "blue-green" },
		                            { "deployment.new_cpu", "1.25" } };
	struct docker_clone cl = { 0 };
	char err[256] = "";
	assert_int_equal(docker_json_clone_body(d, len, &want, extra, 2, &cl, err, sizeof(err)), 0);
	json_t *b = loads(cl.body);
	/* Every label of blue, byte for byte, and the extra ones. */
	json_t *bl = json_object_get(json_object_get(blue, "Config"), "Labels");
	json_t *gl = json_object_get(b, "Labels");
	const char *k;
	json_t *v;
	json_object_foreach(bl, k, v)
	{
		assert_string_equal(json_string_value(json_object_get(gl, k)),
		                    json_string_value(v));
	}
	assert_int_equal(json_object_size(gl), json_object_size(bl) + 2);
	assert_string_equal(json_string_value(json_object_get(gl, "traefik.http.routers.web.rule")),
	                    "Host(`web.example`) && PathPrefix(`/a b`)");
	assert_string_equal(json_string_value(json_object_get(gl, "deployment.type")),
	                    "blue-green");
	/* Same image (by id), command, env, stop settings; explicit hostname kept. */
	assert_string_equal(json_string_value(json_object_get(b, "Image")),
	                    json_string_value(json_object_get(blue, "Image")));
	assert_true(json_equal(json_object_get(b, "Cmd"),
	                       json_object_get(json_object_get(blue, "Config"), "Cmd")));
	assert_true(json_equal(json_object_get(b, "Env"),
	                       json_object_get(json_object_get(blue, "Config"), "Env")));
	assert_true(json_equal(json_object_get(b, "Healthcheck"),
	                       json_object_get(json_object_get(blue, "Config"), "Healthcheck")));
	assert_string_equal(json_string_value(json_object_get(b, "StopSignal")), "SIGINT");
	assert_int_equal(json_integer_value(json_object_get(b, "StopTimeout")), 7);
	assert_string_equal(json_string_value(json_object_get(b, "Hostname")), "myhost");
	/* HostConfig: new limits in NanoCpus form, swap alongside, the rest kept. */
	json_t *hc = json_object_get(b, "HostConfig");
	assert_int_equal(json_integer_value(json_object_get(hc, "NanoCpus")), 1250000000);
	assert_int_equal(json_integer_value(json_object_get(hc, "Memory")), 128 << 20);
	/* blue's swap allowance (64 MiB) is kept, as in an update */
	assert_int_equal(json_integer_value(json_object_get(hc, "MemorySwap")), 192 << 20);
	assert_true(json_equal(json_object_get(hc, "Binds"),
	                       json_object_get(json_object_get(blue, "HostConfig"), "Binds")));
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(hc, "RestartPolicy"), "Name")),
	        "unless-stopped");
	/* The primary network with its aliases, no IPs; the other one to connect. */
	json_t *eps = json_object_get(json_object_get(b, "NetworkingConfig"), "EndpointsConfig");
	assert_int_equal(json_object_size(eps), 1);
	const char *primary = json_object_iter_key(json_object_iter(eps));
	assert_non_null(strstr(primary, "-front"));
	json_t *al = json_object_get(json_object_get(eps, primary), "Aliases");
	assert_int_equal(json_array_size(al), 3);
	assert_string_equal(json_string_value(json_array_get(al, 0)), "web");
	assert_string_equal(json_string_value(json_array_get(al, 1)), "www");
	assert_string_equal(json_string_value(json_array_get(al, 2)), "myhost");
	assert_null(json_object_get(json_object_get(eps, primary), "IPAddress"));
	assert_null(strstr(cl.body, "a1ac10ede588"));
	assert_null(strstr(cl.body, "172.19.0.2"));
	assert_null(strstr(cl.body, "02:42:ac"));
	assert_int_equal(cl.n_networks, 1);
	assert_non_null(strstr(cl.networks[0].name, "-back"));
	assert_int_equal(cl.n_networks, 1);
	assert_int_equal(cl.networks[0].n_aliases, 2);
	assert_string_equal(cl.networks[0].aliases[0], "api");
	/* move_aliases: the copy is created without its aliases, which are kept
	 * aside to give it once it is healthy. */
	assert_null(cl.primary.name);
	assert_int_equal(docker_json_clone_strip_aliases(&cl), 0);
	assert_non_null(strstr(cl.primary.name, "-front"));
	assert_int_equal(cl.primary.n_aliases, 3);
	assert_string_equal(cl.primary.aliases[0], "web");
	assert_string_equal(cl.primary.aliases[2], "myhost");
	assert_null(strstr(cl.body, "Aliases"));
	json_t *b2 = loads(cl.body);
	assert_non_null(json_object_get(
	        json_object_get(json_object_get(b2, "NetworkingConfig"), "EndpointsConfig"),
	        primary));
	json_decref(b2);
	json_decref(b);
	docker_clone_free(&cl);
	json_decref(blue);
	free(d);
}

/* Quota form kept, default hostname dropped, anonymous volume shared by name,
 * no networking for host mode; bad input refused. */
static void test_clone_body_edges(void **state)
{
	const char *in =
	        "{\"Id\":\"0123456789abcdef\",\"Image\":\"sha256:aa\",\"State\":{},"
	        "\"Config\":{\"Hostname\":\"0123456789ab\",\"Image\":\"x:1\",\"Labels\":null},"
	        "\"HostConfig\":{\"CpuQuota\":50000,\"CpuPeriod\":100000,\"Memory\":0,"
	        "\"MemorySwap\":0,\"NetworkMode\":\"host\",\"Binds\":[\"/a:/a\"],"
	        "\"Mounts\":[{\"Type\":\"volume\",\"Target\":\"/anon\"}]},"
	        "\"Mounts\":[{\"Type\":\"volume\",\"Name\":\"v123\",\"Destination\":\"/anon\","
	        "\"RW\":true},{\"Type\":\"bind\",\"Source\":\"/a\",\"Destination\":\"/a\"}],"
	        "\"NetworkSettings\":{\"Networks\":{\"host\":{}}}}";
	struct docker_limits want = { .set_cpu = true, .cpus = 0.75 };
	struct docker_clone cl = { 0 };
	assert_int_equal(docker_json_clone_body(in, strlen(in), &want, NULL, 0, &cl, NULL, 0), 0);
	json_t *b = loads(cl.body);
	json_t *hc = json_object_get(b, "HostConfig");
	assert_int_equal(json_integer_value(json_object_get(hc, "CpuQuota")), 75000);
	assert_null(json_object_get(hc, "NanoCpus"));
	assert_null(json_object_get(b, "Hostname"));
	assert_string_equal(json_string_value(json_object_get(b, "Image")), "sha256:aa");
	assert_int_equal(json_array_size(json_object_get(hc, "Binds")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "Binds"), 1)),
	                    "v123:/anon");
	assert_int_equal(json_array_size(json_object_get(hc, "Mounts")), 0);
	assert_null(json_object_get(b, "NetworkingConfig"));
	assert_int_equal(cl.n_networks, 0);
	/* No network of its own: no aliases to move, the body unchanged. */
	char *before = xstrdup(cl.body);
	assert_int_equal(docker_json_clone_strip_aliases(&cl), -EBADMSG);
	assert_string_equal(cl.body, before);
	free(before);
	json_decref(b);
	docker_clone_free(&cl);
	struct docker_limits bad = { .set_memory = true, .memory = -1 };
	assert_int_equal(docker_json_clone_body(in, strlen(in), &bad, NULL, 0, &cl, NULL, 0),
	                 -EINVAL);
	assert_int_equal(docker_json_clone_body("{", 1, &want, NULL, 0, &cl, NULL, 0), -EBADMSG);
	char *body = docker_json_connect_body("abc", (const char *const[]){ "web" }, 1, NULL);
	assert_string_equal(body,
	                    "{\"Container\":\"abc\",\"EndpointConfig\":{\"Aliases\":[\"web\"]}}");
	free(body);
	/* Blue put back on its network without aliases, at its old address. */
	body = docker_json_connect_body("abc", NULL, 0, "172.19.0.2");
	assert_string_equal(body, "{\"Container\":\"abc\",\"EndpointConfig\":{\"IPAMConfig\":"
	                          "{\"IPv4Address\":\"172.19.0.2\"}}}");
	free(body);
	body = docker_json_disconnect_body("abc", false);
	assert_string_equal(body, "{\"Container\":\"abc\",\"Force\":false}");
	free(body);
	assert_true(docker_json_alias_is_own("4763ecea1c47", "4763ecea1c47aa00"));
	assert_false(docker_json_alias_is_own("web", "4763ecea1c47aa00"));
	assert_false(docker_json_alias_is_own("4763ecea1c4", "4763ecea1c47aa00"));
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
		cmocka_unit_test(test_deep_answer_refused),
		cmocka_unit_test(test_inspect_restart_count),
		cmocka_unit_test(test_inspect_nanocpus),
		cmocka_unit_test(test_inspect_quota_and_stopped),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_update_body),
		cmocka_unit_test(test_clone_body),
		cmocka_unit_test(test_clone_body_edges),
		cmocka_unit_test(test_bad_documents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
