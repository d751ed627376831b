/* fuzz_prom_json_diff: the one-pass Prometheus answer parser against the
 * jansson-based one it replaced (tests/fuzz/prom_json_ref.c), on arbitrary
 * bytes: the same return value and, on success, the same samples. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom_json_ref.h"
#include "rm/prom_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ref_response ref = { 0 };
	struct prom_response got = { 0 };
	char err[160] = "", why[300];
	int k_got = prom_json_parse((const char *)data, size, &got, err, sizeof(err));
	/* JSON has no raw NUL byte anywhere; jansson drops one that follows a
	 * number (its lexer's unget), so it is no oracle there: ours must
	 * refuse every such input. */
	if (memchr(data, 0, size)) {
		if (k_got == 0) {
			fprintf(stderr, "fuzz_prom_json_diff: accepted an input with a NUL byte\n");
			abort();
		}
		return 0;
	}
	int k_ref = ref_json_parse((const char *)data, size, &ref, NULL, 0);
	if (prom_json_compare(k_ref, &ref, k_got, &got, why, sizeof(why)) != 0) {
		fprintf(stderr, "fuzz_prom_json_diff: %s (%s)\n", why, err);
		abort();
	}
	if (k_got < 0 && !err[0]) {
		fprintf(stderr, "fuzz_prom_json_diff: -EBADMSG without a message\n");
		abort();
	}
	if (k_ref == 0)
		ref_response_free(&ref);
	if (k_got == 0)
		prom_response_free(&got);
	return 0;
}
