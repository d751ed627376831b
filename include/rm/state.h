/* state: what survives a restart: per-service engine state, the last known
 * good and the last applied limits, the deployment journal, pending
 * approvals, and a bounded history of decisions and deployments.
 *
 * state_json_* is the PURE wire format (bytes in, structs out; fuzzed);
 * state_load/state_save do the file I/O: atomic writes (temp file, fsync,
 * rename, fsync of the directory), a format version, unknown keys tolerated,
 * a corrupt file moved aside with a warning, never silently reset. */
#ifndef RM_STATE_H
#define RM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rm/bluegreen.h"
#include "rm/engine.h"
#include "rm/recommender.h"
#include "rm/verify.h"

/* 1: the first format. 2: per-service usage histograms ("usage") and the
 * percentile policy's engine fields; a version 1 file loads as a service with
 * no history (it is written back as version 2). */
#define STATE_FORMAT_VERSION 2

/* Limits as applied to a service (sums over its replicas). */
struct state_limits {
	bool known;
	double cpu;      /* cores, 0 = no limit */
	uint64_t memory; /* bytes, 0 = no limit */
};

/* Counters since the first start (metrics survive restarts). */
struct state_counters {
	unsigned long total_adjustments; /* changes attempted */
	unsigned long successful_adjustments;
	unsigned long failed_adjustments;
	unsigned long blue_green_deployments; /* blue-green replacements that succeeded */
	unsigned long blue_green_failed;      /* blue-green replacements that failed */
	unsigned long rollbacks;
	unsigned long threshold_breaches; /* readings beyond a threshold */
	unsigned long reverts;            /* changes undone by their watch (verify.h) */
	unsigned long verified;           /* changes whose watch ended clean */
};

struct state_service {
	char *name;
	struct engine_state engine;
	struct state_counters counters;
	unsigned replicas;             /* containers seen at the last change (export-overrides) */
	struct state_limits last_good; /* before the last change: what rollback restores */
	struct state_limits applied;   /* what the last change applied (drift detection) */
	struct usage_history usage;    /* the percentile recommender's histograms */
	bool watching;                 /* the last change is being watched (verify.h) */
	struct verify_watch watch;
};

/* One deployment in flight, written before each side effect. */
struct state_journal {
	char *service;
	char *strategy; /* "blue-green" or "in-place" */
	/* "bluegreen", "inplace", "swarm" (deploy_backend_to_string); NULL in
	 * a file written before backends existed: the strategy says. For
	 * swarm, blue_id/blue_name are the service's id and name. */
	char *backend;
	struct bg_machine machine;
	char *blue_id;
	char *blue_name;
	char *green_id; /* NULL until created */
	char *green_name;
	struct state_limits from;
	struct state_limits to;
};

enum state_event_kind {
	STATE_EVENT_DECISION,
	STATE_EVENT_DEPLOYMENT,
	_STATE_EVENT_KIND_MAX,
};
const char *state_event_kind_to_string(enum state_event_kind k);
int state_event_kind_from_string(const char *s);

/* A history entry. outcome: "applied", "failed", "rolled_back", "dry_run",
 * "pending", "approved", "rejected", "expired", "recommended", "skipped". */
struct state_event {
	double time;
	enum state_event_kind kind;
	char *service;
	char *reason; /* engine reason name */
	char *explanation;
	char *outcome;
	char *strategy;  /* deployments: strategy used; may be NULL */
	char *backend;   /* deployments: backend that ran it; may be NULL */
	double duration; /* deployments: seconds */
	struct state_limits from;
	struct state_limits to;
};

struct state_pending {
	char *service;
	double created;
	double expires;
	char *reason;
	char *explanation;
	struct state_limits from;
	struct state_limits to;
};

struct rm_state {
	double saved_at;
	struct state_service *services;
	size_t n_services;
	struct state_journal *journal;
	size_t n_journal;
	struct state_event *history; /* oldest first */
	size_t n_history;
	struct state_pending *pending;
	size_t n_pending;
};

struct rm_state *state_new(void);
void state_free(struct rm_state *s);

/* The service's record, created (zeroed) when absent. Never NULL. */
struct state_service *state_service_get(struct rm_state *s, const char *name);
/* The service's record or NULL. */
const struct state_service *state_service_find(const struct rm_state *s, const char *name);

/* Appends a copy of ev (strings duplicated), dropping the oldest entries
 * beyond max_history. */
void state_history_add(struct rm_state *s, const struct state_event *ev, size_t max_history);

/* The journal entry of a service, or NULL; add returns a zeroed entry to fill. */
struct state_journal *state_journal_find(struct rm_state *s, const char *service);
struct state_journal *state_journal_add(struct rm_state *s, const char *service);
/* Puts a copy of j (its strings duplicated) in s, replacing the entry of
 * j->service if there is one; j is not an entry of s. */
void state_journal_put(struct rm_state *s, const struct state_journal *j);
void state_journal_remove(struct rm_state *s, const char *service);

struct state_pending *state_pending_find(struct rm_state *s, const char *service);
struct state_pending *state_pending_add(struct rm_state *s, const char *service);
void state_pending_remove(struct rm_state *s, const char *service);

/* PURE. Parses the JSON text of a state file. Unknown keys are ignored; a
 * newer format version is refused. Returns 0 and *ret, or -EBADMSG with a
 * reason in err (e.g. "services.grafana.engine.day: expected an integer"). */
int state_json_parse(const char *text, size_t len, struct rm_state **ret, char *err, size_t errlen);
/* PURE. Serializes; returns an owned NUL-terminated JSON string. */
char *state_json_serialize(const struct rm_state *s);

/* Reads path. A missing file gives an empty state (returns 0). A file that
 * cannot be parsed is renamed to "<path>.corrupt-<unix time>", a warning
 * names both files, and an empty state is returned (returns 1 so the caller
 * can report it). -errno when the file exists but cannot be read. */
int state_load(const char *path, struct rm_state **ret, char *err, size_t errlen);

/* Writes atomically: a temp file of its own, fsync, rename over path, fsync the folder.
 * Returns 0 or -errno (the previous file is intact on failure). */
int state_save(const char *path, const struct rm_state *s, double now, char *err, size_t errlen);

#endif
