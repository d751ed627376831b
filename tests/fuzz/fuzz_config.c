/* fuzz_config: the config loader on arbitrary bytes, with a fixed environment. */
#include <stdint.h>
#include <stdlib.h>

#include "rm/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char env0[] = "CHECK_INTERVAL=60";
	static char *const envp[] = { env0, NULL };
	struct config_report rep = { 0 };
	struct rm_config *cfg = NULL;
	if (config_load_data((const char *)data, size, "fuzz", envp, &cfg, &rep) == 0) {
		FILE *f = fopen("/dev/null", "w");
		if (f) {
			config_describe(cfg, f);
			fclose(f);
		}
		config_free(cfg);
	}
	config_report_free(&rep);
	return 0;
}
