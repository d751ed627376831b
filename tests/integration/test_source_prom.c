/* test_source_prom: the Prometheus source and auto selection against the real
 * Prometheus that scripts/test.sh runs (RM_TEST_PROMETHEUS_URL). An exporter
 * in this test serves cAdvisor-style series whose values it controls; it is
 * registered through a file_sd file in RM_TEST_PROM_TARGETS_DIR and scraped
 * every second. Every name carries this run's id, and services.project is a
 * per-run compose project, so no other test's data can match. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "loopback_server.h"
#include "rm/config.h"
#include "rm/log.h"
#include "rm/prom.h"
#include "rm/source_auto.h"
#include "rm/source_prom.h"
#include "rm/util.h"

#define MIB          (1024.0 * 1024.0)
#define N_SCALE      300
#define SENTINEL_STR "9223372036854771712"
/* rate() divides by the whole range: values are exact once the exporter has
 * been scraped for longer than this. */
#define ANALYSIS_WINDOW 5

/* One exported container. Strings are sample values as exported (NULL =
 * series absent); rates < 0 mean the counter is absent. */
struct tcontainer {
	char project[40], service[40], name[80];
	char stack[40], swarm[80]; /* a Swarm task's stack and service ("" = none) */
	int node;                  /* the exporter ("node") that reports it: 0 or 1 */
	double cpu_rate;
	const char *quota, *period, *mem, *mem_limit;
	double throttled_rate, periods_rate;
	bool oom;
	double age; /* seconds before the exporter started; < 0: no start time */
};

static struct {
	const char *prom_url, *targets_dir;
	char rid[32], project[40], other_project[40];
	char sd_path[512];
	struct tcontainer *c;
	size_t n;
	double t0;           /* wall-clock start of the counters */
	double first_scrape; /* wall clock of the exporter's first answer, 0 before */
	pthread_mutex_t lock;
	struct lserver exporter;
	struct lserver exporter2; /* a second "node": Swarm tasks with node 1 */
} t = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct tcontainer *add(const char *project, const char *service, const char *name)
{
	t.c = xreallocarray(t.c, t.n + 1, sizeof(*t.c));
	struct tcontainer *c = &t.c[t.n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->project, sizeof(c->project), "%s", project ? project : "");
	snprintf(c->service, sizeof(c->service), "%s", service ? service : "");
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->cpu_rate = c->throttled_rate = c->periods_rate = -1;
	c->age = 100;
	return c;
}

/* A compose container of this run's project: name <project>-<service>-<n>. */
static struct tcontainer *compose(const char *project, const char *service, int n)
{
	char name[80];
	snprintf(name, sizeof(name), "%s-%s-%d", project, service, n);
	return add(project, service, name);
}

static void put(struct strbuf *sb, const char *metric, const struct tcontainer *c,
                const char *value)
{
	strbuf_printf(sb, "%s{name=\"%s\"", metric, c->name);
	if (c->service[0])
		strbuf_printf(sb, ",container_label_com_docker_compose_service=\"%s\"", c->service);
	if (c->project[0])
		strbuf_printf(sb, ",container_label_com_docker_compose_project=\"%s\"", c->project);
	if (c->swarm[0])
		strbuf_printf(sb,
		              ",container_label_com_docker_swarm_service_name=\"%s\","
		              "container_label_com_docker_stack_namespace=\"%s\"",
		              c->swarm, c->stack);
	strbuf_printf(sb, "} %s\n", value);
}

static void put_counter(struct strbuf *sb, const char *metric, const struct tcontainer *c,
                        double rate, double elapsed)
{
	char v[64];
	if (rate < 0)
		return;
	snprintf(v, sizeof(v), "%.6f", 1000 + rate * elapsed);
	put(sb, metric, c, v);
}

/* The exporter: every metric as one group, as the text format wants. */
static char *exporter_body(void *ctx, const char *request, size_t request_len, size_t *len)
{
	int node = ctx ? 1 : 0;
	pthread_mutex_lock(&t.lock);
	struct tcontainer *all = t.c;
	size_t n_all = t.n;
	struct tcontainer *mine = xcalloc(n_all + 1, sizeof(*mine));
	size_t n_mine = 0;
	for (size_t i = 0; i < n_all; i++)
		if (all[i].node == node)
			mine[n_mine++] = all[i];
	t.c = mine;
	t.n = n_mine;
	double el = time_wall() - t.t0;
	if (t.first_scrape == 0)
		t.first_scrape = time_wall();
	struct strbuf b;
	strbuf_init(&b);
	char v[64];
	for (size_t i = 0; i < t.n; i++)
		put_counter(&b, "container_cpu_usage_seconds_total", &t.c[i], t.c[i].cpu_rate, el);
	for (size_t i = 0; i < t.n; i++)
		put_counter(&b, "container_cpu_cfs_throttled_periods_total", &t.c[i],
		            t.c[i].throttled_rate, el);
	for (size_t i = 0; i < t.n; i++)
		put_counter(&b, "container_cpu_cfs_periods_total", &t.c[i], t.c[i].periods_rate,
		            el);
	for (size_t i = 0; i < t.n; i++)
		if (t.c[i].oom)
			put(&b, "container_oom_events_total", &t.c[i], "0");
	for (size_t i = 0; i < t.n; i++)
		if (t.c[i].quota)
			put(&b, "container_spec_cpu_quota", &t.c[i], t.c[i].quota);
	for (size_t i = 0; i < t.n; i++)
		if (t.c[i].period)
			put(&b, "container_spec_cpu_period", &t.c[i], t.c[i].period);
	for (size_t i = 0; i < t.n; i++)
		if (t.c[i].mem)
			put(&b, "container_memory_working_set_bytes", &t.c[i], t.c[i].mem);
	for (size_t i = 0; i < t.n; i++)
		if (t.c[i].mem_limit)
			put(&b, "container_spec_memory_limit_bytes", &t.c[i], t.c[i].mem_limit);
	for (size_t i = 0; i < t.n; i++) {
		if (t.c[i].age < 0)
			continue;
		snprintf(v, sizeof(v), "%.3f", t.t0 - t.c[i].age);
		put(&b, "container_start_time_seconds", &t.c[i], v);
	}
	t.c = all;
	t.n = n_all;
	free(mine);
	pthread_mutex_unlock(&t.lock);
	char *resp = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
	                       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	                       b.len, b.data);
	strbuf_free(&b);
	*len = strlen(resp);
	return resp;
}

/* The services of the main check; byname, solo and meta_byname carry the run
 * id. */
#define N_MAIN       13
#define META_SERVICE "a.+*?()|[]{}^$"
static char byname_service[40], solo_service[40], meta_byname[48];
static const char *main_services[N_MAIN] = {
	"web",          "grafana",    "unlim",   "unlim2",  "nanny",          "sparse",
	byname_service, solo_service, "dot.svc", "missing", "grafana-render", META_SERVICE,
	meta_byname,
};

static void build_scenarios(void)
{
	const char *P = t.project;
	struct tcontainer *c;
	for (int i = 1; i <= 2; i++) { /* web: two replicas, summed */
		c = compose(P, "web", i);
		c->cpu_rate = 0.25 * i;
		c->quota = "150000";
		c->period = "100000";
		c->mem = i == 1 ? "104857600" : "209715200";
		c->mem_limit = "268435456";
		c->throttled_rate = 2;
		c->periods_rate = 10;
		c->oom = true;
		c->age = 100 / i;
	}
	c = compose(t.other_project, "web", 1); /* same service, other project */
	c->cpu_rate = 5;
	c->mem = "1073741824";
	c->mem_limit = "0";
	c = compose(P, "grafana", 1);
	c->cpu_rate = 0.1;
	c->quota = "50000";
	c->period = "100000";
	c->mem = "10485760";
	c->mem_limit = "67108864";
	c->oom = true;
	c = compose(P, "grafana-renderer", 1); /* look-alike, not monitored */
	c->cpu_rate = 2;
	c->quota = "400000";
	c->period = "100000";
	c->mem = "1073741824";
	c->mem_limit = "2147483648";
	c = compose(P, "unlim", 1); /* quota -1, memory limit 0 */
	c->cpu_rate = 0.05;
	c->quota = "-1";
	c->period = "100000";
	c->mem = "1048576";
	c->mem_limit = "0";
	c = compose(P, "unlim2", 1); /* no quota series, the huge sentinel */
	c->cpu_rate = 0.05;
	c->mem = "1048576";
	c->mem_limit = SENTINEL_STR;
	c = compose(P, "nanny", 1); /* NaN memory, period 0 (limit +Inf) */
	c->cpu_rate = 0.05;
	c->quota = "100000";
	c->period = "0";
	c->mem = "NaN";
	c->mem_limit = "67108864";
	c = compose(P, "sparse", 1); /* memory only */
	c->mem = "5242880";
	char name[80];
	snprintf(name, sizeof(name), "rms%s", t.rid); /* no compose labels, by name */
	c = add(NULL, NULL, name);
	c->cpu_rate = 0.2;
	c->mem = "3145728";
	c->mem_limit = "67108864";
	snprintf(name, sizeof(name), "solo%s", t.rid); /* service label == name */
	c = add(P, name, name);
	c->cpu_rate = 0.3;
	c->mem = "1048576";
	c->mem_limit = "67108864";
	c = compose(P, "dotxsvc", 1); /* "dot.svc" must not match it */
	c->cpu_rate = 1;
	c->mem = "1048576";
	/* Swarm: the stack (the project) runs api with a task on each of the
	 * two "nodes"; another stack's api is not summed in. */
	for (int i = 1; i <= 2; i++) {
		char task[80];
		snprintf(task, sizeof(task), "%s_api.%d.task%d", P, i, i);
		c = add(NULL, NULL, task);
		snprintf(c->stack, sizeof(c->stack), "%s", P);
		snprintf(c->swarm, sizeof(c->swarm), "%s_api", P);
		c->node = i - 1;
		c->cpu_rate = 0.1 * i;
		c->quota = "50000";
		c->period = "100000";
		c->mem = i == 1 ? "10485760" : "20971520";
		c->mem_limit = "67108864";
	}
	c = add(NULL, NULL, "other_api.1.x");
	snprintf(c->stack, sizeof(c->stack), "%s", t.other_project);
	snprintf(c->swarm, sizeof(c->swarm), "%s_api", t.other_project);
	c->node = 1;
	c->cpu_rate = 3;
	c->mem = "1073741824";
	/* A service named with regex metacharacters, and what its unescaped
	 * pattern would also match. */
	c = compose(P, META_SERVICE, 1);
	c->cpu_rate = 0.4;
	c->mem = "1048576";
	c = compose(P, "abc", 1);
	c->cpu_rate = 2;
	c->mem = "1048576";
	/* The same by name on containers of no project (the discovery path). */
	c = add(NULL, NULL, meta_byname);
	c->cpu_rate = 0.15;
	c->mem = "2097152";
	snprintf(name, sizeof(name), "nlook%s", t.rid);
	c = add(NULL, NULL, name);
	c->cpu_rate = 3;
	c->mem = "1048576";
	/* Another project's container named like a monitored service. */
	c = add(t.other_project, "other", "grafana");
	c->cpu_rate = 4;
	c->mem = "1048576";
	for (int i = 0; i < N_SCALE; i++) {
		char svc[16];
		snprintf(svc, sizeof(svc), "s%03d", i);
		c = compose(P, svc, 1);
		c->mem = "1048576";
		c->age = -1;
	}
}

static struct rm_config *test_config(const char *url)
{
	struct rm_config *cfg = config_new_default();
	free(cfg->monitoring.prometheus_url);
	cfg->monitoring.prometheus_url = xstrdup(url);
	cfg->monitoring.query_timeout = 5;
	cfg->monitoring.analysis_window = ANALYSIS_WINDOW;
	cfg->monitoring.trend_window = 20;
	cfg->monitoring.check_interval = 10;
	free(cfg->services.project);
	cfg->services.project = xstrdup(t.project);
	return cfg;
}

/* Polls query until it gives at least one sample, up to timeout seconds. */
static bool wait_for_series(const char *query, double timeout)
{
	struct prom_client *pc;
	assert_int_equal(prom_client_new(t.prom_url, 2, 0, &pc, NULL, 0), 0);
	double end = time_monotonic() + timeout;
	bool ok = false;
	while (!ok && time_monotonic() < end) {
		struct prom_response r;
		if (prom_query(pc, query, 0, &r, NULL, 0) == 0) {
			ok = r.n_samples > 0 && r.samples[0].value == 1;
			prom_response_free(&r);
		}
		if (!ok)
			usleep(200 * 1000);
	}
	prom_client_free(pc);
	return ok;
}

static int setup(void **state)
{
	t.prom_url = getenv("RM_TEST_PROMETHEUS_URL");
	t.targets_dir = getenv("RM_TEST_PROM_TARGETS_DIR");
	if (!t.prom_url || !t.targets_dir) {
		fprintf(stderr, "RM_TEST_PROMETHEUS_URL/RM_TEST_PROM_TARGETS_DIR unset: run "
		                "through scripts/test.sh\n");
		return -1;
	}
	snprintf(t.rid, sizeof(t.rid), "%lx%x", (unsigned long)time_wall(), (unsigned)getpid());
	snprintf(t.project, sizeof(t.project), "rmt%s", t.rid);
	snprintf(t.other_project, sizeof(t.other_project), "rmo%s", t.rid);
	snprintf(byname_service, sizeof(byname_service), "rms%s", t.rid);
	snprintf(solo_service, sizeof(solo_service), "solo%s", t.rid);
	/* Unescaped, "^(?:n.*|(RID))$" would also match "nlookRID". */
	snprintf(meta_byname, sizeof(meta_byname), "n.*|(%s)", t.rid);
	t.t0 = time_wall();
	build_scenarios();
	t.exporter = (struct lserver){ .mode = LS_RESPOND, .respond = exporter_body };
	if (lserver_start(&t.exporter) < 0)
		return -1;
	snprintf(t.sd_path, sizeof(t.sd_path), "%s/source_prom_%s.json", t.targets_dir, t.rid);
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", t.sd_path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	t.exporter2 = (struct lserver){ .mode = LS_RESPOND, .respond = exporter_body, .ctx = &t };
	if (lserver_start(&t.exporter2) < 0)
		return -1;
	fprintf(f,
	        "[{\"targets\":[\"127.0.0.1:%d\"],\"labels\":{\"rmtest\":\"%s\"}},"
	        "{\"targets\":[\"127.0.0.1:%d\"],\"labels\":{\"rmtest\":\"%s\",\"node\":\"2\"}}]\n",
	        t.exporter.port, t.rid, t.exporter2.port, t.rid);
	fclose(f);
	/* Renamed into place: Prometheus never reads half a file. */
	if (rename(tmp, t.sd_path) < 0)
		return -1;
	char q[128];
	snprintf(q, sizeof(q), "count(up{rmtest=\"%s\"} == 1) == bool 2", t.rid);
	if (!wait_for_series(q, 20)) {
		fprintf(stderr, "Prometheus did not scrape the test exporter within 20 s\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	if (t.sd_path[0])
		unlink(t.sd_path);
	if (t.exporter.fd > 0)
		lserver_stop(&t.exporter);
	if (t.exporter2.fd > 0)
		lserver_stop(&t.exporter2);
	free(t.c);
	return 0;
}

static double first_scrape_age(void)
{
	pthread_mutex_lock(&t.lock);
	double age = t.first_scrape > 0 ? time_wall() - t.first_scrape : 0;
	pthread_mutex_unlock(&t.lock);
	return age;
}

/* Collects the main services until rates and windows have filled (the
 * exporter is young), then returns that collect. */
static void collect_ready(struct observation *obs, struct source_stats *st)
{
	struct rm_config *cfg = test_config(t.prom_url);
	struct source src;
	assert_int_equal(source_prom_new(cfg, &src), 0);
	double end = time_monotonic() + 30;
	char err[512];
	for (;;) {
		memset(obs, 0, N_MAIN * sizeof(*obs));
		int r = source_collect(&src, main_services, N_MAIN, time_wall(), obs, st, err,
		                       sizeof(err));
		if (r < 0)
			fail_msg("collect failed: %s", err);
		const struct observation *web = &obs[0];
		bool ready = web->n_containers == 2 && web->cpu_used_known &&
		             web->cpu_trend_known && web->oom_known && web->cpu_throttled_known &&
		             first_scrape_age() > ANALYSIS_WINDOW + 1.5;
		if (ready || time_monotonic() > end)
			break;
		usleep(500 * 1000);
	}
	source_free(&src);
	config_free(cfg);
}

static void print_obs(const char *name, const struct observation *o)
{
	printf("# %-16s n=%u cpu=%d:%.3f trend=%d:%.3f lim=%d:%.3f thr=%d:%.3f mem=%d:%llu "
	       "peak=%d:%llu mlim=%d:%llu up=%d:%.0f oom=%d:%u [%s]\n",
	       name, o->n_containers, o->cpu_used_known, o->cpu_used, o->cpu_trend_known,
	       o->cpu_trend, o->cpu_limit_known, o->cpu_limit, o->cpu_throttled_known,
	       o->cpu_throttled, o->mem_used_known, (unsigned long long)o->mem_used,
	       o->mem_peak_known, (unsigned long long)o->mem_peak, o->mem_limit_known,
	       (unsigned long long)o->mem_limit, o->uptime_known, o->uptime, o->oom_known,
	       o->oom_kills, o->unknown_reason);
}

static void assert_near(double got, double want, double rel)
{
	if (fabs(got - want) > rel * fabs(want) + 1e-9)
		fail_msg("got %g, want %g (+-%g%%)", got, want, rel * 100);
}

static void test_values_and_matching(void **state)
{
	struct observation obs[N_MAIN];
	struct source_stats st;
	collect_ready(obs, &st);
	for (int i = 0; i < N_MAIN; i++)
		print_obs(main_services[i], &obs[i]);
	/* With a project: the discovery, then one query per quantity. */
	assert_int_equal(st.requests, SOURCE_PROM_REQUESTS(true));

	/* web: 2 replicas of this project summed; the other project's not. */
	const struct observation *w = &obs[0];
	assert_int_equal(w->n_containers, 2);
	assert_true(w->cpu_used_known);
	assert_near(w->cpu_used, 0.75, 0.05);
	assert_true(w->cpu_trend_known);
	/* The trend averages windows that were partly empty when the exporter
	 * was young: positive, never above the current rate. */
	assert_true(w->cpu_trend > 0.1 && w->cpu_trend < 0.75 * 1.05);
	assert_true(w->cpu_limit_known);
	assert_near(w->cpu_limit, 3.0, 1e-9);
	assert_true(w->cpu_throttled_known);
	assert_near(w->cpu_throttled, 0.2, 0.05);
	assert_true(w->mem_used_known);
	assert_int_equal(w->mem_used, 300 * 1024 * 1024);
	assert_true(w->mem_peak_known);
	assert_int_equal(w->mem_peak, 300 * 1024 * 1024);
	assert_true(w->mem_limit_known);
	assert_int_equal(w->mem_limit, 512 * 1024 * 1024);
	assert_true(w->oom_known);
	assert_int_equal(w->oom_kills, 0);
	assert_true(w->uptime_known); /* the youngest replica: 50 s before t0 */
	assert_true(w->uptime >= 50 && w->uptime < 50 + 60);
	assert_string_equal(w->unknown_reason, "");

	/* grafana: neither the grafana-renderer look-alike nor the other
	 * project's container named grafana is counted. */
	const struct observation *g = &obs[1];
	assert_int_equal(g->n_containers, 1);
	assert_near(g->cpu_used, 0.1, 0.05);
	assert_near(g->cpu_limit, 0.5, 1e-9);
	assert_int_equal(g->mem_used, 10 * 1024 * 1024);
	/* No CFS series under a limit: throttling is unknown, and said so. */
	assert_false(g->cpu_throttled_known);
	assert_non_null(strstr(g->unknown_reason, "cpu_throttled"));

	/* Unlimited: known, value 0, never a reason. */
	for (int i = 2; i <= 3; i++) {
		const struct observation *u = &obs[i];
		assert_int_equal(u->n_containers, 1);
		assert_true(u->cpu_limit_known);
		assert_true(u->cpu_limit == 0);
		assert_true(u->mem_limit_known);
		assert_int_equal(u->mem_limit, 0);
		assert_true(u->cpu_throttled_known);
		assert_true(u->cpu_throttled == 0);
		assert_null(strstr(u->unknown_reason, "limit"));
	}

	/* NaN and +Inf are unknown with a reason, not 0. */
	const struct observation *nn = &obs[4];
	assert_false(nn->mem_used_known);
	assert_false(nn->mem_peak_known);
	assert_false(nn->cpu_limit_known);
	assert_non_null(strstr(nn->unknown_reason, "memory is NaN"));
	assert_non_null(strstr(nn->unknown_reason, "cpu_limit is +Inf"));
	assert_true(nn->mem_limit_known);

	/* Missing series. */
	const struct observation *sp = &obs[5];
	assert_int_equal(sp->n_containers, 1);
	assert_false(sp->cpu_used_known);
	assert_false(sp->mem_limit_known);
	assert_true(sp->mem_used_known);
	assert_int_equal(sp->mem_used, 5 * 1024 * 1024);
	assert_non_null(strstr(sp->unknown_reason, "no cpu"));
	assert_non_null(strstr(sp->unknown_reason, "memory_limit"));
	assert_non_null(strstr(sp->unknown_reason, "for sparse"));

	/* By container name; and a container matching both ways counts once. */
	assert_int_equal(obs[6].n_containers, 1);
	assert_near(obs[6].cpu_used, 0.2, 0.05);
	assert_int_equal(obs[7].n_containers, 1);
	assert_near(obs[7].cpu_used, 0.3, 0.05);

	/* "dot.svc" is escaped: it does not match "dotxsvc"; "grafana-render"
	 * is no prefix of "grafana-renderer"; "missing" has nothing at all. */
	for (int i = 8; i <= 10; i++) {
		assert_int_equal(obs[i].n_containers, 0);
		assert_false(obs[i].cpu_used_known || obs[i].mem_used_known ||
		             obs[i].cpu_limit_known || obs[i].mem_limit_known);
		assert_non_null(strstr(obs[i].unknown_reason, "no series for"));
	}
	/* Metacharacters are literal: "a.+*?()|[]{}^$" is that compose service
	 * only (not "abc"), "n.*|(RID)" that container of no project only (not
	 * "nlookRID"), found through the discovery query. */
	assert_int_equal(obs[11].n_containers, 1);
	assert_near(obs[11].cpu_used, 0.4, 0.05);
	assert_int_equal(obs[11].mem_used, 1024 * 1024);
	assert_int_equal(obs[12].n_containers, 1);
	assert_near(obs[12].cpu_used, 0.15, 0.05);
	assert_int_equal(obs[12].mem_used, 2 * 1024 * 1024);
	assert_true(obs[12].cpu_trend_known && obs[12].mem_limit_known == false);

	/* "web" under no project restriction also finds the other project's. */
	struct rm_config *cfg = test_config(t.prom_url);
	cfg->services.project[0] = '\0';
	struct source src;
	assert_int_equal(source_prom_new(cfg, &src), 0);
	const char *web[] = { "web" };
	struct observation o = { 0 };
	assert_int_equal(source_collect(&src, web, 1, time_wall(), &o, NULL, NULL, 0), 0);
	assert_true(o.n_containers >= 3);
	source_free(&src);
	config_free(cfg);
}

/* The requests per check do not depend on the number of services. */
static void test_requests_fixed(void **state)
{
	struct rm_config *cfg = test_config(t.prom_url);
	struct source src;
	assert_int_equal(source_prom_new(cfg, &src), 0);
	static char names[N_SCALE][8];
	const char *services[N_SCALE];
	for (int i = 0; i < N_SCALE; i++) {
		snprintf(names[i], sizeof(names[i]), "s%03d", i);
		services[i] = names[i];
	}
	struct observation *obs = xcalloc(N_SCALE, sizeof(*obs));
	struct source_stats st3, st300;
	char err[512];
	assert_int_equal(source_collect(&src, services, 3, time_wall(), obs, &st3, err, 512), 0);
	memset(obs, 0, N_SCALE * sizeof(*obs));
	assert_int_equal(
	        source_collect(&src, services, N_SCALE, time_wall(), obs, &st300, err, 512), 0);
	printf("# 3 services: %u requests %zu bytes %.3f s; %d services: %u requests %zu bytes "
	       "%.3f s\n",
	       st3.requests, st3.bytes_received, st3.seconds, N_SCALE, st300.requests,
	       st300.bytes_received, st300.seconds);
	assert_int_equal(st3.requests, SOURCE_PROM_REQUESTS(true));
	assert_int_equal(st300.requests, SOURCE_PROM_REQUESTS(true));
	/* With a project, its every container is fetched and filtered here:
	 * the answers do not grow with the services asked (and 3 of 300 cost
	 * the same bytes). */
	assert_true(st300.bytes_received >= st3.bytes_received / 2);
	for (int i = 0; i < N_SCALE; i++) {
		assert_int_equal(obs[i].n_containers, 1);
		assert_true(obs[i].mem_used_known);
		assert_int_equal(obs[i].mem_used, 1024 * 1024);
	}
	/* No services: nothing to ask. */
	assert_int_equal(source_collect(&src, services, 0, time_wall(), obs, &st3, err, 512), 0);
	assert_int_equal(st3.requests, 0);
	free(obs);
	source_free(&src);
	config_free(cfg);
}

/* A stand-in for the Docker source (written on another branch). */
struct fake_docker {
	unsigned calls;
	bool fail;
};

static int fake_collect(void *impl, const char *const *services, size_t n, double now,
                        struct observation *out, struct source_stats *stats, char *err,
                        size_t errlen)
{
	struct fake_docker *f = impl;
	f->calls++;
	if (f->fail) {
		snprintf(err, errlen, "fake docker: connection refused");
		return -ECONNREFUSED;
	}
	for (size_t i = 0; i < n; i++) {
		out[i].time = now;
		out[i].n_containers = 1;
		out[i].mem_used_known = true;
		out[i].mem_used = 42;
	}
	stats->requests = (unsigned)n;
	return 0;
}

static void fake_free(void *impl)
{
}

static const struct source_ops fake_ops = { "docker", fake_collect, fake_free };

/* Counts lines of text in f that contain needle. */
static int count_lines(FILE *f, const char *needle)
{
	char line[2048];
	int n = 0;
	fflush(f);
	rewind(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	return n;
}

static int auto_collect_once(struct source *a, struct observation *o)
{
	const char *web[] = { "web" };
	struct source_stats st;
	char err[1024] = "";
	memset(o, 0, sizeof(*o));
	int r = source_collect(a, web, 1, time_wall(), o, &st, err, sizeof(err));
	if (r < 0)
		printf("# auto: %s\n", err);
	return r;
}

static void test_auto_switches_once(void **state)
{
	int prom_port = 0;
	assert_int_equal(sscanf(t.prom_url, "http://127.0.0.1:%d", &prom_port), 1);
	/* Prometheus reached through a proxy this test can switch off. */
	struct lserver proxy = { .mode = LS_PROXY, .upstream_port = prom_port };
	assert_int_equal(lserver_start(&proxy), 0);
	char *url = xasprintf("http://127.0.0.1:%d", proxy.port);
	struct rm_config *cfg = test_config(url);
	struct source prom, auto_src;
	struct fake_docker fd = { 0 };
	struct source docker = { &fake_ops, &fd };
	assert_int_equal(source_prom_new(cfg, &prom), 0);
	assert_int_equal(source_auto_new(&prom, &docker, &auto_src), 0);
	assert_null(prom.ops); /* moved */
	assert_string_equal(source_used_name(&auto_src), "none");

	FILE *logf = tmpfile();
	log_set_stream(logf);
	struct observation o;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(auto_collect_once(&auto_src, &o), 0);
		assert_string_equal(source_used_name(&auto_src), "prometheus");
		assert_int_equal(o.n_containers, 2);
	}
	assert_int_equal(fd.calls, 0);

	lserver_stop(&proxy);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(auto_collect_once(&auto_src, &o), 0);
		assert_string_equal(source_used_name(&auto_src), "docker");
		assert_int_equal(o.mem_used, 42);
	}
	assert_int_equal(fd.calls, 3);

	fd.fail = true;
	for (int i = 0; i < 2; i++) {
		assert_true(auto_collect_once(&auto_src, &o) < 0);
		assert_string_equal(source_used_name(&auto_src), "none");
		assert_false(o.mem_used_known || o.cpu_used_known);
	}

	fd.fail = false;
	assert_int_equal(lserver_start(&proxy), 0); /* same port again */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(auto_collect_once(&auto_src, &o), 0);
		assert_string_equal(source_used_name(&auto_src), "prometheus");
	}
	log_set_stream(NULL);

	/* One line per change, not per check. */
	assert_int_equal(count_lines(logf, "observing through Prometheus"), 1);
	assert_int_equal(count_lines(logf, "Prometheus does not answer"), 1);
	assert_int_equal(count_lines(logf, "no metrics source answers"), 1);
	assert_int_equal(count_lines(logf, "Prometheus answers again"), 1);
	fclose(logf);
	lserver_stop(&proxy);
	source_free(&auto_src);
	config_free(cfg);
	free(url);
}

static void test_source_from_config(void **state)
{
	struct rm_config *cfg = test_config(t.prom_url);
	struct source s;
	char err[256];
	cfg->monitoring.source = SOURCE_PROMETHEUS;
	assert_int_equal(source_from_config(cfg, &s, err, sizeof(err)), 0);
	assert_string_equal(source_used_name(&s), "prometheus");
	source_free(&s);

	/* auto in this branch: Prometheus only (no Docker source yet). */
	cfg->monitoring.source = SOURCE_AUTO;
	assert_int_equal(source_from_config(cfg, &s, err, sizeof(err)), 0);
	struct observation o;
	assert_int_equal(auto_collect_once(&s, &o), 0);
	assert_string_equal(source_used_name(&s), "prometheus");
	source_free(&s);

	cfg->monitoring.prometheus_url[0] = '\0';
	cfg->monitoring.source = SOURCE_PROMETHEUS;
	assert_int_equal(source_from_config(cfg, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "prometheus_url is empty"));
	config_free(cfg);
}

/* Swarm: a service's tasks on two nodes (two cAdvisors) sum up, under its
 * bare name and its stack-qualified one, next to a Compose service in the
 * same collect; another stack's same-named service stays out. */
static void test_swarm_summed(void **state)
{
	struct rm_config *cfg = test_config(t.prom_url);
	struct source src;
	assert_int_equal(source_prom_new(cfg, &src), 0);
	char qualified[80];
	snprintf(qualified, sizeof(qualified), "%s_api", t.project);
	const char *names[2][2] = { { "web", "api" }, { "web", qualified } };
	for (int k = 0; k < 2; k++) {
		struct observation obs[2];
		char err[512];
		double end = time_monotonic() + 30;
		for (;;) {
			memset(obs, 0, sizeof(obs));
			if (source_collect(&src, names[k], 2, time_wall(), obs, NULL, err,
			                   sizeof(err)) < 0)
				fail_msg("collect failed: %s", err);
			if ((obs[1].n_containers == 2 && obs[1].cpu_used_known &&
			     first_scrape_age() > ANALYSIS_WINDOW + 1.5) ||
			    time_monotonic() > end)
				break;
			usleep(500 * 1000);
		}
		print_obs(names[k][1], &obs[1]);
		assert_int_equal(obs[0].n_containers, 2); /* the Compose service beside it */
		assert_int_equal(obs[1].n_containers, 2);
		assert_true(obs[1].cpu_used_known && obs[1].mem_used_known);
		assert_near(obs[1].cpu_used, 0.3, 0.05);
		assert_int_equal(obs[1].mem_used, 30 * 1048576ull);
		assert_true(obs[1].cpu_limit_known);
		assert_near(obs[1].cpu_limit, 1.0, 0.001);
	}
	source_free(&src);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_and_matching),
		cmocka_unit_test(test_requests_fixed),
		cmocka_unit_test(test_auto_switches_once),
		cmocka_unit_test(test_source_from_config),
		cmocka_unit_test(test_swarm_summed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
