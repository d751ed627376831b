/* test_state: the state file: round trip, atomic save, corrupt files, bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rm/state.h"
#include "rm/util.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/rm-state-test-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int r = system(cmd);
	free(cmd);
	return r;
}

static char s_grafana[] = "grafana", s_cpu_high[] = "cpu_high", s_applied[] = "applied",
            s_bg[] = "blue-green", s_bgb[] = "bluegreen",
            s_expl[] = "cpu 85.3% of 1.00 cores > 80% for 3 checks";

static struct rm_state *sample(void)
{
	struct rm_state *s = state_new();
	struct state_service *g = state_service_get(s, "grafana");
	g->engine.cpu_high = 2;
	g->engine.last_change = 1700000000.25;
	g->engine.last_result = ENGINE_RESULT_FAILED;
	g->engine.failures = 1;
	g->engine.backoff_until = 1700003600.5;
	g->engine.day = 19675;
	g->engine.changes_today = 3;
	g->last_good = (struct state_limits){ true, 1.0, 512ull << 20 };
	g->applied = (struct state_limits){ true, 1.25, 640ull << 20 };
	struct state_limits last_good = g->last_good, applied = g->applied;
	/* Adding a service may move the array g points into. */
	state_service_get(s, "redis")->engine.mem_low = 1;
	g = NULL;
	struct state_journal *j = state_journal_add(s, "grafana");
	j->strategy = xstrdup("blue-green");
	j->backend = xstrdup("bluegreen");
	bg_init(&j->machine, 1700000000, true);
	j->machine.phase = BG_WAIT_HEALTHY;
	j->blue_id = xstrdup("abc123");
	j->blue_name = xstrdup("grafana");
	j->green_id = xstrdup("def456");
	j->green_name = xstrdup("grafana-rm-green");
	j->from = last_good;
	j->to = applied;
	struct state_event ev = { .time = 1700000001,
		                  .kind = STATE_EVENT_DEPLOYMENT,
		                  .service = s_grafana,
		                  .reason = s_cpu_high,
		                  .explanation = s_expl,
		                  .outcome = s_applied,
		                  .strategy = s_bg,
		                  .backend = s_bgb,
		                  .duration = 12.5,
		                  .from = last_good,
		                  .to = applied };
	state_history_add(s, &ev, 10);
	struct state_pending *p = state_pending_add(s, "redis");
	p->created = 5;
	p->expires = 86405;
	p->reason = xstrdup("mem_low");
	p->explanation = xstrdup("mem 10.0% of 256 MiB < 30% for 3 checks: 256 -> 192 MiB");
	p->to = (struct state_limits){ true, 0.25, 192ull << 20 };
	return s;
}

static void test_round_trip(void **state)
{
	struct rm_state *s = sample();
	char *a = state_json_serialize(s);
	char err[256];
	struct rm_state *t = NULL;
	assert_int_equal(state_json_parse(a, strlen(a), &t, err, sizeof(err)), 0);
	char *b = state_json_serialize(t);
	assert_string_equal(a, b);
	const struct state_service *g = state_service_find(t, "grafana");
	assert_non_null(g);
	assert_true(g->engine.last_change == 1700000000.25);
	assert_int_equal(g->engine.last_result, ENGINE_RESULT_FAILED);
	assert_int_equal(g->engine.day, 19675);
	assert_int_equal(g->applied.memory, 640ull << 20);
	assert_int_equal(t->journal[0].machine.phase, BG_WAIT_HEALTHY);
	assert_string_equal(t->journal[0].green_id, "def456");
	assert_string_equal(t->journal[0].backend, "bluegreen");
	assert_string_equal(t->history[0].backend, "bluegreen");
	assert_string_equal(t->history[0].explanation,
	                    "cpu 85.3% of 1.00 cores > 80% for 3 checks");
	assert_string_equal(t->pending[0].service, "redis");
	free(a);
	free(b);
	state_free(s);
	state_free(t);
}

static void test_unknown_keys_and_versions(void **state)
{
	char err[256];
	struct rm_state *t = NULL;
	const char *future = "{\"version\":1,\"shiny\":[1,2],\"services\":{\"a\":{\"engine\":"
	                     "{\"day\":3,\"new_counter\":9},\"extra\":true}}}";
	assert_int_equal(state_json_parse(future, strlen(future), &t, err, sizeof(err)), 0);
	assert_int_equal(state_service_find(t, "a")->engine.day, 3);
	state_free(t);
	char *newer = xasprintf("{\"version\":%d}", STATE_FORMAT_VERSION + 1);
	assert_int_equal(state_json_parse(newer, strlen(newer), &t, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "newer"));
	free(newer);
	const char *bad = "{\"services\":{\"a\":{\"engine\":{\"day\":\"monday\"}}}}";
	assert_int_equal(state_json_parse(bad, strlen(bad), &t, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "services.a.engine.day"));
	const char *phase = "{\"journal\":[{\"service\":\"a\",\"phase\":\"dancing\"}]}";
	assert_int_equal(state_json_parse(phase, strlen(phase), &t, err, sizeof(err)), -EBADMSG);
	const char *trunc = "{\"services\":{\"a\":";
	assert_int_equal(state_json_parse(trunc, strlen(trunc), &t, err, sizeof(err)), -EBADMSG);
	/* Nesting is refused before jansson recurses into it. */
	size_t n = 100000;
	char *deep = xmalloc(n + 16);
	strcpy(deep, "{\"shiny\":");
	memset(deep + strlen(deep), '[', n);
	deep[10 + n] = '\0';
	assert_int_equal(state_json_parse(deep, strlen(deep), &t, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "nested deeper than 32"));
	free(deep);
}

static void test_save_and_load(void **state)
{
	char *path = xasprintf("%s/state.json", dir);
	char err[256];
	struct rm_state *s = NULL;
	/* Missing file: empty state, not an error. */
	assert_int_equal(state_load(path, &s, err, sizeof(err)), 0);
	assert_int_equal(s->n_services, 0);
	state_free(s);

	s = sample();
	assert_int_equal(state_save(path, s, 1234.5, err, sizeof(err)), 0);
	char *tmp = xasprintf("%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1); /* no temp file left */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	struct rm_state *t = NULL;
	assert_int_equal(state_load(path, &t, err, sizeof(err)), 0);
	assert_true(t->saved_at == 1234.5);
	assert_int_equal(t->n_history, 1);
	state_free(t);

	/* A save that cannot happen leaves the previous file intact. */
	char *bad = xasprintf("%s/missing/state.json", dir);
	assert_true(state_save(bad, s, 1, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "missing"));
	free(bad);
	state_free(s);
	free(tmp);
	free(path);
}

static void test_corrupt_file_moved_aside(void **state)
{
	char *path = xasprintf("%s/corrupt.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"services\": {\"grafana\": {\"engine\": [", f);
	fclose(f);
	char err[512];
	struct rm_state *s = NULL;
	assert_int_equal(state_load(path, &s, err, sizeof(err)), 1);
	assert_non_null(s);
	assert_int_equal(s->n_services, 0);
	assert_non_null(strstr(err, "corrupt"));
	assert_non_null(strstr(err, ".corrupt-"));
	assert_int_equal(access(path, F_OK), -1);
	/* The bad file still exists under the name the message gives. */
	const char *moved = strstr(err, "moved to ");
	assert_non_null(moved);
	char aside[256];
	sscanf(moved + 9, "%255[^,]", aside);
	assert_int_equal(access(aside, F_OK), 0);
	state_free(s);
	free(path);
}

static void test_history_bounded(void **state)
{
	struct rm_state *s = state_new();
	for (int i = 0; i < 50; i++) {
		char svc[16];
		snprintf(svc, sizeof(svc), "s%d", i);
		struct state_event ev = { .time = i, .service = svc, .outcome = s_applied };
		state_history_add(s, &ev, 20);
	}
	assert_int_equal(s->n_history, 20);
	assert_string_equal(s->history[0].service, "s30");
	assert_string_equal(s->history[19].service, "s49");
	state_journal_add(s, "a");
	state_journal_add(s, "b");
	state_journal_add(s, "a");
	assert_int_equal(s->n_journal, 2);
	state_journal_remove(s, "a");
	assert_int_equal(s->n_journal, 1);
	assert_string_equal(s->journal[0].service, "b");
	state_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_unknown_keys_and_versions),
		cmocka_unit_test(test_save_and_load),
		cmocka_unit_test(test_corrupt_file_moved_aside),
		cmocka_unit_test(test_history_bounded),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
