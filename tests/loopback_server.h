/* loopback_server: a small HTTP peer on 127.0.0.1 for the integration tests,
 * run in a thread, one connection at a time, and the loopback sockets the
 * tests' own peers start from (tests/loopback_server.c, compiled into the
 * tests that use it: see tests/CMakeLists.txt). Modes:
 *   LS_RESPOND  answers every request with what a callback builds from it (an
 *               exporter for Prometheus to scrape, a webhook receiver, or a
 *               canned bad answer)
 *   LS_SILENT   accepts and reads, never answers (a hung peer)
 *   LS_ENDLESS  sends headers, then a body that never ends
 *   LS_PROXY    forwards bytes to 127.0.0.1:upstream_port (stop it to make
 *               the upstream look down, start it again on the same port) */
#ifndef RM_TEST_LOOPBACK_SERVER_H
#define RM_TEST_LOOPBACK_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

enum ls_mode {
	LS_RESPOND,
	LS_SILENT,
	LS_ENDLESS,
	LS_PROXY,
};

struct lserver {
	enum ls_mode mode;
	/* LS_RESPOND: returns a whole HTTP response (malloc'd), length in *len,
	 * for the request read (its head and the body its Content-Length
	 * announces; valid for the call). Runs on the server's thread. */
	char *(*respond)(void *ctx, const char *request, size_t request_len, size_t *len);
	void *ctx;
	/* LS_ENDLESS: the head and the start of the body (NULL: a Prometheus
	 * answer's, with Connection: close). */
	const char *endless_head;
	int upstream_port; /* LS_PROXY */
	int port;          /* 0 before start picks a free one; kept for restarts */
	int fd;
	pthread_t thread;
	atomic_bool stop;
	atomic_uint requests;
};

/* Listens on 127.0.0.1:s->port (0 = any free port, stored back) and starts the
 * thread. Returns 0 or -errno. */
int lserver_start(struct lserver *s);
/* Stops the thread and closes everything; the port is free again. */
void lserver_stop(struct lserver *s);

/* LS_RESPOND's callback for one fixed answer: ctx is the whole HTTP response,
 * a string (borrowed; it must outlive the server). */
char *lserver_canned(void *ctx, const char *request, size_t request_len, size_t *len);
/* "HTTP/1.1 <status> <reason>" with a JSON body, its Content-Length and
 * Connection: close. Owned. */
char *lserver_json_answer(int status, const char *reason, const char *body);

/* A socket listening on 127.0.0.1:port (0 = any free port) with SO_REUSEADDR;
 * returns it and the port in *ret_port, or -errno. */
int loopback_listen(int port, int *ret_port);
/* A port on 127.0.0.1 that nothing listens on (just released). */
int loopback_unused_port(void);
/* Sends all of data (no SIGPIPE); false when the peer left. */
bool loopback_send_all(int fd, const char *data, size_t len);

#endif
