// SPDX-License-Identifier: GPL-2.0
//
// PAGES records of what a range of the test's address space holds, as a
// dump writes them: the dump and restore cases build their images with it.
#pragma once

#include <stdint.h>

#include "kbuffer.h"
#include "record_writer.h"
#include "result.h"

namespace ckpt::kt {

// Scans [start, end) of `mm` as anonymous memory and writes the pages
// that hold data.
Status write_scanned_pages(RecordWriter& writer, ckpt_mm_ref* mm, uint64_t start, uint64_t end, MemMeter& meter);

}  // namespace ckpt::kt
