/* prom_json: the Prometheus HTTP API's instant-query answer (JSON) as plain C
 * structs. Pure: bytes in, structs out, no I/O, no logging; fuzzed.
 *
 * Accepted shapes (https://prometheus.io/docs/prometheus/latest/querying/api/):
 *   {"status":"success","data":{"resultType":"vector","result":[
 *       {"metric":{"name":"web-1",...},"value":[1700000000.123,"0.25"]}, ...]}}
 *   {"status":"success","data":{"resultType":"scalar","result":[1700000000,"1"]}}
 *   {"status":"error","errorType":"bad_data","error":"parse error ..."}
 * Sample values are Prometheus' strings: decimal numbers, "NaN", "+Inf" and
 * "-Inf" (kept as such in the double, never mapped to 0). */
#ifndef RM_PROM_JSON_H
#define RM_PROM_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum prom_result_type {
	PROM_RESULT_NONE, /* an error answer carries no data */
	PROM_RESULT_VECTOR,
	PROM_RESULT_SCALAR,
	_PROM_RESULT_MAX,
};
/* Name table: "none", "vector", "scalar". from_string returns the value or
 * -EINVAL ("matrix" and "string" are not supported: instant queries only). */
const char *prom_result_type_to_string(enum prom_result_type t);
int prom_result_type_from_string(const char *s);

struct prom_label {
	const char *name;  /* owned by the response */
	const char *value; /* owned by the response */
};

struct prom_sample {
	const struct prom_label *labels; /* owned by the response, n_labels entries;
	                                  * none for a scalar */
	size_t n_labels;
	double time;  /* evaluation time, seconds since the epoch */
	double value; /* may be NaN or +-Inf */
};

struct prom_response {
	bool success;     /* "status":"success" */
	char *error_type; /* owned, NULL on success ("bad_data", "timeout", ...) */
	char *error;      /* owned, NULL on success */
	enum prom_result_type type;
	struct prom_sample *samples; /* owned; a scalar gives exactly one */
	size_t n_samples;
	/* Private to prom_json: where the labels and their texts are stored. */
	struct prom_label *label_store;
	char *text_store;
};

/* Parses len bytes of data (need not be NUL-terminated) into *ret.
 * Returns 0 with *ret filled (free with prom_response_free) for a success or
 * an error answer; or -EBADMSG for malformed, truncated or unexpected JSON,
 * with the position and reason in err (may be NULL), *ret untouched. */
int prom_json_parse(const char *data, size_t len, struct prom_response *ret, char *err,
                    size_t errlen);
/* Frees what *r owns and zeroes it; accepts NULL. */
void prom_response_free(struct prom_response *r);

/* A sample value as Prometheus writes it: a decimal number (an exponent
 * allowed), "NaN", "+Inf", "Inf" or "-Inf"; nothing looser. Returns 0 and
 * *ret, or -EINVAL. */
int prom_json_parse_value(const char *s, double *ret);

/* The value of label name on s, or NULL when s has no such label. Borrowed
 * from s. */
const char *prom_sample_label(const struct prom_sample *s, const char *name);

#endif
