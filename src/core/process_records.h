// SPDX-License-Identifier: GPL-2.0
//
// What the threads of the target share (format 1.1): the PROCESS record
// and the process's queue of pending signals (1.4), then one FILE record
// per open descriptor.  Both describe the group
// through its first live thread, the leader unless it has exited.
#pragma once

#include <ckpt/bridge.h>

#include "kbuffer.h"
#include "record_writer.h"
#include "result.h"

namespace ckpt {

Status write_process(RecordWriter& writer, ckpt_task_ref* task, ckpt_mm_ref* mm, MemMeter& meter);

Status write_files(RecordWriter& writer, ckpt_task_ref* task, MemMeter& meter);

// A SIGQUEUE record (format 1.4) for a queue of pending signals that is
// not empty: the thread's own (`shared` false, `tid` its THREAD record's),
// or the process's (`shared` true, `tid` 0).
Status write_sigqueue(RecordWriter& writer, ckpt_task_ref* thread, bool shared, int32_t tid, MemMeter& meter);

}  // namespace ckpt
