/* fuzz_docker_json: every Docker wire-format parser on arbitrary bytes. The
 * first byte picks the parser (modulo their number); the rest is the body. */
#include <stdint.h>
#include <stdlib.h>

#include "rm/docker_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_inspect(const char *d, size_t n)
{
	struct docker_inspect in = { 0 };
	if (docker_json_parse_inspect(d, n, &in, NULL, 0) == 0) {
		/* The update builder consumes what inspect produced. */
		struct docker_limits want = {
			.set_cpu = true, .cpus = 1.25, .set_memory = true, .memory = 1 << 30
		};
		char *body = NULL;
		if (docker_json_update_body(&in.host_config, &want, &body) == 0)
			free(body);
		/* So does the blue-green copy. */
		struct docker_label_ref extra[] = { { "deployment.type", "blue-green" } };
		struct docker_clone cl = { 0 };
		if (docker_json_clone_body(d, n, &want, extra, 1, &cl, NULL, 0) == 0)
			docker_clone_free(&cl);
		(void)docker_host_config_cpus(&in.host_config);
		(void)docker_labels_get(&in.config.labels, "com.docker.compose.service");
	}
	docker_inspect_free(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *d = (const char *)data + 1;
	size_t n = size - 1;
	char err[256];
	switch (data[0] % 9) {
	case 0: {
		struct docker_version v = { 0 };
		docker_json_parse_version(d, n, &v, err, sizeof(err));
		docker_version_free(&v);
		break;
	}
	case 1: {
		struct docker_info i = { 0 };
		docker_json_parse_info(d, n, &i, err, sizeof(err));
		docker_info_free(&i);
		break;
	}
	case 2: {
		struct docker_container_list l = { 0 };
		docker_json_parse_container_list(d, n, &l, err, sizeof(err));
		docker_container_list_free(&l);
		break;
	}
	case 3:
		parse_inspect(d, n);
		break;
	case 4: {
		struct docker_stats s = { 0 };
		if (docker_json_parse_stats(d, n, &s, err, sizeof(err)) == 0 && s.mem_known)
			(void)docker_stats_working_set(&s);
		break;
	}
	case 5: {
		struct docker_event e = { 0 };
		docker_json_parse_event(d, n, &e, err, sizeof(err));
		docker_event_free(&e);
		break;
	}
	case 6:
		free(docker_json_error_message(d, n));
		break;
	case 7: {
		char *id = NULL;
		if (docker_json_parse_create(d, n, &id, err, sizeof(err)) == 0)
			free(id);
		break;
	}
	default: {
		/* Times and versions are NUL-terminated strings. */
		char *s = malloc(n + 1);
		if (!s)
			abort();
		for (size_t i = 0; i < n; i++)
			s[i] = d[i] ? d[i] : ' ';
		s[n] = '\0';
		double t;
		struct docker_api_version v;
		docker_json_parse_time(s, &t);
		docker_api_version_parse(s, &v);
		free(s);
		break;
	}
	}
	return 0;
}
