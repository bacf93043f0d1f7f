// Freezes one process with the cgroup v2 freezer for a test.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace ckpt::test {

// A child cgroup of the cgroup v2 root holding pid, frozen while this object
// lives.  Needs root and a writable hierarchy (not nested); otherwise ok()
// is false and why_not() says why, for GTEST_SKIP.  Destroy it before the
// process: it is moved back to the root cgroup, thawed, and the cgroup
// removed.
class FrozenCgroup {
public:
    explicit FrozenCgroup(pid_t pid) : pid_(pid) {
        root_ = cgroup2_root();
        if (root_.empty()) {
            why_not_ = "no cgroup v2 mount";
            return;
        }
        dir_ = root_ + "/ckpt-test-" + std::to_string(getpid());
        if (mkdir(dir_.c_str(), 0755) != 0) {
            why_not_ = "cannot create " + dir_;
            dir_.clear();
            return;
        }
        if (!write_file(dir_ + "/cgroup.procs", std::to_string(pid)) || !write_file(dir_ + "/cgroup.freeze", "1")) {
            why_not_ = "cannot freeze " + dir_;
            return;
        }
        // Loaded machines are slow, not this slow.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!frozen() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        if (!frozen()) why_not_ = dir_ + " did not freeze";
    }
    ~FrozenCgroup() {
        if (dir_.empty()) return;
        write_file(dir_ + "/cgroup.freeze", "0");
        write_file(root_ + "/cgroup.procs", std::to_string(pid_));
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (rmdir(dir_.c_str()) != 0 && errno == EBUSY && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    FrozenCgroup(const FrozenCgroup&) = delete;
    FrozenCgroup& operator=(const FrozenCgroup&) = delete;

    bool ok() const { return why_not_.empty(); }
    const std::string& why_not() const { return why_not_; }

    // cgroup.freeze still says 1: nobody asked for a thaw.
    bool freeze_requested() const {
        std::ifstream freeze(dir_ + "/cgroup.freeze");
        std::string line;
        return std::getline(freeze, line) && line == "1";
    }

    // cgroup.events says the freeze is complete.
    bool frozen() const {
        std::ifstream events(dir_ + "/cgroup.events");
        std::string line;
        while (std::getline(events, line))
            if (line == "frozen 1") return true;
        return false;
    }

private:
    static std::string cgroup2_root() {
        std::ifstream mounts("/proc/self/mountinfo");
        std::string line;
        while (std::getline(mounts, line))
            if (line.find(" - cgroup2 ") != std::string::npos) {
                std::istringstream in(line);
                std::string id, parent, devno, root, mount_point;
                in >> id >> parent >> devno >> root >> mount_point;
                return mount_point;
            }
        return "";
    }
    static bool write_file(const std::string& path, const std::string& value) {
        std::ofstream out(path);
        out << value << std::flush;
        return bool(out);
    }

    pid_t pid_;
    std::string root_;
    std::string dir_;
    std::string why_not_;
};

}  // namespace ckpt::test
