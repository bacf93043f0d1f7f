// SPDX-License-Identifier: GPL-2.0
/*
 * What the threads of the target share, read as procfs reads it: ids,
 * credentials, limits, signal dispositions, the saved auxiliary vector, the
 * executable, cwd and root, and the open file descriptors.  Ids are
 * translated into the caller's pid and user namespaces, as procfs shows
 * them to the caller.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/kdev_t.h>
#include <linux/magic.h>
#include <linux/path.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/resource.h>
#include <linux/sched/coredump.h>
#include <linux/sched/task.h>
#include <linux/uidgid.h>

#include <uapi/linux/ckpt.h>
#include <kunit/visibility.h>

#include "bridge.h"

static_assert(_NSIG == CKPT_NR_SIGNALS);
static_assert(RLIM_NLIMITS == CKPT_NR_RLIMITS);

/*
 * lock_task_sighand() without the unexported __lock_task_sighand(): the
 * sighand of an exiting task goes away, and its slab is SLAB_TYPESAFE_BY_RCU,
 * so the pointer is checked again under the lock.
 */
static struct sighand_struct *ckpt_lock_sighand(struct task_struct *t,
						unsigned long *flags)
{
	struct sighand_struct *sighand;

	rcu_read_lock();
	for (;;) {
		sighand = rcu_dereference(t->sighand);
		if (!sighand)
			break;
		spin_lock_irqsave(&sighand->siglock, *flags);
		if (likely(sighand == rcu_access_pointer(t->sighand)))
			break;
		spin_unlock_irqrestore(&sighand->siglock, *flags);
	}
	rcu_read_unlock();
	return sighand;
}

static void ckpt_describe_signals(struct task_struct *t,
				  struct ckpt_process *out)
{
	struct sighand_struct *sighand;
	unsigned long flags;
	int i;

	sighand = ckpt_lock_sighand(t, &flags);
	if (!sighand)
		return;
	for (i = 0; i < CKPT_NR_SIGNALS; i++) {
		const struct sigaction *sa = &sighand->action[i].sa;

		out->action[i].handler = (unsigned long)sa->sa_handler;
		out->action[i].flags = sa->sa_flags;
#ifdef __ARCH_HAS_SA_RESTORER
		out->action[i].restorer = (unsigned long)sa->sa_restorer;
#endif
		out->action[i].mask = sa->sa_mask.sig[0];
	}
	out->sig_pending = t->signal->shared_pending.signal.sig[0];
	spin_unlock_irqrestore(&sighand->siglock, flags);
}

static void ckpt_describe_creds(struct task_struct *t,
				struct ckpt_process *out)
{
	struct user_namespace *ns = current_user_ns();
	const struct cred *cred = get_task_cred(t);

	out->uid[0] = from_kuid_munged(ns, cred->uid);
	out->uid[1] = from_kuid_munged(ns, cred->euid);
	out->uid[2] = from_kuid_munged(ns, cred->suid);
	out->uid[3] = from_kuid_munged(ns, cred->fsuid);
	out->gid[0] = from_kgid_munged(ns, cred->gid);
	out->gid[1] = from_kgid_munged(ns, cred->egid);
	out->gid[2] = from_kgid_munged(ns, cred->sgid);
	out->gid[3] = from_kgid_munged(ns, cred->fsgid);
	out->cap_inheritable = ckpt_compat_cap(cred->cap_inheritable);
	out->cap_permitted = ckpt_compat_cap(cred->cap_permitted);
	out->cap_effective = ckpt_compat_cap(cred->cap_effective);
	out->cap_bset = ckpt_compat_cap(cred->cap_bset);
	out->cap_ambient = ckpt_compat_cap(cred->cap_ambient);
	out->securebits = cred->securebits;
	out->nr_groups = cred->group_info->ngroups;
	put_cred(cred);
}

/**
 * ckpt_process_describe() - the fixed part of the PROCESS record
 * @ref: a live thread of the target
 * @mm: the target's mm
 * @out: receives struct ckpt_process; of the lengths of what follows it,
 *	only @nr_groups is set
 *
 * @out->nr_groups is the count of supplementary groups now: a hint for the
 * buffer that ckpt_process_groups() fills.
 */
void ckpt_process_describe(struct ckpt_task_ref *ref, struct ckpt_mm_ref *mm,
			   struct ckpt_process *out)
{
	struct task_struct *t = to_task(ref), *leader;
	int i;

	memset(out, 0, sizeof(*out));
	rcu_read_lock();
	leader = t->group_leader;
	out->pid = task_tgid_nr_ns(t, task_active_pid_ns(current));
	out->ns_pid = task_tgid_nr_ns(t, task_active_pid_ns(t));
	out->ppid = task_ppid_nr_ns(t, task_active_pid_ns(current));
	out->pgid = task_pgrp_nr_ns(t, task_active_pid_ns(current));
	out->sid = task_session_nr_ns(t, task_active_pid_ns(current));
	out->exit_signal = leader->exit_signal;
	out->pdeath_signal = leader->pdeath_signal;
	rcu_read_unlock();

	if (task_no_new_privs(t))
		out->flags |= CKPT_PROCESS_NO_NEW_PRIVS;
	if (t->signal->is_child_subreaper)
		out->flags |= CKPT_PROCESS_CHILD_SUBREAPER;
	out->personality = t->personality;
	out->dumpable = get_dumpable(to_mm(mm));

	task_lock(t);
	if (t->fs)
		out->umask = t->fs->umask;
	task_unlock(t);

	/* As do_prlimit() reads them. */
	task_lock(t->group_leader);
	for (i = 0; i < CKPT_NR_RLIMITS; i++) {
		out->rlim[i][0] = t->signal->rlim[i].rlim_cur;
		out->rlim[i][1] = t->signal->rlim[i].rlim_max;
	}
	task_unlock(t->group_leader);

	ckpt_describe_signals(t, out);
	ckpt_describe_creds(t, out);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_process_describe);

static_assert(sizeof(kernel_siginfo_t) <= CKPT_SIGINFO_SIZE);

/**
 * ckpt_sigqueue_copy() - the siginfos of a queue of pending signals
 * @ref: a thread of the target
 * @shared: the process's shared queue instead of the thread's own
 * @buf: receives up to @capacity siginfos of CKPT_SIGINFO_SIZE bytes, each
 *	the kernel_siginfo_t zero-padded as siginfo_t is
 * @capacity: siginfos @buf has room for (0: only count)
 * @nr: receives the siginfos written, in the queue's order
 * @queued: receives the signals the queue holds
 *
 * The signal lock is held for the copy only.
 *
 * Return: 0, or -ESRCH if the thread has released its signal state.
 */
int ckpt_sigqueue_copy(struct ckpt_task_ref *ref, int shared, void *buf,
		       u32 capacity, u32 *nr, u32 *queued)
{
	struct task_struct *t = to_task(ref);
	struct sighand_struct *sighand;
	struct sigpending *pending;
	struct sigqueue *q;
	unsigned long flags;
	u8 *out = buf;

	*nr = 0;
	*queued = 0;
	sighand = ckpt_lock_sighand(t, &flags);
	if (!sighand)
		return -ESRCH;
	pending = shared ? &t->signal->shared_pending : &t->pending;
	list_for_each_entry(q, &pending->list, list) {
		if (*nr < capacity) {
			memset(out, 0, CKPT_SIGINFO_SIZE);
			memcpy(out, &q->info, sizeof(q->info));
			out += CKPT_SIGINFO_SIZE;
			(*nr)++;
		}
		(*queued)++;
	}
	spin_unlock_irqrestore(&sighand->siglock, flags);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_sigqueue_copy);

/**
 * ckpt_process_groups() - the target's supplementary groups
 * @ref: a live thread of the target
 * @buf: receives the gids, in the caller's user namespace
 * @capacity: entries @buf holds
 *
 * Return: the number of groups, or -ENOSPC if there are more than
 * @capacity (they changed since ckpt_process_describe(): ask again).
 */
int ckpt_process_groups(struct ckpt_task_ref *ref, __u32 *buf, __u32 capacity)
{
	struct user_namespace *ns = current_user_ns();
	const struct cred *cred = get_task_cred(to_task(ref));
	const struct group_info *groups = cred->group_info;
	int i, ret = groups->ngroups;

	if (groups->ngroups > capacity) {
		ret = -ENOSPC;
		goto out;
	}
	for (i = 0; i < groups->ngroups; i++)
		buf[i] = from_kgid_munged(ns, groups->gid[i]);
out:
	put_cred(cred);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_process_groups);

/**
 * ckpt_mm_saved_auxv() - the auxiliary vector the process started with
 * @mm: the target's mm
 * @buf: receives type/value pairs up to and including AT_NULL
 * @capacity: 64-bit words @buf holds
 *
 * Return: the number of words written (even, at least 2), or -EOVERFLOW.
 */
int ckpt_mm_saved_auxv(struct ckpt_mm_ref *mm, __u64 *buf, __u32 capacity)
{
	const unsigned long *auxv = to_mm(mm)->saved_auxv;
	unsigned int n = 0;

	/* execve() fills it before the process runs; it ends with AT_NULL. */
	while (n + 2 <= AT_VECTOR_SIZE) {
		if (n + 2 > capacity)
			return -EOVERFLOW;
		buf[n] = auxv[n];
		buf[n + 1] = auxv[n + 1];
		n += 2;
		if (buf[n - 2] == AT_NULL)
			return n;
	}
	return -EOVERFLOW;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_mm_saved_auxv);

/* d_path() into the start of @buf.  Return: bytes with the NUL, or -errno. */
static int ckpt_path_name(const struct path *path, char *buf, u32 size)
{
	char *name = d_path(path, buf, size);
	size_t n;

	if (IS_ERR(name))
		return PTR_ERR(name);
	n = strlen(name) + 1;
	memmove(buf, name, n);
	return n;
}

/**
 * ckpt_process_path() - the executable, cwd or root of the target
 * @ref: a live thread of the target
 * @mm: the target's mm
 * @which: CKPT_PATH_EXE, CKPT_PATH_CWD or CKPT_PATH_ROOT
 * @buf: receives the path as readlink(2) on /proc/PID/{exe,cwd,root} gives
 *	it, NUL-terminated
 * @size: bytes in @buf
 *
 * Return: the bytes written with the NUL, 0 if the process has no such
 * path, or -ENAMETOOLONG if it does not fit.
 */
int ckpt_process_path(struct ckpt_task_ref *ref, struct ckpt_mm_ref *mm,
		      int which, char *buf, __u32 size)
{
	struct task_struct *t = to_task(ref);
	struct path path = {};
	struct file *exe;
	int ret;

	if (which == CKPT_PATH_EXE) {
		exe = ckpt_compat_mm_exe_file(to_mm(mm));
		if (!exe)
			return 0;
		ret = ckpt_path_name(&exe->f_path, buf, size);
		fput(exe);
		return ret;
	}

	task_lock(t);
	if (t->fs) {
		if (which == CKPT_PATH_CWD)
			get_fs_pwd(t->fs, &path);
		else
			get_fs_root(t->fs, &path);
	}
	task_unlock(t);
	if (!path.dentry)
		return 0;
	ret = ckpt_path_name(&path, buf, size);
	path_put(&path);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_process_path);

/**
 * ckpt_task_next_file() - the target's lowest open descriptor from @from
 * @ref: a live thread of the target, whose descriptor table is read
 * @from: the first descriptor number to look at
 * @out: receives a reference on the open file; drop it with ckpt_file_put()
 * @fd: receives its descriptor number
 * @fd_flags: receives CKPT_FILE_CLOEXEC if it is close-on-exec, else 0
 *
 * Return: 0, or -ENOENT after the last descriptor.
 */
int ckpt_task_next_file(struct ckpt_task_ref *ref, __u32 from,
			struct ckpt_file_ref **out, __u32 *fd, __u32 *fd_flags)
{
	unsigned int n = from;
	bool cloexec = false;
	struct file *file;

	file = ckpt_compat_next_file(to_task(ref), &n, &cloexec);
	if (!file)
		return -ENOENT;
	*out = (struct ckpt_file_ref *)file;
	*fd = n;
	*fd_flags = cloexec ? CKPT_FILE_CLOEXEC : 0;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_task_next_file);

static u32 ckpt_file_kind(const struct inode *inode)
{
	switch (inode->i_mode & S_IFMT) {
	case S_IFREG:
		break;
	case S_IFDIR:
		return CKPT_FILE_DIRECTORY;
	case S_IFIFO:
		return CKPT_FILE_FIFO;
	case S_IFSOCK:
		return CKPT_FILE_SOCKET;
	case S_IFCHR:
		return CKPT_FILE_CHAR;
	case S_IFBLK:
		return CKPT_FILE_BLOCK;
	case S_IFLNK:
		return CKPT_FILE_SYMLINK;
	default:
		return CKPT_FILE_ANON;
	}
	if (inode->i_sb->s_magic == ANON_INODE_FS_MAGIC)
		return CKPT_FILE_ANON;
#ifdef PIDFS_MAGIC
	if (inode->i_sb->s_magic == PIDFS_MAGIC)
		return CKPT_FILE_ANON;
#endif
	return CKPT_FILE_REGULAR;
}

/**
 * ckpt_file_describe() - the FILE record of an open file
 * @ref: the file, from ckpt_task_next_file()
 * @out: receives struct ckpt_file but @fd, @fd_flags and @path_len
 * @path: receives the path as readlink(2) on /proc/PID/fd/N gives it
 * @size: bytes in @path
 *
 * Return: the path's bytes with the NUL, or -ENAMETOOLONG.
 */
int ckpt_file_describe(struct ckpt_file_ref *ref, struct ckpt_file *out,
		       char *path, __u32 size)
{
	struct file *file = to_file(ref);
	struct inode *inode = file_inode(file);

	memset(out, 0, sizeof(*out));
	/* open(O_CLOEXEC) leaves the flag in f_flags; fd_flags has the truth. */
	out->f_flags = file->f_flags & ~O_CLOEXEC;
	out->kind = ckpt_file_kind(inode);
	out->pos = file->f_pos;
	out->dev = new_encode_dev(inode->i_sb->s_dev);
	out->ino = inode->i_ino;
	out->size = i_size_read(inode);
	out->mode = inode->i_mode;
	if (S_ISCHR(inode->i_mode) || S_ISBLK(inode->i_mode))
		out->rdev = new_encode_dev(inode->i_rdev);
	return ckpt_path_name(&file->f_path, path, size);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_file_describe);
