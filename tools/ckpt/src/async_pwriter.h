// Writes buffers at given offsets of a file on a second thread, so that
// reading and checksumming the next part of an image overlaps with writing
// the last: `ckpt core` then costs about what the slower of the two does.
// At most kBuffers buffers exist; submit() waits for a free one.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "expected.h"

namespace ckpt {

class AsyncPwriter {
public:
    static constexpr size_t kBuffers = 3;

    explicit AsyncPwriter(int fd);
    ~AsyncPwriter();  // drains
    AsyncPwriter(const AsyncPwriter&) = delete;
    AsyncPwriter& operator=(const AsyncPwriter&) = delete;

    // An empty buffer to fill (its capacity is kept from earlier use);
    // waits while every buffer is queued or being written.
    std::vector<uint8_t> buffer();
    // Queues data for pwrite() at offset; the buffer comes back to buffer().
    void submit(std::vector<uint8_t> data, uint64_t offset);
    // Waits until everything submitted is written; the first error, if any.
    Status drain();

private:
    struct Job {
        std::vector<uint8_t> data;
        uint64_t offset;
    };

    void run();
    std::optional<Error> write_all(const Job& job) const;

    const int fd_;
    std::mutex lock_;
    std::condition_variable changed_;
    std::deque<Job> queue_;
    std::vector<std::vector<uint8_t>> free_;
    size_t outstanding_ = 0;  // buffers handed out or queued or being written
    bool writing_ = false;
    bool stopping_ = false;
    std::optional<Error> error_;
    std::thread worker_;  // last: started once the rest is initialised
};

}  // namespace ckpt
