/* prom_matrix: the range-query answer's JSON (pure: text in, structs out). */
#include "rm/prom_matrix.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/json_depth.h"
#include "rm/prom_json.h"
#include "rm/util.h"

/* The answer nests objects and arrays five deep; anything past this is not
 * an answer, and is refused before jansson recurses into it. */
#define MAX_DEPTH 8

static void set_err(char *err, size_t len, const char *what, size_t idx)
{
	if (err && len)
		snprintf(err, len, "series %zu: %s", idx, what);
}

static void series_free(struct prom_series *s)
{
	for (size_t i = 0; i < s->n_labels; i++) {
		free(s->names[i]);
		free(s->values[i]);
	}
	free(s->names);
	free(s->values);
	free(s->t);
	free(s->v);
}

/* One {"metric": {...}, "values": [[t, "v"], ...]} into *s. */
static int read_series(json_t *o, struct prom_series *s, size_t idx, char *err, size_t errlen)
{
	json_t *metric = json_object_get(o, "metric"), *values = json_object_get(o, "values");
	const char *k;
	json_t *v;
	size_t i;
	if (!json_is_object(o) || !json_is_object(metric) || !json_is_array(values)) {
		set_err(err, errlen, "expected {\"metric\": {...}, \"values\": [...]}", idx);
		return -EBADMSG;
	}
	s->names = xcalloc(json_object_size(metric) + 1, sizeof(char *));
	s->values = xcalloc(json_object_size(metric) + 1, sizeof(char *));
	json_object_foreach(metric, k, v)
	{
		if (!json_is_string(v)) {
			set_err(err, errlen, "a label value is not a string", idx);
			return -EBADMSG;
		}
		s->names[s->n_labels] = xstrdup(k);
		s->values[s->n_labels++] = xstrdup(json_string_value(v));
	}
	size_t n = json_array_size(values);
	s->t = xcalloc(n + 1, sizeof(double));
	s->v = xcalloc(n + 1, sizeof(double));
	json_array_foreach(values, i, v)
	{
		json_t *t = json_array_get(v, 0), *val = json_array_get(v, 1);
		if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_number(t) ||
		    !json_is_string(val) || !isfinite(json_number_value(t)) ||
		    prom_json_parse_value(json_string_value(val), &s->v[s->n]) < 0) {
			set_err(err, errlen, "a sample is not [time, \"value\"]", idx);
			return -EBADMSG;
		}
		s->t[s->n] = json_number_value(t);
		if (s->n && s->t[s->n] <= s->t[s->n - 1]) {
			set_err(err, errlen, "sample times go back", idx);
			return -EBADMSG;
		}
		s->n++;
	}
	return 0;
}

static char *dup_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

int prom_matrix_parse(const char *data, size_t len, struct prom_matrix *ret, char *err,
                      size_t errlen)
{
	struct prom_matrix m = { 0 };
	json_error_t jerr;
	json_t *root = NULL;
	int r = -EBADMSG;
	if (!json_depth_within(data, len, MAX_DEPTH)) {
		if (err)
			snprintf(err, errlen, "nested deeper than %d levels", MAX_DEPTH);
		return -EBADMSG;
	}
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (err)
			snprintf(err, errlen, "line %d column %d: %s", jerr.line, jerr.column,
			         jerr.text);
		return -EBADMSG;
	}
	const char *status = json_string_value(json_object_get(root, "status"));
	if (status && strcmp(status, "error") == 0) {
		m.error_type = dup_str(root, "errorType");
		m.error = dup_str(root, "error");
		if (!m.error_type)
			m.error_type = xstrdup("unknown");
		if (!m.error)
			m.error = xstrdup("(no message)");
		r = 0;
		goto out;
	}
	json_t *d = json_object_get(root, "data");
	const char *type = json_string_value(json_object_get(d, "resultType"));
	json_t *result = json_object_get(d, "result");
	if (!status || strcmp(status, "success") != 0 || !type || strcmp(type, "matrix") != 0 ||
	    !json_is_array(result)) {
		if (err)
			snprintf(err, errlen, "not a matrix answer (status %s, resultType %s)",
			         status ? status : "missing", type ? type : "missing");
		goto out;
	}
	m.success = true;
	m.series = xcalloc(json_array_size(result) + 1, sizeof(*m.series));
	size_t i;
	json_t *o;
	json_array_foreach(result, i, o)
	{
		r = read_series(o, &m.series[m.n_series], i, err, errlen);
		m.n_series++;
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(root);
	if (r < 0)
		prom_matrix_free(&m);
	else
		*ret = m;
	return r;
}

void prom_matrix_free(struct prom_matrix *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_series; i++)
		series_free(&m->series[i]);
	free(m->series);
	free(m->error_type);
	free(m->error);
	memset(m, 0, sizeof(*m));
}

const char *prom_series_label(const struct prom_series *s, const char *name)
{
	for (size_t i = 0; i < s->n_labels; i++)
		if (strcmp(s->names[i], name) == 0)
			return s->values[i];
	return NULL;
}
