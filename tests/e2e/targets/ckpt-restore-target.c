// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-restore-target: a deterministic computation whose state is spread
 * over everything a restore must bring back, for the restore tests.
 *
 *   ckpt-restore-target MANIFEST DATAFILE|- [threads]
 *
 * With "threads", three more threads each compute with their own
 * thread-local state and then wait for the main thread's byte: two in a
 * futex (pthread_cond_wait), one in a nanosleep() loop with a gs base of
 * its own (arch_prctl); their results, and that gs base, go into the hash.
 *
 * Mixes a hash over many steps with state in general and SSE registers
 * (a value held in %xmm8..%xmm15 across a system call, by assembly), in
 * thread-local storage, on a growing heap (brk and mmap), on the stack
 * (recursion), and in a private mapping of DATAFILE (written, so partly
 * copied on write; "-": anonymous memory with a fixed pattern instead, and
 * no descriptor, so that a run is the same on every machine); reads one
 * byte from a regular descriptor of DATAFILE
 * at its offset; maps 4 pages MAP_NORESERVE with MADV_NOHUGEPAGE,
 * MADV_WIPEONFORK and MADV_DONTFORK, and 4 with MADV_DONTDUMP, data in
 * each.  Then writes its manifest ("@pid N") and blocks in
 * read(0) for one byte: the moment to dump it.  Once the byte comes it
 * raises SIGUSR1 (a handler counts), computes as much again, prints
 * "vmflags OK" if both mappings still have their attributes (in
 * /proc/self/smaps) and data, else "vmflags LOST ...", then "clock OK"
 * if the C library's vDSO calls (clock_gettime, gettimeofday, time,
 * sched_getcpu) answer sanely, then "pending OK" if SIGUSR2 and
 * SIGRTMIN+3 (queued with a value) are still pending for the main thread
 * and SIGHUP and SIGRTMIN+2 (queued twice, two values) for the process,
 * each with the siginfo it was sent with, in order (all blocked, sent
 * before the dump), then "segments OK" if the LDT, the GDT TLS
 * entry and ds and es are as set before the dump (below), then "shmem OK"
 * if a memfd mapped twice is still one memory with its data and a removed
 * SysV segment still holds its data, then "shared OK" if two pages of DATAFILE.shm,
 * mapped MAP_SHARED and written before the dump, still hold what was
 * written (not with "-"), then "result HASH signals N xmm OK|BAD"
 * and exits with status 42.  An
 * uninterrupted run and a dumped, killed and restored one print the same.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/ldt.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/manifest.h"

#define STEPS 4000
#define PAGE 4096

static __thread uint64_t tls_mix = 0x1234567;
static volatile sig_atomic_t signals;
static uint64_t *heap_small[64];
static uint64_t *heap_big;
static uint8_t *file_map;
static uint8_t *shared_map;	/* MAP_SHARED of DATAFILE.shm, NULL with "-" */
static int data_fd;
static uint8_t *tuned_map, *nodump_map;

static uint8_t *map_tuned(const int *advice, int n)
{
	uint8_t *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		e2e_die("mmap");
	for (int i = 0; i < n; i++)
		if (madvise(p, 4 * PAGE, advice[i]))
			e2e_die("madvise %d", advice[i]);
	for (int i = 0; i < 4 * PAGE; i++)
		p[i] = (uint8_t)(i * 13 + (uintptr_t)p / PAGE);
	return p;
}

/* Whether the VMA at @p has each of the smaps VmFlags mnemonics in @want
 * and still its data; on the first that is missing, says so. */
static int vmflags_ok(const uint8_t *p, const char *const *want, int n)
{
	char line[512], head[32];
	int found = 0, ok = 1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		e2e_die("/proc/self/smaps");
	snprintf(head, sizeof(head), "%lx-", (unsigned long)p);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, head, strlen(head)))
			found = 1;
		else if (found && !strncmp(line, "VmFlags:", 8))
			break;
	}
	fclose(f);
	if (!found) {
		printf("vmflags LOST: no VMA at %p\n", (void *)p);
		return 0;
	}
	for (int i = 0; i < n && ok; i++) {
		char word[8];

		snprintf(word, sizeof(word), " %s", want[i]);
		if (!strstr(line + 8, word)) {
			printf("vmflags LOST: %s missing at %p:%s", want[i], (void *)p, line + 8);
			ok = 0;
		}
	}
	for (int i = 0; i < 4 * PAGE && ok; i++)
		if (p[i] != (uint8_t)(i * 13 + (uintptr_t)p / PAGE)) {
			printf("vmflags LOST: data at %p\n", (void *)(p + i));
			ok = 0;
		}
	return ok;
}

static void on_usr1(int sig)
{
	(void)sig;
	signals++;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t recurse(uint64_t h, int depth)
{
	volatile uint64_t local[16];

	for (int i = 0; i < 16; i++)
		local[i] = mix(h, (uint64_t)(depth * 16 + i));
	if (depth == 0)
		return local[15];
	return mix(recurse(local[depth % 16], depth - 1), local[3]);
}

static uint64_t step(uint64_t h, int i)
{
	double x = (double)(h & 0xffff) / 65536.0 + i;

	for (int k = 0; k < 8; k++)
		x = x * 1.000001 + 0.5 / (k + 1.0);
	h = mix(h, (uint64_t)(x * 1e6));
	tls_mix = mix(tls_mix, h);
	heap_small[i % 64][i % 512] ^= h;
	heap_big[(h >> 8) % (1 << 17)] += h;
	file_map[(h >> 16) % (16 * PAGE)] ^= (uint8_t)h;
	if (i % 97 == 0)
		h = mix(h, recurse(h, 24));
	return mix(h, tls_mix ^ heap_small[(i * 7) % 64][(i * 5) % 512]);
}

/*
 * Two pages of DATAFILE.shm (created once, never truncated: every run maps
 * the same inode) mapped shared and written with a fixed pattern before
 * the dump; after it they are only read.
 */
static void map_shared(const char *datafile)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s.shm", datafile);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 2 * PAGE))
		e2e_die("open %s", path);
	shared_map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (shared_map == MAP_FAILED)
		e2e_die("mmap %s", path);
	close(fd);
	for (int i = 0; i < 2 * PAGE; i++)
		shared_map[i] = (uint8_t)(i * 31 + 7);
}

static int shared_ok(void)
{
	for (int i = 0; i < 2 * PAGE; i++)
		if (shared_map[i] != (uint8_t)(i * 31 + 7))
			return 0;
	return 1;
}

/*
 * Shared memory with no path: a memfd mapped twice, read-write (4 pages)
 * and read-only from its second page (3 pages), as a JIT maps its code,
 * its descriptor closed; and a SysV segment of 2 pages, removed (IPC_RMID)
 * while attached.  Both written before the dump.
 */
static uint8_t *memfd_rw, *memfd_ro, *sysv_map;

static void map_shmem(void)
{
	int fd = memfd_create("ckpt-jit", MFD_CLOEXEC);
	int id;

	if (fd < 0 || ftruncate(fd, 4 * PAGE))
		e2e_die("memfd_create");
	memfd_rw = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	memfd_ro = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
	if (memfd_rw == MAP_FAILED || memfd_ro == MAP_FAILED)
		e2e_die("mmap memfd");
	close(fd);
	for (int i = 0; i < 4 * PAGE; i += 8)
		memfd_rw[i] = (uint8_t)(i / 8 * 5 + 1);
	id = shmget(IPC_PRIVATE, 2 * PAGE, IPC_CREAT | 0600);
	if (id < 0)
		e2e_die("shmget");
	sysv_map = shmat(id, NULL, 0);
	if (sysv_map == (void *)-1)
		e2e_die("shmat");
	shmctl(id, IPC_RMID, NULL);
	for (int i = 0; i < 2 * PAGE; i++)
		sysv_map[i] = (uint8_t)(i * 3 + 2);
}

/*
 * The data, both views of one memory still (a write shows through the
 * other), the segment's data: NULL, or which of them failed, where, and
 * the byte found against the one expected.
 */
static const char *shmem_bad(void)
{
	static char why[96];
	const char *what = NULL;
	int at = 0, got = 0, want = 0;

	for (int i = 0; i < 4 * PAGE && !what; i += 8)
		if (memfd_rw[i] != (uint8_t)(i / 8 * 5 + 1))
			what = "memfd-data", at = i, got = memfd_rw[i], want = (uint8_t)(i / 8 * 5 + 1);
	for (int i = 0; i < 3 * PAGE && !what; i++)
		if (memfd_ro[i] != memfd_rw[PAGE + i])
			what = "memfd-views", at = PAGE + i, got = memfd_ro[i], want = memfd_rw[PAGE + i];
	if (!what) {
		memfd_rw[2 * PAGE + 5] = 0xa5;
		if (memfd_ro[PAGE + 5] != 0xa5)
			what = "memfd-write-through", at = 2 * PAGE + 5, got = memfd_ro[PAGE + 5], want = 0xa5;
	}
	for (int i = 0; i < 2 * PAGE && !what; i++)
		if (sysv_map[i] != (uint8_t)(i * 3 + 2))
			what = "sysv-data", at = i, got = sysv_map[i], want = (uint8_t)(i * 3 + 2);
	if (!what)
		return NULL;
	snprintf(why, sizeof(why), "%s at %#x: %#x, not %#x", what, at, got, want);
	return why;
}

/* A hex mask line ("SigPnd:\t0000000000000800") of /proc/thread-self/status. */
static unsigned long long status_mask(const char *key)
{
	unsigned long long v = 0;
	char line[256];
	FILE *f = fopen("/proc/thread-self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			sscanf(line + strlen(key), "%llx", &v);
	if (f)
		fclose(f);
	return v;
}

/* SIGUSR2 pending for the main thread, SIGHUP for the process: blocked. */
static pid_t first_pid;	/* the pid the signals were sent from (the same after a restore, or not) */

static void make_pending(void)
{
	const int sigs[] = { SIGHUP, SIGUSR2, SIGRTMIN + 2, SIGRTMIN + 3 };
	sigset_t set;
	siginfo_t info = { 0 };

	sigemptyset(&set);
	for (int i = 0; i < 4; i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL))	/* before the workers: theirs too */
		e2e_die("sigprocmask");
	first_pid = getpid();
	if (kill(getpid(), SIGHUP) || syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2))
		e2e_die("kill");
	/* Queued with values: twice for the process, once for this thread. */
	if (sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = 1111 }) ||
	    sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = 2222 }))
		e2e_die("sigqueue");
	info.si_signo = SIGRTMIN + 3;
	info.si_code = SI_QUEUE;
	info.si_pid = getpid();
	info.si_uid = getuid();
	info.si_value.sival_int = 3333;
	if (syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGRTMIN + 3, &info))
		e2e_die("rt_tgsigqueueinfo");
}

/*
 * The next pending instance of `sig` is from this process, and one queued
 * with sigqueue() has `value` (kill's and tgkill's si_code is left out: it
 * differs between kernels).
 */
static int took(int sig, int code, int value)
{
	const struct timespec now = { 0, 0 };
	siginfo_t info;
	sigset_t one;

	sigemptyset(&one);
	sigaddset(&one, sig);
	return sigtimedwait(&one, &info, &now) == sig && info.si_pid == first_pid &&
	       (code != SI_QUEUE || (info.si_code == SI_QUEUE && info.si_value.sival_int == value));
}

/*
 * Pending as sent: the masks (the main thread's own and the process's),
 * then each siginfo in order, and nothing more.
 */
static int pending_ok(void)
{
	const struct timespec now = { 0, 0 };
	sigset_t left;

	if (status_mask("SigPnd:") != (1ULL << (SIGUSR2 - 1) | 1ULL << (SIGRTMIN + 3 - 1)) ||
	    status_mask("ShdPnd:") != (1ULL << (SIGHUP - 1) | 1ULL << (SIGRTMIN + 2 - 1)))
		return 0;
	if (!took(SIGHUP, SI_USER, 0) || !took(SIGUSR2, SI_TKILL, 0) ||
	    !took(SIGRTMIN + 2, SI_QUEUE, 1111) || !took(SIGRTMIN + 2, SI_QUEUE, 2222) ||
	    !took(SIGRTMIN + 3, SI_QUEUE, 3333))
		return 0;
	sigemptyset(&left);
	sigaddset(&left, SIGRTMIN + 2);
	return sigtimedwait(&left, NULL, &now) < 0;
}

/*
 * The C library's vDSO calls, through the pointers it took at start-up:
 * after a restore on another kernel they land in the restorer's proxy.
 */
static int clocks_ok(void)
{
	struct timespec mono, real;
	struct timeval tv;
	time_t t = time(NULL);

	return clock_gettime(CLOCK_MONOTONIC, &mono) == 0 && mono.tv_sec >= 0 &&
	       clock_gettime(CLOCK_REALTIME, &real) == 0 && gettimeofday(&tv, NULL) == 0 &&
	       t > 1000000000 && real.tv_sec >= t && tv.tv_sec >= t && sched_getcpu() >= 0;
}

/* read(0) for one byte with a value held in %xmm8..%xmm15 across it. */
static int blocking_read_keeps_xmm(uint64_t v)
{
	uint64_t back[8];
	long ret;
	char c;

	asm volatile(
		"movq %[v], %%xmm8\n\t"
		"movq %%xmm8, %%xmm9\n\t"
		"movq %%xmm8, %%xmm10\n\t"
		"movq %%xmm8, %%xmm11\n\t"
		"movq %%xmm8, %%xmm12\n\t"
		"movq %%xmm8, %%xmm13\n\t"
		"movq %%xmm8, %%xmm14\n\t"
		"movq %%xmm8, %%xmm15\n\t"
		"xor %%edi, %%edi\n\t"
		"lea %[c], %%rsi\n\t"
		"mov $1, %%edx\n\t"
		"xor %%eax, %%eax\n\t"
		"syscall\n\t"
		"mov %%rax, %[ret]\n\t"
		"movq %%xmm8, 0(%[back])\n\t"
		"movq %%xmm9, 8(%[back])\n\t"
		"movq %%xmm10, 16(%[back])\n\t"
		"movq %%xmm11, 24(%[back])\n\t"
		"movq %%xmm12, 32(%[back])\n\t"
		"movq %%xmm13, 40(%[back])\n\t"
		"movq %%xmm14, 48(%[back])\n\t"
		"movq %%xmm15, 56(%[back])\n\t"
		: [ret] "=r"(ret), [c] "=m"(c)
		: [v] "r"(v), [back] "r"(back)
		: "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	if (ret != 1)
		e2e_die("read(0) returned %ld", ret);
	for (int i = 0; i < 8; i++)
		if (back[i] != v)
			return 0;
	return 1;
}

/*
 * x86 segments: an LDT of three slots (entries 0 and 2), es loaded with
 * LDT entry 2; where the kernel has 32-bit system calls, a GDT TLS entry
 * (set_thread_area through int $0x80, from memory below 4 GiB) with ds
 * loaded from it.  Threads started later inherit all of it; the gs-base
 * worker loads es with LDT entry 0 and hashes it.
 */
#define LDT_SEL(i) ((i) << 3 | 4 | 3)
static unsigned char ldt_raw[3 * 8];
static struct user_desc *tls_desc;	/* below 4 GiB */
static unsigned int tls_sel;
static unsigned long ldt_limit, ldt_rights;

static long int80(long nr, void *arg)
{
	long ret;

	asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(arg) : "memory");
	return ret;
}

/* Whether int $0x80 works here: asked in a child (without IA32 emulation it dies). */
static int have_ia32(void)
{
	pid_t child = fork();
	int status;

	if (child == 0)
		_exit(int80(244, tls_desc) == 0 ? 0 : 1);	/* get_thread_area */
	return child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

static unsigned short read_ds(void)
{
	unsigned short v;

	asm volatile("mov %%ds, %0" : "=r"(v));
	return v;
}

static unsigned short read_es(void)
{
	unsigned short v;

	asm volatile("mov %%es, %0" : "=r"(v));
	return v;
}

static void set_segments(void)
{
	unsigned short es = LDT_SEL(2);

	for (unsigned int i = 0; i < 3; i += 2) {
		struct user_desc d = {
			.entry_number = i,
			.base_addr = 0x10000 * (i + 1),
			.limit = 0xfff,
			.seg_32bit = 1,
			.limit_in_pages = 1,
			.useable = 1,
		};
		if (syscall(SYS_modify_ldt, 0x11, &d, sizeof(d)))
			e2e_die("modify_ldt");
	}
	if (syscall(SYS_modify_ldt, 0, ldt_raw, sizeof(ldt_raw)) != (long)sizeof(ldt_raw))
		e2e_die("modify_ldt read");
	asm volatile("mov %0, %%es" : : "r"(es));
	asm volatile("lsl %1, %0" : "=r"(ldt_limit) : "r"((unsigned long)es));
	asm volatile("lar %1, %0" : "=r"(ldt_rights) : "r"((unsigned long)es));

	tls_desc = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (tls_desc == MAP_FAILED)
		e2e_die("mmap MAP_32BIT");
	tls_desc->entry_number = 12;
	if (!have_ia32())
		return;
	*tls_desc = (struct user_desc){
		.entry_number = -1,
		.base_addr = 0x20000,
		.limit = 0xff,
		.seg_32bit = 1,
		.useable = 1,
	};
	if (int80(243, tls_desc))	/* set_thread_area */
		e2e_die("set_thread_area");
	tls_sel = tls_desc->entry_number << 3 | 3;
	asm volatile("mov %0, %%ds" : : "r"((unsigned short)tls_sel));
}

/* The LDT, the TLS entry and ds and es as they were set. */
static int segments_ok(void)
{
	unsigned char raw[sizeof(ldt_raw) + 8];	/* read_ldt() zero-fills past the table */
	static const unsigned char zero[8];
	unsigned long limit = 0, rights = 0;

	if (syscall(SYS_modify_ldt, 0, raw, sizeof(raw)) != (long)sizeof(raw) ||
	    memcmp(raw, ldt_raw, sizeof(ldt_raw)) || memcmp(raw + sizeof(ldt_raw), zero, 8))
		return 0;
	asm volatile("lsl %1, %0" : "=r"(limit) : "r"((unsigned long)LDT_SEL(2)));
	asm volatile("lar %1, %0" : "=r"(rights) : "r"((unsigned long)LDT_SEL(2)));
	if (limit != ldt_limit || rights != ldt_rights || read_es() != LDT_SEL(2))
		return 0;
	if (!tls_sel)
		return 1;
	struct user_desc want = *tls_desc;

	memset(tls_desc, 0, sizeof(*tls_desc));
	tls_desc->entry_number = want.entry_number;
	return int80(244, tls_desc) == 0 && !memcmp(tls_desc, &want, sizeof(want)) &&
	       read_ds() == tls_sel;
}

#define WORKERS 3

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int ready, go;
static uint64_t results[WORKERS];

static void *worker(void *arg)
{
	const int id = (int)(uintptr_t)arg;
	uint64_t h = 0x100 + (uint64_t)id;

	for (int i = 0; i < STEPS / 4; i++)
		h = mix(h, tls_mix = mix(tls_mix, (uint64_t)i));
	pthread_mutex_lock(&lock);
	ready++;
	if (id < 2) {
		while (!go)
			pthread_cond_wait(&wake, &lock);
		pthread_mutex_unlock(&lock);
	} else {
		pthread_mutex_unlock(&lock);
		/* A gs base of the program's own (fs is the C library's). */
		if (syscall(SYS_arch_prctl, ARCH_SET_GS, 0x5a5a0000UL + id))
			e2e_die("arch_prctl(ARCH_SET_GS)");
		asm volatile("mov %0, %%es" : : "r"((unsigned short)LDT_SEL(0)));
		for (;;) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			pthread_mutex_lock(&lock);
			if (go)
				break;
			pthread_mutex_unlock(&lock);
			nanosleep(&ts, NULL);
		}
		pthread_mutex_unlock(&lock);
	}
	if (id >= 2) {
		unsigned long gs = 0;

		syscall(SYS_arch_prctl, ARCH_GET_GS, &gs);
		h = mix(h, gs);
		h = mix(h, read_es());
	}
	for (int i = 0; i < STEPS / 4; i++)
		h = mix(h, tls_mix = mix(tls_mix, h));
	results[id] = h;
	return NULL;
}

int main(int argc, char **argv)
{
	struct manifest m;
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned char byte;
	int xmm_ok;

	pthread_t threads[WORKERS];
	int nr_workers = 0;

	if (argc != 3 && !(argc == 4 && !strcmp(argv[3], "threads"))) {
		fprintf(stderr, "usage: %s MANIFEST DATAFILE [threads]\n", argv[0]);
		return 2;
	}
	if (argc == 4)
		nr_workers = WORKERS;
	signal(SIGUSR1, on_usr1);
	for (int i = 0; i < 64; i++)
		heap_small[i] = calloc(512, sizeof(uint64_t));
	heap_big = calloc(1 << 17, sizeof(uint64_t));	/* 1 MiB: mmap */
	if (!strcmp(argv[2], "-")) {
		/* No file: the same on every machine (cross-kernel restore). */
		data_fd = -1;
		file_map = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (file_map == MAP_FAILED)
			e2e_die("mmap");
		for (int i = 0; i < 16 * PAGE; i++)
			file_map[i] = (uint8_t)(i * 7);
	} else {
		data_fd = open(argv[2], O_RDONLY);
		if (data_fd < 0)
			e2e_die("open %s", argv[2]);
		file_map = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, data_fd, 0);
		if (file_map == MAP_FAILED)
			e2e_die("mmap %s", argv[2]);
		if (lseek(data_fd, 5000, SEEK_SET) != 5000)
			e2e_die("lseek");
		map_shared(argv[2]);
	}
	{
		static const int tuned[] = { MADV_NOHUGEPAGE, MADV_WIPEONFORK, MADV_DONTFORK };
		static const int nodump[] = { MADV_DONTDUMP };

		tuned_map = map_tuned(tuned, 3);
		nodump_map = map_tuned(nodump, 1);
	}

	for (int i = 0; i < STEPS; i++)
		h = step(h, i);

	make_pending();
	set_segments();
	map_shmem();
	for (int i = 0; i < nr_workers; i++)
		if (pthread_create(&threads[i], NULL, worker, (void *)(uintptr_t)i))
			e2e_die("pthread_create");
	for (;;) {
		pthread_mutex_lock(&lock);
		if (ready == nr_workers)
			break;
		pthread_mutex_unlock(&lock);
		usleep(1000);	/* until every worker waits: no timing involved */
	}
	pthread_mutex_unlock(&lock);

	manifest_open(&m, argv[1]);
	manifest_fact(&m, "pid %d", (int)getpid());
	manifest_close(&m);
	xmm_ok = blocking_read_keeps_xmm(h);

	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < nr_workers; i++) {
		pthread_join(threads[i], NULL);
		h = mix(h, results[i]);
	}
	raise(SIGUSR1);
	byte = 0x5a;
	if (data_fd >= 0 && read(data_fd, &byte, 1) != 1)
		e2e_die("read %s", argv[2]);
	h = mix(h, byte);
	for (int i = STEPS; i < 2 * STEPS; i++)
		h = step(h, i);
	{
		static const char *const tuned[] = { "nr", "nh", "wf", "dc" };
		static const char *const nodump[] = { "nr", "dd" };

		if (vmflags_ok(tuned_map, tuned, 4) && vmflags_ok(nodump_map, nodump, 2))
			printf("vmflags OK\n");
	}
	printf("clock %s\n", clocks_ok() ? "OK" : "BAD");
	printf("pending %s\n", pending_ok() ? "OK" : "LOST");
	printf("segments %s\n", segments_ok() ? "OK" : "LOST");
	{
		const char *bad = shmem_bad();

		printf("shmem %s%s\n", bad ? "BAD " : "OK", bad ? bad : "");
	}
	if (shared_map)
		printf("shared %s\n", shared_ok() ? "OK" : "BAD");
	printf("result %016llx signals %d xmm %s\n", (unsigned long long)h, (int)signals, xmm_ok ? "OK" : "BAD");
	fflush(stdout);
	return 42;
}
