// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-spin: a target that never sleeps. It writes 1 MiB of patterned
 * memory, publishes its manifest, then one thread spins forever writing a
 * counter on its own page (outside every manifest region).
 *
 *   ckpt-spin MANIFEST
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "../lib/manifest.h"

int main(int argc, char **argv)
{
	size_t len = 1024 * 1024, page = E2E_PAGE_SIZE;
	struct manifest m;
	volatile uint64_t *counter;
	char *p;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MANIFEST\n", argv[0]);
		return 1;
	}
	p = mmap(NULL, len + page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		e2e_die("mmap");
	for (size_t off = 0; off < len; off += page)
		e2e_fill_page(p + off, E2E_SEED);
	counter = (volatile uint64_t *)(p + len);
	manifest_open(&m, argv[1]);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "threads 1");
	manifest_region(&m, "spin_static", (uintptr_t)p, (uintptr_t)p + len,
			len / page, len / page);
	manifest_close(&m);
	for (;;)
		(*counter)++;
}
