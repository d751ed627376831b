/* swarm: Docker Swarm services and tasks through the Engine API: listing
 * and inspecting services, listing a service's tasks, and updating a
 * service's spec; with the wire format (swarm_json_*: bytes in, plain
 * structs out, PURE, no I/O) and the update body built from a service's
 * current spec.
 *
 * Errors are docker.h's; a engine that is not a swarm manager answers the
 * services and tasks endpoints with -ENOTCONN. */
#ifndef RM_SWARM_H
#define RM_SWARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rm/docker_json.h"

struct docker_client;

/* The stack a service or task belongs to (docker stack deploy). */
#define SWARM_LABEL_STACK "com.docker.stack.namespace"
/* A task container's service name (also cAdvisor's
 * container_label_com_docker_swarm_service_name). */
#define SWARM_LABEL_SERVICE "com.docker.swarm.service.name"

/* Resources of a task: 0 = none. */
struct swarm_resources {
	int64_t nano_cpus;
	int64_t memory; /* bytes */
};

/* One service as GET /services or /services/{id} give it. */
struct swarm_service {
	char *id;
	char *name;        /* Spec.Name, "<stack>_<service>" for a stack */
	uint64_t version;  /* Version.Index, for the update's ?version= */
	bool global;       /* Mode.Global: one task per node */
	uint64_t replicas; /* Mode.Replicated.Replicas */
	struct swarm_resources limits, reservations; /* Spec.TaskTemplate.Resources */
	bool has_previous;                           /* PreviousSpec present */
	struct swarm_resources prev_limits;          /* PreviousSpec's limits */
	char *update_state;          /* UpdateStatus.State ("updating", "paused", "completed",
	                              * "rollback_started", "rollback_paused",
	                              * "rollback_completed"); NULL when never updated */
	char *update_message;        /* UpdateStatus.Message; may be NULL */
	char *update_started;        /* UpdateStatus.StartedAt as sent: tells one
	                              * update's status from the next; may be NULL */
	struct docker_labels labels; /* Spec.Labels */
	char *spec;                  /* Spec as JSON text, the base of an update */
};
void swarm_service_free(struct swarm_service *s);

struct swarm_service_list {
	struct swarm_service *items;
	size_t n;
};
void swarm_service_list_free(struct swarm_service_list *l);

/* One task as GET /tasks gives it. */
struct swarm_task {
	char *id;
	char *service_id;
	char *node_id;
	char *container_id; /* Status.ContainerStatus.ContainerID; NULL before it has one */
	char *state;        /* Status.State: "running", "starting", "failed", ... */
	char *desired_state;
};
struct swarm_task_list {
	struct swarm_task *items;
	size_t n;
};
void swarm_task_list_free(struct swarm_task_list *l);

/* The stack-qualified name a monitored name matches: a service matches
 * "<stack>_<name>" (its Spec.Name) and the bare name after its stack's
 * prefix. PURE. */
bool swarm_service_matches(const struct swarm_service *s, const char *name);

/* PURE. The index in l of the service a monitored name means, or -1: with
 * a project (the stack), "<project>_<name>" or a service of that stack
 * matching name; without one, any service matching name
 * (swarm_service_matches). */
long swarm_service_select(const struct swarm_service_list *l, const char *name,
                          const char *project);

/* PURE. Parse a GET /services answer (an array) or a GET /services/{id}
 * answer (an object). Returns 0 or -EBADMSG with the field in err. */
int swarm_json_parse_services(const char *data, size_t len, struct swarm_service_list *ret,
                              char *err, size_t errlen);
int swarm_json_parse_service(const char *data, size_t len, struct swarm_service *ret, char *err,
                             size_t errlen);
/* PURE. Parse a GET /tasks answer. */
int swarm_json_parse_tasks(const char *data, size_t len, struct swarm_task_list *ret, char *err,
                           size_t errlen);

/* What an update changes in a service's spec. */
struct swarm_update {
	bool set_cpu;
	int64_t nano_cpus; /* per task */
	bool set_memory;
	int64_t memory;  /* per task, bytes */
	bool stop_first; /* stop-first, parallelism 1 (stateful); else start-first */
	double monitor;  /* seconds a new task is watched before the next (UpdateConfig.Monitor) */
	/* Spec.Labels to set (value non-NULL) or remove (value NULL). */
	const struct docker_label_ref *labels;
	size_t n_labels;
};

/* PURE. The body of POST /services/{id}/update: spec (a Spec as JSON text)
 * with only TaskTemplate.Resources.Limits changed as u says (reservations
 * above a new limit are lowered to it), UpdateConfig set to start-first (or
 * stop-first, parallelism 1), FailureAction rollback and u->monitor, and
 * the labels u names. Returns 0 and *ret_body (owned), or -EBADMSG (spec is
 * not an object) / -EINVAL (u changes no limit and no label). */
int swarm_json_update_body(const char *spec, const struct swarm_update *u, char **ret_body);

/* GET /services (all of them). *ret owned. */
int swarm_services_list(struct docker_client *c, struct swarm_service_list *ret, char *err,
                        size_t errlen);
/* GET /services/{id}; id is an id or a name. *ret owned. */
int swarm_service_inspect(struct docker_client *c, const char *id, struct swarm_service *ret,
                          char *err, size_t errlen);
/* POST /services/{id}/update?version=N with body; rollback asks the
 * engine to go back to PreviousSpec (rollback=previous; the body is then
 * the current spec and otherwise ignored). -EBUSY-like conflicts on an
 * outdated version come back as -EAGAIN ("update out of sequence"). */
int swarm_service_update(struct docker_client *c, const char *id, uint64_t version,
                         const char *body, bool rollback, char *err, size_t errlen);
/* GET /tasks?filters={"service":[service]} (all states when !running_only;
 * else desired-state running). *ret owned. */
int swarm_tasks_list(struct docker_client *c, const char *service, bool running_only,
                     struct swarm_task_list *ret, char *err, size_t errlen);

#endif
