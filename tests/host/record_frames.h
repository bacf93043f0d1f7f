// SPDX-License-Identifier: GPL-2.0
//
// A deliberately small, independent reading of the record framing, for
// streams that are not whole images (the record writer's tests): split a
// stream into records and check what every record must satisfy, with a
// bit-at-a-time CRC-32C and a one-shot XXH64 that share nothing with the
// implementations.
#pragma once

#include <linux/ckpt.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace host_test {

uint32_t reference_crc32c(const void* data, size_t len, uint32_t crc = 0);
uint64_t reference_xxh64(const void* data, size_t len);

struct Frame {
  uint64_t offset;        // of the header, in the stream
  ckpt_rec_hdr hdr;
  const uint8_t* payload;
  uint32_t computed_crc;  // over header bytes 0..15 and the payload, with
                          // the algorithm a HEAD first in the stream names
};

// Splits `bytes` into records; on a framing error (truncation, non-zero
// padding, bad alignment) returns what it had and sets *error.
std::vector<Frame> split_frames(const std::vector<uint8_t>& bytes, std::string* error);

}  // namespace host_test
