// The restorer lets go of its own executable, so that /proc/PID/exe can
// name the image's.  prctl(PR_SET_MM_EXE_FILE) refuses while any mapping of
// the current executable is left (replace_mm_exe_file()), and the restorer
// runs from ckpt's file until CKPT_IOC_RESTORE_FINISH unmaps it; CRIU runs
// its restorer from anonymous memory for the same reason.  Here each
// mapping of ckpt's file is replaced, in place, by an anonymous copy of
// itself, so the code keeps running and the data keeps its values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "expected.h"

namespace ckpt {

struct FileMapping {
    uint64_t start, end;
    int prot;  // PROT_* bits
};

// The mappings of the file with this device (as stat(2) gives it) and
// inode in `maps`, the text of a /proc/PID/maps.
std::vector<FileMapping> mappings_of_file(const std::string& maps, uint64_t dev, uint64_t ino);

// Every mapping of this program's executable replaced by an anonymous copy
// at the same address and with the same protections.  Single-threaded
// callers only: a write to the program's data by another thread between a
// mapping's copy and its move would be lost.
Status detach_own_executable();

// Whether this process has CAP_SYS_RESOURCE, which set_own_executable()
// needs.
bool may_set_own_executable();

// /proc/self/exe names `path` (PR_SET_MM_EXE_FILE: needs CAP_SYS_RESOURCE,
// and no mapping of the current executable).
Status set_own_executable(const std::string& path);

}  // namespace ckpt
