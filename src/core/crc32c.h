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
  // Which implementation checksums: the CPU's CRC32 instruction, or
  // slice-by-8 tables.  Set at module load, before any dump.
  static void use_hardware(bool enable);
  static bool hardware_in_use();

  // Times both implementations on this CPU and uses the faster, as the
  // kernel picks its RAID6 and XOR routines.  The instruction wins by far on
  // real CPUs; an emulator (QEMU TCG) runs it bit by bit, slower than the
  // tables.  Fills the figures of ckpt_core_info.
  struct Timing {
    bool hardware;
    uint32_t sample_bytes;  // checksummed per pass
    uint64_t hardware_ns;   // per pass; 0 when the CPU lacks the instruction
    uint64_t software_ns;   // per pass
  };
  static Timing choose_fastest(bool cpu_has_instruction);
  // The bytes choose_fastest() times (Timing::sample_bytes of them), for
  // timing other checksums alike.
  static const uint8_t* timing_sample();

  void update(const void* data, size_t len);
  // The same as update() over `len` zero bytes, in time logarithmic in
  // `len`: appending zeros multiplies the register by x^(8 len) mod P.
  void update_zeros(uint32_t len);
  uint32_t value() const { return ~state_; }
  // Goes on from a raw (not inverted) state, one another reader computed.
  static Crc32c resume(uint32_t state) {
    Crc32c crc;
    crc.state_ = state;
    return crc;
  }
  uint32_t state() const { return state_; }

 private:
  uint32_t state_ = ~0u;
};

}  // namespace ckpt
