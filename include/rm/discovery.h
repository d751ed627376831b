/* discovery: which containers make up a monitored service (pure).
 *
 * A monitored name N matches a container when
 *   - its label com.docker.compose.service equals N (and, when a project is
 *     configured, its com.docker.compose.project equals that project), or
 *   - one of its names equals N exactly (the engine's leading '/' aside).
 * With label opt-in, a container labelled resource-manager.enable=true is
 * managed too, under its compose service name, else its container name.
 * Never substring or pattern matching. Replicas of one service group. */
#ifndef RM_DISCOVERY_H
#define RM_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>

#include "rm/docker_json.h"

#define DISCOVERY_LABEL_SERVICE "com.docker.compose.service"
#define DISCOVERY_LABEL_PROJECT "com.docker.compose.project"
#define DISCOVERY_LABEL_OPT_IN  "resource-manager.enable"

struct discovery_rules {
	const char *project; /* "" or NULL = any project */
	bool label_opt_in;
	/* Leave out a blue-green replacement's green while another container
	 * of its service runs (blue): usage is never blue + green. */
	bool skip_green;
};

/* A blue-green green carries this infix in its temporary name,
 * <blue>-rm-<unix time>, until it takes blue's name. */
#define DISCOVERY_GREEN_INFIX "-rm-"

/* Whether name (a leading '/' aside) is a green's temporary name. */
bool discovery_name_is_green(const char *name);

/* Whether c is a green before it took blue's name: labelled
 * deployment.phase=green and named as discovery_name_is_green says. */
bool discovery_is_green(const struct docker_container_summary *c);

/* true when container c belongs to the monitored service name. */
bool discovery_matches(const struct docker_container_summary *c, const char *service,
                       const struct discovery_rules *rules);

/* The service name an opted-in container is managed under (borrowed from c,
 * without the leading '/'), or NULL when c has not opted in (or opt-in is
 * off, or the project does not match). */
const char *discovery_opt_in_service(const struct docker_container_summary *c,
                                     const struct discovery_rules *rules);

/* The containers of one service: indexes into the list given. */
struct discovery_group {
	size_t *idx;
	size_t n;
};
void discovery_group_free(struct discovery_group *g);

/* Fills groups[0..n_services) with the containers of list matching each
 * service (running ones only when running_only; greens left out as
 * rules->skip_green says). A container may appear in
 * several groups. groups is caller-provided; each entry owned, free with
 * discovery_group_free. */
void discovery_group_services(const struct docker_container_list *list, const char *const *services,
                              size_t n_services, const struct discovery_rules *rules,
                              bool running_only, struct discovery_group *groups);

/* Appends to *names (owned strings, *n updated) each opted-in service of list
 * not already there. */
void discovery_opt_in_services(const struct docker_container_list *list,
                               const struct discovery_rules *rules, char ***names, size_t *n);

#endif
