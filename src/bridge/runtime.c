// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime services for the C++ core: memory, scheduling, signals, time,
 * identity and the CPU features it may use.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sched/signal.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <kunit/visibility.h>

#include "bridge.h"

#if IS_ENABLED(CONFIG_KUNIT)
/*
 * Allocation failure injection for the KUnit suites: the Nth allocation
 * made by one task fails.  Absent from modules built for other kernels.
 */
static struct task_struct *ckpt_kunit_task;
static long ckpt_kunit_allocs_left;
static long ckpt_kunit_injected;

/**
 * ckpt_kunit_fail_alloc() - make the current task's Nth allocation fail
 * @nth: allocations that succeed first; negative to stop injecting
 *
 * Return: failures injected since the previous call.
 */
long ckpt_kunit_fail_alloc(long nth)
{
	long injected = ckpt_kunit_injected;

	ckpt_kunit_injected = 0;
	ckpt_kunit_allocs_left = nth;
	WRITE_ONCE(ckpt_kunit_task, nth < 0 ? NULL : current);
	return injected;
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_kunit_fail_alloc);

static bool ckpt_kunit_alloc_fails(void)
{
	if (READ_ONCE(ckpt_kunit_task) != current)
		return false;
	if (ckpt_kunit_allocs_left-- != 0)
		return false;
	ckpt_kunit_injected++;
	return true;
}
#else
static bool ckpt_kunit_alloc_fails(void)
{
	return false;
}
#endif

/**
 * ckpt_kmalloc() - allocate kernel memory for the C++ core
 * @size: bytes wanted
 *
 * Process context only; may sleep.  Every C++ allocation comes here, so the
 * fault-injection framework (failslab) reaches all of them.  Large buffers
 * fall back to vmalloc rather than fail on a fragmented machine; none is
 * ever handed to the output as pages (only through a kvec).
 *
 * Return: the memory, or NULL.
 */
void *ckpt_kmalloc(size_t size)
{
	if (ckpt_kunit_alloc_fails())
		return NULL;
	/* Charged to the caller's memory cgroup: the caller asked for it. */
	return kvmalloc(size, GFP_KERNEL_ACCOUNT);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_kmalloc);

/**
 * ckpt_kfree() - free memory from ckpt_kmalloc()
 * @ptr: the memory, or NULL
 */
void ckpt_kfree(const void *ptr)
{
	kvfree(ptr);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_kfree);

/**
 * ckpt_signal_pending() - should the dump stop for the caller's sake?
 *
 * Any pending signal counts, not only a fatal one: the caller blocks the
 * signals it does not want to interrupt the dump.
 *
 * Return: non-zero if a signal is pending for the current task.
 */
int ckpt_signal_pending(void)
{
	return signal_pending(current);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_signal_pending);

/**
 * ckpt_cond_resched() - give the CPU away between batches of work
 */
void ckpt_cond_resched(void)
{
	cond_resched();
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_cond_resched);

/**
 * ckpt_sleep_tick() - sleep for about one scheduler tick
 *
 * For waits the kernel offers no event for: a thread that is leaving the
 * CPU, a page under migration.
 */
void ckpt_sleep_tick(void)
{
	schedule_timeout_uninterruptible(1);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_sleep_tick);

/**
 * ckpt_time_ns() - wall-clock time for the image header
 *
 * Return: CLOCK_REALTIME in nanoseconds.
 */
u64 ckpt_time_ns(void)
{
	return ktime_get_real_ns();
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_time_ns);

/**
 * ckpt_clock_ns() - a clock for measuring short intervals
 *
 * Return: CLOCK_MONOTONIC in nanoseconds.
 */
u64 ckpt_clock_ns(void)
{
	return ktime_get_ns();
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_clock_ns);

/**
 * ckpt_kernel_release() - the running kernel's release string
 * @buf: receives the NUL-terminated string, truncated if needed
 * @len: size of @buf
 */
void ckpt_kernel_release(char *buf, size_t len)
{
	/* The release is set at build time and never changes: no lock. */
	strscpy(buf, init_utsname()->release, len);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_kernel_release);

/**
 * ckpt_cpu_has_crc32c() - may the core use the CRC32 instruction?
 *
 * The instruction works on general-purpose registers, so no FPU section is
 * needed around it.
 *
 * Return: non-zero if the CPU has SSE4.2.
 */
int ckpt_cpu_has_crc32c(void)
{
	return boot_cpu_has(X86_FEATURE_XMM4_2);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_cpu_has_crc32c);

/**
 * ckpt_warn_vma() - say in the kernel log why a VMA stopped a dump
 * @what: short description of the problem
 * @start: first address of the VMA
 * @end: end of the VMA
 * @err: the negative errno the dump returns
 */
void ckpt_warn_vma(const char *what, u64 start, u64 end, int err)
{
	/* Rate-limited: a caller looping over dumps must not flood the log. */
	pr_info_ratelimited("pid %d: %s in VMA %llx-%llx (error %d)\n",
			    task_pid_nr(current), what, start, end, err);
}
EXPORT_SYMBOL_IF_KUNIT(ckpt_warn_vma);
