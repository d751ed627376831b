/* web: the HTTP server (civetweb): /health, /metrics, the JSON API and the
 * dashboard. Handlers run on civetweb's worker threads and only read the
 * latest published view; changes go through the command callback, which the
 * daemon implements by handing the command to its loop. */
#ifndef RM_WEB_H
#define RM_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rm/config.h"
#include "rm/view.h"

enum web_command_kind {
	WEB_CMD_APPROVE,
	WEB_CMD_REJECT,
	WEB_CMD_PAUSE,
	WEB_CMD_RESUME,
	WEB_CMD_DEPLOY,
	_WEB_CMD_MAX,
};

struct web_command {
	enum web_command_kind kind;
	const char *service; /* NULL for pause/resume */
	bool has_cpu;        /* deploy */
	double cpu;
	bool has_memory;
	uint64_t memory;
	const char *user; /* who asked: forward-auth user or "token" */
};

/* Runs cmd (on a web worker thread; the implementation must hand it to the
 * daemon's loop and wait for the outcome). Returns 0, -ENOENT (no such
 * service), -ERANGE (invalid values, e.g. a deploy outside the configured
 * bounds: answered 400, nothing was changed), -EINVAL (not applicable now,
 * message says why), -EBUSY, -ETIMEDOUT, with a one-line message for the
 * response. */
typedef int (*web_command_fn)(void *ctx, const struct web_command *cmd, char *msg, size_t msglen);

struct web_server;

/* Reads web.admin_token_file and starts listening on
 * metrics.bind_address:metrics.port. Returns 0 and *ret (NULL when
 * metrics.enabled is false: nothing is served, and the functions below accept
 * NULL), or a negative errno with the reason in err (token file missing or
 * empty, port in use...). fn runs on worker threads; ctx is passed to it. */
int web_start(const struct rm_config *cfg, web_command_fn fn, void *ctx, struct web_server **ret,
              char *err, size_t errlen);
/* Replaces the published view (takes ownership of v; the previous view is
 * freed once no handler reads it). Thread-safe; never blocks on a client. */
void web_publish(struct web_server *w, struct view *v);
/* The port actually bound (useful with port 0 in tests). */
int web_port(const struct web_server *w);
/* Stops the server (about 2 s: civetweb joins its workers) and frees it. */
void web_stop(struct web_server *w);

#endif
