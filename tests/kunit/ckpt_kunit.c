// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for ckpt: the C++ core (its own copy, linked into this
 * module) against the real kernel through ckpt.ko's bridge.
 *
 * The test bodies are C++ (the .cpp files beside this one), listed once in
 * cases.h.
 * This file turns that list into KUnit suites and gives the bodies what
 * they need from the kernel: assertions, a user address space of the test
 * thread's own, temporary files and pages.
 */
#include <kunit/test.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/uaccess.h>
#include <asm/desc.h>
#include <asm/desc_defs.h>
#include <asm/ldt.h>
#include <asm/mmu_context.h>
#include <uapi/linux/fcntl.h>

#include "kt.h"

#include "cases.h"

#define CKPT_KT_DECLARE(suite, name) \
	void ckpt_kt_##suite##_##name(struct kunit *test);
CKPT_KT_ALL_CASES(CKPT_KT_DECLARE)

/**
 * ckpt_kt_fail() - record a failed expectation of a C++ test body
 * @test: the running test
 * @file: source file of the expectation
 * @line: its line
 * @what: the expression that did not hold
 * @left: its left-hand value
 * @right: its right-hand value
 */
void ckpt_kt_fail(struct kunit *test, const char *file, int line,
		  const char *what, long long left, long long right)
{
	KUNIT_FAIL(test, "%s:%d: expected %s (%lld vs %lld)", file, line, what,
		   left, right);
}

/**
 * ckpt_kt_skip() - mark the running test skipped; the C++ body then returns
 * @test: the running test
 * @reason: why
 */
void ckpt_kt_skip(struct kunit *test, const char *reason)
{
	kunit_mark_skipped(test, "%s", reason);
}

/**
 * ckpt_kt_mmap() - map memory into the test thread's own address space
 * @test: the running test (the mapping lives as long as the test)
 * @file: file to map, or NULL for anonymous memory
 * @len: bytes
 * @prot: PROT_* bits
 * @map: CKPT_KT_PRIVATE or CKPT_KT_SHARED
 * @addr: fixed address, or 0 to let the kernel choose
 *
 * Return: the address, or 0.
 */
u64 ckpt_kt_mmap(struct kunit *test, struct ckpt_file_ref *file, u64 len,
		 int prot, int map, u64 addr)
{
	unsigned long flags = map == CKPT_KT_SHARED ? MAP_SHARED : MAP_PRIVATE;
	unsigned long ret;

	if (!file)
		flags |= MAP_ANONYMOUS | MAP_NORESERVE;
	if (addr)
		flags |= MAP_FIXED;
	ret = kunit_vm_mmap(test, (struct file *)file, addr, len, prot, flags, 0);
	return IS_ERR_VALUE(ret) ? 0 : ret;
}

/**
 * ckpt_kt_munmap() - unmap part of the test thread's address space
 * @addr: page-aligned start
 * @len: bytes
 *
 * Return: 0 or a negative errno.
 */
int ckpt_kt_munmap(u64 addr, u64 len)
{
	return vm_munmap(addr, len);
}

/**
 * ckpt_kt_write_user() - store into the test's user memory, faulting as a
 * program's own store would
 * @addr: user address
 * @buf: bytes to store
 * @len: how many
 *
 * Return: 0 or -EFAULT.
 */
int ckpt_kt_write_user(u64 addr, const void *buf, size_t len)
{
	return copy_to_user((void __user *)addr, buf, len) ? -EFAULT : 0;
}

/**
 * ckpt_kt_read_user() - load from the test's user memory (a read fault maps
 * the zero page, or the file's page)
 * @addr: user address
 * @buf: receives the bytes
 * @len: how many
 *
 * Return: 0 or -EFAULT.
 */
int ckpt_kt_read_user(u64 addr, void *buf, size_t len)
{
	return copy_from_user(buf, (const void __user *)addr, len) ? -EFAULT : 0;
}

/**
 * ckpt_kt_poke() - store into user memory the way a debugger does, through
 * read-only and PROT_NONE protections (FOLL_FORCE | FOLL_WRITE)
 * @addr: user address, the store must not cross a page
 * @buf: bytes to store
 * @len: how many
 *
 * Return: 0 or a negative errno.
 */
int ckpt_kt_poke(u64 addr, const void *buf, size_t len)
{
	struct mm_struct *mm = current->mm;
	struct page *page;
	void *kaddr;
	long got;

	if (offset_in_page(addr) + len > PAGE_SIZE)
		return -EINVAL;
	mmap_read_lock(mm);
	got = get_user_pages_remote(mm, addr, 1, FOLL_FORCE | FOLL_WRITE, &page,
				    NULL);
	mmap_read_unlock(mm);
	if (got != 1)
		return got < 0 ? got : -EFAULT;
	kaddr = kmap_local_page(page);
	memcpy(kaddr + offset_in_page(addr), buf, len);
	kunmap_local(kaddr);
	set_page_dirty_lock(page);
	put_page(page);
	return 0;
}

/**
 * ckpt_kt_mm() - the test thread's mm, referenced like a target's
 *
 * Return: the mm (drop it with ckpt_mm_put()), or NULL before any mapping.
 */
struct ckpt_mm_ref *ckpt_kt_mm(void)
{
	struct mm_struct *mm = current->mm;

	if (!mm)
		return NULL;
	mmgrab(mm);
	return (struct ckpt_mm_ref *)mm;
}

/**
 * ckpt_kt_drop_own_mm() - the test thread lets go of its mm, as an exiting
 * target would: after this only the references others hold keep it alive
 */
void ckpt_kt_drop_own_mm(void)
{
	struct mm_struct *mm = current->mm;

	kthread_unuse_mm(mm);
	mmput(mm);	/* the reference mm_alloc() gave the thread */
}

/* The descriptor ckpt_kt_set_ldt() puts at index @i: data, DPL 3, base i. */
static u64 ckpt_kt_descriptor(u32 i)
{
	return 0x00cff2000000ffffULL | ((u64)(i & 0xffffff) << 16);
}

/**
 * ckpt_kt_ldt_entry() - what entry @i of a test LDT holds
 * @i: the index
 *
 * Return: the 8-byte descriptor.
 */
u64 ckpt_kt_ldt_entry(u32 i)
{
	return ckpt_kt_descriptor(i);
}

/**
 * ckpt_kt_modify_ldt_descriptor() - what modify_ldt(2) writes for a user_desc
 * @base: its base_addr
 * @limit: its limit
 * @bits: bit 0 seg_32bit, bits 1-2 contents, bit 3 read_exec_only, bit 4
 *	limit_in_pages, bit 5 seg_not_present, bit 6 the AVL bit
 * @out: receives the descriptor write_ldt() installs (mode 0x11)
 *
 * The kernel's own fill_ldt() and LDT_empty(), so that the restore's check
 * of an image's LDT is held against what the syscall really makes.  The
 * AVL bit is set after fill_ldt() (which copies it from user_desc), and an
 * entry with it is never LDT_empty().
 *
 * Return: 0, or -EINVAL where write_ldt() refuses the entry.
 */
int ckpt_kt_modify_ldt_descriptor(u32 base, u32 limit, u32 bits, u64 *out)
{
	struct user_desc info = {
		.base_addr = base,
		.limit = limit,
		.seg_32bit = bits & 1,
		.contents = (bits >> 1) & 3,
		.read_exec_only = (bits >> 3) & 1,
		.limit_in_pages = (bits >> 4) & 1,
		.seg_not_present = (bits >> 5) & 1,
	};
	bool avl = (bits >> 6) & 1;
	struct desc_struct desc;

	if (info.contents == 3 && !info.seg_not_present)
		return -EINVAL;
	if (LDT_empty(&info) && !avl) {
		memset(&desc, 0, sizeof(desc));
	} else {
		fill_ldt(&desc, &info);
		desc.avl = avl;
	}
	memcpy(out, &desc, sizeof(*out));
	return 0;
}

/**
 * ckpt_kt_set_ldt() - give the test's mm an LDT of @nr entries
 * @nr: entries, 1 to LDT_ENTRIES
 *
 * modify_ldt(2) has no in-kernel entry point, so this installs an
 * ldt_struct as write_ldt() would leave it, minus the PTI alias: ckpt only
 * reads it, and the test never loads it.  Undo with ckpt_kt_clear_ldt().
 *
 * Return: 0 or -ENOMEM.
 */
int ckpt_kt_set_ldt(u32 nr)
{
	struct mm_struct *mm = current->mm;
	struct ldt_struct *ldt;
	struct desc_struct *entries;
	u32 i;

	ldt = kzalloc(sizeof(*ldt), GFP_KERNEL);
	entries = kvcalloc(nr, LDT_ENTRY_SIZE, GFP_KERNEL);
	if (!ldt || !entries) {
		kfree(ldt);
		kvfree(entries);
		return -ENOMEM;
	}
	for (i = 0; i < nr; i++) {
		u64 desc = ckpt_kt_descriptor(i);

		memcpy(&entries[i], &desc, LDT_ENTRY_SIZE);
	}
	ldt->entries = entries;
	ldt->nr_entries = nr;
	mutex_lock(&mm->context.lock);
	WARN_ON(mm->context.ldt);
	mm->context.ldt = ldt;
	mutex_unlock(&mm->context.lock);
	return 0;
}

/**
 * ckpt_kt_clear_ldt() - take away and free the LDT from ckpt_kt_set_ldt()
 */
void ckpt_kt_clear_ldt(void)
{
	struct mm_struct *mm = current->mm;
	struct ldt_struct *ldt;

	mutex_lock(&mm->context.lock);
	ldt = mm->context.ldt;
	mm->context.ldt = NULL;
	mutex_unlock(&mm->context.lock);
	if (ldt) {
		kvfree(ldt->entries);
		kfree(ldt);
	}
}

/**
 * ckpt_kt_anon_rss() - anonymous pages mapped by the test's mm, exactly (the
 * summed per-CPU counter)
 *
 * Return: a page count.
 */
u64 ckpt_kt_anon_rss(void)
{
	return current->mm ? get_mm_counter_sum(current->mm, MM_ANONPAGES) : 0;
}

/**
 * ckpt_kt_file_rss() - file and shmem pages mapped by the test's mm
 *
 * Return: a page count.
 */
u64 ckpt_kt_file_rss(void)
{
	if (!current->mm)
		return 0;
	return get_mm_counter_sum(current->mm, MM_FILEPAGES) +
	       get_mm_counter_sum(current->mm, MM_SHMEMPAGES);
}

/**
 * ckpt_kt_tmpfile() - an unlinked tmpfs file, open for reading and writing
 * @size: its initial size
 *
 * Return: the file (drop it with ckpt_file_put()), or NULL.
 */
struct ckpt_file_ref *ckpt_kt_tmpfile(u64 size)
{
	struct file *file = shmem_file_setup("ckpt-kunit", size, 0);

	return IS_ERR(file) ? NULL : (struct ckpt_file_ref *)file;
}

/**
 * ckpt_kt_file_get() - another reference on a file
 * @file: the file
 *
 * Return: @file, to drop with ckpt_file_put().
 */
struct ckpt_file_ref *ckpt_kt_file_get(struct ckpt_file_ref *file)
{
	get_file((struct file *)file);
	return file;
}

/**
 * ckpt_kt_seek() - set a file's position, where the next read starts
 * @file: the file
 * @off: the offset
 */
void ckpt_kt_seek(struct ckpt_file_ref *file, u64 off)
{
	((struct file *)file)->f_pos = off;
}

/**
 * ckpt_kt_pwrite() - write bytes into a file at an offset
 * @file: the file
 * @buf: the bytes
 * @len: how many
 * @off: where
 *
 * Return: 0 or a negative errno.
 */
int ckpt_kt_pwrite(struct ckpt_file_ref *file, const void *buf, size_t len,
		   u64 off)
{
	loff_t pos = off;
	ssize_t ret = kernel_write((struct file *)file, buf, len, &pos);

	if (ret < 0)
		return ret;
	return ret == len ? 0 : -EIO;
}

/**
 * ckpt_kt_pread() - read bytes from a file at an offset
 * @file: the file
 * @buf: receives the bytes
 * @len: how many at most
 * @off: where
 *
 * Return: bytes read, or a negative errno.
 */
long ckpt_kt_pread(struct ckpt_file_ref *file, void *buf, size_t len, u64 off)
{
	loff_t pos = off;

	return kernel_read((struct file *)file, buf, len, &pos);
}

/**
 * ckpt_kt_seal_grow() - let a tmpfs file never grow again (F_SEAL_GROW), so
 * that a write past its end fails half way with -EPERM
 * @file: a file from ckpt_kt_tmpfile()
 */
void ckpt_kt_seal_grow(struct ckpt_file_ref *file)
{
	struct inode *inode = file_inode((struct file *)file);

	inode_lock(inode);
	SHMEM_I(inode)->seals |= F_SEAL_GROW;
	inode_unlock(inode);
}

/**
 * ckpt_kt_fallocate() - reserve a range of a tmpfs file without writing it
 * @file: a file from ckpt_kt_tmpfile()
 * @off: first byte
 * @len: bytes
 *
 * Return: 0 or a negative errno.
 */
int ckpt_kt_fallocate(struct ckpt_file_ref *file, u64 off, u64 len)
{
	return vfs_fallocate((struct file *)file, 0, off, len);
}

/**
 * ckpt_kt_file_pages() - pages in a file's page cache
 * @file: the file
 *
 * Return: the number of pages its mapping holds in memory.
 */
u64 ckpt_kt_file_pages(struct ckpt_file_ref *file)
{
	return ((struct file *)file)->f_mapping->nrpages;
}

/**
 * ckpt_kt_page_alloc() - a zeroed page the test holds one reference on
 *
 * Return: the page, or NULL.
 */
struct ckpt_page_ref *ckpt_kt_page_alloc(void)
{
	return (struct ckpt_page_ref *)alloc_page(GFP_KERNEL | __GFP_ZERO);
}

/**
 * ckpt_kt_page_get() - take one more reference, for a chain to own
 * @page: the page
 */
void ckpt_kt_page_get(struct ckpt_page_ref *page)
{
	get_page((struct page *)page);
}

/**
 * ckpt_kt_page_refcount() - references the page has now
 * @page: the page
 *
 * Return: the count.
 */
int ckpt_kt_page_refcount(struct ckpt_page_ref *page)
{
	return page_ref_count((struct page *)page);
}

/**
 * ckpt_kt_page_free() - drop the test's own reference
 * @page: the page
 */
void ckpt_kt_page_free(struct ckpt_page_ref *page)
{
	put_page((struct page *)page);
}

/**
 * ckpt_kt_page_address() - the page's contents, writable
 * @page: a page from ckpt_kt_page_alloc()
 *
 * Return: its kernel address (no highmem on x86-64).
 */
void *ckpt_kt_page_address(struct ckpt_page_ref *page)
{
	return page_address((struct page *)page);
}

/**
 * ckpt_kt_pid_of_current() - the test thread's pid
 *
 * Return: the pid, in the current namespace.
 */
int ckpt_kt_pid_of_current(void)
{
	return task_pid_vnr(current);
}

/* Each case a C wrapper around its C++ body; each suite a list of them. */
#define CKPT_KT_WRAPPER(suite, name)					\
	static void kt_##suite##_##name(struct kunit *test)		\
	{								\
		ckpt_kt_##suite##_##name(test);				\
	}
CKPT_KT_ALL_CASES(CKPT_KT_WRAPPER)

#define CKPT_KT_KUNIT_CASE(s, n) { .run_case = kt_##s##_##n, .name = #n },

#define CKPT_KT_SUITE(suite, list)					\
	static struct kunit_case ckpt_##suite##_cases[] = {		\
		list(CKPT_KT_KUNIT_CASE)				\
		{}							\
	};								\
	static struct kunit_suite ckpt_##suite##_suite = {		\
		.name = "ckpt_" #suite,					\
		.test_cases = ckpt_##suite##_cases,			\
	}

CKPT_KT_SUITE(crc32c, CKPT_KT_CRC32C_CASES);
CKPT_KT_SUITE(checksum, CKPT_KT_CHECKSUM_CASES);
CKPT_KT_SUITE(page_array, CKPT_KT_PAGE_ARRAY_CASES);
CKPT_KT_SUITE(record, CKPT_KT_RECORD_CASES);
CKPT_KT_SUITE(scan, CKPT_KT_SCAN_CASES);
CKPT_KT_SUITE(dump, CKPT_KT_DUMP_CASES);
CKPT_KT_SUITE(restore, CKPT_KT_RESTORE_CASES);

kunit_test_suites(&ckpt_crc32c_suite, &ckpt_checksum_suite,
		  &ckpt_page_array_suite,
		  &ckpt_record_suite, &ckpt_scan_suite, &ckpt_dump_suite,
		  &ckpt_restore_suite);

MODULE_DESCRIPTION("KUnit tests for ckpt");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
