/* docker_testlib: helpers shared by the Docker integration tests: the engine
 * and image from the environment scripts/test.sh sets, test containers made
 * with the docker CLI (never pulling) and removed at exit, and a client. */
#ifndef RM_TESTS_DOCKER_TESTLIB_H
#define RM_TESTS_DOCKER_TESTLIB_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rm/docker.h"
#include "rm/util.h"

#define TL_MAX_CONTAINERS 32

static char *tl_names[TL_MAX_CONTAINERS];
static size_t tl_n_names;

static inline const char *tl_host(void)
{
	const char *h = getenv("RM_TEST_DOCKER_HOST");
	return h && h[0] ? h : NULL;
}

static inline const char *tl_image(void)
{
	const char *i = getenv("RM_TEST_WORKLOAD_IMAGE");
	return i && i[0] ? i : "rm-test/workload:1";
}

/* A per-run unique container name: "rmt-<pid>-<suffix>". Owned. */
static inline char *tl_name(const char *suffix)
{
	return xasprintf("rmt-%d-%s", (int)getpid(), suffix);
}

static inline void tl_remove_all(void)
{
	for (size_t i = 0; i < tl_n_names; i++) {
		char *cmd = xasprintf("docker -H '%s' rm -f '%s' >/dev/null 2>&1", tl_host(),
		                      tl_names[i]);
		if (system(cmd) != 0) {
			/* Already gone. */
		}
		free(cmd);
		free(tl_names[i]);
	}
	tl_n_names = 0;
}

static inline void tl_track(const char *name)
{
	if (tl_n_names == 0)
		atexit(tl_remove_all);
	if (tl_n_names < TL_MAX_CONTAINERS)
		tl_names[tl_n_names++] = xstrdup(name);
}

/* docker run -d --pull=never --name NAME OPTS IMAGE ARGS. Returns 0 and the
 * id in id (65 bytes), or -1 (the CLI's words go to stderr). The container
 * is removed at exit. */
static inline int tl_run(const char *name, const char *opts, const char *args, char *id)
{
	tl_track(name);
	char *cmd = xasprintf("docker -H '%s' run -d --pull=never --name '%s' %s '%s' %s",
	                      tl_host(), name, opts ? opts : "", tl_image(), args ? args : "");
	FILE *p = popen(cmd, "r");
	free(cmd);
	if (!p)
		return -1;
	char buf[128] = "";
	char *ok = fgets(buf, sizeof(buf), p);
	int st = pclose(p);
	if (!ok || st != 0 || strlen(buf) < 64)
		return -1;
	if (id) {
		memcpy(id, buf, 64);
		id[64] = '\0';
	}
	return 0;
}

/* Runs a docker CLI command line (after "docker -H host"), quietly. */
static inline int tl_docker(const char *args)
{
	char *cmd = xasprintf("docker -H '%s' %s >/dev/null 2>&1", tl_host(), args);
	int r = system(cmd);
	free(cmd);
	return r == 0 ? 0 : -1;
}

static inline struct docker_client *tl_client(const char *host, double timeout)
{
	struct docker_client_options o = { .host = host ? host : tl_host(),
		                           .api_version = "auto",
		                           .timeout = timeout };
	struct docker_client *c = NULL;
	char err[256];
	if (docker_client_new(&o, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "client: %s\n", err);
		return NULL;
	}
	return c;
}

/* Skips the group when scripts/test.sh did not provide an engine. */
static inline int tl_setup(void **state)
{
	if (!tl_host()) {
		fprintf(stderr, "RM_TEST_DOCKER_HOST is not set: run through scripts/test.sh\n");
		return -1;
	}
	return 0;
}

#endif
