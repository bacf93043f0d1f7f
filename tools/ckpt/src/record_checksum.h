// The checksum in a record's crc field (Documentation/image-format.md,
// "Checksums"): HEAD's is always CRC-32C; every later record's is the
// algorithm HEAD's `checksum` field names (format 1.2; CRC-32C before):
// CRC-32C, or the low 32 bits of XXH64 with seed 0.  TAIL's chain is
// CRC-32C whatever HEAD says.
//
//   RecordChecksum sum(algo);  sum.update(hdr, 16);  sum.update(payload, n);
//   sum.value() == hdr.crc
#pragma once

#include <linux/ckpt.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "crc32c.h"
// The module's own XXH64 (freestanding), built into the CLI too.
#include "../../../src/core/xxh64.h"

namespace ckpt {

// The algorithm of the records after `head`: its checksum field from 1.2
// on (whatever its value: see is_known_checksum), CRC-32C before.
inline uint32_t image_checksum(const ckpt_head& head) {
    return head.minor >= 2 ? head.checksum : uint32_t(CKPT_CSUM_CRC32C);
}

inline bool is_known_checksum(uint32_t algo) { return algo == CKPT_CSUM_CRC32C || algo == CKPT_CSUM_XXH64; }

// "crc32c", "xxh64", or "unknown (N)".
std::string checksum_name(uint32_t algo);
// The inverse for the names above; false for anything else.
bool parse_checksum_name(const std::string& name, uint32_t* algo);

// One record's running checksum.  An unknown algorithm computes CRC-32C
// (the reader refuses such images before it gets here).
class RecordChecksum {
public:
    explicit RecordChecksum(uint32_t algo = CKPT_CSUM_CRC32C) : xxh64_(algo == CKPT_CSUM_XXH64) {}

    void update(const void* data, size_t len) {
        if (len == 0) return;  // data may be null then
        if (xxh64_)
            hash_.update(data, len);
        else
            crc_ = crc32c_update(crc_, data, len);
    }
    // What the record's crc field holds.
    uint32_t value() const { return xxh64_ ? uint32_t(hash_.digest()) : crc32c_final(crc_); }

private:
    bool xxh64_;
    uint32_t crc_ = kCrc32cInit;
    Xxh64 hash_;
};

// The crc field of a record with this header (its first 16 bytes count)
// and payload.
uint32_t record_crc(uint32_t algo, const ckpt_rec_hdr& hdr, const void* payload, size_t len);

}  // namespace ckpt
