// SPDX-License-Identifier: GPL-2.0
//
// The fake kernel's state: laying out targets and reporting what is left.
#include "fake_bridge.h"

#include <iterator>
#include <sstream>
#include <stdexcept>

namespace fake {
namespace {

std::unique_ptr<Kernel> g_kernel;

std::string hex(uint64_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << value;
  return out.str();
}

}  // namespace

Kernel& kernel() {
  if (!g_kernel) g_kernel = std::make_unique<Kernel>();
  return *g_kernel;
}

void reset_kernel() { g_kernel = std::make_unique<Kernel>(); }

uint8_t pattern_byte(uint64_t addr, uint8_t salt, size_t i) {
  const uint64_t page = addr / kPageSize;
  return uint8_t(page * 131 + (page >> 8) * 17 + i * 7 + (i >> 8) * 3 + salt * 29 + 1);
}

// --- Mm -------------------------------------------------------------------

Vma& Mm::add_vma(const Vma& vma) {
  if (vma.start % kPageSize || vma.end % kPageSize || vma.start >= vma.end)
    throw std::invalid_argument("bad VMA bounds " + hex(vma.start) + "-" + hex(vma.end));
  auto next = vmas_.lower_bound(vma.start);
  if (next != vmas_.end() && next->second.start < vma.end)
    throw std::invalid_argument("VMA " + hex(vma.start) + " overlaps the next one");
  if (next != vmas_.begin() && std::prev(next)->second.end > vma.start)
    throw std::invalid_argument("VMA " + hex(vma.start) + " overlaps the previous one");
  return vmas_[vma.start] = vma;
}

void Mm::shrink_vma(uint64_t start, uint64_t new_end) {
  auto vma = vmas_.find(start);
  if (vma == vmas_.end()) throw std::invalid_argument("no VMA at " + hex(start));
  for (auto slot = slots_.lower_bound(new_end); slot != slots_.end() && slot->first < vma->second.end;) {
    if (slot->second.page && slot->second.page->refs) retired_.push_back(slot->second.page);
    slot = slots_.erase(slot);
  }
  if (new_end <= start)
    vmas_.erase(vma);
  else
    vma->second.end = new_end;
}

void Mm::remove_vma(uint64_t start) { shrink_vma(start, start); }

Page* Mm::set(uint64_t addr, Pte state, uint8_t salt, bool anon) {
  if (addr % kPageSize) throw std::invalid_argument("unaligned page " + hex(addr));
  Slot& slot = slots_[addr];
  if (slot.page && slot.page->refs) retired_.push_back(slot.page);
  slot.state = state;
  slot.page.reset();
  tables_.insert(addr / kPmdSize);
  if (state == Pte::kNone || state == Pte::kZero || state == Pte::kMarker || state == Pte::kHugeZero)
    return nullptr;
  slot.page = std::make_shared<Page>();
  slot.page->anon = state == Pte::kAnon || ((state == Pte::kSwapped || state == Pte::kMigrating) && anon);
  for (size_t i = 0; i < kPageSize; i++) slot.page->data[i] = pattern_byte(addr, salt, i);
  return slot.page.get();
}

Page* Mm::set_migrating(uint64_t addr, long ticks, uint8_t salt, bool anon) {
  Page* page = set(addr, Pte::kMigrating, salt, anon);
  slots_[addr].settles_at_tick = kernel().sleep_ticks + ticks;
  return page;
}

void Mm::fill(uint64_t start, uint64_t pages, Pte state, uint8_t salt) {
  for (uint64_t i = 0; i < pages; i++) set(start + i * kPageSize, state, salt);
}

void Mm::add_page_table(uint64_t addr) { tables_.insert(addr / kPmdSize); }

Page* File::set_cache(uint64_t index, Pte state, uint64_t as_addr, uint8_t salt) {
  Slot& slot = cache[index];
  slot.state = state;
  slot.page = std::make_shared<Page>();
  for (size_t i = 0; i < kPageSize; i++) slot.page->data[i] = pattern_byte(as_addr, salt, i);
  size = std::max(size, (index + 1) * kPageSize);
  return slot.page.get();
}

namespace {
// A migration entry becomes its page again once enough ticks have passed.
Pte settled(const Slot& slot) {
  if (slot.state != Pte::kMigrating || kernel().sleep_ticks < slot.settles_at_tick) return slot.state;
  return slot.page->anon ? Pte::kAnon : Pte::kFile;
}
}  // namespace

Pte Mm::state(uint64_t addr) const {
  auto it = slots_.find(addr);
  return it == slots_.end() ? Pte::kNone : settled(it->second);
}

const Page* Mm::page(uint64_t addr) const {
  auto it = slots_.find(addr);
  return it == slots_.end() ? nullptr : it->second.page.get();
}

Slot* Mm::slot(uint64_t addr) {
  auto it = slots_.find(addr);
  if (it == slots_.end()) return nullptr;
  it->second.state = settled(it->second);
  return &it->second;
}

const Vma* Mm::vma_at(uint64_t addr) const {
  auto it = vmas_.upper_bound(addr);
  if (it == vmas_.begin()) return nullptr;
  --it;
  return addr < it->second.end ? &it->second : nullptr;
}

std::vector<const Page*> Mm::all_pages() const {
  std::vector<const Page*> pages;
  for (const auto& [addr, slot] : slots_)
    if (slot.page) pages.push_back(slot.page.get());
  for (const auto& page : retired_) pages.push_back(page.get());
  return pages;
}

// --- Kernel ---------------------------------------------------------------

Mm& Kernel::new_mm() {
  mms_.push_back(std::make_unique<Mm>());
  return *mms_.back();
}

Task& Kernel::add_task(int32_t pid, Mm* mm) {
  auto task = std::make_unique<Task>();
  task->pid = pid;
  task->tid = pid;
  task->mm = mm;
  task->add_thread(pid).leader = true;
  Task& ref = *task;
  tasks_[pid] = std::move(task);
  return ref;
}

std::vector<Task*> Kernel::all_tasks() const {
  std::vector<Task*> all;
  for (const auto& [pid, task] : tasks_) all.push_back(task.get());
  return all;
}

Thread& Task::add_thread(int32_t tid) {
  threads.push_back(std::make_unique<Thread>());
  Thread& thread = *threads.back();
  thread.tid = tid;
  for (size_t i = 0; i < thread.fpu.size(); i++) thread.fpu[i] = uint8_t(tid * 7 + i);
  return thread;
}

ckpt_thread thread_state(const Thread& thread) {
  ckpt_thread state{};
  state.tid = thread.tid;
  state.ns_tid = thread.tid - 1000;
  state.flags = (thread.leader ? CKPT_THREAD_LEADER : 0) | (thread.running ? CKPT_THREAD_RUNNING : 0) |
                (thread.syscall_nr >= 0 ? CKPT_THREAD_IN_SYSCALL : 0);
  state.syscall_nr = thread.syscall_nr;
  state.sig_blocked = uint64_t(thread.tid) << 1;
  state.sig_pending = 1u << 9;
  state.sas_ss_sp = 0x7000000000ull + uint64_t(thread.tid) * 0x10000;
  state.sas_ss_size = 0x4000;
  state.rseq = 0x7100000000ull + uint64_t(thread.tid) * 0x20;
  state.rseq_len = 32;
  state.rseq_sig = 0x53053053;
  state.robust_list = 0x7200000000ull + uint64_t(thread.tid);
  state.clear_child_tid = 0x7300000000ull + uint64_t(thread.tid);
  for (uint32_t i = 0; i < CKPT_THREAD_NR_REGS; i++) state.regs[i] = uint64_t(thread.tid) * 1000 + i;
  for (uint32_t i = 0; i < CKPT_THREAD_NR_TLS; i++) state.tls[i] = uint64_t(thread.tid) * 10 + i;
  state.xfeatures = 7;
  state.xstate_size = uint32_t(thread.fpu.size());
  return state;
}

File& Kernel::new_file(const std::string& path) {
  files_.push_back(std::make_unique<File>());
  files_.back()->path = path;
  return *files_.back();
}

File& Kernel::open_output(int fd, bool writable) {
  File& file = new_file("/tmp/image." + std::to_string(fd));
  file.writable = writable;
  fds_[fd] = &file;
  return file;
}

Task* Kernel::task(int32_t pid) {
  auto it = tasks_.find(pid);
  return it == tasks_.end() ? nullptr : it->second.get();
}

File* Kernel::fd(int fd) {
  auto it = fds_.find(fd);
  return it == fds_.end() ? nullptr : it->second;
}

void Kernel::violation(const std::string& what) { violations_.push_back(what); }

void Kernel::run_started_work() {
  const auto work = std::move(started_work);
  started_work.clear();
  for (const auto& [fn, arg] : work) fn(arg);
}

bool Kernel::any_mm_locked() const {
  for (const auto& mm : mms_)
    if (mm->locked) return true;
  return false;
}

std::vector<std::string> Kernel::leftovers() const {
  std::vector<std::string> left;
  for (const auto& [pid, task] : tasks_) {
    if (task->refs) left.push_back("task " + std::to_string(pid) + ": " + std::to_string(task->refs) + " references");
    for (const auto& thread : task->threads)
      if (thread->refs)
        left.push_back("thread " + std::to_string(thread->tid) + ": " + std::to_string(thread->refs) + " references");
  }
  for (size_t i = 0; i < mms_.size(); i++) {
    const Mm& mm = *mms_[i];
    const std::string name = "mm " + std::to_string(i);
    if (mm.refs) left.push_back(name + ": " + std::to_string(mm.refs) + " references");
    if (mm.locked) left.push_back(name + ": mmap lock held");
    for (const auto& [addr, slot] : mm.slots())
      if (slot.page && slot.page->refs)
        left.push_back(name + ": page " + hex(addr) + ": " + std::to_string(slot.page->refs) + " references");
    size_t retired_held = 0;
    for (const Page* page : mm.all_pages()) retired_held += page->refs;
    size_t mapped_held = 0;
    for (const auto& [addr, slot] : mm.slots())
      if (slot.page) mapped_held += slot.page->refs;
    if (retired_held > mapped_held)
      left.push_back(name + ": " + std::to_string(retired_held - mapped_held) + " references to unmapped pages");
  }
  for (const auto& file : files_) {
    if (file->refs) left.push_back("file " + file->path + ": " + std::to_string(file->refs) + " references");
    for (const auto& [index, slot] : file->cache)
      if (slot.page && slot.page->refs)
        left.push_back("file " + file->path + ": page " + std::to_string(index) + ": " +
                       std::to_string(slot.page->refs) + " references");
  }
  if (workers_running) left.push_back(std::to_string(workers_running) + " work items started, never waited for");
  return left;
}

}  // namespace fake
