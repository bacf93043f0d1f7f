// SPDX-License-Identifier: GPL-2.0
//
// XXH64 and the record checksum in the kernel build: the same answers as
// the xxHash reference (python3-xxhash), and the module's timed choice.
#include "checksum.h"
#include "kt_test.h"
#include "xxh64.h"

namespace {

uint64_t xxh64_of(const void* data, size_t len) {
  ckpt::Xxh64 h;
  h.update(data, len);
  return h.digest();
}

}  // namespace

KT_CASE(checksum, xxh64_check_value) {
  KT_EXPECT_EQ(xxh64_of("123456789", 9), 0x8CB841DB40E6AE83ull);
  KT_EXPECT_EQ(xxh64_of("", 0), 0xEF46DB3751D8E999ull);
}

KT_CASE(checksum, xxh64_streaming_split) {
  uint8_t buf[131];
  ckpt::kt::fill_pattern(buf, sizeof(buf), 0x1000, 1);
  const uint64_t whole = xxh64_of(buf, sizeof(buf));
  for (size_t split = 0; split <= sizeof(buf); split++) {
    ckpt::Xxh64 h;
    h.update(buf, split);
    h.update(buf + split, sizeof(buf) - split);
    KT_EXPECT_EQ(h.digest(), whole);
  }
}

KT_CASE(checksum, record_checksum_low_bits) {
  ckpt::RecordChecksum xxh(ckpt::RecordChecksum::kXxh64), crc(ckpt::RecordChecksum::kCrc32c);
  xxh.update("123456789", 9);
  crc.update("123456789", 9);
  KT_EXPECT_EQ(xxh.value(), 0x40E6AE83u);
  KT_EXPECT_EQ(crc.value(), 0xE3069283u);
}

// An explicit request wins; the timed choice is one of the two, and
// consistent with the rule (CRC-32C unless it costs over 1.5 times XXH64).
KT_CASE(checksum, default_choice) {
  const uint32_t was = ckpt::RecordChecksum::default_algorithm();
  auto choice = ckpt::RecordChecksum::choose_default(ckpt::RecordChecksum::kXxh64, ckpt_cpu_has_crc32c());
  KT_EXPECT_EQ(choice.algorithm, ckpt::RecordChecksum::kXxh64);
  KT_EXPECT_EQ(ckpt::RecordChecksum::default_algorithm(), ckpt::RecordChecksum::kXxh64);
  choice = ckpt::RecordChecksum::choose_default(~0u, ckpt_cpu_has_crc32c());
  const uint64_t crc_ns = choice.crc.hardware ? choice.crc.hardware_ns : choice.crc.software_ns;
  KT_EXPECT_EQ(choice.algorithm,
               2 * crc_ns > 3 * choice.xxh64_ns ? ckpt::RecordChecksum::kXxh64 : ckpt::RecordChecksum::kCrc32c);
  ckpt::RecordChecksum::choose_default(was, ckpt_cpu_has_crc32c());
}
