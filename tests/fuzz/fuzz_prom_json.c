/* fuzz_prom_json: the Prometheus instant-query answer parser on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "rm/prom_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prom_response r;
	char err[160];
	if (prom_json_parse((const char *)data, size, &r, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < r.n_samples; i++)
			(void)prom_sample_label(&r.samples[i], "name");
		prom_response_free(&r);
	}
	return 0;
}
