// SPDX-License-Identifier: GPL-2.0
//
// Filling a page-array chain with held pages of a fake mm, as the scanner
// does: reserve, fill the slots, commit.
#pragma once

#include <algorithm>

#include "fixture.h"
#include "page_array.h"

// Adds `count` pages at first, first + 4 KiB, ... with contents
// pattern(addr, salt).
inline ckpt::Status add_held_pages(ckpt::PageArrayChain& chain, fake::Mm& mm, uint32_t count, uint64_t first,
                                   uint8_t salt = 0) {
  for (uint32_t added = 0; added < count;) {
    auto slots = chain.reserve();
    if (!slots.ok()) return slots.status();
    const uint32_t n = std::min(slots.value().room, count - added);
    for (uint32_t i = 0; i < n; i++) {
      const uint64_t addr = first + uint64_t(added + i) * fake::kPageSize;
      slots.value().addrs[i] = addr;
      slots.value().pages[i] = held_page(mm, addr, salt);
    }
    chain.commit(n);
    added += n;
  }
  return ckpt::kOk;
}
