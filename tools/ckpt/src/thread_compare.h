// `ckpt verify --pid` of a held target: every THREAD record against what
// ptrace reads from that thread now (PTRACE_GETREGSET NT_PRSTATUS and
// NT_X86_XSTATE), and every held thread against the records.
#pragma once

#include <vector>

#include "image_reader.h"
#include "live_compare.h"
#include "target_stop.h"

namespace ckpt {

// `threads` are the image's THREAD records; `stop` holds every thread of
// the target in a ptrace-stop (not --live).  Records of a live image and
// of threads marked RUNNING are compared by tid only: their registers were
// never stable.
void compare_threads(const std::vector<ThreadRecord>& threads, bool live_image, const TargetStop& stop,
                     LiveCompareResult* result);

}  // namespace ckpt
