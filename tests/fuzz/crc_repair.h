// SPDX-License-Identifier: GPL-2.0
//
// Almost every mutation of an image breaks a CRC, and the reader stops at
// the first bad one.  Repairing the checksums of a mutated input lets the
// fuzzer reach the checks behind them: record order, layout, page
// placement, the TAIL's totals.
#pragma once

#include <cstdint>
#include <vector>

namespace ckpt_fuzz {

// Walks the record framing of `bytes` as far as it holds together and
// rewrites every record's crc, and the TAIL's crc chain, to match.
// Returns whether anything changed.
bool repair_checksums(std::vector<uint8_t>& bytes);

}  // namespace ckpt_fuzz
