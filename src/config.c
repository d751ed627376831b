/* config: the key table, YAML loading (libyaml lint pass plus a libcyaml schema
 * generated from the table), environment overrides and validation. */
#include "rm/config.h"

#include <ctype.h>
#include <cyaml/cyaml.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "rm/units.h"
#include "rm/util.h"

extern const unsigned char rm_embedded_config[];
extern const size_t rm_embedded_config_len;

/* ---- enum name tables (one table per enum, both directions) ---- */

static const char *const source_names[_SOURCE_MAX] = { "auto", "prometheus", "docker" };
static const char *const memory_metric_names[_MEMORY_METRIC_MAX] = { "working_set", "usage" };
static const char *const strategy_names[_STRATEGY_MAX] = { "auto", "blue-green", "in-place" };
static const char *const policy_names[_POLICY_MAX] = { "percentile", "threshold" };
static const char *const class_names[_CLASS_MAX] = { "normal", "critical", "optional" };
static const char *const level_names[_LOG_LEVEL_MAX] = { "debug", "info", "warn", "error" };
static const char *const format_names[_LOG_FORMAT_MAX] = { "text", "json" };

static int name_lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -EINVAL;
}

#define ENUM_FUNCS(prefix, type, names, max)                                                       \
	const char *prefix##_to_string(type v)                                                     \
	{                                                                                          \
		return (int)v >= 0 && v < max ? names[v] : "unknown";                              \
	}                                                                                          \
	int prefix##_from_string(const char *s)                                                    \
	{                                                                                          \
		return name_lookup(names, max, s);                                                 \
	}

ENUM_FUNCS(metrics_source, enum metrics_source, source_names, _SOURCE_MAX)
ENUM_FUNCS(memory_metric, enum memory_metric, memory_metric_names, _MEMORY_METRIC_MAX)
ENUM_FUNCS(deploy_strategy, enum deploy_strategy, strategy_names, _STRATEGY_MAX)
ENUM_FUNCS(adjustment_policy, enum adjustment_policy, policy_names, _POLICY_MAX)
ENUM_FUNCS(service_class, enum service_class, class_names, _CLASS_MAX)

/* ---- the key table ---- */

enum key_kind {
	K_STRING,
	K_BOOL,
	K_UINT,
	K_PORT,
	K_DOUBLE,
	K_RATIO, /* a fraction in [0, 1] */
	K_CPU,
	K_MEMORY,
	K_DURATION,
	K_ENUM,
	K_LIST,
	K_MAP_PRIORITY,
	K_MAP_BASELINE,
	K_MAP_STRATEGY,
	K_MAP_HEADERS,
	K_IGNORED, /* a subtree accepted as it stands ("future feature" keys) */
};

struct key_def {
	const char *path;
	enum key_kind kind;
	size_t offset;   /* into struct rm_config */
	const char *def; /* text form; lists comma-separated; maps as YAML flow */
	const char *env;
	bool used;
	const char *const *names; /* K_ENUM */
	int n_names;
};

#define OFF(member) offsetof(struct rm_config, member)
#define ENUM(t)     t, (int)RM_ARRAY_SIZE(t)

static const struct key_def keys[] = {
	{ "monitoring.prometheus_url", K_STRING, OFF(monitoring.prometheus_url),
	  "http://prometheus:9090", "PROMETHEUS_URL", true },
	{ "monitoring.check_interval", K_DURATION, OFF(monitoring.check_interval), "300",
	  "CHECK_INTERVAL", true },
	{ "monitoring.query_timeout", K_DURATION, OFF(monitoring.query_timeout), "30", NULL, true },
	{ "monitoring.analysis_window", K_DURATION, OFF(monitoring.analysis_window), "5m", NULL,
	  true },
	{ "monitoring.trend_window", K_DURATION, OFF(monitoring.trend_window), "1h", NULL, true },
	{ "monitoring.source", K_ENUM, OFF(monitoring.source), "auto", "MONITORING_SOURCE", true,
	  ENUM(source_names) },
	{ "monitoring.memory_metric", K_ENUM, OFF(monitoring.memory_metric), "working_set", NULL,
	  true, ENUM(memory_metric_names) },

	{ "thresholds.cpu_high", K_RATIO, OFF(thresholds.cpu_high), "0.8", "CPU_HIGH_THRESHOLD",
	  true },
	{ "thresholds.cpu_low", K_RATIO, OFF(thresholds.cpu_low), "0.3", "CPU_LOW_THRESHOLD",
	  true },
	{ "thresholds.memory_high", K_RATIO, OFF(thresholds.memory_high), "0.8",
	  "MEMORY_HIGH_THRESHOLD", true },
	{ "thresholds.memory_low", K_RATIO, OFF(thresholds.memory_low), "0.3",
	  "MEMORY_LOW_THRESHOLD", true },
	{ "thresholds.consecutive_checks", K_UINT, OFF(thresholds.consecutive_checks), "3", NULL,
	  true },
	{ "thresholds.min_uptime", K_DURATION, OFF(thresholds.min_uptime), "600", NULL, true },
	{ "thresholds.cpu_throttle_high", K_RATIO, OFF(thresholds.cpu_throttle_high), "0.25", NULL,
	  true },

	{ "adjustment.increase_factor", K_DOUBLE, OFF(adjustment.increase_factor), "1.25",
	  "INCREASE_FACTOR", true },
	{ "adjustment.decrease_factor", K_DOUBLE, OFF(adjustment.decrease_factor), "0.75",
	  "DECREASE_FACTOR", true },
	{ "adjustment.min_cpu", K_CPU, OFF(adjustment.min_cpu), "0.1", NULL, true },
	{ "adjustment.max_cpu", K_CPU, OFF(adjustment.max_cpu), "8.0", NULL, true },
	{ "adjustment.min_memory", K_MEMORY, OFF(adjustment.min_memory), "64M", NULL, true },
	{ "adjustment.max_memory", K_MEMORY, OFF(adjustment.max_memory), "8192M", NULL, true },
	{ "adjustment.cooldown_period", K_DURATION, OFF(adjustment.cooldown_period), "1800", NULL,
	  true },
	{ "adjustment.max_adjustments_per_day", K_UINT, OFF(adjustment.max_adjustments_per_day),
	  "6", NULL, true },
	{ "adjustment.failure_backoff", K_DURATION, OFF(adjustment.failure_backoff), "1h", NULL,
	  true },
	{ "adjustment.memory_safety_margin", K_RATIO, OFF(adjustment.memory_safety_margin), "0.15",
	  NULL, true },
	{ "adjustment.min_change", K_RATIO, OFF(adjustment.min_change), "0.05", NULL, true },
	{ "adjustment.min_change_cpu", K_CPU, OFF(adjustment.min_change_cpu), "0.01", NULL, true },
	{ "adjustment.min_change_memory", K_MEMORY, OFF(adjustment.min_change_memory), "4M", NULL,
	  true },
	{ "adjustment.manage_unlimited", K_BOOL, OFF(adjustment.manage_unlimited), "false", NULL,
	  true },
	{ "adjustment.policy", K_ENUM, OFF(adjustment.policy), "percentile", "ADJUSTMENT_POLICY",
	  true, ENUM(policy_names) },
	{ "adjustment.verify_window", K_DURATION, OFF(adjustment.verify_window), "10m", NULL,
	  true },
	{ "adjustment.revert_backoff", K_DURATION, OFF(adjustment.revert_backoff), "24h", NULL,
	  true },

	{ "recommender.cpu_percentile", K_RATIO, OFF(recommender.cpu_percentile), "0.98", NULL,
	  true },
	{ "recommender.memory_percentile", K_RATIO, OFF(recommender.memory_percentile), "0.999",
	  NULL, true },
	{ "recommender.cpu_margin", K_DOUBLE, OFF(recommender.cpu_margin), "0.1", NULL, true },
	{ "recommender.memory_margin", K_DOUBLE, OFF(recommender.memory_margin), "0.1", NULL,
	  true },
	{ "recommender.half_life", K_DURATION, OFF(recommender.half_life), "24h", NULL, true },
	{ "recommender.min_history", K_DURATION, OFF(recommender.min_history), "12h", NULL, true },
	{ "recommender.tolerance", K_RATIO, OFF(recommender.tolerance), "0.2", NULL, true },
	{ "recommender.decrease_interval", K_DURATION, OFF(recommender.decrease_interval), "24h",
	  NULL, true },
	{ "recommender.history_window", K_DURATION, OFF(recommender.history_window), "8d", NULL,
	  true },

	{ "services.monitored", K_LIST, OFF(services.monitored),
	  "traefik,postgres,redis,prometheus,grafana,loki,crowdsec,oauth,alertmanager,jaeger,"
	  "portainer,vscode",
	  NULL, true },
	{ "services.critical", K_LIST, OFF(services.critical), "traefik,postgres,redis,prometheus",
	  NULL, true },
	{ "services.optional", K_LIST, OFF(services.optional), "jaeger,vscode,portainer", NULL,
	  true },
	{ "services.stateful", K_LIST, OFF(services.stateful),
	  "postgres,postgres-exporter,redis,redis-exporter,redis-commander,socket-proxy", NULL,
	  true },
	{ "services.project", K_STRING, OFF(services.project), "", "COMPOSE_PROJECT_NAME", true },
	{ "services.label_opt_in", K_BOOL, OFF(services.label_opt_in), "true", NULL, true },
	{ "services.priority", K_MAP_PRIORITY, OFF(services.priority),
	  "{traefik: 1, postgres: 1, redis: 1, prometheus: 1, crowdsec: 1, oauth: 1, grafana: 2,"
	  " loki: 2, alertmanager: 2, jaeger: 3, portainer: 3, vscode: 3}",
	  NULL, true },
	{ "services.baseline", K_MAP_BASELINE, OFF(services.baseline),
	  "{traefik: {cpu: 0.5, memory: 256M}, postgres: {cpu: 0.5, memory: 512M},"
	  " redis: {cpu: 0.25, memory: 256M}, prometheus: {cpu: 0.5, memory: 512M}}",
	  NULL, true },
	{ "services.strategy", K_MAP_STRATEGY, OFF(services.strategy), "{}", NULL, true },

	{ "blue_green.enabled", K_BOOL, OFF(blue_green.enabled), "true", "BLUE_GREEN_ENABLED",
	  true },
	{ "blue_green.script", K_STRING, OFF(blue_green.script), "/scripts/blue-green-deploy.sh",
	  "BLUE_GREEN_SCRIPT", false },
	{ "blue_green.health_check_timeout", K_DURATION, OFF(blue_green.health_check_timeout),
	  "120", NULL, true },
	{ "blue_green.health_check_interval", K_DURATION, OFF(blue_green.health_check_interval),
	  "5", NULL, false },
	{ "blue_green.health_check_retries", K_UINT, OFF(blue_green.health_check_retries), "10",
	  NULL, false },
	{ "blue_green.rollback_on_failure", K_BOOL, OFF(blue_green.rollback_on_failure), "true",
	  NULL, true },
	{ "blue_green.rollback_timeout", K_DURATION, OFF(blue_green.rollback_timeout), "60", NULL,
	  true },
	{ "blue_green.traffic_shift_steps", K_UINT, OFF(blue_green.traffic_shift_steps), "5", NULL,
	  false },
	{ "blue_green.traffic_shift_interval", K_DURATION, OFF(blue_green.traffic_shift_interval),
	  "10", NULL, false },
	{ "blue_green.strategy", K_ENUM, OFF(blue_green.default_strategy), "auto", NULL, true,
	  ENUM(strategy_names) },
	{ "blue_green.settle_seconds", K_DURATION, OFF(blue_green.settle_time), "3", NULL, true },
	{ "blue_green.drain_seconds", K_DURATION, OFF(blue_green.drain_time), "30", NULL, true },
	{ "blue_green.stability_seconds", K_DURATION, OFF(blue_green.stability_period), "10", NULL,
	  true },
	{ "blue_green.max_concurrent", K_UINT, OFF(blue_green.max_concurrent), "1", NULL, true },
	{ "blue_green.verify_url", K_STRING, OFF(blue_green.verify_url), "", NULL, true },
	{ "blue_green.verify_requests", K_UINT, OFF(blue_green.verify_requests), "10", NULL, true },
	{ "blue_green.verify_timeout", K_DURATION, OFF(blue_green.verify_timeout), "30", NULL,
	  true },
	{ "blue_green.traefik_api", K_STRING, OFF(blue_green.traefik_api), "", NULL, true },
	{ "blue_green.move_aliases", K_BOOL, OFF(blue_green.move_aliases), "true", NULL, true },

	{ "docker.host", K_STRING, OFF(docker.host), "tcp://docker-socket-proxy:2375",
	  "DOCKER_HOST", true },
	{ "docker.api_version", K_STRING, OFF(docker.api_version), "auto", NULL, true },
	{ "docker.timeout", K_DURATION, OFF(docker.timeout), "30", NULL, true },
	{ "docker.cgroup_root", K_STRING, OFF(docker.cgroup_root), "/sys/fs/cgroup",
	  "RM_CGROUP_ROOT", true },
	{ "docker.tls", K_BOOL, OFF(docker.tls), "false", NULL, false },

	{ "notifications.enabled", K_BOOL, OFF(notifications.enabled), "true", NULL, true },
	{ "notifications.events", K_LIST, OFF(notifications.events),
	  "resource_adjustment,blue_green_deployment,deployment_failure,service_critical,"
	  "threshold_breach",
	  NULL, true },
	{ "notifications.channels.alertmanager.enabled", K_BOOL,
	  OFF(notifications.alertmanager.enabled), "true", NULL, true },
	{ "notifications.channels.alertmanager.url", K_STRING, OFF(notifications.alertmanager.url),
	  "http://alertmanager:9093", "ALERTMANAGER_URL", true },
	{ "notifications.channels.logfile.enabled", K_BOOL, OFF(notifications.logfile.enabled),
	  "true", NULL, true },
	{ "notifications.channels.logfile.path", K_STRING, OFF(notifications.logfile.path),
	  "/logs/resource-manager.log", "LOG_FILE", true },
	{ "notifications.channels.logfile.level", K_ENUM, OFF(notifications.logfile.level), "info",
	  NULL, true, ENUM(level_names) },
	{ "notifications.channels.webhook.enabled", K_BOOL, OFF(notifications.webhook.enabled),
	  "false", NULL, true },
	{ "notifications.channels.webhook.url", K_STRING, OFF(notifications.webhook.url), "", NULL,
	  true },
	{ "notifications.channels.webhook.headers", K_MAP_HEADERS,
	  OFF(notifications.webhook.headers), "{Content-Type: application/json}", NULL, true },

	{ "metrics.enabled", K_BOOL, OFF(metrics.enabled), "true", NULL, true },
	{ "metrics.port", K_PORT, OFF(metrics.port), "8000", "METRICS_PORT", true },
	{ "metrics.path", K_STRING, OFF(metrics.path), "/metrics", NULL, true },
	{ "metrics.bind_address", K_STRING, OFF(metrics.bind_address), "0.0.0.0", NULL, true },
	{ "metrics.track", K_LIST, OFF(metrics.track),
	  "total_adjustments,successful_adjustments,failed_adjustments,blue_green_deployments,"
	  "rollbacks,services_monitored,threshold_breaches",
	  NULL, false },

	{ "web.admin_token_file", K_STRING, OFF(web.admin_token_file), "", NULL, true },
	{ "web.trust_forward_auth", K_BOOL, OFF(web.trust_forward_auth), "false", NULL, true },
	{ "web.read_requires_auth", K_BOOL, OFF(web.read_requires_auth), "false", NULL, true },
	{ "web.max_body", K_MEMORY, OFF(web.max_body), "64K", NULL, true },
	{ "web.workers", K_UINT, OFF(web.workers), "4", NULL, true },
	{ "web.request_timeout", K_DURATION, OFF(web.request_timeout), "5", NULL, true },
	{ "web.allowed_hosts", K_LIST, OFF(web.allowed_hosts), "localhost,resource-manager", NULL,
	  true },
	{ "web.health_socket", K_STRING, OFF(web.health_socket), "", NULL, true },

	{ "automation.enabled", K_BOOL, OFF(automation.enabled), "true", NULL, true },
	{ "automation.dry_run", K_BOOL, OFF(automation.dry_run), "false", "DRY_RUN", true },
	{ "automation.manual_approval", K_BOOL, OFF(automation.manual_approval), "false", NULL,
	  true },
	{ "automation.approval_timeout", K_DURATION, OFF(automation.approval_timeout), "24h", NULL,
	  true },
	{ "automation.reapply_on_drift", K_BOOL, OFF(automation.reapply_on_drift), "false", NULL,
	  true },
	{ "automation.actions.increase_on_high", K_BOOL, OFF(automation.actions.increase_on_high),
	  "true", NULL, true },
	{ "automation.actions.decrease_on_low", K_BOOL, OFF(automation.actions.decrease_on_low),
	  "true", NULL, true },
	{ "automation.actions.scale_down_optional", K_BOOL,
	  OFF(automation.actions.scale_down_optional), "true", NULL, true },
	{ "automation.actions.restart_unhealthy", K_BOOL, OFF(automation.actions.restart_unhealthy),
	  "false", NULL, false },

	{ "logging.level", K_ENUM, OFF(logging.level), "info", "LOG_LEVEL", true,
	  ENUM(level_names) },
	{ "logging.format", K_ENUM, OFF(logging.format), "text", "LOG_FORMAT", true,
	  ENUM(format_names) },

	{ "state.path", K_STRING, OFF(state.path), "/data/state.json", "STATE_PATH", true },
	{ "state.history_size", K_UINT, OFF(state.history_size), "500", NULL, true },

	{ "advanced", K_IGNORED, 0, "", NULL, false },
};

#define N_KEYS RM_ARRAY_SIZE(keys)

size_t config_key_count(void)
{
	return N_KEYS;
}

const char *config_key_path(size_t i)
{
	return i < N_KEYS ? keys[i].path : NULL;
}

const char *config_key_env(size_t i)
{
	return i < N_KEYS ? keys[i].env : NULL;
}

const char *config_key_default(size_t i)
{
	return i < N_KEYS ? keys[i].def : NULL;
}

bool config_key_used(size_t i)
{
	return i < N_KEYS && keys[i].used;
}

static int key_find(const char *path)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].path, path) == 0)
			return (int)i;
	return -1;
}

/* true when prefix names an interior mapping: "thresholds", "notifications.channels". */
static bool key_is_section(const char *prefix)
{
	size_t n = strlen(prefix);
	for (size_t i = 0; i < N_KEYS; i++)
		if (strncmp(keys[i].path, prefix, n) == 0 && keys[i].path[n] == '.')
			return true;
	return false;
}

static bool kind_is_scalar(enum key_kind k)
{
	return k <= K_ENUM;
}

static bool kind_is_map(enum key_kind k)
{
	return k >= K_MAP_PRIORITY && k <= K_MAP_HEADERS;
}

#define FIELD(cfg, def, type) ((type *)((char *)(cfg) + (def)->offset))

/* ---- problems ---- */

static void report_add(struct config_report *r, enum config_severity sev, const char *path,
                       int line, const char *fmt, ...) RM_PRINTF(5, 6);

static void report_add(struct config_report *r, enum config_severity sev, const char *path,
                       int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->problems = xreallocarray(r->problems, r->n + 1, sizeof(*r->problems));
	struct config_problem *p = &r->problems[r->n++];
	p->severity = sev;
	p->path = xstrdup(path ? path : "");
	p->line = line;
	p->message = xvasprintf(fmt, ap);
	if (sev == CONFIG_ERROR)
		r->n_errors++;
	va_end(ap);
}

void config_report_free(struct config_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->problems[i].path);
		free(r->problems[i].message);
	}
	free(r->problems);
	r->problems = NULL;
	r->n = r->n_errors = 0;
}

void config_report_print(const struct config_report *r, const char *file, FILE *out)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct config_problem *p = &r->problems[i];
		const char *sev = p->severity == CONFIG_ERROR ? "error" : "warning";
		if (p->line > 0)
			fprintf(out, "%s:%d: %s: ", file, p->line, sev);
		else
			fprintf(out, "%s: %s: ", file, sev);
		if (*p->path)
			fprintf(out, "%s: ", p->path);
		fprintf(out, "%s\n", p->message);
	}
}

/* ---- a small YAML tree with line numbers, built from libyaml events ---- */

enum ynode_type {
	Y_SCALAR,
	Y_MAP,
	Y_SEQ,
};

struct ynode {
	enum ynode_type type;
	int line;
	char *scalar;
	bool is_null; /* plain empty, "~" or "null" */
	size_t n;
	char **keys; /* Y_MAP */
	int *key_lines;
	struct ynode **items;
};

#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 100000

static void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			free(n->keys[i]);
		ynode_free(n->items[i]);
	}
	free(n->keys);
	free(n->key_lines);
	free(n->items);
	free(n->scalar);
	free(n);
}

struct yparse {
	yaml_parser_t parser;
	struct config_report *report;
	size_t nodes;
	bool failed;
};

static bool yparse_next(struct yparse *yp, yaml_event_t *ev)
{
	if (yaml_parser_parse(&yp->parser, ev))
		return true;
	if (!yp->failed) {
		const char *what = yp->parser.problem ? yp->parser.problem : "malformed YAML";
		report_add(yp->report, CONFIG_ERROR, "", (int)yp->parser.problem_mark.line + 1,
		           "YAML syntax error: %s%s%s (column %d)", what,
		           yp->parser.context ? " " : "",
		           yp->parser.context ? yp->parser.context : "",
		           (int)yp->parser.problem_mark.column + 1);
	}
	yp->failed = true;
	return false;
}

static struct ynode *yparse_node(struct yparse *yp, yaml_event_t *ev, int depth);

static struct ynode *yparse_children(struct yparse *yp, struct ynode *n, int depth)
{
	for (;;) {
		yaml_event_t ev;
		if (!yparse_next(yp, &ev))
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return n;
		}
		char *key = NULL;
		int key_line = (int)ev.start_mark.line + 1;
		if (n->type == Y_MAP) {
			if (ev.type != YAML_SCALAR_EVENT) {
				report_add(yp->report, CONFIG_ERROR, "", key_line,
				           "mapping keys must be plain words");
				yaml_event_delete(&ev);
				goto fail;
			}
			key = xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
			yaml_event_delete(&ev);
			for (size_t i = 0; i < n->n; i++) {
				if (strcmp(n->keys[i], key) == 0) {
					report_add(yp->report, CONFIG_ERROR, key, key_line,
					           "duplicate key (first at line %d)",
					           n->key_lines[i]);
					free(key);
					goto fail;
				}
			}
			if (!yparse_next(yp, &ev)) {
				free(key);
				goto fail;
			}
		}
		struct ynode *child = yparse_node(yp, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (!child) {
			free(key);
			goto fail;
		}
		n->items = xreallocarray(n->items, n->n + 1, sizeof(*n->items));
		n->items[n->n] = child;
		if (n->type == Y_MAP) {
			n->keys = xreallocarray(n->keys, n->n + 1, sizeof(*n->keys));
			n->key_lines = xreallocarray(n->key_lines, n->n + 1, sizeof(int));
			n->keys[n->n] = key;
			n->key_lines[n->n] = key_line;
		}
		n->n++;
	}
fail:
	ynode_free(n);
	return NULL;
}

/* Builds the node that starts with ev (ev stays owned by the caller). */
static struct ynode *yparse_node(struct yparse *yp, yaml_event_t *ev, int depth)
{
	int line = (int)ev->start_mark.line + 1;
	if (depth > YAML_MAX_DEPTH || ++yp->nodes > YAML_MAX_NODES) {
		report_add(yp->report, CONFIG_ERROR, "", line,
		           "document is nested too deeply or has too many nodes");
		return NULL;
	}
	struct ynode *n = xcalloc(1, sizeof(*n));
	n->line = line;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->type = Y_SCALAR;
		n->scalar = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		n->is_null = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		             (!*n->scalar || strcmp(n->scalar, "~") == 0 ||
		              strcmp(n->scalar, "null") == 0);
		return n;
	case YAML_MAPPING_START_EVENT:
		n->type = Y_MAP;
		return yparse_children(yp, n, depth);
	case YAML_SEQUENCE_START_EVENT:
		n->type = Y_SEQ;
		return yparse_children(yp, n, depth);
	case YAML_ALIAS_EVENT:
		report_add(yp->report, CONFIG_ERROR, "", line,
		           "YAML aliases (*name) are not supported; write the value out");
		break;
	default:
		report_add(yp->report, CONFIG_ERROR, "", line, "unexpected YAML event");
		break;
	}
	free(n);
	return NULL;
}

/* Parses one YAML document. Returns its root, NULL on error (reported) or,
 * with *ret_empty set, when the stream holds no document or an empty one. */
static struct ynode *yaml_tree_parse(const char *data, size_t len, struct config_report *r,
                                     bool *ret_empty)
{
	struct yparse yp = { .report = r };
	struct ynode *root = NULL;
	yaml_event_t ev;
	*ret_empty = false;
	if (!yaml_parser_initialize(&yp.parser))
		abort();
	yaml_parser_set_input_string(&yp.parser, (const unsigned char *)data, len);
	for (;;) {
		if (!yparse_next(&yp, &ev))
			goto fail;
		yaml_event_type_t t = ev.type;
		if (t == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT ||
		    t == YAML_DOCUMENT_END_EVENT) {
			if (t == YAML_DOCUMENT_START_EVENT && root) {
				report_add(r, CONFIG_ERROR, "", (int)ev.start_mark.line + 1,
				           "the file holds more than one YAML document");
				yaml_event_delete(&ev);
				goto fail;
			}
			yaml_event_delete(&ev);
			continue;
		}
		root = yparse_node(&yp, &ev, 0);
		yaml_event_delete(&ev);
		if (!root)
			goto fail;
	}
	yaml_parser_delete(&yp.parser);
	if (!root || (root->type == Y_SCALAR && root->is_null)) {
		ynode_free(root);
		*ret_empty = true;
		return NULL;
	}
	return root;
fail:
	yaml_parser_delete(&yp.parser);
	ynode_free(root);
	return NULL;
}

static const char *ynode_type_name(const struct ynode *n)
{
	switch (n->type) {
	case Y_SCALAR:
		return n->is_null ? "nothing" : "a single value";
	case Y_MAP:
		return "a mapping";
	case Y_SEQ:
		return "a list";
	}
	return "?";
}

/* ---- loading ---- */

struct leaf {
	bool present;
	int line;
	const struct ynode *node; /* borrowed from the tree */
};

struct loader {
	struct rm_config *cfg;
	struct config_report *r;
	struct leaf leaves[N_KEYS];
};

static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	unsigned d[41][41];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			unsigned c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			unsigned del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
			d[i][j] = c < del ? (c < ins ? c : ins) : (del < ins ? del : ins);
		}
	return d[la][lb];
}

/* The known key closest to path (same parent), or NULL. */
static const char *key_suggest(const char *path)
{
	const char *best = NULL;
	unsigned best_d = 3;
	for (size_t i = 0; i < N_KEYS; i++) {
		unsigned dd = edit_distance(path, keys[i].path);
		if (dd < best_d) {
			best_d = dd;
			best = keys[i].path;
		}
	}
	return best;
}

static bool leaf_shape_ok(struct loader *ld, const struct key_def *d, const char *path,
                          const struct ynode *v, int line)
{
	const char *want = NULL;
	if (kind_is_scalar(d->kind) && v->type != Y_SCALAR)
		want = "a single value";
	else if (d->kind == K_LIST && v->type != Y_SEQ)
		want = "a list (write [] for none)";
	else if (kind_is_map(d->kind) && v->type != Y_MAP && !(v->type == Y_SCALAR && v->is_null))
		want = "a mapping of service names";
	if (d->kind == K_LIST && v->type == Y_SEQ) {
		for (size_t i = 0; i < v->n; i++)
			if (v->items[i]->type != Y_SCALAR)
				want = "a list of plain names";
	}
	if (!want)
		return true;
	report_add(ld->r, CONFIG_ERROR, path, line,
	           "expected %s, found %s; keeping nothing from it", want, ynode_type_name(v));
	return false;
}

static void lint_map(struct loader *ld, const struct ynode *map, const char *prefix)
{
	for (size_t i = 0; i < map->n; i++) {
		char *path =
		        *prefix ? xasprintf("%s.%s", prefix, map->keys[i]) : xstrdup(map->keys[i]);
		const struct ynode *v = map->items[i];
		int line = map->key_lines[i];
		int idx = key_find(path);
		if (idx >= 0) {
			if (leaf_shape_ok(ld, &keys[idx], path, v, line)) {
				ld->leaves[idx].present = true;
				ld->leaves[idx].line = line;
				ld->leaves[idx].node = v;
			}
		} else if (key_is_section(path)) {
			if (v->type == Y_MAP)
				lint_map(ld, v, path);
			else
				report_add(ld->r, CONFIG_ERROR, path, line,
				           "expected a mapping of settings, found %s (write {} "
				           "for an empty section)",
				           ynode_type_name(v));
		} else {
			const char *s = key_suggest(path);
			report_add(ld->r, CONFIG_WARNING, path, line, "unknown key, ignored%s%s%s",
			           s ? " (did you mean " : "", s ? s : "", s ? "?)" : "");
		}
		free(path);
	}
}

/* Converts one scalar text into the typed field at dst. Returns 0, or -EINVAL
 * with what was expected in err. */
static int convert_scalar(const struct key_def *d, const char *text, void *dst, char *err,
                          size_t errlen)
{
	int r = 0, b;
	unsigned u;
	double v;
	uint64_t m;
	switch (d->kind) {
	case K_STRING:
		free(*(char **)dst);
		*(char **)dst = xstrdup(text);
		return 0;
	case K_BOOL:
		if ((r = units_parse_bool(text, &b)) < 0)
			snprintf(err, errlen, "expected true or false");
		else
			*(bool *)dst = b;
		break;
	case K_UINT:
	case K_PORT:
		if ((r = units_parse_uint(text, &u)) < 0)
			snprintf(err, errlen, "expected a whole number of 0 or more");
		else if (d->kind == K_PORT && (u < 1 || u > 65535))
			r = -EINVAL, snprintf(err, errlen, "expected a TCP port from 1 to 65535");
		else
			*(unsigned *)dst = u;
		break;
	case K_DOUBLE:
	case K_RATIO:
		if ((r = units_parse_double(text, &v)) < 0)
			snprintf(err, errlen, "expected a number");
		else if (d->kind == K_RATIO && (v < 0 || v > 1))
			r = -EINVAL,
			snprintf(err, errlen, "expected a fraction from 0 to 1 (0.8 means 80%%)");
		else
			*(double *)dst = v;
		break;
	case K_CPU:
		if ((r = units_parse_cpu(text, &v)) < 0)
			snprintf(err, errlen, "expected CPU cores such as 0.5, 2 or 500m");
		else
			*(double *)dst = v;
		break;
	case K_MEMORY:
		if ((r = units_parse_memory(text, &m)) < 0)
			snprintf(err, errlen,
			         "expected a memory size such as 512M, 1.5G, 64Mi or plain bytes");
		else
			*(uint64_t *)dst = m;
		break;
	case K_DURATION:
		if ((r = units_parse_duration(text, &v)) < 0)
			snprintf(err, errlen,
			         "expected a duration such as 300 (seconds), 30s, 5m, 1h or 1d");
		else
			*(double *)dst = v;
		break;
	case K_ENUM:
		if ((r = name_lookup(d->names, d->n_names, text)) < 0) {
			size_t o = (size_t)snprintf(err, errlen, "expected one of:");
			for (int i = 0; i < d->n_names && o < errlen; i++)
				o += (size_t)snprintf(err + o, errlen - o, " %s", d->names[i]);
		} else {
			*(int *)dst = r;
			r = 0;
		}
		break;
	default:
		abort();
	}
	return r < 0 ? -EINVAL : 0;
}

static void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static void strlist_add(struct strlist *l, const char *s)
{
	l->items = xreallocarray(l->items, l->n + 1, sizeof(char *));
	l->items[l->n++] = xstrdup(s);
}

bool strlist_contains(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

static void strlist_from_csv(struct strlist *l, const char *csv)
{
	strlist_clear(l);
	while (*csv) {
		const char *c = strchr(csv, ',');
		size_t n = c ? (size_t)(c - csv) : strlen(csv);
		char *item = xstrndup(csv, n);
		strlist_add(l, item);
		free(item);
		csv += n + (c ? 1 : 0);
	}
}

static void maps_clear(struct rm_config *cfg, enum key_kind kind)
{
	switch (kind) {
	case K_MAP_PRIORITY:
		for (size_t i = 0; i < cfg->services.n_priority; i++)
			free(cfg->services.priority[i].service);
		free(cfg->services.priority);
		cfg->services.priority = NULL;
		cfg->services.n_priority = 0;
		break;
	case K_MAP_BASELINE:
		for (size_t i = 0; i < cfg->services.n_baseline; i++)
			free(cfg->services.baseline[i].service);
		free(cfg->services.baseline);
		cfg->services.baseline = NULL;
		cfg->services.n_baseline = 0;
		break;
	case K_MAP_STRATEGY:
		for (size_t i = 0; i < cfg->services.n_strategy; i++)
			free(cfg->services.strategy[i].service);
		free(cfg->services.strategy);
		cfg->services.strategy = NULL;
		cfg->services.n_strategy = 0;
		break;
	case K_MAP_HEADERS:
		for (size_t i = 0; i < cfg->notifications.webhook.n_headers; i++) {
			free(cfg->notifications.webhook.headers[i].name);
			free(cfg->notifications.webhook.headers[i].value);
		}
		free(cfg->notifications.webhook.headers);
		cfg->notifications.webhook.headers = NULL;
		cfg->notifications.webhook.n_headers = 0;
		break;
	default:
		abort();
	}
}

static void parse_baseline(struct rm_config *cfg, const char *name, const struct ynode *v,
                           const char *path, int line, struct config_report *r)
{
	struct service_baseline b = { .line = line };
	if (v->type != Y_MAP) {
		report_add(r, CONFIG_ERROR, path, line,
		           "expected a mapping with cpu and/or memory, found %s",
		           ynode_type_name(v));
		return;
	}
	for (size_t j = 0; j < v->n; j++) {
		const char *k = v->keys[j];
		const struct ynode *x = v->items[j];
		int kl = v->key_lines[j];
		if (x->type != Y_SCALAR) {
			report_add(r, CONFIG_ERROR, path, kl, "%s: expected a single value", k);
		} else if (strcmp(k, "cpu") == 0) {
			if (units_parse_cpu(x->scalar, &b.cpu) < 0)
				report_add(r, CONFIG_ERROR, path, kl,
				           "cpu: expected CPU cores such as 0.5, got '%s'",
				           x->scalar);
			else
				b.has_cpu = true;
		} else if (strcmp(k, "memory") == 0) {
			if (units_parse_memory(x->scalar, &b.memory) < 0)
				report_add(r, CONFIG_ERROR, path, kl,
				           "memory: expected a size such as 512M, got '%s'",
				           x->scalar);
			else
				b.has_memory = true;
		} else {
			report_add(r, CONFIG_WARNING, path, kl,
			           "unknown key '%s', ignored (a baseline has cpu and memory)", k);
		}
	}
	b.service = xstrdup(name);
	struct service_baseline *arr = cfg->services.baseline;
	arr = xreallocarray(arr, cfg->services.n_baseline + 1, sizeof(*arr));
	arr[cfg->services.n_baseline++] = b;
	cfg->services.baseline = arr;
}

/* Replaces one map-valued setting with the entries of node v. */
static void parse_map(struct rm_config *cfg, const struct key_def *d, const struct ynode *v,
                      struct config_report *r)
{
	maps_clear(cfg, d->kind);
	if (v->type != Y_MAP)
		return;
	for (size_t i = 0; i < v->n; i++) {
		const char *name = v->keys[i];
		const struct ynode *x = v->items[i];
		int line = v->key_lines[i];
		char *path = xasprintf("%s.%s", d->path, name);
		if (d->kind == K_MAP_BASELINE) {
			parse_baseline(cfg, name, x, path, line, r);
		} else if (x->type != Y_SCALAR) {
			report_add(r, CONFIG_ERROR, path, line, "expected a single value, found %s",
			           ynode_type_name(x));
		} else if (d->kind == K_MAP_PRIORITY) {
			unsigned p;
			if (units_parse_uint(x->scalar, &p) < 0 || p < 1 || p > 100) {
				report_add(r, CONFIG_ERROR, path, line,
				           "expected a priority from 1 (highest) to 100, got '%s'",
				           x->scalar);
			} else {
				struct service_priority sp = { xstrdup(name), (int)p, line };
				cfg->services.priority =
				        xreallocarray(cfg->services.priority,
				                      cfg->services.n_priority + 1, sizeof(sp));
				cfg->services.priority[cfg->services.n_priority++] = sp;
			}
		} else if (d->kind == K_MAP_STRATEGY) {
			int s = deploy_strategy_from_string(x->scalar);
			if (s < 0) {
				report_add(r, CONFIG_ERROR, path, line,
				           "expected auto, blue-green or in-place, got '%s'",
				           x->scalar);
			} else {
				struct service_strategy ss = { xstrdup(name), s, line };
				cfg->services.strategy =
				        xreallocarray(cfg->services.strategy,
				                      cfg->services.n_strategy + 1, sizeof(ss));
				cfg->services.strategy[cfg->services.n_strategy++] = ss;
			}
		} else {
			struct http_header h = { xstrdup(name), xstrdup(x->scalar) };
			struct http_header *hs = cfg->notifications.webhook.headers;
			size_t n = cfg->notifications.webhook.n_headers;
			hs = xreallocarray(hs, n + 1, sizeof(h));
			hs[n] = h;
			cfg->notifications.webhook.headers = hs;
			cfg->notifications.webhook.n_headers = n + 1;
		}
		free(path);
	}
}

/* ---- the libcyaml schema, generated from the key table ----
 *
 * Every key owns one slot of a flat array; each YAML section is a mapping laid
 * over the whole array (data offset 0), so a leaf's offset is its slot's.
 * Scalars load as strings (typed conversion is ours, for precise messages),
 * lists as sequences of strings, maps and "future" subtrees are skipped here
 * and read from the line-numbered tree instead. */

struct raw_slot {
	char *str;
	char **seq;
	uint32_t seq_count;
};

static const cyaml_schema_value_t schema_string_entry = {
	.type = CYAML_STRING,
	.flags = CYAML_FLAG_POINTER,
	.data_size = sizeof(char),
	.string = { .min = 0, .max = CYAML_UNLIMITED },
};

struct schema_build {
	void **allocs;
	size_t n;
};

static void *schema_keep(struct schema_build *sb, void *p)
{
	sb->allocs = xreallocarray(sb->allocs, sb->n + 1, sizeof(void *));
	sb->allocs[sb->n++] = p;
	return p;
}

static void schema_build_free(struct schema_build *sb)
{
	for (size_t i = 0; i < sb->n; i++)
		free(sb->allocs[i]);
	free(sb->allocs);
}

static cyaml_schema_field_t *schema_fields(struct schema_build *sb, const char *prefix)
{
	size_t plen = strlen(prefix), n = 0;
	cyaml_schema_field_t *f = xcalloc(N_KEYS + 1, sizeof(*f));
	schema_keep(sb, f);
	for (size_t i = 0; i < N_KEYS; i++) {
		const char *path = keys[i].path;
		if (strncmp(path, prefix, plen) != 0)
			continue;
		const char *rest = path + plen;
		const char *dot = strchr(rest, '.');
		char *seg =
		        schema_keep(sb, xstrndup(rest, dot ? (size_t)(dot - rest) : strlen(rest)));
		bool seen = false;
		for (size_t j = 0; j < n; j++)
			seen = seen || strcmp(f[j].key, seg) == 0;
		if (seen)
			continue;
		cyaml_schema_field_t *x = &f[n++];
		x->key = seg;
		if (dot) {
			char *sub = xasprintf("%s%s.", prefix, seg);
			x->data_offset = 0;
			x->value.type = CYAML_MAPPING;
			x->value.flags = CYAML_FLAG_OPTIONAL;
			x->value.data_size = (uint32_t)(N_KEYS * sizeof(struct raw_slot));
			x->value.mapping.fields = schema_fields(sb, sub);
			free(sub);
			continue;
		}
		size_t base = i * sizeof(struct raw_slot);
		if (kind_is_scalar(keys[i].kind)) {
			x->data_offset = (uint32_t)(base + offsetof(struct raw_slot, str));
			x->value = schema_string_entry;
			x->value.flags |= CYAML_FLAG_OPTIONAL;
		} else if (keys[i].kind == K_LIST) {
			x->data_offset = (uint32_t)(base + offsetof(struct raw_slot, seq));
			x->count_offset = (uint32_t)(base + offsetof(struct raw_slot, seq_count));
			x->count_size = sizeof(uint32_t);
			x->value.type = CYAML_SEQUENCE;
			x->value.flags = CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL;
			x->value.data_size = sizeof(char *);
			x->value.sequence.entry = &schema_string_entry;
			x->value.sequence.min = 0;
			x->value.sequence.max = CYAML_UNLIMITED;
		} else {
			x->value.type = CYAML_IGNORE;
			x->value.flags = CYAML_FLAG_OPTIONAL;
		}
	}
	return f;
}

/* libcyaml's callback type carries no format attribute; its formats are its own. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void cyaml_capture(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
	if (level < CYAML_LOG_ERROR)
		return;
	struct strbuf *sb = ctx;
	char *s = xvasprintf(fmt, args);
	for (char *p = s; *p; p++)
		if (*p == '\n')
			*p = ' ';
	strbuf_puts(sb, s);
	free(s);
}
#pragma GCC diagnostic pop

/* Loads data through the generated schema. Returns the slot array or NULL
 * (the problem is reported). */
static struct raw_slot *cyaml_load_slots(const char *data, size_t len, struct config_report *r,
                                         const cyaml_config_t *cc, const cyaml_schema_value_t *top)
{
	cyaml_data_t *out = NULL;
	cyaml_err_t e = cyaml_load_data((const uint8_t *)data, len, cc, top, &out, NULL);
	if (e != CYAML_OK) {
		struct strbuf *sb = cc->log_ctx;
		report_add(r, CONFIG_ERROR, "", 0, "cannot load the file: %s%s%s",
		           cyaml_strerror(e), sb->len ? ": " : "", sb->len ? sb->data : "");
		return NULL;
	}
	return out;
}

/* ---- defaults, free ---- */

static void apply_default(struct rm_config *cfg, size_t i)
{
	const struct key_def *d = &keys[i];
	char err[160] = "";
	int r = 0;
	if (kind_is_scalar(d->kind)) {
		r = convert_scalar(d, d->def, FIELD(cfg, d, void), err, sizeof(err));
	} else if (d->kind == K_LIST) {
		strlist_from_csv(FIELD(cfg, d, struct strlist), d->def);
	} else if (kind_is_map(d->kind)) {
		struct config_report rep = { 0 };
		bool empty;
		struct ynode *t = yaml_tree_parse(d->def, strlen(d->def), &rep, &empty);
		if (t)
			parse_map(cfg, d, t, &rep);
		ynode_free(t);
		if (rep.n_errors)
			r = -EINVAL;
		config_report_free(&rep);
	}
	/* Built-in defaults are code: a bad one is a programmer error. */
	if (r < 0) {
		fprintf(stderr, "resource-manager: bad built-in default for %s %s\n", d->path, err);
		abort();
	}
}

struct rm_config *config_new_default(void)
{
	struct rm_config *cfg = xcalloc(1, sizeof(*cfg));
	for (size_t i = 0; i < N_KEYS; i++)
		apply_default(cfg, i);
	cfg->source_path = xstrdup("(built-in defaults)");
	cfg->n_origins = N_KEYS;
	cfg->origins = xcalloc(N_KEYS, sizeof(*cfg->origins));
	return cfg;
}

void config_free(struct rm_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *d = &keys[i];
		if (d->kind == K_STRING)
			free(*FIELD(cfg, d, char *));
		else if (d->kind == K_LIST)
			strlist_clear(FIELD(cfg, d, struct strlist));
		else if (kind_is_map(d->kind))
			maps_clear(cfg, d->kind);
	}
	free(cfg->source_path);
	free(cfg->origins);
	free(cfg);
}

/* ---- environment ---- */

static const char *env_lookup(char *const *envp, const char *name)
{
	if (!envp || !name)
		return NULL;
	size_t n = strlen(name);
	for (; *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static void apply_env(struct rm_config *cfg, char *const *envp, struct config_report *r)
{
	char err[160];
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *d = &keys[i];
		const char *v = env_lookup(envp, d->env);
		if (!v)
			continue;
		if (convert_scalar(d, v, FIELD(cfg, d, void), err, sizeof(err)) < 0) {
			report_add(r, CONFIG_ERROR, d->path, 0,
			           "environment variable %s='%s': %s; it overrides this key, so "
			           "the service cannot start until it is fixed or unset",
			           d->env, v, err);
			continue;
		}
		cfg->origins[i].kind = ORIGIN_ENV;
		cfg->origins[i].line = 0;
	}
}

/* ---- validation ---- */

struct vctx {
	const struct rm_config *cfg;
	struct config_report *r;
};

static void verr(struct vctx *v, enum config_severity sev, const char *path, int line,
                 const char *fmt, ...) RM_PRINTF(5, 6);

/* Reports a problem with path, at its line (or naming its env variable). */
static void verr(struct vctx *v, enum config_severity sev, const char *path, int line,
                 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	int idx = key_find(path);
	const char *env_note = "";
	char note[96] = "";
	if (idx >= 0 && v->cfg->origins[idx].kind == ORIGIN_ENV) {
		snprintf(note, sizeof(note), " (set by environment variable %s)", keys[idx].env);
		env_note = note;
	}
	if (line == 0 && idx >= 0 && v->cfg->origins[idx].kind == ORIGIN_FILE)
		line = v->cfg->origins[idx].line;
	report_add(v->r, sev, path, line, "%s%s", msg, env_note);
	free(msg);
}

static bool valid_service_name(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static bool has_scheme(const char *url, const char *const *schemes)
{
	for (; *schemes; schemes++)
		if (strncmp(url, *schemes, strlen(*schemes)) == 0 && url[strlen(*schemes)])
			return true;
	return false;
}

static void validate_thresholds(struct vctx *v)
{
	const struct rm_config *c = v->cfg;
	const struct {
		const char *res;
		double low, high;
	} t[] = {
		{ "cpu", c->thresholds.cpu_low, c->thresholds.cpu_high },
		{ "memory", c->thresholds.memory_low, c->thresholds.memory_high },
	};
	for (size_t i = 0; i < 2; i++) {
		char lowp[48], highp[48];
		snprintf(lowp, sizeof(lowp), "thresholds.%s_low", t[i].res);
		snprintf(highp, sizeof(highp), "thresholds.%s_high", t[i].res);
		if (t[i].low <= 0)
			verr(v, CONFIG_ERROR, lowp, 0,
			     "must be above 0 (to never decrease, set "
			     "automation.actions.decrease_on_low: false)");
		if (t[i].high <= 0)
			verr(v, CONFIG_ERROR, highp, 0, "must be above 0");
		if (t[i].low >= t[i].high)
			verr(v, CONFIG_ERROR, lowp, 0, "%g must be below %s (%g)", t[i].low, highp,
			     t[i].high);
	}
	if (c->thresholds.consecutive_checks < 1)
		verr(v, CONFIG_ERROR, "thresholds.consecutive_checks", 0, "must be 1 or more");
	if (c->thresholds.cpu_throttle_high <= 0)
		verr(v, CONFIG_ERROR, "thresholds.cpu_throttle_high", 0, "must be above 0");
}

static void validate_adjustment(struct vctx *v)
{
	const struct rm_config *c = v->cfg;
	double inc = c->adjustment.increase_factor, dec = c->adjustment.decrease_factor;
	if (inc <= 1 || inc > 10)
		verr(v, CONFIG_ERROR, "adjustment.increase_factor", 0,
		     "%g must be above 1 and at most 10 (1.25 means +25%%)", inc);
	if (dec <= 0 || dec >= 1)
		verr(v, CONFIG_ERROR, "adjustment.decrease_factor", 0,
		     "%g must be above 0 and below 1 (0.75 means -25%%)", dec);
	if (c->adjustment.min_cpu <= 0)
		verr(v, CONFIG_ERROR, "adjustment.min_cpu", 0, "must be above 0 cores");
	if (c->adjustment.min_cpu > c->adjustment.max_cpu)
		verr(v, CONFIG_ERROR, "adjustment.min_cpu", 0,
		     "%g is above adjustment.max_cpu (%g)", c->adjustment.min_cpu,
		     c->adjustment.max_cpu);
	if (c->adjustment.min_memory < 6 * UNITS_MIB)
		verr(v, CONFIG_ERROR, "adjustment.min_memory", 0,
		     "must be at least 6M: Docker refuses smaller memory limits");
	if (c->adjustment.min_memory > c->adjustment.max_memory) {
		char a[32], b[32];
		units_format_memory(c->adjustment.min_memory, a, sizeof(a));
		units_format_memory(c->adjustment.max_memory, b, sizeof(b));
		verr(v, CONFIG_ERROR, "adjustment.min_memory", 0,
		     "%s is above adjustment.max_memory (%s)", a, b);
	}
	if (c->adjustment.max_adjustments_per_day < 1)
		verr(v, CONFIG_ERROR, "adjustment.max_adjustments_per_day", 0,
		     "must be 1 or more (to stop all changes, set automation.enabled: false)");
}

static void validate_recommender(struct vctx *v)
{
	const struct rm_config *c = v->cfg;
	const struct {
		const char *path;
		double val;
	} pct[] = {
		{ "recommender.cpu_percentile", c->recommender.cpu_percentile },
		{ "recommender.memory_percentile", c->recommender.memory_percentile },
	}, margin[] = {
		{ "recommender.cpu_margin", c->recommender.cpu_margin },
		{ "recommender.memory_margin", c->recommender.memory_margin },
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(pct); i++)
		if (!(pct[i].val >= 0.5))
			verr(v, CONFIG_ERROR, pct[i].path, 0,
			     "%g must be at least 0.5 and at most 1 (0.98 is the 98th percentile)",
			     pct[i].val);
	for (size_t i = 0; i < RM_ARRAY_SIZE(margin); i++)
		if (!(margin[i].val >= 0 && margin[i].val <= 4))
			verr(v, CONFIG_ERROR, margin[i].path, 0,
			     "%g must be between 0 and 4 (0.15 means +15%%)", margin[i].val);
	if (!(c->recommender.half_life >= 60))
		verr(v, CONFIG_ERROR, "recommender.half_life", 0, "must be at least 1m");
	if (!(c->recommender.tolerance > 0))
		verr(v, CONFIG_ERROR, "recommender.tolerance", 0,
		     "must be above 0 (0.2: act when the limit is 20%% away from the target)");
}

static void validate_durations(struct vctx *v)
{
	const struct rm_config *c = v->cfg;
	const struct {
		const char *path;
		double val;
	} pos[] = {
		{ "monitoring.check_interval", c->monitoring.check_interval },
		{ "monitoring.query_timeout", c->monitoring.query_timeout },
		{ "monitoring.analysis_window", c->monitoring.analysis_window },
		{ "monitoring.trend_window", c->monitoring.trend_window },
		{ "docker.timeout", c->docker.timeout },
		{ "blue_green.health_check_timeout", c->blue_green.health_check_timeout },
		{ "blue_green.health_check_interval", c->blue_green.health_check_interval },
		{ "blue_green.rollback_timeout", c->blue_green.rollback_timeout },
	};
	for (size_t i = 0; i < RM_ARRAY_SIZE(pos); i++)
		if (pos[i].val <= 0)
			verr(v, CONFIG_ERROR, pos[i].path, 0, "must be longer than 0 seconds");
	if (c->monitoring.trend_window < c->monitoring.analysis_window)
		verr(v, CONFIG_WARNING, "monitoring.trend_window", 0,
		     "is shorter than monitoring.analysis_window; the trend adds nothing");
	if (c->blue_green.max_concurrent < 1)
		verr(v, CONFIG_ERROR, "blue_green.max_concurrent", 0, "must be 1 or more");
	if (c->blue_green.verify_requests < 1 || c->blue_green.verify_requests > 1000)
		verr(v, CONFIG_ERROR, "blue_green.verify_requests", 0,
		     "%u must be between 1 and 1000", c->blue_green.verify_requests);
	else if (*c->blue_green.verify_url && c->blue_green.verify_requests < 4)
		verr(v, CONFIG_WARNING, "blue_green.verify_requests", 0,
		     "%u answers may all come from the old container (the router balances the "
		     "probe over both); 4 or more per backend make it reach the new one",
		     c->blue_green.verify_requests);
	if (!(c->blue_green.verify_timeout > 0 && c->blue_green.verify_timeout <= 600))
		verr(v, CONFIG_ERROR, "blue_green.verify_timeout", 0,
		     "must be longer than 0 seconds and at most 10m");
	if (c->state.history_size < 1)
		verr(v, CONFIG_ERROR, "state.history_size", 0, "must be 1 or more");
}

/* Cross-references are checked for what the user wrote: the built-in lists
 * name the original's stack and simply do not apply to services not monitored. */
static bool user_set(const struct vctx *v, const char *path)
{
	int idx = key_find(path);
	return idx >= 0 && v->cfg->origins[idx].kind != ORIGIN_DEFAULT;
}

static void validate_list_names(struct vctx *v, const char *path, const struct strlist *l,
                                bool must_be_monitored)
{
	const struct rm_config *c = v->cfg;
	must_be_monitored = must_be_monitored && user_set(v, path);
	for (size_t i = 0; i < l->n; i++) {
		const char *s = l->items[i];
		if (!valid_service_name(s))
			verr(v, CONFIG_ERROR, path, 0,
			     "'%s' is not a valid service or container name", s);
		for (size_t j = 0; j < i; j++)
			if (strcmp(l->items[j], s) == 0)
				verr(v, CONFIG_WARNING, path, 0, "'%s' is listed twice", s);
		if (must_be_monitored && !strlist_contains(&c->services.monitored, s))
			verr(v, CONFIG_ERROR, path, 0,
			     "'%s' is not in services.monitored; add it there or remove it here",
			     s);
	}
}

static void validate_services(struct vctx *v)
{
	const struct rm_config *c = v->cfg;
	const struct strlist *mon = &c->services.monitored;
	validate_list_names(v, "services.monitored", mon, false);
	validate_list_names(v, "services.critical", &c->services.critical, true);
	validate_list_names(v, "services.optional", &c->services.optional, true);
	validate_list_names(v, "services.stateful", &c->services.stateful, false);
	for (size_t i = 0; i < c->services.critical.n; i++)
		if (strlist_contains(&c->services.optional, c->services.critical.items[i]))
			verr(v, CONFIG_ERROR, "services.optional", 0,
			     "'%s' is also in services.critical; a service is one or the other",
			     c->services.critical.items[i]);
	if (mon->n == 0 && !c->services.label_opt_in)
		verr(v, CONFIG_WARNING, "services.monitored", 0,
		     "is empty and services.label_opt_in is off: nothing will be managed");
	for (size_t i = 0; i < c->services.n_priority; i++) {
		const struct service_priority *p = &c->services.priority[i];
		if (!strlist_contains(mon, p->service) && user_set(v, "services.priority"))
			verr(v, CONFIG_ERROR, "services.priority", p->line,
			     "'%s' is not in services.monitored", p->service);
	}
	for (size_t i = 0; i < c->services.n_strategy; i++) {
		const struct service_strategy *s = &c->services.strategy[i];
		if (!strlist_contains(mon, s->service) && user_set(v, "services.strategy"))
			verr(v, CONFIG_ERROR, "services.strategy", s->line,
			     "'%s' is not in services.monitored", s->service);
	}
	for (size_t i = 0; i < c->services.n_baseline; i++) {
		const struct service_baseline *b = &c->services.baseline[i];
		if (!strlist_contains(mon, b->service) && user_set(v, "services.baseline"))
			verr(v, CONFIG_ERROR, "services.baseline", b->line,
			     "'%s' is not in services.monitored", b->service);
		if (b->has_cpu &&
		    (b->cpu < c->adjustment.min_cpu || b->cpu > c->adjustment.max_cpu))
			verr(v, CONFIG_ERROR, "services.baseline", b->line,
			     "%s: cpu %g is outside adjustment.min_cpu..max_cpu (%g..%g)",
			     b->service, b->cpu, c->adjustment.min_cpu, c->adjustment.max_cpu);
		if (b->has_memory && (b->memory < c->adjustment.min_memory ||
		                      b->memory > c->adjustment.max_memory)) {
			char m[32], lo[32], hi[32];
			units_format_memory(b->memory, m, sizeof(m));
			units_format_memory(c->adjustment.min_memory, lo, sizeof(lo));
			units_format_memory(c->adjustment.max_memory, hi, sizeof(hi));
			verr(v, CONFIG_ERROR, "services.baseline", b->line,
			     "%s: memory %s is outside adjustment.min_memory..max_memory "
			     "(%s..%s)",
			     b->service, m, lo, hi);
		}
	}
}

static const char *const known_events[] = { "resource_adjustment",
	                                    "blue_green_deployment",
	                                    "deployment_failure",
	                                    "service_critical",
	                                    "threshold_breach",
	                                    "change_reverted",
	                                    NULL };
static const char *const known_metrics[] = { "total_adjustments",  "successful_adjustments",
	                                     "failed_adjustments", "blue_green_deployments",
	                                     "rollbacks",          "services_monitored",
	                                     "threshold_breaches", NULL };

static void validate_endpoints(struct vctx *v)
{
	const struct rm_config *c = v->cfg;
	static const char *const http[] = { "http://", "https://", NULL };
	static const char *const docker[] = { "unix://", "tcp://", "http://", "https://", NULL };
	if (*c->monitoring.prometheus_url && !has_scheme(c->monitoring.prometheus_url, http))
		verr(v, CONFIG_ERROR, "monitoring.prometheus_url", 0,
		     "'%s' must start with http:// or https:// (or be empty for no Prometheus)",
		     c->monitoring.prometheus_url);
	if (!has_scheme(c->docker.host, docker))
		verr(v, CONFIG_ERROR, "docker.host", 0,
		     "'%s' must be unix:///path, tcp://host:port, http:// or https://",
		     c->docker.host);
	if (*c->blue_green.verify_url && !has_scheme(c->blue_green.verify_url, http))
		verr(v, CONFIG_ERROR, "blue_green.verify_url", 0,
		     "'%s' must start with http:// or https:// (or be empty for no probe)",
		     c->blue_green.verify_url);
	if (*c->blue_green.traefik_api && !has_scheme(c->blue_green.traefik_api, http))
		verr(v, CONFIG_ERROR, "blue_green.traefik_api", 0,
		     "'%s' must start with http:// or https:// (or be empty)",
		     c->blue_green.traefik_api);
	const char *api = c->docker.api_version;
	unsigned maj, min;
	char extra;
	if (strcmp(api, "auto") != 0 && sscanf(api, "%u.%u%c", &maj, &min, &extra) != 2)
		verr(v, CONFIG_ERROR, "docker.api_version", 0,
		     "'%s' must be auto or a version such as 1.41", api);
	if (c->notifications.alertmanager.enabled &&
	    !has_scheme(c->notifications.alertmanager.url, http))
		verr(v, CONFIG_ERROR, "notifications.channels.alertmanager.url", 0,
		     "'%s' must start with http:// or https:// while the channel is enabled",
		     c->notifications.alertmanager.url);
	if (c->notifications.webhook.enabled && !has_scheme(c->notifications.webhook.url, http))
		verr(v, CONFIG_ERROR, "notifications.channels.webhook.url", 0,
		     "'%s' must start with http:// or https:// while the webhook is enabled",
		     c->notifications.webhook.url);
	for (size_t i = 0; i < c->notifications.events.n; i++)
		if (!str_in_list(c->notifications.events.items[i], known_events))
			verr(v, CONFIG_ERROR, "notifications.events", 0,
			     "unknown event '%s' (known: resource_adjustment, "
			     "blue_green_deployment, deployment_failure, service_critical, "
			     "threshold_breach, change_reverted)",
			     c->notifications.events.items[i]);
	for (size_t i = 0; i < c->metrics.track.n; i++)
		if (!str_in_list(c->metrics.track.items[i], known_metrics))
			verr(v, CONFIG_WARNING, "metrics.track", 0,
			     "unknown metric '%s', ignored (every metric is always exported)",
			     c->metrics.track.items[i]);
	if (c->metrics.path[0] != '/')
		verr(v, CONFIG_ERROR, "metrics.path", 0, "'%s' must start with /", c->metrics.path);
	if (!*c->state.path)
		verr(v, CONFIG_ERROR, "state.path", 0, "must name a file");
}

/* A Host header name: letters, digits, '-', '_' (Compose v1 names) and '.',
 * or "*" for any. */
static bool valid_host_name(const char *s)
{
	if (strcmp(s, "*") == 0)
		return true;
	if (!*s || strlen(s) > 253)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return false;
	return true;
}

static void validate_web(struct vctx *v)
{
	const struct rm_config *c = v->cfg;
	if (c->web.workers < 1 || c->web.workers > 64)
		verr(v, CONFIG_ERROR, "web.workers", 0, "%u is out of range (1 to 64)",
		     c->web.workers);
	if (c->web.request_timeout < 1 || c->web.request_timeout > 300)
		verr(v, CONFIG_ERROR, "web.request_timeout", 0,
		     "%g s is out of range (1 s to 5 min)", c->web.request_timeout);
	for (size_t i = 0; i < c->web.allowed_hosts.n; i++)
		if (!valid_host_name(c->web.allowed_hosts.items[i]))
			verr(v, CONFIG_ERROR, "web.allowed_hosts", 0,
			     "'%s' is not a host name (write it without scheme or port)",
			     c->web.allowed_hosts.items[i]);
	if (strlen(c->web.health_socket) >= 108)
		verr(v, CONFIG_ERROR, "web.health_socket", 0,
		     "'%s' is longer than a unix socket path may be (107 bytes)",
		     c->web.health_socket);
}

static void validate(const struct rm_config *cfg, struct config_report *r)
{
	struct vctx v = { cfg, r };
	validate_thresholds(&v);
	validate_adjustment(&v);
	validate_recommender(&v);
	validate_durations(&v);
	validate_services(&v);
	validate_endpoints(&v);
	validate_web(&v);
}

/* ---- the load flow ---- */

/* Copies the values of the keys present in the file from the cyaml slots (or,
 * for maps, from the tree) into cfg. */
static void take_file_values(struct loader *ld, const struct raw_slot *slots)
{
	char err[160];
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *d = &keys[i];
		const struct leaf *lf = &ld->leaves[i];
		if (!lf->present || d->kind == K_IGNORED)
			continue;
		if (kind_is_scalar(d->kind)) {
			const char *text = slots[i].str ? slots[i].str : "";
			if (lf->node->is_null && d->kind != K_STRING) {
				report_add(ld->r, CONFIG_ERROR, d->path, lf->line,
				           "has no value; give one or remove the key to use the "
				           "default (%s)",
				           d->def);
				continue;
			}
			if (lf->node->is_null)
				text = "";
			if (convert_scalar(d, text, FIELD(ld->cfg, d, void), err, sizeof(err)) <
			    0) {
				report_add(ld->r, CONFIG_ERROR, d->path, lf->line, "%s, got '%s'",
				           err, text);
				continue;
			}
		} else if (d->kind == K_LIST) {
			struct strlist *l = FIELD(ld->cfg, d, struct strlist);
			strlist_clear(l);
			for (uint32_t j = 0; j < slots[i].seq_count; j++)
				strlist_add(l, slots[i].seq[j] ? slots[i].seq[j] : "");
		} else {
			parse_map(ld->cfg, d, lf->node, ld->r);
		}
		ld->cfg->origins[i].kind = ORIGIN_FILE;
		ld->cfg->origins[i].line = lf->line;
	}
}

static void load_yaml(struct loader *ld, const char *data, size_t len)
{
	bool empty = false;
	struct ynode *root = yaml_tree_parse(data, len, ld->r, &empty);
	if (!root) {
		if (empty)
			report_add(ld->r, CONFIG_ERROR, "", 1,
			           "the file holds no settings; it needs at least one section "
			           "such as 'services:' (an absent file gives the built-in "
			           "defaults)");
		return;
	}
	if (root->type != Y_MAP) {
		report_add(ld->r, CONFIG_ERROR, "", root->line,
		           "expected a mapping of sections (monitoring:, thresholds:, ...) at the "
		           "top, found %s",
		           ynode_type_name(root));
		ynode_free(root);
		return;
	}
	lint_map(ld, root, "");
	if (ld->r->n_errors == 0) {
		struct schema_build sb = { 0 };
		struct strbuf logbuf;
		strbuf_init(&logbuf);
		cyaml_schema_value_t top = {
			.type = CYAML_MAPPING,
			.flags = CYAML_FLAG_POINTER,
			.data_size = (uint32_t)(N_KEYS * sizeof(struct raw_slot)),
			.mapping.fields = schema_fields(&sb, ""),
		};
		cyaml_config_t cc = {
			.log_fn = cyaml_capture,
			.log_ctx = &logbuf,
			.mem_fn = cyaml_mem,
			.log_level = CYAML_LOG_ERROR,
			.flags = CYAML_CFG_IGNORE_UNKNOWN_KEYS | CYAML_CFG_NO_ALIAS,
		};
		struct raw_slot *slots = cyaml_load_slots(data, len, ld->r, &cc, &top);
		if (slots) {
			take_file_values(ld, slots);
			cyaml_free(&cc, &top, slots, 0);
		}
		strbuf_free(&logbuf);
		schema_build_free(&sb);
	}
	ynode_free(root);
}

int config_load_data(const char *data, size_t len, const char *source_name, char *const *envp,
                     struct rm_config **ret_cfg, struct config_report *report)
{
	struct rm_config *cfg = config_new_default();
	free(cfg->source_path);
	cfg->source_path = xstrdup(source_name ? source_name : "(data)");
	struct loader ld = { .cfg = cfg, .r = report };

	if (memchr(data, '\0', len))
		report_add(report, CONFIG_ERROR, "", 0,
		           "the file holds NUL bytes: it is binary, not YAML text");
	else
		load_yaml(&ld, data, len);
	apply_env(cfg, envp, report);
	if (report->n_errors == 0)
		validate(cfg, report);
	if (report->n_errors) {
		config_free(cfg);
		return -EINVAL;
	}
	*ret_cfg = cfg;
	return 0;
}

int config_load_file(const char *path, char *const *envp, struct rm_config **ret_cfg,
                     struct config_report *report)
{
	char *data = NULL;
	size_t len = 0;
	int r = file_read_all(path, CONFIG_MAX_SIZE, &data, &len);
	if (r == -EFBIG) {
		report_add(report, CONFIG_ERROR, "", 0,
		           "the file is larger than %d bytes; a config file is a few KB, so "
		           "this is not one",
		           CONFIG_MAX_SIZE);
		return -EINVAL;
	}
	if (r < 0) {
		report_add(report, CONFIG_ERROR, "", 0, "cannot read the file: %s", strerror(-r));
		return r;
	}
	r = config_load_data(data, len, path, envp, ret_cfg, report);
	free(data);
	return r;
}

const char *config_embedded_text(size_t *ret_len)
{
	if (ret_len)
		*ret_len = rm_embedded_config_len;
	return (const char *)rm_embedded_config;
}

int config_load(const char *explicit_path, char *const *envp, struct rm_config **ret_cfg,
                struct config_report *report)
{
	const char *path = explicit_path;
	if (!path || !*path)
		path = env_lookup(envp, "CONFIG_PATH");
	if (path && *path)
		return config_load_file(path, envp, ret_cfg, report);
	FILE *f = fopen(CONFIG_DEFAULT_PATH, "re");
	if (f) {
		fclose(f);
		return config_load_file(CONFIG_DEFAULT_PATH, envp, ret_cfg, report);
	}
	size_t len;
	const char *text = config_embedded_text(&len);
	return config_load_data(text, len, "embedded default", envp, ret_cfg, report);
}

/* ---- describing ---- */

static void describe_value(const struct rm_config *cfg, const struct key_def *d, FILE *out)
{
	char buf[64];
	const void *p = (const char *)cfg + d->offset;
	switch (d->kind) {
	case K_STRING:
		fprintf(out, "\"%s\"", *(char *const *)p);
		break;
	case K_BOOL:
		fputs(*(const bool *)p ? "true" : "false", out);
		break;
	case K_UINT:
	case K_PORT:
		fprintf(out, "%u", *(const unsigned *)p);
		break;
	case K_DOUBLE:
	case K_RATIO:
	case K_CPU:
		fprintf(out, "%g", *(const double *)p);
		break;
	case K_MEMORY:
		units_format_memory(*(const uint64_t *)p, buf, sizeof(buf));
		fputs(buf, out);
		break;
	case K_DURATION:
		units_format_duration(*(const double *)p, buf, sizeof(buf));
		fputs(buf, out);
		break;
	case K_ENUM:
		fputs(d->names[*(const int *)p], out);
		break;
	case K_LIST: {
		const struct strlist *l = p;
		fputs("[", out);
		for (size_t i = 0; i < l->n; i++)
			fprintf(out, "%s%s", i ? ", " : "", l->items[i]);
		fputs("]", out);
		break;
	}
	case K_MAP_PRIORITY:
		fputs("{", out);
		for (size_t i = 0; i < cfg->services.n_priority; i++)
			fprintf(out, "%s%s: %d", i ? ", " : "", cfg->services.priority[i].service,
			        cfg->services.priority[i].priority);
		fputs("}", out);
		break;
	case K_MAP_BASELINE:
		fputs("{", out);
		for (size_t i = 0; i < cfg->services.n_baseline; i++) {
			const struct service_baseline *b = &cfg->services.baseline[i];
			fprintf(out, "%s%s: {", i ? ", " : "", b->service);
			if (b->has_cpu)
				fprintf(out, "cpu: %g%s", b->cpu, b->has_memory ? ", " : "");
			if (b->has_memory) {
				units_format_memory(b->memory, buf, sizeof(buf));
				fprintf(out, "memory: %s", buf);
			}
			fputs("}", out);
		}
		fputs("}", out);
		break;
	case K_MAP_STRATEGY:
		fputs("{", out);
		for (size_t i = 0; i < cfg->services.n_strategy; i++)
			fprintf(out, "%s%s: %s", i ? ", " : "", cfg->services.strategy[i].service,
			        deploy_strategy_to_string(cfg->services.strategy[i].strategy));
		fputs("}", out);
		break;
	case K_MAP_HEADERS:
		fputs("{", out);
		for (size_t i = 0; i < cfg->notifications.webhook.n_headers; i++)
			fprintf(out, "%s%s: \"%s\"", i ? ", " : "",
			        cfg->notifications.webhook.headers[i].name,
			        cfg->notifications.webhook.headers[i].value);
		fputs("}", out);
		break;
	case K_IGNORED:
		fputs("(accepted as written)", out);
		break;
	}
}

void config_describe(const struct rm_config *cfg, FILE *out)
{
	fprintf(out, "# effective settings from %s\n", cfg->source_path);
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *d = &keys[i];
		const struct config_origin *o = &cfg->origins[i];
		fprintf(out, "%s = ", d->path);
		describe_value(cfg, d, out);
		if (o->kind == ORIGIN_ENV)
			fprintf(out, "   # env %s\n", d->env);
		else if (o->kind == ORIGIN_FILE)
			fprintf(out, "   # file line %d\n", o->line);
		else
			fprintf(out, "   # default\n");
	}
	fputs("# accepted but not used yet:", out);
	for (size_t i = 0; i < N_KEYS; i++)
		if (!keys[i].used)
			fprintf(out, " %s", keys[i].path);
	fputs("\n", out);
}

/* ---- per-service views ---- */

enum service_class config_service_class(const struct rm_config *cfg, const char *service)
{
	if (strlist_contains(&cfg->services.critical, service))
		return CLASS_CRITICAL;
	if (strlist_contains(&cfg->services.optional, service))
		return CLASS_OPTIONAL;
	return CLASS_NORMAL;
}

int config_service_priority(const struct rm_config *cfg, const char *service)
{
	for (size_t i = 0; i < cfg->services.n_priority; i++)
		if (strcmp(cfg->services.priority[i].service, service) == 0)
			return cfg->services.priority[i].priority;
	return 2;
}

const struct service_baseline *config_service_baseline(const struct rm_config *cfg,
                                                       const char *service)
{
	for (size_t i = 0; i < cfg->services.n_baseline; i++)
		if (strcmp(cfg->services.baseline[i].service, service) == 0)
			return &cfg->services.baseline[i];
	return NULL;
}

enum deploy_strategy config_service_strategy(const struct rm_config *cfg, const char *service)
{
	for (size_t i = 0; i < cfg->services.n_strategy; i++)
		if (strcmp(cfg->services.strategy[i].service, service) == 0)
			return cfg->services.strategy[i].strategy;
	return cfg->blue_green.default_strategy;
}

bool config_event_enabled(const struct rm_config *cfg, const char *event)
{
	return cfg->notifications.enabled && strlist_contains(&cfg->notifications.events, event);
}
