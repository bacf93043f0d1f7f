#include "masked_compare.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace ckpt {
namespace {

// Offset of the first unequal byte in [from, to), or to.
size_t first_unequal(const uint8_t* a, const uint8_t* b, size_t from, size_t to) {
    if (from >= to || std::memcmp(a + from, b + from, to - from) == 0) return to;
    while (a[from] == b[from]) from++;
    return from;
}

// start + len without wrapping past the top of the address space (image
// addresses are data, not trusted).
uint64_t end_of(uint64_t start, uint64_t len) {
    const uint64_t end = start + len;
    return end < start ? std::numeric_limits<uint64_t>::max() : end;
}

}  // namespace

ExcludedRanges::ExcludedRanges(std::vector<ByteRange> ranges) {
    std::sort(ranges.begin(), ranges.end(), [](const ByteRange& a, const ByteRange& b) { return a.start < b.start; });
    for (const ByteRange& r : ranges) {
        if (r.start >= r.end) continue;
        if (!ranges_.empty() && r.start <= ranges_.back().end)
            ranges_.back().end = std::max(ranges_.back().end, r.end);
        else
            ranges_.push_back(r);
    }
}

std::vector<ByteRange> ExcludedRanges::within(uint64_t start, uint64_t len) const {
    const uint64_t end = end_of(start, len);
    std::vector<ByteRange> parts;
    // First range that ends after start; ranges are disjoint, so ends ascend.
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), start,
                               [](uint64_t s, const ByteRange& r) { return s < r.end; });
    for (; it != ranges_.end() && it->start < end; ++it)
        parts.push_back({std::max(it->start, start), std::min(it->end, end)});
    return parts;
}

PageComparison compare_page(uint64_t addr, const uint8_t* image, const uint8_t* process, size_t size,
                            const ExcludedRanges& excluded) {
    PageComparison c;
    size_t cursor = 0;
    auto compare_up_to = [&](size_t to) {
        if (c.matches) {
            const size_t at = first_unequal(image, process, cursor, to);
            if (at < to) {
                c.matches = false;
                c.first_difference = at;
            }
        }
        cursor = to;
    };
    for (const ByteRange& r : excluded.within(addr, size)) {
        const size_t from = size_t(r.start - addr), to = size_t(r.end - addr);
        compare_up_to(from);
        c.excluded_bytes += to - from;
        for (size_t i = from; i < to; i++) c.excluded_differing += image[i] != process[i];
        cursor = to;
    }
    compare_up_to(size);
    return c;
}

}  // namespace ckpt
