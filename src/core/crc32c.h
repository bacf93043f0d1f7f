// SPDX-License-Identifier: GPL-2.0
//
// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and
// final xor ~0.  crc32c("123456789") == 0xE3069283.  Streaming:
//
//   Crc32c crc;  crc.update(a, n);  crc.update(b, m);  crc.value();
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt {

class Crc32c {
 public:
  // Use the CPU's CRC32 instruction from now on (SSE4.2; the bridge asks).
  static void use_hardware(bool enable);

  void update(const void* data, size_t len);
  uint32_t value() const { return ~state_; }

 private:
  uint32_t state_ = ~0u;
};

}  // namespace ckpt
