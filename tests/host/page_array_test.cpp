// SPDX-License-Identifier: GPL-2.0
//
// src/core/page_array.cpp: growth, reuse, boundaries, references, memory.
#include "page_array.h"

#include "chain_pages.h"
#include "fixture.h"
#include "targets.h"

namespace {

using ckpt::PageArrayChain;
using targets::kBase;
using targets::kPage;

constexpr uint32_t kPerArray = PageArrayChain::kEntriesPerArray;
constexpr uint32_t kMaxArrays = 4;

class PageArrayChainTest : public FakeKernelTest {
 protected:
  ckpt::Status add_pages(PageArrayChain& chain, uint32_t count, uint64_t first = kBase) {
    return add_held_pages(chain, mm_, count, first);
  }

  // The addresses the chain holds, array by array.
  static std::vector<std::vector<uint64_t>> contents(const PageArrayChain& chain) {
    std::vector<std::vector<uint64_t>> arrays;
    EXPECT_TRUE(chain.for_each_array([&](const uint64_t* addrs, ckpt_page_ref* const* pages, uint32_t n) {
      arrays.emplace_back(addrs, addrs + n);
      for (uint32_t i = 0; i < n; i++) EXPECT_GT(fake::page_of(pages[i])->refs, 0);
      return ckpt::kOk;
    }).ok());
    return arrays;
  }

  // What one array costs the meter.
  static uint64_t array_charge() {
    ckpt::MemMeter meter;
    PageArrayChain chain(meter, 1);
    EXPECT_TRUE(chain.reserve().ok());
    return meter.current();
  }

  fake::Mm& mm_ = kernel().new_mm();
};

TEST_F(PageArrayChainTest, EmptyChainHoldsNothing) {
  ckpt::MemMeter meter;
  {
    PageArrayChain chain(meter, kMaxArrays);
    EXPECT_TRUE(chain.empty());
    EXPECT_FALSE(chain.full());
    EXPECT_EQ(chain.capacity(), kMaxArrays * kPerArray);
    EXPECT_EQ(chain.arrays_allocated(), 0u);
    EXPECT_TRUE(contents(chain).empty());
    chain.release();
    EXPECT_EQ(meter.current(), 0u);
  }
  EXPECT_EQ(meter.peak(), 0u);
}

TEST_F(PageArrayChainTest, ArrayChargeIsTwoPagesAndABitOfBookkeeping) {
  EXPECT_GE(array_charge(), 2 * kPage);
  EXPECT_LT(array_charge(), 2 * kPage + 64);
}

class PageArrayChainSizes : public PageArrayChainTest, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(PageArrayChainSizes, FillsArraysInOrderAndReleasesEveryReference) {
  const uint32_t count = GetParam();
  const uint32_t arrays = (count + kPerArray - 1) / kPerArray;
  ckpt::MemMeter meter;
  {
    PageArrayChain chain(meter, kMaxArrays);
    ASSERT_TRUE(add_pages(chain, count).ok());
    EXPECT_EQ(chain.size(), count);
    EXPECT_EQ(chain.full(), count == kMaxArrays * kPerArray);
    EXPECT_EQ(chain.arrays_allocated(), arrays);
    EXPECT_EQ(meter.current(), arrays * array_charge());

    const auto held = contents(chain);
    ASSERT_EQ(held.size(), arrays);
    uint64_t next = kBase;
    for (uint32_t a = 0; a < arrays; a++) {
      EXPECT_EQ(held[a].size(), a + 1 < arrays ? kPerArray : count - a * kPerArray) << "array " << a;
      for (uint64_t addr : held[a]) {
        EXPECT_EQ(addr, next);
        next += kPage;
      }
    }

    chain.release();
    EXPECT_TRUE(chain.empty());
    EXPECT_TRUE(kernel().leftovers().empty()) << joined(kernel().leftovers());
    EXPECT_EQ(chain.arrays_allocated(), arrays) << "arrays are kept for the next batch";
    EXPECT_EQ(meter.current(), arrays * array_charge());
  }
  EXPECT_EQ(meter.current(), 0u);
  EXPECT_EQ(meter.peak(), arrays * array_charge());
}

INSTANTIATE_TEST_SUITE_P(Boundaries, PageArrayChainSizes, ::testing::Values(0u, 1u, 511u, 512u, 513u, 1024u, 2047u, 2048u));

TEST_F(PageArrayChainTest, FullChainRefusesMoreWithEnospc) {
  ckpt::MemMeter meter;
  PageArrayChain chain(meter, kMaxArrays);
  ASSERT_TRUE(add_pages(chain, kMaxArrays * kPerArray).ok());
  ASSERT_TRUE(chain.full());
  auto slots = chain.reserve();
  ASSERT_FALSE(slots.ok());
  EXPECT_EQ(slots.status().error(), -ENOSPC);
  EXPECT_EQ(chain.size(), kMaxArrays * kPerArray);
  EXPECT_EQ(chain.arrays_allocated(), kMaxArrays);
}

TEST_F(PageArrayChainTest, OneArrayChainIsFullAfter512) {
  ckpt::MemMeter meter;
  PageArrayChain chain(meter, 1);
  ASSERT_TRUE(add_pages(chain, kPerArray).ok());
  EXPECT_EQ(add_pages(chain, 1, kBase + kPerArray * kPage).error(), -ENOSPC);
}

TEST_F(PageArrayChainTest, ReservedRoomStaysInOneArray) {
  ckpt::MemMeter meter;
  PageArrayChain chain(meter, kMaxArrays);
  ASSERT_TRUE(add_pages(chain, 500).ok());
  auto slots = chain.reserve();
  ASSERT_TRUE(slots.ok());
  EXPECT_EQ(slots.value().room, kPerArray - 500);
  ASSERT_TRUE(add_pages(chain, 12, kBase + 500 * kPage).ok());
  slots = chain.reserve();
  ASSERT_TRUE(slots.ok());
  EXPECT_EQ(slots.value().room, kPerArray);
  EXPECT_EQ(chain.arrays_allocated(), 2u);
}

TEST_F(PageArrayChainTest, CommittingNothingKeepsTheSlots) {
  ckpt::MemMeter meter;
  PageArrayChain chain(meter, kMaxArrays);
  auto first = chain.reserve();
  ASSERT_TRUE(first.ok());
  chain.commit(0);
  auto second = chain.reserve();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first.value().addrs, second.value().addrs);
  EXPECT_EQ(first.value().pages, second.value().pages);
  EXPECT_TRUE(chain.empty());
  EXPECT_TRUE(contents(chain).empty());
}

TEST_F(PageArrayChainTest, ReleasedArraysAreReusedWithoutAllocating) {
  ckpt::MemMeter meter;
  PageArrayChain chain(meter, kMaxArrays);
  ASSERT_TRUE(add_pages(chain, 1024).ok());
  chain.release();
  const uint64_t allocations = fake::heap::total_allocations();
  ASSERT_TRUE(add_pages(chain, 1000, kBase + (1ull << 30)).ok());
  EXPECT_EQ(fake::heap::total_allocations(), allocations);
  EXPECT_EQ(chain.arrays_allocated(), 2u);
  const auto held = contents(chain);
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0].front(), kBase + (1ull << 30)) << "no stale entry from the first batch";
  EXPECT_EQ(held[1].size(), 1000u - kPerArray);
}

TEST_F(PageArrayChainTest, GrowsPastWhatItReuses) {
  ckpt::MemMeter meter;
  PageArrayChain chain(meter, kMaxArrays);
  ASSERT_TRUE(add_pages(chain, 100).ok());
  chain.release();
  ASSERT_TRUE(add_pages(chain, 1500).ok());
  EXPECT_EQ(chain.arrays_allocated(), 3u);
  EXPECT_EQ(contents(chain).size(), 3u);
  chain.release();
  ASSERT_TRUE(add_pages(chain, 10).ok());
  EXPECT_EQ(contents(chain).size(), 1u) << "empty arrays after the batch are not visited";
}

TEST_F(PageArrayChainTest, DestructorDropsEveryReference) {
  ckpt::MemMeter meter;
  {
    PageArrayChain chain(meter, kMaxArrays);
    ASSERT_TRUE(add_pages(chain, 700).ok());
  }
  EXPECT_TRUE(kernel().leftovers().empty()) << joined(kernel().leftovers());
  EXPECT_EQ(meter.current(), 0u);
}

TEST_F(PageArrayChainTest, ForEachStopsAtTheFirstFailure) {
  ckpt::MemMeter meter;
  PageArrayChain chain(meter, kMaxArrays);
  ASSERT_TRUE(add_pages(chain, 1500).ok());
  int visits = 0;
  const ckpt::Status status = chain.for_each_array([&](const uint64_t*, ckpt_page_ref* const*, uint32_t) {
    return ++visits == 2 ? ckpt::error(EPIPE) : ckpt::kOk;
  });
  EXPECT_EQ(status.error(), -EPIPE);
  EXPECT_EQ(visits, 2);
}

// Each of an array's three allocations fails in turn: -ENOMEM, nothing
// charged for the array that failed, nothing leaked.
TEST_F(PageArrayChainTest, AllocationFailureAtEachSite) {
  const uint64_t charge = array_charge();
  for (long nth = 0;; nth++) {
    SCOPED_TRACE("allocation " + std::to_string(nth) + " fails");
    ckpt::MemMeter meter;
    ckpt::Status status;
    uint32_t arrays = 0;
    {
      PageArrayChain chain(meter, kMaxArrays);
      fake::heap::fail_nth(nth);
      status = add_pages(chain, 1100);
      arrays = chain.arrays_allocated();
      EXPECT_EQ(meter.current(), arrays * charge);
    }
    const long injected = fake::heap::fail_nth(-1);
    EXPECT_EQ(meter.current(), 0u);
    EXPECT_EQ(fake::heap::live_allocations(), 0u);
    EXPECT_TRUE(kernel().leftovers().empty()) << joined(kernel().leftovers());
    if (!injected) {
      EXPECT_TRUE(status.ok());
      EXPECT_EQ(nth, 9) << "three arrays of three allocations each";
      break;
    }
    EXPECT_EQ(status.error(), -ENOMEM);
    EXPECT_EQ(arrays, uint32_t(nth / 3));
  }
}

}  // namespace
