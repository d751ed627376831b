/* source: the collect wrapper every source goes through. */
#include "rm/source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int source_collect(struct source *s, const char *const *services, size_t n, double now,
                   struct observation *out, struct source_stats *stats, char *err, size_t errlen)
{
	char why[sizeof(s->last_error)] = "";
	int r;
	if (s->engine_down[0] && strcmp(s->ops->name, "docker") == 0) {
		snprintf(why, sizeof(why), "not asked: %s", s->engine_down);
		if (stats)
			*stats = (struct source_stats){ 0 };
		r = -EHOSTUNREACH;
	} else {
		r = s->ops->collect(s->impl, services, n, now, out, stats, why, sizeof(why));
	}
	s->last = r == 0 ? SOURCE_ANSWERED : SOURCE_FAILED;
	snprintf(s->last_error, sizeof(s->last_error), "%s", r == 0 ? "" : why);
	if (r < 0 && err && errlen)
		snprintf(err, errlen, "%s", why);
	return r;
}
