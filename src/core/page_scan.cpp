// SPDX-License-Identifier: GPL-2.0
#include "page_scan.h"

namespace ckpt {

Result<uint64_t> PageScanner::fill(const VmaRange& vma, uint64_t cursor, uint32_t limit) {
  while (cursor < vma.end && chain_->size() < limit) {
    // GUP only runs of entries that may hold data, inside one page table.
    __u64 run_end;
    cursor = ckpt_mm_next_data(mm_, cursor, vma.end, &run_end);
    if (run_end == cursor) {
      ckpt_cond_resched();  // a stretch with nothing to take
      continue;
    }
    const uint64_t count = min(uint64_t(run_end), vma.end) - cursor;
    CKPT_TRY(take_run(vma, cursor, uint32_t(min<uint64_t>(count / kPageSize, limit - chain_->size())),
                      &cursor));
  }
  return min(cursor, vma.end);
}

// GUP up to `count` pages at `addr` straight into the chain, keep those the
// policy wants, and say where to continue.
Status PageScanner::take_run(const VmaRange& vma, uint64_t addr, uint32_t count, uint64_t* next) {
  CKPT_TRY_ASSIGN(PageArrayChain::Slots slots, chain_->reserve());
  const uint32_t want = min(count, slots.room);
  const long got = ckpt_gup(mm_, addr, want, gup_mode(vma.kind), slots.pages);

  if (got < 0) {
    pages_scanned_++;
    *next = addr + kPageSize;
    if (got != -kEFAULT) return Status::from_return(got);
    return explain_refusal(vma, addr);
  }
  if (got == 0) return error(kEIO);  // GUP promises progress or an error

  // Compact in place: drop the pages the policy leaves out.
  uint32_t kept = 0;
  for (uint32_t i = 0; i < uint32_t(got); i++) {
    ckpt_page_ref* page = slots.pages[i];
    if (!keeps_page(vma.kind, page)) {
      ckpt_page_put(page);
      continue;
    }
    slots.pages[kept] = page;
    slots.addrs[kept] = addr + uint64_t(i) * kPageSize;
    kept++;
  }
  chain_->commit(kept);
  pages_scanned_ += uint64_t(got);
  *next = addr + uint64_t(got) * kPageSize;
  return kOk;
}

// GUP refused `addr`.  Holes and the zero page hold no data.  A swap entry
// in a mapping scanned without faults is a swapped-out copy-on-write page:
// fault it in alone.  Anything else is a page we cannot read, and skipping
// it would silently lose data, so the dump fails.
Status PageScanner::explain_refusal(const VmaRange& vma, uint64_t addr) {
  switch (ckpt_mm_pte_state(mm_, addr)) {
    case CKPT_PTE_NONE:
    case CKPT_PTE_ZERO:
      return kOk;
    case CKPT_PTE_SWAP:
      if (gup_mode(vma.kind) == CKPT_GUP_NOFAULT) {
        CKPT_TRY_ASSIGN(PageArrayChain::Slots slots, chain_->reserve());
        const long got = ckpt_gup(mm_, addr, 1, CKPT_GUP_FAULT, slots.pages);
        if (got == 1) {
          if (keeps_page(vma.kind, slots.pages[0])) {
            slots.addrs[0] = addr;
            chain_->commit(1);
          } else {
            ckpt_page_put(slots.pages[0]);
          }
          return kOk;
        }
        if (got < 0 && got != -kEFAULT) return Status::from_return(got);
      }
      break;
    default:
      break;
  }
  ckpt_warn_vma("unreadable page", vma.start, vma.end, -kEIO);
  return error(kEIO);
}

}  // namespace ckpt
