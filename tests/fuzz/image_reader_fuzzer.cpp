// SPDX-License-Identifier: GPL-2.0
//
// libFuzzer target: arbitrary bytes through the CLI's streaming image
// reader (tools/ckpt/src/image_reader.cpp) with a show-like visitor; once
// as given, and once with the checksums repaired so that mutations reach
// the checks behind them.  The input is fed in chunks of varying size, as
// a pipe would deliver it.  A crash, a sanitizer report or an accepted
// image that breaks the format's rules (ShowVisitor) is a finding.  The
// same bytes also go through ckpt restore's prelude reader, which must
// never take a byte past MM's header.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "byte_source.h"
#include "crc_repair.h"
#include "image_reader.h"
#include "restore_plan.h"
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
  size_t given() const { return pos_; }

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

// ckpt restore's reading: up to MM's header exactly, then the plan's checks.
void read_prelude(const uint8_t* data, size_t size, size_t chunk) {
  TrickleSource source(data, size, chunk);
  auto plan = ckpt::read_restore_plan(source);
  if (!plan) return;
  const uint64_t want = plan->prelude.mm_offset + sizeof(ckpt_rec_hdr);
  if (source.given() != want || plan->bytes.size() != want ||
      std::memcmp(plan->bytes.data(), data, size_t(want)) != 0)
    __builtin_trap();  // read past MM's header, or kept other bytes
  (void)ckpt::restore_refusals(*plan, false);
  (void)ckpt::restore_warnings(*plan);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  read_image(data, size, SIZE_MAX);
  std::vector<uint8_t> repaired(data, data + size);
  if (ckpt_fuzz::repair_checksums(repaired)) {
    read_image(repaired.data(), repaired.size(), 1 + size % 4093);
    read_prelude(repaired.data(), repaired.size(), 1 + size % 61);
  }
  read_prelude(data, size, SIZE_MAX);
  return 0;
}
