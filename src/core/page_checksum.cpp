// SPDX-License-Identifier: GPL-2.0
#include "page_checksum.h"

#include "kernel_refs.h"

namespace ckpt {

void checksum_pages(const PageArrayChain& chain, Crc32c& crc) {
  (void)chain.for_each_array([&](const uint64_t*, ckpt_page_ref* const* refs, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
      MappedPage page(refs[i]);
      crc.update(page.data(), kPageSize);
    }
    return kOk;
  });
}

Status PageChecksummer::init(MemMeter& meter) {
  if (work_.data()) return kOk;
  CKPT_TRY_ASSIGN(work_, KBuffer::allocate(meter, ckpt_worker_size()));
  ckpt_worker_init(worker());
  return kOk;
}

void PageChecksummer::run(void* self) {
  auto* checksummer = static_cast<PageChecksummer*>(self);
  checksum_pages(*checksummer->chain_, checksummer->crc_);
}

void PageChecksummer::start(const PageArrayChain& chain, Crc32c crc) {
  wait();
  crc_ = crc;
  if (chain.size() < kWorkerMinPages) {
    checksum_pages(chain, crc_);
    return;
  }
  chain_ = &chain;
  running_ = true;
  ckpt_worker_start(worker(), &PageChecksummer::run, this);
}

Crc32c PageChecksummer::finish() {
  wait();
  return crc_;
}

void PageChecksummer::wait() {
  if (!running_) return;
  ckpt_worker_wait(worker());
  running_ = false;
  chain_ = nullptr;
}

}  // namespace ckpt
