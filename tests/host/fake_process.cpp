// SPDX-License-Identifier: GPL-2.0
//
// The bridge's process functions over the fake kernel, with the semantics
// src/bridge/process.c gives them: the PROCESS record's parts and the
// descriptor table, read through a thread the core holds.
#include <cstring>

#include "fake_bridge.h"

namespace {

using fake::kernel;

// The group of a thread handle (from ckpt_task_next_thread) the core holds.
fake::Task* group_of(ckpt_task_ref* ref, const char* function) {
  for (fake::Task* task : kernel().all_tasks())
    for (const auto& thread : task->threads)
      if (reinterpret_cast<ckpt_task_ref*>(thread.get()) == ref) {
        if (thread->refs <= 0) kernel().violation(std::string(function) + " of a thread the core does not hold");
        if (thread->exited) kernel().violation(std::string(function) + " of an exited thread");
        return task;
      }
  kernel().violation(std::string(function) + " of a task handle, not a live thread's");
  return nullptr;
}

// d_path() into the start of buf: bytes with the NUL, or -ENAMETOOLONG.
int copy_path(const std::string& path, char* buf, uint32_t size) {
  if (path.size() + 1 > size) return -ENAMETOOLONG;
  std::memcpy(buf, path.c_str(), path.size() + 1);
  return int(path.size() + 1);
}

}  // namespace

namespace fake {

ckpt_process process_state(const Task& task) {
  ckpt_process state{};
  state.pid = task.pid;
  state.ns_pid = task.pid;
  state.ppid = 1;
  state.pgid = task.pid;
  state.sid = task.pid - 1;
  state.umask = 022;
  state.personality = 0x0040000;  // ADDR_NO_RANDOMIZE
  for (uint32_t i = 0; i < CKPT_NR_IDS; i++) {
    state.uid[i] = 1000 + i;
    state.gid[i] = 2000 + i;
  }
  state.cap_permitted = state.cap_effective = 1ull << 40;  // CAP_CHECKPOINT_RESTORE
  state.cap_bset = (1ull << 41) - 1;
  state.dumpable = 1;
  state.sig_pending = 1ull << 14;  // SIGALRM
  state.exit_signal = 17;
  for (uint32_t i = 0; i < CKPT_NR_RLIMITS; i++) {
    state.rlim[i][0] = 100 + i;
    state.rlim[i][1] = ~0ull;
  }
  for (uint32_t i = 0; i < CKPT_NR_SIGNALS; i++) {
    state.action[i].handler = i % 3 == 0 ? 0 : 0x401000 + i * 0x10;
    state.action[i].flags = 0x14000000;  // SA_RESTORER | SA_RESTART
    state.action[i].restorer = 0x402000;
    state.action[i].mask = 1ull << i;
  }
  return state;
}

}  // namespace fake

extern "C" {

void ckpt_process_describe(ckpt_task_ref* ref, ckpt_mm_ref*, ckpt_process* out) {
  const fake::Task* task = group_of(ref, "ckpt_process_describe");
  *out = task ? fake::process_state(*task) : ckpt_process{};
  if (task) out->nr_groups = uint32_t(task->groups.size());
}

int ckpt_sigqueue_copy(ckpt_task_ref* ref, int shared, void* buf, __u32 capacity, __u32* nr, __u32* queued) {
  fake::Task* task = group_of(ref, "ckpt_sigqueue_copy");
  *nr = *queued = 0;
  if (!task) return -EINVAL;
  if (task->on_sigqueue) task->on_sigqueue(*task);
  if (task->sigqueue_error) return task->sigqueue_error;
  const fake::Thread* thread = reinterpret_cast<const fake::Thread*>(ref);
  const auto& queue = shared ? task->sigqueue : thread->sigqueue;
  for (const auto& info : queue) {
    if (*nr < capacity) {
      std::memcpy(static_cast<uint8_t*>(buf) + size_t(*nr) * CKPT_SIGINFO_SIZE, info.data(), info.size());
      ++*nr;
    }
    ++*queued;
  }
  return 0;
}

int ckpt_process_groups(ckpt_task_ref* ref, __u32* buf, __u32 capacity) {
  fake::Task* task = group_of(ref, "ckpt_process_groups");
  if (!task) return -EINVAL;
  task->groups_calls++;
  if (task->on_groups) task->on_groups(*task);
  if (task->groups.size() > capacity) return -ENOSPC;
  std::copy(task->groups.begin(), task->groups.end(), buf);
  return int(task->groups.size());
}

int ckpt_mm_saved_auxv(ckpt_mm_ref* mm, __u64* buf, __u32 capacity) {
  for (fake::Task* task : kernel().all_tasks()) {
    if (reinterpret_cast<ckpt_mm_ref*>(task->mm) != mm) continue;
    if (task->auxv.size() > capacity) return -EOVERFLOW;
    std::copy(task->auxv.begin(), task->auxv.end(), buf);
    return int(task->auxv.size());
  }
  kernel().violation("ckpt_mm_saved_auxv of an mm no task uses");
  return -EINVAL;
}

int ckpt_process_path(ckpt_task_ref* ref, ckpt_mm_ref*, int which, char* buf, __u32 size) {
  const fake::Task* task = group_of(ref, "ckpt_process_path");
  if (!task) return -EINVAL;
  const std::string& path = which == CKPT_PATH_EXE ? task->exe : which == CKPT_PATH_CWD ? task->cwd : task->root;
  return path.empty() ? 0 : copy_path(path, buf, size);
}

int ckpt_task_next_file(ckpt_task_ref* ref, __u32 from, ckpt_file_ref** out, __u32* fd, __u32* fd_flags) {
  const fake::Task* task = group_of(ref, "ckpt_task_next_file");
  if (!task) return -EINVAL;
  const auto it = task->fds.lower_bound(from);
  if (it == task->fds.end()) return -ENOENT;
  it->second.file->refs++;
  *out = fake::handle(it->second.file);
  *fd = it->first;
  *fd_flags = it->second.cloexec ? CKPT_FILE_CLOEXEC : 0;
  return 0;
}

int ckpt_file_describe(ckpt_file_ref* ref, ckpt_file* out, char* path, __u32 size) {
  const fake::File* file = reinterpret_cast<fake::File*>(ref);
  if (file->refs <= 0) kernel().violation("ckpt_file_describe of a file the core does not hold");
  *out = ckpt_file{};
  out->f_flags = file->f_flags & ~02000000u;  // O_CLOEXEC, as the bridge
  out->kind = file->kind;
  out->pos = file->pos;
  out->dev = 0x803;
  out->ino = file->ino;
  out->size = file->size;
  out->mode = file->kind == CKPT_FILE_REGULAR ? 0100644 : 0600;
  return copy_path(file->path, path, size);
}

}  // extern "C"
