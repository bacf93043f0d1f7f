// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-bench-util: small measuring tools for the guest side of the benchmark
 * (busybox has no clock finer than a second in the shell).
 *
 *   ckpt-bench-util time CMD [ARGS...]
 *	run CMD, print "ns=N rc=R" (wall time, monotonic clock) on stderr
 *	after its own output; exit with its status.
 *   ckpt-bench-util copy BYTES OUTPUT
 *	the copy limit: BYTES of random-looking data already in memory
 *	written to a new OUTPUT in 1 MiB writes; prints "ns=N" for open,
 *	writes and close, the floor for any dumper writing BYTES there.
 *   ckpt-bench-util splice BYTES OUTPUT
 *	the same through a pipe: vmsplice(2) the buffer's pages in, splice(2)
 *	them to OUTPUT; the kernel copies page to page, as CRIU writes pages.
 *   ckpt-bench-util readin FILE
 *	restore's copy limit: FILE read(2) in 1 MiB reads into fresh private
 *	anonymous memory (MADV_NOHUGEPAGE, as the targets'); prints "ns=N
 *	bytes=N" for open, reads and close.
 *   ckpt-bench-util crc BYTES
 *	CRC-32C of BYTES in memory, with the crc32 instruction and with
 *	slice-by-8 tables, the module's two ways, and XXH64 (the format's
 *	other checksum): "insn_ns=N table_ns=N xxh64_ns=N"
 *	(what checksums cost on this CPU, emulated or not).
 *   ckpt-bench-util criu-stats FILE
 *	the dump figures in CRIU's stats-dump image: "frozen_us=.. memdump_us=..
 *	memwrite_us=.. pages_scanned=.. pages_written=..".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../e2e/lib/e2e.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static int time_cmd(char **argv)
{
	uint64_t t0 = now_ns();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(stderr, "ns=%" PRIu64 " rc=%d\n", now_ns() - t0, status);
	return status;
}

static uint64_t *filled(uint64_t bytes)
{
	uint64_t *buf = aligned_alloc(E2E_PAGE_SIZE, (bytes + E2E_PAGE_SIZE) & ~(E2E_PAGE_SIZE - 1));

	if (!buf)
		die("malloc");
	for (uint64_t i = 0; i < bytes / 8; i++)
		buf[i] = e2e_word(i * 8, E2E_SEED);
	return buf;
}

static int copy(uint64_t bytes, const char *output)
{
	const size_t chunk = 1 << 20;
	uint64_t *buf = filled(bytes);
	uint64_t t0, done = 0;
	int fd;

	t0 = now_ns();
	fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(output);
	while (done < bytes) {
		size_t n = bytes - done < chunk ? bytes - done : chunk;
		ssize_t w = write(fd, (char *)buf + done, n);

		if (w <= 0)
			die("write");
		done += w;
	}
	if (close(fd))
		die("close");
	printf("ns=%" PRIu64 "\n", now_ns() - t0);
	return 0;
}

static int readin(const char *input)
{
	const size_t chunk = 1 << 20;
	uint64_t t0, done = 0;
	struct stat st;
	char *buf;
	int fd;

	if (stat(input, &st))
		die(input);
	buf = mmap(NULL, st.st_size + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");
	madvise(buf, st.st_size + 1, MADV_NOHUGEPAGE);
	t0 = now_ns();
	fd = open(input, O_RDONLY);
	if (fd < 0)
		die(input);
	while (done < (uint64_t)st.st_size) {
		size_t n = st.st_size - done < chunk ? st.st_size - done : chunk;
		ssize_t r = read(fd, buf + done, n);

		if (r <= 0)
			die("read");
		done += r;
	}
	if (close(fd))
		die("close");
	printf("ns=%" PRIu64 " bytes=%" PRIu64 "\n", now_ns() - t0, done);
	return 0;
}

static int splice_copy(uint64_t bytes, const char *output)
{
	const size_t chunk = 1 << 20;
	char *buf = (char *)filled(bytes);
	uint64_t t0, done = 0;
	int fd, pipefd[2];

	if (pipe(pipefd))
		die("pipe");
	if (fcntl(pipefd[1], F_SETPIPE_SZ, chunk) < 0)
		die("F_SETPIPE_SZ");
	t0 = now_ns();
	fd = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(output);
	while (done < bytes) {
		struct iovec iov = { buf + done, bytes - done < chunk ? bytes - done : chunk };
		ssize_t in = vmsplice(pipefd[1], &iov, 1, 0);

		if (in <= 0)
			die("vmsplice");
		for (ssize_t out = 0; out < in;) {
			ssize_t n = splice(pipefd[0], NULL, fd, NULL, in - out, SPLICE_F_MOVE);

			if (n <= 0)
				die("splice");
			out += n;
		}
		done += in;
	}
	if (close(fd))
		die("close");
	printf("ns=%" PRIu64 "\n", now_ns() - t0);
	return 0;
}

__attribute__((target("sse4.2")))
static uint32_t crc_insn(const uint64_t *w, uint64_t n)
{
	uint64_t c = 0xffffffffU;

	for (uint64_t i = 0; i < n; i++)
		c = __builtin_ia32_crc32di(c, w[i]);
	return ~(uint32_t)c;
}

/* Slice-by-8, as the module's software CRC-32C (src/core/crc32c.cpp). */
static uint32_t crc_table(const uint8_t *p, uint64_t n)
{
	static uint32_t t[8][256];
	uint32_t c = ~0U;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t v = i;

		for (int k = 0; k < 8; k++)
			v = (v >> 1) ^ (0x82f63b78U & -(v & 1));
		t[0][i] = v;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
	for (; n >= 8; p += 8, n -= 8) {
		uint32_t lo, hi;

		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		lo ^= c;
		c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^
		    t[4][lo >> 24] ^ t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		    t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	while (n--)
		c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

/* XXH64's stripe loop, as the module's (src/core/xxh64.cpp). */
static uint64_t xxh64_lanes(const uint8_t *p, uint64_t n)
{
	const uint64_t p1 = 0x9E3779B185EBCA87ULL, p2 = 0xC2B2AE3D27D4EB4FULL;
	uint64_t v[4] = { p1 + p2, p2, 0, -p1 };

	for (; n >= 32; p += 32, n -= 32)
		for (int i = 0; i < 4; i++) {
			uint64_t w;

			memcpy(&w, p + 8 * i, 8);
			v[i] += w * p2;
			v[i] = (v[i] << 31 | v[i] >> 33) * p1;
		}
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static int crc(uint64_t bytes)
{
	uint64_t *buf = filled(bytes), t0, t1, t2, t3;
	volatile uint64_t sink;
	uint32_t a, b;

	/* A CPU model without SSE4.2 (QEMU's qemu64) has no crc32: insn_ns=0. */
	__builtin_cpu_init();
	const int has_insn = __builtin_cpu_supports("sse4.2");

	t0 = now_ns();
	a = has_insn ? crc_insn(buf, bytes / 8) : 0;
	t1 = has_insn ? now_ns() : t0;
	b = crc_table((const uint8_t *)buf, bytes);
	t2 = now_ns();
	sink = xxh64_lanes((const uint8_t *)buf, bytes);
	t3 = now_ns();
	(void)sink;
	if (!has_insn)
		a = b;
	if (a != b) {
		fprintf(stderr, "crc: the two ways disagree: %08x %08x\n", a, b);
		return 1;
	}
	printf("insn_ns=%" PRIu64 " table_ns=%" PRIu64 " xxh64_ns=%" PRIu64 "\n",
	       t1 - t0, t2 - t1, t3 - t2);
	return 0;
}

static uint64_t varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;

	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	fprintf(stderr, "criu-stats: bad varint\n");
	exit(2);
}

/*
 * stats-dump: u32 magics, u32 size, then a protobuf stats_entry whose field 1
 * is a dump_stats_entry (criu/images/stats.proto): 1 freezing_time, 2
 * frozen_time, 3 memdump_time, 4 memwrite_time (us), 5 pages_scanned,
 * 7 pages_written.
 */
static int criu_stats(const char *path)
{
	static uint8_t buf[4096];
	uint64_t f[16] = { 0 };
	const uint8_t *p, *end;
	uint32_t size;
	ssize_t n;
	int fd = open(path, O_RDONLY), off;

	if (fd < 0)
		die(path);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	/* One magic (service image) or two (common magic + the image's own). */
	for (off = 4; off <= 8; off += 4) {
		memcpy(&size, buf + off, 4);
		if (n >= 0 && (ssize_t)(off + 4 + size) == n)
			break;
	}
	if (off > 8) {
		fprintf(stderr, "criu-stats: %s: not a stats image\n", path);
		return 2;
	}
	p = buf + off + 4;
	end = p + size;
	while (p < end) {
		uint64_t key = varint(&p, end), len;
		const uint8_t *sub_end;

		if (key != ((1 << 3) | 2)) {
			fprintf(stderr, "criu-stats: %s: no dump entry\n", path);
			return 2;
		}
		len = varint(&p, end);
		sub_end = p + len;
		while (p < sub_end) {
			uint64_t k = varint(&p, sub_end), v;

			if ((k & 7) != 0) {
				fprintf(stderr, "criu-stats: unexpected field type\n");
				return 2;
			}
			v = varint(&p, sub_end);
			if ((k >> 3) < 16)
				f[k >> 3] = v;
		}
	}
	printf("frozen_us=%" PRIu64 " memdump_us=%" PRIu64 " memwrite_us=%" PRIu64
	       " pages_scanned=%" PRIu64 " pages_written=%" PRIu64 "\n",
	       f[2], f[3], f[4], f[5], f[7]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "time"))
		return time_cmd(argv + 2);
	if (argc == 4 && !strcmp(argv[1], "copy"))
		return copy(strtoull(argv[2], NULL, 0), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "splice"))
		return splice_copy(strtoull(argv[2], NULL, 0), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "readin"))
		return readin(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "crc"))
		return crc(strtoull(argv[2], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "criu-stats"))
		return criu_stats(argv[2]);
	fprintf(stderr, "usage: %s time CMD... | copy|splice BYTES OUTPUT | readin FILE | crc BYTES | criu-stats FILE\n", argv[0]);
	return 2;
}
