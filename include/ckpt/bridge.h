/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C bridge: the only way the C++ core reaches the kernel.
 *
 * Every function here wraps one kernel facility and holds no policy.  Only
 * fixed-width types (the uapi __u32 family) and opaque handles cross this
 * line, so the C++ side never sees a kernel header and the same C++ can be
 * built on the host against a fake bridge.  Return values follow the kernel:
 * 0 or a count on success, a negative errno on failure.
 */
#ifndef CKPT_BRIDGE_H
#define CKPT_BRIDGE_H

#ifdef __cplusplus
#include <stddef.h>
#include <linux/types.h>	/* the core's fixed-width shim, include/ckpt/cxx */
extern "C" {
#else
#include <linux/types.h>
#endif

struct ckpt_checkpoint_args;
struct ckpt_mm;			/* uapi record payload, filled by the bridge */
struct ckpt_restore_advice;	/* uapi: a restored VMA's attributes */

/* Opaque handles: never dereferenced on the C++ side. */
struct ckpt_task_ref;		/* a task_struct reference */
struct ckpt_mm_ref;		/* an mm_struct reference (mmget) */
struct ckpt_file_ref;		/* a struct file reference */
struct ckpt_page_ref;		/* a struct page with a reference (GUP) */

/* --- memory ---------------------------------------------------------- */
void *ckpt_kmalloc(size_t size);
void ckpt_kfree(const void *ptr);

/* --- scheduling, signals, time, identity ---------------------------- */
int ckpt_signal_pending(void);
void ckpt_cond_resched(void);
__u64 ckpt_time_ns(void);
__u64 ckpt_clock_ns(void);
void ckpt_sleep_tick(void);
void ckpt_kernel_release(char *buf, size_t len);
int ckpt_cpu_has_crc32c(void);
void ckpt_warn_vma(const char *what, __u64 start, __u64 end, int err);

/* --- work on another CPU (the core allocates ckpt_worker_size()) ----- */
struct ckpt_worker;
size_t ckpt_worker_size(void);
void ckpt_worker_init(struct ckpt_worker *w);
void ckpt_worker_start(struct ckpt_worker *w, void (*fn)(void *arg), void *arg);
void ckpt_worker_wait(struct ckpt_worker *w);

/* --- target task ---------------------------------------------------- */
enum ckpt_task_quiescence {
	CKPT_QUIESCENT_STOPPED = 1,	/* every thread stopped or traced */
	CKPT_QUIESCENT_FROZEN = 2,	/* every thread frozen */
	CKPT_QUIESCENT_NONE = 3,	/* some thread may run */
};

struct ckpt_task_info {
	__s32 pid;			/* tgid, caller's namespace */
	__s32 tid;			/* the task itself, caller's namespace */
	__u32 nr_threads;		/* the group's count, as getpid users see it */
	__u32 quiescence;		/* enum ckpt_task_quiescence */
	/* Live threads (not exited), and the calling thread's hold on them: */
	__u32 nr_live;
	__u32 nr_io_workers;		/* io_uring workers: cannot be traced */
	__u32 nr_traced;		/* traced by the caller */
	__u32 nr_ptrace_stopped;	/* ... in a ptrace stop, off the CPU */
	__u32 nr_leaving_cpu;		/* ... in a ptrace stop, still on a CPU */
	__u32 pad;
	__u64 switches;			/* context switches of the group, ever */
	char comm[16];
};

int ckpt_task_get(__s32 pid, struct ckpt_task_ref **out);
void ckpt_task_put(struct ckpt_task_ref *task);
void ckpt_task_describe(struct ckpt_task_ref *task, struct ckpt_task_info *out);
int ckpt_task_mm_get(struct ckpt_task_ref *task, struct ckpt_mm_ref **out);
int ckpt_task_mm_shared(struct ckpt_task_ref *task, struct ckpt_mm_ref *mm);

/* --- threads (payload: struct ckpt_thread from the uapi header) ------- */
struct ckpt_thread;
int ckpt_task_next_thread(struct ckpt_task_ref *task, __s64 after,
			  struct ckpt_task_ref **out, __s64 *key);
__u32 ckpt_thread_fpu_size(struct ckpt_task_ref *thread);
int ckpt_thread_describe(struct ckpt_task_ref *thread, struct ckpt_thread *out,
			 void *fpu, __u32 fpu_cap);
struct ckpt_restart;
int ckpt_thread_restart(struct ckpt_task_ref *thread, struct ckpt_restart *out);

/* --- the process (payloads: struct ckpt_process, struct ckpt_file) ---- */
struct ckpt_process;
struct ckpt_file;
enum ckpt_process_path_kind {
	CKPT_PATH_EXE = 0,
	CKPT_PATH_CWD = 1,
	CKPT_PATH_ROOT = 2,
};

void ckpt_process_describe(struct ckpt_task_ref *task, struct ckpt_mm_ref *mm,
			   struct ckpt_process *out);
int ckpt_process_groups(struct ckpt_task_ref *task, __u32 *buf, __u32 capacity);
int ckpt_sigqueue_copy(struct ckpt_task_ref *task, int shared, void *buf,
		       __u32 capacity, __u32 *nr, __u32 *queued);
int ckpt_mm_saved_auxv(struct ckpt_mm_ref *mm, __u64 *buf, __u32 capacity);
int ckpt_process_path(struct ckpt_task_ref *task, struct ckpt_mm_ref *mm,
		      int which, char *buf, __u32 size);
int ckpt_task_next_file(struct ckpt_task_ref *task, __u32 from,
			struct ckpt_file_ref **out, __u32 *fd, __u32 *fd_flags);
int ckpt_file_describe(struct ckpt_file_ref *file, struct ckpt_file *out,
		       char *path, __u32 size);

/* --- target mm -------------------------------------------------------- */
void ckpt_mm_put(struct ckpt_mm_ref *mm);
int ckpt_mm_read_lock(struct ckpt_mm_ref *mm);
void ckpt_mm_read_unlock(struct ckpt_mm_ref *mm);
void ckpt_mm_describe(struct ckpt_mm_ref *mm, struct ckpt_mm *out);

/* Facts about a VMA that the core's selection policy needs. */
enum ckpt_vma_trait {
	CKPT_VMA_T_ANONYMOUS = 1u << 0,	/* vma_is_anonymous() */
	CKPT_VMA_T_FILE = 1u << 1,	/* has a vm_file */
	CKPT_VMA_T_SHARED = 1u << 2,	/* VM_MAYSHARE */
	CKPT_VMA_T_SPECIAL = 1u << 3,	/* VM_IO/PFNMAP/MIXEDMAP, or named */
	CKPT_VMA_T_HUGETLB = 1u << 4,	/* is_vm_hugetlb_page() */
	CKPT_VMA_T_SHMEM = 1u << 5,	/* its file is shmem (shmem_mapping()) */
};

struct ckpt_vma_info {
	__u64 start, end;
	__u64 page_prot, vm_flags, pgoff;
	__u64 ino, dev;
	__u32 traits;		/* enum ckpt_vma_trait */
	char name[32];			/* special mapping's name, or "" */
};

int ckpt_mm_find_vma(struct ckpt_mm_ref *mm, __u64 addr,
		     struct ckpt_vma_info *out, struct ckpt_file_ref **file);
int ckpt_mm_vma_check(struct ckpt_mm_ref *mm, const struct ckpt_vma_info *want,
		      struct ckpt_file_ref *file, __u64 addr, __u64 *end);
__u64 ckpt_mm_next_populated(struct ckpt_mm_ref *mm, __u64 addr, __u64 end);
__u64 ckpt_mm_next_data(struct ckpt_mm_ref *mm, __u64 addr, __u64 end,
			__u64 *run_end);

enum ckpt_pte_state {
	CKPT_PTE_NONE = 0,		/* nothing mapped, never was */
	CKPT_PTE_PRESENT = 1,		/* a present page */
	CKPT_PTE_ZERO = 2,		/* the small zero page */
	CKPT_PTE_SWAP = 3,		/* a swap entry: the page is on swap */
	CKPT_PTE_HUGE_ZERO = 4,		/* a present huge PMD: the huge zero page */
	CKPT_PTE_MIGRATING = 5,		/* a migration entry, PTE or PMD */
	CKPT_PTE_MARKER = 6,		/* a userfaultfd-wp or guard marker */
	CKPT_PTE_POISON = 7,		/* hardware-poisoned memory */
	CKPT_PTE_OTHER = 8,		/* device memory, a bad entry, ... */
};

int ckpt_mm_pte_state(struct ckpt_mm_ref *mm, __u64 addr);

enum ckpt_gup_mode {
	CKPT_GUP_FAULT = 0,		/* anonymous VMAs: fault in swapped pages */
	CKPT_GUP_NOFAULT = 1,		/* only what is mapped now */
	CKPT_GUP_FAULT_COW = 2,		/* a swapped COW page of a file mapping */
};

long ckpt_gup(struct ckpt_mm_ref *mm, __u64 addr, __u32 nr,
	      __u32 mode, struct ckpt_page_ref **pages);
int ckpt_page_is_anon(struct ckpt_page_ref *page);
void ckpt_page_put(struct ckpt_page_ref *page);
int ckpt_page_copy(struct ckpt_page_ref *page, void *dst);

/* --- shared memory, by page-cache index (CKPT_VMA_T_SHMEM) ------------ */
__u64 ckpt_shmem_next(struct ckpt_file_ref *file, __u64 index, __u64 last);
long ckpt_shmem_get(struct ckpt_file_ref *file, __u64 index, __u32 nr,
		    struct ckpt_page_ref **pages);

/* --- files ------------------------------------------------------------ */
int ckpt_file_get_output(__s32 fd, struct ckpt_file_ref **out);
void ckpt_file_put(struct ckpt_file_ref *file);
int ckpt_file_path(struct ckpt_file_ref *file, char *buf, size_t len);
int ckpt_file_write(struct ckpt_file_ref *file, const void *buf, size_t len);

/* --- restore: current rebuilds its own address space ----------------- */
int ckpt_file_get_input(__s32 fd, struct ckpt_file_ref **out);
long ckpt_file_read(struct ckpt_file_ref *file, void *buf, size_t len);
int ckpt_restore_open(const char *path, __u64 ino, __u64 dev, __u64 min_size,
		      int writable, struct ckpt_file_ref **out);
int ckpt_restore_shmem_create(const char *name, __u64 size,
			      struct ckpt_file_ref **out);
int ckpt_restore_shmem_grow(struct ckpt_file_ref *ref, __u64 size);
int ckpt_restore_file_write(struct ckpt_file_ref *ref, const void *buf,
			    size_t len, __u64 pos);
__u64 ckpt_restore_user_limit(void);
int ckpt_restore_map(__u64 start, __u64 end, __u32 prot, int shared,
		     int growsdown, int noreserve, struct ckpt_file_ref *file,
		     __u64 pgoff);
int ckpt_restore_put_advice(__u64 uaddr, __u32 index,
			    const struct ckpt_restore_advice *advice);
int ckpt_restore_put_ldt(__u64 uaddr, const void *entries, __u32 nr);
int ckpt_restore_write(__u64 addr, const void *buf, size_t len);
int ckpt_restore_set_mm(const struct ckpt_mm *rec);

/* --- x86 mm context -------------------------------------------------- */
int ckpt_vdso_copy(struct ckpt_mm_ref *mm, void *buf, __u32 capacity,
		   __u64 *start, __u32 *size);
__u32 ckpt_ldt_entry_size(void);
int ckpt_ldt_copy(struct ckpt_mm_ref *mm, void *buf, __u32 capacity,
		  __u32 *nr);

/* --- KUnit kernels only: the current task's Nth allocation fails ------ */
long ckpt_kunit_fail_alloc(long nth);

/* --- the core's entry points, called by the device ------------------ */
struct ckpt_core_info {
	__u32 checksum;			/* in: CKPT_CSUM_* or ~0; out: chosen */
	__u32 crc_instruction;		/* 1: the CRC32 instruction was chosen */
	__u32 crc_sample_bytes;		/* checksummed per timed pass */
	__u32 reserved;
	__u64 crc_instruction_ns;	/* per pass; 0 if the CPU lacks it */
	__u64 crc_table_ns;		/* per pass, slice-by-8 */
	__u64 xxh64_ns;			/* per pass */
};

void ckpt_core_init(struct ckpt_core_info *info);
int ckpt_checkpoint(struct ckpt_checkpoint_args *args);
struct ckpt_restore_args;
int ckpt_restore(struct ckpt_restore_args *args);

#ifdef __cplusplus
}
#endif

#endif /* CKPT_BRIDGE_H */
