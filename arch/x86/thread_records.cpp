// SPDX-License-Identifier: GPL-2.0
//
// The x86 THREAD records: one per thread, the group leader first, then by
// tid, each with its registers, FPU/SSE/AVX state and signal state, and
// after it a RESTART record if it was stopped in a timed wait and a
// SIGQUEUE record if signals are queued for it.  One
// thread is read at a time through one FPU buffer, so kernel memory stays
// the same whatever the thread count.
#include <ckpt/bridge.h>
#include <linux/ckpt.h>

#include "arch.h"
#include "kbuffer.h"
#include "kernel_refs.h"
#include "process_records.h"
#include "record_writer.h"
#include "result.h"

namespace ckpt {

Status write_threads(RecordWriter& writer, ckpt_task_ref* task, MemMeter& meter, uint32_t* written) {
  KBuffer fpu;
  int64_t key = -1;
  *written = 0;
  for (;;) {
    ckpt_task_ref* ref = nullptr;
    __s64 next_key = 0;
    const int ret = ckpt_task_next_thread(task, key, &ref, &next_key);
    if (ret == -kENOENT) return kOk;
    CKPT_TRY(Status::from_return(ret));
    const TaskRef thread(ref);
    key = next_key;

    const size_t fpu_size = ckpt_thread_fpu_size(thread.get());
    if (fpu_size > fpu.size()) {
      CKPT_TRY_ASSIGN(fpu, KBuffer::allocate(meter, fpu_size));
    }
    ckpt_thread record{};
    CKPT_TRY(Status::from_return(ckpt_thread_describe(thread.get(), &record, fpu.data(), uint32_t(fpu.size()))));
    const Chunk chunks[] = {{&record, sizeof(record)}, {fpu.data(), record.xstate_size}};
    CKPT_TRY(writer.write(CKPT_REC_THREAD, chunks, 2));
    // A stopped thread's interrupted timed wait: its deadline (a running
    // thread's registers are stale, and so would the record be).
    ckpt_restart restart{};
    if (!(record.flags & CKPT_THREAD_RUNNING) && ckpt_thread_restart(thread.get(), &restart) > 0) {
      const Chunk chunk[] = {{&restart, sizeof(restart)}};
      CKPT_TRY(writer.write(CKPT_REC_RESTART, chunk, 1));
    }
    CKPT_TRY(write_sigqueue(writer, thread.get(), false, record.tid, meter));
    ++*written;
    if (ckpt_signal_pending()) return error(kEINTR);
    ckpt_cond_resched();
  }
}

}  // namespace ckpt
