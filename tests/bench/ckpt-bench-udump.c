// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-bench-udump: the userspace way to dump a process's memory, for the
 * benchmark to compare ckpt with.  It is CRIU's mechanism without the
 * parasite: /proc/PID/maps for the VMAs, /proc/PID/pagemap for the pages
 * that hold data, process_vm_readv(2) to copy them.  It takes the pages ckpt
 * takes (Documentation/image-format.md, "Which pages"): present or swapped
 * pages that are not the zero page, and in private file mappings only the
 * copied-on-write ones; nothing from [vdso], [vvar] or [vsyscall].
 *
 *   ckpt-bench-udump [--fault-all] PID OUTPUT
 *	stop PID (SIGSTOP, wait for every thread), dump, resume (SIGCONT);
 *	print "pages=N bytes=B downtime_ns=D".  --fault-all first reads every
 *	page of every VMA through /proc/PID/mem, faulting each one in: the
 *	seed patch's scan, for reference.
 *   ckpt-bench-udump --check OUTPUT MANIFEST
 *	check OUTPUT against a target's manifest: every region holds exactly
 *	its expected pages, each with its pattern.  Exit 0 if so.
 *
 * OUTPUT is a stream of batches: a header (u64 "udumprun", u64 nr_runs),
 * nr_runs (u64 addr, u64 nr_pages) pairs, then the runs' pages in order.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../e2e/lib/e2e.h"

#define PAGE		E2E_PAGE_SIZE
#define RUN_MAGIC	0x6e7572706d756475ULL	/* "udumprun" */
#define MAX_RUNS	1024			/* IOV_MAX */
#define BUF_PAGES	1024			/* 4 MiB of pages per batch */
#define PM_CHUNK	65536			/* pagemap entries per read */

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_FILE		(1ULL << 61)
#define PM_PFN		((1ULL << 55) - 1)

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct {
	pid_t pid;
	int out, pagemap, mem;
	uint64_t zero_pfn;
	uint64_t runs[MAX_RUNS][2];
	struct iovec remote[MAX_RUNS];
	int nr_runs;
	long buffered;			/* pages in buf */
	char *buf;
	uint64_t pages, bytes;
} d;

static void put(const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(d.out, c, n);

		if (w < 0)
			die("write");
		c += w;
		n -= w;
		d.bytes += w;
	}
}

/* Copy the gathered runs out of the target and write the batch. */
static void flush(void)
{
	struct iovec local = { d.buf, d.buffered * PAGE };
	uint64_t hdr[2] = { RUN_MAGIC, d.nr_runs };
	ssize_t got;

	if (!d.nr_runs)
		return;
	got = process_vm_readv(d.pid, &local, 1, d.remote, d.nr_runs, 0);
	if (got < 0)
		got = 0;
	/* PROT_NONE pages: process_vm_readv does not force; /proc/PID/mem does. */
	for (int i = 0; (size_t)got < local.iov_len && i < d.nr_runs; i++) {
		uint64_t off = 0, len = d.runs[i][1] * PAGE;

		for (int j = 0; j < i; j++)
			off += d.runs[j][1] * PAGE;
		if ((size_t)got >= off + len)
			continue;
		if (pread(d.mem, d.buf + off, len, d.runs[i][0]) != (ssize_t)len)
			die("read /proc/PID/mem");
		got = off + len;
	}
	put(hdr, sizeof(hdr));
	put(d.runs, d.nr_runs * sizeof(d.runs[0]));
	put(d.buf, local.iov_len);
	d.pages += d.buffered;
	d.nr_runs = 0;
	d.buffered = 0;
}

static void take(uint64_t addr)
{
	int n = d.nr_runs;

	if (n && d.runs[n - 1][0] + d.runs[n - 1][1] * PAGE == addr) {
		d.runs[n - 1][1]++;
		d.remote[n - 1].iov_len += PAGE;
	} else {
		if (n == MAX_RUNS) {
			flush();
			n = 0;
		}
		d.runs[n][0] = addr;
		d.runs[n][1] = 1;
		d.remote[n].iov_base = (void *)(uintptr_t)addr;
		d.remote[n].iov_len = PAGE;
		d.nr_runs = n + 1;
	}
	if (++d.buffered == BUF_PAGES)
		flush();
}

static void fault_all(uint64_t start, uint64_t end)
{
	static char sink[1 << 20];

	for (uint64_t a = start; a < end; a += sizeof(sink)) {
		size_t n = end - a < sizeof(sink) ? end - a : sizeof(sink);

		if (pread(d.mem, sink, n, a) < 0)
			return;		/* e.g. VM_IO: nothing to fault */
	}
}

static void dump_vma(uint64_t start, uint64_t end, int file_private)
{
	static uint64_t pm[PM_CHUNK];

	for (uint64_t a = start; a < end;) {
		uint64_t n = (end - a) / PAGE;

		if (n > PM_CHUNK)
			n = PM_CHUNK;
		if (pread(d.pagemap, pm, n * 8, a / PAGE * 8) != (ssize_t)(n * 8))
			die("read /proc/PID/pagemap");
		for (uint64_t i = 0; i < n; i++, a += PAGE) {
			uint64_t e = pm[i];

			if (!(e & (PM_PRESENT | PM_SWAP)))
				continue;
			if ((e & PM_PRESENT) && (e & PM_PFN) == d.zero_pfn)
				continue;
			if (file_private && (e & PM_FILE))
				continue;
			take(a);
		}
	}
}

/* The zero page's PFN, from a page of our own that only read it. */
static uint64_t find_zero_pfn(void)
{
	volatile char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t e;
	int fd;

	if (p == MAP_FAILED)
		die("mmap");
	(void)p[0];
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0 || pread(fd, &e, 8, (uintptr_t)p / PAGE * 8) != 8)
		die("/proc/self/pagemap");
	close(fd);
	if (!(e & PM_PRESENT) || !(e & PM_PFN)) {
		fprintf(stderr, "udump: no PFNs in pagemap (need CAP_SYS_ADMIN)\n");
		exit(2);
	}
	return e & PM_PFN;
}

static int all_stopped(void)
{
	char path[320], buf[512], *p;
	struct dirent *de;
	DIR *dir;
	int ok = 1;

	snprintf(path, sizeof(path), "/proc/%d/task", d.pid);
	dir = opendir(path);
	if (!dir)
		die(path);
	while ((de = readdir(dir)) && ok) {
		ssize_t n;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", d.pid, de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		p = strrchr(buf, ')');
		ok = p && p[1] == ' ' && p[2] == 'T';
	}
	closedir(dir);
	return ok;
}

static int dump(pid_t pid, const char *output, int fault)
{
	char path[64], line[4096];
	uint64_t t_stop, t_cont;
	FILE *maps;

	d.pid = pid;
	d.zero_pfn = find_zero_pfn();
	d.buf = aligned_alloc(PAGE, BUF_PAGES * PAGE);
	if (!d.buf)
		die("malloc");
	d.out = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (d.out < 0)
		die(output);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	d.pagemap = open(path, O_RDONLY);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	d.mem = open(path, O_RDONLY);
	if (d.pagemap < 0 || d.mem < 0)
		die(path);

	t_stop = now_ns();
	if (kill(pid, SIGSTOP))
		die("SIGSTOP");
	while (!all_stopped())
		usleep(100);

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = fopen(path, "r");
	if (!maps)
		die(path);
	while (fgets(line, sizeof(line), maps)) {
		unsigned long long start, end, ino;
		char perms[8], name[4096] = "";

		if (sscanf(line, "%llx-%llx %7s %*x %*x:%*x %llu %4095[^\n]",
			   &start, &end, perms, &ino, name) < 4)
			continue;
		if (!strcmp(name, "[vdso]") || !strncmp(name, "[vvar", 5) ||
		    !strcmp(name, "[vsyscall]"))
			continue;
		if (fault)
			fault_all(start, end);
		dump_vma(start, end, perms[3] == 'p' && ino != 0);
	}
	fclose(maps);
	flush();
	t_cont = now_ns();
	if (kill(pid, SIGCONT))
		die("SIGCONT");
	if (close(d.out))
		die("close");
	printf("pages=%" PRIu64 " bytes=%" PRIu64 " downtime_ns=%" PRIu64 "\n",
	       d.pages, d.bytes, t_cont - t_stop);
	return 0;
}

/* --check: the output against a manifest, as ckpt-imgcheck does for images. */
static int check(const char *output, const char *manifest)
{
	struct { char name[64]; uint64_t start, end; long want, got, bad; } r[64];
	int nr = 0, failed = 0;
	char line[512];
	FILE *f = fopen(manifest, "r"), *in;
	uint64_t hdr[2];
	static uint64_t runs[MAX_RUNS][2];
	static char page[PAGE];

	if (!f)
		die(manifest);
	while (nr < 64 && fgets(line, sizeof(line), f)) {
		long pattern;

		if (line[0] == '@' || line[0] == '#')
			continue;
		if (sscanf(line, "%63s %" SCNx64 " %" SCNx64 " %ld %ld", r[nr].name,
			   &r[nr].start, &r[nr].end, &r[nr].want, &pattern) == 5) {
			r[nr].got = r[nr].bad = 0;
			nr++;
		}
	}
	fclose(f);
	in = fopen(output, "r");
	if (!in)
		die(output);
	while (fread(hdr, sizeof(hdr), 1, in) == 1) {
		if (hdr[0] != RUN_MAGIC || hdr[1] == 0 || hdr[1] > MAX_RUNS) {
			fprintf(stderr, "udump: %s: bad batch header\n", output);
			return 1;
		}
		if (fread(runs, sizeof(runs[0]), hdr[1], in) != hdr[1])
			die("short read");
		for (uint64_t i = 0; i < hdr[1]; i++) {
			for (uint64_t k = 0; k < runs[i][1]; k++) {
				uint64_t a = runs[i][0] + k * PAGE;

				if (fread(page, PAGE, 1, in) != 1)
					die("short read");
				for (int j = 0; j < nr; j++) {
					if (a < r[j].start || a >= r[j].end)
						continue;
					r[j].got++;
					if (!e2e_page_matches(page, a, E2E_SEED))
						r[j].bad++;
				}
			}
		}
	}
	fclose(in);
	for (int j = 0; j < nr; j++) {
		int ok = r[j].got == r[j].want && r[j].bad == 0;

		printf("%s - udump %s: %ld pages (want %ld), %ld not matching\n",
		       ok ? "ok" : "not ok", r[j].name, r[j].got, r[j].want, r[j].bad);
		failed |= !ok;
	}
	return failed;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--check"))
		return check(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "--fault-all"))
		return dump(atoi(argv[2]), argv[3], 1);
	if (argc == 3)
		return dump(atoi(argv[1]), argv[2], 0);
	fprintf(stderr, "usage: %s [--fault-all] PID OUTPUT | --check OUTPUT MANIFEST\n", argv[0]);
	return 2;
}
