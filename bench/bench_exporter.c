/* bench_exporter: a cAdvisor-like exporter for the scale benchmark. It serves,
 * on 127.0.0.1, the nine series per container that the Prometheus source and
 * the original's queries read, for N compose containers named
 * "<prefix>-NNNNN" (services of compose project "bench"), or with --swarm for
 * N Swarm tasks of services "bench_<prefix>-NNNNN" of stack "bench";
 * Prometheus scrapes it through a file_sd target written by bench/run.sh. It
 * runs as its own process so that the check's CPU time and RSS measured by
 * bench_check are the check's alone.
 *
 *   bench_exporter --services N --prefix P --port-file FILE [--swarm]
 *
 * The port is written to FILE (renamed into place) once the socket listens.
 * Stops on SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rm/util.h"

#define PROJECT "bench"

/* One exported container; values are chosen per index so that a check
 * meets every kind of service: busy, idle, throttled, near its memory limit. */
struct bcontainer {
	char *labels;     /* owned: {name="...",...} */
	double cpu_rate;  /* cores */
	double thr_rate;  /* throttled periods per second */
	double quota;     /* CFS quota, period 100000 */
	double mem;       /* bytes */
	double mem_limit; /* bytes */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static struct bcontainer *containers_new(size_t n, const char *prefix, bool swarm)
{
	struct bcontainer *c = xcalloc(n ? n : 1, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		char svc[64];
		snprintf(svc, sizeof(svc), "%s-%05zu", prefix, i);
		/* A Swarm task as cAdvisor labels it with the stack's labels kept
		 * (docs/swarm.md): "<stack>_<service>.<slot>.<task id>". */
		if (swarm)
			c[i].labels = xasprintf(
			        "{name=\"" PROJECT "_%s.1.%025zu\","
			        "container_label_com_docker_swarm_service_name=\"" PROJECT "_%s\","
			        "container_label_com_docker_stack_namespace=\"" PROJECT "\"}",
			        svc, i, svc);
		else
			c[i].labels = xasprintf(
			        "{name=\"" PROJECT "-%s-1\","
			        "container_label_com_docker_compose_service=\"%s\","
			        "container_label_com_docker_compose_project=\"" PROJECT "\"}",
			        svc, svc);
		double cores = 0.5 * (double)(1 + i % 4); /* 0.5 .. 2 cores */
		double share = (double)(i % 10) / 10.0;   /* 0 .. 90 % of the limit */
		c[i].quota = cores * 100000;
		c[i].cpu_rate = cores * share;
		c[i].thr_rate = i % 7 == 0 ? 3.0 : 0;
		c[i].mem_limit = (double)(64u << (i % 5)) * 1024 * 1024; /* 64M .. 1G */
		c[i].mem = c[i].mem_limit * (double)((i * 7) % 10) / 10.0;
	}
	return c;
}

/* The exposition page at `elapsed` seconds after start: one group per metric,
 * as the text format wants. */
static char *render(const struct bcontainer *c, size_t n, double start, double elapsed,
                    size_t *ret_len)
{
	struct strbuf b;
	strbuf_init(&b);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&b, "container_cpu_usage_seconds_total%s %.6f\n", c[i].labels,
		              1000 + c[i].cpu_rate * elapsed);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&b, "container_cpu_cfs_throttled_periods_total%s %.0f\n", c[i].labels,
		              100 + c[i].thr_rate * elapsed);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&b, "container_cpu_cfs_periods_total%s %.0f\n", c[i].labels,
		              1000 + 10 * elapsed);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&b, "container_oom_events_total%s 0\n", c[i].labels);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&b, "container_spec_cpu_quota%s %.0f\n", c[i].labels, c[i].quota);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&b, "container_spec_cpu_period%s 100000\n", c[i].labels);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&b, "container_memory_usage_bytes%s %.0f\n", c[i].labels, c[i].mem);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&b, "container_spec_memory_limit_bytes%s %.0f\n", c[i].labels,
		              c[i].mem_limit);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&b, "container_start_time_seconds%s %.3f\n", c[i].labels,
		              start - 3600);
	*ret_len = b.len;
	return strbuf_steal(&b);
}

/* Reads one request up to the end of its headers; false when the peer left
 * or said nothing within 5 s. */
static bool read_request(int fd)
{
	char buf[16384];
	size_t len = 0;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 5000) <= 0)
			return false;
		ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (k <= 0)
			return false;
		len += (size_t)k;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return true;
		if (len == sizeof(buf) - 1)
			len = 0;
	}
}

static void send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t k = send(fd, data, len, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		data += k;
		len -= (size_t)k;
	}
}

static int listen_loopback(int *ret_port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	*ret_port = ntohs(a.sin_port);
	return fd;
}

static int write_port_file(const char *path, int port)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	int r = 0;
	if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
		r = -errno;
	free(tmp);
	return r;
}

static void serve(int lfd, const struct bcontainer *c, size_t n)
{
	double start = time_wall();
	while (!stop) {
		struct pollfd p = { lfd, POLLIN, 0 };
		if (poll(&p, 1, 200) <= 0)
			continue;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (read_request(fd)) {
			size_t len;
			char *body = render(c, n, start, time_wall() - start, &len);
			char head[160];
			int hl = snprintf(head, sizeof(head),
			                  "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
			                  "version=0.0.4\r\nContent-Length: %zu\r\n"
			                  "Connection: close\r\n\r\n",
			                  len);
			send_all(fd, head, (size_t)hl);
			send_all(fd, body, len);
			free(body);
		}
		close(fd);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "services", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "swarm", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	size_t n = 0;
	const char *prefix = "svc", *port_file = NULL;
	bool swarm = false;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'f':
			port_file = optarg;
			break;
		case 's':
			swarm = true;
			break;
		default:
			fprintf(stderr, "usage: bench_exporter --services N --prefix P "
			                "--port-file FILE [--swarm]\n");
			return 2;
		}
	}
	if (!port_file) {
		fprintf(stderr, "bench_exporter: --port-file is required\n");
		return 2;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct bcontainer *c = containers_new(n, prefix, swarm);
	int port = 0;
	int lfd = listen_loopback(&port);
	if (lfd < 0 || write_port_file(port_file, port) < 0) {
		fprintf(stderr, "bench_exporter: cannot listen or write %s: %s\n", port_file,
		        strerror(lfd < 0 ? -lfd : errno));
		return 1;
	}
	serve(lfd, c, n);
	close(lfd);
	for (size_t i = 0; i < n; i++)
		free(c[i].labels);
	free(c);
	return 0;
}
