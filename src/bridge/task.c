// SPDX-License-Identifier: GPL-2.0
/*
 * The target task: lookup by pid, what it is doing, and its mm.
 */
#include <linux/pid.h>
#include <linux/ptrace.h>
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

/* The caller's own ptrace relation to one live thread of the target. */
static void ckpt_count_thread(struct task_struct *t, struct ckpt_task_info *out)
{
	out->nr_live++;
	/* io_uring workers cannot be traced; they run no user code. */
	if (t->flags & PF_IO_WORKER) {
		out->nr_io_workers++;
		return;
	}
	if (ptrace_parent(t) != current)
		return;
	out->nr_traced++;
	if (!task_is_traced(t))
		return;
	if (ckpt_thread_off_cpu(t))
		out->nr_ptrace_stopped++;
	else
		out->nr_leaving_cpu++;
}

/**
 * ckpt_task_describe() - identity of the target and who holds its threads
 * @ref: the target
 * @out: filled in
 *
 * A snapshot, taken under RCU: which threads are alive, which of them the
 * calling thread traces and holds in a ptrace stop, and a count of every
 * context switch the thread group ever made.  That count only grows, and it
 * grows whenever a thread of the group runs and leaves the CPU again, so
 * two equal snapshots with every live thread in a ptrace stop at both mean
 * that no thread ran in between.
 */
void ckpt_task_describe(struct ckpt_task_ref *ref, struct ckpt_task_info *out)
{
	struct task_struct *task = to_task(ref);
	struct signal_struct *sig = task->signal;
	struct task_struct *t;
	bool stopped = true, frozen_all = true;

	memset(out, 0, sizeof(*out));
	out->pid = task_tgid_vnr(task);
	out->tid = task_pid_vnr(task);
	get_task_comm(out->comm, task);

	rcu_read_lock();
	out->nr_threads = get_nr_threads(task);
	/* Threads that exited added their counts here (__exit_signal()). */
	out->switches = READ_ONCE(sig->nvcsw) + READ_ONCE(sig->nivcsw);
	for_each_thread(task, t) {
		stopped &= ckpt_thread_stopped(t);
		frozen_all &= ckpt_thread_frozen(t);
		out->switches += READ_ONCE(t->nvcsw) + READ_ONCE(t->nivcsw);
		if (!t->exit_state)
			ckpt_count_thread(t, out);
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
 * A group whose leader has exited (pthread_exit() in main) lives on in its
 * other threads: take the mm from the first of them that has one, as the
 * unexported find_lock_task_mm() does.  The reference pins the mm_struct
 * (mmgrab), not the address space: ckpt_mm_read_lock() takes that for each
 * lock hold, so a target killed during a slow dump is torn down at once.
 *
 * Return: 0, or -ESRCH if every thread has exited.
 */
int ckpt_task_mm_get(struct ckpt_task_ref *ref, struct ckpt_mm_ref **out)
{
	struct task_struct *task = to_task(ref);
	struct mm_struct *mm = NULL;
	struct task_struct *t;

	rcu_read_lock();
	for_each_thread(task, t) {
		task_lock(t);
		mm = t->mm;
		if (mm && !(t->flags & PF_KTHREAD))
			mmgrab(mm);
		else
			mm = NULL;
		task_unlock(t);
		if (mm)
			break;
	}
	rcu_read_unlock();
	if (!mm)
		return -ESRCH;
	*out = (struct ckpt_mm_ref *)mm;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_task_mm_get);

/* Does a thread of @p use @mm?  (process_shares_mm(), not exported.) */
static bool ckpt_process_uses_mm(struct task_struct *p, struct mm_struct *mm)
{
	struct task_struct *t;
	struct mm_struct *t_mm;

	for_each_thread(p, t) {
		t_mm = READ_ONCE(t->mm);
		if (t_mm)
			return t_mm == mm;
	}
	return false;
}

/**
 * ckpt_task_mm_shared() - does a process outside the target use its mm?
 * @ref: the target
 * @mm_ref: its mm
 *
 * A CLONE_VM child that is not a thread (vfork(), or clone() as some
 * runtimes use it) writes the same memory, and stopping the target does
 * not stop it.  MMF_MULTIPROCESS says whether there ever was one; only then
 * are the processes walked, as __set_oom_adj() walks them.
 *
 * Return: 1 if another process uses the mm now, else 0.
 */
int ckpt_task_mm_shared(struct ckpt_task_ref *ref, struct ckpt_mm_ref *mm_ref)
{
	struct task_struct *task = to_task(ref);
	struct mm_struct *mm = to_mm(mm_ref);
	struct task_struct *p;
	int shared = 0;

	if (!test_bit(MMF_MULTIPROCESS, &mm->flags))
		return 0;
	rcu_read_lock();
	for_each_process(p) {
		if (same_thread_group(p, task) || (p->flags & PF_KTHREAD))
			continue;
		if (ckpt_process_uses_mm(p, mm)) {
			shared = 1;
			break;
		}
	}
	rcu_read_unlock();
	return shared;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_task_mm_shared);
