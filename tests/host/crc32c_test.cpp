// SPDX-License-Identifier: GPL-2.0
//
// src/core/crc32c.cpp, both paths, against a bit-at-a-time reference.
#include "crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "record_frames.h"

namespace {

// Runs fn once with the software tables and once with the CRC32 instruction.
template <typename Fn>
void both_paths(Fn&& fn) {
  for (bool hardware : {false, true}) {
    SCOPED_TRACE(hardware ? "hardware" : "software");
    ckpt::Crc32c::use_hardware(hardware);
    fn();
  }
  ckpt::Crc32c::use_hardware(false);
}

uint32_t crc_of(const void* data, size_t len) {
  ckpt::Crc32c crc;
  crc.update(data, len);
  return crc.value();
}

TEST(Crc32c, CheckValue) {
  both_paths([] { EXPECT_EQ(crc_of("123456789", 9), 0xE3069283u); });
  EXPECT_EQ(host_test::reference_crc32c("123456789", 9), 0xE3069283u);
}

TEST(Crc32c, EmptyInputIsZero) {
  both_paths([] { EXPECT_EQ(crc_of("", 0), 0u); });
}

TEST(Crc32c, StreamingSplitAtEveryPoint) {
  std::vector<uint8_t> data(300);
  std::mt19937 random(1);
  for (auto& byte : data) byte = uint8_t(random());
  const uint32_t whole = host_test::reference_crc32c(data.data(), data.size());
  both_paths([&] {
    for (size_t split = 0; split <= data.size(); split++) {
      ckpt::Crc32c crc;
      crc.update(data.data(), split);
      crc.update(data.data() + split, data.size() - split);
      ASSERT_EQ(crc.value(), whole) << "split at " << split;
    }
  });
}

TEST(Crc32c, EveryLengthAndAlignmentMatchesReference) {
  std::vector<uint8_t> data(4096 + 16);
  std::mt19937 random(2);
  for (auto& byte : data) byte = uint8_t(random());
  both_paths([&] {
    for (size_t offset = 0; offset < 16; offset++)
      for (size_t len : {size_t(0), size_t(1), size_t(7), size_t(8), size_t(9), size_t(63), size_t(4096)})
        ASSERT_EQ(crc_of(&data[offset], len), host_test::reference_crc32c(&data[offset], len))
            << "offset " << offset << " len " << len;
  });
}

}  // namespace

// The fake clock advances the same for both, so the instruction wins ties;
// without the instruction the tables are chosen whatever the clock says.
TEST(Crc32c, ChoosesTheFasterItMeasured) {
  auto timing = ckpt::Crc32c::choose_fastest(false);
  EXPECT_FALSE(timing.hardware);
  EXPECT_FALSE(ckpt::Crc32c::hardware_in_use());
  EXPECT_EQ(timing.hardware_ns, 0u);
  EXPECT_GT(timing.software_ns, 0u);
  timing = ckpt::Crc32c::choose_fastest(true);
  EXPECT_EQ(timing.hardware_ns, timing.software_ns);
  EXPECT_TRUE(timing.hardware);
  EXPECT_TRUE(ckpt::Crc32c::hardware_in_use());
  ckpt::Crc32c::use_hardware(false);
}

TEST(Crc32c, ZerosInLogarithmicTimeEqualZerosFed) {
  std::vector<uint8_t> zeros(70000, 0);
  for (uint64_t len : {0ull, 1ull, 2ull, 3ull, 7ull, 8ull, 9ull, 100ull, 4040ull, 4095ull, 4096ull, 65536ull, 70000ull}) {
    SCOPED_TRACE("len " + std::to_string(len));
    ckpt::Crc32c fed, computed;
    fed.update("prefix", 6);
    computed.update("prefix", 6);
    fed.update(zeros.data(), len);
    computed.update_zeros(uint32_t(len));
    EXPECT_EQ(computed.value(), fed.value());
    EXPECT_EQ(computed.value(),
              host_test::reference_crc32c(zeros.data(), len, host_test::reference_crc32c("prefix", 6)));
  }
}
