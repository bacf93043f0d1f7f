// SPDX-License-Identifier: GPL-2.0
//
// One dump: the sequence of records, from HEAD to TAIL, for one target.
#pragma once

#include <ckpt/bridge.h>
#include <linux/ckpt.h>

#include "kbuffer.h"
#include "kernel_refs.h"
#include "page_array.h"
#include "page_copy.h"
#include "page_scan.h"
#include "record_writer.h"
#include "result.h"
#include "target_hold.h"
#include "vma_policy.h"

namespace ckpt {

// Ticks to wait for one page under migration before giving up (EIO).
constexpr uint32_t kMigrationWaitTicks = 2500;
static_assert(PageBatch::kMaxPages <= CKPT_PAGES_MAX, "a batch is one PAGES record");
static_assert(PageBatch::kMaxPages <= PageArrayChain::kEntriesPerArray, "a batch is one array");

class Checkpoint {
 public:
  Checkpoint(ckpt_checkpoint_args& args, ckpt_file_ref* out)
      : args_(args),
        writer_(out, meter_),
        batches_{PageBatch(meter_), PageBatch(meter_)} {}

  Status run(TaskRef task, MmRef mm);
  void report() const;

 private:
  struct Vma {
    ckpt_vma_info info;
    FileRef file;
    VmaKind kind;
  };

  bool live() const { return args_.flags & CKPT_CHECKPOINT_LIVE; }
  // The caller's choice, else the module's (device.c rejects both flags).
  uint32_t checksum() const {
    if (args_.flags & CKPT_CHECKPOINT_CRC32C) return RecordChecksum::kCrc32c;
    if (args_.flags & CKPT_CHECKPOINT_XXH64) return RecordChecksum::kXxh64;
    return RecordChecksum::default_algorithm();
  }
  Status write_head();
  Status write_task(const ckpt_task_info& info, HoldMode mode);
  Status write_mm();
  Status write_vmas();
  Result<bool> next_vma(uint64_t addr, Vma* vma);
  Status write_vma_record(const Vma& vma);
  Status write_vma_pages(const Vma& vma);
  Status wait_copied(PageBatch& batch);
  Status fill(const Vma& vma, PageScanner& scanner, uint32_t limit, uint64_t* cursor);
  Status wait_for_migration(const Vma& vma, const PageScanner& scanner);
  Status write_ldt();
  Status fail_at(const Vma& vma, Status status);

  ckpt_checkpoint_args& args_;
  MemMeter meter_;
  RecordWriter writer_;
  PageBatch batches_[2];  // one is copied while the other is written
  PageCopier copier_;     // after the batches: waited for first
  TaskRef task_;
  MmRef mm_;
  KBuffer name_;
  uint64_t pages_scanned_ = 0;
  uint32_t migration_waits_ = 0;  // ticks waited for the same page
  // Where the time goes, for --stats (the args' *_ns fields).
  uint64_t vma_ns_ = 0, scan_ns_ = 0, copy_ns_ = 0, write_ns_ = 0;
};

// Adds the time its scope takes to a counter.
class PhaseTimer {
 public:
  explicit PhaseTimer(uint64_t* total) : total_(total), start_(ckpt_clock_ns()) {}
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;
  ~PhaseTimer() { *total_ += ckpt_clock_ns() - start_; }

 private:
  uint64_t* total_;
  uint64_t start_;
};

// The whole dump of args.pid into `out`; fills args' counters.
Status checkpoint_into(ckpt_checkpoint_args& args, ckpt_file_ref* out);

}  // namespace ckpt
