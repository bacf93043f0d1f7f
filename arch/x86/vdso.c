// SPDX-License-Identifier: GPL-2.0
/*
 * The target's vDSO, as bytes: a restore on another kernel finds the entry
 * points the process's C library took from it (format 1.3, VDSO record).
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/string.h>

#include <ckpt/bridge.h>
#include <kunit/visibility.h>

#include "../../src/bridge/bridge.h"
#include "../../src/bridge/compat.h"

/**
 * ckpt_vdso_copy() - copy the target's vDSO
 * @ref: the target's mm
 * @buf: receives the vDSO's bytes
 * @capacity: bytes @buf can hold
 * @start: receives the vDSO's address, 0 if the process has none
 * @size: receives its size in bytes, 0 if none
 *
 * The mapping is the one at mm->context.vdso if it is still the vDSO
 * (mremap() moves that address along; munmap() leaves it stale).  Ask with
 * @capacity 0 to learn the size.  Its pages are taken as ptrace takes them
 * (FOLL_FORCE: the mapping is readable, not writable), through the mm, so
 * that a process whose main thread has exited is read too.
 *
 * Return: 0; -EOVERFLOW if @capacity is less than *@size; -EFAULT if a
 * page could not be taken; -EINTR if a fatal signal came.
 */
int ckpt_vdso_copy(struct ckpt_mm_ref *ref, void *buf, u32 capacity,
		   u64 *start, u32 *size)
{
	struct mm_struct *mm = to_mm(ref);
	struct vm_area_struct *vma;
	const char *name = NULL;
	unsigned long addr, off;
	struct page *page;
	int ret = 0;

	*start = 0;
	*size = 0;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	addr = (unsigned long)mm->context.vdso;
	vma = addr ? vma_lookup(mm, addr) : NULL;
	if (vma && vma->vm_start == addr && vma->vm_ops && vma->vm_ops->name)
		name = vma->vm_ops->name(vma);
	if (!name || strcmp(name, "[vdso]"))
		goto out;
	*start = addr;
	*size = vma->vm_end - vma->vm_start;
	if (capacity < *size) {
		ret = -EOVERFLOW;
		goto out;
	}
	for (off = 0; off < *size; off += PAGE_SIZE) {
		if (ckpt_compat_gup_remote(mm, addr + off, 1, FOLL_FORCE,
					   &page) != 1) {
			ret = -EFAULT;
			goto out;
		}
		memcpy_from_page((char *)buf + off, page, 0, PAGE_SIZE);
		put_page(page);
	}
out:
	mmap_read_unlock(mm);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_vdso_copy);
