/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where the supported kernels (6.1 and 6.12) differ for us.
 * An out-of-tree module has to name versions; nothing else may.
 */
#ifndef CKPT_COMPAT_H
#define CKPT_COMPAT_H

#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/version.h>

/* 6.5 dropped the vmas argument of get_user_pages_remote(). */
static inline long ckpt_compat_gup_remote(struct mm_struct *mm,
					  unsigned long start,
					  unsigned long nr_pages,
					  unsigned int gup_flags,
					  struct page **pages)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return get_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL);
#else
	return get_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, NULL);
#endif
}

/* 6.1 names iov_iter directions by the old READ/WRITE constants. */
#ifndef ITER_SOURCE
#define ITER_SOURCE WRITE
#endif

#endif /* CKPT_COMPAT_H */
