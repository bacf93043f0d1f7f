// SPDX-License-Identifier: GPL-2.0
//
// Records an architecture adds to the image (arch/<arch>/).
#pragma once

#include <ckpt/bridge.h>

#include "kbuffer.h"
#include "record_writer.h"
#include "result.h"

namespace ckpt {

// The THREAD records of every thread of `task`'s group, in the image's
// order; *written says how many.
Status write_threads(RecordWriter& writer, ckpt_task_ref* task, MemMeter& meter, uint32_t* written);

// The VDSO record, before MM: the bytes of the target's vDSO (none if it
// has no vDSO).
Status write_vdso(RecordWriter& writer, ckpt_mm_ref* mm, MemMeter& meter);

// The mm context record that follows the VMAs (x86: CKPT_REC_LDT).
Status write_mm_context(RecordWriter& writer, ckpt_mm_ref* mm, MemMeter& meter);

}  // namespace ckpt
