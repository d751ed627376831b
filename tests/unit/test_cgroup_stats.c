/* test_cgroup_stats: a container's counters from cgroup files, on trees
 * written here in each layout (v1/v2, cgroupfs/systemd), and what is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rm/cgroup_stats.h"
#include "rm/util.h"

#define ID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "3123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[512], cmd[600];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/rm-cgroup-test-%d", (int)getpid());
	return mkdir(root, 0700);
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_v1_cgroupfs(void **state)
{
	put("cpuacct/docker/" ID "/cpuacct.usage", "123456789\n");
	put("cpu/docker/" ID "/cpu.stat", "nr_periods 843\nnr_throttled 17\nthrottled_time 1\n");
	put("memory/docker/" ID "/memory.usage_in_bytes", "10485760\n");
	put("memory/docker/" ID "/memory.stat",
	    "cache 1\ninactive_file 7\ntotal_cache 2\ntotal_inactive_file 4096\n");
	struct docker_stats s;
	assert_int_equal(cgroup_stats_read(root, ID, 1000.5, &s), 0);
	assert_true(s.steady_clock && s.read_time == 1000.5);
	assert_true(s.cpu_known);
	assert_true(s.cpu_total_usage == 123456789);
	assert_true(s.throttling_known);
	assert_true(s.throttling_periods == 843 && s.throttled_periods == 17);
	assert_true(s.mem_known && s.mem_usage == 10485760);
	/* total_inactive_file, not the cgroup's own inactive_file line. */
	assert_true(s.inactive_file_known && s.inactive_file == 4096);
	assert_true(s.read_time == 1000.5);
	assert_true(docker_stats_working_set(&s) == 10485760 - 4096);
}

static void test_v2_systemd(void **state)
{
	put("system.slice/docker-" ID2 ".scope/cpu.stat",
	    "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 10\nnr_throttled 3\n");
	put("system.slice/docker-" ID2 ".scope/memory.current", "2097152\n");
	put("system.slice/docker-" ID2 ".scope/memory.stat", "anon 1\ninactive_file 1024\n");
	struct docker_stats s;
	assert_int_equal(cgroup_stats_read(root, ID2, 5, &s), 0);
	assert_true(s.cpu_known && s.cpu_total_usage == 2500000);
	assert_true(s.throttling_known && s.throttling_periods == 10 && s.throttled_periods == 3);
	assert_true(s.mem_known && s.mem_usage == 2097152);
	assert_true(s.inactive_file_known && s.inactive_file == 1024);
}

/* Not there: -ENOENT (the caller falls back to the engine's stats); a bad id
 * is refused before any path is built from it; a counter that is not a
 * number is an error, never 0. */
static void test_refusals(void **state)
{
	struct docker_stats s;
	const char *other = "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	assert_int_equal(cgroup_stats_read(root, other, 1, &s), -ENOENT);
	assert_false(s.cpu_known || s.mem_known);
	assert_int_equal(cgroup_stats_read(root, "../../etc", 1, &s), -EINVAL);
	assert_int_equal(cgroup_stats_read(root, "0123", 1, &s), -EINVAL);
	assert_int_equal(cgroup_stats_read("", ID, 1, &s), -EINVAL);
	const char *bad = "2123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	put("cpuacct/docker/2123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/"
	    "cpuacct.usage",
	    "max\n");
	assert_int_equal(cgroup_stats_read(root, bad, 1, &s), -EBADMSG);
	assert_false(s.cpu_known);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_cgroupfs),
		cmocka_unit_test(test_v2_systemd),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
