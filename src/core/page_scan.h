// SPDX-License-Identifier: GPL-2.0
//
// Fills the page-array chain with a VMA's pages, one bounded batch at a
// time, under the mmap read lock; the caller writes each batch out and
// releases it with the lock dropped.
#pragma once

#include <ckpt/bridge.h>

#include "page_array.h"
#include "result.h"
#include "vma_policy.h"

namespace ckpt {

struct VmaRange {
  uint64_t start;
  uint64_t end;
  VmaKind kind;
};

class PageScanner {
 public:
  // Counts every page it offers to GUP into *scanned.
  PageScanner(ckpt_mm_ref* mm, PageArrayChain& chain, uint64_t* scanned)
      : mm_(mm), chain_(&chain), pages_scanned_(*scanned) {}

  // Fill another chain from now on (batches alternate between two).
  void use_chain(PageArrayChain& chain) { chain_ = &chain; }

  // Adds pages of `vma` from `cursor` on until the chain holds `limit`
  // pages or the VMA ends.  Call with the mmap lock held.  Returns where
  // the next batch starts (vma.end when done).
  Result<uint64_t> fill(const VmaRange& vma, uint64_t cursor, uint32_t limit);

 private:
  Status take_run(const VmaRange& vma, uint64_t addr, uint32_t count, uint64_t* next);
  Status explain_refusal(const VmaRange& vma, uint64_t addr);

  ckpt_mm_ref* mm_;
  PageArrayChain* chain_;
  uint64_t& pages_scanned_;
};

}  // namespace ckpt
