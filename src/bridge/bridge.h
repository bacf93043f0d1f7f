/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the C bridge: how its opaque handles map onto kernel objects,
 * and the few places where 6.1 and 6.12 differ.
 */
#ifndef CKPT_BRIDGE_PRIV_H
#define CKPT_BRIDGE_PRIV_H

#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/uio.h>
#include <linux/version.h>

#include <ckpt/bridge.h>

static inline struct task_struct *to_task(struct ckpt_task_ref *ref)
{
	return (struct task_struct *)ref;
}

static inline struct mm_struct *to_mm(struct ckpt_mm_ref *ref)
{
	return (struct mm_struct *)ref;
}

static inline struct page *to_page(struct ckpt_page_ref *ref)
{
	return (struct page *)ref;
}

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

#endif /* CKPT_BRIDGE_PRIV_H */
