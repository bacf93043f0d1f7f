// SPDX-License-Identifier: GPL-2.0
#include "record_frames.h"

#include <cstring>

namespace host_test {

uint32_t reference_crc32c(const void* data, size_t len, uint32_t crc) {
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  while (len--) {
    crc ^= *p++;
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
  }
  return ~crc;
}

std::vector<Frame> split_frames(const std::vector<uint8_t>& bytes, std::string* error) {
  std::vector<Frame> frames;
  error->clear();
  uint64_t offset = 0;
  while (offset < bytes.size()) {
    if (offset % 8) {
      *error = "record at unaligned offset " + std::to_string(offset);
      break;
    }
    if (bytes.size() - offset < sizeof(ckpt_rec_hdr)) {
      *error = "truncated header at " + std::to_string(offset);
      break;
    }
    Frame frame{};
    frame.offset = offset;
    std::memcpy(&frame.hdr, &bytes[offset], sizeof(frame.hdr));
    const uint64_t payload = offset + sizeof(ckpt_rec_hdr);
    const uint64_t padded = (frame.hdr.len + 7) & ~uint64_t(7);
    if (frame.hdr.len > bytes.size() || bytes.size() - payload < padded) {
      *error = "truncated payload at " + std::to_string(offset);
      break;
    }
    frame.payload = &bytes[payload];
    for (uint64_t i = frame.hdr.len; i < padded; i++) {
      if (bytes[payload + i]) *error = "non-zero padding after record at " + std::to_string(offset);
    }
    frame.computed_crc = reference_crc32c(&frame.hdr, 16);
    frame.computed_crc = reference_crc32c(frame.payload, frame.hdr.len, frame.computed_crc);
    frames.push_back(frame);
    if (!error->empty()) break;
    offset = payload + padded;
  }
  return frames;
}

}  // namespace host_test
