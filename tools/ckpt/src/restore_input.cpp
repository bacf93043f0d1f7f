#include "restore_input.h"

#include <algorithm>
#include <cstring>

namespace ckpt {

Expected<size_t> RecordSource::read_some(void* buf, size_t len) {
    auto* out = static_cast<uint8_t*>(buf);
    if (header_pos_ == header_len_ && payload_left_ == 0) {
        // The next record: exactly its header, however many reads it takes.
        header_len_ = header_pos_ = 0;
        while (header_len_ < sizeof header_) {
            auto got = inner_.read_some(header_ + header_len_, sizeof header_ - header_len_);
            if (!got) return got.error();
            if (*got == 0) break;
            header_len_ += *got;
        }
        if (header_len_ == sizeof header_) {
            uint64_t payload_len = 0;
            std::memcpy(&payload_len, header_ + 8, sizeof payload_len);
            // Garbage lengths are the reader's to reject; never overflow.
            payload_left_ = payload_len > (uint64_t(1) << 40) ? payload_len : (payload_len + 7) & ~uint64_t(7);
        }
    }
    size_t n = 0;
    if (header_pos_ < header_len_) {
        n = std::min(len, header_len_ - header_pos_);
        std::memcpy(out, header_ + header_pos_, n);
        header_pos_ += n;
    } else if (payload_left_) {
        auto got = inner_.read_some(out, size_t(std::min<uint64_t>(len, payload_left_)));
        if (!got) return got.error();
        n = *got;
        payload_left_ = n ? payload_left_ - n : 0;  // end of stream: truncated
    }
    bytes_.insert(bytes_.end(), out, out + n);
    return n;
}

}  // namespace ckpt
