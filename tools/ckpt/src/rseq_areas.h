// Where each thread of a process has registered its rseq area.
//
// glibc 2.35+ registers a struct rseq (32 bytes, in the thread's TLS) for
// every thread, and the kernel rewrites its fields (cpu_id_start, cpu_id,
// node_id, mm_cid; it clears rseq_cs) whenever the thread returns to user
// space after running on another CPU.  A process that merely slept and was
// resumed since its dump therefore differs from its image in exactly these
// bytes.  The kernel tells a tracer where they are:
// PTRACE_GET_RSEQ_CONFIGURATION (Linux 5.13+).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "target_stop.h"

namespace ckpt {

struct RseqArea {
    pid_t tid = 0;
    uint64_t start = 0;
    uint32_t size = 0;
};

struct RseqAreas {
    std::vector<RseqArea> areas;  // the threads that registered one
    // Why the areas are unknown, or empty if every thread was asked.  When
    // set, `areas` is empty: partial knowledge would excuse some threads and
    // not others.
    std::string unknown_reason;

    bool known() const { return unknown_reason.empty(); }
};

// Asks the kernel, with PTRACE_GET_RSEQ_CONFIGURATION, about every thread
// that stop holds in a ptrace-stop; it attaches to nothing itself.  Threads
// that exited meanwhile are skipped.  Never fails: if the target is not
// held stopped (--live) or the kernel lacks the request, the result says
// why.  Call it on the thread that acquired stop.
RseqAreas find_rseq_areas(const TargetStop& stop);

}  // namespace ckpt
