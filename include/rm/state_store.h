/* state_store: one writer of the state file at a time. Every writer (the
 * daemon, `deploy`, `rollback`, `reconcile`) holds an exclusive flock on
 * <path>.lock while it reads and rewrites the file; the daemon, which keeps
 * the state in memory between saves, first merges what another writer put in
 * the file since its own last save (a three-way merge against that save), so
 * no deployment record, journal entry or history event of another writer is
 * lost. state_merge is PURE; the rest does the file I/O. */
#ifndef RM_STATE_STORE_H
#define RM_STATE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "rm/state.h"

/* Takes the exclusive lock of the state file path (<path>.lock, created
 * 0600 when missing; opened read-only when it may not be written), waiting
 * at most timeout seconds. Returns the lock's fd (close it, or
 * state_unlock, to release), -EWOULDBLOCK when another writer held it all
 * that time, or -errno when the lock file can be neither created nor opened. */
int state_lock(const char *path, double timeout);
void state_unlock(int fd);

/* Whether the journal entry of service is the caller's own (its deployment
 * in flight): the caller's version of it wins a merge. */
typedef bool (*state_own_fn)(const char *service, void *ctx);

/* PURE. Brings into mine what another writer changed between base (the
 * file as mine last read or wrote it; NULL: an empty state) and theirs (the
 * file now):
 *   - journal: an entry theirs added, changed or removed is taken from
 *     theirs, unless it is mine (own(service));
 *   - history: events of theirs that base lacks are inserted by time, the
 *     oldest beyond max_history dropped;
 *   - services: counters grow by theirs - base; last good, applied limits and
 *     replicas that theirs changed are taken from theirs.
 * Everything else (engine state, approvals) is mine: no other writer
 * changes it. */
void state_merge(struct rm_state *mine, const struct rm_state *base, const struct rm_state *theirs,
                 state_own_fn own, void *own_ctx, size_t max_history);

/* The daemon's handle on its state file: the path and what the file held
 * after the daemon's last read or write (the base of the next merge). */
struct state_store;

/* Loads path like state_load (same returns: 0, 1 for a corrupt file moved
 * aside, -errno) and remembers it as the base. *ret_store and *ret_state are
 * owned by the caller. */
int state_store_open(const char *path, struct state_store **ret_store, struct rm_state **ret_state,
                     char *err, size_t errlen);
void state_store_free(struct state_store *st);

/* Reads the file without the lock and merges into mine what another writer
 * changed since the base; the file becomes the base. Returns 1 when
 * something was merged, 0 when the file is as the daemon left it, -errno
 * when it cannot be read or parsed (mine untouched). */
int state_store_refresh(struct state_store *st, struct rm_state *mine, state_own_fn own,
                        void *own_ctx, size_t max_history, char *err, size_t errlen);

/* Under the lock: refresh, then save mine atomically; mine becomes the
 * base. Returns 0 or -errno (mine is kept in memory either way, and the
 * file is the old one or the new one, never part of one). */
int state_store_save(struct state_store *st, struct rm_state *mine, double now, state_own_fn own,
                     void *own_ctx, size_t max_history, char *err, size_t errlen);

/* One read-modify-write of path under the lock, for the CLI: loads the file
 * (an empty state when missing), calls fn, saves. Returns 0; 1 when a
 * corrupt file was moved aside first (err names both files); or -errno
 * (nothing written) with the reason in err. */
typedef void (*state_update_fn)(struct rm_state *s, void *ctx);
int state_update(const char *path, state_update_fn fn, void *ctx, double now, char *err,
                 size_t errlen);

/* How long a writer waits for the lock before giving up (seconds). */
#define STATE_LOCK_TIMEOUT 5.0

#endif
