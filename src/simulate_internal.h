/* simulate_internal: what the trace parser (simulate.c) and the replay
 * (simulate_run.c) share. Not a public interface. */
#ifndef RM_SIMULATE_INTERNAL_H
#define RM_SIMULATE_INTERNAL_H

#include <stddef.h>

#include "rm/util.h"

/* "name:line: message" into err (line 0: "name: message"); err may be NULL. */
void simulate_set_err(char *err, size_t len, const char *name, int line, const char *fmt, ...)
        RM_PRINTF(5, 6);

#endif
