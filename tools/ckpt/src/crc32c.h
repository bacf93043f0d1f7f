// CRC-32C (Castagnoli), as used by every record of a ckpt image.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ckpt {

// Streaming use: state = kCrc32cInit; state = crc32c_update(state, ...)...;
// crc = crc32c_final(state).  The state is the raw register (not inverted).
constexpr uint32_t kCrc32cInit = 0xFFFFFFFFu;

uint32_t crc32c_update(uint32_t state, const void* data, size_t len);
// The table-driven path alone (what CPUs without SSE4.2 run), for tests.
uint32_t crc32c_update_portable(uint32_t state, const void* data, size_t len);
inline uint32_t crc32c_final(uint32_t state) { return state ^ 0xFFFFFFFFu; }

// One-shot convenience.
inline uint32_t crc32c(const void* data, size_t len) {
    return crc32c_final(crc32c_update(kCrc32cInit, data, len));
}

}  // namespace ckpt
