// SPDX-License-Identifier: GPL-2.0
#include "kt_pages.h"

#include "kernel_refs.h"
#include "page_array.h"
#include "page_scan.h"

namespace ckpt::kt {

Status write_scanned_pages(RecordWriter& writer, ckpt_mm_ref* mm, uint64_t start, uint64_t end, MemMeter& meter) {
  PageArrayChain chain(meter, 4);
  uint64_t scanned = 0;
  PageScanner scanner(mm, chain, &scanned);
  const VmaRange range{start, end, VmaKind::kAnon};
  for (uint64_t cursor = start; cursor < end;) {
    {
      MmapReadGuard lock(mm);
      CKPT_TRY(lock.lock());
      auto next = scanner.fill(range, cursor, 2048);
      if (!next.ok()) {
        chain.release();
        return next.status();
      }
      cursor = next.value();
    }
    const Status written = chain.empty() ? kOk : writer.write_pages(chain);
    chain.release();
    CKPT_TRY(written);
  }
  return kOk;
}

}  // namespace ckpt::kt
