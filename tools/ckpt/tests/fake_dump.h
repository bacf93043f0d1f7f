// Test-only stand-in for the kernel module: builds an image of a (stopped)
// process from /proc, following the format's rules for which pages to
// include.  Lets `verify --pid` be tested on a host without ckpt.ko.
#pragma once

#include <linux/ckpt.h>
#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "expected.h"

namespace ckpt::test {

struct FakeDumpOptions {
    uint32_t pages_per_record = 2048;
    uint64_t drop_page = 0;              // leave out the page at this address
    bool include_clean_file_pages = false;
    uint64_t drop_vma_containing = 0;    // leave out the VMA with this address
    uint64_t flip_vma_flags_at = 0;      // in the VMA with this address,
    uint64_t flip_vma_flags = 0;         // flip these vm_flags
    uint8_t checksum = CKPT_CSUM_CRC32C; // HEAD's checksum (format 1.2)
};

Expected<std::vector<uint8_t>> fake_dump(pid_t pid, const FakeDumpOptions& options = {});

}  // namespace ckpt::test
