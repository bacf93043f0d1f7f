// SPDX-License-Identifier: GPL-2.0
//
// Shared memory a restore rebuilds because it has no path to reopen (a
// memfd, SysV shm): one new shmem object per device and inode of the
// image, so that every VMA that mapped the same object maps the same new
// one (a memfd mapped twice, read-write and read-execute, stays one
// memory).  The references are held until the restore ends; the mappings
// hold their own.
#pragma once

#include <stdint.h>

#include "kbuffer.h"
#include "result.h"

namespace ckpt {

class SharedObjects {
 public:
  static constexpr uint32_t kMax = 64;

  explicit SharedObjects(MemMeter& meter) : meter_(meter) {}
  SharedObjects(const SharedObjects&) = delete;
  SharedObjects& operator=(const SharedObjects&) = delete;
  ~SharedObjects();

  // The object the image's (dev, ino) names, made with `name` the first
  // time, grown to at least `size` bytes.  EOPNOTSUPP past kMax objects.
  Result<ckpt_file_ref*> get(uint64_t dev, uint64_t ino, const char* name, uint64_t size);

 private:
  struct Entry {
    uint64_t dev, ino;
    ckpt_file_ref* file;
  };

  MemMeter& meter_;
  KBuffer table_;  // kMax entries, allocated with the first object
  uint32_t count_ = 0;
};

}  // namespace ckpt
