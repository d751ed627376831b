/* overrides: Compose override files with deploy.resources.limits. */
#include "rm/overrides.h"

#include <string.h>

#include "rm/units.h"

void overrides_write(FILE *out, const char *header, const struct override *o, size_t n)
{
	for (const char *p = header; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		fprintf(out, "# %.*s\n", (int)len, p);
		p += len + (nl ? 1 : 0);
	}
	if (n == 0) {
		fprintf(out, "services: {}\n");
		return;
	}
	fprintf(out, "services:\n");
	for (size_t i = 0; i < n; i++) {
		if (o[i].cpu <= 0 && o[i].memory == 0)
			continue;
		fprintf(out, "  %s:\n    deploy:\n      resources:\n        limits:\n",
		        o[i].service);
		if (o[i].cpu > 0)
			fprintf(out, "          cpus: \"%.2f\"\n", o[i].cpu);
		if (o[i].memory > 0)
			fprintf(out, "          memory: %lluM\n",
			        (unsigned long long)((o[i].memory + UNITS_MIB - 1) / UNITS_MIB));
	}
}
