/* prom_matrix: the Prometheus HTTP API's range-query answer (resultType
 * "matrix") as plain C structs. Pure: bytes in, structs out, no I/O, no
 * logging; fuzzed.
 *
 *   {"status":"success","data":{"resultType":"matrix","result":[
 *       {"metric":{"name":"web-1",...},"values":[[1700000000,"0.25"],...]}, ...]}}
 *   {"status":"error","errorType":"bad_data","error":"exceeded maximum resolution ..."}
 *
 * Values are Prometheus' strings: decimal numbers, "NaN", "+Inf", "-Inf"
 * (kept as such, never mapped to 0). Nesting deeper than the format has is
 * refused before the JSON parser sees it. */
#ifndef RM_PROM_MATRIX_H
#define RM_PROM_MATRIX_H

#include <stdbool.h>
#include <stddef.h>

struct prom_series {
	char **names;  /* owned: label names, n_labels of them */
	char **values; /* owned: their values */
	size_t n_labels;
	double *t; /* owned: sample times, seconds since the epoch, increasing */
	double *v; /* owned: sample values (may be NaN or +-Inf) */
	size_t n;
};

struct prom_matrix {
	bool success;               /* "status":"success" */
	char *error_type;           /* owned, NULL on success */
	char *error;                /* owned, NULL on success */
	struct prom_series *series; /* owned */
	size_t n_series;
};

/* Parses len bytes (need not be NUL-terminated) into *ret. Returns 0 with
 * *ret filled (free with prom_matrix_free) for a matrix or an error answer;
 * -EBADMSG for malformed JSON, another result type, a sample that is not
 * [time, "value"], times that go back, or nesting deeper than 8, with the
 * reason in err (may be NULL), *ret untouched. */
int prom_matrix_parse(const char *data, size_t len, struct prom_matrix *ret, char *err,
                      size_t errlen);
/* Frees what *m owns and zeroes it; accepts NULL. */
void prom_matrix_free(struct prom_matrix *m);

/* The value of label name on s, or NULL. Borrowed from s. */
const char *prom_series_label(const struct prom_series *s, const char *name);

#endif
