// The part of an image a restorer reads itself: HEAD to the last FILE
// record and MM's header.  The rest of the stream is the module's
// (CKPT_IOC_RESTORE), so not one byte past that header may be read, even
// from a pipe: RecordSource asks its input for one record at a time.
#pragma once

#include <cstdint>
#include <vector>

#include "byte_source.h"

namespace ckpt {

class RecordSource final : public ByteSource {
public:
    explicit RecordSource(ByteSource& inner) : inner_(inner) {}
    // At most the rest of the current record; a record's header is read
    // only when the reader asks for a byte past the record before it.
    Expected<size_t> read_some(void* buf, size_t len) override;
    // Every byte given out so far, in order.
    const std::vector<uint8_t>& bytes() const { return bytes_; }

private:
    ByteSource& inner_;
    uint8_t header_[24] = {};
    size_t header_len_ = 0;  // bytes of header_ read from inner_
    size_t header_pos_ = 0;  // of which given out
    uint64_t payload_left_ = 0;
    std::vector<uint8_t> bytes_;
};

}  // namespace ckpt
