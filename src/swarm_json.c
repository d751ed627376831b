/* swarm_json: Swarm services and tasks JSON to plain C structs, and the
 * service update body built from a current spec (pure). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rm/json_depth.h"
#include "rm/swarm.h"
#include "rm/util.h"

/* A service spec nests about 8 levels (TaskTemplate.ContainerSpec...). */
#define SWARM_JSON_MAX_DEPTH 64

static int fail(char *err, size_t errlen, const char *field, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", field, what);
	return -EBADMSG;
}

static json_t *load(const char *data, size_t len, const char *doc, char *err, size_t errlen)
{
	if (!data || !json_depth_within(data, len, SWARM_JSON_MAX_DEPTH)) {
		fail(err, errlen, doc, "no JSON, or nested deeper than 64 levels");
		return NULL;
	}
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr);
	if (!root && err && errlen)
		snprintf(err, errlen, "%s: invalid JSON at line %d column %d: %s", doc, jerr.line,
		         jerr.column, jerr.text);
	return root;
}

/* The string at a dotted path of objects, or NULL. */
static json_t *at(json_t *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	char *save = NULL;
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_is_object(o) ? json_object_get(o, k) : NULL;
	return o;
}

static int str_at(json_t *o, const char *path, bool required, char **ret, char *err, size_t errlen)
{
	json_t *v = at(o, path);
	if (!v || json_is_null(v))
		return required ? fail(err, errlen, path, "missing") : 0;
	if (!json_is_string(v))
		return fail(err, errlen, path, "not a string");
	*ret = xstrndup(json_string_value(v), json_string_length(v));
	return 0;
}

/* A non-negative integer at path (absent: 0). */
static int num_at(json_t *o, const char *path, int64_t *ret, char *err, size_t errlen)
{
	json_t *v = at(o, path);
	if (!v || json_is_null(v))
		return 0;
	double d = json_is_integer(v) ? (double)json_integer_value(v)
	           : json_is_real(v)  ? json_real_value(v)
	                              : -1;
	if (!(d >= 0 && d < 9.2e18) || d != floor(d))
		return fail(err, errlen, path, "not a non-negative integer in range");
	*ret = (int64_t)d;
	return 0;
}

static void labels_free(struct docker_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static int labels_at(json_t *o, const char *path, struct docker_labels *ret, char *err,
                     size_t errlen)
{
	json_t *v = at(o, path);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return fail(err, errlen, path, "not an object");
	ret->items = xcalloc(json_object_size(v) + 1, sizeof(*ret->items));
	const char *k;
	json_t *val;
	json_object_foreach(v, k, val)
	{
		if (!json_is_string(val))
			return fail(err, errlen, path, "holds a non-string value");
		ret->items[ret->n].key = xstrdup(k);
		ret->items[ret->n].value = xstrdup(json_string_value(val));
		ret->n++;
	}
	return 0;
}

void swarm_service_free(struct swarm_service *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->name);
	free(s->update_state);
	free(s->update_message);
	free(s->update_started);
	free(s->spec);
	labels_free(&s->labels);
	memset(s, 0, sizeof(*s));
}

void swarm_service_list_free(struct swarm_service_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		swarm_service_free(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static int resources_at(json_t *spec, const char *kind, struct swarm_resources *ret, char *err,
                        size_t errlen)
{
	char p[96];
	snprintf(p, sizeof(p), "TaskTemplate.Resources.%s.NanoCPUs", kind);
	int r = num_at(spec, p, &ret->nano_cpus, err, errlen);
	snprintf(p, sizeof(p), "TaskTemplate.Resources.%s.MemoryBytes", kind);
	return r < 0 ? r : num_at(spec, p, &ret->memory, err, errlen);
}

static int service_from(json_t *o, struct swarm_service *s, char *err, size_t errlen)
{
	int64_t version = 0, replicas = 0;
	json_t *spec = json_object_get(o, "Spec");
	if (!json_is_object(o) || !json_is_object(spec))
		return fail(err, errlen, "service", "not an object with a Spec");
	int r = str_at(o, "ID", true, &s->id, err, errlen);
	if (r == 0)
		r = str_at(spec, "Name", true, &s->name, err, errlen);
	if (r == 0)
		r = num_at(o, "Version.Index", &version, err, errlen);
	if (r == 0)
		r = num_at(spec, "Mode.Replicated.Replicas", &replicas, err, errlen);
	if (r == 0)
		r = resources_at(spec, "Limits", &s->limits, err, errlen);
	if (r == 0)
		r = resources_at(spec, "Reservations", &s->reservations, err, errlen);
	json_t *prev = json_object_get(o, "PreviousSpec");
	s->has_previous = json_is_object(prev);
	if (r == 0 && s->has_previous)
		r = resources_at(prev, "Limits", &s->prev_limits, err, errlen);
	if (r == 0)
		r = str_at(o, "UpdateStatus.State", false, &s->update_state, err, errlen);
	if (r == 0)
		r = str_at(o, "UpdateStatus.Message", false, &s->update_message, err, errlen);
	if (r == 0)
		r = str_at(o, "UpdateStatus.StartedAt", false, &s->update_started, err, errlen);
	if (r == 0)
		r = labels_at(spec, "Labels", &s->labels, err, errlen);
	s->version = (uint64_t)version;
	s->replicas = (uint64_t)replicas;
	s->global = at(spec, "Mode.Global") != NULL;
	s->spec = json_dumps(spec, JSON_COMPACT);
	if (!s->spec)
		abort();
	return r;
}

int swarm_json_parse_service(const char *data, size_t len, struct swarm_service *ret, char *err,
                             size_t errlen)
{
	json_t *root = load(data, len, "service", err, errlen);
	if (!root)
		return -EBADMSG;
	struct swarm_service s = { 0 };
	int r = service_from(root, &s, err, errlen);
	json_decref(root);
	if (r < 0) {
		swarm_service_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

int swarm_json_parse_services(const char *data, size_t len, struct swarm_service_list *ret,
                              char *err, size_t errlen)
{
	json_t *root = load(data, len, "services", err, errlen);
	if (!root)
		return -EBADMSG;
	struct swarm_service_list l = { 0 };
	int r = json_is_array(root) ? 0 : fail(err, errlen, "services", "not an array");
	size_t n = r == 0 ? json_array_size(root) : 0;
	l.items = xcalloc(n ? n : 1, sizeof(*l.items));
	for (size_t i = 0; i < n && r == 0; i++) {
		r = service_from(json_array_get(root, i), &l.items[i], err, errlen);
		l.n = i + 1;
	}
	json_decref(root);
	if (r < 0) {
		swarm_service_list_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}

void swarm_task_list_free(struct swarm_task_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct swarm_task *t = &l->items[i];
		free(t->id);
		free(t->service_id);
		free(t->node_id);
		free(t->container_id);
		free(t->state);
		free(t->desired_state);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static int task_from(json_t *o, struct swarm_task *t, char *err, size_t errlen)
{
	if (!json_is_object(o))
		return fail(err, errlen, "task", "not an object");
	int r = str_at(o, "ID", true, &t->id, err, errlen);
	if (r == 0)
		r = str_at(o, "ServiceID", false, &t->service_id, err, errlen);
	if (r == 0)
		r = str_at(o, "NodeID", false, &t->node_id, err, errlen);
	if (r == 0)
		r = str_at(o, "Status.ContainerStatus.ContainerID", false, &t->container_id, err,
		           errlen);
	if (r == 0)
		r = str_at(o, "Status.State", false, &t->state, err, errlen);
	if (r == 0)
		r = str_at(o, "DesiredState", false, &t->desired_state, err, errlen);
	return r;
}

int swarm_json_parse_tasks(const char *data, size_t len, struct swarm_task_list *ret, char *err,
                           size_t errlen)
{
	json_t *root = load(data, len, "tasks", err, errlen);
	if (!root)
		return -EBADMSG;
	struct swarm_task_list l = { 0 };
	int r = json_is_array(root) ? 0 : fail(err, errlen, "tasks", "not an array");
	size_t n = r == 0 ? json_array_size(root) : 0;
	l.items = xcalloc(n ? n : 1, sizeof(*l.items));
	for (size_t i = 0; i < n && r == 0; i++) {
		r = task_from(json_array_get(root, i), &l.items[i], err, errlen);
		l.n = i + 1;
	}
	json_decref(root);
	if (r < 0) {
		swarm_task_list_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}

bool swarm_service_matches(const struct swarm_service *s, const char *name)
{
	if (strcmp(s->name, name) == 0)
		return true;
	const char *stack = docker_labels_get(&s->labels, SWARM_LABEL_STACK);
	size_t n = stack ? strlen(stack) : 0;
	return n && strncmp(s->name, stack, n) == 0 && s->name[n] == '_' &&
	       strcmp(s->name + n + 1, name) == 0;
}

long swarm_service_select(const struct swarm_service_list *l, const char *name, const char *project)
{
	bool any = !project || !*project;
	size_t n = any ? 0 : strlen(project);
	for (size_t i = 0; i < l->n; i++) {
		const struct swarm_service *s = &l->items[i];
		const char *stack = docker_labels_get(&s->labels, SWARM_LABEL_STACK);
		bool qualified = !any && strncmp(s->name, project, n) == 0 && s->name[n] == '_' &&
		                 strcmp(s->name + n + 1, name) == 0;
		bool in_stack = any || (stack && strcmp(stack, project) == 0);
		if (qualified || (in_stack && swarm_service_matches(s, name)))
			return (long)i;
	}
	return -1;
}

/* The object at key of o, created when absent or not an object. */
static json_t *obj(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_object(v)) {
		v = json_object();
		json_object_set_new(o, key, v);
	}
	return v;
}

/* Sets a limit; lowers the reservation beside it when above. */
static void set_limit(json_t *res, const char *key, int64_t value)
{
	json_object_set_new(obj(res, "Limits"), key, json_integer(value));
	json_t *rsv = json_object_get(res, "Reservations");
	json_t *cur = json_is_object(rsv) ? json_object_get(rsv, key) : NULL;
	if (json_is_integer(cur) && json_integer_value(cur) > value)
		json_object_set_new(rsv, key, json_integer(value));
}

int swarm_json_update_body(const char *spec, const struct swarm_update *u, char **ret_body)
{
	if (!u->set_cpu && !u->set_memory && u->n_labels == 0)
		return -EINVAL;
	if ((u->set_cpu && u->nano_cpus <= 0) || (u->set_memory && u->memory <= 0))
		return -EINVAL;
	json_t *o = load(spec, spec ? strlen(spec) : 0, "spec", NULL, 0);
	if (!json_is_object(o)) {
		json_decref(o);
		return -EBADMSG;
	}
	json_t *res = obj(obj(o, "TaskTemplate"), "Resources");
	if (u->set_cpu)
		set_limit(res, "NanoCPUs", u->nano_cpus);
	if (u->set_memory)
		set_limit(res, "MemoryBytes", u->memory);
	json_t *uc = obj(o, "UpdateConfig");
	json_object_set_new(uc, "Order", json_string(u->stop_first ? "stop-first" : "start-first"));
	if (u->stop_first)
		json_object_set_new(uc, "Parallelism", json_integer(1));
	json_object_set_new(uc, "FailureAction", json_string("rollback"));
	if (u->monitor > 0)
		json_object_set_new(uc, "Monitor", json_integer((json_int_t)(u->monitor * 1e9)));
	json_t *rc = obj(o, "RollbackConfig");
	json_object_set_new(rc, "Order", json_string(u->stop_first ? "stop-first" : "start-first"));
	json_t *labels = obj(o, "Labels");
	for (size_t i = 0; i < u->n_labels; i++) {
		if (u->labels[i].value)
			json_object_set_new(labels, u->labels[i].key,
			                    json_string(u->labels[i].value));
		else
			json_object_del(labels, u->labels[i].key);
	}
	*ret_body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!*ret_body)
		abort();
	return 0;
}
