// SPDX-License-Identifier: GPL-2.0
//
// Every test runs against a fresh fake kernel and ends by checking that the
// core kept every bridge contract and left nothing behind: no reference,
// no lock, no mapping, no allocation.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake_bridge.h"

class FakeKernelTest : public ::testing::Test {
 protected:
  // In the constructor, not SetUp(): fixtures lay out targets in their
  // member initializers, which must see the fresh kernel.
  FakeKernelTest() {
    fake::reset_kernel();
    fake::heap::fail_nth(-1);
    live_at_start_ = fake::heap::live_allocations();
  }

  void TearDown() override {
    fake::heap::fail_nth(-1);
    EXPECT_EQ(joined(kernel().violations()), "") << "bridge contract violations";
    EXPECT_EQ(joined(kernel().leftovers()), "") << "left behind by the core";
    EXPECT_EQ(fake::heap::live_allocations(), live_at_start_) << "ckpt_kmalloc allocations not freed";
  }

  static fake::Kernel& kernel() { return fake::kernel(); }

  static std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& line : lines) out += line + "; ";
    return out;
  }

 private:
  size_t live_at_start_ = 0;
};

// A present page the test holds, as ckpt_gup would hand it to the core.
inline ckpt_page_ref* held_page(fake::Mm& mm, uint64_t addr, uint8_t salt = 0, fake::Pte state = fake::Pte::kAnon) {
  fake::Page* page = mm.set(addr, state, salt);
  page->refs++;
  return fake::handle(page);
}
