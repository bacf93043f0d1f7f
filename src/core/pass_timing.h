// SPDX-License-Identifier: GPL-2.0
//
// Timing a checksum at module load, to choose between implementations and
// algorithms the way the kernel picks its RAID6 and XOR routines.
#pragma once

#include <ckpt/bridge.h>

#include <stddef.h>
#include <stdint.h>

namespace ckpt {

// Nanoseconds per pass of `update(state, sample, len)` over a small,
// resident sample: passes are timed in growing groups until a group takes
// 1 ms, so a coarse clock still measures, and the best of three groups
// counts (the first may pay for cache misses, an emulator's translation or
// an interrupt).  0 if the clock never moved.
template <typename Update>
uint64_t time_per_pass_ns(const uint8_t* sample, size_t len, Update update) {
  constexpr uint64_t kEnoughNs = 1000 * 1000;
  constexpr uint32_t kMaxPasses = 1024;
  uint64_t best = ~uint64_t(0);
  volatile uint32_t sink = 0;
  for (int group = 0; group < 3; group++) {
    uint32_t passes = 1;
    uint64_t took;
    for (;;) {
      const uint64_t start = ckpt_clock_ns();
      for (uint32_t i = 0; i < passes; i++) sink = update(sink, sample, len);
      took = ckpt_clock_ns() - start;
      if (took >= kEnoughNs || passes == kMaxPasses) break;
      passes *= 2;
    }
    if (took / passes < best) best = took / passes;
  }
  return best;
}

}  // namespace ckpt
