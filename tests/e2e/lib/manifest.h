/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Writing a manifest (format in e2e.h) from a target. The manifest is written
 * to PATH.tmp and renamed to PATH, so a reader that sees PATH sees all of it:
 * its appearance is the target's "ready" signal.
 */
#ifndef CKPT_E2E_MANIFEST_H
#define CKPT_E2E_MANIFEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "e2e.h"

struct manifest {
	FILE *f;
	char path[4096];
	char tmp[4200];
};

static inline void e2e_die(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	fprintf(stderr, "target: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(err));
	exit(2);
}

/* @path NULL or "-": stdout. */
static inline void manifest_open(struct manifest *m, const char *path)
{
	m->path[0] = 0;
	if (!path || !strcmp(path, "-")) {
		m->f = stdout;
		return;
	}
	snprintf(m->path, sizeof(m->path), "%s", path);
	snprintf(m->tmp, sizeof(m->tmp), "%s.tmp", path);
	m->f = fopen(m->tmp, "w");
	if (!m->f)
		e2e_die("open %s", m->tmp);
}

static inline void manifest_region(struct manifest *m, const char *name,
				   uintptr_t start, uintptr_t end,
				   long expected, long pattern)
{
	fprintf(m->f, "%s %#lx %#lx %ld %ld\n", name, (unsigned long)start,
		(unsigned long)end, expected, pattern);
}

static inline void manifest_fact(struct manifest *m, const char *fmt, ...)
{
	va_list ap;

	fputc('@', m->f);
	va_start(ap, fmt);
	vfprintf(m->f, fmt, ap);
	va_end(ap);
	fputc('\n', m->f);
}

static inline void manifest_close(struct manifest *m)
{
	if (fflush(m->f) || (m->path[0] && fclose(m->f)))
		e2e_die("write manifest");
	if (m->path[0] && rename(m->tmp, m->path))
		e2e_die("rename %s", m->tmp);
}

/* Round inwards to whole pages. */
static inline uintptr_t page_up(uintptr_t a)
{
	return (a + E2E_PAGE_SIZE - 1) & ~(E2E_PAGE_SIZE - 1);
}

static inline uintptr_t page_down(uintptr_t a)
{
	return a & ~(E2E_PAGE_SIZE - 1);
}

#endif /* CKPT_E2E_MANIFEST_H */
