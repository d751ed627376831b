/* bench_docker: the cost of one collect of the Docker source (list, then
 * inspect + one-shot stats per container) for N running containers, fetched
 * with each of the given parallelisms, in the same process and interleaved:
 * each repetition runs one collect per parallelism, one after the other, so
 * that the variants share the engine's load of that moment. Each variant has
 * a Docker source of its own (source_docker_set_parallel and
 * source_docker_set_cgroup_root; 8 and /sys/fs/cgroup are the production
 * defaults), so a container's CPU rate is between two collects of the same
 * variant: one source switching between the cgroup files (steady clock) and
 * the engine's stats (wall clock) takes a second sample, a second later, at
 * every switch.
 *
 *   bench_docker --host URL --project P --services N --prefix S
 *                [--parallel 8,1,c8] [--cgroup-root DIR] [--reps R] [--warmup W]
 *
 * A variant "N" fetches inspect + the engine's one-shot stats N containers
 * at once (cgroup reading off); "cN" fetches inspect N at once and reads the
 * counters from the cgroup files under --cgroup-root (default
 * /sys/fs/cgroup), as docker.cgroup_root does in production.
 *
 * The containers are the caller's (bench/run.sh starts them): compose project
 * P, services S-00 .. S-(N-1), one container each (or Swarm stack P, services
 * P_S-00 ..., one task each). W unmeasured collects of each variant come
 * first: the first collect of a container has no CPU rate yet. Prints one line of key=value figures
 * per parallelism: median, min and max over the R collects of wall time, CPU time of the whole
 * process (every worker thread), requests and bytes received, and how many
 * services had a known CPU and memory use. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"
#include "rm/config.h"
#include "rm/observation.h"
#include "rm/source_docker.h"
#include "rm/util.h"

#define MAX_VARIANTS 8
#define MAX_REPS     100

struct variant {
	unsigned parallel;
	bool cgroup;
	struct source src;
	double wall[MAX_REPS], cpu[MAX_REPS], requests[MAX_REPS], bytes[MAX_REPS];
	size_t found, known_cpu, known_mem;
};

static void usage(void)
{
	fprintf(stderr, "usage: bench_docker --host URL --project P --services N --prefix S "
	                "[--parallel 8,1,c8] [--cgroup-root DIR] [--reps R] [--warmup W]\n");
	exit(2);
}

/* One collect of v; figures into slot rep (when rep >= 0). */
static const char *cgroup_root = "/sys/fs/cgroup";

static int measure(struct variant *v, const char *const *services, size_t n,
                   struct observation *obs, int rep)
{
	struct source *src = &v->src;
	struct source_stats st = { 0 };
	char err[256] = "";
	memset(obs, 0, n * sizeof(*obs));
	double c0 = bench_cpu_now(), w0 = bench_wall_now();
	int r = source_collect(src, services, n, time_wall(), obs, &st, err, sizeof(err));
	double w1 = bench_wall_now(), c1 = bench_cpu_now();
	if (r < 0) {
		fprintf(stderr, "bench_docker: collect failed: %s\n", err);
		return r;
	}
	if (rep < 0)
		return 0;
	v->wall[rep] = (w1 - w0) * 1000;
	v->cpu[rep] = (c1 - c0) * 1000;
	v->requests[rep] = st.requests;
	v->bytes[rep] = (double)st.bytes_received;
	v->found = v->known_cpu = v->known_mem = 0;
	for (size_t i = 0; i < n; i++) {
		v->found += obs[i].n_containers > 0;
		v->known_cpu += obs[i].cpu_used_known;
		v->known_mem += obs[i].mem_used_known;
	}
	return 0;
}

static void print_spread(const char *key, double *v, size_t n)
{
	struct bench_spread s = bench_spread_of(v, n);
	printf(" %s_med=%.3f %s_min=%.3f %s_max=%.3f", key, s.med, key, s.min, key, s.max);
}

int main(int argc, char **argv)
{
	const char *host = NULL, *project = NULL, *prefix = NULL, *parallel = "8,1";
	size_t n = 0;
	unsigned reps = 5, warmup = 1;
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "project", required_argument, NULL, 'P' },
		{ "services", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "parallel", required_argument, NULL, 'j' },
		{ "reps", required_argument, NULL, 'r' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "cgroup-root", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	for (int c; (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case 'P':
			project = optarg;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'j':
			parallel = optarg;
			break;
		case 'r':
			reps = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			warmup = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			cgroup_root = optarg;
			break;
		default:
			usage();
		}
	}
	if (!host || !project || !prefix || n == 0 || reps == 0 || reps > MAX_REPS)
		usage();

	struct rm_config *cfg = config_new_default();
	free(cfg->docker.host);
	cfg->docker.host = xstrdup(host);
	free(cfg->services.project);
	cfg->services.project = xstrdup(project);

	struct variant vs[MAX_VARIANTS];
	size_t n_vs = 0;
	char *list = xstrdup(parallel);
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && n_vs < MAX_VARIANTS;
	     tok = strtok_r(NULL, ",", &save)) {
		struct variant *v = &vs[n_vs++];
		memset(v, 0, sizeof(*v));
		v->cgroup = tok[0] == 'c';
		v->parallel = (unsigned)strtoul(tok + v->cgroup, NULL, 10);
		if (source_docker_new(cfg, &v->src) < 0) {
			fprintf(stderr, "bench_docker: cannot use %s\n", host);
			return 1;
		}
		source_docker_set_parallel(&v->src, v->parallel);
		source_docker_set_cgroup_root(&v->src, v->cgroup ? cgroup_root : "");
	}
	free(list);

	char **names = xcalloc(n, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = xasprintf("%s-%02zu", prefix, i);
	struct observation *obs = xcalloc(n, sizeof(*obs));
	int r = 0;
	for (unsigned w = 0; w < warmup && r == 0; w++)
		for (size_t k = 0; k < n_vs && r == 0; k++)
			r = measure(&vs[k], (const char *const *)names, n, obs, -1);
	for (unsigned rep = 0; rep < reps && r == 0; rep++)
		for (size_t k = 0; k < n_vs && r == 0; k++)
			r = measure(&vs[k], (const char *const *)names, n, obs, (int)rep);
	if (r == 0) {
		for (size_t k = 0; k < n_vs; k++) {
			struct variant *v = &vs[k];
			printf("parallel=%u source=%s n=%zu reps=%u", v->parallel,
			       v->cgroup ? "cgroup" : "stats", n, reps);
			print_spread("wall_ms", v->wall, reps);
			print_spread("cpu_ms", v->cpu, reps);
			print_spread("requests", v->requests, reps);
			print_spread("bytes_rx", v->bytes, reps);
			printf(" found=%zu known_cpu=%zu known_mem=%zu rss_peak_kib=%ld\n",
			       v->found, v->known_cpu, v->known_mem, bench_peak_rss_kib());
		}
	}
	for (size_t k = 0; k < n_vs; k++)
		source_free(&vs[k].src);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(obs);
	config_free(cfg);
	return r < 0 ? 1 : 0;
}
