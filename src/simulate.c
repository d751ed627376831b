/* simulate: trace parsing, offline replay through the engine, and reports. */
#include "rm/simulate.h"
#include "simulate_internal.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rm/units.h"
#include "rm/util.h"

/* Containers are a day old at t=0 unless the trace says otherwise. */
#define DEFAULT_UPTIME 86400.0
/* Longest line and most fields considered. */
#define MAX_LINE   4096
#define MAX_FIELDS 8

void simulate_set_err(char *err, size_t len, const char *name, int line, const char *fmt, ...)
{
	if (!err || len == 0)
		return;
	int n = line > 0 ? snprintf(err, len, "%s:%d: ", name, line)
	                 : snprintf(err, len, "%s: ", name);
	if (n < 0 || (size_t)n >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + n, len - (size_t)n, fmt, ap);
	va_end(ap);
}

void simulate_trace_free(struct simulate_trace *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_services; i++)
		free(t->services[i].name);
	free(t->services);
	free(t->samples);
	free(t->name);
	free(t);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool valid_service_name(const char *s)
{
	if (!*s || strlen(s) > 255)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static size_t service_index(struct simulate_trace *t, const char *name)
{
	for (size_t i = 0; i < t->n_services; i++)
		if (strcmp(t->services[i].name, name) == 0)
			return i;
	t->services = xreallocarray(t->services, t->n_services + 1, sizeof(*t->services));
	t->services[t->n_services] = (struct simulate_service){ .name = xstrdup(name) };
	return t->n_services++;
}

/* Explains why a numeric field failed, NaN and negatives by name. */
static const char *number_problem(const char *s, int r)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (strncasecmp(p, "nan", 3) == 0)
		return "NaN is not a value (leave the field empty for unknown)";
	if (strncasecmp(p, "inf", 3) == 0)
		return "infinity is not a value";
	if (*s == '-' || r == -ERANGE)
		return *s == '-' ? "negative values are not allowed" : "value out of range";
	return "not a number";
}

/* "YYYY-MM-DDTHH:MM:SSZ" or epoch seconds. */
static int parse_start(const char *s, double *ret)
{
	int y, mo, d, h, mi, sec;
	char z;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &z) == 7) {
		if (z != 'Z' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
		    sec > 60 || h < 0 || mi < 0 || sec < 0)
			return -EINVAL;
		*ret = (double)engine_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400.0 +
		       h * 3600.0 + mi * 60.0 + sec;
		return 0;
	}
	double v;
	if (units_parse_double(s, &v) < 0 || v < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* "cpu=1.0 memory=512M" (either may be "none"), for the limits: and host: lines. */
static int parse_pairs(char *s, bool *has_cpu, double *cpu, bool *has_mem, uint64_t *mem, char *why,
                       size_t whylen)
{
	char *save = NULL;
	for (char *tok = strtok_r(s, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(why, whylen, "expected key=value pairs (cpu=..., memory=...)");
			return -EINVAL;
		}
		*eq = '\0';
		const char *k = tok, *v = eq + 1;
		bool none = strcmp(v, "none") == 0;
		if (strcmp(k, "cpu") == 0) {
			double c = 0;
			int r = none ? 0 : units_parse_cpu(v, &c);
			if (r < 0 || (!none && c <= 0)) {
				snprintf(why, whylen, "cpu '%s': %s", v,
				         r < 0 ? number_problem(v, r)
				               : "must be above 0 (write none for no limit)");
				return -EINVAL;
			}
			*has_cpu = true;
			*cpu = c;
		} else if (strcmp(k, "memory") == 0 || strcmp(k, "mem") == 0) {
			uint64_t m = 0;
			int r = none ? 0 : units_parse_memory(v, &m);
			if (r < 0 || (!none && m == 0)) {
				snprintf(why, whylen, "memory '%s': %s", v,
				         r < 0 ? number_problem(v, r)
				               : "must be above 0 (write none for no limit)");
				return -EINVAL;
			}
			*has_mem = true;
			*mem = m;
		} else {
			snprintf(why, whylen, "unknown key '%s' (expected cpu or memory)", k);
			return -EINVAL;
		}
	}
	return 0;
}

struct parser {
	struct simulate_trace *t;
	const char *name;
	int line;
	bool in_limits;
	bool seen_data;
	double last_time;
	double *last_service_time; /* per service, -1 when none yet */
	size_t n_times;
	char *err;
	size_t errlen;
};

static int parse_comment(struct parser *p, char *body)
{
	struct simulate_trace *t = p->t;
	char *s = trim(body);
	char why[160];
	if (p->in_limits && isspace((unsigned char)body[0]) && isspace((unsigned char)body[1])) {
		/* "#   web: cpu=1 memory=512M" */
		char *colon = strchr(s, ':');
		if (!*s)
			return 0;
		if (!colon) {
			simulate_set_err(
			        p->err, p->errlen, p->name, p->line,
			        "expected '#   service: cpu=... memory=...' under limits:");
			return -EINVAL;
		}
		*colon = '\0';
		char *svc = trim(s);
		if (!valid_service_name(svc)) {
			simulate_set_err(p->err, p->errlen, p->name, p->line,
			                 "invalid service name '%s' in limits:", svc);
			return -EINVAL;
		}
		size_t i = service_index(t, svc);
		struct simulate_service *sv = &t->services[i];
		if (sv->limits_line) {
			simulate_set_err(p->err, p->errlen, p->name, p->line,
			                 "service '%s' already has limits (line %d)", svc,
			                 sv->limits_line);
			return -EINVAL;
		}
		sv->limits_line = p->line;
		if (parse_pairs(colon + 1, &sv->has_cpu_limit, &sv->cpu_limit, &sv->has_mem_limit,
		                &sv->mem_limit, why, sizeof(why)) < 0) {
			simulate_set_err(p->err, p->errlen, p->name, p->line, "limits of '%s': %s",
			                 svc, why);
			return -EINVAL;
		}
		return 0;
	}
	p->in_limits = false;
	if (strncmp(s, "limits:", 7) == 0) {
		if (*trim(s + 7)) {
			simulate_set_err(
			        p->err, p->errlen, p->name, p->line,
			        "limits: takes one indented '#   service: cpu=... memory=...' line "
			        "per service below it");
			return -EINVAL;
		}
		p->in_limits = true;
	} else if (strncmp(s, "start:", 6) == 0) {
		if (parse_start(trim(s + 6), &t->start) < 0) {
			simulate_set_err(p->err, p->errlen, p->name, p->line,
			                 "start: expects epoch seconds or YYYY-MM-DDTHH:MM:SSZ");
			return -EINVAL;
		}
	} else if (strncmp(s, "uptime:", 7) == 0) {
		if (units_parse_duration(trim(s + 7), &t->uptime) < 0) {
			simulate_set_err(p->err, p->errlen, p->name, p->line,
			                 "uptime: expects a duration (3600, 1h, 1d)");
			return -EINVAL;
		}
	} else if (strncmp(s, "host:", 5) == 0) {
		bool hc = false, hm = false;
		if (parse_pairs(s + 5, &hc, &t->host_cpus, &hm, &t->host_mem, why, sizeof(why)) <
		    0) {
			simulate_set_err(p->err, p->errlen, p->name, p->line, "host: %s", why);
			return -EINVAL;
		}
	}
	return 0;
}

/* Parses a non-negative value field; empty means unknown. */
static int field_value(struct parser *p, const char *col, const char *s, bool is_mem, bool *known,
                       double *d, uint64_t *m)
{
	int r;
	if (!*s) {
		*known = false;
		return 0;
	}
	if (is_mem)
		r = units_parse_memory(s, m);
	else if (strcmp(col, "cpu_used") == 0 || strcmp(col, "cpu_demand") == 0)
		r = units_parse_cpu(s, d);
	else
		r = units_parse_double(s, d);
	if (r == 0 && !is_mem && (*d < 0 || !isfinite(*d)))
		r = -ERANGE;
	if (r < 0 || (*s == '-')) {
		simulate_set_err(p->err, p->errlen, p->name, p->line, "%s '%s': %s", col, s,
		                 number_problem(s, r));
		return -EINVAL;
	}
	*known = true;
	return 0;
}

static int parse_row(struct parser *p, char *line)
{
	struct simulate_trace *t = p->t;
	char *f[MAX_FIELDS];
	int n = 0;
	for (char *s = line;; n++) {
		char *comma = strchr(s, ',');
		if (n == MAX_FIELDS) {
			n++;
			break;
		}
		f[n] = s;
		if (!comma) {
			n++;
			break;
		}
		*comma = '\0';
		s = comma + 1;
	}
	if (n < 4 || n > 7) {
		simulate_set_err(
		        p->err, p->errlen, p->name, p->line,
		        "expected 4 to 7 fields (time,service,cpu_used,mem_used[,oom_kills,"
		        "throttled_ratio,cpu_demand]), found %d",
		        n > MAX_FIELDS ? MAX_FIELDS + 1 : n);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++)
		f[i] = trim(f[i]);
	if (!p->seen_data && strcmp(f[0], "time") == 0) {
		static const char *const cols[] = { "time",      "service",   "cpu_used",
			                            "mem_used",  "oom_kills", "throttled_ratio",
			                            "cpu_demand" };
		for (int i = 0; i < n; i++)
			if (strcmp(f[i], cols[i]) != 0) {
				simulate_set_err(p->err, p->errlen, p->name, p->line,
				                 "header column %d is '%s', expected '%s'", i + 1,
				                 f[i], cols[i]);
				return -EINVAL;
			}
		p->seen_data = true;
		return 0;
	}
	p->seen_data = true;

	struct simulate_sample s = { .line = p->line };
	double tm;
	int r = units_parse_double(f[0], &tm);
	if (r < 0 || tm < 0) {
		simulate_set_err(p->err, p->errlen, p->name, p->line, "time '%s': %s", f[0],
		                 r < 0 ? number_problem(f[0], r)
		                       : "negative values are not allowed");
		return -EINVAL;
	}
	if (tm < p->last_time) {
		simulate_set_err(p->err, p->errlen, p->name, p->line,
		                 "time %s goes backwards (previous row: %g)", f[0], p->last_time);
		return -EINVAL;
	}
	p->last_time = s.time = tm;
	if (!valid_service_name(f[1])) {
		simulate_set_err(p->err, p->errlen, p->name, p->line,
		                 "invalid service name '%s' (letters, digits, '_', '.', '-')",
		                 f[1]);
		return -EINVAL;
	}
	s.service = service_index(t, f[1]);
	/* Services may also come from the limits: header: grow to cover them all. */
	if (p->n_times < t->n_services) {
		p->last_service_time =
		        xreallocarray(p->last_service_time, t->n_services, sizeof(double));
		while (p->n_times < t->n_services)
			p->last_service_time[p->n_times++] = -1;
	}
	struct simulate_service *sv = &t->services[s.service];
	if (p->last_service_time[s.service] == tm) {
		simulate_set_err(p->err, p->errlen, p->name, p->line,
		                 "service '%s' has two rows at time %s", f[1], f[0]);
		return -EINVAL;
	}
	p->last_service_time[s.service] = tm;
	double unused;
	uint64_t mem_unused;
	if (field_value(p, "cpu_used", f[2], false, &s.cpu_known, &s.cpu_used, &mem_unused) < 0 ||
	    field_value(p, "mem_used", f[3], true, &s.mem_known, &unused, &s.mem_used) < 0)
		return -EINVAL;
	s.oom_known = true; /* no column: the trace has no OOM kills */
	if (n >= 5 && *f[4]) {
		unsigned k;
		if (units_parse_uint(f[4], &k) < 0) {
			simulate_set_err(p->err, p->errlen, p->name, p->line,
			                 "oom_kills '%s': expected a whole number of kills", f[4]);
			return -EINVAL;
		}
		s.oom_kills = k;
	} else if (n >= 5) {
		s.oom_known = false;
	}
	if (n >= 6 && field_value(p, "throttled_ratio", f[5], false, &s.throttled_known,
	                          &s.throttled, &mem_unused) < 0)
		return -EINVAL;
	if (n == 7) {
		if (field_value(p, "cpu_demand", f[6], false, &s.demand_known, &s.cpu_demand,
		                &mem_unused) < 0)
			return -EINVAL;
		/* A demand column makes the replay closed-loop (docs/engine.md). */
		if (s.demand_known)
			t->closed_loop = true;
	}
	if (s.throttled_known && s.throttled > 1) {
		simulate_set_err(p->err, p->errlen, p->name, p->line,
		                 "throttled_ratio '%s': a share of periods, between 0 and 1", f[5]);
		return -EINVAL;
	}
	if (!sv->first_line)
		sv->first_line = p->line;
	sv->n_samples++;
	/* Grow by powers of two: reallocate only when n_samples is one. */
	if ((t->n_samples & (t->n_samples - 1)) == 0)
		t->samples = xreallocarray(t->samples, t->n_samples ? t->n_samples * 2 : 1,
		                           sizeof(*t->samples));
	t->samples[t->n_samples++] = s;
	return 0;
}

int simulate_trace_parse(const char *data, size_t len, const char *name,
                         struct simulate_trace **ret_trace, char *err, size_t errlen)
{
	struct simulate_trace *t = xcalloc(1, sizeof(*t));
	struct parser p = {
		.t = t,
		.name = name ? name : "trace",
		.err = err,
		.errlen = errlen,
	};
	char buf[MAX_LINE + 1];
	int r = 0;
	size_t pos = 0;
	t->name = xstrdup(p.name);
	t->uptime = DEFAULT_UPTIME;
	if (memchr(data, '\0', len)) {
		simulate_set_err(err, errlen, p.name, 0, "holds NUL bytes: not a CSV text file");
		r = -EINVAL;
		goto out;
	}
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
		p.line++;
		if (n > MAX_LINE) {
			simulate_set_err(err, errlen, p.name, p.line, "line longer than %d bytes",
			                 MAX_LINE);
			r = -EINVAL;
			goto out;
		}
		memcpy(buf, data + pos, n);
		buf[n] = '\0';
		pos += n + 1;
		if (n > 0 && buf[n - 1] == '\r')
			buf[n - 1] = '\0';
		if (buf[0] == '#') {
			r = parse_comment(&p, buf + 1);
		} else {
			p.in_limits = false;
			if (*trim(buf))
				r = parse_row(&p, buf);
		}
		if (r < 0)
			goto out;
	}
	if (t->n_samples == 0) {
		simulate_set_err(err, errlen, p.name, 0,
		                 "no samples (expected time,service,cpu_used,mem_used rows)");
		r = -EINVAL;
		goto out;
	}
	*ret_trace = t;
	t = NULL;
out:
	free(p.last_service_time);
	simulate_trace_free(t);
	return r;
}

int simulate_trace_load(const char *path, struct simulate_trace **ret_trace, char *err,
                        size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	int r = file_read_all(path, SIMULATE_MAX_TRACE, &data, &len);
	if (r < 0) {
		simulate_set_err(err, errlen, path, 0, "cannot read the trace: %s",
		                 r == -EFBIG ? "larger than 64 MiB" : strerror(-r));
		return r;
	}
	r = simulate_trace_parse(data, len, path, ret_trace, err, errlen);
	free(data);
	return r;
}
