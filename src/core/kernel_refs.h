// SPDX-License-Identifier: GPL-2.0
//
// RAII for every kernel reference the core holds: move-only handles whose
// destructors give the reference back, so no error path can leak one.
#pragma once

#include <ckpt/bridge.h>

#include "result.h"
#include "support.h"

namespace ckpt {

// A move-only owner of one bridge handle, released by `Release`.
template <typename Handle, void (*Release)(Handle*)>
class UniqueRef {
 public:
  UniqueRef() = default;
  explicit UniqueRef(Handle* handle) : handle_(handle) {}
  UniqueRef(UniqueRef&& other) noexcept : handle_(exchange(other.handle_, static_cast<Handle*>(nullptr))) {}
  UniqueRef& operator=(UniqueRef&& other) noexcept {
    reset(exchange(other.handle_, static_cast<Handle*>(nullptr)));
    return *this;
  }
  UniqueRef(const UniqueRef&) = delete;
  UniqueRef& operator=(const UniqueRef&) = delete;
  ~UniqueRef() { reset(nullptr); }

  Handle* get() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }
  void reset(Handle* handle) {
    if (handle_) Release(handle_);
    handle_ = handle;
  }

 private:
  Handle* handle_ = nullptr;
};

using TaskRef = UniqueRef<ckpt_task_ref, ckpt_task_put>;
using MmRef = UniqueRef<ckpt_mm_ref, ckpt_mm_put>;
using FileRef = UniqueRef<ckpt_file_ref, ckpt_file_put>;
using PageRef = UniqueRef<ckpt_page_ref, ckpt_page_put>;

inline Result<TaskRef> get_task(int32_t pid) {
  ckpt_task_ref* task = nullptr;
  CKPT_TRY(Status::from_return(ckpt_task_get(pid, &task)));
  return TaskRef(task);
}

inline Result<MmRef> get_mm(const TaskRef& task) {
  ckpt_mm_ref* mm = nullptr;
  CKPT_TRY(Status::from_return(ckpt_task_mm_get(task.get(), &mm)));
  return MmRef(mm);
}

inline Result<FileRef> get_output_file(int32_t fd) {
  ckpt_file_ref* file = nullptr;
  CKPT_TRY(Status::from_return(ckpt_file_get_output(fd, &file)));
  return FileRef(file);
}

// The mmap read lock, held for one bounded piece of work at a time.
class MmapReadGuard {
 public:
  explicit MmapReadGuard(ckpt_mm_ref* mm) : mm_(mm) {}
  MmapReadGuard(const MmapReadGuard&) = delete;
  MmapReadGuard& operator=(const MmapReadGuard&) = delete;
  ~MmapReadGuard() {
    if (locked_) ckpt_mm_read_unlock(mm_);
  }

  // Fails with -EINTR on a fatal signal.
  Status lock() {
    CKPT_TRY(Status::from_return(ckpt_mm_read_lock(mm_)));
    locked_ = true;
    return kOk;
  }

 private:
  ckpt_mm_ref* mm_;
  bool locked_ = false;
};

}  // namespace ckpt
