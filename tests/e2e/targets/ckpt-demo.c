// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-demo: the `make demo` target. Fills 8 MiB with pages that read
 * "ckpt demo page N of 2048 (pid P)" (easy to spot with `strings` in an
 * image), writes its pid to READYFILE and sleeps forever.
 *
 *   ckpt-demo READYFILE
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "../lib/manifest.h"

int main(int argc, char **argv)
{
	size_t npages = 2048, page = E2E_PAGE_SIZE;
	struct manifest m;
	char *p;

	if (argc != 2) {
		fprintf(stderr, "usage: %s READYFILE\n", argv[0]);
		return 1;
	}
	p = mmap(NULL, npages * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		e2e_die("mmap");
	for (size_t i = 0; i < npages; i++) {
		char *pg = p + i * page;
		int n = snprintf(pg, page, "ckpt demo page %zu of %zu (pid %d)\n",
				 i + 1, npages, (int)getpid());

		memset(pg + n, '.', page - n - 1);
		pg[page - 1] = '\n';
	}
	manifest_open(&m, argv[1]);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_region(&m, "demo", (uintptr_t)p, (uintptr_t)p + npages * page, npages, 0);
	manifest_close(&m);
	for (;;)
		pause();
}
