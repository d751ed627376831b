/* web_fixture: serves the sample view with the real web layer, for the
 * browser test (tests/e2e/dashboard.py) and the healthcheck and alert-rule
 * tests. Its command callback plays the daemon: approve/reject clear the
 * pending decision and add a history entry, pause/resume flip the flag, and
 * each change re-publishes the view.
 *
 *   web_fixture [--port N] [--token-file F] [--forward-auth] [--stale]
 *               [--health-socket PATH] [--request-timeout S] [--allow-host NAME]
 *   web_fixture --print-metrics | --print-status
 *
 * Prints "port N" once listening, then serves until SIGTERM or SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rm/config.h"
#include "rm/log.h"
#include "rm/render.h"
#include "rm/web.h"
#include "web_sample.h"

struct fixture {
	pthread_mutex_t lock;
	struct web_server *w;
	bool pending;
	bool paused;
	bool stale;
	double decided; /* when approve/reject happened, 0 = not yet */
	const char *outcome;
};

static struct view *build(const struct fixture *f)
{
	double now = time_wall();
	struct view *v = sample_view(now);
	/* A plain name for the page (the odd one is for the escaping tests). */
	free(v->services[2].name);
	v->services[2].name = xstrdup("jaeger");
	free(v->services[2].containers[0]);
	free(v->services[2].containers[1]);
	v->services[2].containers[0] = xstrdup("jaeger-1");
	v->services[2].containers[1] = xstrdup("jaeger-2");
	v->services[0].pending = f->pending;
	v->paused = f->paused;
	if (f->stale)
		v->last_check = now - 4 * v->check_interval;
	if (f->decided > 0)
		sample_event(v, f->decided, STATE_EVENT_DECISION, "grafana", "cpu_high", f->outcome,
		             NULL, 0, "decision taken from the dashboard");
	return v;
}

static int on_command(void *ctx, const struct web_command *cmd, char *msg, size_t msglen)
{
	struct fixture *f = ctx;
	int r = 0;
	pthread_mutex_lock(&f->lock);
	switch (cmd->kind) {
	case WEB_CMD_APPROVE:
	case WEB_CMD_REJECT:
		if (!f->pending || strcmp(cmd->service, "grafana") != 0) {
			snprintf(msg, msglen, "no decision waits for approval for %s",
			         cmd->service);
			r = -EINVAL;
			break;
		}
		f->pending = false;
		f->decided = time_wall();
		f->outcome = cmd->kind == WEB_CMD_APPROVE ? "approved" : "rejected";
		snprintf(msg, msglen, "%s the change of %s", f->outcome, cmd->service);
		break;
	case WEB_CMD_PAUSE:
	case WEB_CMD_RESUME:
		f->paused = cmd->kind == WEB_CMD_PAUSE;
		snprintf(msg, msglen, "automation %s", f->paused ? "paused" : "resumed");
		break;
	default:
		snprintf(msg, msglen, "deployment of %s queued", cmd->service);
		break;
	}
	if (r == 0)
		web_publish(f->w, build(f));
	pthread_mutex_unlock(&f->lock);
	return r;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "token-file", required_argument, NULL, 't' },
		{ "forward-auth", no_argument, NULL, 'f' },
		{ "stale", no_argument, NULL, 's' },
		{ "print-metrics", no_argument, NULL, 'm' },
		{ "print-status", no_argument, NULL, 'j' },
		{ "health-socket", required_argument, NULL, 'H' },
		{ "request-timeout", required_argument, NULL, 'T' },
		{ "allow-host", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct fixture f = { .pending = true };
	pthread_mutex_init(&f.lock, NULL);
	struct rm_config *cfg = config_new_default();
	cfg->metrics.port = 0;
	free(cfg->metrics.bind_address);
	cfg->metrics.bind_address = xstrdup("127.0.0.1");
	/* Never the default beside /data/state.json: this is a test program. */
	free(cfg->web.health_socket);
	cfg->web.health_socket = xstrdup("none");
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			cfg->metrics.port = (unsigned)atoi(optarg);
			break;
		case 't':
			free(cfg->web.admin_token_file);
			cfg->web.admin_token_file = xstrdup(optarg);
			break;
		case 'f':
			cfg->web.trust_forward_auth = true;
			break;
		case 's':
			f.stale = true;
			break;
		case 'H':
			free(cfg->web.health_socket);
			cfg->web.health_socket = xstrdup(optarg);
			break;
		case 'T':
			cfg->web.request_timeout = atof(optarg);
			break;
		case 'A': {
			struct strlist *l = &cfg->web.allowed_hosts;
			l->items = xreallocarray(l->items, l->n + 1, sizeof(*l->items));
			l->items[l->n++] = xstrdup(optarg);
			break;
		}
		case 'm':
		case 'j': {
			struct view *v = build(&f);
			char *s = c == 'm' ? render_metrics(v) : render_status_json(v, v->now);
			fputs(s, stdout);
			free(s);
			view_free(v);
			config_free(cfg);
			return 0;
		}
		default:
			fprintf(stderr, "usage: web_fixture [--port N] [--token-file F] "
			                "[--forward-auth] [--stale] [--health-socket PATH] "
			                "[--request-timeout S] [--allow-host NAME] "
			                "[--print-metrics|--print-status]\n");
			return 1;
		}
	}
	char err[256];
	int r = web_start(cfg, on_command, &f, &f.w, err, sizeof(err));
	config_free(cfg);
	if (r < 0) {
		fprintf(stderr, "web_fixture: %s\n", err);
		return 2;
	}
	pthread_mutex_lock(&f.lock);
	web_publish(f.w, build(&f));
	pthread_mutex_unlock(&f.lock);
	printf("port %d\n", web_port(f.w));
	fflush(stdout);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	/* Re-publish every second (as the loop would), until told to stop. */
	while (!stop) {
		sleep(1);
		pthread_mutex_lock(&f.lock);
		web_publish(f.w, build(&f));
		pthread_mutex_unlock(&f.lock);
	}
	web_stop(f.w);
	pthread_mutex_destroy(&f.lock);
	return 0;
}
