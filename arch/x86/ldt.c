// SPDX-License-Identifier: GPL-2.0
/*
 * The x86 mm context: the LDT a process installed with modify_ldt(2).
 */
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <asm/desc_defs.h>
#include <asm/ldt.h>
#include <asm/mmu_context.h>

#include <ckpt/bridge.h>
#include <kunit/visibility.h>

/**
 * ckpt_ldt_entry_size() - bytes per LDT descriptor
 *
 * Return: LDT_ENTRY_SIZE.
 */
u32 ckpt_ldt_entry_size(void)
{
	return LDT_ENTRY_SIZE;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_ldt_entry_size);

/**
 * ckpt_ldt_copy() - copy the mm's LDT entries out under its lock
 * @ref: the mm
 * @buf: receives up to @capacity entries
 * @capacity: entries @buf can hold
 * @nr: receives the number of entries the mm has
 *
 * Ask with @capacity 0 to learn the size.  The context lock is held only
 * for the copy, never across a write to the output.
 *
 * Return: 0 with the entries in @buf, -EOVERFLOW if @capacity is too small
 * (*@nr says how many are needed), or -EINTR on a fatal signal.
 */
int ckpt_ldt_copy(struct ckpt_mm_ref *ref, void *buf, u32 capacity,
		  u32 *nr)
{
#ifdef CONFIG_MODIFY_LDT_SYSCALL
	struct mm_struct *mm = (struct mm_struct *)ref;
	struct ldt_struct *ldt;
	int ret = 0;

	if (mutex_lock_killable(&mm->context.lock))
		return -EINTR;
	ldt = mm->context.ldt;
	*nr = ldt ? ldt->nr_entries : 0;
	if (*nr > capacity)
		ret = -EOVERFLOW;
	else if (*nr)
		memcpy(buf, ldt->entries, *nr * LDT_ENTRY_SIZE);
	mutex_unlock(&mm->context.lock);
	return ret;
#else
	*nr = 0;
	return 0;
#endif
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_ldt_copy);
