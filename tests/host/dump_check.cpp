// SPDX-License-Identifier: GPL-2.0
#include "dump_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "page_copy.h"
#include "targets.h"

namespace host_test {
namespace {

std::string hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

void expect_vma_matches(const DecodedVma& decoded, const fake::Vma& vma, const fake::Mm& mm) {
  SCOPED_TRACE("VMA " + hex(vma.start) + "-" + hex(vma.end));
  EXPECT_EQ(decoded.vma.start, vma.start);
  EXPECT_EQ(decoded.vma.end, vma.end);
  EXPECT_EQ(decoded.vma.page_prot, vma.page_prot);
  // A path d_path() cannot fit in a page is flagged and left out.
  const bool too_long = vma.file && vma.file->path.size() + 1 > fake::kPageSize;
  // Shared memory is flagged: its every page that holds data is in the image.
  const bool shmem = targets::expected_kind(vma) == CKPT_VMA_SHARED && (vma.traits & CKPT_VMA_T_SHMEM);
  EXPECT_EQ(decoded.vma.vm_flags,
            vma.vm_flags | (too_long ? CKPT_VMA_F_NAME_TOO_LONG : 0) | (shmem ? CKPT_VMA_F_SHMEM : 0));
  EXPECT_EQ(decoded.vma.pgoff, vma.pgoff);
  EXPECT_EQ(decoded.vma.kind, targets::expected_kind(vma));
  EXPECT_EQ(decoded.vma.ino, vma.ino);
  EXPECT_EQ(decoded.vma.dev, vma.dev);
  const std::string name = too_long ? "" : vma.file ? vma.file->path : vma.name;
  EXPECT_EQ(decoded.name, name);
  EXPECT_EQ(decoded.vma.name_len, name.empty() ? 0 : name.size() + 1);

  std::vector<uint64_t> addrs;
  for (const DecodedPage& page : decoded.pages) addrs.push_back(page.addr);
  EXPECT_EQ(addrs, targets::expected_pages(mm, vma));
  for (const DecodedPage& page : decoded.pages) {
    const fake::Page* held = targets::expected_page(mm, vma, page.addr);
    ASSERT_NE(held, nullptr) << "page " << hex(page.addr);
    EXPECT_EQ(std::memcmp(page.data.data(), held->data.data(), fake::kPageSize), 0)
        << "contents of page " << hex(page.addr);
  }
}

}  // namespace

DumpResult run_dump(int32_t pid, int32_t fd, uint32_t flags) {
  DumpResult result{};
  result.args.size = sizeof(result.args);
  result.args.pid = pid;
  result.args.fd = fd;
  result.args.flags = flags;
  result.ret = ckpt_checkpoint(&result.args);
  return result;
}

void expect_image_matches(const DecodedImage& image, const fake::Task& task, const fake::Mm& mm, bool live) {
  ASSERT_TRUE(image.ok) << image.error;
  const fake::Kernel& kernel = fake::kernel();

  EXPECT_EQ(std::memcmp(image.head.magic, CKPT_IMAGE_MAGIC, 8), 0);
  EXPECT_EQ(image.head.major, CKPT_FORMAT_MAJOR);
  EXPECT_EQ(image.head.minor, CKPT_FORMAT_MINOR);
  EXPECT_EQ(image.head.arch, uint32_t(CKPT_ARCH_X86_64));
  EXPECT_EQ(image.head.page_size, fake::kPageSize);
  EXPECT_EQ(image.head.flags, live ? uint32_t(CKPT_IMAGE_LIVE) : 0u);
  EXPECT_EQ(image.head.time_ns, kernel.time_ns);
  EXPECT_EQ(std::string(image.head.release), kernel.release);

  EXPECT_EQ(image.task.pid, task.pid);
  EXPECT_EQ(image.task.tid, task.tid);
  EXPECT_EQ(image.task.nr_threads, task.nr_threads);
  EXPECT_EQ(std::string(image.task.comm), task.comm.substr(0, 15));
  // A stopped dump holds every thread in a ptrace stop; a live one says
  // what it saw.
  const uint32_t states[] = {0, CKPT_TASK_STOPPED, CKPT_TASK_FROZEN, CKPT_TASK_RUNNING};
  const uint32_t seen = task.untraced ? uint32_t(CKPT_QUIESCENT_NONE) : task.quiescence;
  EXPECT_EQ(image.task.state, live ? states[seen] : uint32_t(CKPT_TASK_STOPPED));

  // The PROCESS record: the fixed part as the kernel described it, with
  // the lengths of the auxv, groups and paths that follow it.
  EXPECT_EQ(image.processes, 1u);
  ckpt_process process = fake::process_state(task);
  process.nr_auxv = uint32_t(task.auxv.size());
  process.nr_groups = uint32_t(task.groups.size());
  const auto path_len = [](const std::string& path) { return uint32_t(path.size() <= 4095 && !path.empty() ? path.size() + 1 : 0); };
  process.exe_len = path_len(task.exe);
  process.cwd_len = path_len(task.cwd);
  process.root_len = path_len(task.root);
  process.flags |= (task.exe.size() > 4095 ? CKPT_PROCESS_EXE_TOO_LONG : 0) |
                   (task.cwd.size() > 4095 ? CKPT_PROCESS_CWD_TOO_LONG : 0) |
                   (task.root.size() > 4095 ? CKPT_PROCESS_ROOT_TOO_LONG : 0);
  EXPECT_EQ(std::memcmp(&image.process, &process, sizeof(process)), 0) << "PROCESS record";
  EXPECT_EQ(image.auxv, task.auxv);
  EXPECT_EQ(image.groups, task.groups);
  EXPECT_EQ(image.exe, process.exe_len ? task.exe : "");
  EXPECT_EQ(image.cwd, process.cwd_len ? task.cwd : "");
  EXPECT_EQ(image.root, process.root_len ? task.root : "");

  // One FILE record per open descriptor, ascending.
  ASSERT_EQ(image.files.size(), task.fds.size());
  size_t i_file = 0;
  for (const auto& [fd, open] : task.fds) {
    const DecodedFile& got = image.files[i_file++];
    const bool too_long = open.file->path.size() > 4095;
    EXPECT_EQ(got.file.fd, fd);
    EXPECT_EQ(got.file.fd_flags,
              (open.cloexec ? CKPT_FILE_CLOEXEC : 0u) | (too_long ? CKPT_FILE_PATH_TOO_LONG : 0u)) << "fd " << fd;
    EXPECT_EQ(got.file.kind, open.file->kind) << "fd " << fd;
    EXPECT_EQ(got.file.f_flags, open.file->f_flags & ~02000000u) << "fd " << fd;  // no O_CLOEXEC
    EXPECT_EQ(got.file.pos, open.file->pos) << "fd " << fd;
    EXPECT_EQ(got.file.ino, open.file->ino) << "fd " << fd;
    EXPECT_EQ(got.path, too_long ? "" : open.file->path) << "fd " << fd;
  }

  // One THREAD record per live thread, the leader first, then by tid, each
  // exactly as the kernel described it.
  std::vector<const fake::Thread*> threads;
  for (const auto& thread : task.threads)
    if (!thread->exited && !thread->io_worker) threads.push_back(thread.get());
  std::sort(threads.begin(), threads.end(), [](const fake::Thread* a, const fake::Thread* b) {
    return (a->leader ? 0 : a->tid) < (b->leader ? 0 : b->tid);
  });
  ASSERT_EQ(image.threads.size(), threads.size());
  for (size_t i = 0; i < threads.size(); i++) {
    const ckpt_thread want = fake::thread_state(*threads[i]);
    EXPECT_EQ(std::memcmp(&image.threads[i].thread, &want, sizeof(want)), 0) << "THREAD record " << i;
    EXPECT_EQ(image.threads[i].fpu, threads[i]->fpu) << "FPU state of THREAD record " << i;
  }

  ckpt_mm layout = mm.layout;
  layout.map_count = uint32_t(mm.vmas().size());
  EXPECT_EQ(std::memcmp(&image.mm, &layout, sizeof(layout)), 0) << "MM record";

  ASSERT_EQ(image.vmas.size(), mm.vmas().size());
  size_t i = 0;
  for (const auto& [start, vma] : mm.vmas()) expect_vma_matches(image.vmas[i++], vma, mm);

  EXPECT_EQ(image.ldt, mm.ldt);
  EXPECT_EQ(image.tail.nr_vmas, mm.vmas().size());
  EXPECT_EQ(image.tail.nr_pages, image.nr_pages());
  expect_batches_bounded(image);
}

void expect_batches_bounded(const DecodedImage& image) {
  for (const DecodedVma& vma : image.vmas) {
    const uint32_t limit = ckpt::PageBatch::kMaxPages;  // every kind, live or not
    for (size_t r = 0; r < vma.pages_records.size(); r++) {
      EXPECT_LE(vma.pages_records[r], limit) << "VMA " << hex(vma.vma.start) << " record " << r;
      if (r + 1 < vma.pages_records.size()) {
        EXPECT_EQ(vma.pages_records[r], limit) << "every batch but the last is full";
      }
    }
  }
}

}  // namespace host_test
