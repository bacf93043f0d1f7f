// SPDX-License-Identifier: GPL-2.0
#include "page_copy.h"

namespace ckpt {

Status copy_pages(const PageArrayChain& chain, uint8_t* dst, RecordChecksum& crc, uint64_t* lost) {
  return chain.for_each_array([&](const uint64_t* addrs, ckpt_page_ref* const* refs, uint32_t n) {
    for (uint32_t i = 0; i < n; i++, dst += kPageSize) {
      const int ret = ckpt_page_copy(refs[i], dst);
      if (ret) {
        *lost = addrs[i];
        return Status::from_return(ret);
      }
      // Checksummed while the page is still in this CPU's cache.
      crc.update(dst, kPageSize);
    }
    return kOk;
  });
}

Status PageBatch::init(MemMeter& meter) {
  if (contents.data()) return kOk;
  CKPT_TRY_ASSIGN(contents, KBuffer::allocate(meter, size_t(kMaxPages) * kPageSize));
  return kOk;
}

void PageBatch::copy() {
  lost = 0;
  copied = chain.size() <= kMaxPages ? copy_pages(chain, contents.data(), crc, &lost) : error(kEIO);
  chain.drop_pages();
}

Status PageCopier::init(MemMeter& meter) {
  if (work_.data()) return kOk;
  CKPT_TRY_ASSIGN(work_, KBuffer::allocate(meter, ckpt_worker_size()));
  ckpt_worker_init(worker());
  return kOk;
}

void PageCopier::run(void* batch) { static_cast<PageBatch*>(batch)->copy(); }

void PageCopier::start(PageBatch& batch) {
  wait();
  if (copy_here_only_ || here_pages_ == 0 || batch.chain.size() < kWorkerMinPages) {
    copy_here(batch);
    return;
  }
  running_ = true;
  pending_pages_ = batch.chain.size();
  ckpt_worker_start(worker(), &PageCopier::run, &batch);
}

void PageCopier::copy_here(PageBatch& batch) {
  const uint64_t start = ckpt_clock_ns();
  batch.copy();
  here_ns_ += ckpt_clock_ns() - start;
  here_pages_ += batch.chain.size();
}

void PageCopier::wait() {
  if (!running_) return;
  const uint64_t start = ckpt_clock_ns();
  ckpt_worker_wait(worker());
  const uint64_t waited = ckpt_clock_ns() - start;
  running_ = false;
  // Slower than copying here, at the rate measured here.
  if (waited * here_pages_ > here_ns_ * pending_pages_) slow_batches_++;
  if (++handed_batches_ < kTrialBatches) return;
  if (slow_batches_ >= kSlowBatchesToGiveUp) copy_here_only_ = true;
  handed_batches_ = 0;
  slow_batches_ = 0;
}

}  // namespace ckpt
