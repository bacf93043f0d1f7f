// RAII hold of a target process for a consistent dump or compare.
//
// ckpt holds the target the way CRIU does: PTRACE_SEIZE on every thread,
// then PTRACE_INTERRUPT on each and a wait until each sits in a ptrace-stop
// (/proc state 't').  The module asks for exactly that: every live thread
// traced by the very thread that calls CKPT_IOC_CHECKPOINT, and for a dump
// that is not live, every one of them in a ptrace-stop.  Unlike SIGSTOP,
// only the tracer can end a ptrace-stop: neither SIGCONT nor a cgroup thaw
// lets a thread run while ckpt reads it.
//
// Letting go undoes it all.  PTRACE_DETACH (and, if ckpt dies, the kernel's
// own detach at its exit) sends a thread of a job-stopped process back into
// its group stop and a thread of a frozen cgroup back into the freezer; a
// signal caught in a signal-delivery-stop is handed back with the detach.
// Nothing is ever sent to a target that ckpt did not stop itself, except
// the SIGSTOP that --leave-stopped asks for.
//
// ptrace requests only work from the thread that seized: acquire(), the
// ioctl and the release must all run on the same thread (ckpt's main one).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <vector>

#include "expected.h"

namespace ckpt {

enum class StopMode {
    Live,            // not stopped: --live
    AlreadyStopped,  // job-stopped (state T) before ckpt came; stays so
    Frozen,          // the cgroup v2 freezer holds it; stays frozen
    StoppedByUs,     // ckpt's ptrace-stop; runs again when released
};

// What acquire() does to the threads.
enum class Hold {
    Stop,     // seize and interrupt every thread: a consistent dump
    Trace,    // seize every thread but let it run: dump --live
    Nothing,  // leave the target alone: verify --live
};

struct StopOptions {
    Hold hold = Hold::Stop;
    // How long to wait for a freezing cgroup to freeze and for the threads
    // to reach their ptrace-stops.
    std::chrono::milliseconds timeout{10000};
};

// One thread attached with PTRACE_SEIZE by the calling thread, for as long
// as this object lives.  Move-only.  The destructor detaches a thread that
// is in a ptrace-stop, handing back any signal caught in a
// signal-delivery-stop; it never blocks, so a thread that has not stopped
// yet stays attached until ckpt exits (the kernel detaches it then).
class SeizedThread {
public:
    explicit SeizedThread(pid_t tid) : tid_(tid) {}
    SeizedThread(SeizedThread&& other) noexcept;
    SeizedThread& operator=(SeizedThread&&) = delete;
    SeizedThread(const SeizedThread&) = delete;
    SeizedThread& operator=(const SeizedThread&) = delete;
    ~SeizedThread();

    // PTRACE_SEIZE, no options.  0 or the errno: ESRCH if the thread is
    // gone; EPERM if it may not be traced, is traced already, or is exiting.
    int seize();
    // PTRACE_INTERRUPT: the thread enters a ptrace-stop soon.  0 or errno.
    int interrupt();
    // Looks once, without blocking, whether the thread has reported its
    // ptrace-stop: 0 once it has, EAGAIN if not yet, ESRCH if it exited
    // (then it is no longer attached), or another errno.
    int poll_stop();
    // PTRACE_DETACH of a thread in a ptrace-stop, with the signal it was
    // about to receive, if any.  0 or errno.
    int detach();

    pid_t tid() const { return tid_; }
    bool attached() const { return attached_; }
    bool interrupted() const { return interrupted_; }
    bool stopped() const { return stopped_; }
    // The signal of a signal-delivery-stop, handed back on detach; 0 if the
    // stop was PTRACE_EVENT_STOP (interrupt or group stop).
    int pending_signal() const { return pending_signal_; }

private:
    pid_t tid_;
    bool attached_ = false;
    bool interrupted_ = false;
    bool stopped_ = false;
    int pending_signal_ = 0;
};

class TargetStop {
public:
    using Clock = std::chrono::steady_clock;

    // Holds pid (any thread id of the process) as options.hold says.  On
    // failure every thread seized so far is detached again: the target is
    // as before.
    static Expected<TargetStop> acquire(pid_t pid, const StopOptions& options);

    TargetStop(TargetStop&& other) noexcept;
    TargetStop& operator=(TargetStop&&) = delete;
    TargetStop(const TargetStop&) = delete;
    TargetStop& operator=(const TargetStop&) = delete;
    // Detaches every thread (resume()).
    ~TargetStop();

    // Detaches every thread now: the target goes on as it was before ckpt
    // came (running, job-stopped or frozen).  A thread held running (Trace)
    // is interrupted first, for an instant: ptrace cannot detach a running
    // thread.
    Status resume();
    // --leave-stopped after a successful dump: a target ckpt stopped is
    // detached into a job-control stop (SIGSTOP queued while every thread is
    // still held, so it stops before running user code); otherwise as
    // resume().
    Status keep_stopped();

    StopMode mode() const { return mode_; }
    // How long ckpt has held the target stopped: from the first
    // PTRACE_INTERRUPT to the last detach.  Zero unless StoppedByUs.
    Clock::duration downtime() const;
    // The threads held, each in a ptrace-stop unless mode() is Live.
    const std::vector<SeizedThread>& threads() const { return threads_; }
    // The thread that seized them: the only one that may trace them, and so
    // the one that must call the ioctl.
    pid_t tracer() const { return tracer_; }

private:
    enum class Release { AsBefore, JobStopped };

    TargetStop(pid_t pid, StopMode mode, const StopOptions& options);
    Status seize_all();
    int wait_for_stops(Clock::time_point deadline, pid_t* blocker);
    Status release(Release how);

    pid_t pid_ = 0;
    StopMode mode_ = StopMode::Live;
    Hold hold_ = Hold::Nothing;
    std::chrono::milliseconds timeout_{0};
    pid_t tracer_ = 0;
    std::vector<SeizedThread> threads_;
    bool interrupted_ = false;  // the downtime clock runs
    bool released_ = false;     // every thread detached
    Clock::time_point stopped_at_{};
    Clock::time_point released_at_{};
};

// "stopped by ckpt", "frozen by its cgroup, left frozen", ... for messages.
const char* stop_mode_description(StopMode mode);

}  // namespace ckpt
