/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to the C bridge: how its opaque handles map onto kernel objects.
 */
#ifndef CKPT_BRIDGE_PRIV_H
#define CKPT_BRIDGE_PRIV_H

#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/wait.h>

#include <ckpt/bridge.h>

#include <uapi/linux/ckpt.h>

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

/* Stopped, traced or frozen threads run no user code; dead ones neither. */
static inline bool ckpt_thread_stopped(struct task_struct *t)
{
	return task_is_stopped_or_traced(t) || t->exit_state;
}

/*
 * Has @t left the CPU?  A tracee that has just entered its ptrace stop has
 * already told its tracer, and may still be on its way out of schedule()
 * (ptrace_check_attach() waits for this with the unexported
 * wait_task_inactive()).
 */
static inline bool ckpt_thread_off_cpu(struct task_struct *t)
{
#ifdef CONFIG_SMP
	return !READ_ONCE(t->on_cpu);
#else
	return t != current;
#endif
}

/*
 * Per open /dev/ckpt: the threads of a restore that have finished, and
 * room for the last one's ranges to unmap, so that CKPT_IOC_RESTORE_FINISH
 * allocates nothing: it runs after the point of no return.
 */
struct ckpt_restore_session {
	/*
	 * The mm CKPT_IOC_RESTORE rebuilt through this open file, or NULL:
	 * compared, never dereferenced.  CKPT_IOC_RESTORE_FINISH acts on
	 * that mm's threads alone, whatever their credentials have become.
	 */
	struct mm_struct *restored_mm;
	atomic_t finished;
	wait_queue_head_t wq;
	struct ckpt_range ranges[CKPT_RESTORE_MAX_UNMAP];
};

long ckpt_copy_args(void *dst, size_t size, const void __user *src, u32 min_size);

struct ckpt_restore_finish_args;
long ckpt_restore_finish(struct ckpt_restore_session *session,
			 struct ckpt_restore_finish_args __user *uargs);

#endif /* CKPT_BRIDGE_PRIV_H */
