/* view: freeing and lookup of the daemon's published view. */
#include "rm/view.h"

#include <stdlib.h>
#include <string.h>

void view_free(struct view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_services; i++) {
		struct view_service *s = &v->services[i];
		free(s->name);
		for (size_t j = 0; j < s->n_containers; j++)
			free(s->containers[j]);
		free(s->containers);
	}
	free(v->services);
	for (size_t i = 0; i < v->n_history; i++) {
		struct state_event *e = &v->history[i];
		free(e->service);
		free(e->reason);
		free(e->explanation);
		free(e->outcome);
		free(e->strategy);
		free(e->backend);
	}
	free(v->history);
	free(v);
}

const struct view_service *view_find(const struct view *v, const char *name)
{
	for (size_t i = 0; i < v->n_services; i++)
		if (strcmp(v->services[i].name, name) == 0)
			return &v->services[i];
	return NULL;
}
