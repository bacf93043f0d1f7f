// SPDX-License-Identifier: GPL-2.0
//
// Software CRC-32C is slice-by-8 over tables built at compile time (no
// constructor runs); the hardware path uses the CRC32 instruction on
// general-purpose registers, so the kernel needs no FPU section for it.
#include "crc32c.h"

#include <ckpt/bridge.h>

#include "pass_timing.h"

namespace ckpt {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;

struct Tables {
  uint32_t t[8][256];
};

constexpr Tables make_tables() {
  Tables tables{};
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (kPoly & (0u - (crc & 1)));
    tables.t[0][i] = crc;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int k = 1; k < 8; k++)
      tables.t[k][i] = (tables.t[k - 1][i] >> 8) ^ tables.t[0][tables.t[k - 1][i] & 0xff];
  return tables;
}

constexpr Tables kTables = make_tables();

// a(x) * b(x) mod P(x), bit-reflected as the register is (zlib's multmodp).
constexpr uint32_t multiply_mod_p(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t m = 1u << 31; m; m >>= 1) {
    if (a & m) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return product;
}

// kPowers[k] = x^(2^k) mod P, for k up to 3 + 31: enough for 8 * len with
// a 32-bit len.
struct Powers {
  uint32_t p[35];
};

constexpr Powers make_powers() {
  Powers powers{};
  powers.p[0] = 1u << 30;  // x^1
  for (int k = 1; k < 35; k++) powers.p[k] = multiply_mod_p(powers.p[k - 1], powers.p[k - 1]);
  return powers;
}

constexpr Powers kPowers = make_powers();

// Set at module load (choose_fastest), before any dump; read-only after.
bool g_use_hardware = false;

uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

inline uint32_t slice8(const uint32_t (&t)[8][256], uint32_t crc, const uint8_t* p) {
  const uint32_t lo = load_le32(p) ^ crc;
  const uint32_t hi = load_le32(p + 4);
  return t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
         t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
}

uint32_t update_software(uint32_t crc, const uint8_t* p, size_t len) {
  const auto& t = kTables.t;
  // 32 bytes a round: an emulator (QEMU's TCG) pays per translated block.
  for (; len >= 32; p += 32, len -= 32) {
    crc = slice8(t, crc, p);
    crc = slice8(t, crc, p + 8);
    crc = slice8(t, crc, p + 16);
    crc = slice8(t, crc, p + 24);
  }
  for (; len >= 8; p += 8, len -= 8) crc = slice8(t, crc, p);
  while (len--) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__)
uint32_t update_hardware(uint32_t crc, const uint8_t* p, size_t len) {
  uint64_t state = crc;
  while (len >= 8) {
    uint64_t word;
    __builtin_memcpy(&word, p, 8);
    asm("crc32q %1, %0" : "+r"(state) : "rm"(word));
    p += 8;
    len -= 8;
  }
  uint32_t state32 = static_cast<uint32_t>(state);
  while (len--) asm("crc32b %1, %0" : "+r"(state32) : "rm"(*p++));
  return state32;
}
#endif

}  // namespace

void Crc32c::use_hardware(bool enable) {
#if defined(__x86_64__)
  g_use_hardware = enable;
#else
  (void)enable;
#endif
}

bool Crc32c::hardware_in_use() { return g_use_hardware; }

const uint8_t* Crc32c::timing_sample() { return reinterpret_cast<const uint8_t*>(&kTables); }


Crc32c::Timing Crc32c::choose_fastest(bool cpu_has_instruction) {
  const auto* sample = reinterpret_cast<const uint8_t*>(&kTables);
  Timing timing{false, uint32_t(sizeof(kTables)), 0,
                time_per_pass_ns(sample, sizeof(kTables), update_software)};
#if defined(__x86_64__)
  if (cpu_has_instruction) {
    timing.hardware_ns = time_per_pass_ns(sample, sizeof(kTables), update_hardware);
    // Ties (and a clock that never moved) go to the instruction.
    timing.hardware = timing.hardware_ns <= timing.software_ns;
  }
#else
  (void)cpu_has_instruction;
#endif
  use_hardware(timing.hardware);
  return timing;
}

void Crc32c::update_zeros(uint32_t len) {
  // x^(8 len) = the product of x^(2^k) over the set bits k of 8 len.
  uint32_t factor = 1u << 31;  // x^0
  for (int k = 3; len; len >>= 1, k++)
    if (len & 1) factor = multiply_mod_p(kPowers.p[k], factor);
  state_ = multiply_mod_p(factor, state_);
}

void Crc32c::update(const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
#if defined(__x86_64__)
  if (g_use_hardware) {
    state_ = update_hardware(state_, p, len);
    return;
  }
#endif
  state_ = update_software(state_, p, len);
}

}  // namespace ckpt
