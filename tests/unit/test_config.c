/* test_config: the config loader: original file, value forms, env overrides,
 * bad configs (in-process and through `check-config`), describe. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "rm/config.h"
#include "rm/units.h"
#include "rm/util.h"

static char *describe_to_string(const struct rm_config *cfg, bool strip_origin)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	config_describe(cfg, f);
	fclose(f);
	if (!strip_origin)
		return buf;
	/* Drop the header line and the "# origin" comments: values only. */
	struct strbuf out;
	strbuf_init(&out);
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		char *c = strstr(line, "   # ");
		if (c)
			*c = '\0';
		strbuf_puts(&out, line);
		strbuf_puts(&out, "\n");
	}
	free(buf);
	return strbuf_steal(&out);
}

static struct rm_config *load_ok(const char *yaml, char *const *envp, struct config_report *rep)
{
	struct rm_config *cfg = NULL;
	int r = config_load_data(yaml, strlen(yaml), "test.yml", envp, &cfg, rep);
	if (r != 0)
		config_report_print(rep, "test.yml", stderr);
	assert_int_equal(r, 0);
	assert_non_null(cfg);
	return cfg;
}

static void test_original_file_equals_defaults(void **state)
{
	struct config_report rep = { 0 };
	struct rm_config *cfg = NULL;
	int r = config_load_file(RM_TEST_DATA "/config/original-defaults.yml", NULL, &cfg, &rep);
	config_report_print(&rep, "original-defaults.yml", stderr);
	assert_int_equal(r, 0);
	/* No warning either: every key of the original is known. */
	assert_int_equal(rep.n, 0);
	struct rm_config *def = config_new_default();
	char *a = describe_to_string(cfg, true), *b = describe_to_string(def, true);
	assert_string_equal(a, b);
	/* Spot checks of the parsed values, not only of their rendering. */
	assert_true(cfg->monitoring.check_interval == 300);
	assert_true(cfg->monitoring.analysis_window == 300);
	assert_true(cfg->thresholds.cpu_high == 0.8);
	assert_int_equal(cfg->thresholds.consecutive_checks, 3);
	assert_int_equal(cfg->adjustment.max_memory, 8192 * UNITS_MIB);
	assert_int_equal(cfg->services.monitored.n, 12);
	assert_int_equal(cfg->services.n_baseline, 4);
	assert_int_equal(config_service_class(cfg, "postgres"), CLASS_CRITICAL);
	assert_int_equal(config_service_class(cfg, "jaeger"), CLASS_OPTIONAL);
	assert_int_equal(config_service_class(cfg, "grafana"), CLASS_NORMAL);
	assert_int_equal(config_service_priority(cfg, "vscode"), 3);
	assert_int_equal(config_service_baseline(cfg, "redis")->memory, 256 * UNITS_MIB);
	assert_true(config_service_baseline(cfg, "redis")->cpu == 0.25);
	assert_int_equal(cfg->notifications.webhook.n_headers, 1);
	assert_int_equal(cfg->metrics.port, 8000);
	free(a);
	free(b);
	config_free(cfg);
	config_free(def);
	config_report_free(&rep);
}

static void test_shipped_config_equals_defaults(void **state)
{
	struct config_report rep = { 0 };
	struct rm_config *cfg = NULL;
	assert_int_equal(config_load_file(RM_SOURCE_DIR "/config/config.yml", NULL, &cfg, &rep), 0);
	assert_int_equal(rep.n, 0);
	struct rm_config *def = config_new_default();
	char *a = describe_to_string(cfg, true), *b = describe_to_string(def, true);
	assert_string_equal(a, b);
	free(a);
	free(b);
	config_free(cfg);
	config_free(def);
	config_report_free(&rep);

	/* The embedded copy is the same file. */
	size_t len;
	const char *text = config_embedded_text(&len);
	char *file;
	size_t flen;
	assert_int_equal(file_read_all(RM_SOURCE_DIR "/config/config.yml", 1 << 20, &file, &flen),
	                 0);
	assert_int_equal(len, flen);
	assert_memory_equal(text, file, len);
	free(file);
}

static void test_value_forms(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} mem[] = {
		{ "512M", 512 * UNITS_MIB }, { "1.5G", 1536 * UNITS_MIB },
		{ "64Mi", 64 * UNITS_MIB },  { "1Gi", UNITS_GIB },
		{ "1073741824", UNITS_GIB }, { "2gb", 2 * UNITS_GIB },
		{ "256k", 256 * 1024 },      { "100B", 100 },
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(mem); i++) {
		uint64_t b = 0;
		assert_int_equal(units_parse_memory(mem[i].text, &b), 0);
		assert_int_equal(b, mem[i].bytes);
	}
	static const char *const bad_mem[] = { "", "M", "12X", "-5M", "1.2.3G", "5 M x", "0x10" };
	for (size_t i = 0; i < RM_ARRAY_SIZE(bad_mem); i++) {
		uint64_t b = 7;
		assert_true(units_parse_memory(bad_mem[i], &b) < 0);
		assert_int_equal(b, 7);
	}
	static const struct {
		const char *text;
		double s;
	} dur[] = { { "300", 300 },  { "30s", 30 },     { "5m", 300 },     { "1h", 3600 },
		    { "1d", 86400 }, { "1h30m", 5400 }, { "250ms", 0.25 }, { "2.5", 2.5 } };
	for (size_t i = 0; i < RM_ARRAY_SIZE(dur); i++) {
		double s = -1;
		assert_int_equal(units_parse_duration(dur[i].text, &s), 0);
		assert_true(s == dur[i].s);
	}
	static const char *const bad_dur[] = { "", "5x", "m", "-1", "5m3", "1h 2" };
	for (size_t i = 0; i < RM_ARRAY_SIZE(bad_dur); i++) {
		double s = 0;
		assert_true(units_parse_duration(bad_dur[i], &s) < 0);
	}
	double c = 0;
	assert_int_equal(units_parse_cpu("0.5", &c), 0);
	assert_true(c == 0.5);
	assert_int_equal(units_parse_cpu("250m", &c), 0);
	assert_true(c == 0.25);
	assert_true(units_parse_cpu("lots", &c) < 0);

	/* The same forms through a config file. */
	struct config_report rep = { 0 };
	struct rm_config *cfg =
	        load_ok("monitoring:\n  check_interval: 30s\n  analysis_window: 2m\n"
	                "adjustment:\n  min_memory: 64Mi\n  max_memory: 1.5G\n"
	                "  min_cpu: 250m\n  max_cpu: 2\n"
	                "thresholds:\n  cpu_high: 0.9\n",
	                NULL, &rep);
	assert_true(cfg->monitoring.check_interval == 30);
	assert_true(cfg->monitoring.analysis_window == 120);
	assert_int_equal(cfg->adjustment.min_memory, 64 * UNITS_MIB);
	assert_int_equal(cfg->adjustment.max_memory, 1536 * UNITS_MIB);
	assert_true(cfg->adjustment.min_cpu == 0.25);
	assert_true(cfg->thresholds.cpu_high == 0.9);
	/* Keys not in the file keep their defaults. */
	assert_true(cfg->thresholds.cpu_low == 0.3);
	config_free(cfg);
	config_report_free(&rep);
}

static void test_env_overrides(void **state)
{
	static char e0[] = "PROMETHEUS_URL=http://127.0.0.1:9999";
	static char e1[] = "DOCKER_HOST=unix:///run/x.sock";
	static char e2[] = "CHECK_INTERVAL=42";
	static char e3[] = "CPU_HIGH_THRESHOLD=0.91";
	static char e4[] = "CPU_LOW_THRESHOLD=0.11";
	static char e5[] = "MEMORY_HIGH_THRESHOLD=0.92";
	static char e6[] = "MEMORY_LOW_THRESHOLD=0.12";
	static char e7[] = "INCREASE_FACTOR=1.5";
	static char e8[] = "DECREASE_FACTOR=0.5";
	static char e9[] = "LOG_LEVEL=debug";
	static char e10[] = "LOG_FILE=/tmp/rm-test.log";
	static char e11[] = "BLUE_GREEN_ENABLED=false";
	static char e12[] = "UNRELATED=1";
	static char *const envp[] = { e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, NULL };
	struct config_report rep = { 0 };
	/* The file sets some of the same keys: env wins. */
	struct rm_config *cfg = load_ok(
	        "monitoring:\n  check_interval: 600\nthresholds:\n  cpu_high: 0.7\n", envp, &rep);
	assert_string_equal(cfg->monitoring.prometheus_url, "http://127.0.0.1:9999");
	assert_string_equal(cfg->docker.host, "unix:///run/x.sock");
	assert_true(cfg->monitoring.check_interval == 42);
	assert_true(cfg->thresholds.cpu_high == 0.91);
	assert_true(cfg->thresholds.cpu_low == 0.11);
	assert_true(cfg->thresholds.memory_high == 0.92);
	assert_true(cfg->thresholds.memory_low == 0.12);
	assert_true(cfg->adjustment.increase_factor == 1.5);
	assert_true(cfg->adjustment.decrease_factor == 0.5);
	assert_int_equal(cfg->logging.level, LOG_DEBUG);
	assert_string_equal(cfg->notifications.logfile.path, "/tmp/rm-test.log");
	assert_false(cfg->blue_green.enabled);
	char *d = describe_to_string(cfg, false);
	assert_non_null(strstr(d, "monitoring.check_interval = 42s   # env CHECK_INTERVAL"));
	assert_non_null(strstr(d, "thresholds.cpu_low = 0.11   # env CPU_LOW_THRESHOLD"));
	assert_non_null(strstr(d, "thresholds.memory_low = 0.3") == NULL ? "" : NULL);
	free(d);
	config_free(cfg);
	config_report_free(&rep);
}

static void test_unknown_key_warns(void **state)
{
	struct config_report rep = { 0 };
	struct rm_config *cfg =
	        load_ok("thresholds:\n  cpu_hihg: 0.9\nextra_section:\n  a: 1\n", NULL, &rep);
	assert_int_equal(rep.n_errors, 0);
	assert_int_equal(rep.n, 2);
	assert_string_equal(rep.problems[0].path, "thresholds.cpu_hihg");
	assert_int_equal(rep.problems[0].line, 2);
	assert_non_null(strstr(rep.problems[0].message, "did you mean thresholds.cpu_high"));
	assert_string_equal(rep.problems[1].path, "extra_section");
	assert_int_equal(rep.problems[1].line, 3);
	assert_true(cfg->thresholds.cpu_high == 0.8);
	config_free(cfg);
	config_report_free(&rep);
}

static void test_verify_probe_too_short_warns(void **state)
{
	/* A probe of 2 answers through a router balancing over blue and green
	 * may see only blue: a warning, the value kept. */
	struct config_report rep = { 0 };
	struct rm_config *cfg =
	        load_ok("blue_green:\n  verify_url: http://127.0.0.1:8080/\n  verify_requests: 2\n",
	                NULL, &rep);
	assert_int_equal(rep.n_errors, 0);
	assert_int_equal(rep.n, 1);
	assert_string_equal(rep.problems[0].path, "blue_green.verify_requests");
	assert_non_null(strstr(rep.problems[0].message, "may all come from the old container"));
	assert_int_equal(cfg->blue_green.verify_requests, 2);
	config_free(cfg);
	config_report_free(&rep);
	/* Without a probe URL the count means nothing: no warning. */
	cfg = load_ok("blue_green:\n  verify_requests: 2\n", NULL, &rep);
	assert_int_equal(rep.n, 0);
	config_free(cfg);
	config_report_free(&rep);
}

struct bad_case {
	const char *name;
	const char *yaml; /* NULL: built by the test */
	const char *env;  /* one NAME=value, or NULL */
	const char *want; /* substring of the first error */
	int line;         /* line of that error, 0 = not checked */
};

static const struct bad_case bad_cases[] = {
	{ "syntax", "monitoring:\n  check_interval: [300\nthresholds: {}\n", NULL,
	  "YAML syntax error", 3 },
	{ "wrong type", "thresholds:\n  cpu_high: high\n", NULL, "thresholds.cpu_high", 2 },
	{ "out of range", "thresholds:\n  cpu_high: 1.5\n", NULL, "thresholds.cpu_high", 2 },
	{ "low above high", "thresholds:\n  cpu_low: 0.9\n  cpu_high: 0.8\n", NULL,
	  "thresholds.cpu_low", 2 },
	{ "critical not monitored", "services:\n  monitored: [a]\n  critical: [b]\n", NULL,
	  "services.critical", 3 },
	{ "negative interval", "monitoring:\n  check_interval: -5\n", NULL,
	  "monitoring.check_interval", 2 },
	{ "zero interval", "monitoring:\n  check_interval: 0\n", NULL, "monitoring.check_interval",
	  2 },
	{ "empty file", "", NULL, "holds no settings", 0 },
	{ "unknown policy", "adjustment:\n  policy: magic\n", NULL, "adjustment.policy", 2 },
	{ "policy from env", "monitoring: {}\n", "ADJUSTMENT_POLICY=magic", "ADJUSTMENT_POLICY",
	  0 },
	{ "percentile too low", "recommender:\n  cpu_percentile: 0.3\n", NULL,
	  "recommender.cpu_percentile", 2 },
	{ "negative margin", "recommender:\n  memory_margin: -0.1\n", NULL,
	  "recommender.memory_margin", 2 },
	{ "short half-life", "recommender:\n  half_life: 10\n", NULL, "recommender.half_life", 2 },
	{ "zero tolerance", "recommender:\n  tolerance: 0\n", NULL, "recommender.tolerance", 2 },
	{ "only comments", "# nothing here\n", NULL, "holds no settings", 0 },
	{ "bad memory", "adjustment:\n  min_memory: 64X\n", NULL, "adjustment.min_memory", 2 },
	{ "min above max", "adjustment:\n  min_cpu: 4\n  max_cpu: 2\n", NULL, "adjustment.min_cpu",
	  2 },
	{ "baseline outside bounds",
	  "services:\n  monitored: [a]\n  baseline:\n    a: {memory: 16G}\n", NULL,
	  "services.baseline", 4 },
	{ "baseline not monitored", "services:\n  monitored: [a]\n  baseline:\n    b: {cpu: 1}\n",
	  NULL, "services.baseline", 4 },
	{ "priority unknown service", "services:\n  monitored: [a]\n  priority:\n    zz: 1\n", NULL,
	  "services.priority", 4 },
	{ "section is a scalar", "thresholds: 5\n", NULL, "thresholds", 1 },
	{ "list expected", "services:\n  monitored: grafana\n", NULL, "services.monitored", 2 },
	{ "factor below 1", "adjustment:\n  increase_factor: 0.9\n", NULL,
	  "adjustment.increase_factor", 2 },
	{ "duplicate key", "monitoring:\n  check_interval: 1\n  check_interval: 2\n", NULL,
	  "duplicate key", 3 },
	{ "unknown event", "notifications:\n  events: [resource_adjustment, lunch]\n", NULL,
	  "notifications.events", 2 },
	{ "bad port", "metrics:\n  port: 70000\n", NULL, "metrics.port", 2 },
	{ "bad boolean", "automation:\n  dry_run: maybe\n", NULL, "automation.dry_run", 2 },
	{ "no value", "thresholds:\n  cpu_high:\n", NULL, "thresholds.cpu_high", 2 },
	{ "top-level list", "- a\n- b\n", NULL, "expected a mapping of sections", 1 },
	{ "alias", "monitoring:\n  check_interval: &x 5\n  query_timeout: *x\n", NULL, "aliases",
	  3 },
	{ "bad env", "services:\n  monitored: [a]\n", "CPU_HIGH_THRESHOLD=abc",
	  "CPU_HIGH_THRESHOLD", 0 },
	{ "bad env interval", "services:\n  monitored: [a]\n", "CHECK_INTERVAL=soon",
	  "CHECK_INTERVAL", 0 },
	{ "env makes low above high", "thresholds:\n  memory_high: 0.5\n",
	  "MEMORY_LOW_THRESHOLD=0.6", "MEMORY_LOW_THRESHOLD", 0 },
	{ "bad url", "monitoring:\n  prometheus_url: prometheus:9090\n", NULL,
	  "monitoring.prometheus_url", 2 },
	{ "bad docker host", "docker:\n  host: docker\n", NULL, "docker.host", 2 },
	{ "several documents", "monitoring: {}\n---\nthresholds: {}\n", NULL, "more than one", 2 },
	{ "no web workers", "web:\n  workers: 0\n", NULL, "web.workers", 2 },
	{ "web timeout too long", "web:\n  request_timeout: 1h\n", NULL, "web.request_timeout", 2 },
	{ "host with scheme", "web:\n  allowed_hosts: [\"http://rm.example.com\"]\n", NULL,
	  "web.allowed_hosts", 2 },
	{ "verify url without scheme", "blue_green:\n  verify_url: web.example/health\n", NULL,
	  "blue_green.verify_url: 'web.example/health' must start with http://", 0 },
	{ "no verify requests", "blue_green:\n  verify_requests: 0\n", NULL,
	  "blue_green.verify_requests: 0 must be between 1 and 1000", 0 },
	{ "too many verify requests", "blue_green:\n  verify_requests: 1001\n", NULL,
	  "blue_green.verify_requests", 0 },
	{ "verify timeout too long", "blue_green:\n  verify_timeout: 1h\n", NULL,
	  "blue_green.verify_timeout", 0 },
	{ "traefik api without scheme", "blue_green:\n  traefik_api: traefik:8080\n", NULL,
	  "blue_green.traefik_api", 0 },
};

/* Runs `resource-manager check-config --config path` with one extra env var;
 * returns its exit status and its stderr in *ret_err. */
static int run_check_config(const char *path, const char *env, char **ret_err)
{
	const char *bin = getenv("RM_BINARY");
	assert_non_null(bin);
	char *errfile = xasprintf("%s/check-config-%d.err", RM_TEST_OUTPUT, (int)getpid());
	char *cmd = xasprintf("mkdir -p '%s' && env -i %s '%s' check-config --quiet --config '%s' "
	                      ">/dev/null 2>'%s'",
	                      RM_TEST_OUTPUT, env ? env : "", bin, path, errfile);
	int st = system(cmd);
	size_t len;
	assert_int_equal(file_read_all(errfile, 1 << 20, ret_err, &len), 0);
	unlink(errfile);
	free(errfile);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void check_bad(const struct bad_case *c, const char *data, size_t len)
{
	char env_buf[128];
	char *envp[2] = { NULL, NULL };
	if (c->env) {
		snprintf(env_buf, sizeof(env_buf), "%s", c->env);
		envp[0] = env_buf;
	}
	struct config_report rep = { 0 };
	struct rm_config *cfg = (struct rm_config *)0x1;
	int r = config_load_data(data, len, "bad.yml", envp, &cfg, &rep);
	if (r != -EINVAL || rep.n_errors == 0)
		fail_msg("case '%s': loaded without error", c->name);
	assert_ptr_equal(cfg, (struct rm_config *)0x1); /* untouched on failure */
	const struct config_problem *first = NULL;
	for (size_t i = 0; i < rep.n && !first; i++)
		if (rep.problems[i].severity == CONFIG_ERROR)
			first = &rep.problems[i];
	char *text = xasprintf("%s: %s", first->path, first->message);
	if (!strstr(text, c->want))
		fail_msg("case '%s': error '%s' does not name '%s'", c->name, text, c->want);
	if (c->line && first->line != c->line)
		fail_msg("case '%s': error at line %d, expected %d", c->name, first->line, c->line);
	free(text);
	config_report_free(&rep);
}

static void test_bad_configs(void **state)
{
	for (size_t i = 0; i < RM_ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		check_bad(c, c->yaml, strlen(c->yaml));

		/* The same file through the CLI: exit 1 and the key or line named. */
		char *path = xasprintf("%s/bad-%zu.yml", RM_TEST_OUTPUT, i);
		FILE *f = fopen(path, "w");
		if (!f) {
			assert_int_equal(system("mkdir -p '" RM_TEST_OUTPUT "'"), 0);
			f = fopen(path, "w");
		}
		assert_non_null(f);
		fputs(c->yaml, f);
		fclose(f);
		char *err = NULL;
		int st = run_check_config(path, c->env, &err);
		if (st != 1)
			fail_msg("case '%s': check-config exited %d, not 1", c->name, st);
		if (!strstr(err, c->want))
			fail_msg("case '%s': check-config said '%s'", c->name, err);
		if (c->line) {
			char *at = xasprintf("%s:%d: error", path, c->line);
			if (!strstr(err, at))
				fail_msg("case '%s': no '%s' in '%s'", c->name, at, err);
			free(at);
		}
		free(err);
		unlink(path);
		free(path);
	}
}

static void test_binary_and_huge_files(void **state)
{
	/* Binary garbage, with and without NUL bytes. */
	unsigned char garbage[4096];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(garbage); i++) {
		x = x * 1103515245u + 12345u;
		garbage[i] = (unsigned char)(x >> 16);
	}
	struct bad_case nul = { "binary", NULL, NULL, "NUL bytes", 0 };
	garbage[10] = 0;
	check_bad(&nul, (const char *)garbage, sizeof(garbage));
	for (size_t i = 0; i < sizeof(garbage); i++)
		if (garbage[i] == 0)
			garbage[i] = 0xff;
	struct bad_case noz = { "binary without NUL", NULL, NULL, "YAML syntax error", 0 };
	check_bad(&noz, (const char *)garbage, sizeof(garbage));

	/* Nesting deeper than any configuration needs is refused, never recursed. */
	size_t n = 100000;
	char *deep = xmalloc(n + 16);
	strcpy(deep, "monitoring: ");
	memset(deep + 12, '[', n);
	deep[12 + n] = '\0';
	struct bad_case nest = { "nested", NULL, NULL, "nested too deeply", 0 };
	check_bad(&nest, deep, strlen(deep));
	free(deep);

	/* A 10 MB file is refused before it is parsed. */
	char *path = xasprintf("%s/huge.yml", RM_TEST_OUTPUT);
	assert_int_equal(system("mkdir -p '" RM_TEST_OUTPUT "'"), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 10 * 1024 * 1024 / 32; i++)
		fputs("# padding padding padding pad\n", f);
	fclose(f);
	struct config_report rep = { 0 };
	struct rm_config *cfg = NULL;
	assert_int_equal(config_load_file(path, NULL, &cfg, &rep), -EINVAL);
	assert_null(cfg);
	assert_non_null(strstr(rep.problems[0].message, "larger than"));
	config_report_free(&rep);
	char *err = NULL;
	assert_int_equal(run_check_config(path, NULL, &err), 1);
	assert_non_null(strstr(err, "larger than"));
	free(err);
	unlink(path);
	free(path);

	/* A missing file. */
	char *err2 = NULL;
	assert_int_equal(run_check_config("/nonexistent/config.yml", NULL, &err2), 1);
	assert_non_null(strstr(err2, "No such file"));
	free(err2);
}

static void test_all_problems_at_once(void **state)
{
	const char *yaml = "thresholds:\n  cpu_high: 2\n  memory_low: x\n"
	                   "adjustment:\n  min_memory: 1Q\n"
	                   "metrics:\n  port: 0\n";
	struct config_report rep = { 0 };
	struct rm_config *cfg = NULL;
	assert_int_equal(config_load_data(yaml, strlen(yaml), "t", NULL, &cfg, &rep), -EINVAL);
	assert_int_equal(rep.n_errors, 4);
	const char *paths[] = { "thresholds.cpu_high", "thresholds.memory_low",
		                "adjustment.min_memory", "metrics.port" };
	const int lines[] = { 2, 3, 5, 7 };
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(rep.problems[i].path, paths[i]);
		assert_int_equal(rep.problems[i].line, lines[i]);
	}
	config_report_free(&rep);
}

static void test_describe_lists_unused_keys(void **state)
{
	struct rm_config *cfg = config_new_default();
	char *d = describe_to_string(cfg, false);
	assert_non_null(strstr(d, "# accepted but not used yet:"));
	for (size_t i = 0; i < config_key_count(); i++) {
		char *line = xasprintf("\n%s = ", config_key_path(i));
		assert_non_null(strstr(d, line));
		free(line);
		if (!config_key_used(i)) {
			char *word = xasprintf(" %s", config_key_path(i));
			const char *unused = strstr(d, "# accepted but not used yet:");
			assert_non_null(strstr(unused, word));
			free(word);
		}
	}
	free(d);
	config_free(cfg);
}

static void test_docs_cover_every_key(void **state)
{
	char *doc;
	size_t len;
	assert_int_equal(file_read_all(RM_SOURCE_DIR "/docs/configuration.md", 1 << 20, &doc, &len),
	                 0);
	for (size_t i = 0; i < config_key_count(); i++) {
		char *k = xasprintf("`%s`", config_key_path(i));
		if (!strstr(doc, k))
			fail_msg("docs/configuration.md does not document %s", k);
		free(k);
		const char *env = config_key_env(i);
		if (env) {
			char *e = xasprintf("`%s`", env);
			if (!strstr(doc, e))
				fail_msg("docs/configuration.md does not name env %s", e);
			free(e);
		}
	}
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_original_file_equals_defaults),
		cmocka_unit_test(test_shipped_config_equals_defaults),
		cmocka_unit_test(test_value_forms),
		cmocka_unit_test(test_env_overrides),
		cmocka_unit_test(test_unknown_key_warns),
		cmocka_unit_test(test_verify_probe_too_short_warns),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_binary_and_huge_files),
		cmocka_unit_test(test_all_problems_at_once),
		cmocka_unit_test(test_describe_lists_unused_keys),
		cmocka_unit_test(test_docs_cover_every_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
