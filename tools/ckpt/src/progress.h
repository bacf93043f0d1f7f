// "dumping: 123 MiB" on a terminal while the single long ioctl runs.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace ckpt {

// Polls the size of the output file every 200 ms from a second thread and
// redraws one stderr line.  Only meaningful for a regular file on a tty:
// the caller decides.  Clears the line when destroyed.
class ProgressMeter {
public:
    explicit ProgressMeter(int fd);
    ~ProgressMeter();
    ProgressMeter(const ProgressMeter&) = delete;
    ProgressMeter& operator=(const ProgressMeter&) = delete;

private:
    void run();

    int fd_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool done_ = false;
    bool printed_ = false;
    std::thread thread_;
};

}  // namespace ckpt
