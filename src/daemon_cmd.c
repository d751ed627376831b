/* daemon_cmd: the commands the web layer and the CLI hand to the loop
 * (approve, reject, pause, resume, deploy), each run whole under its lock. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_internal.h"
#include "rm/engine.h"
#include "rm/gate.h"
#include "rm/log.h"
#include "rm/state.h"
#include "rm/state_store.h"
#include "rm/units.h"
#include "rm/util.h"
#include "rm/web.h"

static void command_done(struct daemon *d, struct command *c, int result, const char *fmt, ...)
        RM_PRINTF(4, 5);

static void command_done(struct daemon *d, struct command *c, int result, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	c->result = result;
	c->done = true;
	pthread_cond_broadcast(&d->cond);
}

static const char *const command_names[_WEB_CMD_MAX] = { "approve", "reject", "pause", "resume",
	                                                 "deploy" };

/* Runs one command in the loop (lock held). */
static void command_run(struct daemon *d, struct command *c)
{
	const struct web_command *w = &c->cmd;
	char q[300];
	log_info("daemon", "command\tcommand=%s service=%s user=%s", command_names[w->kind],
	         c->service ? c->service : "-", log_quote(c->user ? c->user : "-", q, sizeof(q)));
	if (w->kind == WEB_CMD_PAUSE || w->kind == WEB_CMD_RESUME) {
		d->paused = w->kind == WEB_CMD_PAUSE;
		command_done(d, c, 0, "automation %s", d->paused ? "paused" : "resumed");
		return;
	}
	struct svc *s = c->service ? daemon_svc_find(d, c->service) : NULL;
	if (!s) {
		command_done(d, c, -ENOENT, "no monitored service named %s",
		             c->service ? c->service : "(none)");
		return;
	}
	char why[320];
	if (w->kind == WEB_CMD_DEPLOY &&
	    engine_check_manual(d->cfg, s->name, w->has_cpu, w->cpu, w->has_memory, w->memory, why,
	                        sizeof(why)) < 0) {
		/* Bad input, refused before anything is queued or journaled. */
		command_done(d, c, -ERANGE, "%s; nothing was changed", why);
		return;
	}
	if (s->deploying) {
		command_done(d, c, -EBUSY,
		             "%s is being deployed (phase %s); try again when it ends", s->name,
		             s->phase);
		return;
	}
	if (state_journal_find(d->state, s->name)) {
		command_done(d, c, -EBUSY,
		             "another process is deploying %s (see resource-manager status %s); "
		             "try again when it ends",
		             s->name, s->name);
		return;
	}
	struct state_pending *p = state_pending_find(d->state, s->name);
	struct engine_decision dec;
	if (w->kind == WEB_CMD_REJECT || w->kind == WEB_CMD_APPROVE) {
		if (!p) {
			command_done(d, c, -EINVAL, "%s has no change waiting for approval",
			             s->name);
			return;
		}
		gate_pending_decision(p, &dec);
		if (w->kind == WEB_CMD_REJECT) {
			daemon_history_add(d, STATE_EVENT_DECISION, s->name, &dec, "rejected", NULL,
			                   0, NULL);
			state_pending_remove(d->state, s->name);
			command_done(d, c, 0, "change for %s rejected", s->name);
			return;
		}
		daemon_history_add(d, STATE_EVENT_DECISION, s->name, &dec, "approved", NULL, 0,
		                   NULL);
		state_pending_remove(d->state, s->name);
	} else {
		/* deploy: an operator's explicit limits. */
		const struct observation *o = &s->obs;
		if (!o->cpu_limit_known || !o->mem_limit_known) {
			command_done(d, c, -EINVAL,
			             "the current limits of %s are not known yet; wait for a check",
			             s->name);
			return;
		}
		memset(&dec, 0, sizeof(dec));
		dec.reason = ENGINE_REASON_NONE;
		dec.cpu_from = o->cpu_limit;
		dec.mem_from = o->mem_limit;
		dec.change_cpu = w->has_cpu;
		dec.cpu_to = w->cpu;
		dec.change_mem = w->has_memory;
		dec.mem_to = w->memory;
		snprintf(dec.explanation, sizeof(dec.explanation),
		         "manual deploy by %s: cpu %.2f -> %.2f cores, memory %llu -> %llu MiB",
		         c->user ? c->user : "operator", dec.cpu_from,
		         w->has_cpu ? w->cpu : dec.cpu_from,
		         (unsigned long long)(dec.mem_from / UNITS_MIB),
		         (unsigned long long)((w->has_memory ? w->memory : dec.mem_from) /
		                              UNITS_MIB));
	}
	if (d->n_running >= d->cfg->blue_green.max_concurrent) {
		command_done(d, c, -EBUSY, "blue_green.max_concurrent deployments are running");
		return;
	}
	daemon_job_start(d, s, &dec);
	command_done(d, c, 0, "deployment of %s started", s->name);
}

/* Takes in what another writer saved since the daemon's last save (lock
 * held): its deployments in flight, history and records. */
void daemon_refresh_state(struct daemon *d)
{
	char err[300];
	if (state_store_refresh(d->store, d->state, daemon_owns_journal, d,
	                        d->cfg->state.history_size, err, sizeof(err)) < 0) {
		char q[400];
		log_warn("daemon",
		         "cannot read the state file, keeping the state in memory\terror=%s",
		         log_quote(err, q, sizeof(q)));
	}
}

void daemon_commands_run(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	bool any = d->commands != NULL;
	if (any)
		daemon_refresh_state(d); /* a deployment the CLI started since the last check */
	while (d->commands) {
		struct command *c = d->commands;
		d->commands = c->next;
		command_run(d, c);
	}
	if (any) {
		char err[256];
		daemon_save_state(d, time_wall(), err, sizeof(err)); /* logs a failure */
		daemon_publish(d);
	}
	pthread_mutex_unlock(&d->lock);
}

/* web_command_fn: hands the command to the loop and waits for it. */
int daemon_on_command(void *ctx, const struct web_command *cmd, char *msg, size_t msglen)
{
	struct daemon *d = ctx;
	struct command *c = xcalloc(1, sizeof(*c));
	c->cmd = *cmd;
	c->service = cmd->service ? xstrdup(cmd->service) : NULL;
	c->user = cmd->user ? xstrdup(cmd->user) : NULL;
	c->cmd.service = c->service;
	c->cmd.user = c->user;
	pthread_mutex_lock(&d->lock);
	if (d->stopping) {
		pthread_mutex_unlock(&d->lock);
		snprintf(msg, msglen, "the service is stopping");
		free(c->service);
		free(c->user);
		free(c);
		return -EBUSY;
	}
	struct command **tail = &d->commands;
	while (*tail)
		tail = &(*tail)->next;
	*tail = c;
	pthread_mutex_unlock(&d->lock);
	daemon_wake(d);
	double deadline = time_wall() + 10;
	pthread_mutex_lock(&d->lock);
	while (!c->done) {
		struct timespec ts = { (time_t)deadline,
			               (long)((deadline - (double)(time_t)deadline) * 1e9) };
		if (pthread_cond_timedwait(&d->cond, &d->lock, &ts) == ETIMEDOUT)
			break;
	}
	int r;
	if (c->done) {
		r = c->result;
		snprintf(msg, msglen, "%s", c->msg);
	} else {
		/* A command runs whole under the lock, so one not done is still
		 * queued: take it back, nothing was changed. */
		for (struct command **pp = &d->commands; *pp; pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				break;
			}
		r = -ETIMEDOUT;
		snprintf(msg, msglen,
		         "the loop did not take the command within 10 s; nothing "
		         "was changed");
	}
	pthread_mutex_unlock(&d->lock);
	free(c->service);
	free(c->user);
	free(c);
	return r;
}
