// SPDX-License-Identifier: GPL-2.0
//
// libFuzzer target: arbitrary bytes through the CLI's streaming image
// reader (tools/ckpt/src/image_reader.cpp) with a show-like visitor; once
// as given, and once with the checksums repaired so that mutations reach
// the checks behind them.  The input is fed in chunks of varying size, as
// a pipe would deliver it.  A crash, a sanitizer report or an accepted
// image that breaks the format's rules (ShowVisitor) is a finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "byte_source.h"
#include "crc_repair.h"
#include "image_reader.h"
#include "show_visitor.h"

namespace {

// Hands out at most `chunk` bytes per read, like a pipe.
class TrickleSource final : public ckpt::ByteSource {
 public:
  TrickleSource(const uint8_t* data, size_t size, size_t chunk) : data_(data), size_(size), chunk_(chunk) {}

  ckpt::Expected<size_t> read_some(void* buf, size_t len) override {
    const size_t n = std::min({len, chunk_, size_ - pos_});
    if (n) std::memcpy(buf, data_ + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t chunk_;
  size_t pos_ = 0;
};

void read_image(const uint8_t* data, size_t size, size_t chunk) {
  TrickleSource source(data, size, chunk);
  ckpt::ImageReader reader(source);
  ckpt_fuzz::ShowVisitor visitor;
  auto summary = reader.read(visitor);
  if (summary) visitor.check_accepted(*summary, size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  read_image(data, size, SIZE_MAX);
  std::vector<uint8_t> repaired(data, data + size);
  if (ckpt_fuzz::repair_checksums(repaired)) read_image(repaired.data(), repaired.size(), 1 + size % 4093);
  return 0;
}
