/* fuzz_trace: the simulate trace parser on arbitrary bytes; traces that parse
 * are also replayed through the engine and reported, under the defaults. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rm/config.h"
#include "rm/simulate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rm_config *cfg;
	struct simulate_trace *t = NULL;
	struct simulate_result *res = NULL;
	char err[256];
	if (!cfg)
		cfg = config_new_default();
	if (simulate_trace_parse((const char *)data, size, "fuzz", &t, err, sizeof(err)) < 0)
		return 0;
	/* Keep each input fast: replaying is linear, but reports sort slack. */
	if (t->n_samples <= 20000 && simulate_run(cfg, t, true, &res, err, sizeof(err)) == 0) {
		FILE *f = fopen("/dev/null", "w");
		if (f) {
			simulate_write_table(res, f);
			simulate_write_json(res, f);
			fclose(f);
		}
		simulate_result_free(res);
	}
	simulate_trace_free(t);
	return 0;
}
