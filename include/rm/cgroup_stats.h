/* cgroup_stats: a container's counters read from its cgroup files.
 *
 * For the Docker source when the host's cgroup tree is readable (mounted
 * read-only into the container, or the daemon on the host): the same counters
 * as the engine's stats call, without its wait of about a second per call
 * (docs/benchmarks.md §2). Layouts tried, in order: v1 cgroupfs
 * (<root>/<ctl>/docker/<id>), v1 systemd (<ctl>/system.slice/docker-<id>.scope),
 * v2 cgroupfs (<root>/docker/<id>), v2 systemd. */
#ifndef RM_CGROUP_STATS_H
#define RM_CGROUP_STATS_H

#include "rm/docker_json.h"

/* Reads container id's (64 hex digits) CPU usage, CFS periods and memory
 * (usage, inactive file) under root into *ret, read_time = now. Returns 0;
 * -ENOENT when no layout has that container (not mounted, not a host tree,
 * another engine's); -EINVAL for a bad id or no root; another -errno when a
 * file cannot be read. *ret is zeroed on failure. */
int cgroup_stats_read(const char *root, const char *id, double now, struct docker_stats *ret);

#endif
