// SPDX-License-Identifier: GPL-2.0
//
// The PROCESS and FILE records.  Kernel memory: the fixed part, the
// auxiliary vector and one page per path, plus 4 bytes per supplementary
// group (256 KiB at the kernel's limit of 65,536), all freed before the
// pages are dumped.
#include "process_records.h"

#include <linux/ckpt.h>

#include "kernel_refs.h"

namespace ckpt {
namespace {

constexpr uint32_t kPathMax = kPageSize;  // PATH_MAX, NUL included
constexpr uint32_t kMaxAuxvWords = 128;   // AT_VECTOR_SIZE is 50 or 52 on x86-64

// The thread the process is described through: exited threads (a zombie
// leader) have no files, cwd or root any more.
Result<TaskRef> first_live_thread(ckpt_task_ref* task) {
  ckpt_task_ref* ref = nullptr;
  __s64 key = 0;
  const int ret = ckpt_task_next_thread(task, -1, &ref, &key);
  if (ret == -kENOENT) return error(kESRCH);
  CKPT_TRY(Status::from_return(ret));
  return TaskRef(ref);
}

// One path into `buf`; sets `too_long_flag` in *flags instead of failing.
Result<uint32_t> read_path(ckpt_task_ref* thread, ckpt_mm_ref* mm, int which, char* buf,
                           uint32_t too_long_flag, uint32_t* flags) {
  const int ret = ckpt_process_path(thread, mm, which, buf, kPathMax);
  if (ret == -kENAMETOOLONG) {
    *flags |= too_long_flag;
    return uint32_t(0);
  }
  CKPT_TRY(Status::from_return(ret));
  return uint32_t(ret);
}

// The supplementary groups; they may change between the count and the copy
// while a live target runs, so the copy is retried with the new count.
Result<KBuffer> read_groups(ckpt_task_ref* thread, uint32_t hint, MemMeter& meter, uint32_t* nr) {
  for (uint32_t capacity = hint;; capacity = capacity * 2 + 16) {
    KBuffer groups;
    if (capacity) {
      CKPT_TRY_ASSIGN(groups, KBuffer::allocate(meter, capacity * sizeof(uint32_t)));
    }
    const int ret = ckpt_process_groups(thread, reinterpret_cast<__u32*>(groups.data()), capacity);
    if (ret == -kENOSPC) continue;
    CKPT_TRY(Status::from_return(ret));
    *nr = uint32_t(ret);
    return groups;
  }
}

}  // namespace

Status write_process(RecordWriter& writer, ckpt_task_ref* task, ckpt_mm_ref* mm, MemMeter& meter) {
  CKPT_TRY_ASSIGN(const TaskRef thread, first_live_thread(task));
  CKPT_TRY_ASSIGN(KBuffer fixed, KBuffer::allocate(meter, sizeof(ckpt_process) + kMaxAuxvWords * 8));
  CKPT_TRY_ASSIGN(KBuffer paths, KBuffer::allocate(meter, 3 * kPathMax));

  auto* process = reinterpret_cast<ckpt_process*>(fixed.data());
  ckpt_process_describe(thread.get(), mm, process);

  auto* auxv = reinterpret_cast<__u64*>(fixed.data() + sizeof(ckpt_process));
  const int words = ckpt_mm_saved_auxv(mm, auxv, kMaxAuxvWords);
  CKPT_TRY(Status::from_return(words));
  process->nr_auxv = uint32_t(words);

  uint32_t nr_groups = 0;
  CKPT_TRY_ASSIGN(const KBuffer groups, read_groups(thread.get(), process->nr_groups, meter, &nr_groups));
  process->nr_groups = nr_groups;

  char* exe = reinterpret_cast<char*>(paths.data());
  char* cwd = exe + kPathMax;
  char* root = cwd + kPathMax;
  CKPT_TRY_ASSIGN(process->exe_len,
                  read_path(thread.get(), mm, CKPT_PATH_EXE, exe, CKPT_PROCESS_EXE_TOO_LONG, &process->flags));
  CKPT_TRY_ASSIGN(process->cwd_len,
                  read_path(thread.get(), mm, CKPT_PATH_CWD, cwd, CKPT_PROCESS_CWD_TOO_LONG, &process->flags));
  CKPT_TRY_ASSIGN(process->root_len,
                  read_path(thread.get(), mm, CKPT_PATH_ROOT, root, CKPT_PROCESS_ROOT_TOO_LONG, &process->flags));

  const Chunk chunks[] = {
      {process, sizeof(ckpt_process) + process->nr_auxv * sizeof(__u64)},
      {groups.data(), nr_groups * sizeof(__u32)},
      {exe, process->exe_len},
      {cwd, process->cwd_len},
      {root, process->root_len},
  };
  CKPT_TRY(writer.write(CKPT_REC_PROCESS, chunks, sizeof(chunks) / sizeof(chunks[0])));
  return write_sigqueue(writer, thread.get(), true, 0, meter);
}

// Counted first, then copied into a buffer for what was counted (at most
// CKPT_SIGQUEUE_MAX): a stopped target's queue only grows meanwhile, and
// the record holds the queue's head, which is what is delivered first.
Status write_sigqueue(RecordWriter& writer, ckpt_task_ref* thread, bool shared, int32_t tid, MemMeter& meter) {
  uint32_t nr = 0, queued = 0;
  const int counted = ckpt_sigqueue_copy(thread, shared, nullptr, 0, &nr, &queued);
  if (counted == -kESRCH) return kOk;  // no signal state left (exited)
  CKPT_TRY(Status::from_return(counted));
  if (!queued) return kOk;
  const uint32_t room = queued < CKPT_SIGQUEUE_MAX ? queued : CKPT_SIGQUEUE_MAX;
  CKPT_TRY_ASSIGN(const KBuffer buf, KBuffer::allocate(meter, size_t(room) * CKPT_SIGINFO_SIZE));
  CKPT_TRY(Status::from_return(ckpt_sigqueue_copy(thread, shared, buf.data(), room, &nr, &queued)));
  if (!queued) return kOk;  // taken meanwhile (a live dump)
  const ckpt_sigqueue record = {tid, nr, queued, 0};
  const Chunk chunks[] = {{&record, sizeof(record)}, {buf.data(), size_t(nr) * CKPT_SIGINFO_SIZE}};
  return writer.write(CKPT_REC_SIGQUEUE, chunks, 2);
}

Status write_files(RecordWriter& writer, ckpt_task_ref* task, MemMeter& meter) {
  CKPT_TRY_ASSIGN(const TaskRef thread, first_live_thread(task));
  CKPT_TRY_ASSIGN(const KBuffer path, KBuffer::allocate(meter, kPathMax));
  char* name = reinterpret_cast<char*>(path.data());

  for (uint32_t from = 0;;) {
    ckpt_file_ref* ref = nullptr;
    ckpt_file record{};
    const int ret = ckpt_task_next_file(thread.get(), from, &ref, &record.fd, &record.fd_flags);
    if (ret == -kENOENT) return kOk;
    CKPT_TRY(Status::from_return(ret));
    const FileRef file(ref);
    const uint32_t fd = record.fd, fd_flags = record.fd_flags;

    const int len = ckpt_file_describe(file.get(), &record, name, kPathMax);
    record.fd = fd;
    record.fd_flags = fd_flags;
    if (len == -kENAMETOOLONG) {
      record.fd_flags |= CKPT_FILE_PATH_TOO_LONG;
    } else {
      CKPT_TRY(Status::from_return(len));
      record.path_len = uint32_t(len);
    }
    const Chunk chunks[] = {{&record, sizeof(record)}, {name, record.path_len}};
    CKPT_TRY(writer.write(CKPT_REC_FILE, chunks, 2));
    if (fd == uint32_t(-1)) return kOk;
    from = fd + 1;
    if (ckpt_signal_pending()) return error(kEINTR);
    ckpt_cond_resched();
  }
}

}  // namespace ckpt
