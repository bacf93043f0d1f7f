// SPDX-License-Identifier: GPL-2.0
//
// Whole dumps through ckpt_checkpoint(), and the check that an image says
// exactly what the fake target holds.
#pragma once

#include <linux/ckpt.h>

#include <vector>

#include "fake_bridge.h"
#include "image_decode.h"

namespace host_test {

struct DumpResult {
  int ret;
  ckpt_checkpoint_args args;
};

// The ioctl's work: CKPT_IOC_CHECKPOINT of `pid` into `fd`.
DumpResult run_dump(int32_t pid, int32_t fd, uint32_t flags = 0);

// Every record of `image` against the target, page by page: HEAD, TASK, MM,
// one VMA record per VMA with exactly the pages the format's rules select
// and their contents, the LDT and the TAIL.  Reports with gtest.
void expect_image_matches(const DecodedImage& image, const fake::Task& task, const fake::Mm& mm, bool live = false);

// Every PAGES record but a VMA's last holds PageBatch::kMaxPages pages.
void expect_batches_bounded(const DecodedImage& image);

}  // namespace host_test
