// SPDX-License-Identifier: GPL-2.0
//
// The x86 VDSO record (format 1.3): the target's vDSO, whose ELF symbol
// table tells a restore on another kernel where the process's C library
// will call.  Read into one buffer of the vDSO's size (8 KiB on x86-64),
// written, freed before the page batches exist.
#include <ckpt/bridge.h>
#include <linux/ckpt.h>

#include "arch.h"
#include "kbuffer.h"
#include "record_writer.h"
#include "result.h"

namespace ckpt {

Status write_vdso(RecordWriter& writer, ckpt_mm_ref* mm, MemMeter& meter) {
  __u64 start = 0;
  __u32 size = 0;
  int ret = ckpt_vdso_copy(mm, nullptr, 0, &start, &size);
  if (ret != -kEOVERFLOW) {
    CKPT_TRY(Status::from_return(ret));
    return kOk;  // no vDSO: no record
  }
  // A vDSO this large is not one a restore could use; the image is whole
  // without it (a restore on the same kernel needs none).
  if (size > CKPT_VDSO_MAX_SIZE) return kOk;
  CKPT_TRY_ASSIGN(KBuffer bytes, KBuffer::allocate(meter, size));
  CKPT_TRY(Status::from_return(ckpt_vdso_copy(mm, bytes.data(), size, &start, &size)));
  if (!size) return kOk;  // a live target unmapped it meanwhile
  ckpt_vdso rec{};
  rec.start = start;
  rec.size = size;
  const Chunk chunks[] = {{&rec, sizeof(rec)}, {bytes.data(), size}};
  return writer.write(CKPT_REC_VDSO, chunks, 2);
}

}  // namespace ckpt
