/* prom_json_ref: the jansson-based Prometheus answer parser that src/prom_json.c
 * replaced, kept for the differential tests only (see prom_json_ref.c). */
#ifndef RM_TESTS_PROM_JSON_REF_H
#define RM_TESTS_PROM_JSON_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "rm/prom_json.h"

struct ref_label {
	char *name;
	char *value;
};

struct ref_sample {
	struct ref_label *labels;
	size_t n_labels;
	double time;
	double value;
};

struct ref_response {
	bool success;
	char *error_type;
	char *error;
	enum prom_result_type type;
	struct ref_sample *samples;
	size_t n_samples;
};

/* As prom_json_parse before the change, on jansson's json_loadb with
 * JSON_REJECT_DUPLICATES. */
int ref_json_parse(const char *data, size_t len, struct ref_response *ret, char *err,
                   size_t errlen);
void ref_response_free(struct ref_response *r);

/* 0 when ref (returned k_ref) and got (returned k_got) agree: the same
 * return value and, on success, the same answer (labels in order, times and
 * values bit for bit, NaN as NaN). Otherwise a non-zero value and what
 * differs in why. */
int prom_json_compare(int k_ref, const struct ref_response *ref, int k_got,
                      const struct prom_response *got, char *why, size_t whylen);

#endif
