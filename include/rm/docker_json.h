/* docker_json: the Docker Engine API's JSON, to plain C structs and back.
 *
 * Pure: bytes in, structs out, no I/O, no logging. Every parser takes the
 * response body (len bytes, need not be NUL-terminated) and returns 0 with
 * *ret filled (owned; free with the matching _free, which accepts a zeroed
 * struct), or -EBADMSG with a message naming the field in err (may be NULL)
 * and *ret untouched. Unknown keys are ignored; a missing optional key leaves
 * its field zero/NULL/false. */
#ifndef RM_DOCKER_JSON_H
#define RM_DOCKER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An API version such as "1.41". */
struct docker_api_version {
	unsigned major;
	unsigned minor;
};
/* Parses "1.41". Returns 0 or -EINVAL. */
int docker_api_version_parse(const char *s, struct docker_api_version *ret);
/* <0, 0, >0 like strcmp. */
int docker_api_version_cmp(struct docker_api_version a, struct docker_api_version b);

/* Parses an RFC 3339 time as Docker writes it ("2026-11-27T19:27:05.233451774Z",
 * or with a numeric offset) into seconds since the epoch. Docker's zero time
 * "0001-01-01T00:00:00Z" gives 0. Returns 0 or -EINVAL. */
int docker_json_parse_time(const char *s, double *ret);

/* GET /version */
struct docker_version {
	char *version;         /* engine version, "20.10.24+dfsg1" */
	char *api_version;     /* "1.41" */
	char *min_api_version; /* "1.12"; NULL when the engine does not say */
};
int docker_json_parse_version(const char *data, size_t len, struct docker_version *ret, char *err,
                              size_t errlen);
void docker_version_free(struct docker_version *v);

/* GET /info */
struct docker_info {
	unsigned ncpu;
	uint64_t mem_total;  /* bytes */
	int cgroup_version;  /* 1 or 2; 0 when not reported */
	char *cgroup_driver; /* "cgroupfs", "systemd"; NULL when not reported */
};
int docker_json_parse_info(const char *data, size_t len, struct docker_info *ret, char *err,
                           size_t errlen);
void docker_info_free(struct docker_info *i);

/* A container's labels, in the order the engine sent them. */
struct docker_label {
	char *key;
	char *value;
};
struct docker_labels {
	struct docker_label *items;
	size_t n;
};
/* The value of label key, or NULL. Borrowed from l. */
const char *docker_labels_get(const struct docker_labels *l, const char *key);

/* One entry of GET /containers/json. */
enum docker_health {
	DOCKER_HEALTH_NONE,
	DOCKER_HEALTH_STARTING,
	DOCKER_HEALTH_HEALTHY,
	DOCKER_HEALTH_UNHEALTHY,
};

/* The health a container list's Status text carries ("Up 3 minutes
 * (healthy)", "(health: starting)", "(unhealthy)"); NONE otherwise. */
enum docker_health docker_health_from_status(const char *status);

struct docker_container_summary {
	char *id;
	char **names; /* as the engine writes them, with a leading '/' */
	size_t n_names;
	struct docker_labels labels;
	char *state; /* "running", "exited", ... */
	int64_t created;
	/* From the list's Status text ("Up 5 minutes (unhealthy)"): the health
	 * check's verdict, DOCKER_HEALTH_NONE without a health check. */
	enum docker_health health;
};
struct docker_container_list {
	struct docker_container_summary *items;
	size_t n;
};
int docker_json_parse_container_list(const char *data, size_t len,
                                     struct docker_container_list *ret, char *err, size_t errlen);
void docker_container_list_free(struct docker_container_list *l);

struct docker_network {
	char *name;
	char **aliases;
	size_t n_aliases;
	char *ip_address;   /* "" when not connected */
	bool endpoint_more; /* Links or DriverOpts set: more than aliases to keep */
};

struct docker_port_binding {
	char *container_port; /* "8080/tcp" */
	char *host_ip;        /* may be "" */
	char *host_port;      /* may be "" */
};

struct docker_healthcheck {
	char **test; /* ["CMD-SHELL", "..."]; NULL when the container has none */
	size_t n_test;
	int64_t interval; /* nanoseconds, 0 = engine default */
	int64_t timeout;
	int64_t start_period;
	int retries;
};

/* The CPU form a container was created with: updates must stay in it. */
enum docker_cpu_form {
	DOCKER_CPU_NONE,  /* no CPU limit */
	DOCKER_CPU_NANO,  /* NanoCpus (--cpus) */
	DOCKER_CPU_QUOTA, /* CpuQuota/CpuPeriod (--cpu-quota) */
	_DOCKER_CPU_FORM_MAX,
};
const char *docker_cpu_form_to_string(enum docker_cpu_form f);
int docker_cpu_form_from_string(const char *s);

struct docker_host_config {
	int64_t nano_cpus;
	int64_t cpu_quota;
	int64_t cpu_period;
	int64_t memory;      /* bytes, 0 = no limit */
	int64_t memory_swap; /* bytes, 0 = unset, -1 = unlimited */
	struct docker_port_binding *port_bindings;
	size_t n_port_bindings;
	char *restart_policy; /* "no", "always", "unless-stopped", "on-failure" */
	int restart_max_retry;
	char *network_mode;
};
/* Which CPU form hc uses (NanoCpus wins if, oddly, both are set). */
enum docker_cpu_form docker_host_config_cpu_form(const struct docker_host_config *hc);
/* The CPU limit in cores (0 = none) and the memory limit in bytes (0 = none). */
double docker_host_config_cpus(const struct docker_host_config *hc);

/* GET /containers/{id}/json */
struct docker_inspect {
	char *id;
	char *name; /* with the leading '/' */
	char *created;
	bool restart_count_known;
	unsigned restart_count; /* restarts by the engine (RestartCount) */
	struct {
		char *status; /* "running", "exited", ... */
		bool running;
		bool oom_killed;
		char *started_at;
		double started_at_time; /* seconds since the epoch, 0 = never started */
		char *health_status;    /* "healthy", ...; NULL without a healthcheck */
		int pid;
		int exit_code;
	} state;
	struct {
		char *image;
		struct docker_labels labels;
		struct docker_healthcheck healthcheck;
		char **env;
		size_t n_env;
		char **cmd;
		size_t n_cmd;
		char **entrypoint;
		size_t n_entrypoint;
		char *user;
		char *working_dir;
		char *stop_signal; /* NULL = the engine's default (SIGTERM) */
		int stop_timeout;  /* seconds; -1 = not set (the engine's default, 10) */
	} config;
	struct docker_host_config host_config;
	struct docker_network *networks;
	size_t n_networks;
	/* The whole response, NUL-terminated, for cloning a container later. */
	char *raw_json;
};
int docker_json_parse_inspect(const char *data, size_t len, struct docker_inspect *ret, char *err,
                              size_t errlen);
void docker_inspect_free(struct docker_inspect *i);

/* GET /containers/{id}/stats?stream=false&one-shot=true. A stopped
 * container's stats carry no memory and a zero read time: the *_known flags
 * say what the engine reported. */
struct docker_stats {
	double read_time; /* seconds since the epoch; 0 = not reported */
	/* read_time is on the steady clock (the cgroup files, cgroup_stats.h),
	 * not the engine's wall clock: two samples on different clocks give no
	 * rate. */
	bool steady_clock;
	bool cpu_known;
	uint64_t cpu_total_usage;  /* nanoseconds of CPU */
	uint64_t system_cpu_usage; /* nanoseconds, host-wide; 0 = not reported */
	unsigned online_cpus;
	bool throttling_known;
	uint64_t throttling_periods;
	uint64_t throttled_periods;
	bool mem_known;
	uint64_t mem_usage;
	/* total_inactive_file (cgroup v1) or inactive_file (cgroup v2). */
	bool inactive_file_known;
	uint64_t inactive_file;
	uint64_t mem_limit; /* as the engine reports it; a huge value = none */
};
int docker_json_parse_stats(const char *data, size_t len, struct docker_stats *ret, char *err,
                            size_t errlen);
/* Working set: usage - inactive_file (clamped at 0), as the docker CLI does;
 * usage alone when the engine gave no inactive_file. Needs mem_known. */
uint64_t docker_stats_working_set(const struct docker_stats *s);

/* The container events the daemon cares about. */
enum docker_event_action {
	DOCKER_EVENT_OTHER,
	DOCKER_EVENT_START,
	DOCKER_EVENT_DIE,
	DOCKER_EVENT_OOM,
	DOCKER_EVENT_HEALTH_STATUS,
	DOCKER_EVENT_DESTROY,
	DOCKER_EVENT_RENAME,
	/* Not from the engine: the events reader (re)connected, or dropped
	 * events; the consumer must list containers again. */
	DOCKER_EVENT_RELIST,
	_DOCKER_EVENT_ACTION_MAX,
};
const char *docker_event_action_to_string(enum docker_event_action a);
int docker_event_action_from_string(const char *s);

/* One line of GET /events. */
struct docker_event {
	enum docker_event_action action;
	char *type;       /* "container" */
	char *action_raw; /* as sent, "health_status: healthy" */
	char *id;         /* Actor.ID */
	char *name;       /* Actor.Attributes.name, without '/'; may be NULL */
	char *service;    /* com.docker.compose.service; may be NULL */
	char *project;    /* com.docker.compose.project; may be NULL */
	char *health;     /* "healthy"/"unhealthy" for health_status, else NULL */
	char *old_name;   /* Actor.Attributes.oldName for rename, else NULL */
	int exit_code;    /* Actor.Attributes.exitCode for die, else 0 */
	int64_t time;     /* seconds */
	int64_t time_nano;
};
int docker_json_parse_event(const char *data, size_t len, struct docker_event *ret, char *err,
                            size_t errlen);
void docker_event_free(struct docker_event *e);

/* The "message" of an error body ({"message": "..."}), or NULL when the body
 * is not one. Owned by the caller. */
char *docker_json_error_message(const char *data, size_t len);

/* The Id of a create response ({"Id": "...", "Warnings": []}). */
int docker_json_parse_create(const char *data, size_t len, char **ret_id, char *err, size_t errlen);

/* One key of a Docker "filters" query parameter, e.g. label=[a=b, c]. */
struct docker_filter {
	const char *key;
	const char *const *values;
	size_t n_values;
};
/* The filters JSON ({"label":["a=b"]}), not yet url-encoded. Owned. */
char *docker_json_filters(const struct docker_filter *f, size_t n);

/* The body of POST /networks/{id}/connect, with IPAMConfig.IPv4Address when
 * ipv4 is not NULL. Owned. */
char *docker_json_connect_body(const char *container, const char *const *aliases, size_t n_aliases,
                               const char *ipv4);
/* The body of POST /networks/{id}/disconnect. Owned. */
char *docker_json_disconnect_body(const char *container, bool force);
/* true when alias is one of the names Docker gives a container by itself
 * (its id, or a prefix of it of 12 characters or more: the short id and
 * default hostname), not one the user set. */
bool docker_json_alias_is_own(const char *alias, const char *id);

/* New limits for POST /containers/{id}/update. */
struct docker_limits {
	bool set_cpu;
	double cpus; /* cores, > 0 */
	bool set_memory;
	int64_t memory; /* bytes, > 0 */
};
/* Builds the update body for a container whose current HostConfig is cur:
 *   - CPU in the form the container was created with: NanoCpus, or CpuQuota
 *     over its own CpuPeriod (100000 when unset); a container without a CPU
 *     limit gets NanoCpus;
 *   - Memory always with MemorySwap: -1 stays -1 (unlimited swap); an
 *     explicit swap allowance (MemorySwap - Memory > 0) is kept; otherwise
 *     MemorySwap = 2 x Memory, Docker's default for `-m` alone.
 * Returns 0 and an owned JSON text in *ret_body, or -EINVAL when want asks
 * for nothing or holds a non-positive value. */
int docker_json_update_body(const struct docker_host_config *cur, const struct docker_limits *want,
                            char **ret_body);

/* A label to add, borrowed strings. */
struct docker_label_ref {
	const char *key;
	const char *value;
};

/* A network the clone joins after it is created (POST /networks/{id}/connect). */
struct docker_clone_network {
	char *name;
	char **aliases; /* blue's own aliases, without its container id and default hostname */
	size_t n_aliases;
};

/* What docker_json_clone_body builds: the create body of a copy of a
 * container (green) and the extra networks it must join before it starts. */
struct docker_clone {
	char *body;
	struct docker_clone_network *networks;
	size_t n_networks;
	/* The network the copy is created on, with its aliases once
	 * docker_json_clone_strip_aliases took them out of body (else empty). */
	struct docker_clone_network primary;
};
void docker_clone_free(struct docker_clone *c);

/* Takes the aliases out of the NetworkingConfig of c->body (a body built by
 * docker_json_clone_body), into c->primary: the copy is then created without
 * them, to be given them later. 0, or -EBADMSG for a body not of that shape. */
int docker_json_clone_strip_aliases(struct docker_clone *c);

/* Builds POST /containers/create's body for a copy of the container whose
 * GET /containers/{id}/json response is raw_inspect (len bytes):
 *   - Config as blue has it (image by id, command, entrypoint, env, user,
 *     working dir, exposed ports, volumes, health check, stop signal and
 *     timeout, labels byte for byte) plus the extra labels (which replace
 *     blue's values of the same keys); blue's Hostname only when it was set
 *     explicitly (not the engine's default, its short id); never its MAC;
 *   - HostConfig whole, with the new limits in blue's CPU form and Memory
 *     with MemorySwap as docker_json_update_body does; volumes blue got
 *     anonymously (image VOLUME) are bound by name so the copy shares them;
 *   - NetworkingConfig for one network (HostConfig.NetworkMode when it is
 *     one of blue's, else the first) with blue's aliases, minus its id and
 *     default hostname, and never its IP addresses; the other networks are
 *     returned in ret->networks for the caller to connect before start.
 * Returns 0 and *ret (owned), -EBADMSG when raw_inspect is not an inspect
 * document, -EINVAL when want holds a non-positive value. */
int docker_json_clone_body(const char *raw_inspect, size_t len, const struct docker_limits *want,
                           const struct docker_label_ref *extra_labels, size_t n_extra,
                           struct docker_clone *ret, char *err, size_t errlen);

#endif
