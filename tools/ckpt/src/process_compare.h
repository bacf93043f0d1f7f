// `ckpt verify --pid`: the image's PROCESS and FILE records against what
// /proc shows of the process now (process_snapshot.h).  Only what /proc
// shows is compared: signal actions as SigIgn/SigCgt, no securebits,
// dumpable, pdeath signal or handler addresses.  A file's size is the
// file's, not the process's: a changed size is a warning.
#pragma once

#include <vector>

#include "image_reader.h"
#include "live_compare.h"
#include "process_snapshot.h"

namespace ckpt {

// `process` is null for a 1.0 image (nothing to compare).  Differences go
// to result->process_differences and result->problems.
void compare_process(const ProcessRecord* process, const std::vector<FileRecord>& files,
                     const ProcessSnapshot& now, LiveCompareResult* result);

}  // namespace ckpt
