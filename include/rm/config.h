/* config: the service's settings, loaded from YAML (the original's file as it
 * stands), overridden by environment variables, and validated as a whole.
 *
 * Every key, its default, its env override and its unit live in one table in
 * config.c; docs/configuration.md documents the same table. */
#ifndef RM_CONFIG_H
#define RM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rm/log.h"

/* Largest config file accepted. */
#define CONFIG_MAX_SIZE (1024 * 1024)
/* Where the original looks for its file; CONFIG_PATH overrides it. */
#define CONFIG_DEFAULT_PATH "/config/config.yml"

enum metrics_source {
	SOURCE_AUTO,
	SOURCE_PROMETHEUS,
	SOURCE_DOCKER,
	_SOURCE_MAX,
};
const char *metrics_source_to_string(enum metrics_source s);
int metrics_source_from_string(const char *s);

enum memory_metric {
	MEMORY_METRIC_WORKING_SET,
	MEMORY_METRIC_USAGE,
	_MEMORY_METRIC_MAX,
};
const char *memory_metric_to_string(enum memory_metric m);
int memory_metric_from_string(const char *s);

enum deploy_strategy {
	STRATEGY_AUTO,
	STRATEGY_BLUE_GREEN,
	STRATEGY_IN_PLACE,
	_STRATEGY_MAX,
};
const char *deploy_strategy_to_string(enum deploy_strategy s);
int deploy_strategy_from_string(const char *s);

/* adjustment.policy: how a service's new limits are chosen (docs/engine.md). */
enum adjustment_policy {
	POLICY_PERCENTILE, /* usage histograms: a percentile plus a margin */
	POLICY_THRESHOLD,  /* the original's rule: steps when use leaves the band */
	_POLICY_MAX,
};
const char *adjustment_policy_to_string(enum adjustment_policy p);
int adjustment_policy_from_string(const char *s);

enum service_class {
	CLASS_NORMAL,
	CLASS_CRITICAL,
	CLASS_OPTIONAL,
	_CLASS_MAX,
};
const char *service_class_to_string(enum service_class c);
int service_class_from_string(const char *s);

/* An owned list of strings. */
struct strlist {
	char **items;
	size_t n;
};
bool strlist_contains(const struct strlist *l, const char *s);

/* services.baseline.<service>: a floor (and the starting limit for a container
 * without one, when adjustment.manage_unlimited is on). */
struct service_baseline {
	char *service;
	bool has_cpu;
	double cpu; /* cores */
	bool has_memory;
	uint64_t memory; /* bytes */
	int line;
};

/* services.priority.<service>: 1 is the highest; services without one get 2. */
struct service_priority {
	char *service;
	int priority;
	int line;
};

/* services.strategy.<service>: overrides blue_green.default_strategy. */
struct service_strategy {
	char *service;
	enum deploy_strategy strategy;
	int line;
};

struct http_header {
	char *name;
	char *value;
};

struct rm_config {
	struct {
		char *prometheus_url;  /* "" disables Prometheus */
		double check_interval; /* seconds */
		double query_timeout;
		double analysis_window;
		double trend_window;
		enum metrics_source source;
		enum memory_metric memory_metric;
	} monitoring;

	struct {
		double cpu_high; /* fractions of the limit */
		double cpu_low;
		double memory_high;
		double memory_low;
		unsigned consecutive_checks;
		double min_uptime;        /* seconds */
		double cpu_throttle_high; /* share of CFS periods throttled */
	} thresholds;

	struct {
		double increase_factor;
		double decrease_factor;
		double min_cpu; /* cores */
		double max_cpu;
		uint64_t min_memory; /* bytes */
		uint64_t max_memory;
		double cooldown_period; /* seconds */
		unsigned max_adjustments_per_day;
		double failure_backoff;      /* seconds, doubled per failure in a row */
		double memory_safety_margin; /* fraction above peak use */
		double min_change;           /* fraction of the current limit */
		double min_change_cpu;       /* cores */
		uint64_t min_change_memory;  /* bytes */
		bool manage_unlimited;
		enum adjustment_policy policy;
		double verify_window;  /* seconds watched after each change, 0 = off */
		double revert_backoff; /* seconds without decreases of a reverted resource */
	} adjustment;

	/* The percentile recommender (adjustment.policy: percentile). */
	struct {
		double cpu_percentile;    /* of the decayed CPU histogram, (0, 1] */
		double memory_percentile; /* of the decayed memory-peak histogram */
		double cpu_margin;        /* added to the percentile, a fraction */
		double memory_margin;
		double half_life;         /* seconds: a sample's weight halves per half-life */
		double min_history;       /* seconds of history before any decrease */
		double tolerance;         /* share away from the target before acting */
		double decrease_interval; /* seconds between two decreases of one resource */
		double history_window;    /* seconds of Prometheus history for a warm start */
	} recommender;

	struct {
		struct strlist monitored;
		struct strlist critical;
		struct strlist optional;
		struct strlist stateful;
		char *project;     /* com.docker.compose.project restriction, "" = any */
		bool label_opt_in; /* also manage containers labelled resource-manager.enable=true
		                    */
		struct service_priority *priority;
		size_t n_priority;
		struct service_baseline *baseline;
		size_t n_baseline;
		struct service_strategy *strategy;
		size_t n_strategy;
	} services;

	struct {
		bool enabled;
		char *script;
		double health_check_timeout;
		double health_check_interval;
		unsigned health_check_retries;
		bool rollback_on_failure;
		double rollback_timeout;
		unsigned traffic_shift_steps;
		double traffic_shift_interval;
		enum deploy_strategy default_strategy;
		double settle_time;
		double drain_time;
		double stability_period;
		unsigned max_concurrent;
		char *verify_url;         /* "" = no probe through the router */
		unsigned verify_requests; /* consecutive 2xx answers it needs */
		double verify_timeout;    /* the probes' whole budget, seconds */
		char *traefik_api;        /* "" = Traefik's API not read */
		bool move_aliases; /* aliases: to green once healthy, off blue before its drain */
	} blue_green;

	struct {
		char *host;
		char *api_version; /* "auto" or "1.41" */
		char *cgroup_root; /* the host's cgroup tree; "" = engine stats only */
		double timeout;
		bool tls;
	} docker;

	struct {
		bool enabled;
		struct strlist events;
		struct {
			bool enabled;
			char *url;
		} alertmanager;
		struct {
			bool enabled;
			char *path;
			enum log_level level;
		} logfile;
		struct {
			bool enabled;
			char *url;
			struct http_header *headers;
			size_t n_headers;
		} webhook;
	} notifications;

	struct {
		bool enabled;
		unsigned port;
		char *path;
		char *bind_address;
		struct strlist track;
	} metrics;

	struct {
		char *admin_token_file; /* "" = no bearer token */
		bool trust_forward_auth;
		bool read_requires_auth;
		uint64_t max_body;            /* bytes */
		unsigned workers;             /* civetweb worker threads */
		double request_timeout;       /* seconds for a whole request to arrive */
		struct strlist allowed_hosts; /* Host names answered, beside the built-in ones */
		char *health_socket;          /* "" = health.sock beside state.path, "none" = off */
	} web;

	struct {
		bool enabled;
		bool dry_run;
		bool manual_approval;
		double approval_timeout;
		bool reapply_on_drift;
		struct {
			bool increase_on_high;
			bool decrease_on_low;
			bool scale_down_optional;
			bool restart_unhealthy;
		} actions;
	} automation;

	struct {
		enum log_level level;
		enum log_format format;
	} logging;

	struct {
		char *path;
		unsigned history_size;
	} state;

	/* Where the config came from: a path, or "(embedded default)". */
	char *source_path;
	/* Provenance of every key, by table index; see config_describe. */
	struct config_origin *origins;
	size_t n_origins;
};

enum config_origin_kind {
	ORIGIN_DEFAULT,
	ORIGIN_FILE,
	ORIGIN_ENV,
};

struct config_origin {
	enum config_origin_kind kind;
	int line; /* for ORIGIN_FILE */
};

/* Problems found while loading: every one is collected, none stops the others. */
enum config_severity {
	CONFIG_WARNING,
	CONFIG_ERROR,
};

struct config_problem {
	enum config_severity severity;
	char *path; /* key path such as "thresholds.cpu_high", or "" */
	int line;   /* 0 when unknown */
	char *message;
};

struct config_report {
	struct config_problem *problems;
	size_t n;
	size_t n_errors;
};
void config_report_free(struct config_report *r);
/* Prints each problem as "file:line: error: path: message". */
void config_report_print(const struct config_report *r, const char *file, FILE *out);

/* A config holding every default. Never fails. */
struct rm_config *config_new_default(void);
void config_free(struct rm_config *cfg);

/* Loads YAML text (len bytes, need not be NUL-terminated) over the defaults,
 * then applies the environment from envp (NULL-terminated "NAME=value" list;
 * NULL means no environment) and validates. Problems go into *report (owned
 * by the caller, free with config_report_free). Returns 0 and *ret_cfg when
 * there is no error (warnings allowed), or -EINVAL with *ret_cfg untouched. */
int config_load_data(const char *data, size_t len, const char *source_name, char *const *envp,
                     struct rm_config **ret_cfg, struct config_report *report);

/* Reads path (refusing files over CONFIG_MAX_SIZE) and calls config_load_data.
 * Returns 0, -EINVAL (invalid config) or -errno (cannot read; reported too). */
int config_load_file(const char *path, char *const *envp, struct rm_config **ret_cfg,
                     struct config_report *report);

/* Resolves which config to load: explicit path, else $CONFIG_PATH, else
 * CONFIG_DEFAULT_PATH if it exists, else the embedded default. */
int config_load(const char *explicit_path, char *const *envp, struct rm_config **ret_cfg,
                struct config_report *report);

/* The embedded copy of config/config.yml. */
const char *config_embedded_text(size_t *ret_len);

/* Prints every key with its effective value and origin (default, file:line,
 * env NAME), and lists keys accepted but not used yet. */
void config_describe(const struct rm_config *cfg, FILE *out);

/* Per-service view derived from the lists. */
enum service_class config_service_class(const struct rm_config *cfg, const char *service);
int config_service_priority(const struct rm_config *cfg, const char *service);
const struct service_baseline *config_service_baseline(const struct rm_config *cfg,
                                                       const char *service);
enum deploy_strategy config_service_strategy(const struct rm_config *cfg, const char *service);
bool config_event_enabled(const struct rm_config *cfg, const char *event);

/* Key table introspection (docs and tests). */
size_t config_key_count(void);
const char *config_key_path(size_t i);
const char *config_key_env(size_t i);
const char *config_key_default(size_t i);
bool config_key_used(size_t i);

#endif
