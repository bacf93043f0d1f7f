// SPDX-License-Identifier: GPL-2.0
//
// src/core/xxh64.cpp and src/core/checksum.cpp against known answers
// (python3-xxhash) and a one-shot reference written from the spec.
#include "xxh64.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "checksum.h"
#include "record_frames.h"

namespace {

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; i++) bytes[i] = uint8_t(i * 31 + 7);
  return bytes;
}

uint64_t xxh64_of(const void* data, size_t len) {
  ckpt::Xxh64 h;
  h.update(data, len);
  return h.digest();
}

TEST(Xxh64, KnownAnswers) {
  EXPECT_EQ(xxh64_of("123456789", 9), 0x8CB841DB40E6AE83ull);  // the format document's
  const struct {
    size_t len;
    uint64_t hash;
  } answers[] = {{0, 0xef46db3751d8e999ull},   {1, 0xa96c7f0ce858bbb7ull},    {31, 0x4a74f3a1a39ad4a1ull},
                 {32, 0x8d57d6a4671cc43dull},  {33, 0x62c9fd21ed857664ull},   {100, 0xefa0ad2d3e70c151ull},
                 {4096, 0xe21174be82dc78d9ull}, {5000, 0xaa5b264f05aca4d4ull}};
  for (const auto& a : answers) {
    const auto bytes = pattern(a.len);
    EXPECT_EQ(xxh64_of(bytes.data(), a.len), a.hash) << a.len << " bytes";
    EXPECT_EQ(host_test::reference_xxh64(bytes.data(), a.len), a.hash) << a.len << " bytes, reference";
  }
}

TEST(Xxh64, AnySplitGivesTheSameHash) {
  std::mt19937 rng(42);
  std::vector<uint8_t> bytes(9000);
  for (auto& b : bytes) b = uint8_t(rng());
  for (size_t len : {0, 7, 32, 63, 64, 65, 4096, 4096 + 24, 9000}) {
    const uint64_t whole = host_test::reference_xxh64(bytes.data(), len);
    for (int trial = 0; trial < 20; trial++) {
      ckpt::Xxh64 h;
      for (size_t at = 0; at < len;) {
        const size_t n = std::min<size_t>(len - at, rng() % 70);
        h.update(bytes.data() + at, n);
        at += n;
      }
      ASSERT_EQ(h.digest(), whole) << len << " bytes, trial " << trial;
    }
  }
}

TEST(Xxh64, ZerosAreZeroBytes) {
  for (size_t len : {0, 1, 255, 256, 257, 4095, 5000}) {
    const std::vector<uint8_t> zeros(len + 3, 0);
    ckpt::Xxh64 a, b;
    a.update("abc", 3);
    a.update_zeros(len);
    b.update("abc", 3);
    b.update(zeros.data(), len);
    EXPECT_EQ(a.digest(), b.digest()) << len;
  }
}

TEST(RecordChecksum, EachAlgorithmAsTheFormatDefinesIt) {
  const auto bytes = pattern(4096 + 40);
  ckpt::RecordChecksum crc(ckpt::RecordChecksum::kCrc32c), xxh(ckpt::RecordChecksum::kXxh64);
  crc.update(bytes.data(), 40);
  crc.update_zeros(100);
  xxh.update(bytes.data(), 40);
  xxh.update_zeros(100);
  std::vector<uint8_t> covered(bytes.begin(), bytes.begin() + 40);
  covered.resize(140, 0);
  EXPECT_EQ(crc.value(), host_test::reference_crc32c(covered.data(), covered.size()));
  EXPECT_EQ(xxh.value(), uint32_t(host_test::reference_xxh64(covered.data(), covered.size())));
  EXPECT_FALSE(ckpt::RecordChecksum::known(2));
}

}  // namespace
