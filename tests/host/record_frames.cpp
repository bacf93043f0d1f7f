// SPDX-License-Identifier: GPL-2.0
#include "record_frames.h"

#include <cstddef>
#include <cstring>

namespace host_test {

// XXH64, seed 0, straight from doc/xxhash_spec.md of the xxHash sources.
uint64_t reference_xxh64(const void* data, size_t len) {
  constexpr uint64_t p1 = 11400714785074694791ull, p2 = 14029467366897019727ull,
                     p3 = 1609587929392839161ull, p4 = 9650029242287828579ull,
                     p5 = 2870177450012600261ull;
  auto rotl = [](uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  auto word = [](const uint8_t* p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
  };
  auto round = [&](uint64_t acc, uint64_t in) { return rotl(acc + in * p2, 31) * p1; };
  const auto* p = static_cast<const uint8_t*>(data);
  const uint8_t* const end = p + len;
  uint64_t h;
  if (len >= 32) {
    uint64_t acc[4] = {p1 + p2, p2, 0, 0 - p1};
    for (; end - p >= 32; p += 32)
      for (int lane = 0; lane < 4; lane++) acc[lane] = round(acc[lane], word(p + 8 * lane, 8));
    h = rotl(acc[0], 1) + rotl(acc[1], 7) + rotl(acc[2], 12) + rotl(acc[3], 18);
    for (uint64_t a : acc) h = (h ^ round(0, a)) * p1 + p4;
  } else {
    h = p5;
  }
  h += len;
  for (; end - p >= 8; p += 8) h = rotl(h ^ round(0, word(p, 8)), 27) * p1 + p4;
  if (end - p >= 4) {
    h = rotl(h ^ word(p, 4) * p1, 23) * p2 + p3;
    p += 4;
  }
  for (; p < end; p++) h = rotl(h ^ *p * p5, 11) * p1;
  h = (h ^ (h >> 33)) * p2;
  h = (h ^ (h >> 29)) * p3;
  return h ^ (h >> 32);
}

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
  bool xxh64 = false;  // HEAD's own checksum is CRC-32C
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
    std::vector<uint8_t> covered(16 + frame.hdr.len);
    std::memcpy(covered.data(), &frame.hdr, 16);
    std::memcpy(covered.data() + 16, frame.payload, frame.hdr.len);
    frame.computed_crc = xxh64 ? uint32_t(reference_xxh64(covered.data(), covered.size()))
                               : reference_crc32c(covered.data(), covered.size());
    if (frames.empty() && frame.hdr.type == CKPT_REC_HEAD && frame.hdr.len >= sizeof(ckpt_head))
      xxh64 = frame.payload[offsetof(ckpt_head, checksum)] == CKPT_CSUM_XXH64;
    frames.push_back(frame);
    if (!error->empty()) break;
    offset = payload + padded;
  }
  return frames;
}

}  // namespace host_test
