/* test_log: the text and JSON line formats, levels and the log file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "rm/log.h"
#include "rm/util.h"

static char *capture(enum log_format fmt, enum log_level level, const char *comp, const char *msg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	log_set_stream(f);
	log_set_format(fmt);
	log_emit(level, comp, "%s", msg);
	log_set_stream(NULL);
	fclose(f);
	return buf;
}

static void test_text_line(void **state)
{
	log_set_level(LOG_INFO);
	char *s = capture(LOG_FORMAT_TEXT, LOG_WARN, "engine",
	                  "cooldown active\tservice=grafana remaining=120s");
	/* time level component msg key=value */
	char ts[32], lvl[8], comp[16];
	assert_int_equal(sscanf(s, "%31s %7s %15s", ts, lvl, comp), 3);
	assert_int_equal(strlen(ts), 24);
	assert_int_equal(ts[23], 'Z');
	assert_string_equal(lvl, "warn");
	assert_string_equal(comp, "engine");
	assert_non_null(strstr(s, " cooldown active service=grafana remaining=120s\n"));
	free(s);
}

static void test_json_line(void **state)
{
	log_set_level(LOG_DEBUG);
	char q[64];
	char *msg = xasprintf("decision\tservice=web reason=%s n=3",
	                      log_quote("cpu 85.3% > 80% \"x\"", q, sizeof(q)));
	char *s = capture(LOG_FORMAT_JSON, LOG_INFO, "engine", msg);
	json_error_t err;
	json_t *j = json_loads(s, 0, &err);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
	assert_string_equal(json_string_value(json_object_get(j, "component")), "engine");
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "decision");
	assert_string_equal(json_string_value(json_object_get(j, "service")), "web");
	assert_string_equal(json_string_value(json_object_get(j, "reason")),
	                    "cpu 85.3% > 80% \"x\"");
	assert_string_equal(json_string_value(json_object_get(j, "n")), "3");
	json_decref(j);
	free(s);
	free(msg);
	log_set_format(LOG_FORMAT_TEXT);
}

static void test_level_filter_and_file(void **state)
{
	log_set_level(LOG_WARN);
	char *s = capture(LOG_FORMAT_TEXT, LOG_INFO, "x", "hidden");
	assert_true(s == NULL || *s == '\0');
	free(s);

	char path[] = "/tmp/rm-log-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_open_file(path, LOG_DEBUG), 0);
	char *t = capture(LOG_FORMAT_TEXT, LOG_DEBUG, "x", "only in the file");
	free(t);
	assert_int_equal(log_open_file(NULL, LOG_INFO), 0);
	char *data;
	size_t len;
	assert_int_equal(file_read_all(path, 1 << 20, &data, &len), 0);
	assert_non_null(strstr(data, "debug x only in the file"));
	free(data);
	unlink(path);
	assert_true(log_open_file("/nonexistent/dir/x.log", LOG_INFO) < 0);
	log_set_level(LOG_INFO);
}

static void test_level_names(void **state)
{
	for (int i = 0; i < _LOG_LEVEL_MAX; i++)
		assert_int_equal(log_level_from_string(log_level_to_string(i)), i);
	assert_int_equal(log_level_from_string("WARNING"), LOG_WARN);
	assert_true(log_level_from_string("loud") < 0);
	assert_int_equal(log_format_from_string("json"), LOG_FORMAT_JSON);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_line),
		cmocka_unit_test(test_json_line),
		cmocka_unit_test(test_level_filter_and_file),
		cmocka_unit_test(test_level_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
