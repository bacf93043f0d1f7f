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
  // Shared memory is read from its shmem file (reads_page_cache()):
  // the file, and the page index in it that `start` maps.
  ckpt_file_ref* shmem = nullptr;
  uint64_t pgoff = 0;
};

// Times GUP is asked again for a page that it refused but that the page
// tables show present, before the page counts as unreadable.
constexpr uint32_t kPresentRetries = 3;

class PageScanner {
 public:
  // Counts every page it offers to GUP into *scanned.
  PageScanner(ckpt_mm_ref* mm, PageArrayChain& chain, uint64_t* scanned)
      : mm_(mm), chain_(&chain), pages_scanned_(*scanned) {}

  // Fill another chain from now on (batches alternate between two).
  void use_chain(PageArrayChain& chain) { chain_ = &chain; }

  // Adds pages of `vma` from `cursor` on until the chain holds `limit`
  // pages or the VMA ends.  Call with the mmap lock held, `vma` checked in
  // this hold (ckpt_mm_vma_check()).  Returns where the next batch starts
  // (vma.end when done).  It stops early at a page under migration, which
  // the caller waits for with the lock dropped (migration_wait()).
  Result<uint64_t> fill(const VmaRange& vma, uint64_t cursor, uint32_t limit);

  // Whether the last fill() stopped at a page under migration.
  bool migration_wait() const { return migrating_; }

  // The page that failed a fill() with EHWPOISON.
  uint64_t poisoned_page() const { return poisoned_; }

 private:
  Result<uint64_t> fill_from_page_tables(const VmaRange& vma, uint64_t cursor, uint32_t limit);
  Result<uint64_t> fill_from_shmem(const VmaRange& vma, uint64_t cursor, uint32_t limit);
  Status take_run(const VmaRange& vma, uint64_t addr, uint32_t count, uint64_t* next);
  Status explain_refusal(const VmaRange& vma, uint64_t addr, uint64_t* next);
  Status take_swapped_cow_page(const VmaRange& vma, uint64_t addr);

  ckpt_mm_ref* mm_;
  PageArrayChain* chain_;
  uint64_t& pages_scanned_;
  bool migrating_ = false;
  uint32_t present_refusals_ = 0;  // in a row, of pages present when looked at
  uint64_t poisoned_ = 0;
};

}  // namespace ckpt
