#include "record_checksum.h"

#include <cstddef>

namespace ckpt {

std::string checksum_name(uint32_t algo) {
    switch (algo) {
    case CKPT_CSUM_CRC32C: return "crc32c";
    case CKPT_CSUM_XXH64: return "xxh64";
    default: return "unknown (" + std::to_string(algo) + ")";
    }
}

bool parse_checksum_name(const std::string& name, uint32_t* algo) {
    for (uint32_t a : {uint32_t(CKPT_CSUM_CRC32C), uint32_t(CKPT_CSUM_XXH64)}) {
        if (name == checksum_name(a)) {
            *algo = a;
            return true;
        }
    }
    return false;
}

uint32_t record_crc(uint32_t algo, const ckpt_rec_hdr& hdr, const void* payload, size_t len) {
    RecordChecksum sum(algo);
    sum.update(&hdr, offsetof(ckpt_rec_hdr, crc));
    sum.update(payload, len);
    return sum.value();
}

}  // namespace ckpt
