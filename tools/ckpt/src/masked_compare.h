// Comparing a page while ignoring chosen byte ranges of the address space.
//
// `verify --pid` must not count the bytes the kernel rewrites on its own
// (each thread's rseq area) as differences, and must excuse nothing else:
// every byte outside the ranges is compared exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ckpt {

// [start, end) in the target's address space.
struct ByteRange {
    uint64_t start = 0;
    uint64_t end = 0;
};

// Sorted, disjoint ranges.
class ExcludedRanges {
public:
    ExcludedRanges() = default;
    // Sorts, drops empty ranges and merges overlapping or adjacent ones, so
    // that no byte is counted twice.
    explicit ExcludedRanges(std::vector<ByteRange> ranges);

    bool empty() const { return ranges_.empty(); }
    const std::vector<ByteRange>& ranges() const { return ranges_; }
    // The parts of the ranges inside [start, start + len), in order.
    std::vector<ByteRange> within(uint64_t start, uint64_t len) const;

private:
    std::vector<ByteRange> ranges_;
};

struct PageComparison {
    bool matches = true;              // every byte outside the ranges is equal
    size_t first_difference = 0;      // offset of the first unequal byte outside them
    uint64_t excluded_bytes = 0;      // bytes of the page inside the ranges
    uint64_t excluded_differing = 0;  // of those, the ones that differ
};

// Compares the page at addr as the image has it with the process's copy.
PageComparison compare_page(uint64_t addr, const uint8_t* image, const uint8_t* process, size_t size,
                            const ExcludedRanges& excluded);

}  // namespace ckpt
