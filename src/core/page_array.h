// SPDX-License-Identifier: GPL-2.0
//
// The page-array chain (the seed's cr_pgarr): <address, page reference>
// pairs for one batch of pages, in page-sized arrays that are chained as the
// batch grows and reused, not reallocated, from batch to batch and VMA to
// VMA.  The chain owns the references it holds; release() drops them all.
//
//   PageArrayChain
//     head -> [ addrs[512] | pages[512] | used ] -> [ ... ] -> nullptr
//                                                   ^ arrays past the batch's
//                                                     end stay allocated, empty
#pragma once

#include <ckpt/bridge.h>

#include "kbuffer.h"
#include "result.h"

namespace ckpt {

class PageArrayChain {
 public:
  static constexpr uint32_t kEntriesPerArray = kPageSize / sizeof(uint64_t);

  // A chain that grows to at most `max_arrays` arrays of `per_array`
  // (at most kEntriesPerArray) entries each.
  PageArrayChain(MemMeter& meter, uint32_t max_arrays, uint32_t per_array = kEntriesPerArray)
      : meter_(meter), max_arrays_(max_arrays), per_array_(min(per_array, kEntriesPerArray)) {}
  PageArrayChain(const PageArrayChain&) = delete;
  PageArrayChain& operator=(const PageArrayChain&) = delete;
  ~PageArrayChain();

  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint32_t capacity() const { return max_arrays_ * per_array_; }
  bool full() const { return size_ == capacity(); }
  uint32_t arrays_allocated() const { return allocated_; }

  // Free slots for GUP to fill in place: at least one, all in one array, so
  // they are contiguous.  Fails with -ENOMEM if a new array cannot be had.
  struct Slots {
    uint64_t* addrs;
    ckpt_page_ref** pages;
    uint32_t room;
  };
  Result<Slots> reserve();
  // The first `count` reserved slots now hold pages the chain owns.
  void commit(uint32_t count);

  // Drop every page reference but keep the addresses (a batch whose
  // pages have been copied).  Only release() may follow.
  void drop_pages();
  // Drop every page reference still held and empty the chain; keep the
  // arrays for the next batch.
  void release();

  // Calls fn(addrs, pages, count) for each non-empty array, in order.
  template <typename Fn>
  Status for_each_array(Fn&& fn) const {
    for (const Array* array = head_; array && array->used; array = array->next)
      CKPT_TRY(fn(static_cast<const uint64_t*>(array->addrs), static_cast<ckpt_page_ref* const*>(array->pages), array->used));
    return kOk;
  }

 private:
  struct Array {
    uint64_t* addrs;
    ckpt_page_ref** pages;
    uint32_t used;
    Array* next;
  };

  Result<Array*> allocate_array();
  size_t array_bytes() const { return per_array_ * sizeof(uint64_t); }
  void free_array(Array* array);

  MemMeter& meter_;
  const uint32_t max_arrays_;
  const uint32_t per_array_;
  Array* head_ = nullptr;
  Array* tail_ = nullptr;     // last allocated array
  Array* current_ = nullptr;  // array being filled
  uint32_t allocated_ = 0;
  uint32_t size_ = 0;
  bool holds_pages_ = true;  // false between drop_pages() and release()
};

}  // namespace ckpt
