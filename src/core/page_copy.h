// SPDX-License-Identifier: GPL-2.0
//
// Reading the target's pages: each is copied out once, machine-check safe
// (ckpt_page_copy), and checksummed from the copy, and the copy is what the
// output receives.  A page that changes meanwhile (process_vm_writev() into
// a stopped target, DMA into a pinned buffer, a live target) cannot make the
// image disagree with its checksum, a memory error fails the dump instead
// of the machine, and the page references go as soon as their pages are
// copied: none is held across a write that a slow reader can block.
//
// A dump keeps two batches: one is copied on a worker while the other is
// written, so the two cost about the larger of them, not their sum (when
// handing over is cheap: PageCopier).
//
//   this task:  fill N+1 | wait copy N+1 ...      | write N+1 | fill N+2 ...
//   worker:     copy+crc N+1 ..........|          | copy+crc N+2 .........
#pragma once

#include <ckpt/bridge.h>

#include "checksum.h"
#include "kbuffer.h"
#include "page_array.h"
#include "record_writer.h"
#include "result.h"

namespace ckpt {

// Copies every page of `chain`, in order, to `dst` (chain.size() pages),
// continuing `crc` over the copy.  On a memory error stops with EHWPOISON
// and sets *lost to that page's address.
Status copy_pages(const PageArrayChain& chain, uint8_t* dst, RecordChecksum& crc, uint64_t* lost);

// One PAGES record on its way out: the pages' addresses (and references
// until they are copied), where the record will land, and the copy.
struct PageBatch {
  // Pages per batch: two batches' copies, 224 KiB, keep a whole dump under
  // 256 KiB of kernel memory.  Each record costs a page of padding at most,
  // under 4 % of what it carries.
  static constexpr uint32_t kMaxPages = 28;

  explicit PageBatch(MemMeter& meter) : chain(meter, 1, kMaxPages) {}
  // Allocates the copy's buffer; once per dump.
  Status init(MemMeter& meter);

  // Copies the chain's pages into `contents`, continuing `crc` from the
  // plan, then drops their references (the addresses stay for the record).
  void copy();

  PageArrayChain chain;
  KBuffer contents;
  RecordWriter::PagesPlan plan{};
  RecordChecksum crc;    // the record's, once copied
  Status copied = kOk;   // EHWPOISON: `lost` could not be read
  uint64_t lost = 0;
};

// Copies batches on a worker, while handing them over pays.  With the
// worker, this task spends the time it waits for the worker; without, the
// time the copy takes here.  Waking a worker is cheap on most machines, but
// an emulated CPU was seen to wait for a timer tick, about 4 ms, for every
// 28-page batch that takes 0.4 ms to copy.  So the copier times both: the
// dump's first full batch is copied here, then batches go to the worker in
// trials of kTrialBatches; a batch for which this task waited longer than
// copying it here would have taken is slow, and if most of a trial's
// batches were slow the rest of the dump copies here.  (Most, not their
// sum: one late wake-up among fast ones must not end the overlap.)
class PageCopier {
 public:
  PageCopier() = default;
  PageCopier(const PageCopier&) = delete;
  PageCopier& operator=(const PageCopier&) = delete;
  ~PageCopier() { wait(); }

  // Allocates the work item, charged to `meter`; once per dump.
  Status init(MemMeter& meter);

  // Copies `batch` on the worker or here (see above; a batch of fewer than
  // kWorkerMinPages is always copied here: many small VMAs).  The batch
  // must not be touched until wait() has returned.
  void start(PageBatch& batch);
  static constexpr uint32_t kWorkerMinPages = 8;
  static constexpr uint32_t kTrialBatches = 8;
  static constexpr uint32_t kSlowBatchesToGiveUp = 6;
  // Waits for the worker if one is running.
  void wait();

  // Whether batches still go to the worker, and whether one is there now.
  bool uses_worker() const { return !copy_here_only_; }
  bool busy() const { return running_; }

 private:
  static void run(void* batch);
  void copy_here(PageBatch& batch);
  ckpt_worker* worker() const { return reinterpret_cast<ckpt_worker*>(work_.data()); }

  KBuffer work_;
  bool running_ = false;
  bool copy_here_only_ = false;
  uint64_t here_ns_ = 0;       // copying here, over the dump
  uint64_t here_pages_ = 0;
  uint32_t pending_pages_ = 0;   // of the batch on the worker
  uint32_t handed_batches_ = 0;  // in this trial
  uint32_t slow_batches_ = 0;
};

}  // namespace ckpt
