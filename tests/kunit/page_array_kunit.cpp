// SPDX-License-Identifier: GPL-2.0
//
// The page-array chain: growth, reuse, boundaries, and that every page
// reference it takes is given back.
#include "kt_test.h"
#include "page_array.h"

namespace {

using ckpt::MemMeter;
using ckpt::PageArrayChain;
constexpr uint32_t kPerArray = PageArrayChain::kEntriesPerArray;

// Real pages the test holds one reference on; the chain gets another.
class TestPages {
 public:
  explicit TestPages(uint32_t count) : count_(count) {
    ckpt::AllocChecker ac;
    pages_ = new (&ac) ckpt_page_ref*[count];
    if (!ac.check()) {
      count_ = 0;
      return;
    }
    for (uint32_t i = 0; i < count; i++) {
      pages_[i] = ckpt_kt_page_alloc();
      if (!pages_[i]) {
        count_ = i;
        return;
      }
    }
  }
  ~TestPages() {
    for (uint32_t i = 0; i < count_; i++) ckpt_kt_page_free(pages_[i]);
    delete[] pages_;
  }
  bool ok(uint32_t wanted) const { return count_ == wanted; }
  ckpt_page_ref* operator[](uint32_t i) const { return pages_[i]; }
  // Every page back to the test's single reference?
  bool all_released() const {
    for (uint32_t i = 0; i < count_; i++)
      if (ckpt_kt_page_refcount(pages_[i]) != 1) return false;
    return true;
  }

 private:
  ckpt_page_ref** pages_ = nullptr;
  uint32_t count_ = 0;
};

constexpr uint64_t kBase = 0x7f0000000000ull;

// Appends pages [from, to) of `pages` at kBase + i pages, as the scanner
// does: reserve, fill in place, commit.
ckpt::Status append(PageArrayChain& chain, const TestPages& pages, uint32_t from, uint32_t to) {
  while (from < to) {
    CKPT_TRY_ASSIGN(PageArrayChain::Slots slots, chain.reserve());
    const uint32_t n = ckpt::min(slots.room, to - from);
    for (uint32_t i = 0; i < n; i++) {
      ckpt_kt_page_get(pages[from + i]);
      slots.pages[i] = pages[from + i];
      slots.addrs[i] = kBase + uint64_t(from + i) * ckpt::kPageSize;
    }
    chain.commit(n);
    from += n;
  }
  return ckpt::kOk;
}

void expect_shape(kunit* test, PageArrayChain& chain, const TestPages& pages, uint32_t count,
                  uint32_t arrays) {
  KT_ASSERT_OK(append(chain, pages, 0, count));
  KT_EXPECT_EQ(chain.size(), count);
  KT_EXPECT_EQ(chain.arrays_allocated(), arrays);
  chain.release();
  KT_EXPECT_TRUE(pages.all_released());
  KT_EXPECT_EQ(chain.size(), 0u);
}

}  // namespace

KT_CASE(page_array, empty_chain) {
  MemMeter meter;
  PageArrayChain chain(meter, 4);
  KT_EXPECT_TRUE(chain.empty());
  KT_EXPECT_EQ(chain.arrays_allocated(), 0u);
  KT_EXPECT_EQ(chain.capacity(), 4 * kPerArray);
  chain.release();
  uint32_t visited = 0;
  KT_ASSERT_OK(chain.for_each_array([&](const uint64_t*, ckpt_page_ref* const*, uint32_t) {
    visited++;
    return ckpt::kOk;
  }));
  KT_EXPECT_EQ(visited, 0u);
  KT_EXPECT_EQ(meter.current(), 0u);
}

KT_CASE(page_array, one_page) {
  TestPages pages(1);
  KT_ASSERT_TRUE(pages.ok(1));
  MemMeter meter;
  PageArrayChain chain(meter, 4);
  KT_ASSERT_OK(append(chain, pages, 0, 1));
  KT_EXPECT_EQ(ckpt_kt_page_refcount(pages[0]), 2);
  KT_EXPECT_EQ(chain.size(), 1u);
  KT_EXPECT_EQ(chain.arrays_allocated(), 1u);
  chain.release();
  KT_EXPECT_EQ(ckpt_kt_page_refcount(pages[0]), 1);
}

KT_CASE(page_array, exactly_one_array) {
  TestPages pages(kPerArray);
  KT_ASSERT_TRUE(pages.ok(kPerArray));
  MemMeter meter;
  PageArrayChain chain(meter, 4);
  expect_shape(test, chain, pages, kPerArray, 1);
}

KT_CASE(page_array, one_more_than_an_array) {
  TestPages pages(kPerArray + 1);
  KT_ASSERT_TRUE(pages.ok(kPerArray + 1));
  MemMeter meter;
  PageArrayChain chain(meter, 4);
  expect_shape(test, chain, pages, kPerArray + 1, 2);
}

KT_CASE(page_array, full_chain_refuses_more) {
  TestPages pages(2 * kPerArray);
  KT_ASSERT_TRUE(pages.ok(2 * kPerArray));
  MemMeter meter;
  PageArrayChain chain(meter, 2);
  KT_ASSERT_OK(append(chain, pages, 0, 2 * kPerArray));
  KT_EXPECT_TRUE(chain.full());
  KT_EXPECT_EQ(chain.reserve().status().error(), -ckpt::kENOSPC);
  KT_EXPECT_EQ(chain.arrays_allocated(), 2u);
  chain.release();
  KT_EXPECT_TRUE(pages.all_released());
}

KT_CASE(page_array, reuse_after_release) {
  TestPages pages(3 * kPerArray);
  KT_ASSERT_TRUE(pages.ok(3 * kPerArray));
  MemMeter meter;
  PageArrayChain chain(meter, 4);
  KT_ASSERT_OK(append(chain, pages, 0, 3 * kPerArray));
  const uint64_t peak = meter.peak();
  chain.release();
  // A smaller batch, then a larger one: no array is allocated again.
  KT_ASSERT_OK(append(chain, pages, 0, 10));
  chain.release();
  KT_ASSERT_OK(append(chain, pages, 0, 3 * kPerArray));
  KT_EXPECT_EQ(chain.arrays_allocated(), 3u);
  KT_EXPECT_EQ(meter.peak(), peak);
  chain.release();
  KT_EXPECT_TRUE(pages.all_released());
}

KT_CASE(page_array, release_drops_every_reference) {
  TestPages pages(1000);
  KT_ASSERT_TRUE(pages.ok(1000));
  MemMeter meter;
  PageArrayChain chain(meter, 4);
  KT_ASSERT_OK(append(chain, pages, 0, 1000));
  for (uint32_t i = 0; i < 1000; i += 111) KT_EXPECT_EQ(ckpt_kt_page_refcount(pages[i]), 2);
  chain.release();
  KT_EXPECT_TRUE(pages.all_released());
}

KT_CASE(page_array, destructor_drops_references) {
  TestPages pages(600);
  KT_ASSERT_TRUE(pages.ok(600));
  MemMeter meter;
  {
    PageArrayChain chain(meter, 4);
    KT_ASSERT_OK(append(chain, pages, 0, 600));
  }
  KT_EXPECT_TRUE(pages.all_released());
  KT_EXPECT_EQ(meter.current(), 0u);
}

KT_CASE(page_array, arrays_in_address_order) {
  TestPages pages(2 * kPerArray + 5);
  KT_ASSERT_TRUE(pages.ok(2 * kPerArray + 5));
  MemMeter meter;
  PageArrayChain chain(meter, 4);
  KT_ASSERT_OK(append(chain, pages, 0, 2 * kPerArray + 5));
  uint32_t seen = 0;
  uint32_t arrays = 0;
  KT_ASSERT_OK(chain.for_each_array([&](const uint64_t* addrs, ckpt_page_ref* const* refs, uint32_t n) {
    arrays++;
    for (uint32_t i = 0; i < n; i++, seen++) {
      KT_EXPECT_EQ(addrs[i], kBase + uint64_t(seen) * ckpt::kPageSize);
      KT_EXPECT_TRUE(refs[i] == pages[seen]);
    }
    return ckpt::kOk;
  }));
  KT_EXPECT_EQ(seen, 2 * kPerArray + 5);
  KT_EXPECT_EQ(arrays, 3u);
}

KT_CASE(page_array, meter_returns_to_zero) {
  TestPages pages(kPerArray + 1);
  KT_ASSERT_TRUE(pages.ok(kPerArray + 1));
  MemMeter meter;
  {
    PageArrayChain chain(meter, 4);
    KT_ASSERT_OK(append(chain, pages, 0, kPerArray + 1));
    // Two arrays: each a header and two page-sized tables.
    KT_EXPECT_LE(meter.current(), 2 * (3 * ckpt::kPageSize));
    KT_EXPECT_LE(2 * (2 * ckpt::kPageSize), meter.current());
  }
  KT_EXPECT_EQ(meter.current(), 0u);
}
