/* fuzz_swarm_json: the Swarm wire-format parsers on arbitrary bytes, and the
 * update body built from what a parsed service holds. The first byte picks
 * the parser (modulo their number); the rest is the body. */
#include <stdint.h>
#include <stdlib.h>

#include "rm/swarm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use_service(const struct swarm_service *s)
{
	struct docker_label_ref l[] = { { "resource-manager.change", "cpu=1 memory=2" },
		                        { "com.docker.stack.namespace", NULL } };
	struct swarm_update u = { .set_cpu = true,
		                  .nano_cpus = 500000000,
		                  .set_memory = true,
		                  .memory = 1 << 26,
		                  .monitor = 5,
		                  .labels = l,
		                  .n_labels = 2 };
	char *body = NULL;
	if (swarm_json_update_body(s->spec, &u, &body) == 0)
		free(body);
	(void)swarm_service_matches(s, "web");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *d = (const char *)data + 1;
	size_t n = size - 1;
	char err[256];
	switch (data[0] % 3) {
	case 0: {
		struct swarm_service_list l = { 0 };
		if (swarm_json_parse_services(d, n, &l, err, sizeof(err)) == 0) {
			for (size_t i = 0; i < l.n; i++)
				use_service(&l.items[i]);
			swarm_service_list_free(&l);
		}
		break;
	}
	case 1: {
		struct swarm_service s = { 0 };
		if (swarm_json_parse_service(d, n, &s, NULL, 0) == 0)
			use_service(&s);
		swarm_service_free(&s);
		break;
	}
	default: {
		struct swarm_task_list l = { 0 };
		if (swarm_json_parse_tasks(d, n, &l, err, sizeof(err)) == 0)
			swarm_task_list_free(&l);
		break;
	}
	}
	return 0;
}
