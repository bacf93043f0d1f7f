// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-hold: targets for the tests of how a dump holds its target and
 * walks its mappings (review 2026-12-01 #2, #8, #10).
 *
 *   ckpt-hold MANIFEST leaderless     64 patterned pages written by a second
 *                                     thread; the main thread then exits
 *                                     with pthread_exit()
 *   ckpt-hold MANIFEST hugezero       256 MiB of THP-eligible anonymous
 *                                     memory, only read (the huge zero
 *                                     page), and 8 patterned pages
 *   ckpt-hold MANIFEST flip FILE      64 pages at one address flipped for
 *                                     ever between anonymous memory (0xaa)
 *                                     and a private mapping of FILE (0x55)
 *   ckpt-hold MANIFEST thp            32 MiB of patterned transparent huge
 *                                     pages
 *   ckpt-hold MANIFEST uffdwp         16 pages of shared anonymous memory
 *                                     under userfaultfd write-protect, 4
 *                                     of them written: the other 12 hold
 *                                     uffd-wp markers; "@uffdwp 0" if the
 *                                     kernel cannot do that
 *   ckpt-hold MANIFEST swapped        256 patterned pages pushed out to
 *                                     swap with MADV_PAGEOUT; "@swapped N"
 *                                     says how many pagemap shows on swap
 *   ckpt-hold MANIFEST shmem          the target is a child forked after
 *                                     its parent wrote shared memory that
 *                                     the child never touches: 1,024
 *                                     patterned pages of a 1,280-page
 *                                     MAP_SHARED|MAP_ANONYMOUS region (the
 *                                     last 512 of them pushed to swap with
 *                                     MADV_PAGEOUT), a memfd of 64 pages
 *                                     written with pwrite() and 8 only
 *                                     fallocated, and 32 pages of SysV
 *                                     shm; "@shmem_swapped N" says how
 *                                     many pages mincore() shows out of
 *                                     memory (0 without swap)
 *   ckpt-hold MANIFEST longpath DIR   4 pages of a private mapping of a
 *                                     file 25 levels of 200-byte names
 *                                     below DIR (a path longer than
 *                                     PATH_MAX, made with relative calls
 *                                     from the working directory it
 *                                     ends in), each written with the
 *                                     pattern; the file stays open;
 *                                     "@ino N" is its inode
 *
 * Each writes its manifest (format in ../lib/e2e.h) when ready.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "../lib/manifest.h"

#define PAGE	E2E_PAGE_SIZE
#define MIB	(1024UL * 1024)
#define PMD	(2 * MIB)

static struct manifest m;
static const char *manifest_path;

static void *map(void *addr, size_t len, int flags, int fd)
{
	void *p = mmap(addr, len, PROT_READ | PROT_WRITE, flags, fd, 0);

	if (p == MAP_FAILED)
		e2e_die("mmap %zu bytes", len);
	return p;
}

static void *patterned(size_t pages)
{
	char *p = map(NULL, pages * PAGE, MAP_PRIVATE | MAP_ANONYMOUS, -1);

	for (size_t i = 0; i < pages; i++)
		e2e_fill_page(p + i * PAGE, E2E_SEED);
	return p;
}

static void *leaderless_thread(void *arg)
{
	char *p = patterned(64);

	(void)arg;
	manifest_open(&m, manifest_path);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_region(&m, "leaderless", (uintptr_t)p, (uintptr_t)p + 64 * PAGE, 64, 64);
	manifest_close(&m);
	for (;;)
		pause();
	return NULL;
}

static __attribute__((noreturn)) void leaderless(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, leaderless_thread, NULL))
		e2e_die("pthread_create");
	pthread_exit(NULL);
}

static __attribute__((noreturn)) void hugezero(void)
{
	size_t len = 256 * MIB;
	char *raw = map(NULL, len + PMD, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
	char *p = (char *)(((uintptr_t)raw + PMD - 1) & ~(PMD - 1));
	char *data;

	if (madvise(p, len, MADV_HUGEPAGE))
		e2e_die("madvise HUGEPAGE");
	for (size_t off = 0; off < len; off += PMD)
		(void)*(volatile char *)(p + off);
	data = patterned(8);
	manifest_open(&m, manifest_path);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "hugezero %#lx", (unsigned long)p);
	manifest_region(&m, "hugezero", (uintptr_t)p, (uintptr_t)p + len, 0, 0);
	manifest_region(&m, "data", (uintptr_t)data, (uintptr_t)data + 8 * PAGE, 8, 8);
	manifest_close(&m);
	for (;;)
		pause();
}

static __attribute__((noreturn)) void thp(void)
{
	size_t len = 32 * MIB;
	char *raw = map(NULL, len + PMD, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	char *p = (char *)(((uintptr_t)raw + PMD - 1) & ~(PMD - 1));

	if (madvise(p, len, MADV_HUGEPAGE))
		e2e_die("madvise HUGEPAGE");
	for (size_t off = 0; off < len; off += PAGE)
		e2e_fill_page(p + off, E2E_SEED);
	manifest_open(&m, manifest_path);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_region(&m, "thp", (uintptr_t)p, (uintptr_t)p + len, len / PAGE, len / PAGE);
	manifest_close(&m);
	for (;;)
		pause();
}

/* Write-protect [p, p + len) with userfaultfd; 0 if the kernel cannot. */
static int uffd_wp(char *p, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_HUGETLBFS_SHMEM };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg))
		return 0;
	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
		e2e_die("UFFDIO_WRITEPROTECT");
	return 1;	/* uffd stays open: the protection lives as long as it */
}

static __attribute__((noreturn)) void uffdwp(void)
{
	size_t len = 16 * PAGE;
	char *p = map(NULL, len, MAP_SHARED | MAP_ANONYMOUS, -1);
	int ok;

	for (size_t i = 0; i < 4; i++)
		e2e_fill_page(p + i * PAGE, E2E_SEED);
	ok = uffd_wp(p, len);
	manifest_open(&m, manifest_path);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "uffdwp %d", ok);
	manifest_region(&m, "uffdwp", (uintptr_t)p, (uintptr_t)p + len, 4, 4);
	manifest_close(&m);
	for (;;)
		pause();
}

static __attribute__((noreturn)) void flip(const char *path)
{
	size_t len = 64 * PAGE;
	/*
	 * Less than a page: a page-sized buffer of 0x55 on the stack is a
	 * whole anonymous page of the file's bytes whenever the stack puts
	 * it on a page boundary (1 start in 256), which the check below
	 * rightly counts as a file page in an ANON record.
	 */
	char chunk[PAGE / 16];
	char *p;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		e2e_die("open %s", path);
	memset(chunk, 0x55, sizeof(chunk));
	for (size_t i = 0; i < len / sizeof(chunk); i++)
		if (write(fd, chunk, sizeof(chunk)) != sizeof(chunk))
			e2e_die("write %s", path);
	p = map(NULL, len, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	manifest_open(&m, manifest_path);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "flip %#lx", (unsigned long)p);
	manifest_close(&m);
	for (;;) {
		map(p, len, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1);
		memset(p, 0xaa, len);
		map(p, len, MAP_PRIVATE | MAP_FIXED, fd);
		for (size_t off = 0; off < len; off += PAGE)
			(void)*(volatile char *)(p + off);	/* page cache, mapped */
	}
}

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

/* Pages of [p, p + pages * PAGE) that /proc/self/pagemap shows on swap. */
static long swapped_pages(const char *p, size_t pages)
{
	uint64_t entry;
	long n = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		e2e_die("open pagemap");
	for (size_t i = 0; i < pages; i++) {
		off_t off = (off_t)(((uintptr_t)p / PAGE + i) * sizeof(entry));

		if (pread(fd, &entry, sizeof(entry), off) != sizeof(entry))
			e2e_die("read pagemap");
		n += (entry >> 62) & 1;
	}
	close(fd);
	return n;
}

static __attribute__((noreturn)) void swapped(void)
{
	const size_t pages = 256;
	char *p = patterned(pages);

	if (madvise(p, pages * PAGE, MADV_PAGEOUT))
		e2e_die("madvise PAGEOUT");
	manifest_open(&m, manifest_path);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "swapped %ld", swapped_pages(p, pages));
	manifest_region(&m, "swapped", (uintptr_t)p, (uintptr_t)p + pages * PAGE, pages, pages);
	manifest_close(&m);
	for (;;)
		pause();
}

/* Pages of [p, p + pages * PAGE) that mincore() shows out of memory. */
static long pages_out(char *p, size_t pages)
{
	unsigned char vec[1280];
	long n = 0;

	if (pages > sizeof(vec) || mincore(p, pages * PAGE, vec))
		e2e_die("mincore");
	for (size_t i = 0; i < pages; i++)
		n += !(vec[i] & 1);
	return n;
}

static __attribute__((noreturn)) void shmem(void)
{
	const size_t anon_pages = 1280, anon_data = 1024, fd_pages = 72, fd_data = 64, sysv_pages = 32;
	char *anon = map(NULL, anon_pages * PAGE, MAP_SHARED | MAP_ANONYMOUS, -1);
	int fd = memfd_create("ckpt-hold", 0), id;
	char page[PAGE], *mem, *sysv;
	long swapped;
	pid_t child;

	for (size_t i = 0; i < anon_data; i++)
		e2e_fill_page(anon + i * PAGE, E2E_SEED);
	if (madvise(anon + (anon_data - 512) * PAGE, 512 * PAGE, MADV_PAGEOUT))
		e2e_die("madvise PAGEOUT");
	swapped = pages_out(anon, anon_data);

	if (fd < 0 || ftruncate(fd, fd_pages * PAGE))
		e2e_die("memfd");
	mem = map(NULL, fd_pages * PAGE, MAP_SHARED, fd);
	for (size_t i = 0; i < fd_data; i++) {
		e2e_fill_page_as(page, (uintptr_t)mem + i * PAGE, E2E_SEED);
		if (pwrite(fd, page, PAGE, i * PAGE) != PAGE)
			e2e_die("pwrite memfd");
	}
	if (fallocate(fd, 0, fd_data * PAGE, (fd_pages - fd_data) * PAGE))
		e2e_die("fallocate memfd");

	id = shmget(IPC_PRIVATE, sysv_pages * PAGE, IPC_CREAT | 0600);
	sysv = id < 0 ? (char *)-1 : shmat(id, NULL, 0);
	if (sysv == (char *)-1)
		e2e_die("SysV shm");
	shmctl(id, IPC_RMID, NULL);	/* gone when the last process detaches */
	for (size_t i = 0; i < sysv_pages; i++)
		e2e_fill_page(sysv + i * PAGE, E2E_SEED);

	child = fork();
	if (child < 0)
		e2e_die("fork");
	if (child) {
		waitpid(child, NULL, 0);
		exit(0);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	manifest_open(&m, manifest_path);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "shmem_swapped %ld", swapped);
	manifest_region(&m, "shared-anon", (uintptr_t)anon, (uintptr_t)anon + anon_pages * PAGE,
			anon_data, anon_data);
	manifest_region(&m, "memfd", (uintptr_t)mem, (uintptr_t)mem + fd_pages * PAGE, fd_data, fd_data);
	manifest_region(&m, "sysv", (uintptr_t)sysv, (uintptr_t)sysv + sysv_pages * PAGE,
			sysv_pages, sysv_pages);
	manifest_close(&m);
	for (;;)
		pause();
}

static __attribute__((noreturn)) void longpath(const char *dir)
{
	const size_t pages = 4;
	char name[201];
	struct stat st;
	char *p;
	int fd;

	memset(name, 'd', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	if (chdir(dir))
		e2e_die("chdir %s", dir);
	for (int level = 0; level < 25; level++)
		if ((mkdir(name, 0700) && errno != EEXIST) || chdir(name))
			e2e_die("mkdir/chdir level %d", level);
	fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, pages * PAGE) || fstat(fd, &st))
		e2e_die("data file");
	p = map(NULL, pages * PAGE, MAP_PRIVATE, fd);
	for (size_t i = 0; i < pages; i++)
		e2e_fill_page(p + i * PAGE, E2E_SEED);
	manifest_open(&m, manifest_path);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "longpath %#lx", (unsigned long)p);
	manifest_fact(&m, "ino %lu", (unsigned long)st.st_ino);
	manifest_region(&m, "longpath", (uintptr_t)p, (uintptr_t)p + pages * PAGE, pages, pages);
	manifest_close(&m);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MANIFEST leaderless|hugezero|thp|uffdwp|swapped|shmem|flip FILE|longpath DIR\n", argv[0]);
		return 1;
	}
	manifest_path = argv[1];
	if (!strcmp(argv[2], "leaderless"))
		leaderless();
	if (!strcmp(argv[2], "hugezero"))
		hugezero();
	if (!strcmp(argv[2], "flip") && argc == 4)
		flip(argv[3]);
	if (!strcmp(argv[2], "swapped"))
		swapped();
	if (!strcmp(argv[2], "thp"))
		thp();
	if (!strcmp(argv[2], "uffdwp"))
		uffdwp();
	if (!strcmp(argv[2], "shmem"))
		shmem();
	if (!strcmp(argv[2], "longpath") && argc == 4)
		longpath(argv[3]);
	fprintf(stderr, "%s: unknown mode %s\n", argv[0], argv[2]);
	return 1;
}
