/* cgroup_stats: a container's CPU, throttling and memory counters read from
 * its cgroup files (v1 or v2, cgroupfs or systemd layout) under a cgroup tree,
 * instead of the engine's stats call (which waits for its one-second tick). */
#include "rm/cgroup_stats.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rm/util.h"

/* Reads a small file into buf (NUL-terminated). Returns 0 or -errno. */
static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	while (got < len - 1) {
		ssize_t k = read(fd, buf + got, len - 1 - got);
		if (k < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	buf[got] = '\0';
	return 0;
}

static int read_u64(const char *path, uint64_t *ret)
{
	char buf[64], *end;
	int r = read_small(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return -EBADMSG;
	*ret = v;
	return 0;
}

/* The value of "key N" lines in a flat-keyed file (cpu.stat, memory.stat). */
static bool keyed(const char *text, const char *key, uint64_t *ret)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
			*ret = strtoull(p + kl + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

/* Fills *ret from cgroup v1 directories <root>/<ctl>/<rel> when they exist. */
static int read_v1(const char *root, const char *rel, struct docker_stats *ret)
{
	char path[512], text[4096];
	uint64_t v;
	snprintf(path, sizeof(path), "%s/cpuacct/%s/cpuacct.usage", root, rel);
	int r = read_u64(path, &v);
	if (r < 0)
		return r;
	ret->cpu_known = true;
	ret->cpu_total_usage = v;
	snprintf(path, sizeof(path), "%s/cpu/%s/cpu.stat", root, rel);
	if (read_small(path, text, sizeof(text)) == 0 &&
	    keyed(text, "nr_periods", &ret->throttling_periods) &&
	    keyed(text, "nr_throttled", &ret->throttled_periods))
		ret->throttling_known = true;
	snprintf(path, sizeof(path), "%s/memory/%s/memory.usage_in_bytes", root, rel);
	if (read_u64(path, &ret->mem_usage) == 0)
		ret->mem_known = true;
	snprintf(path, sizeof(path), "%s/memory/%s/memory.stat", root, rel);
	if (read_small(path, text, sizeof(text)) == 0 &&
	    keyed(text, "total_inactive_file", &ret->inactive_file))
		ret->inactive_file_known = true;
	return 0;
}

/* The same from a cgroup v2 directory <root>/<rel>. */
static int read_v2(const char *root, const char *rel, struct docker_stats *ret)
{
	char path[512], text[4096];
	uint64_t usec;
	snprintf(path, sizeof(path), "%s/%s/cpu.stat", root, rel);
	int r = read_small(path, text, sizeof(text));
	if (r < 0)
		return r;
	if (!keyed(text, "usage_usec", &usec))
		return -EBADMSG;
	ret->cpu_known = true;
	ret->cpu_total_usage = usec * 1000;
	if (keyed(text, "nr_periods", &ret->throttling_periods) &&
	    keyed(text, "nr_throttled", &ret->throttled_periods))
		ret->throttling_known = true;
	snprintf(path, sizeof(path), "%s/%s/memory.current", root, rel);
	if (read_u64(path, &ret->mem_usage) == 0)
		ret->mem_known = true;
	snprintf(path, sizeof(path), "%s/%s/memory.stat", root, rel);
	if (read_small(path, text, sizeof(text)) == 0 &&
	    keyed(text, "inactive_file", &ret->inactive_file))
		ret->inactive_file_known = true;
	return 0;
}

int cgroup_stats_read(const char *root, const char *id, double now, struct docker_stats *ret)
{
	if (!root || !*root || !id || strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64)
		return -EINVAL;
	char cgfs[80], systemd[120];
	snprintf(cgfs, sizeof(cgfs), "docker/%s", id);
	snprintf(systemd, sizeof(systemd), "system.slice/docker-%s.scope", id);
	memset(ret, 0, sizeof(*ret));
	int r = read_v1(root, cgfs, ret);
	if (r == -ENOENT)
		r = read_v1(root, systemd, ret);
	if (r == -ENOENT)
		r = read_v2(root, cgfs, ret);
	if (r == -ENOENT)
		r = read_v2(root, systemd, ret);
	if (r < 0) {
		memset(ret, 0, sizeof(*ret));
		return r;
	}
	ret->read_time = now;
	ret->steady_clock = true;
	return 0;
}
