/* fuzz_prom_matrix: the Prometheus range-query answer parser on arbitrary bytes. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "rm/prom_matrix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prom_matrix m;
	char err[160];
	if (prom_matrix_parse((const char *)data, size, &m, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < m.n_series; i++) {
			(void)prom_series_label(&m.series[i], "name");
			/* Times are finite and increasing: the parser promises it. */
			for (size_t k = 1; k < m.series[i].n; k++)
				if (!(m.series[i].t[k] > m.series[i].t[k - 1]))
					abort();
		}
		prom_matrix_free(&m);
	}
	return 0;
}
