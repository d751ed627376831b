/* source_auto: monitoring.source auto, and building the source the
 * configuration asks for.
 *
 * The auto source asks Prometheus first on every check and falls back to the
 * Docker engine when Prometheus is not configured or does not answer. It
 * logs when the source in use changes (once per change, not per check). */
#ifndef RM_SOURCE_AUTO_H
#define RM_SOURCE_AUTO_H

#include <stdbool.h>
#include <stddef.h>

#include "rm/source.h"

struct rm_config;

/* Combines the two sources; either may be NULL or have no ops (absent), not
 * both. Takes ownership of what it is given: *prom_or_null and
 * *docker_or_null are moved into *ret and cleared. Returns 0, or -EINVAL
 * when both are absent (then nothing is taken). */
int source_auto_new(struct source *prom_or_null, struct source *docker_or_null, struct source *ret);

/* Name of the source that gave the last successful collect of s: for an
 * auto source "prometheus", "docker" or "none" (no collect yet, or the last
 * one failed); for any other source its own name. Static string. */
const char *source_used_name(const struct source *s);

/* Whether s has the backend "prometheus" or "docker" (an auto source has
 * the ones it was built with; any other source is its own backend). */
bool source_has_backend(const struct source *s, const char *backend);

/* What the last collect of s learnt of one backend: SOURCE_NOT_ASKED when s
 * has no such backend or did not ask it (auto asks the Docker engine only
 * when Prometheus fails). *ret_error (may be NULL) is the failure's reason,
 * "" otherwise; valid until the next collect. */
enum source_result source_backend_result(const struct source *s, const char *backend,
                                         const char **ret_error);

/* Tells s that the Docker engine failed a call of this check (why), so its
 * Docker backend is not asked until this is called again with NULL. */
void source_skip_engine(struct source *s, const char *why_or_null);

/* Builds the source cfg asks for (monitoring.source):
 *   prometheus  the Prometheus source (monitoring.prometheus_url required)
 *   docker      the Docker source
 *   auto        source_auto over both, whichever exist
 * Returns 0 and *ret (free with source_free), or a negative errno with the
 * reason in err: -EINVAL (missing or unusable URL), -ENOTSUP (the Docker
 * source is not in this build and nothing else is configured). */
int source_from_config(const struct rm_config *cfg, struct source *ret, char *err, size_t errlen);

#endif
