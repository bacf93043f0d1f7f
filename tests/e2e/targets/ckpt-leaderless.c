// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-leaderless: a process whose main thread has exited, for restore.
 *
 *   ckpt-leaderless MANIFEST
 *
 * The main thread computes a hash over many steps with state on the heap,
 * starts a worker with it and leaves with pthread_exit().  The worker
 * writes the manifest ("@pid N", "@worker TID") and blocks in read(0) for
 * one byte: the moment to dump it.  Once the byte comes it computes as much
 * again, prints "leader STATE" (the main thread's state letter in
 * /proc/PID/status: Z, as pthread_exit left it) and "result HASH", and
 * exits the process with status 42.  An uninterrupted run and a dumped,
 * killed and restored one print the same.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/manifest.h"

#define STEPS 3000

static const char *manifest_path;
static uint64_t *heap;

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0x100000001b3ULL;
}

static uint64_t steps(uint64_t h, int from, int to)
{
	for (int i = from; i < to; i++) {
		heap[i % 512] = mix(heap[(i * 7) % 512], (uint64_t)i);
		h = mix(h, heap[i % 512]);
	}
	return h;
}

static char leader_state(void)
{
	char path[64], line[256], state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)getpid());
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "State:", 6))
			sscanf(line + 6, " %c", &state);
	if (f)
		fclose(f);
	return state;
}

static void *worker(void *arg)
{
	uint64_t h = *(uint64_t *)arg;
	struct manifest m;
	char byte;

	/* Ready once the main thread is gone: the dump must find it so. */
	while (leader_state() != 'Z')
		usleep(1000);	/* a condition, not a time */
	manifest_open(&m, manifest_path);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "worker %ld", (long)syscall(SYS_gettid));
	manifest_close(&m);
	if (read(0, &byte, 1) != 1)
		e2e_die("read");
	h = steps(mix(h, (uint8_t)byte), STEPS, 2 * STEPS);
	printf("leader %c\n", leader_state());
	printf("result %016llx\n", (unsigned long long)h);
	fflush(stdout);
	exit(42);
}

int main(int argc, char **argv)
{
	static uint64_t h = 0xcbf29ce484222325ULL;
	pthread_t t;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MANIFEST\n", argv[0]);
		return 2;
	}
	manifest_path = argv[1];
	heap = calloc(512, sizeof(*heap));
	if (!heap)
		e2e_die("calloc");
	h = steps(h, 0, STEPS);
	if (pthread_create(&t, NULL, worker, &h))
		e2e_die("pthread_create");
	pthread_exit(NULL);
}
