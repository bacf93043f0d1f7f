// SPDX-License-Identifier: GPL-2.0
/*
 * The target mm: its lock, its layout, its VMAs, and a read-only look at its
 * page tables.
 *
 * Page-table reads here never take a page-table lock and never allocate.
 * They are hints for the core's scan, which always takes the page itself
 * through GUP.  They are safe only over a range that a VMA covers during the
 * same hold of the mmap lock: munmap(), mremap() and brk() detach VMAs under
 * the write lock, downgrade it, and free the page tables of the detached
 * range while readers run.  So the core checks the VMA again
 * (ckpt_mm_vma_check()) in every lock hold before it walks; kernels with
 * CONFIG_DEBUG_VM check that every walk stays inside a VMA.  Under a VMA,
 * upper levels stay, and a PTE table that khugepaged retracts is freed only
 * after an RCU grace period (6.12) or under the mmap write lock (6.1).
 */
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/kdev_t.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/string.h>
#include <linux/swapops.h>

#include <uapi/linux/ckpt.h>
#include <kunit/visibility.h>

#include "bridge.h"

/**
 * ckpt_mm_put() - drop a reference from ckpt_task_mm_get()
 * @ref: the mm
 */
void ckpt_mm_put(struct ckpt_mm_ref *ref)
{
	mmdrop(to_mm(ref));
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_mm_put);

/**
 * ckpt_mm_read_lock() - use the address space and take its lock for reading
 * @ref: the mm
 *
 * Like /proc/PID/mem, a dump keeps only the mm_struct for its whole length
 * and the address space (mm_users) for one lock hold at a time, so that a
 * target killed while the output stalls is torn down at once.
 *
 * Return: 0; -ESRCH if the address space is gone (every user exited);
 * -EINTR if a fatal signal arrived while waiting.
 */
int ckpt_mm_read_lock(struct ckpt_mm_ref *ref)
{
	struct mm_struct *mm = to_mm(ref);
	int ret;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	ret = mmap_read_lock_killable(mm);
	if (ret)
		mmput(mm);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_mm_read_lock);

/**
 * ckpt_mm_read_unlock() - undo ckpt_mm_read_lock()
 * @ref: the mm
 *
 * If the target exited meanwhile, the last mmput() tears its address space
 * down here, in the caller's context, as for /proc/PID/mem.
 */
void ckpt_mm_read_unlock(struct ckpt_mm_ref *ref)
{
	struct mm_struct *mm = to_mm(ref);

	mmap_read_unlock(mm);
	mmput(mm);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_mm_read_unlock);

/* The format's vm_flags, bit by bit: a kernel that moves a VM_* bit changes nothing. */
static const struct {
	vm_flags_t kernel;
	u64 format;
} ckpt_vma_flag_map[] = {
	{ VM_READ, CKPT_VMA_F_READ },
	{ VM_WRITE, CKPT_VMA_F_WRITE },
	{ VM_EXEC, CKPT_VMA_F_EXEC },
	{ VM_SHARED, CKPT_VMA_F_SHARED },
	{ VM_MAYREAD, CKPT_VMA_F_MAYREAD },
	{ VM_MAYWRITE, CKPT_VMA_F_MAYWRITE },
	{ VM_MAYEXEC, CKPT_VMA_F_MAYEXEC },
	{ VM_MAYSHARE, CKPT_VMA_F_MAYSHARE },
	{ VM_GROWSDOWN, CKPT_VMA_F_GROWSDOWN },
	{ VM_PFNMAP, CKPT_VMA_F_PFNMAP },
	{ VM_LOCKED, CKPT_VMA_F_LOCKED },
	{ VM_IO, CKPT_VMA_F_IO },
	{ VM_DONTCOPY, CKPT_VMA_F_DONTCOPY },
	{ VM_DONTEXPAND, CKPT_VMA_F_DONTEXPAND },
	{ VM_LOCKONFAULT, CKPT_VMA_F_LOCKONFAULT },
	{ VM_NORESERVE, CKPT_VMA_F_NORESERVE },
	{ VM_HUGETLB, CKPT_VMA_F_HUGETLB },
	{ VM_WIPEONFORK, CKPT_VMA_F_WIPEONFORK },
	{ VM_DONTDUMP, CKPT_VMA_F_DONTDUMP },
	{ VM_MIXEDMAP, CKPT_VMA_F_MIXEDMAP },
	{ VM_HUGEPAGE, CKPT_VMA_F_HUGEPAGE },
	{ VM_NOHUGEPAGE, CKPT_VMA_F_NOHUGEPAGE },
	{ VM_MERGEABLE, CKPT_VMA_F_MERGEABLE },
};

static u64 ckpt_vma_flags(vm_flags_t flags)
{
	u64 out = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ckpt_vma_flag_map); i++)
		if (flags & ckpt_vma_flag_map[i].kernel)
			out |= ckpt_vma_flag_map[i].format;
	return out;
}

/* The format's mm_flags from mm->flags (MMF_* bit numbers differ by kernel). */
static_assert(MMF_DUMP_FILTER_BITS == 9);	/* CKPT_MM_DUMP_FILTER */

static u32 ckpt_mm_flags(unsigned long flags)
{
	u32 out = (flags & MMF_DUMP_FILTER_MASK) >> MMF_DUMP_FILTER_SHIFT;

	if (test_bit(MMF_DISABLE_THP, &flags))
		out |= CKPT_MM_THP_DISABLE;
#ifdef MMF_HAS_MDWE
	if (test_bit(MMF_HAS_MDWE, &flags))
		out |= CKPT_MM_MDWE;
#endif
	return out;
}

/**
 * ckpt_mm_describe() - the mm's layout, as the MM record carries it
 * @ref: the mm, read-locked
 * @out: filled in
 */
void ckpt_mm_describe(struct ckpt_mm_ref *ref, struct ckpt_mm *out)
{
	struct mm_struct *mm = to_mm(ref);

	mmap_assert_locked(mm);
	memset(out, 0, sizeof(*out));
	out->start_code = mm->start_code;
	out->end_code = mm->end_code;
	out->start_data = mm->start_data;
	out->end_data = mm->end_data;
	out->start_brk = mm->start_brk;
	out->brk = mm->brk;
	out->start_stack = mm->start_stack;
	out->arg_start = mm->arg_start;
	out->arg_end = mm->arg_end;
	out->env_start = mm->env_start;
	out->env_end = mm->env_end;
	out->raw_flags = mm->flags;
	out->mm_flags = ckpt_mm_flags(mm->flags);
	out->map_count = mm->map_count;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_mm_describe);

static u32 ckpt_vma_traits(struct vm_area_struct *vma)
{
	u32 traits = 0;

	if (vma_is_anonymous(vma))
		traits |= CKPT_VMA_T_ANONYMOUS;
	if (vma->vm_file)
		traits |= CKPT_VMA_T_FILE;
	if (vma->vm_flags & VM_MAYSHARE)
		traits |= CKPT_VMA_T_SHARED;
	if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP))
		traits |= CKPT_VMA_T_SPECIAL;
	/* [vdso], [vvar], [uprobes]: installed special mappings have names. */
	if (vma->vm_ops && vma->vm_ops->name)
		traits |= CKPT_VMA_T_SPECIAL;
	if (is_vm_hugetlb_page(vma))
		traits |= CKPT_VMA_T_HUGETLB;
	/* Shared anonymous memory, memfd, SysV shm (its f_mapping), tmpfs. */
	if (vma->vm_file && shmem_mapping(vma->vm_file->f_mapping))
		traits |= CKPT_VMA_T_SHMEM;
	return traits;
}

/**
 * ckpt_mm_find_vma() - copy out the first VMA that ends above an address
 * @ref: the mm, read-locked
 * @addr: the address
 * @out: the VMA's description
 * @file: receives a reference to the backing file, or NULL; drop it with
 *        ckpt_file_put()
 *
 * Return: 0, or -ENOENT if no VMA ends above @addr.
 */
int ckpt_mm_find_vma(struct ckpt_mm_ref *ref, u64 addr,
		     struct ckpt_vma_info *out, struct ckpt_file_ref **file)
{
	struct mm_struct *mm = to_mm(ref);
	struct vm_area_struct *vma;
	const char *name;

	mmap_assert_locked(mm);
	*file = NULL;
	vma = find_vma(mm, addr);
	if (!vma)
		return -ENOENT;

	memset(out, 0, sizeof(*out));
	out->start = vma->vm_start;
	out->end = vma->vm_end;
	out->page_prot = pgprot_val(vma->vm_page_prot);
	out->vm_flags = ckpt_vma_flags(vma->vm_flags);
	out->pgoff = vma->vm_pgoff;
	out->traits = ckpt_vma_traits(vma);
	if (vma->vm_ops && vma->vm_ops->name) {
		name = vma->vm_ops->name(vma);
		if (name)
			strscpy(out->name, name, sizeof(out->name));
	}
	if (vma->vm_file) {
		const struct inode *inode = ckpt_file_user_inode(vma->vm_file);

		out->ino = inode->i_ino;
		out->dev = new_encode_dev(inode->i_sb->s_dev);
		*file = (struct ckpt_file_ref *)get_file(vma->vm_file);
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_mm_find_vma);

/* The file offset, in pages, that @addr of a mapping starting at @start maps. */
static u64 ckpt_pgoff_at(u64 pgoff, u64 start, u64 addr)
{
	return pgoff + ((addr - start) >> PAGE_SHIFT);
}

/**
 * ckpt_mm_vma_check() - is the mapping at an address still the one found?
 * @ref: the mm, read-locked
 * @want: what ckpt_mm_find_vma() said of it, under an earlier lock hold
 *        (@want->pgoff is the offset at @want->start)
 * @file: the file reference that came with @want, or NULL
 * @addr: an address in [@want->start, @want->end)
 * @end: receives where that mapping ends now, at most @want->end
 *
 * Between two holds of the lock a mapping can be unmapped, replaced or
 * moved, and its page tables freed.  The core calls this first in every
 * hold, and walks and takes pages only in [@addr, *@end) during that hold.
 * The same mapping is the same file (or none) at the same offset, with the
 * same traits (which pick the pages dumped and how GUP may take them);
 * mprotect() or a split by one may have changed its flags and bounds.
 *
 * Return: 0, or -EBUSY if the mapping at @addr is gone or is another one.
 */
int ckpt_mm_vma_check(struct ckpt_mm_ref *ref, const struct ckpt_vma_info *want,
		      struct ckpt_file_ref *file, u64 addr, u64 *end)
{
	struct mm_struct *mm = to_mm(ref);
	struct vm_area_struct *vma;

	mmap_assert_locked(mm);
	vma = vma_lookup(mm, addr);
	if (!vma || vma->vm_file != (struct file *)file ||
	    ckpt_vma_traits(vma) != want->traits ||
	    ckpt_pgoff_at(vma->vm_pgoff, vma->vm_start, addr) !=
	    ckpt_pgoff_at(want->pgoff, want->start, addr))
		return -EBUSY;
	*end = min_t(u64, vma->vm_end, want->end);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_mm_vma_check);

/*
 * Page tables are read only where a VMA covers them in this lock hold (see
 * the top of this file).  A debug kernel checks that the core kept to it.
 */
static void ckpt_assert_vma_covers(struct mm_struct *mm, u64 addr, u64 end)
{
#ifdef CONFIG_DEBUG_VM
	struct vm_area_struct *vma = vma_lookup(mm, addr);

	WARN_ONCE(!vma || end > vma->vm_end,
		  "ckpt: page-table walk of %llx-%llx outside a VMA\n", addr, end);
#endif
}

/*
 * Walk down to the PMD that maps @addr.  Returns NULL and sets *@next to
 * the end of the empty range when an upper level has nothing there, or
 * NULL with *@next == @addr when a PUD maps a huge page itself.
 */
static pmd_t *ckpt_walk_to_pmd(struct mm_struct *mm, unsigned long addr,
			       unsigned long end, unsigned long *next)
{
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud, pudval;

	pgd = pgd_offset(mm, addr);
	if (pgd_none(READ_ONCE(*pgd))) {
		*next = pgd_addr_end(addr, end);
		return NULL;
	}
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d))) {
		*next = p4d_addr_end(addr, end);
		return NULL;
	}
	pud = pud_offset(p4d, addr);
	pudval = READ_ONCE(*pud);
	if (pud_none(pudval)) {
		*next = pud_addr_end(addr, end);
		return NULL;
	}
	*next = addr;
	if (pud_leaf(pudval) || !pud_present(pudval))
		return NULL;
	return pmd_offset(pud, addr);
}

/**
 * ckpt_mm_next_populated() - skip address ranges with no page tables
 * @ref: the mm, read-locked
 * @addr: where to start, page-aligned
 * @end: where to stop
 *
 * The dump's scan uses ckpt_mm_next_data(); the KUnit tests use this to
 * check that a scan built no page tables where there were none.
 *
 * Return: the first address in [@addr, @end) whose PMD entry is not empty
 * (a page table, a huge page or a swap/migration entry), or @end.
 */
u64 ckpt_mm_next_populated(struct ckpt_mm_ref *ref, u64 addr, u64 end)
{
	struct mm_struct *mm = to_mm(ref);
	unsigned long next;
	pmd_t *pmd;

	mmap_assert_locked(mm);
	while (addr < end) {
		pmd = ckpt_walk_to_pmd(mm, addr, end, &next);
		if (!pmd) {
			if (next == addr)
				return addr;
			addr = next;
			continue;
		}
		if (!pmd_none(READ_ONCE(*pmd)))
			return addr;
		addr = pmd_addr_end(addr, end);
	}
	return end;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_mm_next_populated);

/* Could this entry map a page with data?  Not a hole, not the zero page. */
static bool ckpt_pte_may_hold_data(pte_t pte)
{
	if (pte_none(pte))
		return false;
	return !pte_present(pte) || !is_zero_pfn(pte_pfn(pte));
}

/* PTE tables looked at per call, so a call's RCU section stays short. */
#define CKPT_DATA_SCAN_TABLES	16

/**
 * ckpt_mm_next_data() - find the next run of entries that may hold data
 * @ref: the mm, read-locked
 * @addr: where to start, page-aligned
 * @end: where to stop
 * @run_end: receives the end of the run
 *
 * Skips what cannot hold data without asking GUP page by page: ranges with
 * no page tables (a PMD, PUD or P4D at a time), and in a PTE table holes
 * and the zero page, read locklessly as GUP-fast does.  Entries can change
 * under us only as they could between this call and GUP: a hint, which GUP
 * confirms for every page it returns; a run may still contain pages GUP
 * refuses.  A huge or non-present PMD (or PUD) is one run for GUP to sort.
 * Looks at no more than CKPT_DATA_SCAN_TABLES PTE tables per call.
 *
 * Return: the start of a run [return, *@run_end) of entries that may hold
 * data, inside one page table; or, with *@run_end == return, where to
 * continue, nothing before it holding data (@end when the range is done).
 */
u64 ckpt_mm_next_data(struct ckpt_mm_ref *ref, u64 addr, u64 end, u64 *run_end)
{
	struct mm_struct *mm = to_mm(ref);
	unsigned int tables = 0;
	unsigned long next;
	pmd_t *pmd, pmdval;
	pte_t *pte;
	u64 start;

	mmap_assert_locked(mm);
	if (addr < end)
		ckpt_assert_vma_covers(mm, addr, end);
	while (addr < end) {
		pmd = ckpt_walk_to_pmd(mm, addr, end, &next);
		if (!pmd) {
			if (next != addr) {
				addr = next;
				continue;
			}
			*run_end = pud_addr_end(addr, end);
			return addr;
		}
		next = pmd_addr_end(addr, end);
		rcu_read_lock();
		pmdval = READ_ONCE(*pmd);
		if (pmd_none(pmdval)) {
			rcu_read_unlock();
			addr = next;
			continue;
		}
		if (!pmd_present(pmdval) || pmd_leaf(pmdval) || pmd_bad(pmdval)) {
			rcu_read_unlock();
			*run_end = next;
			return addr;
		}
		pte = pte_offset_kernel(&pmdval, addr);
		while (addr < next && !ckpt_pte_may_hold_data(READ_ONCE(*pte))) {
			addr += PAGE_SIZE;
			pte++;
		}
		start = addr;
		while (addr < next && ckpt_pte_may_hold_data(READ_ONCE(*pte))) {
			addr += PAGE_SIZE;
			pte++;
		}
		rcu_read_unlock();
		if (addr > start) {
			*run_end = addr;
			return start;
		}
		if (++tables == CKPT_DATA_SCAN_TABLES)
			break;
	}
	addr = min(addr, end);
	*run_end = addr;
	return addr;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_mm_next_data);

/* What a non-present, non-empty PTE holds instead of a page. */
static int ckpt_nonpresent_pte_state(pte_t pte)
{
	swp_entry_t entry = pte_to_swp_entry(pte);

	if (!non_swap_entry(entry))
		return CKPT_PTE_SWAP;
	if (is_migration_entry(entry))
		return CKPT_PTE_MIGRATING;
	if (is_hwpoison_entry(entry))
		return CKPT_PTE_POISON;
	if (is_pte_marker_entry(entry)) {
		/* 6.6+: UFFDIO_POISON; 6.1-6.5 name it a swap-in error. */
#if defined(PTE_MARKER_POISONED)
		if (pte_marker_get(entry) & PTE_MARKER_POISONED)
			return CKPT_PTE_POISON;
#elif defined(PTE_MARKER_SWAPIN_ERROR)
		if (pte_marker_get(entry) & PTE_MARKER_SWAPIN_ERROR)
			return CKPT_PTE_POISON;
#endif
		/* userfaultfd write-protect or guard markers: no page. */
		return CKPT_PTE_MARKER;
	}
	return CKPT_PTE_OTHER;	/* device-private or -exclusive memory */
}

/*
 * A present huge PMD that GUP refused.  With FOLL_DUMP, GUP refuses the
 * huge zero page, the only page an anonymous VMA maps that is not an
 * anonymous page (huge_zero_pfn is not exported, so we cannot compare).
 * Anything else was refused a moment ago for another reason: a migration
 * entry that has been replaced since, say, and GUP is to be asked again.
 */
static int ckpt_pmd_leaf_state(struct mm_struct *mm, u64 addr, pmd_t pmdval)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);

	if (vma && vma_is_anonymous(vma) && !PageAnon(pmd_page(pmdval)))
		return CKPT_PTE_HUGE_ZERO;
	return CKPT_PTE_PRESENT;
}

/**
 * ckpt_mm_pte_state() - what the page tables hold for one address
 * @ref: the mm, read-locked
 * @addr: the address, inside a VMA checked in this lock hold
 *
 * Used after GUP refused an address, to tell what holds no data (a hole,
 * the zero page, a userfaultfd marker) from what needs a fault (swap), a
 * wait (migration), or a page that is lost (poison) or that GUP will not
 * take, which the core must not skip silently.
 *
 * The page tables may have changed since GUP looked (a migration may have
 * ended): a present entry means "ask GUP again".
 *
 * Return: an enum ckpt_pte_state.
 */
int ckpt_mm_pte_state(struct ckpt_mm_ref *ref, u64 addr)
{
	struct mm_struct *mm = to_mm(ref);
	unsigned long next;
	pmd_t *pmd, pmdval;
	pte_t pte;

	mmap_assert_locked(mm);
	ckpt_assert_vma_covers(mm, addr, addr + PAGE_SIZE);
	pmd = ckpt_walk_to_pmd(mm, addr, addr + PAGE_SIZE, &next);
	if (!pmd)
		return next == addr ? CKPT_PTE_PRESENT : CKPT_PTE_NONE;

	rcu_read_lock();
	pmdval = READ_ONCE(*pmd);
	if (pmd_none(pmdval)) {
		rcu_read_unlock();
		return CKPT_PTE_NONE;
	}
	if (!pmd_present(pmdval)) {
		rcu_read_unlock();
		return is_pmd_migration_entry(pmdval) ? CKPT_PTE_MIGRATING :
							CKPT_PTE_OTHER;
	}
	if (pmd_leaf(pmdval)) {
		rcu_read_unlock();
		return ckpt_pmd_leaf_state(mm, addr, pmdval);
	}
	if (pmd_bad(pmdval)) {
		rcu_read_unlock();
		return CKPT_PTE_OTHER;
	}
	pte = READ_ONCE(*pte_offset_kernel(&pmdval, addr));
	rcu_read_unlock();

	if (pte_none(pte))
		return CKPT_PTE_NONE;
	if (!pte_present(pte))
		return ckpt_nonpresent_pte_state(pte);
	if (is_zero_pfn(pte_pfn(pte)))
		return CKPT_PTE_ZERO;
	return CKPT_PTE_PRESENT;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_mm_pte_state);
