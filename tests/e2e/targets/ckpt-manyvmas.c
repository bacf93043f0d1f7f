// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-manyvmas: a process with many small VMAs. One private anonymous
 * region of N pages whose pages alternate between read-write and read-only,
 * so it is split into N VMAs; every 8th page is written before its
 * protection changes.
 *
 *   ckpt-manyvmas MANIFEST [N]	(N defaults to 20000)
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "../lib/manifest.h"

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 20000, written = 0;
	size_t page = E2E_PAGE_SIZE;
	struct manifest m;
	char *p;

	if (argc < 2 || argc > 3 || n < 2) {
		fprintf(stderr, "usage: %s MANIFEST [N]\n", argv[0]);
		return 1;
	}
	p = mmap(NULL, n * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		e2e_die("mmap");
	if (madvise(p, n * page, MADV_NOHUGEPAGE))
		e2e_die("madvise");
	for (long i = 0; i < n; i += 8, written++)
		e2e_fill_page(p + i * page, E2E_SEED);
	for (long i = 1; i < n; i += 2)
		if (mprotect(p + i * page, page, PROT_READ))
			e2e_die("mprotect page %ld", i);
	manifest_open(&m, argv[1]);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "vmas %ld", n);
	manifest_region(&m, "manyvmas", (uintptr_t)p, (uintptr_t)p + n * page,
			written, written);
	manifest_close(&m);
	for (;;)
		pause();
}
