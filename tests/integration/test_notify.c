/* test_notify: notifications reach a real Alertmanager (API v2) and a webhook
 * receiver; unlisted events are filtered; a dead peer never blocks. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
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
#include "rm/http.h"
#include "rm/notify.h"
#include "rm/util.h"

static const char *am_url(void)
{
	const char *u = getenv("RM_TEST_ALERTMANAGER_URL");
	if (!u)
		fail_msg("RM_TEST_ALERTMANAGER_URL is not set: run the tests through "
		         "scripts/test.sh");
	return u;
}

static struct rm_config *config_with(const char *am, const char *webhook)
{
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
	         "notifications:\n  enabled: true\n  events: [resource_adjustment, "
	         "deployment_failure]\n  channels:\n    alertmanager:\n      enabled: %s\n"
	         "      url: \"%s\"\n    webhook:\n      enabled: %s\n      url: \"%s\"\n"
	         "      headers:\n        X-Token: secret-1\n",
	         am ? "true" : "false", am ? am : "http://127.0.0.1:9", webhook ? "true" : "false",
	         webhook ? webhook : "");
	struct config_report rep = { 0 };
	struct rm_config *cfg = NULL;
	int r = config_load_data(yaml, strlen(yaml), "t", NULL, &cfg, &rep);
	config_report_print(&rep, "t", stderr);
	assert_int_equal(r, 0);
	config_report_free(&rep);
	return cfg;
}

static void test_bodies(void **state)
{
	struct notify_event ev = {
		.event = NOTIFY_RESOURCE_ADJUSTMENT,
		.service = "grafana",
		.action = "increase",
		.resource_type = "cpu",
		.reason = "cpu 85.3% of 1.00 cores > 80% for 3 checks: 1.00 -> 1.25 "
		          "cores",
		.time = 1700000000
	};
	char *am = notify_alertmanager_body(&ev, 3600);
	json_error_t e;
	json_t *j = json_loads(am, 0, &e);
	assert_true(json_is_array(j));
	json_t *a = json_array_get(j, 0);
	json_t *l = json_object_get(a, "labels");
	assert_string_equal(json_string_value(json_object_get(l, "alertname")),
	                    "ResourceAdjustment");
	assert_string_equal(json_string_value(json_object_get(l, "service")), "grafana");
	assert_string_equal(json_string_value(json_object_get(l, "severity")), "info");
	json_t *an = json_object_get(a, "annotations");
	assert_string_equal(json_string_value(json_object_get(an, "summary")),
	                    "Resource adjustment for grafana");
	assert_string_equal(json_string_value(json_object_get(an, "description")), ev.reason);
	assert_string_equal(json_string_value(json_object_get(a, "startsAt")),
	                    "2023-11-14T22:13:20.000Z");
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
	                    "2023-11-14T23:13:20.000Z");
	json_decref(j);
	free(am);
	char *wh = notify_webhook_body(&ev);
	j = json_loads(wh, 0, &e);
	const char *keys[] = {
		"event", "service", "action", "resource_type", "reason", "timestamp"
	};
	for (size_t i = 0; i < 6; i++)
		assert_non_null(json_object_get(j, keys[i]));
	assert_int_equal(json_object_size(j), 6);
	json_decref(j);
	free(wh);
	assert_string_equal(notify_alertname(NOTIFY_DEPLOYMENT_FAILURE), "DeploymentFailure");
	assert_string_equal(notify_alertname(NOTIFY_SERVICE_CRITICAL), "ServiceCritical");
	assert_string_equal(notify_alertname(NOTIFY_THRESHOLD_BREACH), "ThresholdBreach");
	assert_string_equal(notify_alertname(NOTIFY_BLUE_GREEN_DEPLOYMENT), "BlueGreenDeployment");
}

/* Counts alerts in Alertmanager with the given service label. */
static int alerts_for(const char *service, const char *alertname)
{
	struct http_endpoint *ep;
	assert_int_equal(http_endpoint_new(am_url(), NULL, &ep), 0);
	char *f = xasprintf("service=\"%s\"", service);
	char *q = http_urlencode(f);
	char *path = xasprintf("/api/v2/alerts?filter=%s", q);
	struct http_response resp;
	char err[256];
	assert_int_equal(http_request(ep, "GET", path, NULL, &resp, err, sizeof(err)), 0);
	assert_int_equal(resp.status, 200);
	json_error_t e;
	json_t *j = json_loads(resp.body, 0, &e);
	int n = 0;
	size_t i;
	json_t *a;
	json_array_foreach(j, i, a)
	{
		const char *name = json_string_value(
		        json_object_get(json_object_get(a, "labels"), "alertname"));
		if (name && strcmp(name, alertname) == 0)
			n++;
	}
	json_decref(j);
	http_response_free(&resp);
	free(path);
	free(q);
	free(f);
	http_endpoint_free(ep);
	return n;
}

static void test_alertmanager_receives(void **state)
{
	struct rm_config *cfg = config_with(am_url(), NULL);
	struct notifier *n = notifier_new(cfg);
	char svc[64];
	snprintf(svc, sizeof(svc), "notify-test-%d", (int)getpid());
	struct notify_event ev = {
		.event = NOTIFY_RESOURCE_ADJUSTMENT,
		.service = svc,
		.action = "increase",
		.resource_type = "memory",
		.reason = "mem 91.0% of 512 MiB > 80% for 3 checks: 512 -> 640 MiB",
		.time = time_wall()
	};
	notifier_send(n, &ev);
	/* Not in notifications.events: never sent. */
	ev.event = NOTIFY_THRESHOLD_BREACH;
	notifier_send(n, &ev);
	assert_int_equal(notifier_flush(n, 10), 0);
	struct notify_stats st;
	notifier_get_stats(n, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.filtered, 1);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(alerts_for(svc, "ResourceAdjustment"), 1);
	assert_int_equal(alerts_for(svc, "ThresholdBreach"), 0);
	notifier_free(n, 1);
	config_free(cfg);
}

/* A webhook receiver: records each request, answers 200. */
struct receiver {
	struct lserver server;
	pthread_mutex_t lock;
	struct strbuf seen;
};

static char *receiver_respond(void *ctx, const char *request, size_t request_len, size_t *len)
{
	struct receiver *r = ctx;
	pthread_mutex_lock(&r->lock);
	strbuf_append(&r->seen, request, request_len);
	pthread_mutex_unlock(&r->lock);
	char *ok = xstrdup("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
	*len = strlen(ok);
	return ok;
}

static void receiver_start(struct receiver *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	strbuf_init(&r->seen);
	r->server = (struct lserver){ .mode = LS_RESPOND, .respond = receiver_respond, .ctx = r };
	assert_int_equal(lserver_start(&r->server), 0);
}

static void receiver_stop(struct receiver *r)
{
	lserver_stop(&r->server);
	strbuf_free(&r->seen);
	pthread_mutex_destroy(&r->lock);
}

static void test_webhook_receives(void **state)
{
	struct receiver rc;
	receiver_start(&rc);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", rc.server.port);
	struct rm_config *cfg = config_with(NULL, url);
	struct notifier *n = notifier_new(cfg);
	struct notify_event ev = { .event = NOTIFY_DEPLOYMENT_FAILURE,
		                   .service = "web",
		                   .action = "increase",
		                   .resource_type = "both",
		                   .reason = "green never became healthy",
		                   .time = time_wall() };
	notifier_send(n, &ev);
	assert_int_equal(notifier_flush(n, 10), 0);
	pthread_mutex_lock(&rc.lock);
	assert_int_equal(atomic_load(&rc.server.requests), 1);
	assert_non_null(strstr(rc.seen.data, "POST /hook "));
	assert_non_null(strcasestr(rc.seen.data, "X-Token: secret-1"));
	assert_non_null(strstr(rc.seen.data, "\"event\":\"deployment_failure\""));
	assert_non_null(strstr(rc.seen.data, "\"resource_type\":\"both\""));
	pthread_mutex_unlock(&rc.lock);
	notifier_free(n, 1);
	config_free(cfg);
	receiver_stop(&rc);
}

static void test_dead_peer_never_blocks(void **state)
{
	/* Nothing listens on port 9 of loopback: connection refused. */
	struct rm_config *cfg = config_with("http://127.0.0.1:9", NULL);
	struct notifier *n = notifier_new(cfg);
	struct notify_event ev = { .event = NOTIFY_RESOURCE_ADJUSTMENT,
		                   .service = "x",
		                   .reason = "r",
		                   .time = time_wall() };
	double t0 = time_monotonic();
	for (int i = 0; i < 1000; i++)
		notifier_send(n, &ev);
	double spent = time_monotonic() - t0;
	assert_true(spent < 1.0); /* sending only queues */
	struct notify_stats st;
	notifier_get_stats(n, &st);
	/* The queue holds 256, the sender one more. */
	assert_true(st.dropped >= 1000 - 257);
	assert_int_equal(st.sent, 0);
	t0 = time_monotonic();
	notifier_free(n, 0.5);
	assert_true(time_monotonic() - t0 < 5.0);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_alertmanager_receives),
		cmocka_unit_test(test_webhook_receives),
		cmocka_unit_test(test_dead_peer_never_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
