// SPDX-License-Identifier: GPL-2.0
/*
 * Restore: the facilities the C++ core's ckpt_restore() builds the caller's
 * address space with, and CKPT_IOC_RESTORE_FINISH, which leaves the
 * restorer's mappings and returns to user mode as the restored thread.
 *
 * Everything here acts on current: a restorer rebuilds itself, as exec
 * does, so no other process's memory is touched.
 */
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/shmem_fs.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/segment.h>
#include <kunit/visibility.h>

#include <uapi/linux/ckpt.h>

#include "bridge.h"
#include "compat.h"

/**
 * ckpt_file_read() - read from the image, at its position
 * @ref: from ckpt_file_get_input()
 * @buf: kernel memory
 * @len: bytes wanted
 *
 * Return: the bytes read, fewer than @len only at end of file, or a
 * negative errno (-EINTR if a signal interrupted the read).
 */
long ckpt_file_read(struct ckpt_file_ref *ref, void *buf, size_t len)
{
	struct file *file = to_file(ref);
	loff_t *pos = (file->f_mode & FMODE_STREAM) ? NULL : &file->f_pos;
	size_t done = 0;
	ssize_t ret;

	while (done < len) {
		ret = kernel_read(file, buf + done, len - done, pos);
		if (ret < 0)
			return ret;
		if (ret == 0)
			break;
		done += ret;
	}
	return done;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_file_read);

/**
 * ckpt_restore_open() - reopen a mapped file by its path, checking it
 * @path: NUL-terminated, as the image names it
 * @ino: the inode the image recorded
 * @dev: its device, new_encode_dev() as in the image
 * @min_size: bytes the mapping needs the file to have
 * @writable: open it for writing too (a shared mapping that may write)
 * @out: receives the reference; drop it with ckpt_file_put()
 *
 * Return: 0; -ESTALE if @path is now another file or shorter than
 * @min_size; or the errno of the open.
 */
int ckpt_restore_open(const char *path, u64 ino, u64 dev, u64 min_size,
		      int writable, struct ckpt_file_ref **out)
{
	struct file *file = filp_open(path, (writable ? O_RDWR : O_RDONLY) |
				      O_LARGEFILE, 0);
	struct inode *inode;

	if (IS_ERR(file))
		return PTR_ERR(file);
	inode = file_inode(file);
	if (inode->i_ino != ino || new_encode_dev(inode->i_sb->s_dev) != dev ||
	    i_size_read(inode) < min_size) {
		fput(file);
		return -ESTALE;
	}
	*out = (struct ckpt_file_ref *)file;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_restore_open);

/**
 * ckpt_restore_shmem_create() - new shared memory for an image's object
 * @name: its name ("memfd:x", "SYSV0000002a"): /proc/PID/maps shows it
 *	with a leading '/' and " (deleted)", as it did the dumped one
 * @size: its size in bytes
 * @out: receives a reference; drop it with ckpt_file_put()
 *
 * A memfd or a SysV segment has no path to reopen: the restore makes a new
 * object as memfd_create() does (VM_NORESERVE: accounted as written).
 *
 * Return: 0, or a negative errno.
 */
int ckpt_restore_shmem_create(const char *name, u64 size,
			      struct ckpt_file_ref **out)
{
	struct file *file;

	if (size > MAX_LFS_FILESIZE)
		return -EINVAL;
	file = shmem_file_setup(name, size, VM_NORESERVE);
	if (IS_ERR(file))
		return PTR_ERR(file);
	*out = (struct ckpt_file_ref *)file;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_restore_shmem_create);

/**
 * ckpt_restore_shmem_grow() - make a restored object at least @size bytes
 * @ref: from ckpt_restore_shmem_create()
 * @size: bytes another VMA of the object maps
 *
 * Return: 0, or a negative errno.
 */
int ckpt_restore_shmem_grow(struct ckpt_file_ref *ref, u64 size)
{
	struct file *file = to_file(ref);

	if (size > MAX_LFS_FILESIZE)
		return -EINVAL;
	if (i_size_read(file_inode(file)) >= size)
		return 0;
	return vfs_truncate(&file->f_path, size);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_restore_shmem_grow);

/**
 * ckpt_restore_file_write() - write page contents into a restored object
 * @ref: from ckpt_restore_shmem_create()
 * @buf: kernel memory
 * @len: bytes
 * @pos: offset in the object
 *
 * Through the file, not a mapping: a read-only shared mapping cannot be
 * written even with FOLL_FORCE.
 *
 * Return: 0, or a negative errno (-EIO for a short write).
 */
int ckpt_restore_file_write(struct ckpt_file_ref *ref, const void *buf,
			    size_t len, u64 pos)
{
	loff_t off = pos;
	ssize_t done = kernel_write(to_file(ref), buf, len, &off);

	if (done < 0)
		return done;
	return done == len ? 0 : -EIO;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_restore_file_write);

/**
 * ckpt_restore_user_limit() - the end of the caller's user address space
 *
 * Return: TASK_SIZE of current.
 */
u64 ckpt_restore_user_limit(void)
{
	return TASK_SIZE;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_restore_user_limit);

/**
 * ckpt_restore_map() - map one VMA of the image into current at its place
 * @start: first address
 * @end: address after the last byte
 * @prot: PROT_* bits
 * @shared: MAP_SHARED (of @file, or anonymous) instead of MAP_PRIVATE
 * @growsdown: MAP_GROWSDOWN (a stack)
 * @noreserve: MAP_NORESERVE (no swap space reserved)
 * @file: the file to map, or NULL for anonymous memory
 * @pgoff: offset into @file, in pages
 *
 * Never replaces a mapping (MAP_FIXED_NOREPLACE).
 *
 * Return: 0; -EEXIST if current has a mapping in [@start, @end); or the
 * errno of the mmap.
 */
int ckpt_restore_map(u64 start, u64 end, u32 prot, int shared, int growsdown,
		     int noreserve, struct ckpt_file_ref *file, u64 pgoff)
{
	unsigned long flags = MAP_FIXED_NOREPLACE;
	unsigned long addr;

	flags |= shared ? MAP_SHARED : MAP_PRIVATE;
	if (!file)
		flags |= MAP_ANONYMOUS;
	if (growsdown)
		flags |= MAP_GROWSDOWN;
	if (noreserve)
		flags |= MAP_NORESERVE;
	addr = vm_mmap(file ? to_file(file) : NULL, start, end - start, prot,
		       flags, file ? pgoff << PAGE_SHIFT : 0);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	if (addr != start) {
		vm_munmap(addr, end - start);
		return -EEXIST;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_restore_map);

/**
 * ckpt_restore_put_advice() - report a restored VMA's attributes to current
 * @uaddr: user address of the restorer's array of struct ckpt_restore_advice
 * @index: the entry to write
 * @advice: what to write there
 *
 * Return: 0, or -EFAULT.
 */
int ckpt_restore_put_advice(u64 uaddr, u32 index,
			    const struct ckpt_restore_advice *advice)
{
	struct ckpt_restore_advice __user *array = u64_to_user_ptr(uaddr);

	if (copy_to_user(&array[index], advice, sizeof(*advice)))
		return -EFAULT;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_restore_put_advice);

/**
 * ckpt_restore_put_ldt() - hand an image's LDT to current, its restorer
 * @uaddr: user address of room for @nr descriptors
 * @entries: the descriptors, checked
 * @nr: how many
 *
 * Return: 0, or -EFAULT.
 */
int ckpt_restore_put_ldt(u64 uaddr, const void *entries, u32 nr)
{
	if (copy_to_user(u64_to_user_ptr(uaddr), entries, (size_t)nr * 8))
		return -EFAULT;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_restore_put_ldt);

/**
 * ckpt_restore_write() - write page contents into current's memory
 * @addr: user address, page-aligned
 * @buf: kernel memory
 * @len: bytes, whole pages
 *
 * Writes as ptrace's PTRACE_POKEDATA does (FOLL_FORCE), so read-only and
 * PROT_NONE private mappings are written too, by copy on write.  Through
 * current->mm, up to 16 pages per hold of its lock: access_process_vm()
 * takes the lock for every page, and finds no mm for a kernel thread that
 * borrowed one (as a KUnit test does).
 *
 * Return: 0, -EFAULT if some page could not be written, or -EINTR on a
 * fatal signal.
 */
int ckpt_restore_write(u64 addr, const void *buf, size_t len)
{
	struct mm_struct *mm = current->mm;
	struct page *pages[16];
	unsigned long left = len >> PAGE_SHIFT;
	const u8 *src = buf;
	long got, i;

	if (!mm)
		return -EFAULT;
	while (left) {
		if (mmap_read_lock_killable(mm))
			return -EINTR;
		got = ckpt_compat_gup_remote(mm, addr,
					     min_t(unsigned long, left, ARRAY_SIZE(pages)),
					     FOLL_FORCE | FOLL_WRITE, pages);
		mmap_read_unlock(mm);
		if (got <= 0)
			return got ? (int)got : -EFAULT;
		for (i = 0; i < got; i++) {
			void *kaddr = kmap_local_page(pages[i]);

			memcpy(kaddr, src, PAGE_SIZE);
			kunmap_local(kaddr);
			set_page_dirty_lock(pages[i]);
			put_page(pages[i]);
			src += PAGE_SIZE;
		}
		addr += got << PAGE_SHIFT;
		left -= got;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_restore_write);

/**
 * ckpt_restore_set_mm() - set current's mm bounds from an MM record
 * @rec: the record (its flags and map_count are not used)
 *
 * Return: 0, or -EINTR if a fatal signal interrupted the wait for the lock.
 */
int ckpt_restore_set_mm(const struct ckpt_mm *rec)
{
	struct mm_struct *mm = current->mm;

	if (mmap_write_lock_killable(mm))
		return -EINTR;
	mm->start_code = rec->start_code;
	mm->end_code = rec->end_code;
	mm->start_data = rec->start_data;
	mm->end_data = rec->end_data;
	mm->start_brk = rec->start_brk;
	mm->brk = rec->brk;
	mm->start_stack = rec->start_stack;
	spin_lock(&mm->arg_lock);
	mm->arg_start = rec->arg_start;
	mm->arg_end = rec->arg_end;
	mm->env_start = rec->env_start;
	mm->env_end = rec->env_end;
	spin_unlock(&mm->arg_lock);
	mmap_write_unlock(mm);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_restore_set_mm);

/* The flags a user may set, as sigreturn allows (FIX_EFLAGS). */
#define CKPT_USER_EFLAGS (X86_EFLAGS_AC | X86_EFLAGS_OF | X86_EFLAGS_DF | \
			  X86_EFLAGS_TF | X86_EFLAGS_SF | X86_EFLAGS_ZF | \
			  X86_EFLAGS_AF | X86_EFLAGS_PF | X86_EFLAGS_CF | \
			  X86_EFLAGS_RF)

/* Indices into ckpt_restore_finish_args.regs (struct user_regs_struct). */
enum {
	R_R15, R_R14, R_R13, R_R12, R_BP, R_BX, R_R11, R_R10, R_R9, R_R8,
	R_AX, R_CX, R_DX, R_SI, R_DI, R_ORIG_AX, R_IP, R_CS, R_FLAGS, R_SP,
};

/**
 * ckpt_restore_finish() - CKPT_IOC_RESTORE_FINISH
 * @session: the open /dev/ckpt's count of finished threads
 * @uargs: the caller's struct ckpt_restore_finish_args
 *
 * Allocates nothing: it runs after the restorer told ckpt restore that the
 * process is back.
 *
 * Return: the restored thread's ax (the ioctl's return value is what the
 * thread finds in ax), or a negative errno with nothing changed.
 */
long ckpt_restore_finish(struct ckpt_restore_session *session,
			 struct ckpt_restore_finish_args __user *uargs)
{
	struct ckpt_restore_finish_args args;
	struct pt_regs *regs = current_pt_regs();
	struct ckpt_range *ranges;
	sigset_t blocked;
	long ret;
	u32 i;

	ret = ckpt_copy_args(&args, sizeof(args), uargs,
			     CKPT_RESTORE_FINISH_ARGS_SIZE_VER0);
	if (ret < 0)
		return ret;
	if ((args.flags & ~(CKPT_RESTORE_FINISH_THREAD |
			    CKPT_RESTORE_FINISH_AFTER_LEADER)) || args.reserved ||
	    args.nr_unmap > CKPT_RESTORE_MAX_UNMAP ||
	    args.nr_close > CKPT_RESTORE_MAX_CLOSE)
		return -EINVAL;
	if ((args.flags & CKPT_RESTORE_FINISH_THREAD) &&
	    (args.nr_unmap || args.nr_close || args.wait_threads))
		return -EINVAL;
	if ((args.flags & CKPT_RESTORE_FINISH_AFTER_LEADER) &&
	    !(args.flags & CKPT_RESTORE_FINISH_THREAD))
		return -EINVAL;
	if (args.regs[R_IP] >= TASK_SIZE || args.regs[R_SP] >= TASK_SIZE)
		return -EINVAL;

	/* Only the last thread unmaps: the session's ranges are its own. */
	ranges = session->ranges;
	if (copy_from_user(ranges, u64_to_user_ptr(args.unmap),
			   args.nr_unmap * sizeof(*ranges)))
		return -EFAULT;
	for (i = 0; i < args.nr_unmap; i++) {
		if (ranges[i].start >= ranges[i].end || ranges[i].end > TASK_SIZE ||
		    !PAGE_ALIGNED(ranges[i].start))
			return -EINVAL;
	}
	/* The other threads must have left the restorer's code. */
	if (args.wait_threads) {
		ret = wait_event_killable(session->wq,
					  atomic_read(&session->finished) >=
					  (int)args.wait_threads);
		if (ret)
			return ret;
	}
	/* From here on the restorer's own memory goes: no way back. */
	for (i = 0; i < args.nr_unmap; i++)
		vm_munmap(ranges[i].start, ranges[i].end - ranges[i].start);
	/* The file this ioctl runs on stays referenced until it returns. */
	for (i = 0; i < args.nr_close; i++)
		close_fd(args.close_fds[i]);

	blocked.sig[0] = args.blocked;
	sigdelsetmask(&blocked, sigmask(SIGKILL) | sigmask(SIGSTOP));
	sigprocmask(SIG_SETMASK, &blocked, NULL);

	regs->r15 = args.regs[R_R15];
	regs->r14 = args.regs[R_R14];
	regs->r13 = args.regs[R_R13];
	regs->r12 = args.regs[R_R12];
	regs->bp = args.regs[R_BP];
	regs->bx = args.regs[R_BX];
	regs->r11 = args.regs[R_R11];
	regs->r10 = args.regs[R_R10];
	regs->r9 = args.regs[R_R9];
	regs->r8 = args.regs[R_R8];
	regs->cx = args.regs[R_CX];
	regs->dx = args.regs[R_DX];
	regs->si = args.regs[R_SI];
	regs->di = args.regs[R_DI];
	regs->ip = args.regs[R_IP];
	regs->sp = args.regs[R_SP];
	regs->flags = (regs->flags & ~CKPT_USER_EFLAGS) |
		      (args.regs[R_FLAGS] & CKPT_USER_EFLAGS);
	regs->cs = __USER_CS;
	regs->ss = __USER_DS;
	/* Not in a system call any more: no restart on the way out. */
	regs->orig_ax = -1;
	if (args.flags & CKPT_RESTORE_FINISH_THREAD) {
		/* Past its last user instruction of the restorer's. */
		atomic_inc(&session->finished);
		wake_up_all(&session->wq);
	}
	/*
	 * The main thread had exited at the dump: it finishes by exiting
	 * again (nothing wakes us when it does, so look each tick).
	 */
	while ((args.flags & CKPT_RESTORE_FINISH_AFTER_LEADER) &&
	       !READ_ONCE(current->group_leader->exit_state)) {
		if (fatal_signal_pending(current))
			return -EINTR;
		schedule_timeout_killable(1);
	}
	return args.regs[R_AX];
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_restore_finish);
