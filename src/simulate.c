/* simulate: trace parsing, offline replay through the engine, and reports. */
#include "rm/simulate.h"

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

static void set_err(char *err, size_t len, const char *name, int line, const char *fmt, ...)
        RM_PRINTF(5, 6);
static void set_err(char *err, size_t len, const char *name, int line, const char *fmt, ...)
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
			set_err(p->err, p->errlen, p->name, p->line,
			        "expected '#   service: cpu=... memory=...' under limits:");
			return -EINVAL;
		}
		*colon = '\0';
		char *svc = trim(s);
		if (!valid_service_name(svc)) {
			set_err(p->err, p->errlen, p->name, p->line,
			        "invalid service name '%s' in limits:", svc);
			return -EINVAL;
		}
		size_t i = service_index(t, svc);
		struct simulate_service *sv = &t->services[i];
		if (sv->limits_line) {
			set_err(p->err, p->errlen, p->name, p->line,
			        "service '%s' already has limits (line %d)", svc, sv->limits_line);
			return -EINVAL;
		}
		sv->limits_line = p->line;
		if (parse_pairs(colon + 1, &sv->has_cpu_limit, &sv->cpu_limit, &sv->has_mem_limit,
		                &sv->mem_limit, why, sizeof(why)) < 0) {
			set_err(p->err, p->errlen, p->name, p->line, "limits of '%s': %s", svc,
			        why);
			return -EINVAL;
		}
		return 0;
	}
	p->in_limits = false;
	if (strncmp(s, "limits:", 7) == 0) {
		if (*trim(s + 7)) {
			set_err(p->err, p->errlen, p->name, p->line,
			        "limits: takes one indented '#   service: cpu=... memory=...' line "
			        "per service below it");
			return -EINVAL;
		}
		p->in_limits = true;
	} else if (strncmp(s, "start:", 6) == 0) {
		if (parse_start(trim(s + 6), &t->start) < 0) {
			set_err(p->err, p->errlen, p->name, p->line,
			        "start: expects epoch seconds or YYYY-MM-DDTHH:MM:SSZ");
			return -EINVAL;
		}
	} else if (strncmp(s, "uptime:", 7) == 0) {
		if (units_parse_duration(trim(s + 7), &t->uptime) < 0) {
			set_err(p->err, p->errlen, p->name, p->line,
			        "uptime: expects a duration (3600, 1h, 1d)");
			return -EINVAL;
		}
	} else if (strncmp(s, "host:", 5) == 0) {
		bool hc = false, hm = false;
		if (parse_pairs(s + 5, &hc, &t->host_cpus, &hm, &t->host_mem, why, sizeof(why)) <
		    0) {
			set_err(p->err, p->errlen, p->name, p->line, "host: %s", why);
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
	else if (strcmp(col, "cpu_used") == 0)
		r = units_parse_cpu(s, d);
	else
		r = units_parse_double(s, d);
	if (r == 0 && !is_mem && (*d < 0 || !isfinite(*d)))
		r = -ERANGE;
	if (r < 0 || (*s == '-')) {
		set_err(p->err, p->errlen, p->name, p->line, "%s '%s': %s", col, s,
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
	if (n < 4 || n > 6) {
		set_err(p->err, p->errlen, p->name, p->line,
		        "expected 4 to 6 fields (time,service,cpu_used,mem_used[,oom_kills,"
		        "throttled_ratio]), found %d",
		        n > MAX_FIELDS ? MAX_FIELDS + 1 : n);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++)
		f[i] = trim(f[i]);
	if (!p->seen_data && strcmp(f[0], "time") == 0) {
		static const char *const cols[] = { "time",     "service",   "cpu_used",
			                            "mem_used", "oom_kills", "throttled_ratio" };
		for (int i = 0; i < n; i++)
			if (strcmp(f[i], cols[i]) != 0) {
				set_err(p->err, p->errlen, p->name, p->line,
				        "header column %d is '%s', expected '%s'", i + 1, f[i],
				        cols[i]);
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
		set_err(p->err, p->errlen, p->name, p->line, "time '%s': %s", f[0],
		        r < 0 ? number_problem(f[0], r) : "negative values are not allowed");
		return -EINVAL;
	}
	if (tm < p->last_time) {
		set_err(p->err, p->errlen, p->name, p->line,
		        "time %s goes backwards (previous row: %g)", f[0], p->last_time);
		return -EINVAL;
	}
	p->last_time = s.time = tm;
	if (!valid_service_name(f[1])) {
		set_err(p->err, p->errlen, p->name, p->line,
		        "invalid service name '%s' (letters, digits, '_', '.', '-')", f[1]);
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
		set_err(p->err, p->errlen, p->name, p->line, "service '%s' has two rows at time %s",
		        f[1], f[0]);
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
			set_err(p->err, p->errlen, p->name, p->line,
			        "oom_kills '%s': expected a whole number of kills", f[4]);
			return -EINVAL;
		}
		s.oom_kills = k;
	} else if (n >= 5) {
		s.oom_known = false;
	}
	if (n == 6 && field_value(p, "throttled_ratio", f[5], false, &s.throttled_known,
	                          &s.throttled, &mem_unused) < 0)
		return -EINVAL;
	if (s.throttled_known && s.throttled > 1) {
		set_err(p->err, p->errlen, p->name, p->line,
		        "throttled_ratio '%s': a share of periods, between 0 and 1", f[5]);
		return -EINVAL;
	}
	if (!sv->first_line)
		sv->first_line = p->line;
	sv->n_samples++;
	t->samples = xreallocarray(t->samples, t->n_samples + 1, sizeof(*t->samples));
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
		set_err(err, errlen, p.name, 0, "holds NUL bytes: not a CSV text file");
		r = -EINVAL;
		goto out;
	}
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
		p.line++;
		if (n > MAX_LINE) {
			set_err(err, errlen, p.name, p.line, "line longer than %d bytes", MAX_LINE);
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
		set_err(err, errlen, p.name, 0,
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
		set_err(err, errlen, path, 0, "cannot read the trace: %s",
		        r == -EFBIG ? "larger than 64 MiB" : strerror(-r));
		return r;
	}
	r = simulate_trace_parse(data, len, path, ret_trace, err, errlen);
	free(data);
	return r;
}

/* Per-service replay state. */
struct sim_svc {
	struct engine_policy policy;
	struct engine_state state;
	double cpu_limit; /* 0 = none */
	uint64_t mem_limit;
	double started; /* t of the container's start */
	/* Known memory readings still inside the peak window. */
	double *win_time;
	uint64_t *win_mem;
	size_t win_head, win_n, win_cap;
	double *cpu_slack, *mem_slack;
	size_t n_cpu_slack, n_mem_slack;
};

static void window_push(struct sim_svc *s, double t, uint64_t mem, double window, unsigned keep)
{
	if (s->win_n == s->win_cap) {
		/* Unroll the ring into a bigger array. */
		size_t cap = s->win_cap ? s->win_cap * 2 : 16;
		double *nt = xreallocarray(NULL, cap, sizeof(double));
		uint64_t *nm = xreallocarray(NULL, cap, sizeof(uint64_t));
		for (size_t i = 0; i < s->win_n; i++) {
			nt[i] = s->win_time[(s->win_head + i) % s->win_cap];
			nm[i] = s->win_mem[(s->win_head + i) % s->win_cap];
		}
		free(s->win_time);
		free(s->win_mem);
		s->win_time = nt;
		s->win_mem = nm;
		s->win_head = 0;
		s->win_cap = cap;
	}
	size_t at = (s->win_head + s->win_n) % s->win_cap;
	s->win_time[at] = t;
	s->win_mem[at] = mem;
	s->win_n++;
	while (s->win_n > keep && t - s->win_time[s->win_head] > window) {
		s->win_head = (s->win_head + 1) % s->win_cap;
		s->win_n--;
	}
}

static uint64_t window_peak(const struct sim_svc *s)
{
	uint64_t peak = 0;
	for (size_t i = 0; i < s->win_n; i++) {
		uint64_t m = s->win_mem[(s->win_head + i) % s->win_cap];
		if (m > peak)
			peak = m;
	}
	return peak;
}

static void sim_svc_clear(struct sim_svc *s)
{
	free(s->win_time);
	free(s->win_mem);
	free(s->cpu_slack);
	free(s->mem_slack);
}

/* Sets the initial limits: the trace's limits: line, else the config baseline. */
static int initial_limits(const struct rm_config *cfg, const struct simulate_trace *t, size_t i,
                          struct sim_svc *s, char *err, size_t errlen)
{
	const struct simulate_service *sv = &t->services[i];
	const struct service_baseline *b = config_service_baseline(cfg, sv->name);
	int line = sv->limits_line ? sv->limits_line : sv->first_line;
	if (!sv->limits_line && !strlist_contains(&cfg->services.monitored, sv->name)) {
		set_err(err, errlen, t->name, line,
		        "unknown service '%s': not in services.monitored, and no limits: line for "
		        "it in the trace header",
		        sv->name);
		return -EINVAL;
	}
	if (sv->has_cpu_limit)
		s->cpu_limit = sv->cpu_limit;
	else if (b && b->has_cpu)
		s->cpu_limit = b->cpu;
	else {
		set_err(err, errlen, t->name, line,
		        "service '%s' has no initial cpu limit: add cpu=... (or cpu=none) to its "
		        "limits: line, or give it services.baseline.%s.cpu",
		        sv->name, sv->name);
		return -EINVAL;
	}
	if (sv->has_mem_limit)
		s->mem_limit = sv->mem_limit;
	else if (b && b->has_memory)
		s->mem_limit = b->memory;
	else {
		set_err(err, errlen, t->name, line,
		        "service '%s' has no initial memory limit: add memory=... (or memory=none) "
		        "to its limits: line, or give it services.baseline.%s.memory",
		        sv->name, sv->name);
		return -EINVAL;
	}
	engine_policy_for(cfg, sv->name, &s->policy);
	s->started = -t->uptime;
	return 0;
}

static void push_slack(double **arr, size_t *n, double v)
{
	/* Grow by powers of two: reallocate only when n is one. */
	if ((*n & (*n - 1)) == 0)
		*arr = xreallocarray(*arr, *n ? *n * 2 : 1, sizeof(double));
	(*arr)[(*n)++] = v;
}

/* Records how the limits in force fared against this sample. */
static void measure(struct sim_svc *s, struct simulate_summary *sum,
                    const struct simulate_sample *x)
{
	sum->samples++;
	if (x->cpu_known && s->cpu_limit > 0) {
		sum->cpu_samples++;
		if (x->cpu_used > s->cpu_limit)
			sum->cpu_over++;
		push_slack(&s->cpu_slack, &s->n_cpu_slack,
		           (s->cpu_limit - x->cpu_used) / s->cpu_limit);
	}
	if (x->mem_known && s->mem_limit > 0) {
		sum->mem_samples++;
		if (x->mem_used > s->mem_limit)
			sum->mem_over++;
		push_slack(&s->mem_slack, &s->n_mem_slack,
		           ((double)s->mem_limit - (double)x->mem_used) / (double)s->mem_limit);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void slack_stats(double *v, size_t n, double *mean, double *p95)
{
	if (n == 0) {
		*mean = *p95 = NAN;
		return;
	}
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	qsort(v, n, sizeof(*v), cmp_double);
	size_t rank = (size_t)ceil(0.95 * (double)n);
	*mean = sum / (double)n;
	*p95 = v[rank ? rank - 1 : 0];
}

static struct observation make_obs(const struct simulate_trace *t, const struct sim_svc *s,
                                   const struct simulate_sample *x, uint64_t peak, bool have_peak)
{
	struct observation o = {
		.time = t->start + x->time,
		.n_containers = 1,
		.cpu_used_known = x->cpu_known,
		.cpu_used = x->cpu_used,
		.cpu_limit_known = true,
		.cpu_limit = s->cpu_limit,
		.cpu_throttled_known = x->throttled_known,
		.cpu_throttled = x->throttled,
		.mem_used_known = x->mem_known,
		.mem_used = x->mem_used,
		.mem_peak_known = have_peak,
		.mem_peak = peak,
		.mem_limit_known = true,
		.mem_limit = s->mem_limit,
		.uptime_known = true,
		.uptime = x->time - s->started,
		.oom_known = x->oom_known,
		.oom_kills = x->oom_kills,
	};
	if (!x->cpu_known || !x->mem_known)
		snprintf(o.unknown_reason, sizeof(o.unknown_reason), "empty field in trace line %d",
		         x->line);
	return o;
}

/* Host shortage over the limits in force (unlimited resources count nothing). */
static void host_short(const struct simulate_trace *t, const struct sim_svc *svcs, bool *sc,
                       bool *sm)
{
	double cpu = 0;
	uint64_t mem = 0;
	for (size_t i = 0; i < t->n_services; i++) {
		if (!t->services[i].n_samples)
			continue;
		cpu += svcs[i].cpu_limit;
		mem += svcs[i].mem_limit;
	}
	engine_host_short(t->host_cpus, t->host_mem, cpu, mem, sc, sm);
}

/* Decides for every sample of one time step; events come out in rank order. */
static void run_step(const struct rm_config *cfg, const struct simulate_trace *t,
                     struct sim_svc *svcs, struct simulate_result *res, size_t first, size_t end,
                     struct simulate_event *step, struct engine_rank_item *rank)
{
	bool sc, sm;
	host_short(t, svcs, &sc, &sm);
	size_t n = 0;
	for (size_t k = first; k < end; k++) {
		const struct simulate_sample *x = &t->samples[k];
		struct sim_svc *s = &svcs[x->service];
		struct simulate_summary *sum = &res->summaries[x->service];
		double now = t->start + x->time;
		int32_t day = engine_local_day(now);
		/* The OOM kill restarted the container. */
		if (x->oom_known && x->oom_kills > 0)
			s->started = x->time;
		measure(s, sum, x);
		if (x->mem_known)
			window_push(s, x->time, x->mem_used, cfg->monitoring.trend_window,
			            cfg->thresholds.consecutive_checks);
		struct observation o = make_obs(t, s, x, window_peak(s), s->win_n > 0);
		struct engine_input in = { .cfg = cfg,
			                   .policy = &s->policy,
			                   .obs = &o,
			                   .now = now,
			                   .day = day,
			                   .host_short_cpu = sc,
			                   .host_short_mem = sm };
		struct simulate_event *ev = &step[n];
		ev->time = x->time;
		ev->service = x->service;
		engine_decide(&in, &s->state, &s->state, &ev->decision);
		bool changes = engine_decision_changes(&ev->decision);
		if (changes) {
			/* Replayed as if the deployment succeeded at once. */
			engine_apply_result(cfg, &s->state, &ev->decision, true, now, day);
			s->cpu_limit = ev->decision.cpu_to;
			s->mem_limit = ev->decision.mem_to;
			sum->changes++;
		}
		if (!changes && !res->all)
			continue;
		rank[n] = (struct engine_rank_item){ .service = t->services[x->service].name,
			                             .priority = s->policy.priority,
			                             .reason = ev->decision.reason,
			                             .changes = changes,
			                             .index = n };
		n++;
	}
	engine_rank(rank, n);
	res->events = xreallocarray(res->events, res->n_events + n, sizeof(*res->events));
	for (size_t i = 0; i < n; i++)
		res->events[res->n_events++] = step[rank[i].index];
}

int simulate_run(const struct rm_config *cfg, const struct simulate_trace *t, bool all,
                 struct simulate_result **ret, char *err, size_t errlen)
{
	struct sim_svc *svcs = xcalloc(t->n_services ? t->n_services : 1, sizeof(*svcs));
	struct simulate_result *res = xcalloc(1, sizeof(*res));
	struct simulate_event *step = NULL;
	struct engine_rank_item *rank = NULL;
	int r = 0;
	res->trace = t;
	res->all = all;
	res->summaries = xcalloc(t->n_services ? t->n_services : 1, sizeof(*res->summaries));
	for (size_t i = 0; i < t->n_services; i++) {
		if (!t->services[i].n_samples)
			continue;
		r = initial_limits(cfg, t, i, &svcs[i], err, errlen);
		if (r < 0)
			goto out;
	}
	/* One step holds at most one sample per service. */
	step = xcalloc(t->n_services ? t->n_services : 1, sizeof(*step));
	rank = xcalloc(t->n_services ? t->n_services : 1, sizeof(*rank));
	for (size_t k = 0; k < t->n_samples;) {
		size_t end = k + 1;
		while (end < t->n_samples && t->samples[end].time == t->samples[k].time)
			end++;
		run_step(cfg, t, svcs, res, k, end, step, rank);
		k = end;
	}
	for (size_t i = 0; i < t->n_services; i++) {
		struct simulate_summary *sum = &res->summaries[i];
		slack_stats(svcs[i].cpu_slack, svcs[i].n_cpu_slack, &sum->cpu_slack_mean,
		            &sum->cpu_slack_p95);
		slack_stats(svcs[i].mem_slack, svcs[i].n_mem_slack, &sum->mem_slack_mean,
		            &sum->mem_slack_p95);
		sum->final_cpu = svcs[i].cpu_limit;
		sum->final_mem = svcs[i].mem_limit;
	}
	*ret = res;
	res = NULL;
out:
	for (size_t i = 0; i < t->n_services; i++)
		sim_svc_clear(&svcs[i]);
	free(svcs);
	free(step);
	free(rank);
	simulate_result_free(res);
	return r;
}

void simulate_result_free(struct simulate_result *r)
{
	if (!r)
		return;
	free(r->events);
	free(r->summaries);
	free(r);
}

/* "H:MM:SS" from t=0; hours grow past 24. */
static void fmt_time(double t, char *buf, size_t len)
{
	long long s = (long long)llround(t);
	snprintf(buf, len, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
}

static void fmt_pct(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", v * 100);
}

static double share(size_t part, size_t whole)
{
	return whole ? (double)part / (double)whole : NAN;
}

static void fmt_cpu(double v, char *buf, size_t len)
{
	if (v > 0)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "none");
}

static void fmt_mem(uint64_t v, char *buf, size_t len)
{
	if (v == 0)
		snprintf(buf, len, "none");
	else if (v % UNITS_MIB == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(v / UNITS_MIB));
	else
		snprintf(buf, len, "%.1f MiB", (double)v / (double)UNITS_MIB);
}

static size_t name_width(const struct simulate_trace *t)
{
	size_t w = 7; /* "service" */
	for (size_t i = 0; i < t->n_services; i++)
		if (strlen(t->services[i].name) > w)
			w = strlen(t->services[i].name);
	return w;
}

int simulate_write_table(const struct simulate_result *r, FILE *out)
{
	const struct simulate_trace *t = r->trace;
	int w = (int)name_width(t);
	char a[32], b[32], c[32], d[32], e[32], f[32], g[32];
	fprintf(out, "decisions (%s)\n", r->all ? "every check" : "changes only");
	fprintf(out, "%9s  %-*s  %-19s  %s\n", "time", w, "service", "reason", "explanation");
	for (size_t i = 0; i < r->n_events; i++) {
		const struct simulate_event *ev = &r->events[i];
		fmt_time(ev->time, a, sizeof(a));
		fprintf(out, "%9s  %-*s  %-19s  %s\n", a, w, t->services[ev->service].name,
		        engine_reason_to_string(ev->decision.reason), ev->decision.explanation);
	}
	if (r->n_events == 0)
		fprintf(out, "%9s  (none)\n", "");
	fprintf(out, "\nsummary\n");
	fprintf(out, "%-*s  %7s  %7s  %9s  %9s  %9s  %9s  %9s  %9s  %9s  %10s\n", w, "service",
	        "samples", "changes", "cpu>limit", "mem>limit", "cpu slack", "cpu p95", "mem slack",
	        "mem p95", "final cpu", "final mem");
	for (size_t i = 0; i < t->n_services; i++) {
		const struct simulate_summary *s = &r->summaries[i];
		if (!t->services[i].n_samples)
			continue;
		fmt_pct(share(s->cpu_over, s->cpu_samples), a, sizeof(a));
		fmt_pct(share(s->mem_over, s->mem_samples), b, sizeof(b));
		fmt_pct(s->cpu_slack_mean, c, sizeof(c));
		fmt_pct(s->cpu_slack_p95, d, sizeof(d));
		fmt_pct(s->mem_slack_mean, e, sizeof(e));
		fmt_pct(s->mem_slack_p95, f, sizeof(f));
		fmt_cpu(s->final_cpu, g, sizeof(g));
		char m[32];
		fmt_mem(s->final_mem, m, sizeof(m));
		fprintf(out, "%-*s  %7zu  %7zu  %9s  %9s  %9s  %9s  %9s  %9s  %9s  %10s\n", w,
		        t->services[i].name, s->samples, s->changes, a, b, c, d, e, f, g, m);
	}
	return ferror(out) ? -EIO : 0;
}

/* Rounds to 4 decimals so that the JSON is short and stable; NaN is null. */
static json_t *json_ratio(double v)
{
	if (isnan(v))
		return json_null();
	return json_real(round(v * 10000) / 10000);
}

static json_t *json_cpu(double v)
{
	return v > 0 ? json_real(round(v * 100) / 100) : json_null();
}

static json_t *json_mem(uint64_t v)
{
	return v > 0 ? json_integer((json_int_t)v) : json_null();
}

static json_t *event_json(const struct simulate_trace *t, const struct simulate_event *ev)
{
	const struct engine_decision *d = &ev->decision;
	json_t *o = json_object();
	json_object_set_new(o, "time", json_real(ev->time));
	json_object_set_new(o, "service", json_string(t->services[ev->service].name));
	json_object_set_new(o, "reason", json_string(engine_reason_to_string(d->reason)));
	json_object_set_new(o, "cpu_reason", json_string(engine_reason_to_string(d->cpu_reason)));
	json_object_set_new(o, "memory_reason",
	                    json_string(engine_reason_to_string(d->mem_reason)));
	if (d->change_cpu)
		json_object_set_new(o, "cpu",
		                    json_pack("{s:o, s:o}", "from", json_cpu(d->cpu_from), "to",
		                              json_cpu(d->cpu_to)));
	if (d->change_mem)
		json_object_set_new(o, "memory",
		                    json_pack("{s:o, s:o}", "from", json_mem(d->mem_from), "to",
		                              json_mem(d->mem_to)));
	json_object_set_new(o, "explanation", json_string(d->explanation));
	return o;
}

static json_t *summary_json(const char *name, const struct simulate_summary *s)
{
	return json_pack("{s:s, s:I, s:I, s:o, s:o, s:{s:o, s:o}, s:{s:o, s:o}, s:{s:o, s:o}}",
	                 "service", name, "samples", (json_int_t)s->samples, "changes",
	                 (json_int_t)s->changes, "cpu_over_limit",
	                 json_ratio(share(s->cpu_over, s->cpu_samples)), "memory_over_limit",
	                 json_ratio(share(s->mem_over, s->mem_samples)), "cpu_slack", "mean",
	                 json_ratio(s->cpu_slack_mean), "p95", json_ratio(s->cpu_slack_p95),
	                 "memory_slack", "mean", json_ratio(s->mem_slack_mean), "p95",
	                 json_ratio(s->mem_slack_p95), "final", "cpu", json_cpu(s->final_cpu),
	                 "memory", json_mem(s->final_mem));
}

int simulate_write_json(const struct simulate_result *r, FILE *out)
{
	const struct simulate_trace *t = r->trace;
	json_t *root = json_object();
	json_t *events = json_array();
	json_t *summary = json_array();
	int rc = 0;
	for (size_t i = 0; i < r->n_events; i++)
		json_array_append_new(events, event_json(t, &r->events[i]));
	for (size_t i = 0; i < t->n_services; i++)
		if (t->services[i].n_samples)
			json_array_append_new(summary,
			                      summary_json(t->services[i].name, &r->summaries[i]));
	json_object_set_new(root, "all_checks", json_boolean(r->all));
	json_object_set_new(root, "decisions", events);
	json_object_set_new(root, "summary", summary);
	if (json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) <
	    0)
		rc = -EIO;
	fputc('\n', out);
	json_decref(root);
	if (ferror(out))
		rc = -EIO;
	return rc;
}
