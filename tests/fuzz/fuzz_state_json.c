/* fuzz_state_json: the state file parser on arbitrary bytes; a parsed state
 * must serialize and parse back to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rm/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct rm_state *s = NULL;
	if (state_json_parse((const char *)data, size, &s, err, sizeof(err)) != 0)
		return 0;
	char *a = state_json_serialize(s);
	struct rm_state *t = NULL;
	if (state_json_parse(a, strlen(a), &t, err, sizeof(err)) != 0)
		abort();
	char *b = state_json_serialize(t);
	if (strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
	state_free(s);
	state_free(t);
	return 0;
}
