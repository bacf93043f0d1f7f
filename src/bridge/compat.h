/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where the supported kernels (6.1 and 6.12) differ for us.
 * An out-of-tree module has to name versions; nothing else may.
 */
#ifndef CKPT_COMPAT_H
#define CKPT_COMPAT_H

#include <linux/fs.h>
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

/*
 * 6.8 made a backing file's f_path the real (lower) file; the path and
 * inode a user sees, as /proc/PID/maps shows them on overlayfs, are
 * file_user_path() and file_user_inode().  Before 6.8 f_path was that.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define ckpt_file_user_path(file)	file_user_path(file)
#define ckpt_file_user_inode(file)	file_user_inode(file)
#else
#define ckpt_file_user_path(file)	(&(file)->f_path)
#define ckpt_file_user_inode(file)	file_inode(file)
#endif

/* 6.1 names iov_iter directions by the old READ/WRITE constants. */
#ifndef ITER_SOURCE
#define ITER_SOURCE WRITE
#endif

#endif /* CKPT_COMPAT_H */
