// SPDX-License-Identifier: GPL-2.0
//
// Which raw x86 segment descriptors an image's LDT may hold: exactly those
// modify_ldt(2) creates (fill_ldt() in arch/x86/include/asm/desc.h), so a
// restorer can install each one again and no image can ask for more than
// the syscall gives (a system or DPL 0 descriptor, a long-mode segment).
#pragma once

#include <stdint.h>

namespace ckpt {

// fill_ldt() always sets: the accessed type bit, S (code or data), DPL 3;
// and never L.  An all-zero descriptor is a cleared entry.
inline bool ldt_descriptor_installable(uint64_t d) {
  if (d == 0) return true;
  const uint32_t type = uint32_t(d >> 40) & 0xf;
  const bool s = (d >> 44) & 1, present = (d >> 47) & 1, avl = (d >> 52) & 1, l = (d >> 53) & 1,
             db = (d >> 54) & 1, g = (d >> 55) & 1;
  const uint32_t dpl = uint32_t(d >> 45) & 3;
  if (!(type & 1) || !s || dpl != 3 || l) return false;
  const uint32_t contents = type >> 2;  // 0 data, 1 data expand-down, 2 code, 3 conforming code
  if (contents == 3 && present) return false;  // write_ldt() refuses it
  // What LDT_empty() matches is written as zero, never as itself.
  const uint64_t base = ((d >> 16) & 0xffffff) | ((d >> 56) << 24);
  const uint64_t limit = (d & 0xffff) | (((d >> 48) & 0xf) << 16);
  const bool writable_or_readable = type & 2;
  return !(base == 0 && limit == 0 && contents == 0 && !writable_or_readable && !db && !g && !present && !avl);
}

}  // namespace ckpt
