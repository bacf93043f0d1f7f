#include "progress.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>

#include "format_util.h"

namespace ckpt {

ProgressMeter::ProgressMeter(int fd) : fd_(fd), thread_([this] { run(); }) {}

ProgressMeter::~ProgressMeter() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        done_ = true;
    }
    wake_.notify_all();
    thread_.join();
    if (printed_) std::fputs("\r\033[K", stderr);
}

void ProgressMeter::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    // The first redraw comes after 200 ms, so quick dumps print nothing.
    while (!wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return done_; })) {
        struct stat st;
        if (::fstat(fd_, &st) != 0) continue;
        std::fprintf(stderr, "\rdumping: %s\033[K", human_bytes(uint64_t(st.st_size)).c_str());
        std::fflush(stderr);
        printed_ = true;
    }
}

}  // namespace ckpt
