/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the C bridge: how its opaque handles map onto kernel objects.
 */
#ifndef CKPT_BRIDGE_PRIV_H
#define CKPT_BRIDGE_PRIV_H

#include <linux/mm.h>
#include <linux/sched.h>

#include <ckpt/bridge.h>

#include "compat.h"

static inline struct task_struct *to_task(struct ckpt_task_ref *ref)
{
	return (struct task_struct *)ref;
}

static inline struct mm_struct *to_mm(struct ckpt_mm_ref *ref)
{
	return (struct mm_struct *)ref;
}

static inline struct file *to_file(struct ckpt_file_ref *ref)
{
	return (struct file *)ref;
}

static inline struct page *to_page(struct ckpt_page_ref *ref)
{
	return (struct page *)ref;
}

#endif /* CKPT_BRIDGE_PRIV_H */
