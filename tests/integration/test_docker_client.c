/* test_docker_client: the Docker client against the real engine: negotiation,
 * container lifecycle, error mapping, live limit updates and discovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "integration/docker_testlib.h"
#include "rm/discovery.h"
#include "rm/docker.h"

static void test_negotiation(void **state)
{
	struct docker_client *c = tl_client(NULL, 10);
	char err[512] = "";
	assert_non_null(c);
	assert_null(docker_api_version(c));
	assert_int_equal(docker_ping(c, err, sizeof(err)), 0);
	struct docker_version v = { 0 };
	assert_int_equal(docker_version(c, &v, err, sizeof(err)), 0);
	assert_int_equal(docker_negotiate(c, err, sizeof(err)), 0);
	struct docker_api_version server, mine, used;
	assert_int_equal(docker_api_version_parse(v.api_version, &server), 0);
	assert_int_equal(docker_api_version_parse(DOCKER_CLIENT_API_MAX, &mine), 0);
	assert_int_equal(docker_api_version_parse(docker_api_version(c), &used), 0);
	if (docker_api_version_cmp(server, mine) <= 0)
		assert_string_equal(docker_api_version(c), v.api_version);
	else
		assert_string_equal(docker_api_version(c), DOCKER_CLIENT_API_MAX);
	/* This machine's Engine 20.10. */
	if (strncmp(v.version, "20.10", 5) == 0)
		assert_string_equal(docker_api_version(c), "1.41");
	docker_version_free(&v);

	struct docker_info info = { 0 };
	assert_int_equal(docker_info(c, &info, err, sizeof(err)), 0);
	assert_true(info.ncpu >= 1);
	assert_true(info.mem_total > 0);
	assert_true(info.cgroup_version == 1 || info.cgroup_version == 2);
	docker_info_free(&info);
	docker_client_free(c);

	/* A fixed version is used as is, without asking. */
	struct docker_client_options o = { .host = tl_host(), .api_version = "1.40" };
	assert_int_equal(docker_client_new(&o, &c, err, sizeof(err)), 0);
	assert_string_equal(docker_api_version(c), "1.40");
	struct docker_container_list l = { 0 };
	assert_int_equal(docker_containers_list(c, false, NULL, 0, &l, err, sizeof(err)), 0);
	docker_container_list_free(&l);
	docker_client_free(c);
	o.api_version = "one";
	assert_int_equal(docker_client_new(&o, &c, err, sizeof(err)), -EINVAL);
	o.api_version = "auto";
	o.host = "ftp://x";
	assert_int_equal(docker_client_new(&o, &c, err, sizeof(err)), -EINVAL);
}

static void test_lifecycle_and_errors(void **state)
{
	struct docker_client *c = tl_client(NULL, 20);
	char err[512] = "";
	char *name = tl_name("life");
	char *renamed = tl_name("life2");
	tl_track(name);
	tl_track(renamed);
	char *body = xasprintf("{\"Image\":\"%s\",\"Cmd\":[\"ignore-term\"],"
	                       "\"Labels\":{\"rmt\":\"life\"},"
	                       "\"HostConfig\":{\"NanoCpus\":250000000,\"Memory\":67108864}}",
	                       tl_image());
	char *id = NULL;
	assert_int_equal(docker_container_create(c, name, body, &id, err, sizeof(err)), 0);
	assert_int_equal(strlen(id), 64);
	char *id2 = NULL;
	assert_int_equal(docker_container_create(c, name, body, &id2, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "already in use"));
	assert_null(id2);

	assert_int_equal(docker_container_start(c, id, err, sizeof(err)), 0);
	/* 304: already started is success. */
	assert_int_equal(docker_container_start(c, id, err, sizeof(err)), 0);

	struct docker_inspect in = { 0 };
	assert_int_equal(docker_container_inspect(c, name, &in, err, sizeof(err)), 0);
	assert_string_equal(in.id, id);
	assert_true(in.state.running);
	assert_int_equal(in.host_config.nano_cpus, 250000000);
	assert_non_null(in.raw_json);
	docker_inspect_free(&in);

	/* Label filters select it, and only containers with that label. */
	const char *labels[] = { "rmt=life" };
	struct docker_container_list l = { 0 };
	assert_int_equal(docker_containers_list(c, true, labels, 1, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].id, id);
	docker_container_list_free(&l);

	assert_int_equal(docker_container_rename(c, id, renamed, err, sizeof(err)), 0);
	assert_int_equal(docker_container_inspect(c, name, &in, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such container"));
	assert_int_equal(docker_container_inspect(c, renamed, &in, err, sizeof(err)), 0);
	docker_inspect_free(&in);

	/* A running container cannot be removed without force. */
	assert_int_equal(docker_container_remove(c, id, false, false, err, sizeof(err)), -EBUSY);
	/* ignore-term: stop waits out the grace period, then kills. */
	double t0 = time_monotonic();
	assert_int_equal(docker_container_stop(c, id, 1, err, sizeof(err)), 0);
	assert_true(time_monotonic() - t0 < 10);
	assert_int_equal(docker_container_stop(c, id, 1, err, sizeof(err)), 0); /* 304 */
	assert_int_equal(docker_container_kill(c, id, "SIGKILL", err, sizeof(err)), -EBUSY);
	assert_int_equal(docker_container_start(c, id, err, sizeof(err)), 0);
	assert_int_equal(docker_container_kill(c, id, "SIGKILL", err, sizeof(err)), 0);
	assert_int_equal(docker_container_remove(c, id, true, true, err, sizeof(err)), 0);
	assert_int_equal(docker_container_remove(c, id, true, true, err, sizeof(err)), -ENOENT);

	/* 400: a bad parameter. */
	char *bad = xasprintf("{\"Image\":\"%s\",\"HostConfig\":{\"Memory\":-5}}", tl_image());
	int r = docker_container_create(c, NULL, bad, &id2, err, sizeof(err));
	assert_true(r == -EINVAL || r == -EIO);
	assert_true(strlen(err) > 10);
	if (r == 0)
		free(id2);
	free(bad);
	/* A stats call on a missing container. */
	struct docker_stats st;
	assert_int_equal(docker_container_stats(c, "rmt-no-such-container", &st, err, sizeof(err)),
	                 -ENOENT);

	free(id);
	free(body);
	free(name);
	free(renamed);
	docker_client_free(c);
}

/* Updates limits in place and checks the container stayed the same. */
static void update_and_check(struct docker_client *c, const char *name, double cpus, int64_t memory,
                             enum docker_cpu_form form)
{
	char err[512] = "";
	struct docker_inspect before = { 0 }, after = { 0 };
	assert_int_equal(docker_container_inspect(c, name, &before, err, sizeof(err)), 0);
	assert_int_equal(docker_host_config_cpu_form(&before.host_config), form);
	struct docker_limits want = {
		.set_cpu = true, .cpus = cpus, .set_memory = true, .memory = memory
	};
	int r = docker_container_set_limits(c, &before, &want, err, sizeof(err));
	if (r < 0)
		fail_msg("update %s: %s", name, err);
	assert_int_equal(docker_container_inspect(c, name, &after, err, sizeof(err)), 0);
	assert_string_equal(after.id, before.id);
	assert_string_equal(after.state.started_at, before.state.started_at);
	assert_true(after.state.running);
	assert_int_equal(docker_host_config_cpu_form(&after.host_config), form);
	double got = docker_host_config_cpus(&after.host_config);
	assert_true(got > cpus - 1e-6 && got < cpus + 1e-6);
	assert_int_equal(after.host_config.memory, memory);
	assert_true(after.host_config.memory_swap >= memory);
	docker_inspect_free(&before);
	docker_inspect_free(&after);
}

static void test_update_in_place(void **state)
{
	struct docker_client *c = tl_client(NULL, 20);
	char *nano = tl_name("upd-nano");
	char *quota = tl_name("upd-quota");
	assert_int_equal(tl_run(nano, "--cpus 0.5 --memory 64m", "idle", NULL), 0);
	assert_int_equal(
	        tl_run(quota, "--cpu-quota 25000 --cpu-period 50000 --memory 64m", "idle", NULL),
	        0);
	/* Raising memory above the old 2x swap needs MemorySwap sent along. */
	update_and_check(c, nano, 1.0, 256 << 20, DOCKER_CPU_NANO);
	update_and_check(c, nano, 1.5, 512 << 20, DOCKER_CPU_NANO);
	update_and_check(c, quota, 1.0, 256 << 20, DOCKER_CPU_QUOTA);
	update_and_check(c, quota, 0.75, 192 << 20, DOCKER_CPU_QUOTA);
	/* Mixing forms is what the engine refuses: we never do, but it maps. */
	char err[512];
	int r = docker_container_update(c, nano, "{\"CpuQuota\":50000,\"CpuPeriod\":100000}", err,
	                                sizeof(err));
	/* Engine 20.10 calls it a conflict (409); others a bad parameter. */
	assert_true(r == -EBUSY || r == -EINVAL);
	assert_non_null(strstr(err, "onflicting"));
	free(nano);
	free(quota);
	docker_client_free(c);
}

static bool group_has(const struct docker_container_list *l, const struct discovery_group *g,
                      const char *id)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(l->items[g->idx[i]].id, id) == 0)
			return true;
	return false;
}

static void test_discovery_live(void **state)
{
	struct docker_client *c = tl_client(NULL, 20);
	char err[512];
	char *grafana = tl_name("grafana");
	char *renderer = tl_name("grafana-renderer");
	char *w1 = tl_name("web-1"), *w2 = tl_name("web-2"), *other = tl_name("other-web-1");
	char *svc = tl_name("websvc");
	char *proj = xasprintf("rmtproj%d", (int)getpid());
	char id_g[65], id_r[65], id_w1[65], id_w2[65], id_o[65];
	assert_int_equal(tl_run(grafana, NULL, "idle", id_g), 0);
	assert_int_equal(tl_run(renderer, NULL, "idle", id_r), 0);
	char *labels = xasprintf(
	        "-l com.docker.compose.service=%s -l com.docker.compose.project=%s", svc, proj);
	char *labels_other =
	        xasprintf("-l com.docker.compose.service=%s -l com.docker.compose.project=other%s",
	                  svc, proj);
	assert_int_equal(tl_run(w1, labels, "idle", id_w1), 0);
	assert_int_equal(tl_run(w2, labels, "idle", id_w2), 0);
	assert_int_equal(tl_run(other, labels_other, "idle", id_o), 0);

	struct docker_container_list l = { 0 };
	assert_int_equal(docker_containers_list(c, false, NULL, 0, &l, err, sizeof(err)), 0);
	const char *services[] = { grafana, svc };
	struct discovery_group g[2];
	struct discovery_rules any = { .project = "", .label_opt_in = false };
	discovery_group_services(&l, services, 2, &any, true, g);
	assert_int_equal(g[0].n, 1);
	assert_true(group_has(&l, &g[0], id_g));
	assert_false(group_has(&l, &g[0], id_r));
	assert_int_equal(g[1].n, 3);
	discovery_group_free(&g[0]);
	discovery_group_free(&g[1]);

	struct discovery_rules only = { .project = proj, .label_opt_in = false };
	discovery_group_services(&l, services, 2, &only, true, g);
	assert_int_equal(g[1].n, 2);
	assert_true(group_has(&l, &g[1], id_w1) && group_has(&l, &g[1], id_w2));
	assert_false(group_has(&l, &g[1], id_o));
	discovery_group_free(&g[0]);
	discovery_group_free(&g[1]);
	docker_container_list_free(&l);

	/* A stopped replica is listed with all=true but not measured. */
	assert_int_equal(docker_container_stop(c, id_w2, 0, err, sizeof(err)), 0);
	assert_int_equal(docker_containers_list(c, true, NULL, 0, &l, err, sizeof(err)), 0);
	discovery_group_services(&l, services + 1, 1, &only, true, g);
	assert_int_equal(g[0].n, 1);
	discovery_group_free(&g[0]);
	discovery_group_services(&l, services + 1, 1, &only, false, g);
	assert_int_equal(g[0].n, 2);
	discovery_group_free(&g[0]);
	docker_container_list_free(&l);

	free(labels);
	free(labels_other);
	free(grafana);
	free(renderer);
	free(w1);
	free(w2);
	free(other);
	free(svc);
	free(proj);
	docker_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiation),
		cmocka_unit_test(test_lifecycle_and_errors),
		cmocka_unit_test(test_update_in_place),
		cmocka_unit_test(test_discovery_live),
	};
	int r = cmocka_run_group_tests(tests, tl_setup, NULL);
	tl_remove_all();
	return r;
}
