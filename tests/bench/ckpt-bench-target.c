// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-bench-target: the processes the benchmark dumps.  Each builds one
 * memory shape, fills the pages that hold data with the e2e pattern (random
 * looking, and tied to its address so a reader can check every page), writes
 * a manifest (../e2e/lib/e2e.h) whose appearance says "ready", and sleeps.
 *
 *   ckpt-bench-target MANIFEST dense MIB         MIB of private anonymous memory
 *   ckpt-bench-target MANIFEST pages N           the same, N pages
 *   ckpt-bench-target MANIFEST sparse GIB MIB    GIB reserved, MIB of it
 *                                                 touched a page at a time,
 *                                                 scattered at random
 *   ckpt-bench-target MANIFEST vmas N            N one-page VMAs, alternately
 *                                                 read-write and read-only,
 *                                                 each holding data
 *   ckpt-bench-target MANIFEST filecow FILE MIB PERCENT
 *                                                 FILE (created, MIB long)
 *                                                 mapped privately, read
 *                                                 whole, PERCENT of its pages
 *                                                 written (copied on write)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>

#include "../e2e/lib/manifest.h"

#define PAGE	E2E_PAGE_SIZE
/* The file's own contents: a pattern the image must never contain. */
#define FILE_SEED	(E2E_SEED ^ 0x66696c65ULL)

static char *map_anon(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		e2e_die("mmap %zu bytes", len);
	/* 4 KiB pages, whatever the THP setting: the shapes are about PTEs. */
	if (madvise(p, len, MADV_NOHUGEPAGE))
		e2e_die("madvise");
	return p;
}

static long positive(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == 0 || *end || v <= 0) {
		errno = EINVAL;
		e2e_die("'%s' is not a positive number", s);
	}
	return v;
}

static void dense(struct manifest *m, long pages)
{
	char *p = map_anon(pages * PAGE);

	for (long i = 0; i < pages; i++)
		e2e_fill_page(p + i * PAGE, E2E_SEED);
	manifest_region(m, "data", (uintptr_t)p, (uintptr_t)p + pages * PAGE,
			pages, pages);
}

static void sparse(struct manifest *m, long gib, long mib)
{
	const uint64_t slots = (uint64_t)gib << (30 - 12);
	const long touch = mib << (20 - 12);
	uint8_t *used = calloc(slots / 8, 1);
	char *p = map_anon(slots * PAGE);
	uint64_t x = E2E_SEED;

	if (!used)
		e2e_die("calloc");
	if ((uint64_t)touch > slots / 2) {
		errno = EINVAL;
		e2e_die("touching %ld MiB of %ld GiB is not sparse", mib, gib);
	}
	for (long n = 0; n < touch;) {
		uint64_t i = e2e_mix(++x) % slots;

		if (used[i / 8] & (1u << (i % 8)))
			continue;
		used[i / 8] |= 1u << (i % 8);
		e2e_fill_page(p + i * PAGE, E2E_SEED);
		n++;
	}
	free(used);
	manifest_region(m, "sparse", (uintptr_t)p, (uintptr_t)p + slots * PAGE,
			touch, touch);
}

static void vmas(struct manifest *m, long n)
{
	char *p = map_anon(n * PAGE);

	for (long i = 0; i < n; i++)
		e2e_fill_page(p + i * PAGE, E2E_SEED);
	for (long i = 1; i < n; i += 2)
		if (mprotect(p + i * PAGE, PAGE, PROT_READ))
			e2e_die("mprotect page %ld", i);
	manifest_fact(m, "vmas %ld", n);
	manifest_region(m, "vmas", (uintptr_t)p, (uintptr_t)p + n * PAGE, n, n);
}

static void filecow(struct manifest *m, const char *path, long mib, long percent)
{
	const long pages = mib << (20 - 12), every = 100 / percent;
	static char buf[PAGE];
	volatile uint64_t sum = 0;
	long written = 0;
	char *p;
	int fd;

	if (percent > 100) {
		errno = EINVAL;
		e2e_die("percent %ld", percent);
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		e2e_die("open %s", path);
	for (long i = 0; i < pages; i++) {
		e2e_fill_page_as(buf, i * PAGE, FILE_SEED);
		if (write(fd, buf, PAGE) != (ssize_t)PAGE)
			e2e_die("write %s", path);
	}
	p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		e2e_die("mmap %s", path);
	close(fd);
	/* Map every page of the file, as a program that uses it would. */
	for (long i = 0; i < pages; i++)
		sum += *(uint64_t *)(p + i * PAGE);
	for (long i = 0; i < pages; i += every, written++)
		e2e_fill_page(p + i * PAGE, E2E_SEED);
	manifest_fact(m, "file %s", path);
	manifest_region(m, "filecow", (uintptr_t)p, (uintptr_t)p + pages * PAGE,
			written, written);
}

static void usage(const char *me)
{
	fprintf(stderr,
		"usage: %s MANIFEST dense MIB | pages N | sparse GIB MIB | vmas N |\n"
		"       filecow FILE MIB PERCENT\n", me);
	exit(2);
}

int main(int argc, char **argv)
{
	struct manifest m;
	const char *mode;

	if (argc < 4)
		usage(argv[0]);
	mode = argv[2];
	manifest_open(&m, argv[1]);
	manifest_fact(&m, "pid %d", (int)getpid());
	if (!strcmp(mode, "dense") && argc == 4)
		dense(&m, positive(argv[3]) << (20 - 12));
	else if (!strcmp(mode, "pages") && argc == 4)
		dense(&m, positive(argv[3]));
	else if (!strcmp(mode, "sparse") && argc == 5)
		sparse(&m, positive(argv[3]), positive(argv[4]));
	else if (!strcmp(mode, "vmas") && argc == 4)
		vmas(&m, positive(argv[3]));
	else if (!strcmp(mode, "filecow") && argc == 6)
		filecow(&m, argv[3], positive(argv[4]), positive(argv[5]));
	else
		usage(argv[0]);
	manifest_close(&m);
	for (;;)
		pause();
}
