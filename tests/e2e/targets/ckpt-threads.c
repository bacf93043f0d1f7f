// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-threads: a process with many threads, each asleep in pause() on a
 * small stack, for the dump's per-thread records and its bounded kernel
 * memory.
 *
 *   ckpt-threads MANIFEST [N]	(N threads besides main, default 2000)
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>

#include "../lib/manifest.h"

static pthread_barrier_t ready;

static void *sleeper(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&ready);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 2000;
	struct manifest m;
	pthread_attr_t attr;
	pthread_t t;

	if (argc < 2 || argc > 3 || n < 1) {
		fprintf(stderr, "usage: %s MANIFEST [N]\n", argv[0]);
		return 1;
	}
	if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN + 16384) ||
	    pthread_barrier_init(&ready, NULL, n + 1))
		e2e_die("pthread attributes");
	for (long i = 0; i < n; i++)
		if ((errno = pthread_create(&t, &attr, sleeper, NULL)))
			e2e_die("pthread_create %ld", i);
	pthread_barrier_wait(&ready);
	manifest_open(&m, argv[1]);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "threads %ld", n + 1);
	manifest_close(&m);
	for (;;)
		pause();
}
