// Sequential byte input for the image reader: a file, a pipe or memory.
// Never seeks, so `ckpt show -` works on a pipe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "expected.h"

namespace ckpt {

class ByteSource {
public:
    virtual ~ByteSource() = default;
    // Reads up to len bytes; 0 means end of stream.
    virtual Expected<size_t> read_some(void* buf, size_t len) = 0;
};

// Reads from an fd it does not own (stdin or a file opened by the caller).
class FdSource final : public ByteSource {
public:
    FdSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
    Expected<size_t> read_some(void* buf, size_t len) override;

private:
    int fd_;
    std::string name_;
};

class MemorySource final : public ByteSource {
public:
    MemorySource(const void* data, size_t size)
        : data_(static_cast<const uint8_t*>(data)), size_(size) {}
    Expected<size_t> read_some(void* buf, size_t len) override;

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

}  // namespace ckpt
