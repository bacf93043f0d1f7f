// SPDX-License-Identifier: GPL-2.0
//
// A record's checksum, in the algorithm HEAD names (CKPT_CSUM_*;
// Documentation/image-format.md, "Checksums"): CRC-32C, or XXH64's low 32
// bits.  HEAD's own is always CRC-32C, and so is TAIL's chain (Crc32c
// directly).
//
//   RecordChecksum sum(CKPT_CSUM_XXH64);  sum.update(a, n);  sum.value();
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "crc32c.h"
#include "xxh64.h"

namespace ckpt {

class RecordChecksum {
 public:
  explicit RecordChecksum(uint32_t algorithm = kCrc32c) : algorithm_(algorithm) {}

  static constexpr uint32_t kCrc32c = 0;  // CKPT_CSUM_CRC32C
  static constexpr uint32_t kXxh64 = 1;   // CKPT_CSUM_XXH64
  static bool known(uint32_t algorithm) { return algorithm <= kXxh64; }

  void update(const void* data, size_t len) {
    if (algorithm_ == kXxh64)
      xxh_.update(data, len);
    else
      crc_.update(data, len);
  }
  void update_zeros(uint32_t len) {
    if (algorithm_ == kXxh64)
      xxh_.update_zeros(len);
    else
      crc_.update_zeros(len);
  }
  uint32_t value() const { return algorithm_ == kXxh64 ? uint32_t(xxh_.digest()) : crc_.value(); }
  uint32_t algorithm() const { return algorithm_; }

  // The algorithm a dump uses when its caller does not name one: chosen at
  // module load (choose_default), read-only after.
  static uint32_t default_algorithm();

  // Times CRC-32C (the faster of its implementations, Crc32c) and XXH64 on
  // this CPU.  CRC-32C is the format's first algorithm and the one readers
  // most likely have, so it stays the default unless it costs over 1.5
  // times what XXH64 does (a margin, so that two near-equal timings do not
  // flip the choice from one load to the next): with the crc32 instruction
  // the two are close; without it (and under emulators, which run the
  // instruction bit by bit) the tables are slower than XXH64.
  struct Choice {
    uint32_t algorithm;
    Crc32c::Timing crc;
    uint64_t xxh64_ns;  // per pass over the same sample as crc's
  };
  // `requested` is kCrc32c, kXxh64, or anything else for the timed choice.
  static Choice choose_default(uint32_t requested, bool cpu_has_crc32);

 private:
  uint32_t algorithm_;
  Crc32c crc_;
  Xxh64 xxh_;
};

}  // namespace ckpt
