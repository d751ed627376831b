/* verify: the watch after an applied change (adjustment.verify_window): did
 * the service do worse with its new limits than before? A memory decrease
 * followed by an OOM kill or a restart, a health check failing, or CPU
 * throttling above the target after a CPU cut is a regression, and the
 * change is reverted; a window that ends clean makes the new limits the last
 * known good.
 *
 * PURE: the watch (persisted with the state), the signals measured now and
 * `now` in; a verdict and its explanation out. No clock, no I/O. */
#ifndef RM_VERIFY_H
#define RM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rm/config.h"

/* What one check measured that a verdict looks at. Counters are the
 * container's own (Docker's RestartCount, OOM kills seen by the events or
 * State.OOMKilled): cumulative, compared with the watch's baseline. */
struct verify_signals {
	bool restarts_known;
	unsigned restarts;
	bool ooms_known;
	unsigned ooms;
	bool health_known; /* the container has a health check and a status */
	bool unhealthy;    /* Docker says "unhealthy" */
	bool throttled_known;
	double throttled; /* share of CFS periods throttled since the last check */
};

/* A change being watched. The baseline is taken when the watch starts (from
 * the container the change left serving: a blue-green copy starts at 0),
 * throttled_before is the share before the change. */
struct verify_watch {
	double started, until; /* epoch seconds */
	bool cpu_decreased, mem_decreased;
	double cpu_from, cpu_to; /* cores */
	uint64_t mem_from, mem_to;
	unsigned restarts0, ooms0;
	bool unhealthy0; /* the health check was already failing at the start */
	bool throttled_before_known;
	double throttled_before;
	unsigned checks;    /* checks seen so far */
	unsigned ooms_seen; /* caller's count of OOM kills since the start */
	unsigned restarted; /* caller's count of restarts seen since the start */
	/* Checks in a row with throttling above the target after a CPU cut: a
	 * regression at thresholds.consecutive_checks (one reading of a nearly
	 * idle container, a few periods, is noise). */
	unsigned throttled_run;
};

enum verify_verdict {
	VERIFY_WATCHING,  /* nothing wrong yet, the window is still open */
	VERIFY_PASSED,    /* the window ended clean */
	VERIFY_REGRESSED, /* revert */
	_VERIFY_VERDICT_MAX,
};
const char *verify_verdict_to_string(enum verify_verdict v);
int verify_verdict_from_string(const char *s);

/* Which signal a regression was read from. */
enum verify_signal {
	VERIFY_SIGNAL_NONE,
	VERIFY_SIGNAL_OOM,
	VERIFY_SIGNAL_RESTART,
	VERIFY_SIGNAL_HEALTH,
	VERIFY_SIGNAL_THROTTLING,
	_VERIFY_SIGNAL_MAX,
};
const char *verify_signal_to_string(enum verify_signal s);

#define VERIFY_WHY_MAX 256

struct verify_result {
	enum verify_verdict verdict;
	enum verify_signal signal;
	char why[VERIFY_WHY_MAX]; /* "OOM kill 4m after 512 -> 384 MiB (none in the window before)"
	                           */
};

/* Starts a watch of the change from -> to applied at now, lasting
 * adjustment.verify_window. s0 is what the serving container counts at the
 * start; throttled_before (may be unknown) the share before the change. */
void verify_begin(const struct rm_config *cfg, struct verify_watch *w, double now, double cpu_from,
                  double cpu_to, uint64_t mem_from, uint64_t mem_to,
                  const struct verify_signals *s0, bool throttled_before_known,
                  double throttled_before);

/* One check of a watch: regression, still watching, or passed (at or after
 * w->until). Unknown signals prove nothing either way. Advances w->checks. */
void verify_step(const struct rm_config *cfg, struct verify_watch *w,
                 const struct verify_signals *s, double now, struct verify_result *ret);

#endif
