// SPDX-License-Identifier: GPL-2.0
/*
 * The target's threads, in the image's order, and each one's user-visible
 * CPU and signal state, read as ptrace and the core dumper (fs/binfmt_elf.c)
 * read it: through the task's regsets.  A thread held in a ptrace stop has
 * saved all of it and cannot change it, so what is read is exactly what the
 * thread will resume with.
 */
#include <linux/elf.h>
#include <linux/errno.h>
#include <linux/futex.h>
#include <linux/kallsyms.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/regset.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/string.h>
#include <linux/time64.h>
#include <linux/timekeeping.h>
#include <asm/processor.h>
#include <asm/ptrace.h>

#include <uapi/linux/ckpt.h>
#include <kunit/visibility.h>

#include "../../src/bridge/bridge.h"

/* The image's order: the group leader first, then by tid. */
static s64 ckpt_thread_key(struct task_struct *t)
{
	return thread_group_leader(t) ? 0 : task_pid_vnr(t);
}

/**
 * ckpt_task_next_thread() - the target's next thread, in the image's order
 * @ref: any thread of the target
 * @after: the key of the thread returned last, or -1 for the first
 * @out: receives a reference on the thread; drop it with ckpt_task_put()
 * @key: receives its key, for the next call
 *
 * Threads that have exited (a zombie leader) hold no state; io_uring
 * workers run no user code.  Both are left out.  Each call walks the group
 * under RCU: no list that grows with the thread count is kept.
 *
 * Return: 0, or -ENOENT after the last thread.
 */
int ckpt_task_next_thread(struct ckpt_task_ref *ref, s64 after,
			  struct ckpt_task_ref **out, s64 *key)
{
	struct task_struct *task = to_task(ref), *t, *next = NULL;
	s64 next_key = S64_MAX, k;

	rcu_read_lock();
	for_each_thread(task, t) {
		if (t->exit_state || (t->flags & PF_IO_WORKER))
			continue;
		k = ckpt_thread_key(t);
		if (k > after && k < next_key) {
			next = t;
			next_key = k;
		}
	}
	if (next)
		get_task_struct(next);
	rcu_read_unlock();
	if (!next)
		return -ENOENT;
	*out = (struct ckpt_task_ref *)next;
	*key = next_key;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_task_next_thread);

static const struct user_regset *ckpt_regset(struct task_struct *t,
					     unsigned int note)
{
	const struct user_regset_view *view = task_user_regset_view(t);
	unsigned int i;

	for (i = 0; i < view->n; i++)
		if (view->regsets[i].core_note_type == note)
			return &view->regsets[i];
	return NULL;
}

/* The FPU regset: XSAVE where the CPU has it, else FXSAVE. */
static const struct user_regset *ckpt_fpu_regset(struct task_struct *t)
{
	const struct user_regset *rs = ckpt_regset(t, NT_X86_XSTATE);

	if (rs && rs->n)
		return rs;
	return ckpt_regset(t, NT_PRFPREG);
}

/**
 * ckpt_thread_fpu_size() - bytes of FPU state a thread record carries
 * @ref: a thread
 *
 * Return: the size of the XSAVE area ptrace gives (NT_X86_XSTATE) on this
 * machine, or of the 512-byte FXSAVE area on a CPU without XSAVE.
 */
u32 ckpt_thread_fpu_size(struct ckpt_task_ref *ref)
{
	const struct user_regset *rs = ckpt_fpu_regset(to_task(ref));

	return rs ? rs->n * rs->size : 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_thread_fpu_size);

static int ckpt_thread_regs(struct task_struct *t, struct ckpt_thread *out,
			    void *fpu, u32 fpu_cap)
{
	const struct user_regset *rs = ckpt_regset(t, NT_PRSTATUS);
	int ret;

	if (!rs)
		return -EOPNOTSUPP;
	ret = regset_get(t, rs, sizeof(out->regs), out->regs);
	if (ret < 0)
		return ret;
	if (ret != sizeof(out->regs))
		return -EIO;

	rs = ckpt_fpu_regset(t);
	if (!rs || rs->n * rs->size > fpu_cap)
		return -EOVERFLOW;
	ret = regset_get(t, rs, rs->n * rs->size, fpu);
	if (ret < 0)
		return ret;
	out->xstate_size = ret;
	if (rs->core_note_type == NT_X86_XSTATE && ret >= 472)
		memcpy(&out->xfeatures, (u8 *)fpu + 464, sizeof(u64));
	else
		out->xfeatures = 3;	/* FXSAVE: x87 and SSE */
	return 0;
}

/**
 * ckpt_thread_describe() - one thread's CPU and signal state
 * @ref: a thread from ckpt_task_next_thread()
 * @out: filled in: the payload of its THREAD record
 * @fpu: receives its FPU state, @out->xstate_size bytes
 * @fpu_cap: size of @fpu; ckpt_thread_fpu_size() is enough
 *
 * The state is exact for a thread in a ptrace stop.  A thread that could
 * run (a live dump) is marked CKPT_THREAD_RUNNING: its registers are what
 * it saved when it last left the CPU.
 *
 * Return: 0; -EOVERFLOW if @fpu is too small; another negative errno if a
 * regset cannot be read.
 */
int ckpt_thread_describe(struct ckpt_task_ref *ref, struct ckpt_thread *out,
			 void *fpu, u32 fpu_cap)
{
	struct task_struct *t = to_task(ref);
	struct pt_regs *regs = task_pt_regs(t);
	int i;

	memset(out, 0, sizeof(*out));
	out->tid = task_pid_vnr(t);
	out->ns_tid = task_pid_nr_ns(t, task_active_pid_ns(t));
	if (thread_group_leader(t))
		out->flags |= CKPT_THREAD_LEADER;
	if (!ckpt_thread_stopped(t) || !ckpt_thread_off_cpu(t))
		out->flags |= CKPT_THREAD_RUNNING;
	out->syscall_nr = -1;
	if ((long)regs->orig_ax >= 0) {
		out->flags |= CKPT_THREAD_IN_SYSCALL;
		out->syscall_nr = regs->orig_ax;
	}

	out->sig_blocked = t->blocked.sig[0];
	out->sig_pending = t->pending.signal.sig[0];
	out->sas_ss_sp = t->sas_ss_sp;
	out->sas_ss_size = t->sas_ss_size;
	out->sas_ss_flags = t->sas_ss_flags;
#ifdef CONFIG_RSEQ
	out->rseq = (unsigned long)t->rseq;
	out->rseq_sig = t->rseq_sig;
#endif
	out->rseq_len = ckpt_compat_rseq_len(t);
#ifdef CONFIG_FUTEX
	out->robust_list = (unsigned long)t->robust_list;
#endif
	out->clear_child_tid = (unsigned long)t->clear_child_tid;
	for (i = 0; i < CKPT_THREAD_NR_TLS; i++)
		memcpy(&out->tls[i], &t->thread.tls_array[i], sizeof(u64));
	return ckpt_thread_regs(t, out, fpu, fpu_cap);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_thread_describe);

/* Now on @clockid, a clock an hrtimer sleep can be on; false if not one. */
static bool ckpt_clock_now(clockid_t clockid, s64 *now)
{
	switch (clockid) {
	case CLOCK_MONOTONIC:
		*now = ktime_get_ns();
		return true;
	case CLOCK_REALTIME:
		*now = ktime_get_real_ns();
		return true;
	case CLOCK_BOOTTIME:
		*now = ktime_get_boottime_ns();
		return true;
	case CLOCK_TAI:
		*now = ktime_get_clocktai_ns();
		return true;
	default:
		return false;	/* CPU-time clocks: no deadline in time */
	}
}

/*
 * Which wait set the restart block: its function is static in each case,
 * so it is known by name.  Alarm-clock sleeps (whose block holds an alarm
 * type, not a clock) and kernels without kallsyms get EINTR instead.
 */
static u32 ckpt_restart_kind(struct restart_block *rb)
{
	static const struct {
		const char *fn;
		u32 kind;
	} kinds[] = {
		{ "hrtimer_nanosleep_restart", CKPT_RESTART_SLEEP },
		{ "do_restart_poll", CKPT_RESTART_POLL },
		{ "futex_wait_restart", CKPT_RESTART_FUTEX },
	};
	char name[KSYM_SYMBOL_LEN];
	int i;

	if (!rb->fn)
		return 0;
	snprintf(name, sizeof(name), "%ps", rb->fn);
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(name, kinds[i].fn))
			return kinds[i].kind;
	return 0;
}

/**
 * ckpt_thread_restart() - the restart state of a thread's interrupted wait
 * @ref: a thread in a ptrace stop
 * @out: filled in: the payload of its RESTART record
 *
 * A timed wait (a relative sleep, poll with a timeout, a futex wait with
 * one) that the stop interrupted returned -ERESTART_RESTARTBLOCK and keeps
 * its deadline in the thread's restart block until the thread resumes.
 * The deadline is given as the time left, which means the same on any
 * clock of any boot.
 *
 * Return: 1 if @out describes such a wait, 0 if the thread is in none.
 */
int ckpt_thread_restart(struct ckpt_task_ref *ref, struct ckpt_restart *out)
{
	struct task_struct *t = to_task(ref);
	struct pt_regs *regs = task_pt_regs(t);
	struct restart_block *rb = &t->restart_block;
	s64 now, end;

	memset(out, 0, sizeof(*out));
	if (!user_64bit_mode(regs) || (long)regs->orig_ax < 0 ||
	    regs->ax != (unsigned long)-ERESTART_RESTARTBLOCK)
		return 0;
	out->kind = ckpt_restart_kind(rb);
	switch (out->kind) {
	case CKPT_RESTART_SLEEP:
		if (!ckpt_clock_now(rb->nanosleep.clockid, &now))
			return 0;
		end = rb->nanosleep.expires;
		out->clockid = rb->nanosleep.clockid;
		if (rb->nanosleep.type == TT_NATIVE)
			out->rmtp = (unsigned long)rb->nanosleep.rmtp;
		break;
	case CKPT_RESTART_POLL:
		if (!rb->poll.has_timeout)
			return 0;
		end = rb->poll.tv_sec * NSEC_PER_SEC + rb->poll.tv_nsec;
		now = ktime_get_ns();
		break;
	case CKPT_RESTART_FUTEX:
		/* The call's own op says its clock; the deadline is the host's. */
		end = rb->futex.time;
		now = (regs->si & FUTEX_CLOCK_REALTIME) ? ktime_get_real_ns() :
							  ktime_get_ns();
		break;
	default:
		return 0;
	}
	out->tid = task_pid_vnr(t);
	out->remaining_ns = end > now ? end - now : 0;
	return 1;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_thread_restart);
