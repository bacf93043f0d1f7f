// SPDX-License-Identifier: GPL-2.0
//
// Checksumming a batch's page contents, here or on another CPU.  A CRC-32C
// pass over a page costs about what copying it into the output costs, so
// the dump checksums batch N+1 on a worker while it writes batch N: the two
// together then cost the larger of them, not their sum.
#pragma once

#include <ckpt/bridge.h>

#include "crc32c.h"
#include "kbuffer.h"
#include "page_array.h"
#include "result.h"

namespace ckpt {

// Continues `crc` over the contents of every page in `chain`, in order.
void checksum_pages(const PageArrayChain& chain, Crc32c& crc);

class PageChecksummer {
 public:
  PageChecksummer() = default;
  PageChecksummer(const PageChecksummer&) = delete;
  PageChecksummer& operator=(const PageChecksummer&) = delete;
  ~PageChecksummer() { wait(); }

  // Allocates the work item, charged to `meter`; once per dump.
  Status init(MemMeter& meter);

  // Checksums `chain`'s contents, continuing `crc`, on a worker.  The chain
  // must stay unchanged until finish() or wait() has returned.  A batch of
  // fewer than kWorkerMinPages is checksummed here and now: waking a worker
  // costs more than that (a dump of many one-page VMAs).
  void start(const PageArrayChain& chain, Crc32c crc);
  static constexpr uint32_t kWorkerMinPages = 32;
  // Waits for the worker; the checksum of the started batch.
  Crc32c finish();
  // Waits for the worker if one is running (error paths, before the chain
  // is released).
  void wait();

 private:
  static void run(void* self);
  ckpt_worker* worker() const { return reinterpret_cast<ckpt_worker*>(work_.data()); }

  KBuffer work_;
  const PageArrayChain* chain_ = nullptr;
  Crc32c crc_;
  bool running_ = false;
};

}  // namespace ckpt
