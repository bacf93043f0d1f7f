// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-gdb-target: a process whose state gdb must find in `ckpt core`'s
 * output (scripts/core-gdb-test.sh checks it on the host).
 *
 *   ckpt-gdb-target
 *
 * Four worker threads, each in thread_main(arg = N) -> wait_here(depth = N)
 * with the local marker = 4242 + N and %xmm7 = 0x1111111111111111 * (N + 1),
 * and the main thread in main() -> wait_here(depth = 9) with %xmm7 =
 * 0x9999999999999999 (as uint64 pairs, low then high: V, ~V).  Globals:
 * gdb_magic = 0x636b70742d676462 ("ckpt-gdb"), gdb_heap -> a heap node
 * {magic 0xfeedface, name "heap node"}.  Prints "ready" (with a raw write:
 * no library call may touch %xmm7 after it is set), then every thread
 * sleeps in a raw pause().
 *
 * Built without optimisation (below) so that gdb sees every argument and
 * local.
 */
#pragma GCC optimize("O0")
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NR_WORKERS 4

struct heap_node {
	uint64_t magic;
	char name[16];
};

volatile uint64_t gdb_magic;
struct heap_node *volatile gdb_heap;
static volatile long workers_ready;

static long raw_syscall3(long nr, long a, long b, long c)
{
	long ret;

	asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

/* Sets %xmm7 to (v, ~v), then never calls the C library again. */
static void __attribute__((noinline)) wait_here(long depth, int say_ready)
{
	volatile long local_marker = 4242 + depth;
	uint64_t v = depth == 9 ? 0x9999999999999999ULL : 0x1111111111111111ULL * (depth + 1);
	uint64_t pair[2] = { v, ~v };

	asm volatile("movdqu %0, %%xmm7" : : "m"(pair) : "xmm7");
	if (say_ready)
		raw_syscall3(SYS_write, 1, (long)"ready\n", 6);
	else
		__atomic_add_fetch(&workers_ready, 1, __ATOMIC_SEQ_CST);
	for (;;)
		raw_syscall3(SYS_pause, 0, 0, 0);
	(void)local_marker;
}

static void *thread_main(void *arg)
{
	wait_here((long)arg, 0);
	return NULL;
}

int main(void)
{
	pthread_t t;

	gdb_magic = 0x636b70742d676462ULL;
	gdb_heap = malloc(sizeof(*gdb_heap));
	if (!gdb_heap)
		return 2;
	gdb_heap->magic = 0xfeedface;
	strcpy(gdb_heap->name, "heap node");
	for (long i = 0; i < NR_WORKERS; i++)
		if (pthread_create(&t, NULL, thread_main, (void *)i))
			return 2;
	while (__atomic_load_n(&workers_ready, __ATOMIC_SEQ_CST) < NR_WORKERS)
		usleep(1000);
	fflush(stdout);
	wait_here(9, 1);
	return 0;
}
