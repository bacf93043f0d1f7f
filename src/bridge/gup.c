// SPDX-License-Identifier: GPL-2.0
/*
 * Taking the target's pages: GUP as the core dumper's get_dump_page() uses
 * it, and what the core needs to know about and do with a page it holds.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "bridge.h"

/**
 * ckpt_gup() - take references on a run of the target's pages
 * @ref: the mm, read-locked (GUP is called without @locked, so the lock is
 *       held throughout and never dropped)
 * @addr: first address, page-aligned, in a VMA checked in this lock hold
 * @nr: pages wanted, all inside one VMA
 * @mode: CKPT_GUP_FAULT in anonymous memory, to fault in swapped-out pages;
 *        CKPT_GUP_NOFAULT to take only what is mapped now (file and shared
 *        mappings, where a fault would read the file or allocate);
 *        CKPT_GUP_FAULT_COW for one page of a private file mapping whose
 *        entry is a swapped-out copy-on-write copy
 * @pages: receives the pages; drop each with ckpt_page_put()
 *
 * FOLL_DUMP makes holes in anonymous memory and the zero page errors
 * instead of faults; FOLL_FORCE reads PROT_NONE and read-only mappings.
 * FOLL_ANON makes CKPT_GUP_FAULT refuse a VMA that is not anonymous, so
 * that no mistake of the caller's can fault in a file's pages.  Plain
 * FOLL_GET references, not pins: a pin would unshare COW pages.
 *
 * Return: pages taken (fewer than @nr if the run was cut short), or a
 * negative errno for @addr itself: -EFAULT for a hole, the zero page, or a
 * page GUP will not take.
 */
long ckpt_gup(struct ckpt_mm_ref *ref, u64 addr, u32 nr,
	      u32 mode, struct ckpt_page_ref **pages)
{
	unsigned int flags = FOLL_DUMP | FOLL_FORCE;

	if (mode == CKPT_GUP_NOFAULT)
		flags |= FOLL_NOFAULT;
	else if (mode == CKPT_GUP_FAULT)
		flags |= FOLL_ANON;
	return ckpt_compat_gup_remote(to_mm(ref), addr, nr, flags,
				      (struct page **)pages);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_gup);

/**
 * ckpt_page_is_anon() - is this page anonymous memory?
 * @ref: a page from ckpt_gup()
 *
 * In a private file mapping an anonymous page is a copy-on-write copy, the
 * process's own data; any other page is the file's page cache.
 *
 * Return: non-zero for an anonymous page.
 */
int ckpt_page_is_anon(struct ckpt_page_ref *ref)
{
	return PageAnon(to_page(ref));
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_page_is_anon);

/**
 * ckpt_page_put() - drop a reference from ckpt_gup()
 * @ref: the page
 */
void ckpt_page_put(struct ckpt_page_ref *ref)
{
	put_page(to_page(ref));
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_page_put);

/**
 * ckpt_page_copy() - copy a held page's contents, surviving memory errors
 * @ref: a page from ckpt_gup()
 * @dst: PAGE_SIZE bytes of kernel memory
 *
 * Every read of the target's memory comes here.  The copy is machine-check
 * safe, as the core dumper's dump_page_copy() is: an uncorrectable error in
 * the page fails the copy, not the machine.  Any task context, including a
 * worker's.
 *
 * Return: 0, or -EHWPOISON if the page's memory could not be read.
 */
int ckpt_page_copy(struct ckpt_page_ref *ref, void *dst)
{
	void *src = kmap_local_page(to_page(ref));
	unsigned long left = copy_mc_to_kernel(dst, src, PAGE_SIZE);

	kunmap_local(src);
	return left ? -EHWPOISON : 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_page_copy);
