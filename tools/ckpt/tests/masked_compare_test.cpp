#include "masked_compare.h"

#include <gtest/gtest.h>

#include <vector>

namespace ckpt {
namespace {

constexpr uint64_t kPage = 0x7f0000001000;
constexpr size_t kSize = 4096;

// Two copies of a page; the test changes bytes of the process's copy.
struct Pages {
    std::vector<uint8_t> image = std::vector<uint8_t>(kSize, 0xAB);
    std::vector<uint8_t> process = std::vector<uint8_t>(kSize, 0xAB);

    void change(size_t offset) { process[offset] ^= 0xFF; }
    PageComparison compare(const ExcludedRanges& excluded) const {
        return compare_page(kPage, image.data(), process.data(), kSize, excluded);
    }
};

ExcludedRanges one_range(uint64_t start, uint64_t end) { return ExcludedRanges({{start, end}}); }

TEST(MaskedCompare, EqualPagesMatch) {
    Pages p;
    PageComparison c = p.compare({});
    EXPECT_TRUE(c.matches);
    EXPECT_EQ(c.excluded_bytes, 0u);
}

TEST(MaskedCompare, WithoutRangesTheFirstDifferenceIsReported) {
    Pages p;
    p.change(100);
    p.change(17);
    PageComparison c = p.compare({});
    EXPECT_FALSE(c.matches);
    EXPECT_EQ(c.first_difference, 17u);
}

TEST(MaskedCompare, DifferencesInsideARangeAreExcused) {
    Pages p;
    p.change(0x960);
    p.change(0x97f);
    PageComparison c = p.compare(one_range(kPage + 0x960, kPage + 0x980));
    EXPECT_TRUE(c.matches);
    EXPECT_EQ(c.excluded_bytes, 32u);
    EXPECT_EQ(c.excluded_differing, 2u);
}

TEST(MaskedCompare, BytesRightNextToARangeStillCount) {
    const ExcludedRanges area = one_range(kPage + 0x960, kPage + 0x980);
    for (size_t offset : {size_t(0x95f), size_t(0x980)}) {
        Pages p;
        p.change(0x970);
        p.change(offset);
        PageComparison c = p.compare(area);
        EXPECT_FALSE(c.matches) << offset;
        EXPECT_EQ(c.first_difference, offset);
        EXPECT_EQ(c.excluded_differing, 1u);
    }
}

TEST(MaskedCompare, FirstDifferenceAfterARangeIsFound) {
    Pages p;
    p.change(0x10);   // excused
    p.change(0x800);  // not
    PageComparison c = p.compare(one_range(kPage, kPage + 0x20));
    EXPECT_FALSE(c.matches);
    EXPECT_EQ(c.first_difference, 0x800u);
}

TEST(MaskedCompare, RangesAreClippedToThePage) {
    Pages p;
    p.change(0);
    p.change(kSize - 1);
    // One range reaching in from the page before, one reaching out past the end.
    ExcludedRanges ranges({{kPage - 8, kPage + 8}, {kPage + kSize - 4, kPage + kSize + 28}});
    PageComparison c = p.compare(ranges);
    EXPECT_TRUE(c.matches);
    EXPECT_EQ(c.excluded_bytes, 12u);
    EXPECT_EQ(c.excluded_differing, 2u);
}

TEST(MaskedCompare, RangesElsewhereChangeNothing) {
    Pages p;
    p.change(5);
    ExcludedRanges ranges({{kPage - 64, kPage}, {kPage + kSize, kPage + kSize + 32}});
    PageComparison c = p.compare(ranges);
    EXPECT_FALSE(c.matches);
    EXPECT_EQ(c.first_difference, 5u);
    EXPECT_EQ(c.excluded_bytes, 0u);
}

TEST(MaskedCompare, SeveralRangesInOnePage) {
    Pages p;
    p.change(0x100);
    p.change(0x300);
    ExcludedRanges ranges({{kPage + 0x300, kPage + 0x320}, {kPage + 0x100, kPage + 0x120}});
    PageComparison c = p.compare(ranges);
    EXPECT_TRUE(c.matches);
    EXPECT_EQ(c.excluded_bytes, 64u);
    EXPECT_EQ(c.excluded_differing, 2u);
    p.change(0x200);
    c = p.compare(ranges);
    EXPECT_FALSE(c.matches);
    EXPECT_EQ(c.first_difference, 0x200u);
}

TEST(MaskedCompare, OverlappingRangesAreCountedOnce) {
    ExcludedRanges ranges({{100, 132}, {120, 152}, {152, 160}, {200, 200}, {300, 290}});
    ASSERT_EQ(ranges.ranges().size(), 1u);
    EXPECT_EQ(ranges.ranges()[0].start, 100u);
    EXPECT_EQ(ranges.ranges()[0].end, 160u);
}

TEST(MaskedCompare, WithinClipsAndOrders) {
    ExcludedRanges ranges({{500, 600}, {0, 10}, {90, 110}});
    std::vector<ByteRange> parts = ranges.within(100, 450);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].start, 100u);
    EXPECT_EQ(parts[0].end, 110u);
    EXPECT_EQ(parts[1].start, 500u);
    EXPECT_EQ(parts[1].end, 550u);
    EXPECT_TRUE(ranges.within(10, 80).empty());
}

TEST(MaskedCompare, PageAtTheTopOfTheAddressSpace) {
    const uint64_t top = ~uint64_t(0) - kSize + 1;
    ExcludedRanges ranges({{top + 16, ~uint64_t(0)}});
    std::vector<ByteRange> parts = ranges.within(top, kSize);
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].end - parts[0].start, kSize - 17);
}

}  // namespace
}  // namespace ckpt
