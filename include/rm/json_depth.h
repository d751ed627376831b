/* json_depth: how deeply a JSON text nests, found by one cheap pass that
 * only counts brackets outside strings. Callers run it before a recursive
 * parser (jansson) so that input can never drive the recursion deeper than
 * the document needs, whatever stack the calling thread has. Pure. */
#ifndef RM_JSON_DEPTH_H
#define RM_JSON_DEPTH_H

#include <stdbool.h>
#include <stddef.h>

/* True when text nests at most `limit` arrays or objects deep (a top-level
 * object is 1, a scalar 0). Stops at the first bracket beyond the limit.
 * Malformed text is not judged here: the parser that follows reports it. */
bool json_depth_within(const char *text, size_t len, size_t limit);

#endif
