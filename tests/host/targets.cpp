// SPDX-License-Identifier: GPL-2.0
#include "targets.h"

namespace targets {
namespace {

constexpr uint64_t kVmRead = 0x1, kVmWrite = 0x2, kVmExec = 0x4, kVmShared = 0x8, kVmMayShare = 0x80;
constexpr uint64_t kVmIo = 0x4000, kVmHugetlb = 0x400000;

fake::Vma vma(uint64_t start, uint64_t pages, uint32_t traits, uint64_t vm_flags) {
  fake::Vma v;
  v.start = start;
  v.end = start + pages * kPage;
  v.traits = traits;
  v.vm_flags = vm_flags;
  return v;
}

fake::Vma with_file(fake::Vma v, fake::File* file, uint64_t pgoff) {
  v.file = file;
  v.pgoff = pgoff;
  v.ino = 1000 + file->path.size();
  v.dev = (8u << 8) | 1u;  // 08:01
  return v;
}

// A page's data is "held" unless it is a hole, the zero page or unreadable.
bool holds_data(const fake::Mm& mm, uint64_t addr) {
  const fake::Pte state = mm.state(addr);
  return state == fake::Pte::kAnon || state == fake::Pte::kFile || state == fake::Pte::kSwapped;
}

}  // namespace

fake::Vma anon_vma(uint64_t start, uint64_t pages) {
  return vma(start, pages, CKPT_VMA_T_ANONYMOUS, kVmRead | kVmWrite | 0x70);
}

fake::Vma file_vma(uint64_t start, uint64_t pages, fake::File* file, uint64_t pgoff) {
  return with_file(vma(start, pages, CKPT_VMA_T_FILE, kVmRead | kVmWrite | 0x70), file, pgoff);
}

fake::Vma shared_vma(uint64_t start, uint64_t pages, fake::File* file) {
  return with_file(vma(start, pages, CKPT_VMA_T_FILE | CKPT_VMA_T_SHARED,
                       kVmRead | kVmWrite | kVmShared | kVmMayShare | 0x70), file, 0);
}

fake::Vma shmem_vma(uint64_t start, uint64_t pages, fake::File* file, uint64_t pgoff) {
  fake::Vma v = shared_vma(start, pages, file);
  v.traits |= CKPT_VMA_T_SHMEM;
  v.pgoff = pgoff;
  return v;
}

fake::Vma special_vma(uint64_t start, uint64_t pages, const char* name) {
  fake::Vma v = vma(start, pages, CKPT_VMA_T_SPECIAL, kVmRead | kVmExec | kVmIo);
  v.name = name;
  return v;
}

fake::Vma hugetlb_vma(uint64_t start, uint64_t pages, fake::File* file) {
  fake::Vma v = shared_vma(start, pages, file);
  v.traits |= CKPT_VMA_T_HUGETLB;
  v.vm_flags |= kVmHugetlb;
  return v;
}

uint32_t expected_kind(const fake::Vma& vma) {
  if (vma.traits & CKPT_VMA_T_SPECIAL) return CKPT_VMA_SPECIAL;
  if (vma.traits & CKPT_VMA_T_SHARED) return CKPT_VMA_SHARED;
  if (vma.traits & CKPT_VMA_T_ANONYMOUS) return CKPT_VMA_ANON;
  if (vma.traits & CKPT_VMA_T_FILE) return CKPT_VMA_FILE;
  return CKPT_VMA_ANON;
}

// Shared memory's data is its shmem file's: every page of the mapped
// range that holds data, whatever the page tables show.
bool from_shmem(const fake::Vma& vma) {
  return expected_kind(vma) == CKPT_VMA_SHARED && (vma.traits & CKPT_VMA_T_SHMEM) && vma.file;
}

const fake::Slot* shmem_slot(const fake::Vma& vma, uint64_t addr) {
  const uint64_t index = vma.pgoff + (addr - vma.start) / kPage;
  if (index >= vma.file->size / kPage) return nullptr;
  auto it = vma.file->cache.find(index);
  if (it == vma.file->cache.end()) return nullptr;
  const fake::Pte state = it->second.state;
  return state == fake::Pte::kFile || state == fake::Pte::kSwapped ? &it->second : nullptr;
}

std::vector<uint64_t> expected_pages(const fake::Mm& mm, const fake::Vma& vma) {
  std::vector<uint64_t> pages;
  const uint32_t kind = expected_kind(vma);
  if (kind == CKPT_VMA_SPECIAL) return pages;
  if (from_shmem(vma)) {
    for (uint64_t addr = vma.start; addr < vma.end; addr += kPage)
      if (shmem_slot(vma, addr)) pages.push_back(addr);
    return pages;
  }
  for (auto it = mm.slots().lower_bound(vma.start); it != mm.slots().end() && it->first < vma.end; ++it) {
    const uint64_t addr = it->first;
    if (!holds_data(mm, addr)) continue;
    // A private file mapping's own pages are the file's: only COW copies.
    if (kind == CKPT_VMA_FILE && !it->second.page->anon) continue;
    pages.push_back(addr);
  }
  return pages;
}

const fake::Page* expected_page(const fake::Mm& mm, const fake::Vma& vma, uint64_t addr) {
  if (from_shmem(vma)) {
    const fake::Slot* slot = shmem_slot(vma, addr);
    return slot ? slot->page.get() : nullptr;
  }
  return mm.page(addr);
}

Target every_kind(fake::Kernel& kernel, int32_t pid) {
  fake::Mm& mm = kernel.new_mm();
  fake::Task& task = kernel.add_task(pid, &mm);
  task.nr_threads = 5;
  task.tid = pid + 3;
  task.comm = "every-kind";
  // Threads made out of tid order; one blocked in futex(2); an io_uring
  // worker, which has no user state.
  task.add_thread(pid + 3).syscall_nr = 202;
  task.add_thread(pid + 1);
  task.add_thread(pid + 2);
  task.add_thread(pid + 9).io_worker = true;

  fake::File& library = kernel.new_file("/usr/lib/x86_64-linux-gnu/libexample.so.1");
  fake::File& memfd = kernel.new_file("/memfd:shared (deleted)");

  // 0x555555554000: a private file mapping with clean, COW and swapped COW pages.
  const uint64_t text = 0x555555554000;
  mm.add_vma(file_vma(text, 16, &library, 4));
  mm.fill(text, 16, fake::Pte::kFile, 1);
  mm.set(text + 2 * kPage, fake::Pte::kAnon, 2);
  mm.set(text + 9 * kPage, fake::Pte::kSwapped, 3);
  mm.set(text + 12 * kPage, fake::Pte::kNone);

  // The heap: dense, with a hole and a zero-page read.
  const uint64_t heap = 0x555555600000;
  mm.add_vma(anon_vma(heap, 40));
  mm.fill(heap, 40, fake::Pte::kAnon, 4);
  mm.set(heap + 7 * kPage, fake::Pte::kNone);
  mm.set(heap + 8 * kPage, fake::Pte::kZero);

  // A large sparse reservation: 1 GiB with three pages, in two PMDs.
  const uint64_t reserve = kBase;
  mm.add_vma(anon_vma(reserve, (1ull << 30) / kPage));
  mm.set(reserve + 5 * kPage, fake::Pte::kAnon, 5);
  mm.set(reserve + (300ull << 20), fake::Pte::kSwapped, 6);
  mm.set(reserve + (300ull << 20) + kPage, fake::Pte::kZero);
  mm.set(reserve + (1ull << 30) - kPage, fake::Pte::kAnon, 7);

  // Shared memory (a memfd): more pages than one copied batch, none of
  // them mapped (a forked child's view), one on swap, one fallocated and
  // never written, three past the data.
  const uint64_t shared = kBase + (2ull << 30);
  mm.add_vma(shmem_vma(shared, 41, &memfd, 0));
  for (uint64_t i = 0; i < 38; i++)
    memfd.set_cache(i, i == 5 ? fake::Pte::kNone : i == 11 ? fake::Pte::kSwapped : fake::Pte::kFile,
                    shared + i * kPage, 8);

  // PROT_NONE guard with data behind it (FOLL_FORCE reads it).
  const uint64_t guard = shared + (64ull << 20);
  fake::Vma none = anon_vma(guard, 4);
  none.vm_flags = 0x70;
  none.page_prot = 0;
  mm.add_vma(none);
  mm.set(guard + kPage, fake::Pte::kAnon, 9);

  // [vdso]: present pages, never dumped.
  const uint64_t vdso = 0x7ffff7fc1000;
  mm.add_vma(special_vma(vdso, 2, "[vdso]"));
  mm.fill(vdso, 2, fake::Pte::kFile, 10);

  // The stack.
  const uint64_t stack = 0x7ffffffde000;
  mm.add_vma(anon_vma(stack, 33));
  mm.fill(stack + 28 * kPage, 5, fake::Pte::kAnon, 11);

  mm.layout.start_code = text;
  mm.layout.end_code = text + 16 * kPage;
  mm.layout.start_data = text + 16 * kPage;
  mm.layout.end_data = text + 16 * kPage;
  mm.layout.start_brk = heap;
  mm.layout.brk = heap + 40 * kPage;
  mm.layout.start_stack = stack + 32 * kPage + 0x9f0;
  mm.layout.arg_start = stack + 32 * kPage + 0xa00;
  mm.layout.arg_end = stack + 32 * kPage + 0xa10;
  mm.layout.env_start = stack + 32 * kPage + 0xa10;
  mm.layout.env_end = stack + 32 * kPage + 0xff0;
  mm.layout.raw_flags = 0x8d;
  mm.layout.mm_flags = 0x33;  // coredump_filter's default
  mm.ldt = {0x00cff2000000ffffull, 0x00cffa000000ffffull};
  return {&task, &mm};
}

Target worked_example(fake::Kernel& kernel, int32_t pid) {
  fake::Mm& mm = kernel.new_mm();
  fake::Task& task = kernel.add_task(pid, &mm);
  task.comm = "example";
  task.groups = {};
  task.exe = "/bin/example";
  task.cwd = "/";
  fake::File& out = kernel.new_file("pipe:[4242]");
  out.kind = CKPT_FILE_FIFO;
  out.f_flags = 01;  // O_WRONLY
  out.ino = 4242;
  task.fds[1] = {&out, false};
  mm.add_vma(anon_vma(kBase, 3));
  mm.set(kBase, fake::Pte::kAnon);
  mm.set(kBase + 2 * kPage, fake::Pte::kAnon);
  return {&task, &mm};
}

Target dense_anon(fake::Kernel& kernel, uint64_t pages, int32_t pid) {
  fake::Mm& mm = kernel.new_mm();
  fake::Task& task = kernel.add_task(pid, &mm);
  mm.add_vma(anon_vma(kBase, pages));
  mm.fill(kBase, pages, fake::Pte::kAnon);
  return {&task, &mm};
}

}  // namespace targets
