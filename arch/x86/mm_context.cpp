// SPDX-License-Identifier: GPL-2.0
//
// The x86 mm context record: the LDT entries a process installed with
// modify_ldt(2), copied under the context lock and written after it is
// dropped (the seed returned with the lock held when the write failed).
#include <ckpt/bridge.h>
#include <linux/ckpt.h>

#include "arch.h"
#include "kbuffer.h"
#include "record_writer.h"
#include "result.h"

namespace ckpt {

Status write_mm_context(RecordWriter& writer, ckpt_mm_ref* mm, MemMeter& meter) {
  const uint32_t entry_size = ckpt_ldt_entry_size();
  KBuffer entries;
  uint32_t nr = 0;
  int ret = ckpt_ldt_copy(mm, nullptr, 0, &nr);
  // The LDT can only grow between the two calls if the target runs (a live
  // dump); a few tries settle it.
  for (int attempt = 0; ret == -kEOVERFLOW && attempt < 4; attempt++) {
    CKPT_TRY_ASSIGN(entries, KBuffer::allocate(meter, size_t(nr) * entry_size));
    ret = ckpt_ldt_copy(mm, entries.data(), nr, &nr);
  }
  CKPT_TRY(Status::from_return(ret));

  ckpt_ldt ldt{};
  ldt.entry_size = entry_size;
  ldt.nr = nr;
  const Chunk chunks[] = {{&ldt, sizeof(ldt)}, {entries.data(), size_t(nr) * entry_size}};
  return writer.write(CKPT_REC_LDT, chunks, 2);
}

}  // namespace ckpt
