// SPDX-License-Identifier: GPL-2.0
//
// The restore's check of an image's LDT (src/core/ldt_descriptor.h) held
// against the kernel's own fill_ldt(): every descriptor modify_ldt(2)
// makes is accepted, and each change that makes one it cannot is not.
#include "kt.h"
#include "kt_test.h"
#include "ldt_descriptor.h"

namespace {

constexpr uint32_t kBases[] = {0, 0x10000, 0x12345678, 0xffffffff};
constexpr uint32_t kLimits[] = {0, 0xfff, 0xfffff};

}  // namespace

KT_CASE(restore, ldt_check_accepts_what_modify_ldt_makes) {
  uint32_t made = 0;
  for (uint32_t base : kBases) {
    for (uint32_t limit : kLimits) {
      for (uint32_t bits = 0; bits < 128; bits++) {
        uint64_t d = 0;
        if (ckpt_kt_modify_ldt_descriptor(base, limit, bits, &d)) continue;
        made++;
        KT_EXPECT_TRUE(ckpt::ldt_descriptor_installable(d));
      }
    }
  }
  KT_EXPECT_EQ(made, uint32_t(sizeof(kBases) / 4 * sizeof(kLimits) / 4 * (128 - 16)));
}

KT_CASE(restore, ldt_check_refuses_what_it_cannot) {
  constexpr uint64_t kAccessed = uint64_t(1) << 40, kS = uint64_t(1) << 44, kDpl = uint64_t(3) << 45,
                     kL = uint64_t(1) << 53;
  for (uint32_t bits = 0; bits < 128; bits++) {
    uint64_t d = 0;
    if (ckpt_kt_modify_ldt_descriptor(0x10000, 0xfff, bits, &d) || d == 0) continue;
    KT_EXPECT_TRUE(!ckpt::ldt_descriptor_installable(d & ~kAccessed));
    KT_EXPECT_TRUE(!ckpt::ldt_descriptor_installable(d & ~kS));
    KT_EXPECT_TRUE(!ckpt::ldt_descriptor_installable(d & ~kDpl));
    KT_EXPECT_TRUE(!ckpt::ldt_descriptor_installable(d | kL));
  }
  uint64_t conforming = 0;  // present conforming code: modify_ldt refuses it
  KT_ASSERT_EQ(ckpt_kt_modify_ldt_descriptor(0x10000, 0xfff, 3 << 1 | 1 << 5, &conforming), 0);
  KT_EXPECT_TRUE(!ckpt::ldt_descriptor_installable(conforming | uint64_t(1) << 47));
  uint64_t empty = 1;  // LDT_empty() clears the entry: its fill_ldt() form never exists
  KT_ASSERT_EQ(ckpt_kt_modify_ldt_descriptor(0, 0, 1 << 3 | 1 << 5, &empty), 0);
  KT_EXPECT_EQ(empty, 0u);
  KT_EXPECT_TRUE(!ckpt::ldt_descriptor_installable(kAccessed | kS | kDpl));
}
