/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where the supported kernels (6.1 and 6.12) differ for us.
 * An out-of-tree module has to name versions; nothing else may.
 */
#ifndef CKPT_COMPAT_H
#define CKPT_COMPAT_H

#include <linux/capability.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/shmem_fs.h>
#include <linux/uio.h>
#include <linux/xarray.h>
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

/*
 * The uptodate folio of a shmem file at @index, unlocked, with a reference,
 * read in from swap if it is there; NULL for a hole or a page fallocate()
 * reserved and nobody wrote.  Nothing is allocated for those.
 *
 * 6.12 exports shmem_get_folio(), whose SGP_READ mode is exactly that.
 * 6.1 does not: a page in memory is looked up, and only a swap entry goes
 * through shmem_read_mapping_page_gfp(), the one export that swaps in.  It
 * would allocate a zeroed page for a hole, so a hole punched between the
 * look-up and the swap-in comes back as a zero page that the file keeps:
 * the contents are still right (a hole reads as zeros).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
static inline int ckpt_compat_shmem_read(struct address_space *mapping,
					 pgoff_t index, struct folio **foliop)
{
	int err = shmem_get_folio(mapping->host, index, 0, foliop, SGP_READ);

	if (!err && *foliop)
		folio_unlock(*foliop);
	return err;
}
#else
static inline int ckpt_compat_shmem_read(struct address_space *mapping,
					 pgoff_t index, struct folio **foliop)
{
	void *entry = xa_load(&mapping->i_pages, index);
	struct folio *folio;
	struct page *page;

	*foliop = NULL;
	if (xa_is_value(entry)) {
		page = shmem_read_mapping_page_gfp(mapping, index,
						   mapping_gfp_mask(mapping));
		if (IS_ERR(page))
			return PTR_ERR(page);
		*foliop = page_folio(page);
		return 0;
	}
	folio = __filemap_get_folio(mapping, index, 0, 0);
	if (!folio)
		return 0;
	if (!folio_test_uptodate(folio)) {
		folio_put(folio);
		return 0;
	}
	*foliop = folio;
	return 0;
}
#endif

/* 6.3 made the registered length of a thread's struct rseq variable. */
static inline u32 ckpt_compat_rseq_len(struct task_struct *t)
{
#ifdef CONFIG_RSEQ
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return t->rseq ? t->rseq_len : 0;
#else
	return t->rseq ? 32 : 0;	/* ORIG_RSEQ_SIZE */
#endif
#else
	return 0;
#endif
}

/* 6.3 made kernel_cap_t one 64-bit word. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
static inline u64 ckpt_compat_cap(kernel_cap_t cap)
{
	return cap.val;
}
#else
static inline u64 ckpt_compat_cap(kernel_cap_t cap)
{
	return (u64)cap.cap[1] << 32 | cap.cap[0];
}
#endif

/*
 * get_mm_exe_file() is not exported.  6.7 made files SLAB_TYPESAFE_BY_RCU,
 * with get_file_rcu() rechecking the pointer after taking the reference.
 */
static inline struct file *ckpt_compat_mm_exe_file(struct mm_struct *mm)
{
	struct file *file;

	rcu_read_lock();
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	file = get_file_rcu(&mm->exe_file);
#else
	file = rcu_dereference(mm->exe_file);
	if (file && !get_file_rcu(file))
		file = NULL;
#endif
	rcu_read_unlock();
	return file;
}

/*
 * The open file at the lowest descriptor >= *fd of @t's table, with a
 * reference, and whether that descriptor is close-on-exec.  6.7 made the
 * lookup take the reference (task_lookup_next_fdget_rcu()).
 */
static inline struct file *ckpt_compat_next_file(struct task_struct *t,
						 unsigned int *fd,
						 bool *cloexec)
{
	struct file *file;

	rcu_read_lock();
	for (;;) {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
		file = task_lookup_next_fdget_rcu(t, fd);
#else
		file = task_lookup_next_fd_rcu(t, fd);
		if (file && !get_file_rcu(file)) {
			/* closed meanwhile: it is gone from the table */
			(*fd)++;
			continue;
		}
#endif
		break;
	}
	if (file) {
		task_lock(t);
		*cloexec = t->files &&
			   test_bit(*fd, files_fdtable(t->files)->close_on_exec);
		task_unlock(t);
	}
	rcu_read_unlock();
	return file;
}

/* 6.1 names iov_iter directions by the old READ/WRITE constants. */
#ifndef ITER_SOURCE
#define ITER_SOURCE WRITE
#endif

#endif /* CKPT_COMPAT_H */
