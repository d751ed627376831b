/* test_state_store: one writer of the state file: the three-way merge, the
 * lock, unique temp files, a failed write that keeps the previous file, an
 * unreadable file reported, and two processes hammering one file. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "rm/deploy.h"
#include "rm/state.h"
#include "rm/state_store.h"
#include "rm/util.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/rm-store-test-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int r = system(cmd);
	free(cmd);
	return r;
}

static void add_event(struct rm_state *s, double t, const char *service, const char *outcome)
{
	struct state_event ev = { .time = t,
		                  .kind = STATE_EVENT_DEPLOYMENT,
		                  .service = (char *)(uintptr_t)service,
		                  .outcome = (char *)(uintptr_t)outcome };
	state_history_add(s, &ev, 1000);
}

static struct rm_state *copy(const struct rm_state *s)
{
	char *j = state_json_serialize(s);
	struct rm_state *t = NULL;
	char err[256];
	assert_int_equal(state_json_parse(j, strlen(j), &t, err, sizeof(err)), 0);
	free(j);
	return t;
}

static bool own_grafana(const char *service, void *ctx)
{
	return strcmp(service, "grafana") == 0;
}

/* The daemon's memory (mine) and a CLI's deployment (theirs), both from base. */
static void test_merge_keeps_other_writers_records(void **state)
{
	struct rm_state *base = state_new();
	state_service_get(base, "redis")->counters.total_adjustments = 4;
	add_event(base, 100, "redis", "applied");
	struct rm_state *mine = copy(base), *theirs = copy(base);
	/* The daemon decided and is deploying grafana. */
	state_service_get(mine, "redis")->engine.cpu_high = 2;
	add_event(mine, 200, "grafana", "recommended");
	state_journal_add(mine, "grafana")->machine.phase = BG_START_GREEN;
	/* Meanwhile the CLI deployed redis, and is deploying web. */
	struct state_service *r = state_service_get(theirs, "redis");
	r->counters.total_adjustments = 5;
	r->counters.successful_adjustments = 1;
	r->applied = (struct state_limits){ true, 0.75, 96u << 20 };
	r->last_good = (struct state_limits){ true, 0.5, 64u << 20 };
	add_event(theirs, 150, "redis", "applied");
	state_journal_add(theirs, "web")->machine.phase = BG_WAIT_HEALTHY;

	state_merge(mine, base, theirs, own_grafana, NULL, 1000);
	const struct state_service *m = state_service_find(mine, "redis");
	assert_int_equal(m->counters.total_adjustments, 5);
	assert_int_equal(m->counters.successful_adjustments, 1);
	assert_true(m->applied.known && m->applied.cpu == 0.75);
	assert_true(m->last_good.known && m->last_good.memory == 64u << 20);
	assert_int_equal(m->engine.cpu_high, 2); /* the daemon's own */
	assert_int_equal(mine->n_history, 3);
	assert_true(mine->history[0].time == 100 && mine->history[1].time == 150 &&
	            mine->history[2].time == 200);
	assert_non_null(state_journal_find(mine, "web"));
	assert_int_equal(state_journal_find(mine, "grafana")->machine.phase, BG_START_GREEN);

	/* Next round: the CLI's web deployment ended; the daemon's grafana too
	 * (its entry removed, no longer its own). Nothing is resurrected. */
	state_free(base);
	base = copy(mine); /* what the daemon saved */
	state_free(theirs);
	theirs = copy(base);
	state_journal_remove(theirs, "web");
	state_service_get(theirs, "web")->counters.total_adjustments = 1;
	state_journal_remove(mine, "grafana");
	state_merge(mine, base, theirs, NULL, NULL, 1000);
	assert_int_equal(mine->n_journal, 0);
	assert_int_equal(state_service_find(mine, "web")->counters.total_adjustments, 1);
	assert_int_equal(state_service_find(mine, "redis")->counters.total_adjustments, 5);
	assert_int_equal(mine->n_history, 3);
	state_free(base);
	state_free(mine);
	state_free(theirs);
}

/* A save goes through whatever lies at the old fixed temp name. */
static void test_temp_names_are_unique(void **state)
{
	char *path = xasprintf("%s/unique.json", dir);
	char *tmp = xasprintf("%s.tmp", path);
	assert_int_equal(mkdir(tmp, 0700), 0);
	char err[256];
	assert_int_equal(file_write_atomic(path, "{}\n", 3, 0600, err, sizeof(err)), 0);
	char *data = NULL;
	size_t len;
	assert_int_equal(file_read_all(path, 100, &data, &len), 0);
	assert_string_equal(data, "{}\n");
	free(data);
	free(tmp);
	free(path);
}

/* A write that fails half-way (here: a file size limit, as a full disk
 * would) leaves the previous file whole, and no temp file. */
static void test_failed_write_keeps_previous_file(void **state)
{
	char *path = xasprintf("%s/prev/state.json", dir);
	char *d = xasprintf("%s/prev", dir);
	assert_int_equal(mkdir(d, 0700), 0);
	char err[256];
	assert_int_equal(file_write_atomic(path, "{\"version\":1}\n", 14, 0600, err, sizeof(err)),
	                 0);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = { 4, 4 };
		setrlimit(RLIMIT_FSIZE, &rl);
		char big[4096];
		memset(big, 'x', sizeof(big));
		int r = file_write_atomic(path, big, sizeof(big), 0600, err, sizeof(err));
		_exit(r == -EFBIG ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char *data = NULL;
	size_t len;
	assert_int_equal(file_read_all(path, 100, &data, &len), 0);
	assert_string_equal(data, "{\"version\":1}\n");
	free(data);
	char *cmd = xasprintf("test \"$(ls '%s' | wc -l)\" = 1", d);
	assert_int_equal(system(cmd), 0); /* no temp file left */
	free(cmd);
	free(d);
	free(path);
}

/* A state file that cannot be read is an error, never an empty state (that
 * would lose the daily count and the journal). */
static void test_unreadable_file_is_an_error(void **state)
{
	char *path = xasprintf("%s/isdir.json", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	char err[256] = "";
	struct rm_state *s = NULL;
	assert_int_equal(state_load(path, &s, err, sizeof(err)), -EISDIR);
	assert_null(s);
	assert_non_null(strstr(err, "isdir.json"));
	struct stat st;
	assert_int_equal(stat(path, &st), 0); /* not moved aside */
	free(path);
}

static void test_lock_excludes(void **state)
{
	char *path = xasprintf("%s/locked.json", dir);
	int a = state_lock(path, 1);
	assert_true(a >= 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(state_lock(path, 0.2) == -EWOULDBLOCK ? 0 : 1);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	state_unlock(a);
	a = state_lock(path, 0.2);
	assert_true(a >= 0);
	state_unlock(a);
	free(path);
}

#define ROUNDS 150

/* The daemon: keeps its state in memory, saves it through the store. */
static int daemon_writer(const char *path)
{
	struct state_store *st = NULL;
	struct rm_state *s = NULL;
	char err[512];
	if (state_store_open(path, &st, &s, err, sizeof(err)) < 0)
		return 1;
	for (int i = 0; i < ROUNDS; i++) {
		char svc[32];
		snprintf(svc, sizeof(svc), "daemon-%d", i);
		add_event(s, time_wall(), svc, "recommended");
		state_service_get(s, "d")->counters.threshold_breaches++;
		if (state_store_save(st, s, time_wall(), NULL, NULL, 10000, err, sizeof(err)) < 0) {
			fprintf(stderr, "daemon writer: %s\n", err);
			return 1;
		}
		/* Writers pause between saves (the daemon saves a few times a
		 * second at most): the other one gets its turn at the lock. */
		usleep(2000);
	}
	state_free(s);
	state_store_free(st);
	return 0;
}

struct cli_round {
	int i;
};

static void cli_step(struct rm_state *s, void *ctx)
{
	const struct cli_round *c = ctx;
	char svc[32];
	snprintf(svc, sizeof(svc), "cli-%d", c->i);
	if (c->i % 2 == 0) {
		struct state_journal *j = state_journal_add(s, "cli");
		j->machine.phase = BG_CREATE_GREEN;
		j->machine.entered = c->i;
		return;
	}
	struct deploy_result res = { .outcome = DEPLOY_APPLIED, .strategy = STRATEGY_IN_PLACE };
	res.from = (struct state_limits){ true, 0.5, 1u << 26 };
	res.to = (struct state_limits){ true, 0.75, 1u << 27 };
	deploy_record(s, "cli", &res, "manual", svc, time_wall(), 10000);
}

/* The CLI: one read-modify-write per journal phase and per record. */
static int cli_writer(const char *path)
{
	char err[512];
	for (int i = 0; i < 2 * ROUNDS; i++) {
		struct cli_round c = { i };
		if (state_update(path, cli_step, &c, time_wall(), err, sizeof(err)) < 0) {
			fprintf(stderr, "cli writer: %s\n", err);
			return 1;
		}
		usleep(1000);
	}
	return 0;
}

static void test_two_writers_lose_nothing(void **state)
{
	char *path = xasprintf("%s/hammer.json", dir);
	pid_t pids[2];
	for (int k = 0; k < 2; k++) {
		pids[k] = fork();
		if (pids[k] == 0)
			_exit(k == 0 ? daemon_writer(path) : cli_writer(path));
	}
	/* Meanwhile a reader always finds a whole file. */
	int running = 2, reads = 0;
	while (running) {
		char *data = NULL;
		size_t len;
		if (file_read_all(path, 64u << 20, &data, &len) == 0) {
			struct rm_state *s = NULL;
			char err[256];
			int r = state_json_parse(data, len, &s, err, sizeof(err));
			if (r < 0)
				fail_msg("torn state file: %s", err);
			state_free(s);
			reads++;
		}
		free(data);
		int st;
		for (int k = 0; k < 2; k++)
			if (pids[k] > 0 && waitpid(pids[k], &st, WNOHANG) == pids[k]) {
				assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
				pids[k] = 0;
				running--;
			}
	}
	assert_true(reads > 0);
	struct rm_state *s = NULL;
	char err[256];
	assert_int_equal(state_load(path, &s, err, sizeof(err)), 0);
	size_t daemon_events = 0, cli_events = 0;
	for (size_t i = 0; i < s->n_history; i++) {
		daemon_events += strncmp(s->history[i].service, "daemon-", 7) == 0;
		cli_events += strcmp(s->history[i].service, "cli") == 0;
	}
	assert_int_equal(daemon_events, ROUNDS);
	assert_int_equal(cli_events, ROUNDS);
	assert_int_equal(state_service_find(s, "cli")->counters.total_adjustments, ROUNDS);
	assert_int_equal(state_service_find(s, "d")->counters.threshold_breaches, ROUNDS);
	assert_int_equal(s->n_journal, 0); /* the CLI's last record removed it */
	state_free(s);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_keeps_other_writers_records),
		cmocka_unit_test(test_temp_names_are_unique),
		cmocka_unit_test(test_failed_write_keeps_previous_file),
		cmocka_unit_test(test_unreadable_file_is_an_error),
		cmocka_unit_test(test_lock_excludes),
		cmocka_unit_test(test_two_writers_lose_nothing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
