/* prom_json: parses the Prometheus instant-query JSON answer into plain structs
 * in one pass over the bytes, without building a JSON tree.
 *
 * Strict: it accepts exactly the JSON that jansson's json_loadb() with
 * JSON_REJECT_DUPLICATES accepts (the parser it replaces; a differential test
 * holds them together): RFC 8259 text whose top level is an object or an
 * array, valid UTF-8 (no overlong forms, no surrogates), no \u0000, no
 * duplicate object keys at any level, integers that fit in 64 bits, reals that
 * do not overflow, values nested at most 2048 deep; and of that JSON, only the
 * API's answer shapes. Members are taken in any order; unknown members
 * ("warnings", "infos", ...) are checked as JSON and skipped.
 *
 * Allocation-light: the samples, the label entries and the label texts live
 * in three arrays per answer; a label name (or value) equal to the previous
 * one of its kind is stored once. */
#include "rm/prom_json.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/util.h"

/* jansson's JSON_PARSER_MAX_DEPTH: every value counts, the top one is 1. */
#define MAX_DEPTH 2048
/* Label names remembered to store each once (an answer has a handful). */
#define MAX_NAMES 8

static const char *const result_type_names[_PROM_RESULT_MAX] = {
	[PROM_RESULT_NONE] = "none",
	[PROM_RESULT_VECTOR] = "vector",
	[PROM_RESULT_SCALAR] = "scalar",
};

const char *prom_result_type_to_string(enum prom_result_type t)
{
	if ((unsigned)t >= _PROM_RESULT_MAX)
		return "invalid";
	return result_type_names[t];
}

int prom_result_type_from_string(const char *s)
{
	for (int i = 0; i < _PROM_RESULT_MAX; i++)
		if (strcmp(result_type_names[i], s) == 0)
			return i;
	return -EINVAL;
}

void prom_response_free(struct prom_response *r)
{
	if (!r)
		return;
	free(r->samples);
	free(r->label_store);
	free(r->text_store);
	free(r->error_type);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

const char *prom_sample_label(const struct prom_sample *s, const char *name)
{
	for (size_t i = 0; i < s->n_labels; i++)
		if (strcmp(s->labels[i].name, name) == 0)
			return s->labels[i].value;
	return NULL;
}

/* ---- buffers ---------------------------------------------------------------------- */

/* Bytes of NUL-terminated strings, addressed by offset (the buffer moves). */
struct text {
	char *data;
	size_t len, cap;
};

static void text_reserve(struct text *t, size_t extra)
{
	if (t->len + extra <= t->cap)
		return;
	size_t cap = t->cap ? t->cap : 256;
	while (cap < t->len + extra)
		cap *= 2;
	t->data = xrealloc(t->data, cap);
	t->cap = cap;
}

static void text_append(struct text *t, const unsigned char *s, size_t n)
{
	text_reserve(t, n);
	memcpy(t->data + t->len, s, n);
	t->len += n;
}

static void text_byte(struct text *t, unsigned char c)
{
	text_reserve(t, 1);
	t->data[t->len++] = (char)c;
}

/* Grows an array of *cap elements of size sz to hold one more than n. */
static void *grow(void *a, size_t n, size_t *cap, size_t sz)
{
	if (n < *cap)
		return a;
	*cap = *cap ? *cap * 2 : 16;
	return xreallocarray(a, *cap, sz);
}

/* ---- the parser ----------------------------------------------------------------- */

struct label_ref {
	size_t name, value; /* offsets into labels text; value SIZE_MAX: not a string */
};

struct key_ref {
	size_t off; /* into keys text */
};

/* A label name stored once, and the last value it had. */
struct name_memo {
	size_t off, len; /* in labels_text */
	bool plain;      /* no byte that JSON writes escaped: matched raw */
	size_t last_value, value_len;
};

struct parser {
	const unsigned char *start, *p, *end;
	unsigned depth;
	jmp_buf fail; /* syntax errors jump here */
	char *err;
	size_t errlen;

	/* The first problem with the answer's shape (as opposed to its JSON):
	 * an error only when the status is "success". */
	char shape[160];
	bool shape_bad;

	int status; /* -1 missing or neither, 0 "error", 1 "success" */
	char *error_type, *error;
	bool have_data;
	int type; /* PROM_RESULT_*, or -1 while unknown or invalid */

	/* The answer's samples: labels_first[i] indexes labels for samples[i]. */
	struct prom_sample *samples;
	size_t n_samples, cap_samples;
	size_t *labels_first;
	size_t cap_first;
	struct label_ref *labels;
	size_t n_labels, cap_labels;
	struct text labels_text;
	struct name_memo names[MAX_NAMES];
	size_t n_names;

	/* Keys of the objects being read, for the duplicate check. */
	struct text keys_text;
	struct key_ref *keys;
	size_t n_keys, cap_keys;

	struct text scratch; /* a decoded string value */
};

static void parser_free(struct parser *ps)
{
	free(ps->error_type);
	free(ps->error);
	free(ps->samples);
	free(ps->labels_first);
	free(ps->labels);
	free(ps->labels_text.data);
	free(ps->keys_text.data);
	free(ps->keys);
	free(ps->scratch.data);
}

static _Noreturn void syntax(struct parser *ps, const char *fmt, ...) RM_PRINTF(2, 3);
static _Noreturn void syntax(struct parser *ps, const char *fmt, ...)
{
	if (ps->err && ps->errlen) {
		size_t line = 1, column = 1;
		for (const unsigned char *q = ps->start; q < ps->p && q < ps->end; q++) {
			if (*q == '\n') {
				line++;
				column = 1;
			} else {
				column++;
			}
		}
		char what[120];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		snprintf(ps->err, ps->errlen, "invalid JSON at line %zu column %zu: %s", line,
		         column, what);
	}
	longjmp(ps->fail, 1);
}

static void shape(struct parser *ps, const char *fmt, ...) RM_PRINTF(2, 3);
static void shape(struct parser *ps, const char *fmt, ...)
{
	if (ps->shape_bad)
		return;
	ps->shape_bad = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->shape, sizeof(ps->shape), fmt, ap);
	va_end(ap);
}

/* The next byte that is not JSON white space (not consumed), or -1 at the end. */
static inline int peek(struct parser *ps)
{
	const unsigned char *p = ps->p;
	if (p<ps->end && * p> ' ')
		return *p; /* Prometheus writes no white space */
	while (p < ps->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	ps->p = p;
	return p < ps->end ? *p : -1;
}

static void enter(struct parser *ps)
{
	if (++ps->depth > MAX_DEPTH)
		syntax(ps, "values nested deeper than %d", MAX_DEPTH);
}

static void leave(struct parser *ps)
{
	ps->depth--;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* The length of the UTF-8 sequence at p (a byte >= 0x80), or 0 when it is
 * not valid: overlong, a surrogate, above U+10FFFF, or cut short. */
static size_t utf8_length(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	uint32_t v;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0) {
		n = 2;
		v = c & 0x1F;
	} else if (c < 0xF0) {
		n = 3;
		v = c & 0x0F;
	} else if (c < 0xF5) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (n == 3 && v < 0x800) ||
	    (n == 4 && v < 0x10000))
		return 0;
	return n;
}

static void put_utf8(struct text *t, uint32_t v)
{
	unsigned char b[4];
	size_t n;
	if (v < 0x80) {
		b[0] = (unsigned char)v;
		n = 1;
	} else if (v < 0x800) {
		b[0] = (unsigned char)(0xC0 | (v >> 6));
		b[1] = (unsigned char)(0x80 | (v & 0x3F));
		n = 2;
	} else if (v < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (v >> 12));
		b[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (v & 0x3F));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (v >> 18));
		b[1] = (unsigned char)(0x80 | ((v >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((v >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (v & 0x3F));
		n = 4;
	}
	text_append(t, b, n);
}

/* Four hex digits at p (p + 4 <= end checked by the caller), or -1. */
static long hex4(const unsigned char *p)
{
	long v = 0;
	for (int i = 0; i < 4; i++) {
		int c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Whether one of the 8 bytes of v ends a plain run in a string: a control
 * character, a byte >= 0x80, a quote or a backslash. Exact for the word as a
 * whole (the classic "has a zero byte" tests). */
static inline bool word_is_special(uint64_t v)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
	uint64_t quote = v ^ (ones * '"'), backslash = v ^ (ones * '\\');
	uint64_t below_space = (v - ones * 0x20) & ~v;
	uint64_t is_quote = (quote - ones) & ~quote;
	uint64_t is_backslash = (backslash - ones) & ~backslash;
	return ((below_space | is_quote | is_backslash | v) & high) != 0;
}

/* Reads the string whose opening quote is at ps->p. Appends its decoded bytes
 * and a NUL to out, or only checks it when out is NULL. */
static void read_string(struct parser *ps, struct text *out)
{
	const unsigned char *p = ps->p + 1, *end = ps->end;
	for (;;) {
		const unsigned char *run = p;
		for (uint64_t v; end - p >= 8; p += 8) {
			memcpy(&v, p, 8);
			if (word_is_special(v))
				break;
		}
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (out && p > run)
			text_append(out, run, (size_t)(p - run));
		ps->p = p;
		if (p >= end)
			syntax(ps, "a string is not closed");
		unsigned char c = *p;
		if (c == '"') {
			p++;
			break;
		}
		if (c < 0x20)
			syntax(ps, "control character 0x%02x in a string", c);
		if (c >= 0x80) {
			size_t n = utf8_length(p, end);
			if (!n)
				syntax(ps, "invalid UTF-8 byte 0x%02x", c);
			if (out)
				text_append(out, p, n);
			p += n;
			continue;
		}
		/* A backslash. */
		if (end - p < 2)
			syntax(ps, "a string is not closed");
		c = p[1];
		p += 2;
		unsigned char plain;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			plain = c;
			break;
		case 'b':
			plain = '\b';
			break;
		case 'f':
			plain = '\f';
			break;
		case 'n':
			plain = '\n';
			break;
		case 'r':
			plain = '\r';
			break;
		case 't':
			plain = '\t';
			break;
		case 'u': {
			long v = end - p >= 4 ? hex4(p) : -1;
			if (v < 0)
				syntax(ps, "invalid \\u escape");
			p += 4;
			if (v >= 0xD800 && v <= 0xDBFF) {
				long lo = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2)
				                                                      : -1;
				if (lo < 0xDC00 || lo > 0xDFFF)
					syntax(ps, "invalid Unicode '\\u%04lX' (no low surrogate)",
					       v);
				p += 6;
				v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
			} else if (v >= 0xDC00 && v <= 0xDFFF) {
				syntax(ps, "invalid Unicode '\\u%04lX' (a lone low surrogate)", v);
			} else if (v == 0) {
				syntax(ps, "\\u0000 is not allowed");
			}
			if (out)
				put_utf8(out, (uint32_t)v);
			continue;
		}
		default:
			ps->p = p - 1;
			syntax(ps, "invalid escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
		}
		if (out)
			text_byte(out, plain);
	}
	if (out)
		text_byte(out, '\0');
	ps->p = p;
}

/* 10^0 .. 10^22: exact in a double. */
static const double pow10_exact[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                              1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	                              1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* digits (an integer of at most 19 digits) / 10^frac when that is exact in
 * both operands, so that the one rounding of the division gives what strtod
 * gives (correctly rounded); false when the fast way does not apply. */
static bool fast_decimal(uint64_t digits, unsigned n_digits, unsigned frac, bool neg, double *ret)
{
	if (n_digits > 19 || digits > (UINT64_C(1) << 53) || frac > 22)
		return false;
	double v = (double)digits / pow10_exact[frac];
	*ret = neg ? -v : v;
	return true;
}

/* The len bytes at s as a C string: in small when they fit, else allocated. */
static char *number_copy(const unsigned char *s, size_t len, char *small, size_t small_len)
{
	char *c = len < small_len ? small : xmalloc(len + 1);
	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

/* Reads the JSON number at ps->p; returns its value as jansson's
 * json_number_value gives it (an integer converted, a real by strtod). */
static double read_number(struct parser *ps)
{
	const unsigned char *s = ps->p, *p = s, *end = ps->end;
	bool neg = false, is_int = true;
	uint64_t digits = 0;
	unsigned n_digits = 0, frac = 0;
	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	if (p >= end || !is_digit(*p))
		syntax(ps, "invalid number");
	if (*p == '0') {
		p++;
		n_digits = 1;
		if (p < end && is_digit(*p)) {
			ps->p = p;
			syntax(ps, "invalid number (a leading zero)");
		}
	} else {
		for (; p < end && is_digit(*p); p++, n_digits++)
			if (n_digits < 19)
				digits = digits * 10 + (uint64_t)(*p - '0');
	}
	if (p < end && *p == '.') {
		p++;
		is_int = false;
		if (p >= end || !is_digit(*p)) {
			ps->p = p;
			syntax(ps, "invalid number (no digit after the point)");
		}
		for (; p < end && is_digit(*p); p++, n_digits++, frac++)
			if (n_digits < 19)
				digits = digits * 10 + (uint64_t)(*p - '0');
	}
	bool exponent = false;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		is_int = false;
		exponent = true;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p)) {
			ps->p = p;
			syntax(ps, "invalid number (no digit in the exponent)");
		}
		while (p < end && is_digit(*p))
			p++;
	}
	size_t len = (size_t)(p - s);
	double v;
	if (is_int && n_digits <= 18) {
		/* As jansson: a long long, so "-0" is 0. */
		ps->p = p;
		v = (double)digits;
		return neg && digits ? -v : v;
	}
	if (!exponent && fast_decimal(digits, n_digits, frac, neg, &v)) {
		ps->p = p;
		return v;
	}
	char small[64], *c = number_copy(s, len, small, sizeof(small));
	char *cend;
	errno = 0;
	if (is_int) {
		long long ll = strtoll(c, &cend, 10);
		bool range = errno == ERANGE;
		if (c != small)
			free(c);
		if (range)
			syntax(ps, "integer too big");
		v = (double)ll;
	} else {
		v = strtod(c, &cend);
		bool range = (v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE;
		if (c != small)
			free(c);
		if (range)
			syntax(ps, "real number overflow");
	}
	ps->p = p;
	return v;
}

static void read_literal(struct parser *ps, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
		syntax(ps, "invalid token");
	ps->p += n;
}

/* Objects: object_begin at '{', then object_key until it returns NULL (the
 * closing brace read), then object_end. Keys are kept in keys_text until the
 * object ends, for the duplicate check. */
struct object {
	size_t keys0, text0;
	bool first;
};

/* Steps to the next member of an object: reads the comma, or the closing
 * brace (false, stepped over), and checks that a key follows. *first: no
 * member was read yet. */
static inline bool member_next(struct parser *ps, bool *first)
{
	int c = peek(ps);
	if (c == '}') {
		ps->p++;
		return false;
	}
	if (!*first) {
		if (c != ',')
			syntax(ps, "',' or '}' expected");
		ps->p++;
		c = peek(ps);
	}
	*first = false;
	if (c != '"')
		syntax(ps, "an object key (a string) expected");
	return true;
}

/* Reads the colon after a key. */
static inline void read_colon(struct parser *ps)
{
	if (peek(ps) != ':')
		syntax(ps, "':' expected");
	ps->p++;
}

/* Keeps the key at off in keys_text for the duplicate check. */
static void keep_key(struct parser *ps, size_t off)
{
	ps->keys = grow(ps->keys, ps->n_keys, &ps->cap_keys, sizeof(*ps->keys));
	ps->keys[ps->n_keys++].off = off;
}

static void object_begin(struct parser *ps, struct object *o)
{
	ps->p++;
	o->keys0 = ps->n_keys;
	o->text0 = ps->keys_text.len;
	o->first = true;
}

/* Steps to the next member: reads the comma (or the closing brace), the key
 * and the colon. Returns the decoded key (valid until the next key is read),
 * or NULL at the end. */
static const char *object_key(struct parser *ps, struct object *o, size_t *key_len)
{
	if (!member_next(ps, &o->first))
		return NULL;
	size_t off = ps->keys_text.len;
	read_string(ps, &ps->keys_text);
	read_colon(ps);
	keep_key(ps, off);
	if (key_len)
		*key_len = ps->keys_text.len - off - 1;
	return ps->keys_text.data + off;
}

/* A member an object is read for, with its key as it is usually written. */
struct member {
	const char *quoted; /* "\"metric\"" */
	size_t len;         /* of quoted */
};
#define MEMBER(k)                                                                                  \
	{                                                                                          \
		"\"" k "\"", sizeof(k) + 1                                                         \
	}

/* object_key for an object read for known[0..n) (n <= 8): returns the index
 * in known of the next member's key, -1 for another key (kept for the
 * duplicate check) or -2 at the end. A known key given twice is a duplicate
 * (*seen: the ones given so far). */
static int object_member(struct parser *ps, struct object *o, const struct member *known, int n,
                         unsigned *seen)
{
	if (!member_next(ps, &o->first))
		return -2;
	int idx = -1;
	/* The usual spelling, without escapes, recognised in place. */
	for (int i = 0; i < n && idx < 0; i++)
		if ((size_t)(ps->end - ps->p) >= known[i].len &&
		    memcmp(ps->p, known[i].quoted, known[i].len) == 0) {
			ps->p += known[i].len;
			idx = i;
		}
	if (idx < 0) {
		size_t off = ps->keys_text.len;
		read_string(ps, &ps->keys_text);
		const char *k = ps->keys_text.data + off;
		size_t len = ps->keys_text.len - off - 1;
		for (int i = 0; i < n && idx < 0; i++)
			if (len == known[i].len - 2 && memcmp(k, known[i].quoted + 1, len) == 0)
				idx = i;
		if (idx >= 0)
			ps->keys_text.len = off;
		else
			keep_key(ps, off);
	}
	if (idx >= 0) {
		if (*seen & (1u << idx))
			syntax(ps, "duplicate object key %s", known[idx].quoted);
		*seen |= 1u << idx;
	}
	read_colon(ps);
	return idx;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One of the n strings that another equals, or NULL; tmp has room for n. */
static const char *find_duplicate(const char **s, size_t n, const char **tmp)
{
	if (n <= 8) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (s[i] == s[j] || strcmp(s[i], s[j]) == 0)
					return s[i];
		return NULL;
	}
	memcpy(tmp, s, n * sizeof(*s));
	qsort(tmp, n, sizeof(*tmp), cmp_str);
	for (size_t i = 1; i < n; i++)
		if (strcmp(tmp[i - 1], tmp[i]) == 0)
			return tmp[i];
	return NULL;
}

/* Fails when two of the n strings s[0..n) are equal; frees s unless it is
 * small. */
static void fail_if_duplicate(struct parser *ps, const char **s, size_t n, const char **small)
{
	const char *dup = find_duplicate(s, n, s + n);
	char what[64];
	if (dup)
		snprintf(what, sizeof(what), "%s", dup);
	if (s != small)
		free(s);
	if (dup)
		syntax(ps, "duplicate object key \"%.60s\"", what);
}

/* Room for n strings and find_duplicate's n more. */
static const char **key_array(size_t n, const char **small, size_t small_len)
{
	return 2 * n <= small_len ? small : xcalloc(2 * n, sizeof(*small));
}

static void object_end(struct parser *ps, struct object *o)
{
	size_t n = ps->n_keys - o->keys0;
	if (n > 1) {
		const char *small[16], **s = key_array(n, small, 16);
		for (size_t i = 0; i < n; i++)
			s[i] = ps->keys_text.data + ps->keys[o->keys0 + i].off;
		fail_if_duplicate(ps, s, n, small);
	}
	ps->n_keys = o->keys0;
	ps->keys_text.len = o->text0;
}

static void skip_value(struct parser *ps);

/* Arrays: array_begin at '[' (false for an empty one, read whole), then each
 * element followed by array_next, until it returns false (the closing
 * bracket read). */
static inline bool array_begin(struct parser *ps)
{
	ps->p++;
	if (peek(ps) == ']') {
		ps->p++;
		return false;
	}
	return true;
}

static inline bool array_next(struct parser *ps)
{
	int c = peek(ps);
	if (c != ',' && c != ']')
		syntax(ps, "',' or ']' expected");
	ps->p++;
	return c == ',';
}

static void skip_array(struct parser *ps)
{
	if (array_begin(ps)) {
		do {
			skip_value(ps);
		} while (array_next(ps));
	}
}

/* Checks and skips one value of any kind. */
static void skip_value(struct parser *ps)
{
	int c = peek(ps);
	enter(ps);
	switch (c) {
	case '{': {
		struct object o;
		object_begin(ps, &o);
		while (object_key(ps, &o, NULL))
			skip_value(ps);
		object_end(ps, &o);
		break;
	}
	case '[':
		skip_array(ps);
		break;
	case '"':
		read_string(ps, NULL);
		break;
	case 't':
		read_literal(ps, "true");
		break;
	case 'f':
		read_literal(ps, "false");
		break;
	case 'n':
		read_literal(ps, "null");
		break;
	default:
		if (c != '-' && !is_digit(c))
			syntax(ps, c < 0 ? "a value expected, not the end" : "a value expected");
		(void)read_number(ps);
	}
	leave(ps);
}

/* Reads a string value into ps->scratch (depth counted). */
static const char *read_scratch(struct parser *ps)
{
	enter(ps);
	ps->scratch.len = 0;
	read_string(ps, &ps->scratch);
	leave(ps);
	return ps->scratch.data;
}

/* Prometheus writes sample values as Go's FormatFloat(v, 'f', -1) or the
 * special strings; accept plain decimal (with an exponent, for other
 * implementations) and those, nothing looser (no hex, no "infinity"). */
int prom_json_parse_value(const char *s, double *ret)
{
	/* The common case, "-?digits(.digits)?", without strtod. */
	const char *p = s;
	bool neg = *p == '-';
	uint64_t digits = 0;
	unsigned n_digits = 0, frac = 0;
	if (neg)
		p++;
	for (; is_digit(*p); p++, n_digits++)
		if (n_digits < 19)
			digits = digits * 10 + (uint64_t)(*p - '0');
	if (n_digits && *p == '.' && is_digit(p[1]))
		for (p++; is_digit(*p); p++, n_digits++, frac++)
			if (n_digits < 19)
				digits = digits * 10 + (uint64_t)(*p - '0');
	if (n_digits && !*p && fast_decimal(digits, n_digits, frac, neg, ret))
		return 0;

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

/* [time, "value"] into *s (s NULL: checked only). */
static void read_pair(struct parser *ps, struct prom_sample *s, size_t idx)
{
	if (peek(ps) != '[') {
		shape(ps, "result %zu: value is not a [time, \"value\"] pair", idx);
		skip_value(ps);
		return;
	}
	enter(ps);
	size_t n = 0;
	bool time_ok = false, value_str = false, value_ok = false;
	double t = 0, v = 0;
	if (array_begin(ps)) {
		do {
			int c = peek(ps);
			if (n == 0 && (c == '-' || is_digit(c))) {
				enter(ps);
				t = read_number(ps);
				leave(ps);
				time_ok = true;
			} else if (n == 1 && c == '"') {
				value_str = true;
				value_ok = prom_json_parse_value(read_scratch(ps), &v) == 0;
			} else {
				skip_value(ps);
			}
			n++;
		} while (array_next(ps));
	}
	leave(ps);
	if (n != 2)
		shape(ps, "result %zu: value is not a [time, \"value\"] pair", idx);
	else if (!time_ok)
		shape(ps, "result %zu: sample time is not a number", idx);
	else if (!value_str)
		shape(ps, "result %zu: sample value is not a string", idx);
	else if (!value_ok)
		shape(ps, "result %zu: sample value \"%.40s\" is not a number", idx,
		      ps->scratch.data);
	if (s) {
		s->time = t;
		s->value = v;
	}
}

/* Reads a label name (an object key) into labels_text; returns its offset,
 * the same as an earlier name's when equal to one. */
static size_t read_label_name(struct parser *ps, size_t guess, size_t *slot)
{
	struct text *t = &ps->labels_text;
	/* Labels come in the same order in every sample: try that one first. */
	size_t start = guess < ps->n_names ? guess : 0;
	if (start < ps->n_names && ps->names[start].plain) {
		const struct name_memo *m = &ps->names[start];
		if ((size_t)(ps->end - ps->p) >= m->len + 2 && ps->p[m->len + 1] == '"' &&
		    memcmp(ps->p + 1, t->data + m->off, m->len) == 0) {
			ps->p += m->len + 2;
			*slot = start;
			return m->off;
		}
	}
	size_t off = t->len;
	read_string(ps, t);
	size_t len = t->len - off - 1;
	for (size_t j = 0; j < ps->n_names; j++) {
		size_t i = start + j < ps->n_names ? start + j : start + j - ps->n_names;
		if (ps->names[i].len == len &&
		    memcmp(t->data + ps->names[i].off, t->data + off, len) == 0) {
			t->len = off;
			*slot = i;
			return ps->names[i].off;
		}
	}
	*slot = SIZE_MAX;
	if (ps->n_names < MAX_NAMES) {
		*slot = ps->n_names;
		bool plain = true;
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)t->data[off + i];
			plain = plain && c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
		}
		ps->names[ps->n_names++] = (struct name_memo){ off, len, plain, SIZE_MAX, 0 };
	}
	return off;
}

/* Reads a label value into labels_text; the previous value of the same name
 * is reused when equal (a compose project, say). */
static size_t read_label_value(struct parser *ps, size_t slot)
{
	struct text *t = &ps->labels_text;
	size_t off = t->len;
	enter(ps);
	read_string(ps, t);
	leave(ps);
	if (slot == SIZE_MAX)
		return off;
	size_t len = t->len - off - 1;
	if (ps->names[slot].last_value != SIZE_MAX && ps->names[slot].value_len == len &&
	    memcmp(t->data + ps->names[slot].last_value, t->data + off, len) == 0) {
		t->len = off;
		return ps->names[slot].last_value;
	}
	ps->names[slot].last_value = off;
	ps->names[slot].value_len = len;
	return off;
}

/* The "metric" object of result idx: its labels, appended to ps->labels. */
static void read_metric(struct parser *ps, size_t idx)
{
	if (peek(ps) != '{') {
		shape(ps, "result %zu: \"metric\" is not an object", idx);
		skip_value(ps);
		return;
	}
	enter(ps);
	ps->p++;
	size_t first = ps->n_labels;
	/* Names stored once are told apart by their slot; others by their text. */
	unsigned slots_seen = 0;
	bool all_in_slots = true;
	for (bool firstkey = true; member_next(ps, &firstkey);) {
		size_t slot;
		size_t name = read_label_name(ps, ps->n_labels - first, &slot);
		if (slot == SIZE_MAX) {
			all_in_slots = false;
		} else {
			if (slots_seen & (1u << slot))
				syntax(ps, "duplicate object key \"%.60s\"",
				       ps->labels_text.data + name);
			slots_seen |= 1u << slot;
		}
		read_colon(ps);
		size_t value = SIZE_MAX;
		if (peek(ps) == '"') {
			value = read_label_value(ps, slot);
		} else {
			shape(ps, "result %zu: label %.60s is not a string", idx,
			      ps->labels_text.data + name);
			skip_value(ps);
		}
		ps->labels = grow(ps->labels, ps->n_labels, &ps->cap_labels, sizeof(*ps->labels));
		ps->labels[ps->n_labels++] = (struct label_ref){ name, value };
	}
	if (!all_in_slots) {
		size_t n = ps->n_labels - first;
		const char *small[16], **s = key_array(n, small, 16);
		for (size_t i = 0; i < n; i++)
			s[i] = ps->labels_text.data + ps->labels[first + i].name;
		fail_if_duplicate(ps, s, n, small);
	}
	leave(ps);
}

/* One element of a vector result. */
static void read_element(struct parser *ps, size_t idx)
{
	if (peek(ps) != '{') {
		shape(ps, "result %zu is not an object", idx);
		skip_value(ps);
		return;
	}
	enter(ps);
	ps->samples = grow(ps->samples, ps->n_samples, &ps->cap_samples, sizeof(*ps->samples));
	ps->labels_first =
	        grow(ps->labels_first, ps->n_samples, &ps->cap_first, sizeof(*ps->labels_first));
	size_t si = ps->n_samples++;
	memset(&ps->samples[si], 0, sizeof(ps->samples[si]));
	ps->labels_first[si] = ps->n_labels;
	static const struct member known[] = { MEMBER("metric"), MEMBER("value") };
	unsigned seen = 0;
	struct object o;
	object_begin(ps, &o);
	for (int k; (k = object_member(ps, &o, known, 2, &seen)) != -2;) {
		if (k == 0) {
			read_metric(ps, idx);
			ps->samples[si].n_labels = ps->n_labels - ps->labels_first[si];
		} else if (k == 1) {
			read_pair(ps, &ps->samples[si], idx);
		} else {
			skip_value(ps);
		}
	}
	object_end(ps, &o);
	if (!(seen & 1))
		shape(ps, "result %zu: \"metric\" is not an object", idx);
	else if (!(seen & 2))
		shape(ps, "result %zu: value is not a [time, \"value\"] pair", idx);
	leave(ps);
}

static void read_result(struct parser *ps)
{
	if (ps->type == PROM_RESULT_SCALAR) {
		ps->samples = grow(ps->samples, 0, &ps->cap_samples, sizeof(*ps->samples));
		memset(&ps->samples[0], 0, sizeof(ps->samples[0]));
		ps->n_samples = 1;
		read_pair(ps, &ps->samples[0], 0);
		return;
	}
	if (peek(ps) != '[') {
		shape(ps, "data.result is not an array");
		skip_value(ps);
		return;
	}
	enter(ps);
	if (array_begin(ps)) {
		size_t i = 0;
		do {
			/* After the first problem, only the JSON matters. */
			if (ps->shape_bad)
				skip_value(ps);
			else
				read_element(ps, i);
			i++;
		} while (array_next(ps));
	}
	leave(ps);
}

static void read_data(struct parser *ps)
{
	ps->have_data = true;
	if (peek(ps) != '{') {
		shape(ps, "\"data\" is missing or not an object");
		skip_value(ps);
		return;
	}
	enter(ps);
	bool have_type = false, have_result = false;
	char type_text[24] = "";
	/* A "result" before its "resultType" is read again once the type is known. */
	const unsigned char *result_at = NULL;
	unsigned result_depth = 0;
	static const struct member known[] = { MEMBER("resultType"), MEMBER("result") };
	unsigned seen = 0;
	struct object o;
	object_begin(ps, &o);
	for (int k; (k = object_member(ps, &o, known, 2, &seen)) != -2;) {
		if (k == 0) {
			if (peek(ps) == '"') {
				have_type = true;
				const char *t = read_scratch(ps);
				snprintf(type_text, sizeof(type_text), "%s", t);
				ps->type = prom_result_type_from_string(t);
				if (ps->type <= PROM_RESULT_NONE)
					ps->type = -1;
			} else {
				skip_value(ps);
			}
		} else if (k == 1) {
			have_result = true;
			if (ps->type > PROM_RESULT_NONE) {
				read_result(ps);
			} else {
				peek(ps);
				result_at = ps->p;
				result_depth = ps->depth;
				skip_value(ps);
			}
		} else {
			skip_value(ps);
		}
	}
	object_end(ps, &o);
	leave(ps);
	if (!have_type) {
		shape(ps, "data.resultType is missing or not a string");
	} else if (ps->type <= PROM_RESULT_NONE) {
		shape(ps, "data.resultType \"%.20s\" is not vector or scalar", type_text);
	} else if (result_at) {
		const unsigned char *resume = ps->p;
		unsigned depth = ps->depth;
		ps->p = result_at;
		ps->depth = result_depth;
		read_result(ps);
		ps->p = resume;
		ps->depth = depth;
	} else if (!have_result) {
		if (ps->type == PROM_RESULT_VECTOR)
			shape(ps, "data.result is not an array");
		else
			shape(ps, "result 0: value is not a [time, \"value\"] pair");
	}
}

/* A string member of the root kept as an owned copy (NULL when not a string). */
static void read_owned_string(struct parser *ps, char **ret)
{
	if (peek(ps) != '"') {
		skip_value(ps);
		return;
	}
	const char *s = read_scratch(ps);
	free(*ret);
	*ret = xstrdup(s);
}

static void read_root(struct parser *ps)
{
	enter(ps);
	static const struct member known[] = { MEMBER("status"), MEMBER("errorType"),
		                               MEMBER("error"), MEMBER("data") };
	unsigned seen = 0;
	struct object o;
	object_begin(ps, &o);
	for (int k; (k = object_member(ps, &o, known, 4, &seen)) != -2;) {
		if (k == 0) {
			ps->status = -1;
			if (peek(ps) == '"') {
				const char *s = read_scratch(ps);
				if (strcmp(s, "success") == 0)
					ps->status = 1;
				else if (strcmp(s, "error") == 0)
					ps->status = 0;
			} else {
				skip_value(ps);
			}
		} else if (k == 1) {
			read_owned_string(ps, &ps->error_type);
		} else if (k == 2) {
			read_owned_string(ps, &ps->error);
		} else if (k == 3) {
			read_data(ps);
		} else {
			skip_value(ps);
		}
	}
	object_end(ps, &o);
	leave(ps);
}

/* Moves what the parser gathered into *r (a success answer). */
static void build(struct parser *ps, struct prom_response *r)
{
	r->success = true;
	r->type = (enum prom_result_type)ps->type;
	r->n_samples = ps->n_samples;
	r->samples = ps->samples;
	ps->samples = NULL;
	if (ps->n_labels) {
		struct prom_label *l = xreallocarray(NULL, ps->n_labels, sizeof(*l));
		char *text = ps->labels_text.data;
		for (size_t i = 0; i < ps->n_labels; i++) {
			l[i].name = text + ps->labels[i].name;
			l[i].value = text + ps->labels[i].value;
		}
		for (size_t i = 0; i < r->n_samples; i++)
			r->samples[i].labels =
			        r->samples[i].n_labels ? l + ps->labels_first[i] : NULL;
		r->label_store = l;
		r->text_store = text;
		ps->labels_text.data = NULL;
	}
}

/* Reads the whole answer; false after a JSON error (message in ps->err). The
 * parser's state lives in the caller, not in this function's locals, so it
 * is intact after the longjmp. */
static bool read_answer(struct parser *ps, bool *object)
{
	if (setjmp(ps->fail))
		return false;
	int c = peek(ps);
	*object = c == '{';
	if (*object)
		read_root(ps);
	else if (c == '[')
		skip_value(ps);
	else
		syntax(ps, c < 0 ? "'{' expected, not the end" : "'{' expected");
	if (peek(ps) >= 0)
		syntax(ps, "the end expected after the answer");
	return true;
}

int prom_json_parse(const char *data, size_t len, struct prom_response *ret, char *err,
                    size_t errlen)
{
	struct parser ps = {
		.start = (const unsigned char *)data,
		.p = (const unsigned char *)data,
		.end = (const unsigned char *)data + len,
		.err = err,
		.errlen = errlen,
		.status = -1,
		.type = -1,
	};
	bool object = false;
	if (!read_answer(&ps, &object)) {
		parser_free(&ps);
		return -EBADMSG;
	}
	const char *problem = NULL;
	if (!object)
		problem = "the answer is not a JSON object";
	else if (ps.status < 0)
		problem = "\"status\" is missing or neither success nor error";
	else if (ps.status == 1 && !ps.have_data)
		problem = "\"data\" is missing or not an object";
	else if (ps.status == 1 && ps.shape_bad)
		problem = ps.shape;
	if (problem) {
		if (err && errlen)
			snprintf(err, errlen, "%s", problem);
		parser_free(&ps);
		return -EBADMSG;
	}
	struct prom_response r = { 0 };
	if (ps.status == 0) {
		r.error_type = ps.error_type ? ps.error_type : xstrdup("unknown");
		r.error = ps.error ? ps.error : xstrdup("(no error text)");
		ps.error_type = ps.error = NULL;
	} else {
		build(&ps, &r);
	}
	parser_free(&ps);
	*ret = r;
	return 0;
}
