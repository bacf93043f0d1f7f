// SPDX-License-Identifier: GPL-2.0
//
// What every C++ KUnit body needs: its declaration from cases.h, and
// expectations that report through KUnit (ckpt_kt_fail) with file and line.
#pragma once

#include "cases.h"
#include "kt.h"
#include "result.h"
#include "support.h"

#define CKPT_KT_DECLARE_CXX(suite, name) extern "C" void ckpt_kt_##suite##_##name(kunit* test);
CKPT_KT_ALL_CASES(CKPT_KT_DECLARE_CXX)

#define KT_CASE(suite, name) extern "C" void ckpt_kt_##suite##_##name(kunit* test)

#define KT_CHECK_(left, right, op, on_fail)                                              \
  do {                                                                                   \
    const auto kt_l_ = (left);                                                           \
    const auto kt_r_ = (right);                                                          \
    if (!(kt_l_ op kt_r_)) {                                                             \
      ckpt_kt_fail(test, __FILE__, __LINE__, #left " " #op " " #right, (long long)kt_l_, \
                   (long long)kt_r_);                                                    \
      on_fail;                                                                           \
    }                                                                                    \
  } while (0)

#define KT_EXPECT_EQ(a, b) KT_CHECK_(a, b, ==, (void)0)
#define KT_EXPECT_NE(a, b) KT_CHECK_(a, b, !=, (void)0)
#define KT_EXPECT_LE(a, b) KT_CHECK_(a, b, <=, (void)0)
#define KT_EXPECT_TRUE(c) KT_CHECK_(bool(c), true, ==, (void)0)
#define KT_ASSERT_EQ(a, b) KT_CHECK_(a, b, ==, return)
#define KT_ASSERT_NE(a, b) KT_CHECK_(a, b, !=, return)
#define KT_ASSERT_TRUE(c) KT_CHECK_(bool(c), true, ==, return)
#define KT_ASSERT_OK(status) KT_CHECK_((status).error(), 0, ==, return)

namespace ckpt::kt {

// A deterministic byte for (address, seed): test pages carry known content.
inline uint8_t pattern(uint64_t addr, uint32_t seed) {
  uint64_t x = addr * 0x9E3779B97F4A7C15ull + seed;
  x ^= x >> 29;
  return uint8_t(x * 0xBF58476D1CE4E5B9ull >> 56);
}

inline void fill_pattern(uint8_t* buf, size_t len, uint64_t addr, uint32_t seed) {
  for (size_t i = 0; i < len; i++) buf[i] = pattern(addr + i, seed);
}

}  // namespace ckpt::kt
