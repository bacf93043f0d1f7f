// SPDX-License-Identifier: GPL-2.0
//
// The bridge's task, mm, GUP and page functions over the fake kernel, with
// the semantics src/bridge/{task,mm,gup}.c give them.
#include <algorithm>
#include <cstring>

#include "fake_bridge.h"

namespace {

using fake::kernel;
using fake::Pte;

fake::Task* task_of(ckpt_task_ref* task) { return reinterpret_cast<fake::Task*>(task); }
fake::Mm* mm_of(ckpt_mm_ref* mm) { return reinterpret_cast<fake::Mm*>(mm); }

// Thread handles are fake::Thread*, task handles fake::Task*.
fake::Thread* thread_of(ckpt_task_ref* ref) {
  for (fake::Task* task : kernel().all_tasks())
    for (const auto& thread : task->threads)
      if (reinterpret_cast<ckpt_task_ref*>(thread.get()) == ref) return thread.get();
  return nullptr;
}

void require_locked(fake::Mm* mm, const char* function) {
  if (!mm->locked) kernel().violation(std::string(function) + " called without the mmap lock");
}

// Page tables are walked only where ckpt_mm_vma_check() looked in this
// lock hold (the kernel's debug builds warn likewise).
void require_checked(fake::Mm* mm, uint64_t addr, uint64_t end, const char* function) {
  if (mm->check_vmas && (addr < mm->checked_from || end > mm->checked_to))
    kernel().violation(std::string(function) + " walks a range no ckpt_mm_vma_check covered in this lock hold");
}

void drop(int* refs, const char* what) {
  if (*refs <= 0)
    kernel().violation(std::string("put of a ") + what + " the core does not hold");
  else
    --*refs;
}

// FOLL_DUMP leaves a hole a hole (-EFAULT) only where a fault would fill it
// with zeros: anonymous memory.  Elsewhere GUP would fault the file in.
bool hole_stays_hole(const fake::Vma& vma, uint32_t mode) {
  return (vma.traits & CKPT_VMA_T_ANONYMOUS) || mode == CKPT_GUP_NOFAULT;
}

// One page of a GUP run: 0 with a reference taken, or why GUP refuses it.
long take_page(fake::Mm* mm, const fake::Vma& vma, uint64_t addr, uint32_t mode, ckpt_page_ref** out) {
  fake::Slot* slot = mm->slot(addr);
  switch (slot ? slot->state : Pte::kNone) {
    case Pte::kNone:
    case Pte::kMarker:
      if (!hole_stays_hole(vma, mode))
        kernel().violation("GUP would fault in a hole of a non-anonymous VMA (reading the file or allocating shmem)");
      return -EFAULT;
    case Pte::kZero:        // FOLL_DUMP: special pages stay out of dumps
    case Pte::kHugeZero:
    case Pte::kUnreadable:
    case Pte::kPoison:
    case Pte::kMigrating:   // FOLL_DUMP does not wait on a PMD migration entry
      return -EFAULT;
    case Pte::kSwapped:
      if (mode == CKPT_GUP_NOFAULT) return -EFAULT;
      if (vma.traits & CKPT_VMA_T_SHARED)
        kernel().violation("GUP faulted a shared VMA (it would allocate shmem)");
      slot->state = slot->page->anon ? Pte::kAnon : Pte::kFile;
      mm->swapins++;
      break;
    case Pte::kAnon:
    case Pte::kFile:
      break;
  }
  slot->page->refs++;
  *out = fake::handle(slot->page.get());
  return 0;
}

}  // namespace

extern "C" {

// --- target task ------------------------------------------------------------

int ckpt_task_get(__s32 pid, ckpt_task_ref** out) {
  if (pid <= 0) return -ESRCH;
  fake::Task* task = kernel().task(pid);
  if (!task) return -ESRCH;
  if (task->kernel_thread) return -EINVAL;
  task->refs++;
  *out = fake::handle(task);
  return 0;
}

void ckpt_task_put(ckpt_task_ref* task) {
  if (fake::Thread* thread = thread_of(task))
    drop(&thread->refs, "thread");
  else
    drop(&task_of(task)->refs, "task");
}

// As arch/x86/thread.c: the live threads, the leader first, then by tid.
int ckpt_task_next_thread(ckpt_task_ref* ref, __s64 after, ckpt_task_ref** out, __s64* key) {
  fake::Task* task = task_of(ref);
  fake::Thread* next = nullptr;
  int64_t next_key = INT64_MAX;
  for (const auto& thread : task->threads) {
    if (thread->exited || thread->io_worker) continue;
    const int64_t k = thread->leader ? 0 : thread->tid;
    if (k > after && k < next_key) {
      next = thread.get();
      next_key = k;
    }
  }
  if (!next) return -ENOENT;
  next->refs++;
  *out = reinterpret_cast<ckpt_task_ref*>(next);
  *key = next_key;
  return 0;
}

__u32 ckpt_thread_fpu_size(ckpt_task_ref* ref) {
  fake::Thread* thread = thread_of(ref);
  if (!thread) kernel().violation("ckpt_thread_fpu_size of a task, not a thread");
  return thread ? uint32_t(thread->fpu.size()) : 0;
}

int ckpt_thread_describe(ckpt_task_ref* ref, ckpt_thread* out, void* fpu, __u32 fpu_cap) {
  fake::Thread* thread = thread_of(ref);
  if (!thread || thread->refs <= 0) {
    kernel().violation("ckpt_thread_describe of a thread the core does not hold");
    return -EINVAL;
  }
  if (thread->describe_error) return thread->describe_error;
  if (fpu_cap < thread->fpu.size()) return -EOVERFLOW;
  *out = fake::thread_state(*thread);
  std::memcpy(fpu, thread->fpu.data(), thread->fpu.size());
  return 0;
}

int ckpt_thread_restart(ckpt_task_ref* ref, ckpt_restart* out) {
  fake::Thread* thread = thread_of(ref);
  if (!thread || thread->refs <= 0) {
    kernel().violation("ckpt_thread_restart of a thread the core does not hold");
    return -EINVAL;
  }
  std::memset(out, 0, sizeof(*out));
  if (!thread->restart) return 0;
  *out = *thread->restart;
  out->tid = thread->tid;
  return 1;
}

void ckpt_task_describe(ckpt_task_ref* ref, ckpt_task_info* out) {
  fake::Task* task = task_of(ref);
  if (task->on_describe) task->on_describe(*task);
  std::memset(out, 0, sizeof(*out));
  out->pid = task->pid;
  out->tid = task->tid;
  out->nr_threads = task->nr_threads;
  out->quiescence = task->untraced ? uint32_t(CKPT_QUIESCENT_NONE) : task->quiescence;
  out->nr_live = task->mm ? task->nr_threads : 0;
  out->nr_traced = out->nr_live - std::min(task->untraced, out->nr_live);
  if (task->quiescence == CKPT_QUIESCENT_STOPPED) {
    out->nr_leaving_cpu = std::min(task->leaving_cpu, out->nr_traced);
    out->nr_ptrace_stopped = out->nr_traced - out->nr_leaving_cpu;
  }
  out->switches = task->switches;
  std::strncpy(out->comm, task->comm.c_str(), sizeof(out->comm) - 1);
  task->describe_calls++;
}

int ckpt_task_mm_get(ckpt_task_ref* ref, ckpt_mm_ref** out) {
  fake::Task* task = task_of(ref);
  if (!task->mm) return -ESRCH;
  task->mm->refs++;
  *out = fake::handle(task->mm);
  return 0;
}

int ckpt_task_mm_shared(ckpt_task_ref*, ckpt_mm_ref* ref) { return mm_of(ref)->shared_with_process; }

// --- target mm ----------------------------------------------------------------

void ckpt_mm_put(ckpt_mm_ref* mm) { drop(&mm_of(mm)->refs, "mm"); }

int ckpt_mm_read_lock(ckpt_mm_ref* ref) {
  fake::Mm* mm = mm_of(ref);
  if (mm->locked) kernel().violation("mmap read lock taken twice: deadlocks behind a waiting writer");
  if (mm->lock_calls++ == mm->fail_lock_at) return -EINTR;
  if (mm->exited) return -ESRCH;  // mmget_not_zero() failed
  mm->locked = true;
  return 0;
}

void ckpt_mm_read_unlock(ckpt_mm_ref* ref) {
  fake::Mm* mm = mm_of(ref);
  if (!mm->locked) kernel().violation("mmap lock released but not held");
  mm->locked = false;
  mm->checked_from = mm->checked_to = 0;
}

void ckpt_mm_describe(ckpt_mm_ref* ref, ckpt_mm* out) {
  fake::Mm* mm = mm_of(ref);
  require_locked(mm, "ckpt_mm_describe");
  *out = mm->layout;
  out->map_count = uint32_t(mm->vmas().size());
}

int ckpt_mm_find_vma(ckpt_mm_ref* ref, __u64 addr, ckpt_vma_info* out, ckpt_file_ref** file) {
  fake::Mm* mm = mm_of(ref);
  require_locked(mm, "ckpt_mm_find_vma");
  *file = nullptr;
  const fake::Vma* vma = nullptr;
  for (const auto& [start, candidate] : mm->vmas()) {
    if (candidate.end > addr) {
      vma = &candidate;
      break;
    }
  }
  if (!vma) return -ENOENT;
  std::memset(out, 0, sizeof(*out));
  out->start = vma->start;
  out->end = vma->end;
  out->page_prot = vma->page_prot;
  out->vm_flags = vma->vm_flags;
  out->pgoff = vma->pgoff;
  out->ino = vma->ino;
  out->dev = vma->dev;
  out->traits = vma->traits;
  std::strncpy(out->name, vma->name.c_str(), sizeof(out->name) - 1);
  if (vma->file) {
    vma->file->refs++;
    *file = fake::handle(vma->file);
  }
  return 0;
}

// vma_lookup() and the same mapping: file, offset at addr, traits.
int ckpt_mm_vma_check(ckpt_mm_ref* ref, const ckpt_vma_info* want, ckpt_file_ref* file, __u64 addr, __u64* end) {
  fake::Mm* mm = mm_of(ref);
  require_locked(mm, "ckpt_mm_vma_check");
  if (addr < want->start || addr >= want->end) kernel().violation("ckpt_mm_vma_check of an address outside the VMA");
  const fake::Vma* vma = mm->vma_at(addr);
  if (!vma || fake::handle(vma->file) != file || vma->traits != want->traits ||
      vma->pgoff + (addr - vma->start) / fake::kPageSize != want->pgoff + (addr - want->start) / fake::kPageSize)
    return -EBUSY;
  *end = std::min<uint64_t>(vma->end, want->end);
  mm->checked_from = addr;
  mm->checked_to = *end;
  return 0;
}

// PMD granularity: a 2 MiB range with no page table is skipped whole.
__u64 ckpt_mm_next_populated(ckpt_mm_ref* ref, __u64 addr, __u64 end) {
  fake::Mm* mm = mm_of(ref);
  require_locked(mm, "ckpt_mm_next_populated");
  auto table = mm->page_tables().lower_bound(addr / fake::kPmdSize);
  if (table == mm->page_tables().end()) return end;
  const uint64_t populated = std::max<uint64_t>(addr, *table * fake::kPmdSize);
  return populated < end ? populated : end;
}

// As the kernel's: runs of entries that are neither holes nor the zero page,
// inside one page table, at most 16 tables looked at per call.
__u64 ckpt_mm_next_data(ckpt_mm_ref* ref, __u64 addr, __u64 end, __u64* run_end) {
  fake::Mm* mm = mm_of(ref);
  require_locked(mm, "ckpt_mm_next_data");
  if (addr < end) require_checked(mm, addr, end, "ckpt_mm_next_data");
  auto may_hold_data = [mm](uint64_t a) {
    const Pte state = mm->state(a);
    return state != Pte::kNone && state != Pte::kZero && state != Pte::kMarker;
  };
  for (int tables = 0; addr < end && tables < 16;) {
    auto table = mm->page_tables().lower_bound(addr / fake::kPmdSize);
    if (table == mm->page_tables().end()) break;
    addr = std::max<uint64_t>(addr, *table * fake::kPmdSize);
    if (addr >= end) break;
    const uint64_t table_end = std::min<uint64_t>(end, (*table + 1) * fake::kPmdSize);
    while (addr < table_end && !may_hold_data(addr)) addr += fake::kPageSize;
    const uint64_t start = addr;
    while (addr < table_end && may_hold_data(addr)) addr += fake::kPageSize;
    if (addr > start) {
      *run_end = addr;
      return start;
    }
    tables++;
  }
  addr = std::min<uint64_t>(addr, end);
  if (mm->page_tables().lower_bound(addr / fake::kPmdSize) == mm->page_tables().end()) addr = end;
  *run_end = addr;
  return addr;
}

int ckpt_mm_pte_state(ckpt_mm_ref* ref, __u64 addr) {
  fake::Mm* mm = mm_of(ref);
  require_locked(mm, "ckpt_mm_pte_state");
  require_checked(mm, addr, addr + fake::kPageSize, "ckpt_mm_pte_state");
  switch (mm->state(addr)) {
    case Pte::kNone:
      return CKPT_PTE_NONE;
    case Pte::kZero:
      return CKPT_PTE_ZERO;
    case Pte::kSwapped:
      return CKPT_PTE_SWAP;
    case Pte::kMigrating:
      return CKPT_PTE_MIGRATING;
    case Pte::kMarker:
      return CKPT_PTE_MARKER;
    case Pte::kPoison:
      return CKPT_PTE_POISON;
    case Pte::kHugeZero:
      return CKPT_PTE_HUGE_ZERO;
    case Pte::kAnon:
    case Pte::kFile:
    case Pte::kUnreadable:
      break;
  }
  return CKPT_PTE_PRESENT;
}

// get_user_pages_remote(FOLL_DUMP | FOLL_FORCE [| FOLL_NOFAULT]): the pages
// taken before the first refusal, or the refusal of the first page.
long ckpt_gup(ckpt_mm_ref* ref, __u64 addr, __u32 nr, __u32 mode, ckpt_page_ref** pages) {
  fake::Mm* mm = mm_of(ref);
  require_locked(mm, "ckpt_gup");
  mm->gup_calls.push_back({addr, nr, mode});
  if (mm->gup_hook)
    if (auto result = mm->gup_hook(addr, nr, mode)) return *result;
  if (nr == 0 || addr % fake::kPageSize) {
    kernel().violation("ckpt_gup of no pages or at an unaligned address");
    return -EINVAL;
  }
  // A run that starts or goes past a VMA (a live target unmapped part of
  // it) stops where the mapping does, as GUP's VMA lookup makes it.
  const fake::Vma* vma = mm->vma_at(addr);
  if (!vma) return -EFAULT;
  if (vma->traits & (CKPT_VMA_T_SPECIAL | CKPT_VMA_T_HUGETLB)) {
    kernel().violation("ckpt_gup on a special or hugetlb VMA");
    return -EFAULT;
  }
  require_checked(mm, addr, addr + uint64_t(nr) * fake::kPageSize, "ckpt_gup");
  if (mode == CKPT_GUP_FAULT && !(vma->traits & CKPT_VMA_T_ANONYMOUS)) return -EFAULT;  // FOLL_ANON
  if (mode == CKPT_GUP_FAULT_COW && nr != 1) kernel().violation("CKPT_GUP_FAULT_COW of more than one page");
  long taken = 0;
  for (; taken < long(nr); taken++) {
    const uint64_t page_addr = addr + uint64_t(taken) * fake::kPageSize;
    if (page_addr >= vma->end) break;
    const long err = take_page(mm, *vma, page_addr, mode, &pages[taken]);
    if (err) return taken ? taken : err;
  }
  return taken;
}

// As src/bridge/shmem.c: the page cache's next entry inside the file.
__u64 ckpt_shmem_next(ckpt_file_ref* ref, __u64 index, __u64 last) {
  const fake::File* file = reinterpret_cast<fake::File*>(ref);
  const uint64_t eof = file->size / fake::kPageSize;  // first index past the end
  auto it = file->cache.lower_bound(index);
  if (it == file->cache.end() || it->first > last || it->first >= eof) return last + 1;
  return it->first;
}

long ckpt_shmem_get(ckpt_file_ref* ref, __u64 index, __u32 nr, ckpt_page_ref** pages) {
  fake::File* file = reinterpret_cast<fake::File*>(ref);
  long taken = 0;
  for (; taken < long(nr); taken++) {
    const uint64_t i = index + uint64_t(taken);
    auto it = file->cache.find(i);
    if (i >= file->size / fake::kPageSize || it == file->cache.end() || it->second.state == Pte::kNone) break;
    fake::Slot& slot = it->second;
    if (slot.state == Pte::kPoison) return taken ? taken : -EHWPOISON;
    if (slot.state == Pte::kSwapped) {
      slot.state = Pte::kFile;
      file->swapins++;
    }
    slot.page->refs++;
    pages[taken] = fake::handle(slot.page.get());
  }
  return taken;
}

int ckpt_page_is_anon(ckpt_page_ref* page) { return fake::page_of(page)->anon; }

void ckpt_page_put(ckpt_page_ref* ref) { drop(&fake::page_of(ref)->refs, "page"); }

int ckpt_page_copy(ckpt_page_ref* ref, void* dst) {
  fake::Page* page = fake::page_of(ref);
  if (page->refs <= 0) kernel().violation("ckpt_page_copy of a page the core does not hold");
  kernel().page_copies++;
  if (page->memory_error) return -EHWPOISON;  // copy_mc_to_kernel() fell short
  std::memcpy(dst, page->data.data(), fake::kPageSize);
  return 0;
}

}  // extern "C"
