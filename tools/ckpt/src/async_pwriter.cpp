#include "async_pwriter.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ckpt {

AsyncPwriter::AsyncPwriter(int fd) : fd_(fd), worker_([this] { run(); }) {}

AsyncPwriter::~AsyncPwriter() {
    (void)drain();
    {
        std::lock_guard<std::mutex> guard(lock_);
        stopping_ = true;
    }
    changed_.notify_all();
    worker_.join();
}

std::vector<uint8_t> AsyncPwriter::buffer() {
    std::unique_lock<std::mutex> guard(lock_);
    changed_.wait(guard, [this] { return outstanding_ < kBuffers; });
    outstanding_++;
    if (free_.empty()) return {};
    std::vector<uint8_t> b = std::move(free_.back());
    free_.pop_back();
    b.clear();
    return b;
}

void AsyncPwriter::submit(std::vector<uint8_t> data, uint64_t offset) {
    {
        std::lock_guard<std::mutex> guard(lock_);
        queue_.push_back(Job{std::move(data), offset});
    }
    changed_.notify_all();
}

Status AsyncPwriter::drain() {
    std::unique_lock<std::mutex> guard(lock_);
    changed_.wait(guard, [this] { return queue_.empty() && !writing_; });
    if (error_) return *error_;
    return ok_status();
}

void AsyncPwriter::run() {
    std::unique_lock<std::mutex> guard(lock_);
    for (;;) {
        changed_.wait(guard, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left
        Job job = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
        const bool failed = error_.has_value();
        guard.unlock();
        // After a failure the rest is dropped: the core is not renamed.
        std::optional<Error> error = failed ? std::nullopt : write_all(job);
        guard.lock();
        if (error && !error_) error_ = std::move(error);
        free_.push_back(std::move(job.data));
        outstanding_--;
        writing_ = false;
        changed_.notify_all();
    }
}

std::optional<Error> AsyncPwriter::write_all(const Job& job) const {
    const uint8_t* p = job.data.data();
    size_t len = job.data.size();
    uint64_t offset = job.offset;
    while (len) {
        const ssize_t n = ::pwrite(fd_, p, len, off_t(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return io_error(std::string("write: ") + (n < 0 ? std::strerror(errno) : "no space"));
        p += n;
        len -= size_t(n);
        offset += uint64_t(n);
    }
    return std::nullopt;
}

}  // namespace ckpt
