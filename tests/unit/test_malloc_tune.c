/* test_malloc_tune: the allocator settings the daemon takes at start-up (the
 * soak's footprint): few arenas, and large blocks returned to the system. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rm/util.h"

/* Once, before any thread: the settings must precede the threads, as in the
 * daemon. */
static bool tuned(void)
{
	static int r = 1;
	if (r == 1)
		r = malloc_tune();
	return r == 0;
}

/* glibc raises its default mmap threshold to the size of the largest
 * mmapped block freed; the fixed threshold keeps a 256 KiB block mmapped
 * (and so given back when freed) after a 4 MiB one was freed. */
static void test_large_blocks_stay_mmapped(void **state)
{
	(void)state;
	if (!tuned())
		skip(); /* a sanitizer's allocator, or not glibc */
	char *big = malloc(4 << 20);
	assert_non_null(big);
	memset(big, 1, 4 << 20);
	free(big);
	size_t before = mallinfo2().hblks;
	char *p = malloc(256 << 10);
	assert_non_null(p);
	memset(p, 1, 256 << 10);
	assert_int_equal(mallinfo2().hblks, before + 1);
	free(p);
	assert_int_equal(mallinfo2().hblks, before);
}

#define N_THREADS 6

static pthread_barrier_t barrier;

static void *allocate(void *arg)
{
	(void)arg;
	void *p[50];
	/* Beyond the thread cache's sizes: from the thread's arena. */
	for (int i = 0; i < 50; i++) {
		p[i] = malloc(2000);
		memset(p[i], 1, 2000);
	}
	/* All alive at once: none can hand its arena on to another. */
	pthread_barrier_wait(&barrier);
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < 50; i++)
		free(p[i]);
	return NULL;
}

/* By default each new thread gets an arena of its own up to 8 per core. */
static void test_arenas_bounded(void **state)
{
	(void)state;
	if (!tuned())
		skip();
	pthread_t t[N_THREADS];
	pthread_barrier_init(&barrier, NULL, N_THREADS + 1);
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, allocate, NULL), 0);
	pthread_barrier_wait(&barrier);
	char *xml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&xml, &len);
	assert_non_null(f);
	assert_int_equal(malloc_info(0, f), 0);
	fclose(f);
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < N_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
	int heaps = 0;
	for (const char *s = xml; (s = strstr(s, "<heap nr=")); s++)
		heaps++;
	free(xml);
	assert_true(heaps >= 1);
	assert_true(heaps <= MALLOC_ARENAS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_large_blocks_stay_mmapped),
		cmocka_unit_test(test_arenas_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
