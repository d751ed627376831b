/* prom_json_ref: the Prometheus answer parser as it was before the
 * one-pass scanner (src/prom_json.c), on a jansson tree. Kept only in the
 * tests, as the reference of a differential test: both must accept the same
 * bytes and give the same samples. Not built into the program. */
#include "prom_json_ref.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/util.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) RM_PRINTF(3, 4);
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static void sample_free(struct ref_sample *s)
{
	for (size_t i = 0; i < s->n_labels; i++) {
		free(s->labels[i].name);
		free(s->labels[i].value);
	}
	free(s->labels);
}

void ref_response_free(struct ref_response *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_samples; i++)
		sample_free(&r->samples[i]);
	free(r->samples);
	free(r->error_type);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

/* Prometheus writes sample values as Go's FormatFloat(v, 'f', -1) or the
 * special strings; accept plain decimal (with an exponent, for other
 * implementations) and those, nothing looser (no hex, no "infinity"). */
static int ref_parse_value(const char *s, double *ret)
{
	if (strcmp(s, "NaN") == 0) {
		*ret = NAN;
		return 0;
	}
	if (strcmp(s, "+Inf") == 0 || strcmp(s, "Inf") == 0) {
		*ret = INFINITY;
		return 0;
	}
	if (strcmp(s, "-Inf") == 0) {
		*ret = -INFINITY;
		return 0;
	}
	if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || !isfinite(v))
		return -EINVAL;
	*ret = v;
	return 0;
}

/* [time, "value"] */
static int parse_pair(json_t *pair, struct ref_sample *s, size_t idx, char *err, size_t errlen)
{
	if (!json_is_array(pair) || json_array_size(pair) != 2)
		return fail(err, errlen, "result %zu: value is not a [time, \"value\"] pair", idx);
	json_t *t = json_array_get(pair, 0), *v = json_array_get(pair, 1);
	if (!json_is_number(t))
		return fail(err, errlen, "result %zu: sample time is not a number", idx);
	if (!json_is_string(v))
		return fail(err, errlen, "result %zu: sample value is not a string", idx);
	s->time = json_number_value(t);
	if (ref_parse_value(json_string_value(v), &s->value) < 0)
		return fail(err, errlen, "result %zu: sample value \"%.40s\" is not a number", idx,
		            json_string_value(v));
	return 0;
}

static int parse_labels(json_t *metric, struct ref_sample *s, size_t idx, char *err, size_t errlen)
{
	if (!json_is_object(metric))
		return fail(err, errlen, "result %zu: \"metric\" is not an object", idx);
	s->labels = xcalloc(json_object_size(metric) + 1, sizeof(*s->labels));
	const char *k;
	json_t *v;
	json_object_foreach(metric, k, v)
	{
		if (!json_is_string(v))
			return fail(err, errlen, "result %zu: label %.60s is not a string", idx, k);
		s->labels[s->n_labels].name = xstrdup(k);
		s->labels[s->n_labels].value = xstrdup(json_string_value(v));
		s->n_labels++;
	}
	return 0;
}

static int parse_vector(json_t *result, struct ref_response *r, char *err, size_t errlen)
{
	if (!json_is_array(result))
		return fail(err, errlen, "data.result is not an array");
	size_t n = json_array_size(result);
	r->samples = xcalloc(n ? n : 1, sizeof(*r->samples));
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(result, i);
		struct ref_sample *s = &r->samples[i];
		r->n_samples = i + 1; /* so that a failure frees what was filled */
		if (!json_is_object(e))
			return fail(err, errlen, "result %zu is not an object", i);
		int k = parse_labels(json_object_get(e, "metric"), s, i, err, errlen);
		if (k < 0)
			return k;
		k = parse_pair(json_object_get(e, "value"), s, i, err, errlen);
		if (k < 0)
			return k;
	}
	return 0;
}

static int parse_data(json_t *data, struct ref_response *r, char *err, size_t errlen)
{
	if (!json_is_object(data))
		return fail(err, errlen, "\"data\" is missing or not an object");
	const char *type = json_string_value(json_object_get(data, "resultType"));
	if (!type)
		return fail(err, errlen, "data.resultType is missing or not a string");
	int t = prom_result_type_from_string(type);
	if (t <= PROM_RESULT_NONE)
		return fail(err, errlen, "data.resultType \"%.20s\" is not vector or scalar", type);
	r->type = t;
	json_t *result = json_object_get(data, "result");
	if (t == PROM_RESULT_VECTOR)
		return parse_vector(result, r, err, errlen);
	r->samples = xcalloc(1, sizeof(*r->samples));
	r->n_samples = 1;
	return parse_pair(result, &r->samples[0], 0, err, errlen);
}

int ref_json_parse(const char *data, size_t len, struct ref_response *ret, char *err, size_t errlen)
{
	struct ref_response r = { 0 };
	json_error_t je;
	int k = 0;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		k = fail(err, errlen, "invalid JSON at line %d column %d: %s", je.line, je.column,
		         je.text);
		goto out;
	}
	if (!json_is_object(root)) {
		k = fail(err, errlen, "the answer is not a JSON object");
		goto out;
	}
	const char *status = json_string_value(json_object_get(root, "status"));
	if (!status || (strcmp(status, "success") != 0 && strcmp(status, "error") != 0)) {
		k = fail(err, errlen, "\"status\" is missing or neither success nor error");
		goto out;
	}
	if (strcmp(status, "error") == 0) {
		const char *et = json_string_value(json_object_get(root, "errorType"));
		const char *e = json_string_value(json_object_get(root, "error"));
		r.error_type = xstrdup(et ? et : "unknown");
		r.error = xstrdup(e ? e : "(no error text)");
		goto out;
	}
	r.success = true;
	k = parse_data(json_object_get(root, "data"), &r, err, errlen);
out:
	json_decref(root);
	if (k < 0)
		ref_response_free(&r);
	else
		*ret = r;
	return k;
}

static bool same_double(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static bool same_str(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

int prom_json_compare(int k_ref, const struct ref_response *ref, int k_got,
                      const struct prom_response *got, char *why, size_t whylen)
{
	if (k_ref != k_got) {
		snprintf(why, whylen, "returned %d, the reference %d", k_got, k_ref);
		return 1;
	}
	if (k_ref < 0)
		return 0;
	if (ref->success != got->success || ref->type != got->type ||
	    !same_str(ref->error_type, got->error_type) || !same_str(ref->error, got->error)) {
		snprintf(why, whylen, "status, type or error differ");
		return 1;
	}
	if (ref->n_samples != got->n_samples) {
		snprintf(why, whylen, "%zu samples, the reference %zu", got->n_samples,
		         ref->n_samples);
		return 1;
	}
	for (size_t i = 0; i < ref->n_samples; i++) {
		const struct ref_sample *a = &ref->samples[i];
		const struct prom_sample *b = &got->samples[i];
		if (!same_double(a->time, b->time) || !same_double(a->value, b->value)) {
			snprintf(why, whylen,
			         "sample %zu: time %.17g value %.17g, the reference %.17g %.17g", i,
			         b->time, b->value, a->time, a->value);
			return 1;
		}
		if (a->n_labels != b->n_labels) {
			snprintf(why, whylen, "sample %zu: %zu labels, the reference %zu", i,
			         b->n_labels, a->n_labels);
			return 1;
		}
		for (size_t j = 0; j < a->n_labels; j++) {
			if (!same_str(a->labels[j].name, b->labels[j].name) ||
			    !same_str(a->labels[j].value, b->labels[j].value)) {
				snprintf(why, whylen,
				         "sample %zu label %zu: %s=%s, the reference %s=%s", i, j,
				         b->labels[j].name, b->labels[j].value, a->labels[j].name,
				         a->labels[j].value);
				return 1;
			}
			if (prom_sample_label(b, a->labels[j].name) == NULL) {
				snprintf(why, whylen, "sample %zu: label %s not found", i,
				         a->labels[j].name);
				return 1;
			}
		}
	}
	return 0;
}
