// SPDX-License-Identifier: GPL-2.0
//
// Who may dump whom, and whether the target held still while it was read.
//
// The module cannot ask ptrace_may_access() (not exported), so it asks for
// what the kernel checked already: the caller must be the tracer of every
// live thread of the target.  PTRACE_SEIZE ran the kernel's attach checks
// (uids, dumpability, CAP_SYS_PTRACE, Yama and the other LSMs), and only
// the tracer can end a ptrace stop: SIGCONT, a cgroup thaw or another
// tracer cannot.  So for a dump that is not live, every live thread must
// sit in a ptrace stop, and a count of the group's context switches, taken
// before and after, tells whether any thread ran meanwhile anyway.
#pragma once

#include <ckpt/bridge.h>

#include "result.h"

namespace ckpt {

enum class HoldMode { kStopped, kLive };

class TargetHold {
 public:
  TargetHold() = default;  // for Result<>

  // Checks the caller's hold at the start of a dump.  EPERM: a live thread
  // the caller does not trace.  EBUSY (kStopped only): a thread not in a
  // ptrace stop, or another process shares the mm.  ESRCH: no live thread.
  static Result<TargetHold> take(ckpt_task_ref* task, ckpt_mm_ref* mm, HoldMode mode);

  const ckpt_task_info& info() const { return info_; }

  // At the end of a kStopped dump: EBUSY if a thread ran, exited or
  // appeared since take(), so the image would not be one moment's.
  Status confirm() const;

 private:
  TargetHold(ckpt_task_ref* task, const ckpt_task_info& info) : task_(task), info_(info) {}

  ckpt_task_ref* task_ = nullptr;
  ckpt_task_info info_{};
};

}  // namespace ckpt
