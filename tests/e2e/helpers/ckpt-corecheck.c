// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-corecheck: check an ELF core written by `ckpt core` against the
 * target's manifest (format in ../lib/e2e.h), reading only <elf.h>: the
 * guest has no gdb.
 *
 *   ckpt-corecheck [--prefix P] CORE MANIFEST
 *
 * Checks: an x86-64 ET_CORE; one NT_PRSTATUS, NT_PRFPREG and NT_X86_XSTATE
 * per thread of the target, the leader's first, with user-space rip and
 * rsp; NT_PRPSINFO with the target's pid; NT_AUXV with AT_PAGESZ; NT_FILE
 * naming the target's data file; and per manifest region, read from the
 * PT_LOAD segments as gdb reads them, as many pages with the pattern as the
 * manifest says, and in the private file mapping the other pages read as
 * the file's own contents.  Prints one TAP line per check; exits 0 when
 * all passed, 1 when one failed, 2 on a usage or I/O error.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/e2e.h"

#define PAGE		E2E_PAGE_SIZE
#define MAX_REGIONS	256

static const char *prefix = "";
static int failures;

static void result(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%sok - %s%s", ok ? "" : "not ", prefix, name);
	if (fmt && *fmt) {
		printf(ok ? " # " : ": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	if (!ok)
		failures++;
}

static struct {
	struct { char name[64]; uint64_t start, end; long expected, pattern; } r[MAX_REGIONS];
	int nr;
	long pid, threads;
	char file[4096];	/* the data file behind "file_private" */
} man = { .pid = -1, .threads = -1 };

static void read_manifest(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[8192];

	if (!f) {
		fprintf(stderr, "ckpt-corecheck: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '@') {
			sscanf(line, "@pid %ld", &man.pid);
			sscanf(line, "@threads %ld", &man.threads);
			sscanf(line, "@file %4095s", man.file);
			continue;
		}
		if (line[0] == '#' || line[0] == '\n' || man.nr == MAX_REGIONS)
			continue;
		if (sscanf(line, "%63s %" SCNx64 " %" SCNx64 " %ld %ld", man.r[man.nr].name,
			   &man.r[man.nr].start, &man.r[man.nr].end, &man.r[man.nr].expected,
			   &man.r[man.nr].pattern) == 5)
			man.nr++;
	}
	fclose(f);
}

/*
 * Read with pread, never mmap: a mapped read of a hole in a tmpfs file
 * allocates a page, and the core of a sparse target is mostly holes.
 */
static int core_fd;
static size_t core_size;
static Elf64_Phdr *phdrs;
static size_t nr_phdrs;

static int read_at(void *buf, size_t len, uint64_t off)
{
	return off + len <= core_size && pread(core_fd, buf, len, off) == (ssize_t)len;
}

/* The page at @addr as gdb reads it: NULL if no segment has it in the file. */
static const unsigned char *page_at(uint64_t addr)
{
	static unsigned char page[PAGE];

	for (size_t i = 0; i < nr_phdrs; i++) {
		const Elf64_Phdr *p = &phdrs[i];

		if (p->p_type != PT_LOAD || addr < p->p_vaddr || addr >= p->p_vaddr + p->p_memsz)
			continue;
		if (addr + PAGE > p->p_vaddr + p->p_filesz)
			return NULL;
		return read_at(page, PAGE, p->p_offset + (addr - p->p_vaddr)) ? page : NULL;
	}
	return NULL;
}

static void check_notes(void)
{
	long prstatus = 0, fpregs = 0, xstate = 0, psinfo_pid = -1, bad_regs = 0;
	int first_is_leader = 0, auxv_pagesz = 0, file_named = 0;

	for (size_t i = 0; i < nr_phdrs; i++) {
		const Elf64_Phdr *p = &phdrs[i];
		unsigned char *notes;
		size_t off = 0, end = p->p_filesz;

		if (p->p_type != PT_NOTE)
			continue;
		notes = malloc(end);
		if (!notes || !read_at(notes, end, p->p_offset)) {
			free(notes);
			continue;
		}
		while (off + sizeof(Elf64_Nhdr) <= end) {
			const Elf64_Nhdr *n = (const void *)(notes + off);
			const unsigned char *desc = notes + off + sizeof(*n) + ((n->n_namesz + 3) & ~3u);

			if (desc + n->n_descsz > notes + end)
				break;
			if (n->n_type == NT_PRSTATUS && n->n_descsz == sizeof(struct elf_prstatus)) {
				const struct elf_prstatus *s = (const void *)desc;
				uint64_t rip = s->pr_reg[16], rsp = s->pr_reg[19];

				if (prstatus == 0)
					first_is_leader = s->pr_pid == man.pid;
				if (!rip || rip >= (1ull << 47) || !rsp || rsp >= (1ull << 47))
					bad_regs++;
				prstatus++;
			} else if (n->n_type == NT_PRFPREG && n->n_descsz == 512) {
				fpregs++;
			} else if (n->n_type == NT_X86_XSTATE && n->n_descsz > 512) {
				xstate++;
			} else if (n->n_type == NT_PRPSINFO && n->n_descsz == sizeof(struct elf_prpsinfo)) {
				psinfo_pid = ((const struct elf_prpsinfo *)desc)->pr_pid;
			} else if (n->n_type == NT_AUXV) {
				const uint64_t *a = (const void *)desc;

				for (size_t k = 0; k + 1 < n->n_descsz / 8; k += 2)
					if (a[k] == AT_PAGESZ && a[k + 1] == PAGE)
						auxv_pagesz = 1;
			} else if (n->n_type == NT_FILE && man.file[0]) {
				file_named = memmem(desc, n->n_descsz, man.file, strlen(man.file)) != NULL;
			}
			off = desc - notes + ((n->n_descsz + 3) & ~3u);
		}
		free(notes);
	}
	result(prstatus == man.threads && first_is_leader && !bad_regs, "core/prstatus",
	       "%ld NT_PRSTATUS (target %ld threads), the leader's %s, %ld without user rip/rsp",
	       prstatus, man.threads, first_is_leader ? "first" : "NOT first", bad_regs);
	result(fpregs == man.threads && xstate == man.threads, "core/fpu",
	       "%ld NT_PRFPREG, %ld NT_X86_XSTATE for %ld threads", fpregs, xstate, man.threads);
	result(psinfo_pid == man.pid, "core/prpsinfo", "pid %ld, target %ld", psinfo_pid, man.pid);
	result(auxv_pagesz, "core/auxv", auxv_pagesz ? "" : "no NT_AUXV with AT_PAGESZ %lu", PAGE);
	result(!man.file[0] || file_named, "core/nt-file", "%s %s", man.file,
	       file_named ? "named" : "not named in NT_FILE");
}

static void check_regions(void)
{
	for (int i = 0; i < man.nr; i++) {
		long matched = 0, file_own = 0, unreadable = 0, pages = 0;
		char name[96];

		for (uint64_t a = man.r[i].start; a < man.r[i].end; a += PAGE) {
			const unsigned char *p = page_at(a);

			pages++;
			if (!p) {
				unreadable++;
				continue;
			}
			if (e2e_page_matches(p, a, E2E_SEED))
				matched++;
			else if (e2e_page_matches(p, a - man.r[i].start, ~E2E_SEED))
				file_own++;
		}
		snprintf(name, sizeof(name), "core/region/%s", man.r[i].name);
		if (!strcmp(man.r[i].name, "file_private"))
			/* the written pages from the image, the rest from the file */
			result(matched == man.r[i].pattern && matched + file_own == pages, name,
			       "%ld of %ld pages with the pattern (expected %ld), %ld the file's own, %ld unreadable",
			       matched, pages, man.r[i].pattern, file_own, unreadable);
		else
			result(matched == man.r[i].pattern, name,
			       "%ld of %ld pages with the pattern (expected %ld), %ld unreadable",
			       matched, pages, man.r[i].pattern, unreadable);
	}
}

int main(int argc, char **argv)
{
	Elf64_Ehdr eh;
	struct stat st;
	int i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);	/* every line out, even if killed */
	if (argc == 5 && !strcmp(argv[1], "--prefix")) {
		prefix = argv[2];
		i = 3;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: ckpt-corecheck [--prefix P] CORE MANIFEST\n");
		return 2;
	}
	read_manifest(argv[i + 1]);
	core_fd = open(argv[i], O_RDONLY);
	if (core_fd < 0 || fstat(core_fd, &st)) {
		fprintf(stderr, "ckpt-corecheck: %s: %s\n", argv[i], strerror(errno));
		return 2;
	}
	core_size = st.st_size;
	if (!read_at(&eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_CORE || eh.e_machine != EM_X86_64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr)) {
		result(0, "core/elf", "not an x86-64 ELF core");
		return 1;
	}
	nr_phdrs = eh.e_phnum;
	if (nr_phdrs == PN_XNUM) {
		Elf64_Shdr sh;

		nr_phdrs = read_at(&sh, sizeof(sh), eh.e_shoff) ? sh.sh_info : 0;
	}
	phdrs = calloc(nr_phdrs ? nr_phdrs : 1, sizeof(*phdrs));
	if (!phdrs || !read_at(phdrs, nr_phdrs * sizeof(*phdrs), eh.e_phoff)) {
		result(0, "core/elf", "%zu program headers at %llu: not in the file", nr_phdrs,
		       (unsigned long long)eh.e_phoff);
		return 1;
	}
	result(1, "core/elf", "%zu program headers, %zu bytes", nr_phdrs, core_size);
	check_notes();
	check_regions();
	return failures ? 1 : 0;
}
