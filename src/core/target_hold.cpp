// SPDX-License-Identifier: GPL-2.0
#include "target_hold.h"

namespace ckpt {

namespace {

// A tracee that has just entered its ptrace stop may still be leaving the
// CPU; it takes well under one tick.  Give it about a second, loaded.
constexpr int kLeavingCpuTicks = 250;

bool all_traced(const ckpt_task_info& info) { return info.nr_traced + info.nr_io_workers == info.nr_live; }

bool all_ptrace_stopped(const ckpt_task_info& info) {
  return all_traced(info) && info.nr_ptrace_stopped == info.nr_traced;
}

}  // namespace

Result<TargetHold> TargetHold::take(ckpt_task_ref* task, ckpt_mm_ref* mm, HoldMode mode) {
  ckpt_task_info info;
  ckpt_task_describe(task, &info);
  for (int tick = 0; mode == HoldMode::kStopped && info.nr_leaving_cpu && tick < kLeavingCpuTicks; tick++) {
    ckpt_sleep_tick();
    ckpt_task_describe(task, &info);
  }
  if (info.nr_live == 0) return error(kESRCH);
  if (!all_traced(info)) return error(kEPERM);
  if (mode == HoldMode::kLive) return TargetHold(task, info);
  if (!all_ptrace_stopped(info)) return error(kEBUSY);
  if (ckpt_task_mm_shared(task, mm)) return error(kEBUSY);
  return TargetHold(task, info);
}

Status TargetHold::confirm() const {
  ckpt_task_info now;
  ckpt_task_describe(task_, &now);
  // Counts only grow, and every thread that ran has left the CPU again if
  // it is back in a ptrace stop; one that exited took its thread along.
  if (!all_ptrace_stopped(now) || now.nr_live != info_.nr_live || now.switches != info_.switches)
    return error(kEBUSY);
  return kOk;
}

}  // namespace ckpt
