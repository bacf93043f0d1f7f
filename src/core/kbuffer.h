// SPDX-License-Identifier: GPL-2.0
//
// Kernel memory the dump owns, counted so that its peak can be reported
// (ckpt_checkpoint_args.peak_kmem) and kept bounded whatever the target's
// size.
#pragma once

#include <ckpt/bridge.h>

#include "result.h"
#include "support.h"

namespace ckpt {

class MemMeter {
 public:
  void charge(uint64_t bytes) {
    current_ += bytes;
    peak_ = max(peak_, current_);
  }
  void uncharge(uint64_t bytes) { current_ -= bytes; }
  uint64_t peak() const { return peak_; }
  uint64_t current() const { return current_; }

 private:
  uint64_t current_ = 0;
  uint64_t peak_ = 0;
};

// A move-only buffer of kernel memory, charged to a meter while it lives.
class KBuffer {
 public:
  KBuffer() = default;
  KBuffer(KBuffer&& other) noexcept
      : meter_(other.meter_), data_(exchange(other.data_, static_cast<uint8_t*>(nullptr))),
        size_(exchange(other.size_, size_t(0))) {}
  KBuffer& operator=(KBuffer&& other) noexcept {
    release();
    meter_ = other.meter_;
    data_ = exchange(other.data_, static_cast<uint8_t*>(nullptr));
    size_ = exchange(other.size_, size_t(0));
    return *this;
  }
  KBuffer(const KBuffer&) = delete;
  KBuffer& operator=(const KBuffer&) = delete;
  ~KBuffer() { release(); }

  // Out of line (kbuffer.cpp): an inline copy emitted in several objects
  // would be a COMDAT duplicate, which the prelink of the C++ objects
  // cannot drop while __patchable_function_entries still points at it.
  static Result<KBuffer> allocate(MemMeter& meter, size_t size);

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void release() {
    if (!data_) return;
    ckpt_kfree(data_);
    meter_->uncharge(size_);
    data_ = nullptr;
    size_ = 0;
  }

  MemMeter* meter_ = nullptr;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ckpt
