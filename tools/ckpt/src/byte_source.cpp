#include "byte_source.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace ckpt {

Expected<size_t> FdSource::read_some(void* buf, size_t len) {
    for (;;) {
        ssize_t n = ::read(fd_, buf, len);
        if (n >= 0) return static_cast<size_t>(n);
        if (errno == EINTR) continue;
        return io_error(name_ + ": read failed: " + std::strerror(errno));
    }
}

Expected<size_t> MemorySource::read_some(void* buf, size_t len) {
    size_t n = std::min(len, size_ - pos_);
    if (n) std::memcpy(buf, data_ + pos_, n);
    pos_ += n;
    return n;
}

}  // namespace ckpt
