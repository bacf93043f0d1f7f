// SPDX-License-Identifier: GPL-2.0
//
// A fake kernel behind include/ckpt/bridge.h, so the C++ core runs on the
// host: a task table, mms with VMAs and a sparse page table, GUP with the
// semantics the core relies on, output files with failure injection, and a
// ledger of every reference, lock, mapping and allocation the core holds.
//
// The core reaches the fake only through the extern "C" bridge functions
// (fake_bridge.cpp, fake_files.cpp, fake_runtime.cpp, host_heap.cpp).
// Tests lay out targets and inject failures through fake::kernel().  A
// broken bridge contract (a GUP without the mmap lock, a write with it, a
// double put, ...) cannot be an error return, so it is recorded as a
// violation for the test to assert on.
#pragma once

#include <ckpt/bridge.h>
#include <linux/ckpt.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fake {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kPmdSize = 2ull << 20;

// What one page-table slot of the target holds.
enum class Pte {
  kNone,        // a hole: never touched, or MADV_DONTNEED
  kAnon,        // a present anonymous page (private memory, a COW copy)
  kFile,        // a present page-cache or shmem page
  kZero,        // the shared zero page: read, never written
  kSwapped,     // a swap entry: GUP must fault it in
  kUnreadable,  // present, but GUP will not take it (secretmem, ...)
  kMigrating,   // a migration entry: refused until it settles into its page
  kMarker,      // a userfaultfd-wp marker: no page, no data
  kPoison,      // a hardware-poison entry: the page is lost
  kHugeZero,    // part of a huge zero page (a PMD leaf)
};

// A struct page: its contents and the references the core holds on it.
struct Page {
  bool anon = false;
  std::array<uint8_t, kPageSize> data{};
  int refs = 0;  // taken by ckpt_gup, dropped by ckpt_page_put
  bool memory_error = false;  // a latent uncorrectable error: copies fail
};

struct Slot {
  Pte state = Pte::kNone;
  std::shared_ptr<Page> page;  // null for kNone, kZero, kMarker, kHugeZero
  long settles_at_tick = 0;    // kMigrating: the ckpt_sleep_tick() count at which it settles
};

// A struct file: a VMA's backing file, or an output fd.
struct File {
  std::string path;     // what ckpt_file_path gives
  int path_error = 0;   // ckpt_file_path fails with it when non-zero
  bool writable = true;
  bool opened_writable = false;  // ckpt_restore_open opened it for writing
  int refs = 0;         // references the core holds

  // Output: every byte written, after any initial contents.
  std::vector<uint8_t> data;
  // The write that would take data past fail_at bytes stores what fits and
  // then fails with -fail_errno.
  uint64_t fail_at = UINT64_MAX;
  int fail_errno = ENOSPC;
  // Short writes: the most one underlying write accepts (the bridge loops).
  size_t max_chunk = SIZE_MAX;
  // The underlying write accepts nothing (the bridge reports -EIO).
  bool no_progress = false;
  // Runs after every underlying write: change the target mid-dump.
  std::function<void(File&)> on_write;

  // A shmem file (what CKPT_VMA_T_SHMEM VMAs map): its page cache by page
  // index.  kFile is a page in memory, kSwapped one on swap (reading it
  // brings it in as kFile), kPoison a page lost to a memory error, kNone a
  // page fallocate() reserved and nobody wrote.  No entry: a hole.
  std::map<uint64_t, Slot> cache;
  uint64_t size = 0;  // bytes; indexes at or past the end hold nothing
  // Puts a page in state `state` at `index`, with the contents of
  // pattern(as_addr, salt): the address the test will find it at.
  Page* set_cache(uint64_t index, Pte state, uint64_t as_addr, uint8_t salt = 0);
  uint64_t swapins = 0;  // swapped pages ckpt_shmem_get read in

  // As an open descriptor's file: what ckpt_file_describe reports.
  uint32_t kind = CKPT_FILE_REGULAR;
  uint32_t f_flags = 02;  // O_RDWR
  uint64_t pos = 0;
  uint64_t ino = 0;
  uint64_t dev = 0;  // for ckpt_restore_open's check

  // An image read by ckpt_file_read: data from read_pos on.
  uint64_t read_pos = 0;
};

// The address space a restore builds in current (ckpt_restore_map, ...).
struct RestoredMapping {
  uint64_t start, end;
  uint32_t prot;
  bool shared, growsdown, noreserve;
  File* file;
  uint64_t pgoff;
};

struct Restored {
  std::vector<std::pair<uint64_t, uint64_t>> own;  // the restorer's mappings
  std::vector<RestoredMapping> maps;
  std::map<uint64_t, std::array<uint8_t, kPageSize>> pages;
  std::optional<ckpt_mm> mm;
  uint64_t user_limit = 0x7ffffffff000ull;
  std::map<std::string, File*> files;  // what ckpt_restore_open finds by path
  bool advice_faults = false;          // ckpt_restore_put_advice returns -EFAULT
  bool ldt_faults = false;             // ckpt_restore_put_ldt returns -EFAULT
  std::vector<File*> objects;          // made by ckpt_restore_shmem_create, in order
  std::map<std::pair<File*, uint64_t>, std::array<uint8_t, kPageSize>> object_pages;  // by file offset
};

struct Vma {
  uint64_t start = 0;
  uint64_t end = 0;
  uint32_t traits = CKPT_VMA_T_ANONYMOUS;
  uint64_t page_prot = 0x8000000000000025ull;  // present, user, accessed, NX
  uint64_t vm_flags = 0x73;                    // read, write, mayread, maywrite
  uint64_t pgoff = 0;
  uint64_t ino = 0;
  uint64_t dev = 0;
  std::string name;      // a special mapping's name ("[vdso]")
  File* file = nullptr;  // backing file
};

struct GupCall {
  uint64_t addr;
  uint32_t nr;
  uint32_t mode;
};

class Mm {
 public:
  Vma& add_vma(const Vma& vma);  // must not overlap another VMA
  // munmap(): the VMA starting at `start` loses [new_end, end), or all of
  // itself; its pages there go, as do their page-table entries.
  void shrink_vma(uint64_t start, uint64_t new_end);
  void remove_vma(uint64_t start);
  // Puts a page in state `state` at `addr`, with contents pattern(addr, salt).
  // A kSwapped page becomes anonymous when faulted in unless `anon` is false
  // (a migrating file page).
  Page* set(uint64_t addr, Pte state, uint8_t salt = 0, bool anon = true);
  // A page under migration for `ticks` calls of ckpt_sleep_tick().
  Page* set_migrating(uint64_t addr, long ticks, uint8_t salt = 0, bool anon = true);
  // Fills [start, start + pages * kPageSize) with `state`.
  void fill(uint64_t start, uint64_t pages, Pte state, uint8_t salt = 0);
  // A page table with nothing in it (MADV_DONTNEED leaves those behind).
  void add_page_table(uint64_t addr);

  Pte state(uint64_t addr) const;
  const Page* page(uint64_t addr) const;
  Slot* slot(uint64_t addr);
  const Vma* vma_at(uint64_t addr) const;  // the VMA containing addr
  const std::map<uint64_t, Vma>& vmas() const { return vmas_; }
  const std::map<uint64_t, Slot>& slots() const { return slots_; }
  const std::set<uint64_t>& page_tables() const { return tables_; }
  // Every page ever handed out, including those unmapped while held.
  std::vector<const Page*> all_pages() const;

  ckpt_mm layout{};             // ckpt_mm_describe's answer (map_count is counted)
  std::vector<uint64_t> ldt;    // raw 8-byte descriptors
  int ldt_error = 0;            // ckpt_ldt_copy fails with it when non-zero
  std::function<void(Mm&)> before_ldt_copy;
  uint64_t vdso_start = 0;      // the vDSO ckpt_vdso_copy gives: none if empty
  std::vector<uint8_t> vdso;
  // Called first by ckpt_gup; a value replaces GUP's result.
  std::function<std::optional<long>(uint64_t addr, uint32_t nr, uint32_t mode)> gup_hook;
  long fail_lock_at = -1;       // this read-lock attempt (0-based) fails with -EINTR

  bool exited = false;          // every user is gone: read locks fail with -ESRCH
  // ckpt_mm_vma_check's range in the current lock hold; walks must stay in
  // it (tests that drive PageScanner alone turn check_vmas off).
  bool check_vmas = true;
  uint64_t checked_from = 0, checked_to = 0;
  bool shared_with_process = false;  // a process outside the group uses it

  // Bookkeeping.
  int refs = 0;
  bool locked = false;
  long lock_calls = 0;
  uint64_t swapins = 0;
  std::vector<GupCall> gup_calls;

 private:
  std::map<uint64_t, Vma> vmas_;       // by start
  std::map<uint64_t, Slot> slots_;     // by page address
  std::set<uint64_t> tables_;          // PMD indices that have a page table
  std::vector<std::shared_ptr<Page>> retired_;  // replaced while the core held them
};

// One thread of a group: what ckpt_thread_describe gives for it is
// thread_state(*this) (a pattern of its tid) and `fpu`.
struct Thread {
  int32_t tid = 0;
  bool leader = false;
  bool exited = false;     // a zombie (an exited leader): no state
  bool io_worker = false;  // an io_uring worker: no user state
  bool running = false;    // could run (a live dump)
  int32_t syscall_nr = -1;
  std::vector<uint8_t> fpu = std::vector<uint8_t>(832);
  int describe_error = 0;  // ckpt_thread_describe fails with it
  std::optional<ckpt_restart> restart;  // stopped in a timed wait
  std::vector<std::array<uint8_t, CKPT_SIGINFO_SIZE>> sigqueue;  // its queue of pending signals
  int refs = 0;
};

// The fixed part of the THREAD record the fake describes `thread` with.
ckpt_thread thread_state(const Thread& thread);

struct Task {
  int32_t pid = 0;
  int32_t tid = 0;
  uint32_t nr_threads = 1;
  // STOPPED: every thread traced by the caller and in a ptrace stop; NONE:
  // traced but running.  untraced threads count as running for quiescence.
  uint32_t quiescence = CKPT_QUIESCENT_STOPPED;
  uint32_t untraced = 0;      // live threads the caller does not trace
  uint32_t leaving_cpu = 0;   // stopped threads still on a CPU; one leaves per tick
  uint64_t switches = 1000;   // the group's context switches
  // Runs first in every ckpt_task_describe: the target changes mid-dump.
  std::function<void(Task&)> on_describe;
  std::string comm = "target";
  bool kernel_thread = false;
  Mm* mm = nullptr;  // null: a zombie
  int refs = 0;
  // The group's threads, in creation order; add_task() makes the leader
  // (tid == pid).
  std::vector<std::unique_ptr<Thread>> threads;
  Thread& add_thread(int32_t tid);

  // The PROCESS record: process_state(*this), then these.  A path longer
  // than the bridge's buffer is -ENAMETOOLONG, as d_path() gives.
  std::vector<uint32_t> groups = {4, 24, 27};
  std::vector<uint64_t> auxv = {6, 4096, 0, 0};  // AT_PAGESZ 4096, AT_NULL
  std::string exe = "/usr/bin/target", cwd = "/home/user", root = "/";
  // Runs first in every ckpt_process_groups: the groups change mid-dump.
  std::function<void(Task&)> on_groups;
  long groups_calls = 0;
  // The descriptor table.
  struct Fd {
    File* file;
    bool cloexec;
  };
  std::map<uint32_t, Fd> fds;
  long describe_calls = 0;
  std::vector<std::array<uint8_t, CKPT_SIGINFO_SIZE>> sigqueue;  // the process's queue
  int sigqueue_error = 0;  // ckpt_sigqueue_copy fails with it when non-zero
  std::function<void(Task&)> on_sigqueue;  // runs first in every ckpt_sigqueue_copy
};

// The fixed part of the PROCESS record the fake describes `task` with (a
// pattern of its pid), before the lengths of what follows are filled in.
ckpt_process process_state(const Task& task);

struct Warning {
  std::string what;
  uint64_t start;
  uint64_t end;
  int err;
};

class Kernel {
 public:
  Mm& new_mm();
  Task& add_task(int32_t pid, Mm* mm);
  File& new_file(const std::string& path);     // a backing file
  File& open_output(int fd, bool writable = true);
  Task* task(int32_t pid);
  std::vector<Task*> all_tasks() const;
  File* fd(int fd);

  // A broken bridge contract, for the test to report.
  void violation(const std::string& what);
  const std::vector<std::string>& violations() const { return violations_; }
  // What the core still holds: references, locks, page mappings.
  std::vector<std::string> leftovers() const;
  bool any_mm_locked() const;

  bool signal_pending = false;
  bool cpu_has_crc32c = true;
  uint64_t time_ns = 1700000000123456789ull;
  uint64_t clock_ns = 0;  // ckpt_clock_ns: advances 1 ms per reading
  std::string release = "6.12.0-fake";
  long resched_calls = 0;
  long sleep_ticks = 0;  // ckpt_sleep_tick() calls
  // Work items started and not yet waited for; and how many ever ran.
  long workers_running = 0;
  long worker_runs = 0;
  // Added to the clock by every worker_wake_every-th wait for a work item
  // (the first included): a slow wake-up.
  uint64_t worker_wake_ns = 0;
  long worker_wake_every = 1;
  // Runs every started work item now, as another CPU would while this task
  // blocks (in a write, say); waiting for them then returns at once.
  void run_started_work();
  std::vector<std::pair<void (*)(void*), void*>> started_work;
  std::vector<Warning> warnings;
  uint64_t page_copies = 0;  // ckpt_page_copy calls
  Restored restored;

 private:
  std::map<int32_t, std::unique_ptr<Task>> tasks_;
  std::vector<std::unique_ptr<Mm>> mms_;
  std::vector<std::unique_ptr<File>> files_;
  std::map<int, File*> fds_;
  std::vector<std::string> violations_;
};

// The fake kernel the bridge functions use; reset_kernel() starts afresh.
Kernel& kernel();
void reset_kernel();

// What pattern(addr, salt) puts at byte `i` of the page at addr.
uint8_t pattern_byte(uint64_t addr, uint8_t salt, size_t i);

// Handles as the core sees them.
inline ckpt_task_ref* handle(Task* task) { return reinterpret_cast<ckpt_task_ref*>(task); }
inline ckpt_mm_ref* handle(Mm* mm) { return reinterpret_cast<ckpt_mm_ref*>(mm); }
inline ckpt_file_ref* handle(File* file) { return reinterpret_cast<ckpt_file_ref*>(file); }
inline ckpt_page_ref* handle(Page* page) { return reinterpret_cast<ckpt_page_ref*>(page); }
inline Page* page_of(ckpt_page_ref* page) { return reinterpret_cast<Page*>(page); }

// ckpt_kmalloc's heap (host_heap.cpp): a ledger of live allocations and a
// one-shot failure, like the KUnit kernels' ckpt_kunit_fail_alloc().
namespace heap {
size_t live_allocations();
uint64_t live_bytes();
uint64_t total_allocations();
// The allocation `nth` allocations from now (0: the next one) fails;
// negative stops injecting.  Returns failures injected since the last call.
long fail_nth(long nth);
}  // namespace heap

}  // namespace fake
