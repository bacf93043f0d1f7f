// SPDX-License-Identifier: GPL-2.0
#include "xxh64.h"

namespace ckpt {
namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ull;
constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ull;
constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ull;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Little-endian loads; x86-64 is little-endian and allows unaligned loads.
inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

inline uint64_t round(uint64_t acc, uint64_t input) {
  acc += input * kPrime2;
  acc = rotl(acc, 31);
  return acc * kPrime1;
}

inline uint64_t merge_round(uint64_t acc, uint64_t lane) {
  acc ^= round(0, lane);
  return acc * kPrime1 + kPrime4;
}

constexpr uint8_t kZeros[256] = {};

}  // namespace

void Xxh64::reset(uint64_t seed) {
  seed_ = seed;
  lanes_[0] = seed + kPrime1 + kPrime2;
  lanes_[1] = seed + kPrime2;
  lanes_[2] = seed;
  lanes_[3] = seed - kPrime1;
  total_ = 0;
  buffered_ = 0;
}

void Xxh64::consume_stripes(const uint8_t* p, size_t stripes) {
  uint64_t v0 = lanes_[0], v1 = lanes_[1], v2 = lanes_[2], v3 = lanes_[3];
  // Four stripes a round: an emulator (QEMU's TCG) pays per translated
  // block, and a longer loop body runs fewer of them.
  for (; stripes >= 4; stripes -= 4, p += 128) {
    for (int i = 0; i < 128; i += 32) {
      v0 = round(v0, load64(p + i));
      v1 = round(v1, load64(p + i + 8));
      v2 = round(v2, load64(p + i + 16));
      v3 = round(v3, load64(p + i + 24));
    }
  }
  for (; stripes; stripes--, p += 32) {
    v0 = round(v0, load64(p));
    v1 = round(v1, load64(p + 8));
    v2 = round(v2, load64(p + 16));
    v3 = round(v3, load64(p + 24));
  }
  lanes_[0] = v0;
  lanes_[1] = v1;
  lanes_[2] = v2;
  lanes_[3] = v3;
}

void Xxh64::update(const void* data, size_t len) {
  if (len == 0) return;  // data may be null then, which memcpy may not take
  const auto* p = static_cast<const uint8_t*>(data);
  total_ += len;
  if (buffered_) {
    const size_t take = len < 32 - buffered_ ? len : 32 - buffered_;
    __builtin_memcpy(buffer_ + buffered_, p, take);
    buffered_ += uint32_t(take);
    p += take;
    len -= take;
    if (buffered_ < 32) return;
    consume_stripes(buffer_, 1);
    buffered_ = 0;
  }
  consume_stripes(p, len / 32);
  p += len & ~size_t(31);
  len &= 31;
  if (len) __builtin_memcpy(buffer_, p, len);
  buffered_ = uint32_t(len);
}

void Xxh64::update_zeros(size_t len) {
  while (len) {
    const size_t n = len < sizeof(kZeros) ? len : sizeof(kZeros);
    update(kZeros, n);
    len -= n;
  }
}

uint64_t Xxh64::digest() const {
  uint64_t h;
  if (total_ >= 32) {
    h = rotl(lanes_[0], 1) + rotl(lanes_[1], 7) + rotl(lanes_[2], 12) + rotl(lanes_[3], 18);
    for (uint64_t lane : lanes_) h = merge_round(h, lane);
  } else {
    h = seed_ + kPrime5;
  }
  h += total_;

  const uint8_t* p = buffer_;
  uint32_t left = buffered_;
  for (; left >= 8; left -= 8, p += 8) {
    h ^= round(0, load64(p));
    h = rotl(h, 27) * kPrime1 + kPrime4;
  }
  if (left >= 4) {
    h ^= uint64_t(load32(p)) * kPrime1;
    h = rotl(h, 23) * kPrime2 + kPrime3;
    left -= 4;
    p += 4;
  }
  for (; left; left--, p++) {
    h ^= uint64_t(*p) * kPrime5;
    h = rotl(h, 11) * kPrime1;
  }
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

}  // namespace ckpt
