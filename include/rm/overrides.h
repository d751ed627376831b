/* overrides: Compose override files with limits, as `export-overrides`
 * (the limits applied) and `recommend --format compose` (the limits
 * recommended) write them. */
#ifndef RM_OVERRIDES_H
#define RM_OVERRIDES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct override {
	const char *service; /* borrowed */
	double cpu;          /* cores per container, 0 = leave unset */
	uint64_t memory;     /* bytes per container, 0 = leave unset */
};

/* Writes the header comment lines (each prefixed with "# "; may be NULL),
 * then a "services:" map with deploy.resources.limits for each entry, or
 * "services: {}" when n is 0. Memory is written in whole MiB, rounded up. */
void overrides_write(FILE *out, const char *header, const struct override *o, size_t n);

#endif
