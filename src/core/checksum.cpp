// SPDX-License-Identifier: GPL-2.0
#include "checksum.h"

#include "pass_timing.h"

namespace ckpt {
namespace {

// Set at module load (choose_default), before any dump; read-only after.
uint32_t g_default_algorithm = RecordChecksum::kCrc32c;

uint32_t xxh64_pass(uint32_t sink, const uint8_t* p, size_t len) {
  Xxh64 h;
  h.update(p, len);
  return sink ^ uint32_t(h.digest());
}

}  // namespace

uint32_t RecordChecksum::default_algorithm() { return g_default_algorithm; }

RecordChecksum::Choice RecordChecksum::choose_default(uint32_t requested, bool cpu_has_crc32) {
  Choice choice{};
  choice.crc = Crc32c::choose_fastest(cpu_has_crc32);
  choice.xxh64_ns = time_per_pass_ns(Crc32c::timing_sample(), choice.crc.sample_bytes, xxh64_pass);
  const uint64_t crc_ns = choice.crc.hardware ? choice.crc.hardware_ns : choice.crc.software_ns;
  if (known(requested))
    choice.algorithm = requested;
  else
    choice.algorithm = 2 * crc_ns > 3 * choice.xxh64_ns ? kXxh64 : kCrc32c;
  g_default_algorithm = choice.algorithm;
  return choice;
}

}  // namespace ckpt
