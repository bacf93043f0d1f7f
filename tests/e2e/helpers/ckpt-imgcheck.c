// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-imgcheck: read a ckpt image independently of the ckpt CLI (straight
 * from include/uapi/linux/ckpt.h) and check it against a target's manifest
 * (format in ../lib/e2e.h).
 *
 *   ckpt-imgcheck [--prefix P | --summary NAME] [--tid T]
 *                 [--state stopped|frozen|running] [--release R]
 *                 IMAGE|- MANIFEST
 *   ckpt-imgcheck --json-pages [--prefix P | --summary NAME] JSON|- MANIFEST
 *   ckpt-imgcheck --anon-foreign BYTE [--summary NAME] IMAGE|- MANIFEST
 *
 * The third form checks only that the image is well formed and that no
 * page in a record of kind ANON is BYTE all through: a live dump of a
 * target that flips a range between anonymous memory and a file of BYTEs
 * must never file the file's pages under the anonymous mapping.
 *
 * The second form checks only the per-region page counts, taking the page
 * addresses from the "page_addrs" arrays of `ckpt show --json --pages`.
 *
 * Prints one TAP-style line per check ("ok - P<name>" or
 * "not ok - P<name>: reason"), or with --summary a single line for all of
 * them; exits 0 when every check passed, 1 when one failed, 2 on a usage or
 * I/O error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/ckpt.h>

#include "../lib/e2e.h"

#define MAX_REGIONS	256
#define PAGE		E2E_PAGE_SIZE

struct region {
	char name[64];
	uint64_t start, end;
	long expected, pattern;
	long pages, matched;
};

#define MAX_FDS		32
#define KNOWN_VMA_FLAGS	(CKPT_VMA_F_READ | CKPT_VMA_F_WRITE | CKPT_VMA_F_EXEC | CKPT_VMA_F_SHARED | \
			 CKPT_VMA_F_MAYREAD | CKPT_VMA_F_MAYWRITE | CKPT_VMA_F_MAYEXEC | \
			 CKPT_VMA_F_MAYSHARE | CKPT_VMA_F_GROWSDOWN | CKPT_VMA_F_PFNMAP | \
			 CKPT_VMA_F_LOCKED | CKPT_VMA_F_IO | CKPT_VMA_F_DONTCOPY | \
			 CKPT_VMA_F_DONTEXPAND | CKPT_VMA_F_LOCKONFAULT | CKPT_VMA_F_NORESERVE | \
			 CKPT_VMA_F_HUGETLB | CKPT_VMA_F_WIPEONFORK | CKPT_VMA_F_DONTDUMP | \
			 CKPT_VMA_F_MIXEDMAP | CKPT_VMA_F_HUGEPAGE | CKPT_VMA_F_NOHUGEPAGE | \
			 CKPT_VMA_F_MERGEABLE | CKPT_VMA_F_NAME_TOO_LONG | CKPT_VMA_F_SHMEM)
#define MAX_FACTS	8

/* "@fd FD KIND POS F_FLAGS CLOEXEC SIZE" (SIZE -1: not a regular file) */
struct fd_fact {
	int fd, cloexec;
	unsigned int kind, flags;
	long long pos, size;
	int seen;
};

static struct {
	struct region r[MAX_REGIONS];
	int nr;
	long pid, threads, ldt_nr, min_vmas;
	uint64_t seed;
	char ldt_hex[8192];
	long umask;
	struct { int sig; uint64_t handler, mask; unsigned int flags; } sa[MAX_FACTS];
	int nr_sa;
	struct { int res; unsigned long long soft, hard; } rl[MAX_FACTS];
	int nr_rl;
	struct fd_fact fds[MAX_FDS];
	int nr_fds;
	struct { uint64_t start, flags; int seen; } vf[MAX_FACTS];
	int nr_vf;
	long coredump_filter;
} man = { .pid = -1, .threads = -1, .ldt_nr = -1, .min_vmas = -1, .seed = E2E_SEED, .umask = -1,
	.coredump_filter = -1 };

static const char *prefix = "";
static int foreign_byte = -1;	/* --anon-foreign */
static const char *summary;	/* one line for everything, named this */
static char summary_buf[4096];
static int failures;

static void result(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (summary) {
		size_t n = strlen(summary_buf);

		if (ok || n + 2 >= sizeof(summary_buf))
			goto out;
		n += snprintf(summary_buf + n, sizeof(summary_buf) - n, "%s%s: ",
			      failures ? "; " : "", name);
		va_start(ap, fmt);
		if (n < sizeof(summary_buf))
			vsnprintf(summary_buf + n, sizeof(summary_buf) - n, fmt, ap);
		va_end(ap);
		goto out;
	}
	printf("%sok - %s%s", ok ? "" : "not ", prefix, name);
	if (fmt && *fmt) {
		printf(ok ? " # " : ": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
out:
	if (!ok)
		failures++;
}

static void print_summary(void)
{
	if (!summary)
		return;
	if (failures)
		printf("not ok - %s: %s\n", summary, summary_buf);
	else
		printf("ok - %s\n", summary);
}

/* ------------------------------------------------------------- manifest */

static void read_manifest(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[8192];

	if (!f) {
		fprintf(stderr, "ckpt-imgcheck: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		struct region *r = &man.r[man.nr];

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (line[0] == '@') {
			sscanf(line, "@pid %ld", &man.pid);
			sscanf(line, "@threads %ld", &man.threads);
			sscanf(line, "@vmas %ld", &man.min_vmas);
			sscanf(line, "@seed %" SCNx64, &man.seed);
			sscanf(line, "@ldt %ld %8191s", &man.ldt_nr, man.ldt_hex);
			sscanf(line, "@umask %lo", &man.umask);
			sscanf(line, "@coredump_filter %lx", &man.coredump_filter);
			if (man.nr_vf < MAX_FACTS &&
			    sscanf(line, "@vmaflags %" SCNx64 " %" SCNx64, &man.vf[man.nr_vf].start,
				   &man.vf[man.nr_vf].flags) == 2)
				man.nr_vf++;
			if (man.nr_sa < MAX_FACTS &&
			    sscanf(line, "@sigaction %d %" SCNx64 " %x %" SCNx64, &man.sa[man.nr_sa].sig,
				   &man.sa[man.nr_sa].handler, &man.sa[man.nr_sa].flags,
				   &man.sa[man.nr_sa].mask) == 4)
				man.nr_sa++;
			if (man.nr_rl < MAX_FACTS &&
			    sscanf(line, "@rlimit %d %llu %llu", &man.rl[man.nr_rl].res,
				   &man.rl[man.nr_rl].soft, &man.rl[man.nr_rl].hard) == 3)
				man.nr_rl++;
			if (man.nr_fds < MAX_FDS &&
			    sscanf(line, "@fd %d %u %lld %o %d %lld", &man.fds[man.nr_fds].fd,
				   &man.fds[man.nr_fds].kind, &man.fds[man.nr_fds].pos,
				   &man.fds[man.nr_fds].flags, &man.fds[man.nr_fds].cloexec,
				   &man.fds[man.nr_fds].size) == 6)
				man.nr_fds++;
			continue;
		}
		if (man.nr == MAX_REGIONS ||
		    sscanf(line, "%63s %" SCNx64 " %" SCNx64 " %ld %ld", r->name,
			   &r->start, &r->end, &r->expected, &r->pattern) != 5) {
			fprintf(stderr, "ckpt-imgcheck: %s: bad line: %s", path, line);
			exit(2);
		}
		man.nr++;
	}
	fclose(f);
}

static struct region *region_of(uint64_t addr)
{
	for (int i = 0; i < man.nr; i++)
		if (man.r[i].start <= addr && addr < man.r[i].end)
			return &man.r[i];
	return NULL;
}

/* --------------------------------------------------------------- stream */

static int in_fd;
static uint64_t offset;		/* stream offset of the next byte */

/*
 * Reads exactly @n bytes; returns 0 at a clean end of stream, 1 on success.
 * Buffered: records are read in small pieces (a byte of padding at a time).
 */
static int get(void *buf, size_t n)
{
	static unsigned char in[1 << 16];
	static size_t in_pos, in_len;
	size_t done = 0;

	while (done < n) {
		size_t k;

		if (in_pos == in_len) {
			ssize_t r = read(in_fd, in, sizeof(in));

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				fprintf(stderr, "ckpt-imgcheck: read: %s\n", strerror(errno));
				exit(2);
			}
			if (r == 0)
				return done == 0 ? 0 : -1;
			in_pos = 0;
			in_len = r;
		}
		k = in_len - in_pos < n - done ? in_len - in_pos : n - done;
		memcpy((char *)buf + done, in + in_pos, k);
		in_pos += k;
		done += k;
	}
	offset += n;
	return 1;
}

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
}

/* Raw (not inverted) CRC-32C update; start with ~0, finish with ~. */
static uint32_t crc_update(uint32_t c, const void *buf, size_t n)
{
	const unsigned char *p = buf;

	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

/*
 * XXH64 (seed 0), streaming, from the xxHash specification: the checksum of
 * every record after HEAD when HEAD's checksum field says CKPT_CSUM_XXH64.
 */
#define XP1 0x9E3779B185EBCA87ull
#define XP2 0xC2B2AE3D27D4EB4Full
#define XP3 0x165667B19E3779F9ull
#define XP4 0x85EBCA77C2B2AE63ull
#define XP5 0x27D4EB2F165667C5ull

struct xxh64 {
	uint64_t v[4], total;
	unsigned char buf[32];
	unsigned int n;
};

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t xround(uint64_t acc, uint64_t in) { return rotl64(acc + in * XP2, 31) * XP1; }

static void xxh64_reset(struct xxh64 *x)
{
	memset(x, 0, sizeof(*x));
	x->v[0] = XP1 + XP2;
	x->v[1] = XP2;
	x->v[3] = -XP1;
}

static void xxh64_update(struct xxh64 *x, const void *data, size_t len)
{
	const unsigned char *p = data;

	x->total += len;
	while (len--) {
		x->buf[x->n++] = *p++;
		if (x->n == 32) {
			for (int i = 0; i < 4; i++)
				x->v[i] = xround(x->v[i], le64(x->buf + 8 * i));
			x->n = 0;
		}
	}
}

static uint64_t xxh64_digest(const struct xxh64 *x)
{
	const unsigned char *p = x->buf;
	unsigned int left = x->n;
	uint64_t h;

	if (x->total >= 32) {
		h = rotl64(x->v[0], 1) + rotl64(x->v[1], 7) + rotl64(x->v[2], 12) + rotl64(x->v[3], 18);
		for (int i = 0; i < 4; i++)
			h = (h ^ xround(0, x->v[i])) * XP1 + XP4;
	} else {
		h = XP5;
	}
	h += x->total;
	for (; left >= 8; left -= 8, p += 8)
		h = rotl64(h ^ xround(0, le64(p)), 27) * XP1 + XP4;
	if (left >= 4) {
		h = rotl64(h ^ (uint64_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24) * XP1, 23) * XP2 + XP3;
		left -= 4;
		p += 4;
	}
	for (; left; left--, p++)
		h = rotl64(h ^ *p * XP5, 11) * XP1;
	h = (h ^ (h >> 33)) * XP2;
	h = (h ^ (h >> 29)) * XP3;
	return h ^ (h >> 32);
}

/* The current record's XXH64, fed alongside its CRC-32C. */
static struct xxh64 rec_xxh;

/* ----------------------------------------------------------------- image */

struct image {
	struct ckpt_head head;
	struct ckpt_task task;
	struct ckpt_tail tail;
	int have_head, have_task, have_tail, have_ldt;
	uint64_t records, vmas, pages;
	uint32_t crc_of_crcs;
	struct ckpt_ldt ldt;
	unsigned char ldt_raw[65536 * 8];
	int vdso, vvar, vdso_pages, vvar_pages;
	long special_with_pages;
	long anon_foreign;	/* ANON pages all --anon-foreign bytes */
	long threads, leaders;	/* THREAD records, and those flagged LEADER */
	int32_t first_tid, last_tid;
	long threads_in_order;	/* 0 once a tid is out of order */
	long threads_with_state;	/* with rip, rsp and an FPU area */
	long processes;		/* PROCESS records */
	int process_in_place;	/* the first came right after TASK */
	struct ckpt_process process;
	uint64_t auxv[1024];
	char exe[4096];
	long files, files_in_order;	/* FILE records; 0 once out of order or place */
	int32_t last_fd;
	char file_error[256];	/* the first FILE record that contradicts the manifest */
	struct ckpt_mm mm;
	int have_mm;
	long vmas_undefined_flags;	/* 1.1 VMAs with bits the format does not define */
	char flags_error[256];
	char error[512];
};

static struct image img = { .threads_in_order = 1, .files_in_order = 1, .last_fd = -1 };

#define BAD(...) do { snprintf(img.error, sizeof(img.error), __VA_ARGS__); return -1; } while (0)

/* The VMA the PAGES records that follow belong to. */
static struct {
	struct ckpt_vma v;
	char name[4096];
	int valid;
	uint64_t next_addr;	/* addresses must ascend */
	long pages;
} cur;

static void end_vma(void)
{
	if (!cur.valid)
		return;
	if (!strcmp(cur.name, "[vdso]")) {
		img.vdso = 1;
		img.vdso_pages += cur.pages;
	}
	if (!strcmp(cur.name, "[vvar]")) {
		img.vvar = 1;
		img.vvar_pages += cur.pages;
	}
	if (cur.v.kind == CKPT_VMA_SPECIAL && cur.pages)
		img.special_with_pages++;
	cur.valid = 0;
}

static int read_payload(void *buf, size_t n, uint32_t *crc)
{
	if (get(buf, n) != 1)
		BAD("stream ends inside a record at offset %llu", (unsigned long long)offset);
	*crc = crc_update(*crc, buf, n);
	xxh64_update(&rec_xxh, buf, n);
	return 0;
}

static int pages_record(const struct ckpt_rec_hdr *h, uint64_t payload_off, uint32_t *crc)
{
	static uint64_t addrs[CKPT_PAGES_MAX];
	static unsigned char page[PAGE];
	struct ckpt_pages p;
	uint64_t head_len, pad;

	if (!cur.valid)
		BAD("PAGES record at %llu before any VMA", (unsigned long long)payload_off);
	if (h->len < sizeof(p))
		BAD("PAGES record too short");
	if (read_payload(&p, sizeof(p), crc))
		return -1;
	if (p.nr < 1 || p.nr > CKPT_PAGES_MAX)
		BAD("PAGES nr %u out of range", p.nr);
	head_len = sizeof(p) + p.nr * 8ull;
	if (p.data_off < head_len || (payload_off + p.data_off) % PAGE)
		BAD("PAGES data_off %llu bad (payload at %llu)",
		    (unsigned long long)p.data_off, (unsigned long long)payload_off);
	if (h->len != p.data_off + (uint64_t)p.nr * PAGE)
		BAD("PAGES len %llu != data_off + nr pages", (unsigned long long)h->len);
	if (read_payload(addrs, p.nr * 8ull, crc))
		return -1;
	for (pad = head_len; pad < p.data_off; pad += 1) {
		unsigned char z;

		if (read_payload(&z, 1, crc))
			return -1;
		if (z)
			BAD("PAGES padding not zero");
	}
	for (uint32_t i = 0; i < p.nr; i++) {
		uint64_t a = addrs[i];
		struct region *r;

		if (a % PAGE || a < cur.v.start || a >= cur.v.end || a < cur.next_addr)
			BAD("page address %#llx not ascending/aligned/inside VMA %#llx-%#llx",
			    (unsigned long long)a, (unsigned long long)cur.v.start,
			    (unsigned long long)cur.v.end);
		cur.next_addr = a + PAGE;
		if (read_payload(page, PAGE, crc))
			return -1;
		if (foreign_byte >= 0 && cur.v.kind == CKPT_VMA_ANON &&
		    page[0] == foreign_byte && !memcmp(page, page + 1, PAGE - 1))
			img.anon_foreign++;
		r = region_of(a);
		if (r) {
			r->pages++;
			r->matched += e2e_page_matches(page, a, man.seed);
		}
	}
	cur.pages += p.nr;
	img.pages += p.nr;
	return 0;
}

static int vma_record(const struct ckpt_rec_hdr *h, uint32_t *crc)
{
	end_vma();
	if (h->len < sizeof(cur.v))
		BAD("VMA record too short");
	if (read_payload(&cur.v, sizeof(cur.v), crc))
		return -1;
	if (h->len != sizeof(cur.v) + cur.v.name_len || cur.v.name_len >= sizeof(cur.name))
		BAD("VMA name_len %u does not match len %llu", cur.v.name_len,
		    (unsigned long long)h->len);
	cur.name[0] = 0;
	if (cur.v.name_len) {
		if (read_payload(cur.name, cur.v.name_len, crc))
			return -1;
		if (cur.name[cur.v.name_len - 1])
			BAD("VMA name not NUL-terminated");
	}
	if (cur.v.start >= cur.v.end || cur.v.start % PAGE || cur.v.end % PAGE)
		BAD("VMA %#llx-%#llx malformed", (unsigned long long)cur.v.start,
		    (unsigned long long)cur.v.end);
	/* format 1.1: vm_flags holds the format's bits and nothing else */
	if (img.head.minor >= 1 && (cur.v.vm_flags & ~KNOWN_VMA_FLAGS))
		img.vmas_undefined_flags++;
	if (img.head.minor < 4 && (cur.v.vm_flags & CKPT_VMA_F_SHMEM))
		img.vmas_undefined_flags++;
	/* format 1.4: SHMEM on the target's shared memory, and only there */
	if (img.head.minor >= 4) {
		const struct region *r = region_of(cur.v.start);
		const int shmem = r && (!strcmp(r->name, "shared_anon") || !strcmp(r->name, "memfd") ||
					!strcmp(r->name, "sysv_shm"));

		if (r && shmem != !!(cur.v.vm_flags & CKPT_VMA_F_SHMEM) && !img.flags_error[0])
			snprintf(img.flags_error, sizeof(img.flags_error),
				 "VMA %#llx of region %s has vm_flags %#llx: SHMEM %s",
				 (unsigned long long)cur.v.start, r->name,
				 (unsigned long long)cur.v.vm_flags, shmem ? "missing" : "set");
	}
	for (int i = 0; i < man.nr_vf; i++)
		if (man.vf[i].start == cur.v.start) {
			man.vf[i].seen = 1;
			if ((cur.v.vm_flags & man.vf[i].flags) != man.vf[i].flags && !img.flags_error[0])
				snprintf(img.flags_error, sizeof(img.flags_error),
					 "VMA %#llx has vm_flags %#llx, the target set %#llx",
					 (unsigned long long)cur.v.start,
					 (unsigned long long)cur.v.vm_flags,
					 (unsigned long long)man.vf[i].flags);
		}
	cur.valid = 1;
	cur.next_addr = cur.v.start;
	cur.pages = 0;
	img.vmas++;
	return 0;
}

static int fixed_record(const struct ckpt_rec_hdr *h, void *buf, size_t size, uint32_t *crc)
{
	if (h->len < size)
		BAD("record type %u too short (%llu < %zu)", h->type,
		    (unsigned long long)h->len, size);
	return read_payload(buf, size, crc);
}

/* Format 1.1: one per thread after TASK, the leader first, then by tid. */
static int thread_record(const struct ckpt_rec_hdr *h, uint32_t *crc)
{
	static unsigned char fpu[65536];
	struct ckpt_thread t;

	if (!img.have_task || img.vmas)
		BAD("THREAD record out of place");
	if (fixed_record(h, &t, sizeof(t), crc))
		return -1;
	if (t.xstate_size > sizeof(fpu) || h->len != sizeof(t) + t.xstate_size)
		BAD("THREAD len %llu, xstate_size %u", (unsigned long long)h->len, t.xstate_size);
	if (read_payload(fpu, t.xstate_size, crc))
		return -1;
	if (t.flags & CKPT_THREAD_LEADER)
		img.leaders++;
	/* The leader first; after it, ascending tids. */
	if (img.threads == 0)
		img.first_tid = t.tid;
	if ((img.threads == 0) != !!(t.flags & CKPT_THREAD_LEADER) ||
	    (img.threads >= 2 && t.tid <= img.last_tid))
		img.threads_in_order = 0;
	img.last_tid = t.tid;
	/* rip and rsp are user addresses; XSAVE's legacy area is there. */
	if (t.regs[16] && t.regs[19] && t.regs[16] < (1ull << 47) &&
	    t.regs[19] < (1ull << 47) && t.xstate_size >= 512)
		img.threads_with_state++;
	img.threads++;
	return 0;
}

/* Format 1.1: one, between TASK and the first THREAD. */
static int process_record(const struct ckpt_rec_hdr *h, uint32_t *crc)
{
	static unsigned char rest[65536 * 4 + 3 * 4096];
	struct ckpt_process *p = &img.process;
	uint64_t groups_len, paths_len;

	if (!img.have_task || img.threads || img.vmas || img.processes)
		BAD("PROCESS record out of place");
	if (fixed_record(h, p, sizeof(*p), crc))
		return -1;
	groups_len = 4ull * p->nr_groups;
	paths_len = (uint64_t)p->exe_len + p->cwd_len + p->root_len;
	if (p->nr_auxv > 1024 || p->nr_auxv % 2 || p->nr_groups > 65536 || p->exe_len > 4096 ||
	    p->cwd_len > 4096 || p->root_len > 4096 ||
	    h->len != sizeof(*p) + 8ull * p->nr_auxv + groups_len + paths_len)
		BAD("PROCESS len %llu, auxv %u groups %u paths %u %u %u", (unsigned long long)h->len,
		    p->nr_auxv, p->nr_groups, p->exe_len, p->cwd_len, p->root_len);
	if (read_payload(img.auxv, 8ull * p->nr_auxv, crc) ||
	    read_payload(rest, groups_len + paths_len, crc))
		return -1;
	if (p->exe_len) {
		memcpy(img.exe, rest + groups_len, p->exe_len);
		if (img.exe[p->exe_len - 1])
			BAD("PROCESS exe path without its NUL");
	}
	img.process_in_place = !img.processes && img.records == 2;
	img.processes++;
	return 0;
}

/* Format 1.1: one per descriptor after the threads, by ascending fd. */
static int file_record(const struct ckpt_rec_hdr *h, uint32_t *crc)
{
	static char path[4096];
	struct ckpt_file f;

	if (!img.threads || img.vmas)
		img.files_in_order = 0;
	if (fixed_record(h, &f, sizeof(f), crc))
		return -1;
	if (f.path_len > sizeof(path) || h->len != sizeof(f) + f.path_len)
		BAD("FILE len %llu, path_len %u", (unsigned long long)h->len, f.path_len);
	if (read_payload(path, f.path_len, crc))
		return -1;
	if ((int32_t)f.fd <= img.last_fd)
		img.files_in_order = 0;
	img.last_fd = f.fd;
	img.files++;
	for (int i = 0; i < man.nr_fds; i++) {
		struct fd_fact *want = &man.fds[i];

		if (want->fd != (int)f.fd)
			continue;
		want->seen = 1;
		/* the kernel adds O_LARGEFILE (0100000) to every open on x86-64 */
		if (f.kind != want->kind || (long long)f.pos != want->pos ||
		    (f.f_flags & ~0100000u) != want->flags ||
		    !!(f.fd_flags & CKPT_FILE_CLOEXEC) != want->cloexec ||
		    (want->size >= 0 && (long long)f.size != want->size))
			if (!img.file_error[0])
				snprintf(img.file_error, sizeof(img.file_error),
					 "fd %u: kind %u pos %llu f_flags %#o cloexec %u size %llu, target made kind %u pos %lld flags %#o cloexec %d size %lld",
					 f.fd, f.kind, (unsigned long long)f.pos, f.f_flags,
					 f.fd_flags & CKPT_FILE_CLOEXEC, (unsigned long long)f.size,
					 want->kind, want->pos, want->flags, want->cloexec, want->size);
	}
	return 0;
}

/* Reads the rest of a record (fields this reader does not know). */
static int skip_rest(uint64_t left, uint32_t *crc)
{
	unsigned char buf[4096];

	while (left) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);

		if (read_payload(buf, n, crc))
			return -1;
		left -= n;
	}
	return 0;
}

static int read_image(void)
{
	uint32_t crcs = ~0u;

	for (;;) {
		struct ckpt_rec_hdr h;
		uint64_t start = offset, payload_off;
		uint32_t crc = ~0u;
		int r;

		r = get(&h, sizeof(h));
		if (r == 0 && img.have_tail)
			return 0;
		if (r == 0)
			BAD("stream ends without a TAIL record");
		if (r < 0)
			BAD("stream ends inside a record header at %llu", (unsigned long long)start);
		if (img.have_tail)
			BAD("data after the TAIL record");
		if (!img.have_head && h.type != CKPT_REC_HEAD)
			BAD("first record has type %u, not HEAD", h.type);
		payload_off = offset;
		crc = crc_update(crc, &h, 16);
		xxh64_reset(&rec_xxh);
		xxh64_update(&rec_xxh, &h, 16);

		switch (h.type) {
		case CKPT_REC_HEAD:
			if (img.have_head)
				BAD("second HEAD record");
			if (fixed_record(&h, &img.head, sizeof(img.head), &crc))
				return -1;
			img.have_head = 1;
			if (memcmp(img.head.magic, CKPT_IMAGE_MAGIC, 8))
				BAD("bad magic");
			if (img.head.major != CKPT_FORMAT_MAJOR)
				BAD("format major %u", img.head.major);
			if (img.head.page_size != PAGE || img.head.arch != CKPT_ARCH_X86_64)
				BAD("page_size %u arch %u", img.head.page_size, img.head.arch);
			if (img.head.checksum > CKPT_CSUM_XXH64)
				BAD("unknown checksum algorithm %u", img.head.checksum);
			r = skip_rest(h.len - sizeof(img.head), &crc);
			break;
		case CKPT_REC_TASK:
			r = fixed_record(&h, &img.task, sizeof(img.task), &crc) ||
			    skip_rest(h.len - sizeof(img.task), &crc);
			img.have_task = 1;
			break;
		case CKPT_REC_PROCESS:
			r = process_record(&h, &crc);
			break;
		case CKPT_REC_THREAD:
			r = thread_record(&h, &crc);
			break;
		case CKPT_REC_FILE:
			r = file_record(&h, &crc);
			break;
		case CKPT_REC_MM:
			r = fixed_record(&h, &img.mm, sizeof(img.mm), &crc) ||
			    skip_rest(h.len - sizeof(img.mm), &crc);
			img.have_mm = 1;
			break;
		case CKPT_REC_VMA:
			r = vma_record(&h, &crc);
			break;
		case CKPT_REC_PAGES:
			r = pages_record(&h, payload_off, &crc);
			break;
		case CKPT_REC_LDT:
			if (fixed_record(&h, &img.ldt, sizeof(img.ldt), &crc))
				return -1;
			if (img.ldt.entry_size != 8 || img.ldt.nr > 8192 ||
			    h.len != sizeof(img.ldt) + 8ull * img.ldt.nr)
				BAD("LDT entry_size %u nr %u len %llu", img.ldt.entry_size,
				    img.ldt.nr, (unsigned long long)h.len);
			r = read_payload(img.ldt_raw, 8ull * img.ldt.nr, &crc);
			img.have_ldt = 1;
			break;
		case CKPT_REC_TAIL:
			end_vma();
			if (fixed_record(&h, &img.tail, sizeof(img.tail), &crc))
				return -1;
			img.have_tail = 1;
			if (img.tail.nr_records != img.records || img.tail.bytes != start ||
			    img.tail.nr_vmas != img.vmas || img.tail.nr_pages != img.pages)
				BAD("TAIL says records %llu bytes %llu vmas %llu pages %llu, "
				    "stream has %llu %llu %llu %llu",
				    (unsigned long long)img.tail.nr_records,
				    (unsigned long long)img.tail.bytes,
				    (unsigned long long)img.tail.nr_vmas,
				    (unsigned long long)img.tail.nr_pages,
				    (unsigned long long)img.records, (unsigned long long)start,
				    (unsigned long long)img.vmas, (unsigned long long)img.pages);
			if (img.tail.crc != ~crcs)
				BAD("TAIL crc %#x, computed %#x", img.tail.crc, ~crcs);
			r = skip_rest(h.len - sizeof(img.tail), &crc);
			break;
		default:	/* unknown: skip */
			r = skip_rest(h.len, &crc);
			break;
		}
		if (r)
			return -1;
		/* HEAD's own checksum is always CRC-32C. */
		if (h.type != CKPT_REC_HEAD && img.head.checksum == CKPT_CSUM_XXH64)
			crc = ~(uint32_t)xxh64_digest(&rec_xxh);
		if (~crc != h.crc)
			BAD("record type %u at %llu: crc %#x, computed %#x (%s)", h.type,
			    (unsigned long long)start, h.crc, ~crc,
			    h.type != CKPT_REC_HEAD && img.head.checksum == CKPT_CSUM_XXH64 ?
			    "xxh64" : "crc32c");
		/* padding to 8 */
		while (offset % 8) {
			unsigned char z;

			if (get(&z, 1) != 1)
				BAD("stream ends inside padding");
			if (z)
				BAD("non-zero padding after record type %u", h.type);
		}
		{
			unsigned char le[4] = { h.crc, h.crc >> 8, h.crc >> 16, h.crc >> 24 };

			if (h.type != CKPT_REC_TAIL)
				crcs = crc_update(crcs, le, 4);
		}
		if (h.type != CKPT_REC_TAIL)
			img.records++;
	}
}

/* ----------------------------------------------------------------- checks */

static const char *state_name(uint32_t s)
{
	switch (s) {
	case CKPT_TASK_STOPPED: return "stopped";
	case CKPT_TASK_FROZEN: return "frozen";
	case CKPT_TASK_RUNNING: return "running";
	}
	return "unknown";
}

static void check_ldt(void)
{
	char hex[sizeof(man.ldt_hex)] = "";

	if (man.ldt_nr < 0)
		return;
	if (!img.have_ldt) {
		result(0, "ldt", "no LDT record");
		return;
	}
	for (uint32_t i = 0; i < img.ldt.nr * 8 && 2 * i + 2 < sizeof(hex); i++)
		sprintf(hex + 2 * i, "%02x", img.ldt_raw[i]);
	if (img.ldt.nr < 1 || (long)img.ldt.nr != man.ldt_nr)
		result(0, "ldt", "%u entries, target installed %ld", img.ldt.nr, man.ldt_nr);
	else if (strcmp(hex, man.ldt_hex))
		result(0, "ldt", "descriptors %s, target has %s", hex, man.ldt_hex);
	else
		result(1, "ldt", "%u entries match", img.ldt.nr);
}

static uint64_t auxv_value(uint64_t type)
{
	for (uint32_t i = 0; i + 1 < img.process.nr_auxv; i += 2)
		if (img.auxv[i] == type)
			return img.auxv[i + 1];
	return 0;
}

/* The PROCESS record against what the target set up and reported. */
static void check_process(void)
{
	const struct ckpt_process *p = &img.process;
	const char *base = strrchr(img.exe, '/');
	char why[512] = "";
	size_t n = 0;

	if (img.head.minor < 1)
		return;
	if (img.processes != 1 || !img.process_in_place) {
		result(0, "process-record", "%ld PROCESS records, %s", img.processes,
		       img.process_in_place ? "in place" : "not right after TASK");
		return;
	}
#define WHY(...) (n += snprintf(why + n, n < sizeof(why) ? sizeof(why) - n : 0, __VA_ARGS__))
	if (p->pid != img.task.pid)
		WHY("pid %d, TASK says %d; ", p->pid, img.task.pid);
	if (man.umask >= 0 && (long)p->umask != man.umask)
		WHY("umask %o, target set %lo; ", p->umask, man.umask);
	for (int i = 0; i < man.nr_sa; i++) {
		const struct ckpt_sigaction *a = &p->action[man.sa[i].sig - 1];

		/* glibc adds SA_RESTORER and its restorer */
		if (a->handler != man.sa[i].handler || (a->flags & ~0x04000000ull) != man.sa[i].flags ||
		    a->mask != man.sa[i].mask)
			WHY("signal %d: handler %#llx flags %#llx mask %#llx, target set %#llx %#x %#llx; ",
			    man.sa[i].sig, (unsigned long long)a->handler, (unsigned long long)a->flags,
			    (unsigned long long)a->mask, (unsigned long long)man.sa[i].handler,
			    man.sa[i].flags, (unsigned long long)man.sa[i].mask);
	}
	for (int i = 0; i < man.nr_rl; i++)
		if (p->rlim[man.rl[i].res][0] != man.rl[i].soft ||
		    p->rlim[man.rl[i].res][1] != man.rl[i].hard)
			WHY("rlimit %d: %llu/%llu, target set %llu/%llu; ", man.rl[i].res,
			    (unsigned long long)p->rlim[man.rl[i].res][0],
			    (unsigned long long)p->rlim[man.rl[i].res][1], man.rl[i].soft, man.rl[i].hard);
	if (p->nr_auxv < 2 || img.auxv[p->nr_auxv - 2] != 0 || auxv_value(6) != PAGE)	/* AT_PAGESZ */
		WHY("auxv of %u words without AT_PAGESZ %lu or the closing AT_NULL; ", p->nr_auxv, (unsigned long)PAGE);
	/* comm is the executable's name, cut to 15 bytes */
	if (!base || strncmp(base + 1, img.task.comm, sizeof(img.task.comm) - 1))
		WHY("exe '%s' for comm '%.16s'; ", img.exe, img.task.comm);
	if (p->exit_signal != 17 || p->reserved)	/* SIGCHLD */
		WHY("exit_signal %u reserved %u; ", p->exit_signal, p->reserved);
#undef WHY
	result(!why[0], "process-record", "%s", why[0] ? why : "");
}

/* Format 1.1's own VMA and mm flags against what the target set. */
static void check_flags(void)
{
	int missing = 0;

	if (img.head.minor < 1 || (!man.nr_vf && man.coredump_filter < 0))
		return;
	for (int i = 0; i < man.nr_vf; i++)
		missing += !man.vf[i].seen;
	if (img.vmas_undefined_flags || missing)
		result(0, "vma-flags", "%ld VMAs with undefined vm_flags bits, %d flagged VMAs not in the image",
		       img.vmas_undefined_flags, missing);
	else
		result(!img.flags_error[0], "vma-flags", "%s", img.flags_error);
	if (man.coredump_filter >= 0)
		result(img.have_mm && (long)(img.mm.mm_flags & CKPT_MM_DUMP_FILTER) == man.coredump_filter &&
		       !(img.mm.mm_flags & ~(CKPT_MM_DUMP_FILTER | CKPT_MM_THP_DISABLE | CKPT_MM_MDWE)),
		       "mm-flags", "mm_flags %#x, the target set coredump_filter %#lx",
		       img.mm.mm_flags, man.coredump_filter);
}

static void check_files(void)
{
	int missing = -1;

	if (img.head.minor < 1 || !man.nr_fds)
		return;
	for (int i = 0; i < man.nr_fds; i++)
		if (!man.fds[i].seen)
			missing = man.fds[i].fd;
	if (!img.files_in_order)
		result(0, "file-records", "%ld FILE records, out of order or out of place", img.files);
	else if (missing >= 0)
		result(0, "file-records", "no FILE record for fd %d", missing);
	else
		result(!img.file_error[0], "file-records", "%s", img.file_error);
}

static void check_all(const char *want_state, long want_tid, const char *release)
{
	result(img.have_task, "task-record", img.have_task ? "" : "no TASK record");
	if (man.pid >= 0)
		result(img.task.pid == man.pid, "pid", "image pid %d, target %ld",
		       img.task.pid, man.pid);
	if (want_tid >= 0)
		result(img.task.tid == want_tid, "tid", "image tid %d, expected %ld",
		       img.task.tid, want_tid);
	if (man.threads >= 0)
		result(img.task.nr_threads == man.threads, "threads",
		       "image has %u threads, target %ld", img.task.nr_threads, man.threads);
	if (man.threads >= 0 && img.head.minor >= 1)
		result(img.threads == man.threads && img.leaders == 1 &&
		       img.first_tid == img.task.pid && img.threads_in_order &&
		       img.threads_with_state == img.threads, "thread-records",
		       "%ld THREAD records (target %ld threads), %ld leaders, first tid %d "
		       "(pid %d), %s, %ld with registers and FPU state",
		       img.threads, man.threads, img.leaders, img.first_tid, img.task.pid,
		       img.threads_in_order ? "in order" : "out of order",
		       img.threads_with_state);
	if (want_state)
		result(!strcmp(state_name(img.task.state), want_state), "state",
		       "image state %s, expected %s", state_name(img.task.state), want_state);
	if (release)
		result(!strncmp(img.head.release, release, sizeof(img.head.release)),
		       "release", "image release '%.65s', expected '%s'",
		       img.head.release, release);
	if (man.min_vmas >= 0)
		result((long)img.vmas >= man.min_vmas, "vma-count",
		       "%llu VMA records, target has at least %ld",
		       (unsigned long long)img.vmas, man.min_vmas);
	result(img.vdso && img.vvar && !img.vdso_pages && !img.vvar_pages &&
	       !img.special_with_pages, "special-vmas",
	       "[vdso] %s with %d pages, [vvar] %s with %d pages, %ld special VMAs with pages",
	       img.vdso ? "present" : "MISSING", img.vdso_pages,
	       img.vvar ? "present" : "MISSING", img.vvar_pages, img.special_with_pages);
	check_ldt();
	check_process();
	check_files();
	check_flags();
	for (int i = 0; i < man.nr; i++) {
		struct region *r = &man.r[i];
		char name[80];

		snprintf(name, sizeof(name), "region/%s", r->name);
		result(r->pages == r->expected && r->matched == r->pattern, name,
		       "%ld pages (expected %ld), %ld with the pattern (expected %ld)",
		       r->pages, r->expected, r->matched, r->pattern);
	}
}

/*
 * Counts the addresses in every "page_addrs": [ "0x...", ... ] array of a
 * JSON document; whitespace and layout do not matter.
 */
static int read_json_pages(FILE *f)
{
	static char doc[64 << 20];
	size_t len = fread(doc, 1, sizeof(doc) - 1, f);
	const char *p = doc;
	long arrays = 0;

	doc[len] = 0;
	while ((p = strstr(p, "\"page_addrs\""))) {
		const char *end;

		p = strchr(p, '[');
		end = p ? strchr(p, ']') : NULL;
		if (!end)
			break;
		arrays++;
		while ((p = strchr(p, '"')) && p < end) {
			uint64_t a = strtoull(p + 1, NULL, 16);
			struct region *r = region_of(a);

			if (r)
				r->pages++;
			img.pages++;
			p = strchr(p + 1, '"');
			if (!p++)
				break;
		}
		p = end;
	}
	return arrays;
}

static int json_main(const char *json, const char *manifest)
{
	FILE *f = strcmp(json, "-") ? fopen(json, "r") : stdin;

	read_manifest(manifest);
	if (!f) {
		fprintf(stderr, "ckpt-imgcheck: %s: %s\n", json, strerror(errno));
		return 2;
	}
	if (!read_json_pages(f))
		result(0, "json", "no \"page_addrs\" arrays in %s", json);
	for (int i = 0; i < man.nr; i++) {
		struct region *r = &man.r[i];
		char name[80];

		snprintf(name, sizeof(name), "region/%s", r->name);
		result(r->pages == r->expected, name, "%ld pages (expected %ld)",
		       r->pages, r->expected);
	}
	print_summary();
	return failures ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: ckpt-imgcheck [--prefix P|--summary NAME] [--tid T] [--state S] "
		"[--release R] IMAGE|- MANIFEST\n"
		"       ckpt-imgcheck --json-pages [--prefix P|--summary NAME] JSON|- MANIFEST\n"
		"       ckpt-imgcheck --anon-foreign BYTE [--summary NAME] IMAGE|- MANIFEST\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *state = NULL, *release = NULL;
	long tid = -1;
	int i, json = 0;

	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--json-pages")) {
			json = 1;
			i--;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--prefix"))
			prefix = argv[i + 1];
		else if (!strcmp(argv[i], "--summary"))
			summary = argv[i + 1];
		else if (!strcmp(argv[i], "--tid"))
			tid = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--state"))
			state = argv[i + 1];
		else if (!strcmp(argv[i], "--release"))
			release = argv[i + 1];
		else if (!strcmp(argv[i], "--anon-foreign"))
			foreign_byte = (int)strtol(argv[i + 1], NULL, 0) & 0xff;
		else
			usage();
	}
	if (argc - i != 2)
		usage();
	if (json)
		return json_main(argv[i], argv[i + 1]);
	read_manifest(argv[i + 1]);
	in_fd = strcmp(argv[i], "-") ? open(argv[i], O_RDONLY) : 0;
	if (in_fd < 0) {
		fprintf(stderr, "ckpt-imgcheck: %s: %s\n", argv[i], strerror(errno));
		return 2;
	}
	crc_init();
	if (read_image()) {
		result(0, "image", "%s", img.error);
		print_summary();
		return 1;
	}
	result(1, "image", "%llu records, %llu VMAs, %llu pages, %llu bytes",
	       (unsigned long long)img.records + 1, (unsigned long long)img.vmas,
	       (unsigned long long)img.pages, (unsigned long long)offset);
	if (foreign_byte >= 0)
		result(!img.anon_foreign, "anon-foreign", "%ld pages of %#x bytes in ANON records",
		       img.anon_foreign, foreign_byte);
	else
		check_all(state, tid, release);
	print_summary();
	return failures ? 1 : 0;
}
