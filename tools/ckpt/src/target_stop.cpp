#include "target_stop.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "procfs.h"

namespace ckpt {
namespace {

// Waits for ptrace-stops start short (a stop takes microseconds, and every
// one of them is downtime) and back off to this.
constexpr auto kFirstPoll = std::chrono::microseconds(20);
constexpr auto kPollInterval = std::chrono::milliseconds(5);

std::string pid_str(pid_t pid) { return "pid " + std::to_string(pid); }

std::string thread_str(pid_t pid, pid_t tid) {
    if (tid == pid) return pid_str(pid);
    return "thread " + std::to_string(tid) + " of " + pid_str(pid);
}

bool is_dead_state(char s) { return s == 'Z' || s == 'X'; }

const char* state_hint(char s) {
    switch (s) {
    case 'D': return " (uninterruptible sleep: blocked in the kernel, e.g. on I/O or in vfork())";
    case 'R': return " (running)";
    case 'S': return " (sleeping)";
    default: return "";
    }
}

// The threads ckpt must hold: alive, and not io_uring workers (those run
// only in the kernel and cannot be traced; the module skips them too).
bool must_hold(const ThreadState& t) { return !is_dead_state(t.state) && !t.io_worker; }

struct StopCheck {
    bool all_dead = false;         // no thread to hold: a zombie
    bool all_job_stopped = false;  // every thread to hold in state 'T'
};

Expected<StopCheck> check_threads(pid_t pid) {
    auto states = read_thread_states(pid);
    if (!states) return states.error();
    size_t live = 0, job_stopped = 0;
    for (const auto& t : *states) {
        // An exited leader stays a zombie while other threads run on.
        if (!must_hold(t)) continue;
        live++;
        if (t.state == 'T') job_stopped++;
    }
    StopCheck c;
    c.all_dead = live == 0;
    c.all_job_stopped = live > 0 && job_stopped == live;
    return c;
}

// State letter of one thread of pid, '?' if it is gone.
char thread_state(pid_t pid, pid_t tid) {
    auto stat = read_text_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
    if (!stat) return '?';
    const size_t close = stat->rfind(')');
    if (close == std::string::npos || close + 2 >= stat->size()) return '?';
    return (*stat)[close + 2];
}

// Exited, or exiting: PTRACE_SEIZE refuses such a thread with EPERM.
bool thread_is_gone(pid_t pid, pid_t tid) {
    const char s = thread_state(pid, tid);
    return s == '?' || is_dead_state(s);
}

// "TracerPid:" of a thread (the tracing thread's id), 0 if none or unknown.
pid_t tracer_of(pid_t tid) {
    auto status = read_text_file("/proc/" + std::to_string(tid) + "/status");
    if (!status) return 0;
    const size_t at = status->find("\nTracerPid:");
    if (at == std::string::npos) return 0;
    return pid_t(std::atoi(status->c_str() + at + 11));
}

std::string comm_of(pid_t pid) {
    auto comm = read_text_file("/proc/" + std::to_string(pid) + "/comm");
    if (!comm) return "";
    return comm->substr(0, comm->find('\n'));
}

// Why PTRACE_SEIZE of tid failed, in words that say what to do.
Error seize_error(pid_t pid, pid_t tid, int err) {
    const std::string what = "cannot trace " + thread_str(pid, tid) + ": " + std::strerror(err);
    if (err != EPERM) return io_error(what);
    if (const pid_t tracer = tracer_of(tid); tracer != 0) {
        const std::string comm = comm_of(tracer);
        return io_error(what + ": it is already traced by pid " + std::to_string(tracer) +
                        (comm.empty() ? "" : " (" + comm + ")") +
                        ": ckpt must trace every thread itself; detach the other tracer (a debugger, strace) first");
    }
    std::string msg = what + ": this user may not trace it (needs root or CAP_SYS_PTRACE, or the target's user and a "
                             "dumpable target)";
    if (auto scope = read_text_file("/proc/sys/kernel/yama/ptrace_scope")) {
        const std::string level = scope->substr(0, scope->find('\n'));
        if (level == "1") msg += ", or Yama forbids it (kernel.yama.ptrace_scope = 1: only descendants)";
        if (level == "2") msg += ", or Yama forbids it (kernel.yama.ptrace_scope = 2: only with CAP_SYS_PTRACE)";
        if (level == "3") msg += ", or Yama forbids it (kernel.yama.ptrace_scope = 3: no ptrace at all)";
    }
    return io_error(msg);
}

// Mount point of the cgroup v2 hierarchy ("/sys/fs/cgroup", or
// "/sys/fs/cgroup/unified" on hybrid systems).
std::optional<std::string> cgroup2_mount_point() {
    auto text = read_text_file("/proc/self/mountinfo");
    if (!text) return std::nullopt;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        size_t sep = line.find(" - ");
        if (sep == std::string::npos) continue;
        std::istringstream tail(line.substr(sep + 3));
        std::string fstype;
        tail >> fstype;
        if (fstype != "cgroup2") continue;
        std::istringstream head(line.substr(0, sep));
        std::string id, parent, devno, root, mount_point;
        head >> id >> parent >> devno >> root >> mount_point;
        return mount_point;
    }
    return std::nullopt;
}

// The target's cgroup v2 directory, if there is one.
std::optional<std::string> cgroup2_dir(pid_t pid) {
    auto text = read_text_file("/proc/" + std::to_string(pid) + "/cgroup");
    if (!text) return std::nullopt;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("0::", 0) != 0) continue;
        auto mount = cgroup2_mount_point();
        if (!mount) return std::nullopt;
        std::string path = line.substr(3);
        // Deleted cgroups read as "/path (deleted)"; nothing to freeze then.
        if (path.empty() || path.find(" (deleted)") != std::string::npos) return std::nullopt;
        return *mount + (path == "/" ? "" : path);
    }
    return std::nullopt;
}

bool first_line_is(const std::string& path, const char* expected) {
    auto text = read_text_file(path);
    if (!text) return false;
    return text->substr(0, text->find('\n')) == expected;
}

bool events_say_frozen(const std::string& dir) {
    auto text = read_text_file(dir + "/cgroup.events");
    if (!text) return false;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line))
        if (line == "frozen 1") return true;
    return false;
}

// Frozen: cgroup.freeze is 1 and the freeze completed.  A freeze in
// progress is waited for, never helped along with signals.
Expected<bool> wait_if_frozen(pid_t pid, std::chrono::milliseconds timeout) {
    auto dir = cgroup2_dir(pid);
    if (!dir || !first_line_is(*dir + "/cgroup.freeze", "1")) return false;
    const auto deadline = TargetStop::Clock::now() + timeout;
    while (!events_say_frozen(*dir)) {
        if (TargetStop::Clock::now() >= deadline)
            return io_error(pid_str(pid) + ": cgroup " + *dir + " is being frozen but is not frozen after " +
                            std::to_string(timeout.count() / 1000.0) + " s");
        std::this_thread::sleep_for(kPollInterval);
    }
    return true;
}

std::string seconds(std::chrono::milliseconds ms) {
    std::ostringstream s;
    s << double(ms.count()) / 1000.0 << " s";
    return s.str();
}

}  // namespace

const char* stop_mode_description(StopMode mode) {
    switch (mode) {
    case StopMode::Live: return "not stopped (live)";
    case StopMode::AlreadyStopped: return "already stopped, left stopped";
    case StopMode::Frozen: return "frozen by its cgroup, left frozen";
    case StopMode::StoppedByUs: return "stopped by ckpt";
    }
    return "";
}

// ------------------------------------------------------------ SeizedThread

SeizedThread::SeizedThread(SeizedThread&& other) noexcept
    : tid_(other.tid_),
      attached_(other.attached_),
      interrupted_(other.interrupted_),
      stopped_(other.stopped_),
      pending_signal_(other.pending_signal_) {
    other.attached_ = false;
}

SeizedThread::~SeizedThread() {
    if (!attached_) return;
    // Never blocks: a thread whose stop has not come is left attached, and
    // the kernel detaches it when ckpt exits.
    if (!stopped_ && poll_stop() != 0) return;
    (void)detach();
}

int SeizedThread::seize() {
    if (::ptrace(PTRACE_SEIZE, tid_, nullptr, nullptr) != 0) return errno;
    attached_ = true;
    return 0;
}

int SeizedThread::interrupt() {
    interrupted_ = true;
    if (::ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr) != 0) return errno;
    return 0;
}

int SeizedThread::poll_stop() {
    if (!attached_) return ESRCH;
    if (stopped_) return 0;
    for (;;) {
        int status = 0;
        const pid_t got = ::waitpid(tid_, &status, __WALL | WNOHANG);
        if (got == 0) return EAGAIN;
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno != ECHILD) return errno;
            attached_ = false;  // no longer ours to wait for: gone
            return ESRCH;
        }
        if (!WIFSTOPPED(status)) {
            attached_ = false;  // it exited, and this wait reaped it
            return ESRCH;
        }
        stopped_ = true;
        // PTRACE_EVENT_STOP is the interrupt or a group stop; any other
        // stop of a seized thread without options is a signal about to be
        // delivered, which the detach must hand back.
        if ((status >> 16) != PTRACE_EVENT_STOP) pending_signal_ = WSTOPSIG(status);
        return 0;
    }
}

int SeizedThread::detach() {
    if (!attached_) return 0;
    const auto signal = reinterpret_cast<void*>(uintptr_t(pending_signal_));
    if (::ptrace(PTRACE_DETACH, tid_, nullptr, signal) != 0) {
        const int err = errno;
        if (err != ESRCH) return err;
        // Out of its ptrace-stop only if SIGKILL woke it: it is exiting.
        // Reap it if it is done, so that no traced zombie stays behind.
        int status = 0;
        (void)::waitpid(tid_, &status, __WALL | WNOHANG);
    }
    attached_ = false;
    stopped_ = false;
    return 0;
}

// -------------------------------------------------------------- TargetStop

TargetStop::TargetStop(pid_t pid, StopMode mode, const StopOptions& options)
    : pid_(pid),
      mode_(mode),
      hold_(options.hold),
      timeout_(options.timeout),
      tracer_(pid_t(::syscall(SYS_gettid))) {}

TargetStop::TargetStop(TargetStop&& other) noexcept
    : pid_(other.pid_),
      mode_(other.mode_),
      hold_(other.hold_),
      timeout_(other.timeout_),
      tracer_(other.tracer_),
      threads_(std::move(other.threads_)),
      interrupted_(other.interrupted_),
      released_(other.released_),
      stopped_at_(other.stopped_at_),
      released_at_(other.released_at_) {
    other.threads_.clear();
    other.released_ = true;
}

TargetStop::~TargetStop() { (void)resume(); }

Expected<TargetStop> TargetStop::acquire(pid_t pid, const StopOptions& options) {
    if (options.hold == Hold::Nothing) return TargetStop(pid, StopMode::Live, options);

    StopMode mode = StopMode::Live;
    if (options.hold == Hold::Stop) {
        // A freeze in progress is waited for, never helped along.
        auto frozen = wait_if_frozen(pid, options.timeout);
        if (!frozen) return frozen.error();
        mode = *frozen ? StopMode::Frozen : StopMode::StoppedByUs;
    }
    auto check = check_threads(pid);
    if (!check) return check.error();
    if (check->all_dead) return io_error(pid_str(pid) + ": the process is a zombie");
    if (mode == StopMode::StoppedByUs && check->all_job_stopped) mode = StopMode::AlreadyStopped;

    TargetStop stop(pid, mode, options);
    // On failure ~TargetStop detaches whatever was seized.
    if (Status seized = stop.seize_all(); !seized) return seized.error();
    return stop;
}

// Seizes every thread listed in /proc/PID/task, then interrupts each and
// waits for its ptrace-stop (Hold::Stop), and lists again until no thread
// is new: one may have been cloned between the listing and the seize of
// its creator.  With every listed thread stopped none can be cloned any
// more; running threads (Hold::Trace) may clone on, for a while.
Status TargetStop::seize_all() {
    const bool stop = hold_ == Hold::Stop;
    auto deadline = Clock::now() + timeout_;
    for (;;) {
        auto states = read_thread_states(pid_);
        if (!states) {
            if (threads_.empty()) return states.error();
            return io_error(pid_str(pid_) + ": the process exited while being stopped");
        }
        size_t first_new = threads_.size();
        for (const ThreadState& t : *states) {
            if (!must_hold(t)) continue;
            bool held = false;
            for (const SeizedThread& h : threads_) held = held || h.tid() == t.tid;
            if (held) continue;
            SeizedThread thread(t.tid);
            if (const int err = thread.seize(); err != 0) {
                if (err == ESRCH || thread_is_gone(pid_, t.tid)) continue;  // exited meanwhile
                return seize_error(pid_, t.tid, err);
            }
            threads_.push_back(std::move(thread));
        }
        const bool found_new = threads_.size() > first_new;
        if (stop) {
            for (size_t i = first_new; i < threads_.size(); i++) {
                if (!interrupted_) {
                    // The downtime and the wait for the stops start here.
                    interrupted_ = true;
                    stopped_at_ = Clock::now();
                    deadline = stopped_at_ + timeout_;
                }
                // ESRCH: it exited; poll_stop() will see that.
                (void)threads_[i].interrupt();
            }
            pid_t blocker = 0;
            if (const int err = wait_for_stops(deadline, &blocker); err != 0) {
                if (err != ETIMEDOUT)
                    return io_error("cannot wait for " + pid_str(pid_) + " to stop: " + std::strerror(err));
                const char state = thread_state(pid_, blocker);
                return io_error("timed out after " + seconds(timeout_) + " waiting for " + pid_str(pid_) +
                                " to stop: thread " + std::to_string(blocker) + " is in state '" +
                                std::string(1, state) + "'" + state_hint(state) +
                                ": released it; try --stop-timeout or --live");
            }
        }
        // Drop the threads that exited meanwhile.
        std::vector<SeizedThread> alive;
        for (SeizedThread& t : threads_)
            if (t.attached()) alive.push_back(std::move(t));
        threads_ = std::move(alive);
        if (threads_.empty()) return io_error(pid_str(pid_) + ": the process exited while being stopped");
        if (!found_new) return ok_status();
        if (Clock::now() >= deadline)
            return io_error(pid_str(pid_) + ": new threads kept appearing for " + seconds(timeout_) +
                            " while ckpt attached to them");
    }
}

// Polls every interrupted, not yet stopped thread until each has reported
// its ptrace-stop or exited.  0, ETIMEDOUT at the deadline with *blocker a
// thread that has not stopped, or the errno of waitpid().
int TargetStop::wait_for_stops(Clock::time_point deadline, pid_t* blocker) {
    auto pause = std::chrono::duration_cast<Clock::duration>(kFirstPoll);
    for (;;) {
        pid_t waiting = 0;
        for (SeizedThread& t : threads_) {
            if (!t.attached() || t.stopped() || !t.interrupted()) continue;
            const int err = t.poll_stop();
            if (err == 0 || err == ESRCH) continue;
            if (err != EAGAIN) return err;
            if (waiting == 0) waiting = t.tid();
        }
        if (waiting == 0) return 0;
        if (Clock::now() >= deadline) {
            *blocker = waiting;
            return ETIMEDOUT;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min<Clock::duration>(pause * 2, kPollInterval);
    }
}

Status TargetStop::resume() { return release(Release::AsBefore); }

Status TargetStop::keep_stopped() {
    // Only a target ckpt stopped needs the SIGSTOP: one job-stopped before
    // goes back into its group stop anyway, and a frozen one is left to its
    // cgroup as it was.
    return release(mode_ == StopMode::StoppedByUs ? Release::JobStopped : Release::AsBefore);
}

Status TargetStop::release(Release how) {
    if (released_) return ok_status();
    released_ = true;
    Status result = ok_status();
    // ptrace cannot detach a running thread (Hold::Trace): stop each for
    // the instant the detach takes.  A thread interrupted before that never
    // stopped (it timed out) is not waited for again.
    bool interrupted_now = false;
    for (SeizedThread& t : threads_) {
        if (!t.attached() || t.stopped() || t.interrupted()) continue;
        (void)t.interrupt();
        interrupted_now = true;
    }
    pid_t blocker = 0;
    const auto deadline = interrupted_now ? Clock::now() + timeout_ : Clock::now();
    if (const int err = wait_for_stops(deadline, &blocker); err != 0 && err != ETIMEDOUT)
        result = io_error("cannot wait for " + pid_str(pid_) + " to stop for the detach: " + std::strerror(err));
    // Queued while every thread is still held, the SIGSTOP is the first
    // thing each one meets after the detach: none runs user code before
    // the group stop.
    if (how == Release::JobStopped && ::kill(pid_, SIGSTOP) != 0 && errno != ESRCH)
        result = io_error("cannot leave " + pid_str(pid_) + " stopped: " + std::strerror(errno));
    for (SeizedThread& t : threads_) {
        if (!t.attached()) continue;
        if (!t.stopped()) {
            if (result)
                result = io_error("thread " + std::to_string(t.tid()) + " of " + pid_str(pid_) +
                                  " did not stop to be detached: it stays traced until ckpt exits");
            continue;  // its destructor leaves it attached
        }
        if (const int err = t.detach(); err != 0 && result)
            result = io_error("cannot detach from thread " + std::to_string(t.tid()) + " of " + pid_str(pid_) +
                              ": " + std::strerror(err));
    }
    threads_.clear();
    released_at_ = Clock::now();
    return result;
}

TargetStop::Clock::duration TargetStop::downtime() const {
    if (mode_ != StopMode::StoppedByUs || !interrupted_) return Clock::duration::zero();
    return (released_ ? released_at_ : Clock::now()) - stopped_at_;
}

}  // namespace ckpt
