#include "crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace ckpt {
namespace {

TEST(Crc32c, CheckValue) { EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u); }

TEST(Crc32c, EmptyInput) { EXPECT_EQ(crc32c("", 0), 0u); }

// Known vectors from RFC 3720 (iSCSI), appendix B.4.
TEST(Crc32c, Rfc3720Vectors) {
    std::vector<uint8_t> zeros(32, 0), ones(32, 0xFF), inc(32), dec(32);
    for (int i = 0; i < 32; i++) {
        inc[i] = uint8_t(i);
        dec[i] = uint8_t(31 - i);
    }
    EXPECT_EQ(crc32c(zeros.data(), 32), 0x8A9136AAu);
    EXPECT_EQ(crc32c(ones.data(), 32), 0x62A8AB43u);
    EXPECT_EQ(crc32c(inc.data(), 32), 0x46DD794Eu);
    EXPECT_EQ(crc32c(dec.data(), 32), 0x113FDB5Cu);
}

TEST(Crc32c, StreamingEqualsOneShotForAnySplit) {
    std::vector<uint8_t> data(1000);
    std::mt19937 rng(7);
    for (auto& b : data) b = uint8_t(rng());
    const uint32_t whole = crc32c(data.data(), data.size());
    for (size_t split = 0; split <= data.size(); split += 37) {
        for (size_t misalign = 0; misalign < 8 && split + misalign <= data.size(); misalign += 3) {
            uint32_t st = crc32c_update(kCrc32cInit, data.data(), split);
            st = crc32c_update(st, data.data() + split, misalign);
            st = crc32c_update(st, data.data() + split + misalign, data.size() - split - misalign);
            EXPECT_EQ(crc32c_final(st), whole) << split << "+" << misalign;
        }
    }
}

// Every offset and length split across the stream thresholds, against the
// table path (which runs no streams).
TEST(Crc32c, InterleavedStreamsMatchTheTablePath) {
    std::vector<uint8_t> data(3 * 8192 * 2 + 999);
    std::mt19937 rng(13);
    for (auto& b : data) b = uint8_t(rng());
    for (size_t start = 0; start < 16; start += 5) {
        for (size_t len = 0; start + len <= data.size(); len += 97) {
            EXPECT_EQ(crc32c_update(0x12345678u, data.data() + start, len),
                      crc32c_update_portable(0x12345678u, data.data() + start, len))
                << start << "+" << len;
        }
    }
}

TEST(Crc32c, MatchesBitwiseReference) {
    auto reference = [](const uint8_t* p, size_t n) {
        uint32_t c = 0xFFFFFFFFu;
        while (n--) {
            c ^= *p++;
            for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        }
        return c ^ 0xFFFFFFFFu;
    };
    std::mt19937 rng(11);
    // Around the three-stream thresholds (3 x 256, 3 x 8192) too.
    for (size_t len : {1u, 7u, 8u, 9u, 63u, 64u, 767u, 768u, 769u, 4096u, 4099u, 24575u, 24576u, 24584u, 65536u + 5}) {
        std::vector<uint8_t> data(len);
        for (auto& b : data) b = uint8_t(rng());
        EXPECT_EQ(crc32c(data.data(), len), reference(data.data(), len)) << len;
        // The table path too, whichever one this CPU runs.
        EXPECT_EQ(crc32c_final(crc32c_update_portable(kCrc32cInit, data.data(), len)),
                  reference(data.data(), len))
            << len;
    }
}

}  // namespace
}  // namespace ckpt
