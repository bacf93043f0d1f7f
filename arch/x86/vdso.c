// SPDX-License-Identifier: GPL-2.0
/*
 * The target's vDSO, as bytes: a restore on another kernel finds the entry
 * points the process's C library took from it (format 1.3, VDSO record).
 */
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/string.h>

#include <ckpt/bridge.h>
#include <kunit/visibility.h>

#include "../../src/bridge/bridge.h"

/*
 * The mm's vDSO mapping, if it still has one where the kernel put it
 * (mremap() moves mm->context.vdso along; munmap() leaves it stale).
 */
static int ckpt_vdso_range(struct mm_struct *mm, unsigned long *start,
			   unsigned long *size)
{
	struct vm_area_struct *vma;
	unsigned long addr;
	const char *name = NULL;

	*start = 0;
	*size = 0;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	addr = (unsigned long)mm->context.vdso;
	vma = addr ? vma_lookup(mm, addr) : NULL;
	if (vma && vma->vm_start == addr && vma->vm_ops && vma->vm_ops->name)
		name = vma->vm_ops->name(vma);
	if (name && !strcmp(name, "[vdso]")) {
		*start = vma->vm_start;
		*size = vma->vm_end - vma->vm_start;
	}
	mmap_read_unlock(mm);
	return 0;
}

/**
 * ckpt_vdso_copy() - copy the target's vDSO
 * @task: the target, stopped
 * @mm: its mm
 * @buf: receives the vDSO's bytes
 * @capacity: bytes @buf can hold
 * @start: receives the vDSO's address, 0 if the process has none
 * @size: receives its size in bytes, 0 if none
 *
 * Ask with @capacity 0 to learn the size.  The pages are read as ptrace
 * reads them (FOLL_FORCE: the mapping is not writable, only readable).
 *
 * Return: 0; -EOVERFLOW if @capacity is less than *@size; -EFAULT if the
 * mapping could not be read whole; -EINTR if a fatal signal came.
 */
int ckpt_vdso_copy(struct ckpt_task_ref *task, struct ckpt_mm_ref *mm,
		   void *buf, u32 capacity, u64 *start, u32 *size)
{
	unsigned long addr, len;
	int ret;

	ret = ckpt_vdso_range(to_mm(mm), &addr, &len);
	if (ret)
		return ret;
	*start = addr;
	*size = len;
	if (!len)
		return 0;
	if (capacity < len)
		return -EOVERFLOW;
	if (access_process_vm(to_task(task), addr, buf, len, FOLL_FORCE) != len)
		return -EFAULT;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_vdso_copy);
