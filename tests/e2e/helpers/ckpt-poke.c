// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-poke PID <IMAGE-STREAM >IMAGE
 *
 * Copies a dump's stream from stdin to stdout, and between every 64 KiB it
 * copies, writes into every private writable anonymous mapping of the
 * (stopped) process PID with process_vm_writev(): one byte in each page
 * that is present (/proc/PID/pagemap; nothing new is faulted in), a new
 * value each pass.  So while the dump waits on its pipe, each page it has
 * gathered but not yet written changes: what review 2026-12-01 found made
 * an image whose checksums did not match its bytes.
 *
 * Prints "passes N pages M" to stderr at the end.  Exit 0 once the stream
 * ends, 1 on an error (the target must stay alive throughout).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHUNK	(64 * 1024)
#define IOV_MAX_BATCH	1024

struct range {
	uint64_t start, end;
};

/* Private, writable, anonymous mappings (no file, no [stack]/[vdso]...). */
static int anon_ranges(pid_t pid, struct range *out, int max)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, ino;
		char perms[8], name[256] = "";

		if (sscanf(line, "%llx-%llx %7s %*s %*s %llu %255s", &start, &end,
			   perms, &ino, name) < 4)
			continue;
		if (perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p' || ino ||
		    (name[0] && strcmp(name, "[heap]")))
			continue;
		out[n].start = start;
		out[n].end = end;
		n++;
	}
	fclose(f);
	return n;
}

/* The present pages of every range (/proc/PID/pagemap), once: the target is
 * stopped, so they stay present. */
static long present_pages(pid_t pid, const struct range *r, int nr, uint64_t **out)
{
	static uint64_t entries[4096];
	uint64_t *pages = NULL;
	long n = 0, cap = 0;
	char path[64];
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	for (i = 0; i < nr; i++) {
		for (uint64_t a = r[i].start; a < r[i].end;) {
			uint64_t want = (r[i].end - a) / 4096;
			ssize_t got;

			if (want > 4096)
				want = 4096;
			got = pread(fd, entries, want * 8, a / 4096 * 8);
			if (got <= 0) {
				close(fd);
				return -1;
			}
			for (ssize_t e = 0; e < got / 8; e++, a += 4096) {
				if (!(entries[e] >> 63))
					continue;
				if (n == cap) {
					cap = cap ? 2 * cap : 4096;
					pages = realloc(pages, cap * sizeof(*pages));
					if (!pages)
						return -1;
				}
				pages[n++] = a;
			}
		}
	}
	close(fd);
	*out = pages;
	return n;
}

/* One byte in each page, each page getting `value`. */
static long poke_pass(pid_t pid, const uint64_t *pages, long nr, uint8_t value)
{
	static struct iovec local[IOV_MAX_BATCH], remote[IOV_MAX_BATCH];
	static uint8_t byte;
	long done = 0;

	byte = value;
	for (long i = 0; i < nr; i += IOV_MAX_BATCH) {
		int k = nr - i < IOV_MAX_BATCH ? nr - i : IOV_MAX_BATCH;
		ssize_t w;

		for (int j = 0; j < k; j++) {
			local[j].iov_base = &byte;
			local[j].iov_len = 1;
			remote[j].iov_base = (void *)(uintptr_t)(pages[i + j] + 64);
			remote[j].iov_len = 1;
		}
		w = process_vm_writev(pid, local, k, remote, k, 0);
		if (w < 0) {
			perror("ckpt-poke: process_vm_writev");
			return -1;
		}
		done += w;
	}
	return done;
}

int main(int argc, char **argv)
{
	static char buf[CHUNK];
	struct range ranges[256];
	long passes = 0, poked = 0;
	uint64_t *pages;
	long nr_pages;
	pid_t pid;
	int nr;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PID <STREAM >IMAGE\n", argv[0]);
		return 2;
	}
	pid = atoi(argv[1]);
	nr = anon_ranges(pid, ranges, 256);
	if (nr <= 0) {
		fprintf(stderr, "ckpt-poke: no private anonymous mapping in %d\n", pid);
		return 1;
	}
	nr_pages = present_pages(pid, ranges, nr, &pages);
	if (nr_pages <= 0) {
		fprintf(stderr, "ckpt-poke: no present anonymous page in %d\n", pid);
		return 1;
	}
	for (;;) {
		size_t got = 0;
		ssize_t n = 0;
		long done;

		while (got < CHUNK) {
			n = read(0, buf + got, CHUNK - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += n;
		}
		if (n < 0) {
			perror("ckpt-poke: read");
			return 1;
		}
		if (got && fwrite(buf, 1, got, stdout) != got) {
			perror("ckpt-poke: write");
			return 1;
		}
		if (got < CHUNK)
			break;
		done = poke_pass(pid, pages, nr_pages, (uint8_t)(passes + 1));
		if (done < 0)
			return 1;
		poked += done;
		passes++;
	}
	fprintf(stderr, "passes %ld pages %ld\n", passes, poked);
	return fflush(stdout) ? 1 : 0;
}
