/* source_docker: the metrics source that asks the Docker Engine directly
 * (list, inspect and one-shot stats per container), for setups without
 * Prometheus/cAdvisor.
 *
 * Per check: one container list, then inspect + stats for each matching
 * running container, eight at a time (one-shot stats take about 1 s per
 * container on Engine 20.10). Values, summed over a service's replicas:
 *   - cpu_used: cores, from each container's own total_usage counter over
 *     the engine's read timestamps between two checks (so the first check of
 *     a container, or one after a restart, is unknown: "first sample");
 *   - cpu_limit: NanoCpus/1e9, else CpuQuota/CpuPeriod; 0 = no limit;
 *   - cpu_throttled: throttled CFS periods / periods between two checks;
 *   - mem_used: usage - inactive_file (v2) or total_inactive_file (v1), or
 *     raw usage when monitoring.memory_metric is "usage";
 *   - mem_peak: per container the highest mem_used over the samples of the
 *     last monitoring.analysis_window (at most 64 samples), summed;
 *   - mem_limit: HostConfig.Memory; 0 = no limit;
 *   - uptime: since the youngest replica's State.StartedAt;
 *   - oom_kills: per container, the larger of the engine's oom events seen
 *     since the previous check (an events reader runs in the background) and
 *     a false -> true change of State.OOMKilled.
 * A service whose replicas are not all measured gets the affected values
 * unknown, with the reason. */
#ifndef RM_SOURCE_DOCKER_H
#define RM_SOURCE_DOCKER_H

#include "rm/source.h"

struct rm_config;

/* Builds the source from cfg's docker.*, services.* and monitoring.* (cfg is
 * read now, not kept). Does no I/O. Returns 0 and *ret (free with
 * source_free), or -EINVAL for an unusable docker.host or api_version. */
int source_docker_new(const struct rm_config *cfg, struct source *ret);

/* Containers a collect fetches at once: the default, and the most the
 * benchmarks' setter allows. */
#define SOURCE_DOCKER_PARALLEL     8
#define SOURCE_DOCKER_PARALLEL_MAX 64

/* Sets how many containers s fetches at once, 1 (one after another) to
 * SOURCE_DOCKER_PARALLEL_MAX (SOURCE_DOCKER_PARALLEL is the default, which
 * nothing else changes). For the benchmarks (bench/bench_docker.c); s must be
 * a Docker source. */
void source_docker_set_parallel(struct source *s, unsigned n);

/* Sets the cgroup tree read instead of the engine's stats ("" or NULL: the
 * engine's stats only; docker.cgroup_root sets it in production). For the
 * benchmarks and tests; s must be a Docker source. */
void source_docker_set_cgroup_root(struct source *s, const char *root);

#endif
