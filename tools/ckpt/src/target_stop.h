// RAII stop/resume of a target process for a consistent dump or compare.
//
// The target is stopped with SIGSTOP and held until every thread is in
// state 'T' or 't'.  A target that was already stopped, or is frozen by the
// cgroup v2 freezer, is left alone and never resumed by ckpt.
#pragma once

#include <sys/types.h>

#include <chrono>

#include "expected.h"

namespace ckpt {

enum class StopMode {
    Live,            // --live: not stopped at all
    AlreadyStopped,  // every thread was stopped/traced before ckpt came
    Frozen,          // cgroup v2 freezer holds it
    StoppedByUs,     // ckpt sent SIGSTOP and will send SIGCONT
};

struct StopOptions {
    bool live = false;
    std::chrono::milliseconds timeout{10000};
};

class TargetStop {
public:
    using Clock = std::chrono::steady_clock;

    // Stops pid (or decides not to).  On failure the target is running as
    // before.
    static Expected<TargetStop> acquire(pid_t pid, const StopOptions& options);

    TargetStop(TargetStop&& other) noexcept;
    TargetStop& operator=(TargetStop&&) = delete;
    TargetStop(const TargetStop&) = delete;
    TargetStop& operator=(const TargetStop&) = delete;
    // Resumes the target if ckpt stopped it and it was not kept stopped.
    ~TargetStop();

    // Sends SIGCONT now if ckpt stopped the target.
    Status resume();
    // Leaves the target stopped for good (--leave-stopped after success).
    void keep_stopped();

    StopMode mode() const { return mode_; }
    // How long ckpt has held the target stopped (zero unless StoppedByUs).
    Clock::duration downtime() const;

private:
    TargetStop(pid_t pid, StopMode mode) : pid_(pid), mode_(mode) {}

    pid_t pid_ = 0;
    StopMode mode_ = StopMode::Live;
    bool holding_ = false;  // ckpt owes the target a SIGCONT
    Clock::time_point stopped_at_{};
    Clock::time_point released_at_{};
};

// "stopped", "frozen by cgroup", ... for messages.
const char* stop_mode_description(StopMode mode);

}  // namespace ckpt
