/* units: parsing and formatting of memory sizes, durations and CPU amounts. */
#include "rm/units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rm/util.h"

/* Parses a leading unsigned decimal number (digits, optional fraction, no
 * exponent, no sign). Returns the count of characters used, 0 if none. */
static size_t scan_decimal(const char *s, double *ret)
{
	size_t i = 0, digits = 0;
	while (isdigit((unsigned char)s[i])) {
		i++;
		digits++;
	}
	if (s[i] == '.') {
		i++;
		while (isdigit((unsigned char)s[i])) {
			i++;
			digits++;
		}
	}
	if (digits == 0)
		return 0;
	char tmp[64];
	if (i >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, i);
	tmp[i] = '\0';
	*ret = strtod(tmp, NULL);
	return i;
}

static const char *skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static bool only_space(const char *s)
{
	return *skip_space(s) == '\0';
}

/* Reads the number an amount starts with, after any space: 0 with the value
 * and *ret_unit just past it, -ERANGE for a negative number, -EINVAL for none. */
static int scan_amount(const char *s, double *ret, const char **ret_unit)
{
	s = skip_space(s);
	if (*s == '-')
		return -ERANGE;
	size_t n = scan_decimal(s, ret);
	if (n == 0)
		return -EINVAL;
	*ret_unit = s + n;
	return 0;
}

int units_parse_memory(const char *s, uint64_t *ret_bytes)
{
	double v;
	const char *u;
	int r = scan_amount(s, &v, &u);
	if (r < 0)
		return r;
	double mult = 1;
	switch (toupper((unsigned char)*u)) {
	case 'K':
		mult = 1024.0;
		break;
	case 'M':
		mult = 1024.0 * 1024;
		break;
	case 'G':
		mult = 1024.0 * 1024 * 1024;
		break;
	case 'T':
		mult = 1024.0 * 1024 * 1024 * 1024;
		break;
	case 'B':
	case '\0':
	case ' ':
		break;
	default:
		return -EINVAL;
	}
	if (mult > 1) {
		u++;
		if (*u == 'i')
			u++;
	}
	if (toupper((unsigned char)*u) == 'B')
		u++;
	if (!only_space(u))
		return -EINVAL;
	double bytes = v * mult;
	if (bytes >= 18446744073709551615.0)
		return -ERANGE;
	*ret_bytes = (uint64_t)llround(bytes);
	return 0;
}

/* Duration units, "ms" before "m". */
static const struct {
	const char *name;
	double seconds;
} duration_units[] = {
	{ "ms", 0.001 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 }, { "w", 7 * 86400 },
};

/* The seconds of the unit *s starts with, stepped over; 0 when none. */
static double duration_unit(const char **s)
{
	for (size_t i = 0; i < RM_ARRAY_SIZE(duration_units); i++) {
		size_t len = strlen(duration_units[i].name);
		if (strncmp(*s, duration_units[i].name, len) == 0) {
			*s += len;
			return duration_units[i].seconds;
		}
	}
	return 0;
}

int units_parse_duration(const char *s, double *ret_seconds)
{
	s = skip_space(s);
	if (*s == '-')
		return -ERANGE;
	double total = 0;
	bool any = false;
	while (*s && !isspace((unsigned char)*s)) {
		double v;
		size_t n = scan_decimal(s, &v);
		if (n == 0)
			return -EINVAL;
		s += n;
		double mult = duration_unit(&s);
		if (mult == 0) {
			/* A bare number is seconds, but only on its own. */
			if (any || (*s != '\0' && !isspace((unsigned char)*s)))
				return -EINVAL;
			mult = 1;
		}
		total += v * mult;
		any = true;
	}
	if (!any || !only_space(s))
		return -EINVAL;
	if (total > 366.0 * 86400 * 100)
		return -ERANGE;
	*ret_seconds = total;
	return 0;
}

int units_parse_cpu(const char *s, double *ret_cores)
{
	double v;
	const char *u;
	int r = scan_amount(s, &v, &u);
	if (r < 0)
		return r;
	if (*u == 'm') {
		v /= 1000.0;
		u++;
	}
	if (!only_space(u))
		return -EINVAL;
	if (v > 4096)
		return -ERANGE;
	*ret_cores = v;
	return 0;
}

int units_parse_double(const char *s, double *ret)
{
	s = skip_space(s);
	if (*s == '\0')
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || !only_space(end))
		return -EINVAL;
	if (errno == ERANGE || isnan(v) || isinf(v))
		return -ERANGE;
	/* strtod also takes hex and "nan"/"inf": only plain decimals are config. */
	for (const char *p = s; p < end; p++)
		if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p))
			return -EINVAL;
	*ret = v;
	return 0;
}

int units_parse_uint(const char *s, unsigned *ret)
{
	s = skip_space(s);
	if (*s == '-')
		return -ERANGE;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!only_space(end))
		return -EINVAL;
	if (errno == ERANGE || v > 0xffffffffUL)
		return -ERANGE;
	*ret = (unsigned)v;
	return 0;
}

int units_parse_bool(const char *s, int *ret)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = 0;
			return 0;
		}
	}
	return -EINVAL;
}

void units_format_memory(uint64_t bytes, char *buf, size_t len)
{
	static const char *const suffix[] = { "Ki", "Mi", "Gi", "Ti" };
	if (bytes < 1024) {
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
		return;
	}
	int i = 0;
	double v = (double)bytes / 1024.0;
	uint64_t unit = 1024;
	while (i < 3 && bytes >= unit * 1024) {
		unit *= 1024;
		v /= 1024.0;
		i++;
	}
	if (bytes % unit == 0)
		snprintf(buf, len, "%llu%s", (unsigned long long)(bytes / unit), suffix[i]);
	else
		snprintf(buf, len, "%.2f%s", v, suffix[i]);
}

void units_format_memory_mib(uint64_t bytes, char *buf, size_t len)
{
	snprintf(buf, len, "%lluM", (unsigned long long)(bytes / UNITS_MIB));
}

void units_format_duration(double seconds, char *buf, size_t len)
{
	if (seconds < 1.0 && seconds > 0) {
		snprintf(buf, len, "%.0fms", seconds * 1000.0);
		return;
	}
	unsigned long long s = (unsigned long long)llround(seconds);
	unsigned long long d = s / 86400, h = (s % 86400) / 3600, m = (s % 3600) / 60;
	unsigned long long r = s % 60;
	size_t o = 0;
	buf[0] = '\0';
	if (d)
		o += (size_t)snprintf(buf + o, len - o, "%llud", d);
	if (h && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%lluh", h);
	if (m && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%llum", m);
	if ((r || o == 0) && o < len)
		snprintf(buf + o, len - o, "%llus", r);
}

void units_format_prom_duration(double seconds, char *buf, size_t len)
{
	long long s = llround(seconds);
	snprintf(buf, len, "%llds", s < 1 ? 1 : s);
}
