/* discovery: exact matching of containers to monitored services (pure). */
#include "rm/discovery.h"

#include <stdlib.h>
#include <string.h>

#include "rm/swarm.h"
#include "rm/util.h"

static bool project_ok(const struct docker_container_summary *c, const struct discovery_rules *r)
{
	if (!r->project || !r->project[0])
		return true;
	const char *p = docker_labels_get(&c->labels, DISCOVERY_LABEL_PROJECT);
	return p && strcmp(p, r->project) == 0;
}

static bool has_name(const struct docker_container_summary *c, const char *name)
{
	for (size_t i = 0; i < c->n_names; i++) {
		const char *n = c->names[i];
		if (n[0] == '/')
			n++;
		if (strcmp(n, name) == 0)
			return true;
	}
	return false;
}

/* A Swarm task's container: its service's stack-qualified name, or the
 * bare name after the stack's prefix; with a project, only that stack. */
static bool swarm_task_of(const struct docker_container_summary *c, const char *service,
                          const struct discovery_rules *r)
{
	const char *sw = docker_labels_get(&c->labels, SWARM_LABEL_SERVICE);
	if (!sw)
		return false;
	const char *stack = docker_labels_get(&c->labels, SWARM_LABEL_STACK);
	if (r->project && *r->project && (!stack || strcmp(stack, r->project) != 0))
		return false;
	if (strcmp(sw, service) == 0)
		return true;
	size_t n = stack ? strlen(stack) : 0;
	return n && strncmp(sw, stack, n) == 0 && sw[n] == '_' && strcmp(sw + n + 1, service) == 0;
}

bool discovery_matches(const struct docker_container_summary *c, const char *service,
                       const struct discovery_rules *rules)
{
	if (swarm_task_of(c, service, rules))
		return true;
	const char *svc = docker_labels_get(&c->labels, DISCOVERY_LABEL_SERVICE);
	if (svc && strcmp(svc, service) == 0 && project_ok(c, rules))
		return true;
	if (has_name(c, service))
		return true;
	const char *opt = discovery_opt_in_service(c, rules);
	return opt && strcmp(opt, service) == 0;
}

const char *discovery_opt_in_service(const struct docker_container_summary *c,
                                     const struct discovery_rules *rules)
{
	if (!rules->label_opt_in)
		return NULL;
	const char *v = docker_labels_get(&c->labels, DISCOVERY_LABEL_OPT_IN);
	if (!v || strcmp(v, "true") != 0)
		return NULL;
	const char *svc = docker_labels_get(&c->labels, DISCOVERY_LABEL_SERVICE);
	if (svc && svc[0])
		return project_ok(c, rules) ? svc : NULL;
	if (c->n_names == 0)
		return NULL;
	return c->names[0][0] == '/' ? c->names[0] + 1 : c->names[0];
}

bool discovery_name_is_green(const char *name)
{
	const char *p = NULL;
	for (const char *q = strstr(name, DISCOVERY_GREEN_INFIX); q;
	     q = strstr(q + 1, DISCOVERY_GREEN_INFIX))
		p = q;
	if (!p || p == name || p == name + 1)
		return false;
	p += strlen(DISCOVERY_GREEN_INFIX);
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

bool discovery_is_green(const struct docker_container_summary *c)
{
	const char *phase = docker_labels_get(&c->labels, "deployment.phase");
	return phase && strcmp(phase, "green") == 0 && c->n_names > 0 &&
	       discovery_name_is_green(c->names[0]);
}

/* Drops the greens of g when it has another container (blue still runs). */
static void drop_greens(const struct docker_container_list *list, struct discovery_group *g)
{
	size_t others = 0, n = 0;
	for (size_t i = 0; i < g->n; i++)
		others += !discovery_is_green(&list->items[g->idx[i]]);
	if (others == 0 || others == g->n)
		return;
	for (size_t i = 0; i < g->n; i++)
		if (!discovery_is_green(&list->items[g->idx[i]]))
			g->idx[n++] = g->idx[i];
	g->n = n;
}

void discovery_group_free(struct discovery_group *g)
{
	if (!g)
		return;
	free(g->idx);
	g->idx = NULL;
	g->n = 0;
}

void discovery_group_services(const struct docker_container_list *list, const char *const *services,
                              size_t n_services, const struct discovery_rules *rules,
                              bool running_only, struct discovery_group *groups)
{
	for (size_t s = 0; s < n_services; s++) {
		struct discovery_group *g = &groups[s];
		g->n = 0;
		g->idx = xcalloc(list->n + 1, sizeof(*g->idx));
		for (size_t i = 0; i < list->n; i++) {
			const struct docker_container_summary *c = &list->items[i];
			if (running_only && (!c->state || strcmp(c->state, "running") != 0))
				continue;
			if (discovery_matches(c, services[s], rules))
				g->idx[g->n++] = i;
		}
		if (rules->skip_green)
			drop_greens(list, g);
	}
}

void discovery_opt_in_services(const struct docker_container_list *list,
                               const struct discovery_rules *rules, char ***names, size_t *n)
{
	for (size_t i = 0; i < list->n; i++) {
		const char *svc = discovery_opt_in_service(&list->items[i], rules);
		if (!svc)
			continue;
		bool dup = false;
		for (size_t k = 0; k < *n && !dup; k++)
			dup = strcmp((*names)[k], svc) == 0;
		if (dup)
			continue;
		*names = xreallocarray(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrdup(svc);
	}
}
