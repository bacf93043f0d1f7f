/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ckpt: checkpoint the memory of a running process through /dev/ckpt.
 *
 * This header is the whole user-visible contract: the ioctl that starts a
 * dump and the layout of the image the module streams into the caller's fd.
 * It is usable from the kernel, from C and from C++ userspace.
 * Documentation/image-format.md describes the same layout in prose.
 *
 * An image is a sequence of records.  Every record starts on an 8-byte
 * aligned stream offset with a struct ckpt_rec_hdr; its payload follows and
 * is zero-padded to the next 8-byte boundary.  Stream offsets count from the
 * first byte of the HEAD record.
 *
 *   +------+------+----+-----+-------+-------+-----+-------+-----+-----+------+
 *   | HEAD | TASK | MM | VMA | PAGES | PAGES | VMA | PAGES | ... | LDT | TAIL |
 *   +------+------+----+-----+-------+-------+-----+-------+-----+-----+------+
 *                        \___ one VMA record, then zero or more PAGES records
 *                             holding that VMA's dumped pages, in address order
 *
 * A PAGES record carries the addresses of up to CKPT_PAGES_MAX pages, zero
 * padding up to the next page-aligned stream offset, then the contents of
 * those pages in the same order:
 *
 *   | hdr | ckpt_pages | addr[0..nr) | 0-pad to page | page 0 | page 1 | ... |
 *
 * Version rule: a reader refuses another CKPT_FORMAT_MAJOR and accepts any
 * minor.  Later minors add record types, or append fields to the HEAD,
 * TASK, MM and TAIL payloads; the fixed parts of VMA, PAGES and LDT, which
 * variable data follows, never grow.
 *
 * Integers are little-endian.  Every record's crc is a checksum over the
 * first 16 bytes of its header followed by its payload (not the padding):
 * HEAD's is always CRC-32C (Castagnoli, reflected polynomial 0x82F63B78,
 * initial value ~0, final xor ~0); every later record's uses the algorithm
 * HEAD's @checksum names (format 1.2; 0, CRC-32C, before).  TAIL's chain is
 * always CRC-32C.
 */
#ifndef _UAPI_LINUX_CKPT_H
#define _UAPI_LINUX_CKPT_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* ------------------------------------------------------------------ ioctl */

#define CKPT_DEVICE_NAME	"ckpt"

/* Dump even if the target's threads are running (the image may be torn). */
#define CKPT_CHECKPOINT_LIVE	(1U << 0)
/*
 * Which checksum the image's records carry (struct ckpt_head.checksum).
 * Neither: the module's choice at load (the faster on this CPU, see the
 * module's "checksum" parameter); both: EINVAL.
 */
#define CKPT_CHECKPOINT_CRC32C	(1U << 1)
#define CKPT_CHECKPOINT_XXH64	(1U << 2)
#define CKPT_CHECKPOINT_FLAGS	(CKPT_CHECKPOINT_LIVE | CKPT_CHECKPOINT_CRC32C | \
				 CKPT_CHECKPOINT_XXH64)

/**
 * struct ckpt_checkpoint_args - argument of CKPT_IOC_CHECKPOINT
 * @size:	sizeof(struct ckpt_checkpoint_args) as the caller knows it;
 *		older (smaller) and newer (larger, zero-filled) layouts are
 *		accepted.
 * @flags:	CKPT_CHECKPOINT_*; unknown bits are rejected with EINVAL.
 * @pid:	target process, in the caller's pid namespace.
 * @fd:		file descriptor, open for writing, that receives the image.
 * @reserved:	must be zero.
 * @bytes:	out: bytes written to @fd.
 * @nr_vmas:	out: VMA records written.
 * @nr_pages:	out: pages whose contents were written.
 * @pages_scanned: out: pages offered to GUP by the page scan (the entries
 *		that may hold data; holes and the zero page are skipped in the
 *		page tables) and refused or taken.
 * @err_addr:	out: start of the VMA that made the dump fail, or for
 *		EHWPOISON the address of the poisoned page; else 0.
 * @peak_kmem:	out: most kernel memory the dump held at once, in bytes.
 * @vma_ns:	out: nanoseconds spent finding each VMA and writing its
 *		record (a lock hold, the file's path, the record).
 * @scan_ns:	out: nanoseconds spent gathering pages under the lock: the
 *		VMA's check in each hold, the page-table walk, taking pages.
 * @copy_ns:	out: nanoseconds spent copying and checksumming pages, or
 *		waiting for the worker that does.
 * @write_ns:	out: nanoseconds spent writing PAGES records to @fd.
 *		(Added with size CKPT_CHECKPOINT_ARGS_SIZE_VER1; the rest of
 *		a dump's time is its other records and holding the target.)
 *
 * The caller must be the ptrace tracer of every live thread of @pid
 * (PTRACE_SEIZE; io_uring workers excepted), else EPERM; without
 * CKPT_CHECKPOINT_LIVE every such thread must sit in a ptrace stop for the
 * whole dump, else EBUSY.
 *
 * Returns 0, or -1 with errno set.  On failure the out fields describe what
 * had been written when the dump stopped.
 */
struct ckpt_checkpoint_args {
	__u32 size;
	__u32 flags;
	__s32 pid;
	__s32 fd;
	__u64 reserved[2];
	__u64 bytes;
	__u64 nr_vmas;
	__u64 nr_pages;
	__u64 pages_scanned;
	__u64 err_addr;
	__u64 peak_kmem;
	__u64 vma_ns;
	__u64 scan_ns;
	__u64 copy_ns;
	__u64 write_ns;
};

#define CKPT_CHECKPOINT_ARGS_SIZE_VER0	80
#define CKPT_CHECKPOINT_ARGS_SIZE_VER1	112

/* One range for CKPT_IOC_RESTORE_FINISH to unmap. */
struct ckpt_range {
	__u64 start;
	__u64 end;
};

/**
 * struct ckpt_restore_finish_args - argument of CKPT_IOC_RESTORE_FINISH
 * @size:	sizeof(struct ckpt_restore_finish_args) as the caller knows it.
 * @flags:	CKPT_RESTORE_FINISH_THREAD, with it
 *		CKPT_RESTORE_FINISH_AFTER_LEADER, or 0; others give EINVAL.
 * @unmap:	user address of @nr_unmap struct ckpt_range: the restorer's
 *		own mappings (this struct and that array may lie in them).
 * @nr_unmap:	at most 64.
 * @nr_close:	entries of @close_fds used, at most 8.
 * @close_fds:	the restorer's own descriptors, closed last (the /dev/ckpt
 *		one this ioctl is called on may be among them).
 * @blocked:	the signal mask the thread continues with.
 * @wait_threads: before unmapping anything, wait until this many other
 *		threads have finished with CKPT_RESTORE_FINISH_THREAD on the
 *		same open /dev/ckpt (the last thread of a process waits for
 *		the others to have left the restorer's code).
 * @reserved:	must be zero.
 * @regs:	the thread's general registers, in the order and layout of
 *		THREAD's regs (struct user_regs_struct): r15, r14, r13, r12, bp,
 *		bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs,
 *		flags, sp, ss, fs_base, gs_base, ds, es, fs, gs.  cs, ss and the
 *		segment selectors are the kernel's user defaults whatever they
 *		say; fs_base and gs_base must already be set (arch_prctl).
 *
 * With CKPT_RESTORE_FINISH_THREAD in @flags, a thread of a process whose
 * last thread finishes after it: nothing is unmapped or closed (both counts
 * must be 0), and once its registers are set it counts as finished.  With
 * CKPT_RESTORE_FINISH_AFTER_LEADER too, it then waits until the main
 * thread has exited (a process whose main thread had exited at the dump:
 * its main thread finishes by exiting, and no other thread runs before).
 *
 * The last step of a restore: unmaps the ranges, closes the descriptors,
 * sets the signal mask and returns to user mode in the restored thread's
 * registers (the ioctl's return value is its ax).  The FPU state is the
 * caller's at the call.  Only threads of the process whose memory a
 * successful CKPT_IOC_RESTORE rebuilt through the same open file may call
 * it (EPERM otherwise), whatever their credentials are by then: each
 * thread takes the restored process's credentials before this call.  On
 * failure (EPERM, EINVAL, EFAULT) nothing has changed.
 */
struct ckpt_restore_finish_args {
	__u32 size;
	__u32 flags;
	__u64 unmap;
	__u32 nr_unmap;
	__u32 nr_close;
	__s32 close_fds[8];
	__u64 blocked;
	__u64 regs[27];
	__u32 wait_threads;
	__u32 reserved;
};

#define CKPT_RESTORE_FINISH_THREAD	(1U << 0)
#define CKPT_RESTORE_FINISH_AFTER_LEADER (1U << 1)
#define CKPT_RESTORE_FINISH_ARGS_SIZE_VER0	288
#define CKPT_RESTORE_MAX_CLOSE	8
#define CKPT_RESTORE_MAX_UNMAP	64

#define CKPT_IOC_MAGIC		0xCE
#define CKPT_IOC_CHECKPOINT	_IOWR(CKPT_IOC_MAGIC, 0x01, struct ckpt_checkpoint_args)
#define CKPT_IOC_RESTORE	_IOWR(CKPT_IOC_MAGIC, 0x02, struct ckpt_restore_args)
#define CKPT_IOC_RESTORE_FINISH	_IOW(CKPT_IOC_MAGIC, 0x03, struct ckpt_restore_finish_args)

/* ------------------------------------------------------------------ image */

#define CKPT_IMAGE_MAGIC	"CKPTIMG\0"	/* 8 bytes, first in HEAD */
#define CKPT_FORMAT_MAJOR	1	/* incompatible changes */
#define CKPT_FORMAT_MINOR	4	/* fields appended, types added */

enum ckpt_rec_type {
	CKPT_REC_HEAD	= 1,
	CKPT_REC_TASK	= 2,
	CKPT_REC_MM	= 3,
	CKPT_REC_VMA	= 4,
	CKPT_REC_PAGES	= 5,
	CKPT_REC_LDT	= 6,
	CKPT_REC_TAIL	= 7,
	CKPT_REC_THREAD	= 8,	/* format 1.1 */
	CKPT_REC_PROCESS = 9,	/* format 1.1 */
	CKPT_REC_FILE	= 10,	/* format 1.1 */
	CKPT_REC_RESTART = 11,	/* format 1.3 */
	CKPT_REC_VDSO	= 12,	/* format 1.3 */
	CKPT_REC_SIGQUEUE = 13,	/* format 1.4 */
};

/**
 * struct ckpt_rec_hdr - start of every record (24 bytes)
 * @type:	enum ckpt_rec_type; readers skip types they do not know.
 * @flags:	zero in this version.
 * @len:	payload bytes after this header, padding excluded.
 * @crc:	CRC-32C of bytes 0..15 of this header, then of the payload.
 * @reserved:	zero.
 */
struct ckpt_rec_hdr {
	__u32 type;
	__u32 flags;
	__u64 len;
	__u32 crc;
	__u32 reserved;
};

/* Image flags in struct ckpt_head.flags. */
#define CKPT_IMAGE_LIVE		(1U << 0)	/* taken with CKPT_CHECKPOINT_LIVE */

#define CKPT_ARCH_X86_64	62		/* ELF e_machine EM_X86_64 */

/**
 * struct ckpt_head - payload of CKPT_REC_HEAD, always the first record
 * @magic:	CKPT_IMAGE_MAGIC.
 * @major:	CKPT_FORMAT_MAJOR; a reader refuses another major.
 * @minor:	CKPT_FORMAT_MINOR; a reader accepts any minor.
 * @arch:	CKPT_ARCH_*.
 * @page_size:	bytes per page in PAGES records.
 * @flags:	CKPT_IMAGE_*.
 * @reserved:	zero.
 * @time_ns:	CLOCK_REALTIME when the dump started.
 * @release:	the kernel's utsname release, NUL-terminated.
 * @checksum:	CKPT_CSUM_*: the checksum of every record after HEAD
 *		(format 1.2; zero, CRC-32C, in older images).
 */
struct ckpt_head {
	char  magic[8];
	__u16 major;
	__u16 minor;
	__u32 arch;
	__u32 page_size;
	__u32 flags;
	__u64 time_ns;
	char  release[65];
	__u8  checksum;
	__u8  reserved[6];
};

/*
 * Record checksums (struct ckpt_head.checksum).  CKPT_CSUM_XXH64 is XXH64
 * with seed 0 over the same bytes, its low 32 bits stored in the crc field.
 */
#define CKPT_CSUM_CRC32C	0
#define CKPT_CSUM_XXH64		1

/*
 * Target state at dump time, in struct ckpt_task.state.  A dump without
 * CKPT_CHECKPOINT_LIVE always says STOPPED: every thread was held in a
 * ptrace stop of the caller's for the whole dump.  A live dump says what it
 * saw when it started.
 */
enum ckpt_task_state {
	CKPT_TASK_STOPPED	= 1,	/* every thread stopped or traced */
	CKPT_TASK_FROZEN	= 2,	/* live: every thread frozen (cgroup freezer) */
	CKPT_TASK_RUNNING	= 3,	/* live: some thread runnable */
};

/**
 * struct ckpt_task - payload of CKPT_REC_TASK
 * @pid:	thread-group id in the caller's pid namespace.
 * @tid:	thread id of the task named by the ioctl, same namespace.
 * @nr_threads:	threads in the group.
 * @state:	enum ckpt_task_state.
 * @comm:	the task's comm, NUL-terminated.
 */
struct ckpt_task {
	__s32 pid;
	__s32 tid;
	__u32 nr_threads;
	__u32 state;
	char  comm[16];
};

/* Thread flags, in struct ckpt_thread.flags. */
#define CKPT_THREAD_LEADER	(1U << 0)	/* the thread-group leader */
#define CKPT_THREAD_IN_SYSCALL	(1U << 1)	/* stopped in a system call */
#define CKPT_THREAD_RUNNING	(1U << 2)	/* live: could run, state may be torn */

#define CKPT_THREAD_NR_REGS	27	/* struct user_regs_struct, x86-64 */
#define CKPT_THREAD_NR_TLS	3	/* GDT TLS slots (set_thread_area) */

/**
 * struct ckpt_thread - payload of CKPT_REC_THREAD, then @xstate_size bytes
 * @tid:	thread id in the caller's pid namespace.
 * @ns_tid:	thread id in the thread's own pid namespace.
 * @flags:	CKPT_THREAD_*.
 * @syscall_nr:	the system call the thread is stopped in, or -1.
 * @sig_blocked: blocked signals, bit n-1 for signal n.
 * @sig_pending: signals pending for this thread alone, same bits.
 * @sas_ss_sp:	alternate signal stack (sigaltstack(2)): base,
 * @sas_ss_size: size,
 * @sas_ss_flags: and flags (SS_AUTODISARM); all zero if none.
 * @rseq_len:	length of the registered struct rseq, 0 if none.
 * @rseq:	address of the registered struct rseq, 0 if none.
 * @rseq_sig:	the signature it was registered with.
 * @reserved:	zero.
 * @robust_list: head of the robust futex list (set_robust_list(2)), or 0.
 * @clear_child_tid: the address set_tid_address(2) gave, or 0.
 * @regs:	the general registers as ptrace's NT_PRSTATUS gives them
 *		(struct user_regs_struct: r15 ... gs, incl. orig_ax, fs_base,
 *		gs_base).
 * @tls:	the thread's GDT TLS descriptors, raw, as for the LDT.
 * @xfeatures:	the XSAVE features the area below holds (XCR0's user bits).
 * @xstate_size: bytes of XSAVE area after this struct.
 * @reserved2:	zero.
 *
 * Followed by the FPU/SSE/AVX state as ptrace's NT_X86_XSTATE gives it
 * (the user ABI XSAVE layout, @xfeatures also in bytes 464..471).
 */
struct ckpt_thread {
	__s32 tid;
	__s32 ns_tid;
	__u32 flags;
	__s32 syscall_nr;
	__u64 sig_blocked;
	__u64 sig_pending;
	__u64 sas_ss_sp;
	__u64 sas_ss_size;
	__u32 sas_ss_flags;
	__u32 rseq_len;
	__u64 rseq;
	__u32 rseq_sig;
	__u32 reserved;
	__u64 robust_list;
	__u64 clear_child_tid;
	__u64 regs[CKPT_THREAD_NR_REGS];
	__u64 tls[CKPT_THREAD_NR_TLS];
	__u64 xfeatures;
	__u32 xstate_size;
	__u32 reserved2;
};

/* What a thread's interrupted system call was doing, in struct ckpt_restart. */
#define CKPT_RESTART_SLEEP	1	/* nanosleep(2), clock_nanosleep(2), relative */
#define CKPT_RESTART_POLL	2	/* poll(2) with a timeout */
#define CKPT_RESTART_FUTEX	3	/* futex(2) wait with a timeout */

/**
 * struct ckpt_restart - payload of CKPT_REC_RESTART (format 1.3): the
 *	kernel's restart state of a thread stopped in a timed wait
 * @tid:	the thread, as its THREAD record (which this record follows).
 * @kind:	CKPT_RESTART_*.
 * @clockid:	SLEEP: the clock the sleep's deadline is on; else 0.
 * @reserved:	zero.
 * @remaining_ns: nanoseconds from the dump to the wait's deadline, 0 if
 *		it had passed.
 * @rmtp:	SLEEP: where the call writes the time left if interrupted
 *		(its rem argument), 0 for nowhere; else 0.
 *
 * A wait interrupted by the dump's stop returns -ERESTART_RESTARTBLOCK
 * and leaves the rest to the kernel's per-thread restart block, which no
 * register holds: this record is that state, so that a restore sleeps
 * what was left instead of returning EINTR.
 */
struct ckpt_restart {
	__s32 tid;
	__u32 kind;
	__s32 clockid;
	__u32 reserved;
	__u64 remaining_ns;
	__u64 rmtp;
};

/**
 * struct ckpt_vdso - payload of CKPT_REC_VDSO (format 1.3), then @size
 *	bytes: the contents of the process's [vdso] mapping
 * @start:	the mapping's address.
 * @size:	its size in bytes (a multiple of the page size).
 *
 * A process's C library keeps pointers into the vDSO it started with; a
 * restore on another kernel, whose vDSO differs, finds in these bytes
 * (an ELF shared object) where those entry points are and sends each to
 * the new kernel's.
 */
struct ckpt_vdso {
	__u64 start;
	__u64 size;
};

#define CKPT_VDSO_MAX_SIZE	(64 * 1024)	/* x86-64's is 8 KiB */

/**
 * struct ckpt_sigqueue - payload of CKPT_REC_SIGQUEUE (format 1.4), then
 *	@nr siginfos of CKPT_SIGINFO_SIZE bytes each
 * @tid:	the thread whose queue this is (its THREAD record's tid), or 0
 *		for the process's shared queue.
 * @nr:		siginfos that follow, in the queue's order (the order the
 *		signals are delivered in): at most CKPT_SIGQUEUE_MAX.
 * @queued:	signals the queue held; more than @nr only if it held more
 *		than CKPT_SIGQUEUE_MAX, of which the first are recorded.
 * @reserved:	zero.
 *
 * The pending masks (THREAD's and PROCESS's sig_pending) say which
 * signals are pending; the queue holds what each sender gave with it
 * (sigqueue(3)'s value, the sender's pid and uid, si_code), one entry per
 * instance of a real-time signal.  A siginfo is the siginfo_t that
 * rt_sigqueueinfo(2) takes (x86-64 layout, si_signo first), zero past the
 * kernel's 48 bytes.
 */
struct ckpt_sigqueue {
	__s32 tid;
	__u32 nr;
	__u32 queued;
	__u32 reserved;
};

#define CKPT_SIGINFO_SIZE	128
#define CKPT_SIGQUEUE_MAX	256

/**
 * struct ckpt_sigaction - one signal's disposition, as sigaction(2) sets it
 * @handler:	SIG_DFL 0, SIG_IGN 1, or the handler's address.
 * @flags:	SA_* flags (x86-64 values: SA_RESTORER 0x04000000, ...).
 * @restorer:	the sa_restorer address the C library gave, or 0.
 * @mask:	signals blocked while the handler runs, bit n-1 for signal n.
 */
struct ckpt_sigaction {
	__u64 handler;
	__u64 flags;
	__u64 restorer;
	__u64 mask;
};

#define CKPT_NR_SIGNALS		64
#define CKPT_NR_RLIMITS		16	/* RLIMIT_CPU .. RLIMIT_RTTIME */
#define CKPT_NR_IDS		4	/* real, effective, saved, filesystem */

/* Process flags, in struct ckpt_process.flags. */
#define CKPT_PROCESS_NO_NEW_PRIVS	(1U << 0)	/* prctl(PR_SET_NO_NEW_PRIVS) */
#define CKPT_PROCESS_CHILD_SUBREAPER	(1U << 1)	/* PR_SET_CHILD_SUBREAPER */
#define CKPT_PROCESS_EXE_TOO_LONG	(1U << 2)	/* path longer than 4095 */
#define CKPT_PROCESS_CWD_TOO_LONG	(1U << 3)
#define CKPT_PROCESS_ROOT_TOO_LONG	(1U << 4)

/**
 * struct ckpt_process - payload of CKPT_REC_PROCESS, then variable data
 * @pid:	thread-group id in the caller's pid namespace (as TASK's).
 * @ns_pid:	thread-group id in the process's own pid namespace.
 * @ppid:	the parent's thread-group id in the caller's pid namespace,
 *		0 if the parent is not in it.
 * @pgid:	process group id, same namespace, 0 if not in it.
 * @sid:	session id, same namespace, 0 if not in it.
 * @flags:	CKPT_PROCESS_*.
 * @umask:	the file mode creation mask.
 * @personality: personality(2)'s value.
 * @uid:	real, effective, saved and filesystem uid, in the caller's
 *		user namespace (65534 where one has no mapping there).
 * @gid:	the same four gids.
 * @cap_inheritable: capability sets, bit n for capability n.
 * @cap_permitted: ...
 * @cap_effective: ...
 * @cap_bset:	the bounding set.
 * @cap_ambient: the ambient set.
 * @securebits:	the SECBIT_* flags.
 * @dumpable:	prctl(PR_GET_DUMPABLE): 0, 1 or 2 (suid_dumpable).
 * @sig_pending: signals pending for the whole process, bit n-1 for n.
 * @exit_signal: the leader's exit signal (SIGCHLD for a normal process).
 * @pdeath_signal: the leader's parent-death signal (PR_SET_PDEATHSIG), 0.
 * @rlim:	the resource limits, soft then hard, RLIMIT_* order;
 *		RLIM_INFINITY is all ones.
 * @action:	the dispositions of signals 1..64, signal n at index n-1.
 * @nr_auxv:	64-bit words of saved auxiliary vector that follow (pairs,
 *		the AT_NULL pair included).
 * @nr_groups:	supplementary gids that follow, 4 bytes each.
 * @exe_len:	bytes of executable path that follow, NUL included; 0 none.
 * @cwd_len:	bytes of working-directory path, NUL included; 0 none.
 * @root_len:	bytes of root-directory path, NUL included; 0 none.
 * @reserved:	zero.
 *
 * Followed by __u64 auxv[nr_auxv], __u32 groups[nr_groups], then the
 * three paths, each as readlink(2) on /proc/PID/{exe,cwd,root} gives it.
 */
struct ckpt_process {
	__s32 pid;
	__s32 ns_pid;
	__s32 ppid;
	__s32 pgid;
	__s32 sid;
	__u32 flags;
	__u32 umask;
	__u32 personality;
	__u32 uid[CKPT_NR_IDS];
	__u32 gid[CKPT_NR_IDS];
	__u64 cap_inheritable;
	__u64 cap_permitted;
	__u64 cap_effective;
	__u64 cap_bset;
	__u64 cap_ambient;
	__u32 securebits;
	__u32 dumpable;
	__u64 sig_pending;
	__u32 exit_signal;
	__u32 pdeath_signal;
	__u64 rlim[CKPT_NR_RLIMITS][2];
	struct ckpt_sigaction action[CKPT_NR_SIGNALS];
	__u32 nr_auxv;
	__u32 nr_groups;
	__u32 exe_len;
	__u32 cwd_len;
	__u32 root_len;
	__u32 reserved;
};

/* What an open file is, in struct ckpt_file.kind. */
enum ckpt_file_kind {
	CKPT_FILE_REGULAR	= 1,
	CKPT_FILE_DIRECTORY	= 2,
	CKPT_FILE_FIFO		= 3,	/* pipes and named FIFOs */
	CKPT_FILE_SOCKET	= 4,
	CKPT_FILE_CHAR		= 5,	/* character device */
	CKPT_FILE_BLOCK		= 6,	/* block device */
	CKPT_FILE_SYMLINK	= 7,	/* an O_PATH descriptor of a link */
	CKPT_FILE_ANON		= 8,	/* anon_inode: eventfd, epoll, timerfd... */
};

/* Descriptor flags, in struct ckpt_file.fd_flags. */
#define CKPT_FILE_CLOEXEC	(1U << 0)	/* FD_CLOEXEC */
#define CKPT_FILE_PATH_TOO_LONG	(1U << 1)	/* path longer than 4095 */

/**
 * struct ckpt_file - payload of CKPT_REC_FILE, then @path_len bytes of path
 * @fd:		the descriptor number.
 * @fd_flags:	CKPT_FILE_CLOEXEC and CKPT_FILE_PATH_TOO_LONG.
 * @f_flags:	the open file's flags as fcntl(F_GETFL) reports them
 *		(O_ACCMODE, O_APPEND, O_NONBLOCK, O_PATH, ...; x86-64 values).
 * @kind:	enum ckpt_file_kind.
 * @pos:	the file offset.
 * @dev:	device of the inode's superblock (new_encode_dev()).
 * @ino:	inode number.
 * @size:	the inode's size in bytes.
 * @mode:	the inode's mode (S_IF* type and permission bits).
 * @rdev:	for device files the device they open (new_encode_dev()), or 0.
 * @path_len:	bytes of path that follow, NUL included; 0 if none.
 * @reserved:	zero.
 *
 * The path is what readlink(2) on /proc/PID/fd/N gives: a file's path
 * (with " (deleted)" once unlinked), or "pipe:[ino]", "socket:[ino]",
 * "anon_inode:[eventfd]" and the like.
 */
struct ckpt_file {
	__u32 fd;
	__u32 fd_flags;
	__u32 f_flags;
	__u32 kind;
	__u64 pos;
	__u64 dev;
	__u64 ino;
	__u64 size;
	__u32 mode;
	__u32 rdev;
	__u32 path_len;
	__u32 reserved;
};

/**
 * struct ckpt_mm - payload of CKPT_REC_MM: the mm_struct's layout
 *
 * Field names follow struct mm_struct.  @raw_flags is mm->flags (the
 * running kernel's MMF_* bits: informational, not to be interpreted),
 * @map_count is mm->map_count when the dump started, @mm_flags the
 * format's own CKPT_MM_* flags (format 1.1; 0 in 1.0).
 */
struct ckpt_mm {
	__u64 start_code, end_code;
	__u64 start_data, end_data;
	__u64 start_brk, brk;
	__u64 start_stack;
	__u64 arg_start, arg_end;
	__u64 env_start, env_end;
	__u64 raw_flags;
	__u32 map_count;
	__u32 mm_flags;
};

/* struct ckpt_mm.mm_flags (format 1.1), translated from the MMF_* bits. */
#define CKPT_MM_DUMP_FILTER	0x1ffU		/* /proc/PID/coredump_filter */
#define CKPT_MM_THP_DISABLE	(1U << 16)	/* prctl(PR_SET_THP_DISABLE) */
#define CKPT_MM_MDWE		(1U << 17)	/* prctl(PR_SET_MDWE) */

/* What backs a VMA, in struct ckpt_vma.kind. */
enum ckpt_vma_kind {
	CKPT_VMA_ANON		= 1,	/* private anonymous (heap, stack, ...) */
	CKPT_VMA_FILE		= 2,	/* private file mapping */
	CKPT_VMA_SHARED		= 3,	/* shared: shmem, memfd, SysV, file */
	CKPT_VMA_SPECIAL	= 4,	/* [vdso], [vvar], VM_IO, VM_PFNMAP */
};

/**
 * struct ckpt_vma - payload of CKPT_REC_VMA, then @name_len bytes of name
 * @start:	first address.
 * @end:	address after the last byte.
 * @page_prot:	vma->vm_page_prot (the running kernel's x86 PTE bits:
 *		informational, not to be interpreted).
 * @vm_flags:	CKPT_VMA_F_* (format 1.1; in 1.0 the raw vma->vm_flags,
 *		whose bits of the same names have the same values).
 * @pgoff:	vma->vm_pgoff.
 * @kind:	enum ckpt_vma_kind.
 * @name_len:	bytes of name after this struct, NUL included; 0 if none
 *		(or if CKPT_VMA_F_NAME_TOO_LONG is set).
 * @ino:	inode number of the backing file, or 0.
 * @dev:	st_dev of the backing file (new_encode_dev), or 0.
 *
 * The name is the backing file's path as d_path() gives it (deleted files
 * and memfds carry the kernel's " (deleted)" suffix), or for a special
 * mapping its name ("[vdso]").  Which pages follow: for ANON every page
 * that holds data (present or swapped out; holes and the zero page are
 * skipped); for FILE only the pages copied on write; for SHARED shared
 * memory (shmem, memfd, SysV) every page of the mapped range of the object
 * that holds data, and for SHARED mappings of other files every page mapped
 * by the target; for SPECIAL none.
 */
struct ckpt_vma {
	__u64 start;
	__u64 end;
	__u64 page_prot;
	__u64 vm_flags;
	__u64 pgoff;
	__u32 kind;
	__u32 name_len;
	__u64 ino;
	__u64 dev;
};

/*
 * struct ckpt_vma.vm_flags: the format's own, translated from VM_* one by
 * one.  The values are the ones Linux has long used for the same bits.
 */
#define CKPT_VMA_F_READ		0x00000001ULL
#define CKPT_VMA_F_WRITE	0x00000002ULL
#define CKPT_VMA_F_EXEC		0x00000004ULL
#define CKPT_VMA_F_SHARED	0x00000008ULL
#define CKPT_VMA_F_MAYREAD	0x00000010ULL
#define CKPT_VMA_F_MAYWRITE	0x00000020ULL
#define CKPT_VMA_F_MAYEXEC	0x00000040ULL
#define CKPT_VMA_F_MAYSHARE	0x00000080ULL
#define CKPT_VMA_F_GROWSDOWN	0x00000100ULL
#define CKPT_VMA_F_PFNMAP	0x00000400ULL
#define CKPT_VMA_F_LOCKED	0x00002000ULL
#define CKPT_VMA_F_IO		0x00004000ULL
#define CKPT_VMA_F_DONTCOPY	0x00020000ULL
#define CKPT_VMA_F_DONTEXPAND	0x00040000ULL
#define CKPT_VMA_F_LOCKONFAULT	0x00080000ULL
#define CKPT_VMA_F_NORESERVE	0x00200000ULL
#define CKPT_VMA_F_HUGETLB	0x00400000ULL
#define CKPT_VMA_F_WIPEONFORK	0x02000000ULL
#define CKPT_VMA_F_DONTDUMP	0x04000000ULL
#define CKPT_VMA_F_MIXEDMAP	0x10000000ULL
#define CKPT_VMA_F_HUGEPAGE	0x20000000ULL
#define CKPT_VMA_F_NOHUGEPAGE	0x40000000ULL
#define CKPT_VMA_F_MERGEABLE	0x80000000ULL
/*
 * Not a kernel flag: the backing file's path is longer than 4095 bytes
 * (d_path() cannot give it in PATH_MAX), so the record has no name;
 * @ino and @dev still identify the file.
 */
#define CKPT_VMA_F_NAME_TOO_LONG	0x8000000000000000ULL
/*
 * Not a kernel flag (format 1.4): the mapping is of shared memory (a shmem
 * file: shared anonymous memory, a memfd, SysV shm, a tmpfs file), so the
 * image holds every page of its range that holds data, touched or not; a
 * restore can rebuild the object from the image even when it has no path.
 */
#define CKPT_VMA_F_SHMEM		0x4000000000000000ULL

#define CKPT_PAGES_MAX		2048

/**
 * struct ckpt_pages - payload of CKPT_REC_PAGES
 * @nr:		pages in this record, 1..CKPT_PAGES_MAX.
 * @reserved:	zero.
 * @data_off:	offset of page 0's contents from the start of the payload;
 *		makes them start on a page-aligned stream offset.
 *
 * Followed by __u64 addr[nr] (ascending, page-aligned, inside the VMA of
 * the last VMA record), zeros up to @data_off, then nr * page_size bytes.
 */
struct ckpt_pages {
	__u32 nr;
	__u32 reserved;
	__u64 data_off;
};

/**
 * struct ckpt_ldt - payload of CKPT_REC_LDT, then @nr * @entry_size bytes
 * @entry_size:	bytes per descriptor (8).
 * @nr:		LDT entries installed in the mm (0 if it has no LDT).
 *
 * The entries are the raw x86 segment descriptors, index 0 first.
 */
struct ckpt_ldt {
	__u32 entry_size;
	__u32 nr;
};

/**
 * struct ckpt_tail - payload of CKPT_REC_TAIL, always the last record
 * @nr_records:	records before this one.
 * @bytes:	stream offset of this record's header.
 * @nr_vmas:	VMA records in the image.
 * @nr_pages:	pages in all PAGES records.
 * @crc:	CRC-32C over the @crc fields of every earlier record header,
 *		each as 4 little-endian bytes, in stream order.
 * @reserved:	zero.
 */
struct ckpt_tail {
	__u64 nr_records;
	__u64 bytes;
	__u64 nr_vmas;
	__u64 nr_pages;
	__u32 crc;
	__u32 reserved;
};

/* ---------------------------------------------------------------- restore */

/**
 * struct ckpt_restore_args - argument of CKPT_IOC_RESTORE
 * @size:	sizeof(struct ckpt_restore_args) as the caller knows it.
 * @flags:	0 (no flag is defined yet); others are rejected with EINVAL.
 * @fd:		the image, positioned just after its MM record's header: the
 *		caller has read the records before MM (HEAD to the last FILE)
 *		and that header itself.
 * @checksum:	HEAD's checksum field: CKPT_CSUM_*, else EINVAL.
 * @nr_records:	records before MM (for TAIL's check).
 * @bytes:	stream offset of the MM record's header.
 * @chain_crc:	CRC-32C state (the register, not yet inverted) over the
 *		@crc field of every record header before MM, as TAIL's chain
 *		defines it.
 * @reserved1:	must be zero.
 * @mm_hdr:	the MM record's header, as read.
 * @nr_vmas:	out: VMA records read.
 * @nr_pages:	out: pages written.
 * @err_addr:	out: start of the VMA, or address of the page, that made
 *		the restore fail; else 0.
 * @vdso:	out: start and end of the image's [vdso], or 0 and 0.
 * @vvar:	out: start and end of the image's [vvar], or 0 and 0.
 * @advice:	user address of an array of @max_advice struct
 *		ckpt_restore_advice, or 0 (then the attributes below are not
 *		reported).
 * @max_advice:	entries @advice has room for.
 * @nr_advice:	out: entries written.
 * @ldt:	user address of room for @max_ldt LDT descriptors (8 bytes
 *		each), or 0 (then an image with a non-empty LDT gives
 *		EOPNOTSUPP).
 * @max_ldt:	descriptors @ldt has room for; 8192 (LDT_ENTRIES) always
 *		suffices.
 * @nr_ldt:	out: the image's LDT entries, all written to @ldt.
 *
 * Maps every VMA of the image into the caller's address space at its
 * address, with its protection, and writes every page of the image into
 * it (also behind read-only and PROT_NONE protections), then sets the mm's
 * code, data, heap, stack, argument and environment bounds from MM.  Reads
 * MM, VMA, PAGES, LDT and TAIL and checks each as a reader must (checksums,
 * padding, order, bounds, the tail's counts and chain): EBADMSG otherwise.
 * A private file mapping is reopened by its name and must be the same file
 * (device, inode), else ESTALE; a shared mapping of a file with a path
 * is mapped shared, the image's copies of its pages checked but not
 * written (the file holds them).  Shared memory with no path to reopen
 * (CKPT_VMA_F_SHMEM and a name ending in " (deleted)": a memfd, SysV shm)
 * becomes a new shmem object of the same name, one per device and inode
 * of the image, which every VMA of that object maps (a memfd mapped twice
 * stays one memory), the pages written into it.  [vdso] and [vvar] are
 * left to the caller (it moves its own there); other special mappings,
 * more than 64 such objects and shared mappings of other deleted files
 * give EOPNOTSUPP.  A module cannot install an
 * LDT (write_ldt() is the syscall's alone): its descriptors, each checked
 * to be one modify_ldt(2) creates (else EBADMSG), are copied to @ldt for
 * the caller to install (E2BIG if @max_ldt is too small).
 * MAP_NORESERVE is applied when mapping; the attributes only madvise(2) and
 * mlock(2) set (CKPT_VMA_F_ADVICE) are left to the caller: each VMA that
 * has one is reported in @advice (E2BIG when it is full, with @err_addr).
 *
 * Fails with EEXIST when a VMA of the image overlaps one of the caller's:
 * nothing of the caller's is replaced.  On any failure the caller's address
 * space holds part of the image: a restorer must then exit.  Needs
 * CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN.
 */
struct ckpt_restore_args {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 checksum;
	__u64 nr_records;
	__u64 bytes;
	__u32 chain_crc;
	__u32 reserved1;
	struct ckpt_rec_hdr mm_hdr;
	__u64 nr_vmas;
	__u64 nr_pages;
	__u64 err_addr;
	__u64 vdso[2];
	__u64 vvar[2];
	__u64 advice;
	__u32 max_advice;
	__u32 nr_advice;
	__u64 ldt;
	__u32 max_ldt;
	__u32 nr_ldt;
};

#define CKPT_RESTORE_ARGS_SIZE_VER0	120
#define CKPT_RESTORE_ARGS_SIZE_VER1	136	/* @advice, @max_advice, @nr_advice */
#define CKPT_RESTORE_ARGS_SIZE_VER2	152	/* @ldt, @max_ldt, @nr_ldt */

/* The VMA attributes a restorer applies itself (madvise(2), mlock(2)). */
#define CKPT_VMA_F_ADVICE	(CKPT_VMA_F_LOCKED | CKPT_VMA_F_LOCKONFAULT | \
				 CKPT_VMA_F_DONTCOPY | CKPT_VMA_F_WIPEONFORK | \
				 CKPT_VMA_F_DONTDUMP | CKPT_VMA_F_HUGEPAGE | \
				 CKPT_VMA_F_NOHUGEPAGE | CKPT_VMA_F_MERGEABLE)

/**
 * struct ckpt_restore_advice - a restored VMA's attributes for its restorer
 * @start:	first address of the VMA.
 * @end:	address after its last byte.
 * @vm_flags:	the VMA record's CKPT_VMA_F_ADVICE bits.
 */
struct ckpt_restore_advice {
	__u64 start;
	__u64 end;
	__u64 vm_flags;
};

#endif /* _UAPI_LINUX_CKPT_H */
