/* observation: what one check measured for one service (all its replicas
 * together), as the metrics sources produce it and the engine consumes it.
 * Plain data, no behaviour. A value is only meaningful when its *_known flag
 * is set; unknown is never the same as zero. */
#ifndef RM_OBSERVATION_H
#define RM_OBSERVATION_H

#include <stdbool.h>
#include <stdint.h>

struct observation {
	/* Wall-clock time the values refer to (seconds since the epoch). */
	double time;
	/* Containers measured together (replicas of one service); 0 = none found. */
	unsigned n_containers;

	/* CPU use in cores, averaged over the analysis window, summed over replicas. */
	bool cpu_used_known;
	double cpu_used;
	/* CPU limit in cores, summed; known with value 0 means "no limit". */
	bool cpu_limit_known;
	double cpu_limit;
	/* Share of CFS periods throttled over the window (0..1). */
	bool cpu_throttled_known;
	double cpu_throttled;
	/* CPU use in cores averaged over the trend window (monitoring.trend_window),
	 * summed over replicas: a slower view of cpu_used that tells a trend from a
	 * blip. Filled by the Prometheus source; the Docker source may leave it
	 * unknown. */
	bool cpu_trend_known;
	double cpu_trend;

	/* Memory use in bytes (working set unless configured otherwise), summed. */
	bool mem_used_known;
	uint64_t mem_used;
	/* Highest memory use seen over the recent window (for safe decreases). */
	bool mem_peak_known;
	uint64_t mem_peak;
	/* Highest memory use since the previous check (the recommender's sample);
	 * unknown when the source has no such view (mem_used stands in). */
	bool mem_interval_peak_known;
	uint64_t mem_interval_peak;
	/* Memory limit in bytes, summed; known with value 0 means "no limit". */
	bool mem_limit_known;
	uint64_t mem_limit;

	/* Age of the youngest replica, seconds. */
	bool uptime_known;
	double uptime;
	/* OOM kills since the previous check. */
	bool oom_known;
	unsigned oom_kills;

	/* The source saw only some replicas (Swarm tasks on other nodes, with
	 * the Docker source): the sums are scaled from the n_containers it saw
	 * to all replicas, assuming even load, and unknown_reason says so. */
	bool partial;

	/* Why values are unknown, for the explanation ("" when all are known). */
	char unknown_reason[160];
};

#endif
