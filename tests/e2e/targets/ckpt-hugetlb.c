// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-hugetlb: a target with one touched hugetlb page (2 MiB), which ckpt
 * cannot dump: the dump must fail with EOPNOTSUPP naming this VMA.  The
 * guest reserves huge pages first (/proc/sys/vm/nr_hugepages).
 *
 *   ckpt-hugetlb MANIFEST
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "../lib/manifest.h"

int main(int argc, char **argv)
{
	size_t len = 2 * 1024 * 1024;
	struct manifest m;
	char *p;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MANIFEST\n", argv[0]);
		return 1;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		e2e_die("mmap MAP_HUGETLB (are huge pages reserved?)");
	e2e_fill_page(p, E2E_SEED);
	manifest_open(&m, argv[1]);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "hugetlb %#lx", (unsigned long)p);
	manifest_close(&m);
	for (;;)
		pause();
}
