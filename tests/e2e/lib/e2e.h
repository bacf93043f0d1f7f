/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the end-to-end targets (which write known memory and describe it
 * in a manifest) and by ckpt-imgcheck (which reads an image back and checks
 * it against that manifest).
 *
 * Pattern: every 8-byte word of a patterned page holds e2e_word(its address,
 * seed), so a page's contents prove both that it was copied and from where.
 *
 * Manifest (text, one item per line):
 *   NAME START END EXPECTED_PAGES PATTERN_PAGES
 *	a region [START, END) (hex, page aligned) in which the image must hold
 *	exactly EXPECTED_PAGES pages, PATTERN_PAGES of them patterned
 *   @KEY VALUE...
 *	facts about the process: @pid, @seed, @threads, @ldt NR HEX, ...
 *   # comment
 */
#ifndef CKPT_E2E_H
#define CKPT_E2E_H

#include <stddef.h>
#include <stdint.h>

#define E2E_PAGE_SIZE	4096UL
#define E2E_SEED	0x636b70742d653265ULL	/* "ckpt-e2e" */

static inline uint64_t e2e_mix(uint64_t x)
{
	/* splitmix64 finaliser */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static inline uint64_t e2e_word(uint64_t addr, uint64_t seed)
{
	return e2e_mix(addr ^ seed);
}

/* Fill the page at @page (page aligned) with the pattern of @addr. */
static inline void e2e_fill_page_as(void *page, uint64_t addr, uint64_t seed)
{
	uint64_t *w = (uint64_t *)page;
	size_t i;

	for (i = 0; i < E2E_PAGE_SIZE / 8; i++)
		w[i] = e2e_word(addr + 8 * i, seed);
}

static inline void e2e_fill_page(void *page, uint64_t seed)
{
	e2e_fill_page_as(page, (uintptr_t)page, seed);
}

/* Does @data (one page) hold the pattern of the page at @addr? */
static inline int e2e_page_matches(const void *data, uint64_t addr, uint64_t seed)
{
	const uint64_t *w = (const uint64_t *)data;
	size_t i;

	for (i = 0; i < E2E_PAGE_SIZE / 8; i++)
		if (w[i] != e2e_word(addr + 8 * i, seed))
			return 0;
	return 1;
}

#endif /* CKPT_E2E_H */
