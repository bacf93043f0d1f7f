// SPDX-License-Identifier: GPL-2.0
//
// XXH64 (Yann Collet's xxHash, 64-bit, doc/xxhash_spec.md of its sources),
// streaming, for images whose HEAD names it (Documentation/image-format.md,
// "Checksums").  Freestanding: the module and the CLI both build it.
//
//   Xxh64 h;  h.update(a, n);  h.update(b, m);  h.digest();
//   xxh64("123456789") == 0x8CB841DB40E6AE83 (seed 0)
//
// It reads 32 bytes per round with four independent multiply lanes, so it
// runs near copy speed where CRC-32C has no instruction to run on.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt {

class Xxh64 {
 public:
  Xxh64() { reset(); }
  void reset(uint64_t seed = 0);
  void update(const void* data, size_t len);
  // The same as update() over `len` zero bytes.
  void update_zeros(size_t len);
  uint64_t digest() const;

 private:
  void consume_stripes(const uint8_t* p, size_t stripes);

  uint64_t lanes_[4];
  uint64_t seed_;
  uint64_t total_;
  uint8_t buffer_[32];
  uint32_t buffered_;
};

}  // namespace ckpt
