#include "target_stop.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "interrupt.h"
#include "procfs.h"

namespace ckpt {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(5);

std::string pid_str(pid_t pid) { return "pid " + std::to_string(pid); }

bool is_stopped_state(char s) { return s == 'T' || s == 't'; }
bool is_dead_state(char s) { return s == 'Z' || s == 'X'; }

const char* state_hint(char s) {
    switch (s) {
    case 'D': return " (uninterruptible sleep: blocked in the kernel, e.g. on I/O)";
    case 'R': return " (running)";
    case 'S': return " (sleeping)";
    default: return "";
    }
}

struct StopCheck {
    bool all_stopped = false;   // every live thread in T/t
    bool all_dead = false;      // only zombies left
    pid_t blocker = 0;          // first thread that is neither
    char blocker_state = '?';
};

Expected<StopCheck> check_threads(pid_t pid) {
    auto states = read_thread_states(pid);
    if (!states) return states.error();
    StopCheck c;
    size_t stopped = 0, dead = 0;
    for (const auto& t : *states) {
        if (is_stopped_state(t.state)) {
            stopped++;
        } else if (is_dead_state(t.state)) {
            // An exited leader stays a zombie while other threads run on.
            dead++;
        } else if (!c.blocker) {
            c.blocker = t.tid;
            c.blocker_state = t.state;
        }
    }
    c.all_dead = dead == states->size();
    c.all_stopped = stopped > 0 && stopped + dead == states->size();
    return c;
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

Expected<TargetStop> TargetStop::acquire(pid_t pid, const StopOptions& options) {
    if (options.live) return TargetStop(pid, StopMode::Live);

    auto frozen = wait_if_frozen(pid, options.timeout);
    if (!frozen) return frozen.error();
    if (*frozen) return TargetStop(pid, StopMode::Frozen);

    auto check = check_threads(pid);
    if (!check) return check.error();
    if (check->all_dead) return io_error(pid_str(pid) + ": the process is a zombie");
    if (check->all_stopped) return TargetStop(pid, StopMode::AlreadyStopped);

    TargetStop stop(pid, StopMode::StoppedByUs);
    // Arm the interrupt handler before the signal so that no window leaves
    // the target stopped behind a killed ckpt.
    set_interrupt_resume_pid(pid);
    stop.stopped_at_ = Clock::now();
    if (::kill(pid, SIGSTOP) != 0) {
        int err = errno;
        set_interrupt_resume_pid(0);
        if (err == ESRCH) return io_error(pid_str(pid) + ": no such process");
        if (err == EPERM)
            return io_error("cannot stop " + pid_str(pid) + ": " + std::strerror(err) +
                            ": need root or the same user as the target");
        return io_error("cannot stop " + pid_str(pid) + ": " + std::strerror(err));
    }
    stop.holding_ = true;

    const auto deadline = stop.stopped_at_ + options.timeout;
    for (;;) {
        check = check_threads(pid);
        if (!check) return check.error();  // ~TargetStop resumes
        if (check->all_stopped) return stop;
        if (check->all_dead) return io_error(pid_str(pid) + ": the process exited while being stopped");
        if (Clock::now() >= deadline) {
            std::string state(1, check->blocker_state);
            return io_error("timed out after " + seconds(options.timeout) + " waiting for " + pid_str(pid) +
                            " to stop: thread " + std::to_string(check->blocker) + " is in state '" + state +
                            "'" + state_hint(check->blocker_state) + ": resumed it; try --stop-timeout or --live");
        }
        std::this_thread::sleep_for(kPollInterval);
    }
}

TargetStop::TargetStop(TargetStop&& other) noexcept
    : pid_(other.pid_),
      mode_(other.mode_),
      holding_(other.holding_),
      stopped_at_(other.stopped_at_),
      released_at_(other.released_at_) {
    other.holding_ = false;
}

TargetStop::~TargetStop() { (void)resume(); }

Status TargetStop::resume() {
    if (!holding_) return ok_status();
    holding_ = false;
    released_at_ = Clock::now();
    set_interrupt_resume_pid(0);
    if (::kill(pid_, SIGCONT) != 0 && errno != ESRCH)
        return io_error("cannot resume " + pid_str(pid_) + ": " + std::strerror(errno));
    return ok_status();
}

void TargetStop::keep_stopped() {
    if (!holding_) return;
    holding_ = false;
    released_at_ = Clock::now();
    set_interrupt_resume_pid(0);
}

TargetStop::Clock::duration TargetStop::downtime() const {
    if (mode_ != StopMode::StoppedByUs) return Clock::duration::zero();
    return (holding_ ? Clock::now() : released_at_) - stopped_at_;
}

}  // namespace ckpt
