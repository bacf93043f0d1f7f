// SPDX-License-Identifier: GPL-2.0
//
// CRC-32C, software and hardware: the checksum every record carries.
#include "crc32c.h"
#include "kt_test.h"

namespace {

using ckpt::Crc32c;

uint32_t crc_of(const void* data, size_t len) {
  Crc32c crc;
  crc.update(data, len);
  return crc.value();
}

// Runs fn once with the software path and, if the CPU has it, once with
// the hardware path; restores what the core uses.
template <typename Fn>
void both_paths(Fn&& fn) {
  const bool in_use = Crc32c::hardware_in_use();
  Crc32c::use_hardware(false);
  fn();
  if (ckpt_cpu_has_crc32c()) {
    Crc32c::use_hardware(true);
    fn();
  }
  Crc32c::use_hardware(in_use);
}

}  // namespace

KT_CASE(crc32c, check_value) {
  both_paths([&] { KT_EXPECT_EQ(crc_of("123456789", 9), 0xE3069283u); });
}

KT_CASE(crc32c, empty_input) {
  both_paths([&] { KT_EXPECT_EQ(crc_of("", 0), 0u); });
}

KT_CASE(crc32c, streaming_split) {
  uint8_t buf[67];
  ckpt::kt::fill_pattern(buf, sizeof(buf), 0x1000, 1);
  both_paths([&] {
    const uint32_t whole = crc_of(buf, sizeof(buf));
    for (size_t split = 0; split <= sizeof(buf); split++) {
      Crc32c crc;
      crc.update(buf, split);
      crc.update(buf + split, sizeof(buf) - split);
      KT_EXPECT_EQ(crc.value(), whole);
    }
  });
}

KT_CASE(crc32c, hardware_matches_software) {
  KT_ASSERT_TRUE(ckpt_cpu_has_crc32c());  // QEMU's -cpu max has SSE4.2
  const bool in_use = Crc32c::hardware_in_use();
  ckpt::AllocChecker ac;
  auto* buf = new (&ac) uint8_t[4097];
  KT_ASSERT_TRUE(ac.check());
  ckpt::kt::fill_pattern(buf, 4097, 0x7f0000000000, 2);
  const size_t lengths[] = {1, 7, 8, 9, 4096, 4097};
  for (size_t len : lengths) {
    Crc32c::use_hardware(false);
    const uint32_t software = crc_of(buf, len);
    Crc32c::use_hardware(true);
    KT_EXPECT_EQ(crc_of(buf, len), software);
  }
  Crc32c::use_hardware(in_use);
  delete[] buf;
}

// The choice made at load is the faster one as measured, and only an
// instruction the CPU has is ever chosen.
KT_CASE(crc32c, chooses_the_faster) {
  const bool in_use = Crc32c::hardware_in_use();
  auto timing = Crc32c::choose_fastest(false);
  KT_EXPECT_TRUE(!timing.hardware);
  KT_EXPECT_TRUE(!Crc32c::hardware_in_use());
  KT_EXPECT_EQ(timing.hardware_ns, 0u);
  KT_EXPECT_LE(4096u, timing.sample_bytes);
  timing = Crc32c::choose_fastest(true);
  KT_EXPECT_EQ(timing.hardware, timing.hardware_ns <= timing.software_ns);
  KT_EXPECT_EQ(Crc32c::hardware_in_use(), timing.hardware);
  Crc32c::use_hardware(in_use);
}

KT_CASE(crc32c, unaligned_input) {
  alignas(8) uint8_t buf[80];
  alignas(8) uint8_t copy[80];
  ckpt::kt::fill_pattern(buf, sizeof(buf), 0x2000, 3);
  both_paths([&] {
    for (size_t shift = 1; shift < 8; shift++) {
      __builtin_memcpy(copy, buf + shift, 64);
      KT_EXPECT_EQ(crc_of(buf + shift, 64), crc_of(copy, 64));
    }
  });
}
