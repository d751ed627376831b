/* fuzz_traefik_json: Traefik's service answer parser on arbitrary bytes, and
 * the server lookup on what it returns. */
#include <stdint.h>
#include <stdlib.h>

#include "rm/traefik_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct traefik_service s;
	char err[256];
	if (traefik_json_parse_service((const char *)data, size, &s, err, sizeof(err)) == 0) {
		(void)traefik_server_status(&s, "172.19.0.2");
		(void)traefik_server_status(&s, "fd00::3");
		traefik_service_free(&s);
	}
	return 0;
}
