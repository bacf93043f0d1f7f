// SPDX-License-Identifier: GPL-2.0
/*
 * Shared memory (MAP_SHARED|MAP_ANONYMOUS, memfd, SysV shm, tmpfs files)
 * read by page-cache index, not through the target's page tables.
 *
 * A shared mapping's data lives in its shmem file; the target's page
 * tables show only the pages it happened to touch (a child forked after
 * its parent filled a region maps none of them).  So the core asks the
 * file: which indexes hold an entry (a page, or a page on swap), and the
 * page at each one, read in from swap if it is there.  A hole, or a page
 * fallocate() reserved but nobody wrote, holds no data and is never
 * allocated (ckpt_compat_shmem_read()).
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/shmem_fs.h>
#include <linux/xarray.h>
#include <kunit/visibility.h>

#include "bridge.h"

/* Index of the last page at least partly inside the file, or -1 if none. */
static s64 ckpt_shmem_last_index(struct inode *inode)
{
	loff_t size = i_size_read(inode);

	return size > 0 ? (s64)((size - 1) >> PAGE_SHIFT) : -1;
}

/**
 * ckpt_shmem_next() - the next index of a shmem file that may hold data
 * @ref: the file of a VMA with CKPT_VMA_T_SHMEM
 * @index: first page index to look at
 * @last: last page index of interest
 *
 * Looks up the page cache without locks or allocations (xa_find() takes
 * the RCU read lock).  An entry is a page or a swapped-out page; a page
 * found here may yet hold no data (fallocated, never written), which
 * ckpt_shmem_get() tells.
 *
 * Return: the first index in [@index, @last] that has an entry and lies
 * inside the file, or @last + 1 if there is none.
 */
u64 ckpt_shmem_next(struct ckpt_file_ref *ref, u64 index, u64 last)
{
	struct address_space *mapping = to_file(ref)->f_mapping;
	s64 eof = ckpt_shmem_last_index(mapping->host);
	unsigned long found = index;

	if (eof < 0 || index > (u64)eof || index > last)
		return last + 1;
	if (!xa_find(&mapping->i_pages, &found, min_t(u64, last, eof),
		     XA_PRESENT))
		return last + 1;
	/* Inside a large folio, xa_find() may name its first index. */
	return max_t(u64, found, index);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_shmem_next);

/**
 * ckpt_shmem_get() - take the pages of a shmem file from an index on
 * @ref: the file of a VMA with CKPT_VMA_T_SHMEM
 * @index: page index in the file
 * @nr: most pages wanted
 * @pages: receives the pages; drop each with ckpt_page_put()
 *
 * The pages come from the one folio at @index (a large folio gives up to
 * @nr of its pages, in order), swapped in first if it is on swap.  Nothing
 * is allocated for a hole.  May sleep: swap-in reads and the folio lock.
 *
 * Return: pages taken; 0 if @index holds no data (a hole, a page that
 * fallocate() reserved and nobody wrote, or past the end of the file);
 * -EHWPOISON if the page was lost to a memory or swap-in error; another
 * negative errno (-ENOMEM, -EIO, -EINTR) if it could not be read.
 */
long ckpt_shmem_get(struct ckpt_file_ref *ref, u64 index, u32 nr,
		    struct ckpt_page_ref **pages)
{
	struct inode *inode = to_file(ref)->f_mapping->host;
	struct folio *folio;
	long taken, i;
	int err;

	if (!nr || (s64)index > ckpt_shmem_last_index(inode))
		return 0;
	err = ckpt_compat_shmem_read(to_file(ref)->f_mapping, index, &folio);
	if (err == -EINVAL && (s64)index > ckpt_shmem_last_index(inode))
		return 0;	/* truncated meanwhile */
	if (err == -EIO)
		return -EHWPOISON;	/* a poisoned swap entry */
	if (err)
		return err;
	if (!folio)
		return 0;

	taken = min_t(u64, nr, folio->index + folio_nr_pages(folio) - index);
	for (i = 0; i < taken; i++) {
		struct page *page = folio_file_page(folio, index + i);

		if (PageHWPoison(page)) {
			taken = i;
			break;
		}
		pages[i] = (struct ckpt_page_ref *)page;
	}
	if (!taken) {
		folio_put(folio);
		return -EHWPOISON;
	}
	/* One reference per page handed out; the lookup's is the first. */
	folio_ref_add(folio, taken - 1);
	return taken;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_shmem_get);
