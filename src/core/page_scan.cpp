// SPDX-License-Identifier: GPL-2.0
#include "page_scan.h"

namespace ckpt {

Result<uint64_t> PageScanner::fill(const VmaRange& vma, uint64_t cursor, uint32_t limit) {
  migrating_ = false;
  if (vma.shmem) return fill_from_shmem(vma, cursor, limit);
  return fill_from_page_tables(vma, cursor, limit);
}

Result<uint64_t> PageScanner::fill_from_page_tables(const VmaRange& vma, uint64_t cursor, uint32_t limit) {
  while (cursor < vma.end && chain_->size() < limit && !migrating_) {
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

// Shared memory: every page of the file that the VMA maps and that holds
// data, whether the target touched it or not, in memory or on swap.  The
// file is asked, index by index; holes are skipped without a lookup each.
Result<uint64_t> PageScanner::fill_from_shmem(const VmaRange& vma, uint64_t cursor, uint32_t limit) {
  const uint64_t last = vma.pgoff + (vma.end - vma.start) / kPageSize - 1;
  auto index_of = [&](uint64_t addr) { return vma.pgoff + (addr - vma.start) / kPageSize; };
  while (cursor < vma.end && chain_->size() < limit) {
    const uint64_t index = ckpt_shmem_next(vma.shmem, index_of(cursor), last);
    if (index > last) return vma.end;
    cursor = vma.start + (index - vma.pgoff) * kPageSize;

    CKPT_TRY_ASSIGN(PageArrayChain::Slots slots, chain_->reserve());
    const uint32_t want = uint32_t(min<uint64_t>(min(slots.room, limit - chain_->size()), last + 1 - index));
    const long got = ckpt_shmem_get(vma.shmem, index, want, slots.pages);
    pages_scanned_ += got > 0 ? uint64_t(got) : 1;
    if (got == -kEHWPOISON) {
      poisoned_ = cursor;
      ckpt_warn_vma("hardware-poisoned page", vma.start, vma.end, -kEHWPOISON);
    }
    if (got < 0) return Status::from_return(got);
    if (got == 0) {  // fallocated and never written, or truncated meanwhile
      cursor += kPageSize;
      ckpt_cond_resched();
      continue;
    }
    for (uint32_t i = 0; i < uint32_t(got); i++) slots.addrs[i] = cursor + uint64_t(i) * kPageSize;
    chain_->commit(uint32_t(got));
    cursor += uint64_t(got) * kPageSize;
  }
  return cursor;
}

// GUP up to `count` pages at `addr` straight into the chain, keep those the
// policy wants, and say where to continue.
Status PageScanner::take_run(const VmaRange& vma, uint64_t addr, uint32_t count, uint64_t* next) {
  CKPT_TRY_ASSIGN(PageArrayChain::Slots slots, chain_->reserve());
  const uint32_t want = min(count, slots.room);
  const long got = ckpt_gup(mm_, addr, want, gup_mode(vma.kind), slots.pages);

  if (got < 0) {
    pages_scanned_++;
    if (got != -kEFAULT) return Status::from_return(got);
    return explain_refusal(vma, addr, next);
  }
  if (got == 0) return error(kEIO);  // GUP promises progress or an error
  present_refusals_ = 0;

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

// GUP refused `addr`: find out why from the page tables, and say where to
// go on.  What holds no data is skipped: a hole, the zero page (a huge one
// whole), a userfaultfd marker.  A swapped-out copy-on-write page of a
// private file mapping is faulted in alone (anonymous memory was faulted
// by GUP already; shared memory never is, it would allocate).  A page
// under migration is waited for; one present now was refused while it was
// changing, and GUP is asked again.  Anything else is a page we cannot
// read, and skipping it would silently lose data, so the dump fails.
Status PageScanner::explain_refusal(const VmaRange& vma, uint64_t addr, uint64_t* next) {
  *next = addr + kPageSize;
  switch (ckpt_mm_pte_state(mm_, addr)) {
    case CKPT_PTE_NONE:
    case CKPT_PTE_ZERO:
    case CKPT_PTE_MARKER:
      return kOk;
    case CKPT_PTE_HUGE_ZERO:
      *next = min((addr | (kPmdSize - 1)) + 1, vma.end);
      return kOk;
    case CKPT_PTE_MIGRATING:
      *next = addr;
      migrating_ = true;
      return kOk;
    case CKPT_PTE_PRESENT:
      // A page GUP always refuses (secretmem) stays an error.
      if (++present_refusals_ > kPresentRetries) break;
      *next = addr;
      return kOk;
    case CKPT_PTE_SWAP:
      if (vma.kind == VmaKind::kFile) return take_swapped_cow_page(vma, addr);
      break;
    case CKPT_PTE_POISON:
      poisoned_ = addr;
      ckpt_warn_vma("hardware-poisoned page", vma.start, vma.end, -kEHWPOISON);
      return error(kEHWPOISON);
    default:
      break;
  }
  ckpt_warn_vma("unreadable page", vma.start, vma.end, -kEIO);
  return error(kEIO);
}

Status PageScanner::take_swapped_cow_page(const VmaRange& vma, uint64_t addr) {
  CKPT_TRY_ASSIGN(PageArrayChain::Slots slots, chain_->reserve());
  const long got = ckpt_gup(mm_, addr, 1, CKPT_GUP_FAULT_COW, slots.pages);
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
  ckpt_warn_vma("unreadable page", vma.start, vma.end, -kEIO);
  return error(kEIO);
}

}  // namespace ckpt
