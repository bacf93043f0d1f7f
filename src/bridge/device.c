// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ckpt: the module's entry point.
 *
 * CKPT_IOC_CHECKPOINT streams an image of a process's memory into a file
 * descriptor of the caller.  This file checks who may ask at all and what
 * was asked; the dump itself is the C++ core's ckpt_checkpoint(), which
 * also requires the caller to trace every thread of the target.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <uapi/linux/ckpt.h>

#include "bridge.h"

static_assert(sizeof(struct ckpt_checkpoint_args) ==
	      CKPT_CHECKPOINT_ARGS_SIZE_VER1);
static_assert(sizeof(struct ckpt_rec_hdr) == 24);

static bool allow_tracers;
module_param(allow_tracers, bool, 0644);
MODULE_PARM_DESC(allow_tracers,
		 "Let callers without CAP_CHECKPOINT_RESTORE dump the processes they trace (default: no)");

/* The dumps' default checksum (CKPT_CSUM_*): asked for at load, or timed. */
#define CKPT_CSUM_TIMED	(~0U)
static unsigned int checksum = CKPT_CSUM_TIMED;
static const char * const ckpt_checksum_names[] = {
	[CKPT_CSUM_CRC32C] = "crc32c",
	[CKPT_CSUM_XXH64] = "xxh64",
};

static int ckpt_checksum_set(const char *val, const struct kernel_param *kp)
{
	int i;

	if (sysfs_streq(val, "auto")) {
		checksum = CKPT_CSUM_TIMED;
		return 0;
	}
	i = sysfs_match_string(ckpt_checksum_names, val);
	if (i < 0)
		return i;
	checksum = i;
	return 0;
}

static int ckpt_checksum_get(char *buf, const struct kernel_param *kp)
{
	if (checksum >= ARRAY_SIZE(ckpt_checksum_names))
		return scnprintf(buf, PAGE_SIZE, "auto\n");
	return scnprintf(buf, PAGE_SIZE, "%s\n", ckpt_checksum_names[checksum]);
}

static const struct kernel_param_ops ckpt_checksum_ops = {
	.set = ckpt_checksum_set,
	.get = ckpt_checksum_get,
};

/* Read-only once loaded: it then shows what the module chose. */
module_param_cb(checksum, &ckpt_checksum_ops, NULL, 0444);
MODULE_PARM_DESC(checksum,
		 "Default record checksum of images: auto (timed at load: CRC-32C unless it costs over 1.5 times XXH64), crc32c or xxh64");

/*
 * Tracing the target is required of every caller (the core checks it);
 * that alone gives what PTRACE_SEIZE allowed, which is what gcore reads
 * with ptrace.  The capability is required on top unless the administrator
 * chose otherwise: /dev/ckpt is a new way in, and a bug in it should not
 * be reachable by every user who may ptrace.
 */
static bool ckpt_may_checkpoint(void)
{
	return READ_ONCE(allow_tracers) || capable(CAP_CHECKPOINT_RESTORE) ||
	       capable(CAP_SYS_ADMIN);
}

/**
 * ckpt_copy_args() - copy a size-first, versioned ioctl argument
 * @dst: the kernel's struct
 * @size: sizeof(*@dst)
 * @src: the caller's struct, whose first __u32 is its own size
 * @min_size: the size of the oldest layout
 *
 * An older caller's smaller struct is zero-extended; a newer caller's extra
 * fields must be zero (we do not know them).
 *
 * Return: the caller's size, or -EFAULT, or -EINVAL for a size out of
 * range or non-zero fields beyond @size.
 */
long ckpt_copy_args(void *dst, size_t size, const void __user *src, u32 min_size)
{
	u32 usize;
	int ret;

	if (get_user(usize, (const u32 __user *)src))
		return -EFAULT;
	if (usize < min_size || usize > PAGE_SIZE)
		return -EINVAL;
	ret = copy_struct_from_user(dst, size, src, usize);
	if (ret)
		return ret == -E2BIG ? -EINVAL : ret;
	return usize;
}

/*
 * The end of an ioctl that consumed or produced part of a stream: never
 * restarted (a second run would not find the stream where the first
 * began), and the out fields copied back whatever the outcome.
 */
static long ckpt_stream_ioctl_done(int ret, void __user *uargs,
				   const void *args, size_t size, long usize)
{
	if (ret == -ERESTARTSYS || ret == -ERESTARTNOINTR ||
	    ret == -ERESTARTNOHAND || ret == -ERESTART_RESTARTBLOCK)
		ret = -EINTR;
	if (copy_to_user(uargs, args, min_t(size_t, usize, size)))
		return ret ? ret : -EFAULT;
	return ret;
}

static long ckpt_ioctl_checkpoint(struct ckpt_checkpoint_args __user *uargs)
{
	struct ckpt_checkpoint_args args;
	long usize;
	int ret;

	if (!ckpt_may_checkpoint())
		return -EPERM;
	usize = ckpt_copy_args(&args, sizeof(args), uargs,
			       CKPT_CHECKPOINT_ARGS_SIZE_VER0);
	if (usize < 0)
		return usize;
	if (args.flags & ~CKPT_CHECKPOINT_FLAGS)
		return -EINVAL;
	if ((args.flags & CKPT_CHECKPOINT_CRC32C) &&
	    (args.flags & CKPT_CHECKPOINT_XXH64))
		return -EINVAL;
	if (args.reserved[0] || args.reserved[1])
		return -EINVAL;

	args.bytes = 0;
	args.nr_vmas = 0;
	args.nr_pages = 0;
	args.pages_scanned = 0;
	args.err_addr = 0;
	args.peak_kmem = 0;
	args.vma_ns = 0;
	args.scan_ns = 0;
	args.copy_ns = 0;
	args.write_ns = 0;

	/* Part of the image may be written: a rerun would append another. */
	ret = ckpt_checkpoint(&args);
	return ckpt_stream_ioctl_done(ret, uargs, &args, sizeof(args), usize);
}

static long ckpt_ioctl_restore(struct ckpt_restore_session *session,
			       struct ckpt_restore_args __user *uargs)
{
	struct ckpt_restore_args args;
	long usize;
	int ret;

	if (!capable(CAP_CHECKPOINT_RESTORE) && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	usize = ckpt_copy_args(&args, sizeof(args), uargs,
			       CKPT_RESTORE_ARGS_SIZE_VER0);
	if (usize < 0)
		return usize;
	if (args.flags || args.reserved1)
		return -EINVAL;
	if (args.checksum != CKPT_CSUM_CRC32C &&
	    args.checksum != CKPT_CSUM_XXH64)
		return -EINVAL;

	args.nr_vmas = 0;
	args.nr_pages = 0;
	args.err_addr = 0;
	memset(args.vdso, 0, sizeof(args.vdso));
	memset(args.vvar, 0, sizeof(args.vvar));
	args.nr_advice = 0;
	args.nr_ldt = 0;
	/* Part of the image may be consumed and mapped. */
	ret = ckpt_restore(&args);
	if (!ret)
		WRITE_ONCE(session->restored_mm, current->mm);
	return ckpt_stream_ioctl_done(ret, uargs, &args, sizeof(args), usize);
}

static long ckpt_ioctl(struct file *filp, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	/* The size bits are ignored: each struct carries its own size. */
	if (_IOC_TYPE(cmd) != CKPT_IOC_MAGIC)
		return -ENOTTY;
	if (_IOC_NR(cmd) == _IOC_NR(CKPT_IOC_CHECKPOINT) &&
	    _IOC_DIR(cmd) == (_IOC_READ | _IOC_WRITE))
		return ckpt_ioctl_checkpoint(uarg);
	if (_IOC_NR(cmd) == _IOC_NR(CKPT_IOC_RESTORE) &&
	    _IOC_DIR(cmd) == (_IOC_READ | _IOC_WRITE))
		return ckpt_ioctl_restore(filp->private_data, uarg);
	if (_IOC_NR(cmd) == _IOC_NR(CKPT_IOC_RESTORE_FINISH) &&
	    _IOC_DIR(cmd) == _IOC_WRITE) {
		struct ckpt_restore_session *session = filp->private_data;
		long ret;

		/*
		 * Authorised by the CKPT_IOC_RESTORE that rebuilt this mm, as
		 * an open file is by its open: the threads may have taken the
		 * restored process's credentials since, and FINISH does nothing
		 * a process could not do to itself.
		 */
		if (!current->mm || READ_ONCE(session->restored_mm) != current->mm)
			return -EPERM;
		/*
		 * The caller's fd for @filp may be among those it asks to
		 * close, and a single-threaded caller's fdget() took no
		 * reference: hold one until the ioctl has returned.
		 */
		get_file(filp);
		ret = ckpt_restore_finish(session, uarg);
		fput(filp);
		return ret;
	}
	return -ENOTTY;
}

static int ckpt_open(struct inode *inode, struct file *filp)
{
	struct ckpt_restore_session *session;

	session = kzalloc(sizeof(*session), GFP_KERNEL_ACCOUNT);
	if (!session)
		return -ENOMEM;
	init_waitqueue_head(&session->wq);
	filp->private_data = session;
	return 0;
}

static int ckpt_release(struct inode *inode, struct file *filp)
{
	kfree(filp->private_data);
	return 0;
}

static const struct file_operations ckpt_fops = {
	.owner = THIS_MODULE,
	.open = ckpt_open,
	.release = ckpt_release,
	.unlocked_ioctl = ckpt_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/*
 * A static minor lets depmod list /dev/ckpt in modules.devname, so that the
 * node exists from boot (kmod static-nodes) and its first open loads the
 * module (misc_open() asks for char-major-10-MINOR).  A dynamic minor
 * cannot be known before the module is loaded.  Documentation/admin-guide/
 * devices.txt reserves misc minors 243-254 for local use; no in-tree driver
 * takes one (include/linux/miscdevice.h ends at RFKILL_MINOR, 242), and the
 * kernel's dynamic minors are 0-127 and above 255, so they never collide
 * with it.  Another out-of-tree module with the same local minor would make
 * misc_register() fail with -EBUSY, which the load reports.
 */
#define CKPT_MISC_MINOR 249

static struct miscdevice ckpt_misc = {
	.minor = CKPT_MISC_MINOR,
	.name = CKPT_DEVICE_NAME,
	.fops = &ckpt_fops,
	.mode = 0600,
};

static int __init ckpt_init(void)
{
	struct ckpt_core_info info;
	int ret;

	info.checksum = checksum;
	ckpt_core_init(&info);
	checksum = info.checksum;
	pr_info("checksum: %s; crc32c: %s (%u bytes: instruction %llu ns, slice-by-8 %llu ns; xxh64 %llu ns)\n",
		ckpt_checksum_names[checksum],
		info.crc_instruction ? "crc32 instruction" : "slice-by-8 tables",
		info.crc_sample_bytes, info.crc_instruction_ns, info.crc_table_ns,
		info.xxh64_ns);
	ret = misc_register(&ckpt_misc);
	if (ret)
		pr_err("cannot register /dev/%s: %d\n", CKPT_DEVICE_NAME, ret);
	return ret;
}

static void __exit ckpt_exit(void)
{
	misc_deregister(&ckpt_misc);
}

module_init(ckpt_init);
module_exit(ckpt_exit);

MODULE_DESCRIPTION("Checkpoint the memory of a running process");
MODULE_AUTHOR("The ckpt developers");
MODULE_LICENSE("GPL");
MODULE_ALIAS_MISCDEV(CKPT_MISC_MINOR);
MODULE_ALIAS("devname:" CKPT_DEVICE_NAME);
