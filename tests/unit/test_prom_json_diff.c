/* test_prom_json_diff: the one-pass Prometheus answer parser (src/prom_json.c)
 * against the jansson-based one it replaced (tests/fuzz/prom_json_ref.c): the
 * same return value and the same samples, bit for bit, on
 *   - the fuzz corpus and answers captured from a real Prometheus
 *     (tests/data/prom_answers: the ten queries of a check for 100 services,
 *     an error, a scalar, NaN, +-Inf, an empty vector, extra labels);
 *   - JSON edge cases (depth limit, numbers, escapes, UTF-8, duplicates,
 *     member order);
 *   - deterministic mutations of all of those: every truncation of the small
 *     ones, byte substitutions and insertions, spliced pieces. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuzz/prom_json_ref.h"
#include "rm/prom_json.h"
#include "rm/util.h"

static size_t n_cases, n_accepted;

/* Parses with both and fails the test on any difference. */
static void check(const char *data, size_t len, const char *what)
{
	struct ref_response ref = { 0 };
	struct prom_response got = { 0 };
	char err[160] = "", why[400];
	int k_ref = ref_json_parse(data, len, &ref, NULL, 0);
	int k_got = prom_json_parse(data, len, &got, err, sizeof(err));
	n_cases++;
	if (prom_json_compare(k_ref, &ref, k_got, &got, why, sizeof(why)) != 0)
		fail_msg("%s (%zu bytes: %.*s): %s [%s]", what, len, (int)(len < 300 ? len : 300),
		         data, why, err);
	if (k_got < 0 && !err[0])
		fail_msg("%s: -EBADMSG without a message", what);
	if (k_ref == 0) {
		n_accepted++;
		ref_response_free(&ref);
	}
	if (k_got == 0)
		prom_response_free(&got);
}

static void check_str(const char *s)
{
	check(s, strlen(s), s);
}

struct seeds {
	char **data;
	size_t *len;
	size_t n;
};

static void seeds_add(struct seeds *s, const char *data, size_t len)
{
	s->data = xreallocarray(s->data, s->n + 1, sizeof(*s->data));
	s->len = xreallocarray(s->len, s->n + 1, sizeof(*s->len));
	s->data[s->n] = xmalloc(len + 1);
	memcpy(s->data[s->n], data, len);
	s->data[s->n][len] = '\0';
	s->len[s->n++] = len;
}

static void seeds_add_dir(struct seeds *s, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("cannot open %s", dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		char *data;
		size_t len;
		assert_int_equal(file_read_all(path, 1 << 20, &data, &len), 0);
		seeds_add(s, data, len);
		free(data);
		free(path);
	}
	closedir(d);
}

static void seeds_free(struct seeds *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->data[i]);
	free(s->data);
	free(s->len);
}

static const char *const edge_cases[] = {
	"",
	" ",
	"{}",
	"[]",
	"[1]",
	"1",
	"\"x\"",
	"null",
	"{} ",
	"{}x",
	" \t\r\n{\"status\":\"error\"} \n",
	"{\"status\":\"error\",\"error\":7,\"errorType\":[]}",
	"{\"status\":\"error\",\"data\":{\"resultType\":\"matrix\"}}",
	"{\"status\":\"error\",\"data\":[1,]}",
	"{\"status\":\"success\",\"data\":null}",
	"{\"data\":{\"result\":[1,\"2\"],\"resultType\":\"scalar\"},\"status\":\"success\"}",
	"{\"data\":{\"result\":[{\"value\":[1,\"2\"],\"metric\":{\"b\":\"1\",\"a\":\"2\"}}],"
	"\"resultType\":\"vector\"},\"status\":\"success\"}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	"\"value\":[1,\"2\"],\"value\":[1,\"2\"]}]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{"
	"\"a\":\"1\",\"\\u0061\":\"2\"},\"value\":[1,\"2\"]}]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{"
	"\"a\":\"1\",\"b\":\"1\",\"c\":\"1\",\"d\":\"1\",\"e\":\"1\",\"f\":\"1\",\"g\":\"1\","
	"\"h\":\"1\",\"i\":\"1\",\"j\":\"1\",\"a\":\"1\"},\"value\":[1,\"2\"]}]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{"
	"\"a\":\"1\",\"b\":\"1\",\"c\":\"1\",\"d\":\"1\",\"e\":\"1\",\"f\":\"1\",\"g\":\"1\","
	"\"h\":\"1\",\"i\":\"1\",\"j\":\"1\",\"k\":\"\"},\"value\":[1,\"2\"]}]}}",
	"{\"x\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"a\":0},"
	"\"status\":\"error\"}",
	"{\"x\":[{\"a\":1},{\"a\":1}],\"status\":\"error\"}",
	"{\"x\":[{\"a\":1,\"a\":1}],\"status\":\"error\"}",
	"{\"x\":{\"y\":{\"a\":1},\"a\":{\"y\":2}},\"status\":\"error\"}",
	"{\"status\":\"error\",\"error\":\"\\ud83d\\ude00 \\u00e9 \\/ \\b\\f\\n\\r\\t \\\" \\\\\"}",
	"{\"status\":\"error\",\"error\":\"\\ud800\"}",
	"{\"status\":\"error\",\"error\":\"\\ud800\\u0041\"}",
	"{\"status\":\"error\",\"error\":\"\\udc00\"}",
	"{\"status\":\"error\",\"error\":\"\\u0000\"}",
	"{\"status\":\"error\",\"error\":\"\\u00\"}",
	"{\"status\":\"error\",\"error\":\"\\x\"}",
	"{\"status\":\"error\",\"error\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
	"{\"status\":\"error\",\"error\":\"\xc0\x80\"}",
	"{\"status\":\"error\",\"error\":\"\xed\xa0\x80\"}",
	"{\"status\":\"error\",\"error\":\"\xf4\x90\x80\x80\"}",
	"{\"status\":\"error\",\"error\":\"\xe2\x82\"}",
	"{\"status\":\"error\",\"error\":\"\x7f\"}",
	"{\"status\":\"error\",\"error\":\"\t\"}",
	"{\"status\":\"error\"}\xc3\xa9",
	"\xef\xbb\xbf{\"status\":\"error\"}",
	"{\"status\":\"error\",\"x\":[true,false,null,tru]}",
	"{\"status\":\"error\",\"x\":[true,false,null,nulll]}",
	"{\"status\":\"error\",\"x\":[01]}",
	"{\"status\":\"error\",\"x\":[-]}",
	"{\"status\":\"error\",\"x\":[1.]}",
	"{\"status\":\"error\",\"x\":[1e]}",
	"{\"status\":\"error\",\"x\":[1e+]}",
	"{\"status\":\"error\",\"x\":[.5]}",
	"{\"status\":\"error\",\"x\":[+1]}",
	"{\"status\":\"error\",\"x\":[9223372036854775807,-9223372036854775808]}",
	"{\"status\":\"error\",\"x\":[9223372036854775808]}",
	"{\"status\":\"error\",\"x\":[-9223372036854775809]}",
	"{\"status\":\"error\",\"x\":[1e308,1e309]}",
	"{\"status\":\"error\",\"x\":[-1e309]}",
	"{\"status\":\"error\",\"x\":[1e-400]}",
	"{\"status\":\"error\",\"x\":[1 2]}",
	"{\"status\":\"error\",\"x\":{\"a\" 1}}",
	"{\"status\":\"error\",\"x\":{1:1}}",
	"{\"status\":\"error\",\"x\":{\"a\":1,}}",
	"{\"status\":\"error\",\"x\":{,}}",
	"{\"status\":\"error\",\"x\":\f1}",
	"{\"status\":\"error\",\"\":1}",
	"{\"status\":\"error\" \"x\":1}",
	"{\"status\":\"error\",}",
	"{\"status\":\"\\u0065rror\"}",
	"{\"\\u0073tatus\":\"error\"}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"\\u0073calar\",\"result\":[1,\"2\"]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"none\",\"result\":[]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1,\"x\"]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\"}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\"}}",
	"{\"status\":\"success\",\"data\":{\"result\":[]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":7,\"result\":[]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{}}]}"
	"}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"value\":[1,"
	"\"2\"]}]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":[],"
	"\"value\":[1,\"2\"]}]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	"\"value\":[1,\"2\",3]}]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	"\"value\":[]}]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	"\"value\":{}}]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	"\"value\":[null,\"1\"]}]}}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	"\"value\":[1,\"1\"],\"extra\":{\"deep\":[[[{}]]]}}],\"x\":1},\"warnings\":[\"w\"]}",
	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{"
	"\"a\":"
	"\"x\"},\"value\":[1,\"1\"]},{\"metric\":{\"a\":\"x\"},\"value\":[2,\"2\"]},{\"metric\":{"
	"\"a\":\"y\",\"b\":\"x\"},\"value\":[3,\"3\"]},{\"metric\":{\"b\":\"x\",\"a\":\"y\"},"
	"\"value\":[4,\"4\"]}]}}",
};

/* Sample values and times as Prometheus or a stranger might write them. */
static const char *const numbers[] = {
	"0",
	"-0",
	"1",
	"-1",
	"0.25",
	"-0.25",
	"0.1",
	"0.30000000000000004",
	"1700000000.123",
	"1700000000",
	"1.5e3",
	"1E3",
	"1e-3",
	"-1.5e-3",
	"1e22",
	"1e23",
	"9007199254740993",
	"9007199254740992",
	"123456789012345678",
	"1234567890123456789",
	"12345678901234567890",
	"0.0000000000000000000001",
	"0.00000000000000000000001",
	"1e308",
	"1e309",
	"1e-400",
	"4.9e-324",
	"2.2250738585072014e-308",
	"0.1234567890123456789",
	"1.7976931348623157e308",
	"00012",
	"+1",
	".5",
	"5.",
	"1.e5",
	"0x10",
	"NaN",
	"+Inf",
	"Inf",
	"-Inf",
	"nan",
	"inf",
	"infinity",
	"",
	"-",
	"1e",
	"1 ",
	" 1",
	"1,5",
	"9223372036854775807",
	"9223372036854775808",
	"-9223372036854775808",
	"-9223372036854775809",
	"18446744073709551616",
	"0.09998866666668013",
	"3.3333333333333335",
	"123456.78901234567",
};

static void test_edge_cases(void **state)
{
	for (size_t i = 0; i < sizeof(edge_cases) / sizeof(edge_cases[0]); i++)
		check_str(edge_cases[i]);
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		char *a = xasprintf("{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
		                    "\"result\":[1,\"%s\"]}}",
		                    numbers[i]);
		char *b = xasprintf("{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
		                    "\"result\":[%s,\"1\"]}}",
		                    numbers[i]);
		check_str(a);
		check_str(b);
		free(a);
		free(b);
	}
	/* The depth limit: 2048 values deep is allowed, 2049 is not. */
	for (size_t d = 2045; d <= 2050; d++) {
		struct strbuf sb;
		strbuf_init(&sb);
		strbuf_puts(&sb, "{\"status\":\"error\",\"x\":");
		for (size_t i = 0; i < d - 2; i++)
			strbuf_puts(&sb, "[");
		for (size_t i = 0; i < d - 2; i++)
			strbuf_puts(&sb, "]");
		strbuf_puts(&sb, "}");
		check(sb.data, sb.len, "deep arrays");
		sb.len = 0;
		strbuf_puts(&sb, "{\"status\":\"error\",\"x\":");
		for (size_t i = 0; i < d - 2; i++)
			strbuf_puts(&sb, "[");
		strbuf_puts(&sb, "7");
		for (size_t i = 0; i < d - 2; i++)
			strbuf_puts(&sb, "]");
		strbuf_puts(&sb, "}");
		check(sb.data, sb.len, "deep arrays around a number");
		strbuf_free(&sb);
	}
	/* NUL bytes. */
	check("{\"status\":\"error\"}\0", 19, "NUL after");
	check("{\"status\":\"err\0or\"}", 19, "NUL in a string");
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char interesting[] = "{}[]\",:\\0123456789-+.eEnulltrfasu \x01\x7f\x80\xc3\xff";

/* Mutations of one seed: truncations, substitutions, insertions, deletions
 * and a piece of another seed spliced in. */
static void mutate(const struct seeds *s, size_t k, size_t count)
{
	const char *d = s->data[k];
	size_t len = s->len[k];
	char *buf = xmalloc(2 * len + 64);
	/* Every truncation of small seeds; some of large ones. */
	for (size_t cut = 0; cut < len; cut += len < 4096 ? 1 : 1 + next_random() % 997)
		check(d, cut, "a truncation");
	for (size_t m = 0; m < count; m++) {
		size_t n = len;
		memcpy(buf, d, len);
		unsigned edits = 1 + (unsigned)(next_random() % 3);
		for (unsigned e = 0; e < edits && n > 0; e++) {
			size_t at = next_random() % n;
			char c = interesting[next_random() % (sizeof(interesting) - 1)];
			switch (next_random() % 5) {
			case 0:
			case 1:
				buf[at] = c;
				break;
			case 2:
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = c;
				n++;
				break;
			case 3:
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default: {
				/* Splice up to 32 bytes of a seed (maybe this one) at at. */
				size_t o = next_random() % s->n;
				if (s->len[o] == 0)
					break;
				size_t from = next_random() % s->len[o];
				size_t piece = 1 + next_random() % 32;
				if (piece > s->len[o] - from)
					piece = s->len[o] - from;
				if (piece > len + 32 - n)
					piece = len + 32 - n;
				memmove(buf + at + piece, buf + at, n - at);
				memcpy(buf + at, s->data[o] + from, piece);
				n += piece;
			}
			}
		}
		check(buf, n, "a mutation");
	}
	free(buf);
}

static void test_corpus_and_captured_answers(void **state)
{
	struct seeds s = { 0 };
	seeds_add_dir(&s, RM_SOURCE_DIR "/tests/fuzz/corpus/prom_json");
	seeds_add_dir(&s, RM_TEST_DATA "/prom_answers");
	size_t before = n_accepted;
	for (size_t i = 0; i < s.n; i++)
		check(s.data[i], s.len[i], "a seed");
	/* The captured answers all parse. */
	assert_true(n_accepted - before >= s.n - 2); /* "truncated" and "matrix" do not */
	for (size_t i = 0; i < sizeof(edge_cases) / sizeof(edge_cases[0]); i++)
		seeds_add(&s, edge_cases[i], strlen(edge_cases[i]));
	for (size_t i = 0; i < s.n; i++)
		mutate(&s, i, s.len[i] < 4096 ? 1500 : 150);
	print_message("%zu inputs compared, %zu accepted by both\n", n_cases, n_accepted);
	seeds_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_corpus_and_captured_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
