// SPDX-License-Identifier: GPL-2.0
/*
 * The target task: lookup by pid, what it is doing, and its mm.
 */
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "bridge.h"

/**
 * ckpt_task_get() - take a reference on the task a pid names
 * @pid: pid in the caller's pid namespace
 * @out: receives the reference; drop it with ckpt_task_put()
 *
 * Return: 0; -ESRCH if no such task (or it is gone already); -EINVAL for a
 * kernel thread, which has no user memory to dump.
 */
int ckpt_task_get(s32 pid, struct ckpt_task_ref **out)
{
	struct task_struct *task;
	struct pid *p;

	if (pid <= 0)
		return -ESRCH;
	p = find_get_pid(pid);
	if (!p)
		return -ESRCH;
	task = get_pid_task(p, PIDTYPE_PID);
	put_pid(p);
	if (!task)
		return -ESRCH;
	if (task->flags & PF_KTHREAD) {
		put_task_struct(task);
		return -EINVAL;
	}
	*out = (struct ckpt_task_ref *)task;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_task_get);

/**
 * ckpt_task_put() - drop a reference from ckpt_task_get()
 * @ref: the reference
 */
void ckpt_task_put(struct ckpt_task_ref *ref)
{
	put_task_struct(to_task(ref));
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_task_put);

/* Stopped, traced or frozen threads run no user code; dead ones neither. */
static bool ckpt_thread_stopped(struct task_struct *t)
{
	return task_is_stopped_or_traced(t) || t->exit_state;
}

/*
 * Frozen by the system freezer (TASK_FROZEN; frozen() is not exported) or
 * by the cgroup v2 freezer (->frozen).
 */
static bool ckpt_thread_frozen(struct task_struct *t)
{
	if ((READ_ONCE(t->__state) & TASK_FROZEN) || t->exit_state)
		return true;
#ifdef CONFIG_CGROUPS
	return t->frozen;
#else
	return false;
#endif
}

/**
 * ckpt_task_describe() - identity of the target and whether it can run
 * @ref: the target
 * @out: filled in
 *
 * Quiescence is a snapshot: the caller keeps the target stopped.
 */
void ckpt_task_describe(struct ckpt_task_ref *ref, struct ckpt_task_info *out)
{
	struct task_struct *task = to_task(ref);
	struct task_struct *t;
	bool stopped = true, frozen_all = true;

	memset(out, 0, sizeof(*out));
	out->pid = task_tgid_vnr(task);
	out->tid = task_pid_vnr(task);
	get_task_comm(out->comm, task);

	rcu_read_lock();
	out->nr_threads = get_nr_threads(task);
	for_each_thread(task, t) {
		stopped &= ckpt_thread_stopped(t);
		frozen_all &= ckpt_thread_frozen(t);
	}
	rcu_read_unlock();

	if (stopped)
		out->quiescence = CKPT_QUIESCENT_STOPPED;
	else if (frozen_all)
		out->quiescence = CKPT_QUIESCENT_FROZEN;
	else
		out->quiescence = CKPT_QUIESCENT_NONE;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_task_describe);

/**
 * ckpt_task_mm_get() - take a reference on the target's mm
 * @ref: the target
 * @out: receives the reference; drop it with ckpt_mm_put()
 *
 * Return: 0, or -ESRCH if the task has exited (a zombie has no mm).
 */
int ckpt_task_mm_get(struct ckpt_task_ref *ref, struct ckpt_mm_ref **out)
{
	struct mm_struct *mm = get_task_mm(to_task(ref));

	if (!mm)
		return -ESRCH;
	*out = (struct ckpt_mm_ref *)mm;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_task_mm_get);
