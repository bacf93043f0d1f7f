// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-target: the main end-to-end target. It sets up every kind of mapping
 * with known contents, describes in a manifest how many pages a correct dump
 * holds for each, then sleeps forever.
 *
 *   ckpt-target MANIFEST [DATADIR]
 *
 * MANIFEST appears (atomically) once everything is set up; DATADIR (default
 * /tmp, should be tmpfs) receives the file behind the private file mapping.
 *
 * Expected pages follow the image rules of include/uapi/linux/ckpt.h:
 * private anonymous: every written page (holes and the zero page excluded);
 * private file: only pages copied on write; shared: every page touched
 * through the mapping. Each region is a page range the program alone writes,
 * so counts are exact whatever else shares the VMA.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <asm/ldt.h>
#include <linux/ckpt.h>

#include "../lib/manifest.h"

#define PAGE		E2E_PAGE_SIZE
#define MIB		(1024UL * 1024)
#define NR_THREADS	4
#define THREAD_BUF	(16 * 1024)

static struct manifest m;
static pthread_barrier_t ready;

/* Keep the compiler from dropping stores nobody reads back. */
static void escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void fill(void *start, size_t len)
{
	for (size_t off = 0; off < len; off += PAGE)
		e2e_fill_page((char *)start + off, E2E_SEED);
	escape(start);
}

static void touch_read(const void *p)
{
	(void)*(const volatile char *)p;
}

static void *map(size_t len, int prot, int flags, int fd)
{
	void *p = mmap(NULL, len, prot, flags, fd, 0);

	if (p == MAP_FAILED)
		e2e_die("mmap %zu bytes", len);
	return p;
}

/* 4 MiB private anonymous, every page written. */
static void anon_dense(void)
{
	size_t len = 4 * MIB;
	char *p = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);

	fill(p, len);
	manifest_region(&m, "anon_dense", (uintptr_t)p, (uintptr_t)p + len,
			len / PAGE, len / PAGE);
}

/*
 * 1 GiB reserved PROT_NONE, then opened up; 64 pages written far apart, 32
 * others only read (they map the zero page and must not be dumped). No THP:
 * a huge page would make 512 pages present per write.
 */
static void anon_sparse(void)
{
	size_t len = 1024 * MIB, npages = len / PAGE;
	char *p = map(len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);

	if (madvise(p, len, MADV_NOHUGEPAGE))
		e2e_die("madvise NOHUGEPAGE");
	if (mprotect(p, len, PROT_READ | PROT_WRITE))
		e2e_die("mprotect sparse");
	for (size_t k = 0; k < 64; k++)
		e2e_fill_page(p + ((k * 4096 + 17) % npages) * PAGE, E2E_SEED);
	for (size_t k = 0; k < 32; k++)
		touch_read(p + ((k * 4096 + 2049) % npages) * PAGE);
	escape(p);
	manifest_region(&m, "anon_sparse", (uintptr_t)p, (uintptr_t)p + len, 64, 64);
}

/* 16 pages written, then the middle 8 dropped: they are holes again. */
static void anon_dontneed(void)
{
	size_t len = 16 * PAGE;
	char *p = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);

	if (madvise(p, len, MADV_NOHUGEPAGE))
		e2e_die("madvise NOHUGEPAGE");
	fill(p, len);
	if (madvise(p + 4 * PAGE, 8 * PAGE, MADV_DONTNEED))
		e2e_die("madvise DONTNEED");
	manifest_region(&m, "anon_dontneed", (uintptr_t)p, (uintptr_t)p + len, 8, 8);
}

/* malloc from the brk heap: the whole pages inside the block are written. */
static void heap(void)
{
	size_t len = 512 * 1024;
	char *p;
	uintptr_t s, e;

	mallopt(M_MMAP_THRESHOLD, 64 * MIB);	/* stay on the brk heap */
	p = malloc(len);
	if (!p)
		e2e_die("malloc");
	if (p + len > (char *)sbrk(0))
		fprintf(stderr, "target: malloc did not use the brk heap\n");
	s = page_up((uintptr_t)p);
	e = page_down((uintptr_t)p + len);
	fill((void *)s, e - s);
	manifest_region(&m, "heap", s, e, (e - s) / PAGE, (e - s) / PAGE);
}

/* Private mapping of a tmpfs file: 4 pages written (COW), 4 read, 8 untouched. */
static void file_private(const char *dir)
{
	size_t len = 16 * PAGE;
	char path[4096], page[PAGE];
	char *p;
	int fd;

	snprintf(path, sizeof(path), "%s/ckpt-target-%d.dat", dir, (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		e2e_die("open %s", path);
	for (size_t off = 0; off < len; off += PAGE) {
		/* the file's own pattern: by offset, with another seed */
		e2e_fill_page_as(page, off, ~E2E_SEED);
		if (write(fd, page, PAGE) != (ssize_t)PAGE)
			e2e_die("write %s", path);
	}
	p = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);
	close(fd);
	for (int i = 0; i < 4; i++)
		e2e_fill_page(p + i * PAGE, E2E_SEED);
	for (int i = 6; i < 10; i++)
		touch_read(p + i * PAGE);
	escape(p);
	manifest_region(&m, "file_private", (uintptr_t)p, (uintptr_t)p + len, 4, 4);
	manifest_fact(&m, "file %s", path);
}

/*
 * Mappings with flags the VMA record must carry (format 1.1's own bits):
 * "@vmaflags START FLAGS".  ckpt dumps MADV_DONTDUMP memory like any other.
 */
static void anon_flagged(const char *name, unsigned long long flags)
{
	size_t len = 4 * PAGE;
	char *p = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);

	fill(p, len);
	if (((flags & CKPT_VMA_F_DONTDUMP) && madvise(p, len, MADV_DONTDUMP)) ||
	    ((flags & CKPT_VMA_F_DONTCOPY) && madvise(p, len, MADV_DONTFORK)) ||
	    ((flags & CKPT_VMA_F_WIPEONFORK) && madvise(p, len, MADV_WIPEONFORK)) ||
	    ((flags & CKPT_VMA_F_LOCKED) && mlock(p, len)))
		e2e_die("flags of %s", name);
	manifest_region(&m, name, (uintptr_t)p, (uintptr_t)p + len, 4, 4);
	manifest_fact(&m, "vmaflags %#lx %#llx", (unsigned long)p, flags);
}

/* Written, then made read-only / inaccessible: still private data. */
static void anon_protected(const char *name, int prot)
{
	size_t len = 8 * PAGE;
	char *p = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);

	fill(p, len);
	if (mprotect(p, len, prot))
		e2e_die("mprotect %s", name);
	manifest_region(&m, name, (uintptr_t)p, (uintptr_t)p + len, 8, 8);
}

static long smaps_anon_huge_kb(uintptr_t start)
{
	char line[512];
	long kb = -1;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2) {	/* a mapping's first line */
			in = s <= start && start < e;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* 4 MiB, 2 MiB aligned, MADV_HUGEPAGE, every page written. */
static void thp(void)
{
	size_t len = 4 * MIB, align = 2 * MIB;
	char *raw = map(len + align, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1);
	char *p = (char *)(((uintptr_t)raw + align - 1) & ~(align - 1));

	if (p > raw)
		munmap(raw, p - raw);
	munmap(p + len, raw + len + align - (p + len));
	if (madvise(p, len, MADV_HUGEPAGE))
		e2e_die("madvise HUGEPAGE");
	fill(p, len);
	manifest_region(&m, "thp", (uintptr_t)p, (uintptr_t)p + len,
			len / PAGE, len / PAGE);
	manifest_fact(&m, "thp_anon_huge_kb %ld", smaps_anon_huge_kb((uintptr_t)p));
}

/* Shared memory: pages written and pages only read both count. */
static void shared(const char *name, char *p, size_t npages, int written, int nread)
{
	for (int i = 0; i < written; i++)
		e2e_fill_page(p + i * PAGE, E2E_SEED);
	for (int i = 0; i < nread; i++)
		touch_read(p + (written + 2 + i) * PAGE);
	escape(p);
	manifest_region(&m, name, (uintptr_t)p, (uintptr_t)p + npages * PAGE,
			written + nread, written);
}

static void shared_anon(void)
{
	shared("shared_anon", map(16 * PAGE, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1), 16, 8, 2);
}

static void memfd(void)
{
	int fd = memfd_create("ckpt-memfd", 0);

	if (fd < 0 || ftruncate(fd, 16 * PAGE))
		e2e_die("memfd");
	shared("memfd", map(16 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd), 16, 6, 2);
	close(fd);
}

static void sysv_shm(void)
{
	int id = shmget(IPC_PRIVATE, 16 * PAGE, IPC_CREAT | 0600);
	char *p;

	if (id < 0)
		e2e_die("shmget");
	p = shmat(id, NULL, 0);
	if (p == (void *)-1)
		e2e_die("shmat");
	shmctl(id, IPC_RMID, NULL);	/* goes away with the process */
	shared("sysv_shm", p, 16, 5, 0);
}

/* Two LDT entries (0 and 2: three slots), read back raw for the checker. */
static void ldt(void)
{
	unsigned char raw[3 * 8];
	char hex[sizeof(raw) * 2 + 1];

	for (unsigned int i = 0; i < 3; i += 2) {
		struct user_desc d = {
			.entry_number = i,
			.base_addr = 0x10000 * (i + 1),
			.limit = 0xfff,
			.seg_32bit = 1,
			.limit_in_pages = 1,
			.useable = 1,
		};
		if (syscall(SYS_modify_ldt, 1, &d, sizeof(d)))
			e2e_die("modify_ldt");
	}
	if (syscall(SYS_modify_ldt, 0, raw, sizeof(raw)) != (long)sizeof(raw))
		e2e_die("modify_ldt read");
	for (size_t i = 0; i < sizeof(raw); i++)
		sprintf(hex + 2 * i, "%02x", raw[i]);
	manifest_fact(&m, "ldt 3 %s", hex);
}

static void on_usr1(int sig, siginfo_t *info, void *uc)
{
	(void)sig;
	(void)info;
	(void)uc;
}

/* "@fd FD KIND POS F_FLAGS CLOEXEC SIZE": what its FILE record must say. */
static void fd_fact(int fd, unsigned int kind, long long pos, int flags, int cloexec)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		e2e_die("descriptor of kind %u", kind);
	manifest_fact(&m, "fd %d %u %lld %#o %d %lld", fd, kind, pos, flags, cloexec,
		      S_ISREG(st.st_mode) ? (long long)st.st_size : -1LL);
}

/*
 * What the PROCESS and FILE records must carry: a umask, a handler and an
 * ignored signal, a lowered limit, and one descriptor of each common kind
 * (one opened O_CLOEXEC whose FD_CLOEXEC was cleared since).
 */
static void process_state(const char *dir)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct rlimit rl;
	char path[4096];
	int fd, p[2], s[2];

	umask(027);
	manifest_fact(&m, "umask %o", 027);
	/* a kernel without CONFIG_COREDUMP (the debug test kernel) has no file */
	fd = open("/proc/self/coredump_filter", O_WRONLY);
	if (fd < 0 && errno != ENOENT)
		e2e_die("coredump_filter");
	if (fd >= 0) {
		if (write(fd, "0x37", 4) != 4 || close(fd))
			e2e_die("coredump_filter");
		manifest_fact(&m, "coredump_filter 0x37");
	}
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	if (sigaction(SIGUSR1, &sa, NULL))
		e2e_die("sigaction");
	/* not signal(): glibc's adds SA_RESTART and the signal to the mask */
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL))
		e2e_die("sigaction");
	manifest_fact(&m, "sigaction %d %#lx %#x %#llx", SIGUSR1, (unsigned long)on_usr1,
		      SA_SIGINFO | SA_RESTART, 1ULL << (SIGUSR2 - 1));
	manifest_fact(&m, "sigaction %d 0x1 0 0", SIGPIPE);
	if (getrlimit(RLIMIT_CORE, &rl))
		e2e_die("getrlimit");
	rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
	if (setrlimit(RLIMIT_CORE, &rl))
		e2e_die("setrlimit");
	manifest_fact(&m, "rlimit %d %llu %llu", RLIMIT_CORE, (unsigned long long)rl.rlim_cur,
		      (unsigned long long)rl.rlim_max);

	snprintf(path, sizeof(path), "%s/ckpt-target-%d.fds", dir, (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 8192) || lseek(fd, 777, SEEK_SET) != 777)
		e2e_die("open %s", path);
	fd_fact(fd, CKPT_FILE_REGULAR, 777, O_RDWR, 1);
	fd_fact(open(path, O_WRONLY | O_APPEND), CKPT_FILE_REGULAR, 0, O_WRONLY | O_APPEND, 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fcntl(fd, F_SETFD, 0))
		e2e_die("open %s", path);
	fd_fact(fd, CKPT_FILE_REGULAR, 0, O_RDONLY, 0);
	if (pipe2(p, O_NONBLOCK))
		e2e_die("pipe2");
	fd_fact(p[0], CKPT_FILE_FIFO, 0, O_RDONLY | O_NONBLOCK, 0);
	fd_fact(p[1], CKPT_FILE_FIFO, 0, O_WRONLY | O_NONBLOCK, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s))
		e2e_die("socketpair");
	fd_fact(s[0], CKPT_FILE_SOCKET, 0, O_RDWR, 1);
	fd_fact(eventfd(0, EFD_CLOEXEC), CKPT_FILE_ANON, 0, O_RDWR, 1);
	fd_fact(open("/dev/null", O_WRONLY), CKPT_FILE_CHAR, 0, O_WRONLY, 0);
	fd_fact(open(dir, O_RDONLY | O_DIRECTORY), CKPT_FILE_DIRECTORY, 0, O_RDONLY | O_DIRECTORY, 0);
}

static void *thread_main(void *arg)
{
	char buf[THREAD_BUF + PAGE];
	uintptr_t s = page_up((uintptr_t)buf), e = s + THREAD_BUF;
	char name[32];

	fill((void *)s, e - s);
	snprintf(name, sizeof(name), "thread%ld", (long)(intptr_t)arg);
	/* the manifest is written by one thread at a time: the barrier orders it */
	flockfile(m.f);
	manifest_region(&m, name, s, e, (e - s) / PAGE, (e - s) / PAGE);
	funlockfile(m.f);
	pthread_barrier_wait(&ready);
	for (;;)
		pause();
	return NULL;
}

static void threads(void)
{
	pthread_t t;

	pthread_barrier_init(&ready, NULL, NR_THREADS + 1);
	for (long i = 0; i < NR_THREADS; i++)
		if ((errno = pthread_create(&t, NULL, thread_main, (void *)i)))
			e2e_die("pthread_create");
	pthread_barrier_wait(&ready);
	manifest_fact(&m, "threads %d", NR_THREADS + 1);
}

int main(int argc, char **argv)
{
	char stack[64 * 1024 + PAGE];
	uintptr_t s = page_up((uintptr_t)stack), e = page_down((uintptr_t)stack + sizeof(stack));

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s MANIFEST [DATADIR]\n", argv[0]);
		return 1;
	}
	manifest_open(&m, argv[1]);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_fact(&m, "seed %#llx", (unsigned long long)E2E_SEED);

	fill((void *)s, e - s);
	manifest_region(&m, "stack", s, e, (e - s) / PAGE, (e - s) / PAGE);
	anon_dense();
	anon_sparse();
	anon_dontneed();
	heap();
	file_private(argc > 2 ? argv[2] : "/tmp");
	anon_protected("anon_readonly", PROT_READ);
	anon_protected("anon_protnone", PROT_NONE);
	thp();
	shared_anon();
	memfd();
	sysv_shm();
	ldt();
	anon_flagged("anon_locked", CKPT_VMA_F_LOCKED | CKPT_VMA_F_DONTDUMP | CKPT_VMA_F_DONTCOPY);
	anon_flagged("anon_wipeonfork", CKPT_VMA_F_WIPEONFORK);
	process_state(argc > 2 ? argv[2] : "/tmp");
	threads();
	manifest_close(&m);

	for (;;)
		pause();
}
