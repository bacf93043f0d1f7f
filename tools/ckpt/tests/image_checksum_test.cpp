// Record checksums (format 1.2): HEAD's crc is CRC-32C, every later
// record's is the algorithm HEAD's `checksum` names (CRC-32C or XXH64's
// low 32 bits), TAIL's chain is CRC-32C; older images are CRC-32C only.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "crc32c.h"
#include "image_builder.h"
#include "image_reader.h"
#include "record_checksum.h"

namespace ckpt {
namespace {

using test::ImageWriter;
using test::make_sample_image;
using test::SampleImage;
using test::SampleOptions;

constexpr uint32_t kAlgos[] = {CKPT_CSUM_CRC32C, CKPT_CSUM_XXH64};

Expected<ImageSummary> read_bytes(const std::vector<uint8_t>& bytes) {
    MemorySource source(bytes.data(), bytes.size());
    ImageReader reader(source);
    ImageVisitor none;
    return reader.read(none);
}

std::string outcome(const std::vector<uint8_t>& bytes) {
    auto r = read_bytes(bytes);
    return r ? "OK" : r.error().message;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

std::string at(const char* type, uint64_t offset) {
    return std::string(type) + " record at offset " + std::to_string(offset);
}

SampleImage sample(uint32_t algo) {
    SampleOptions o;
    o.checksum = uint8_t(algo);
    return make_sample_image(o);
}

ckpt_rec_hdr header_at(const std::vector<uint8_t>& bytes, uint64_t offset) {
    ckpt_rec_hdr hdr;
    std::memcpy(&hdr, bytes.data() + offset, sizeof hdr);
    return hdr;
}

// The record at `offset`'s crc as `algo` computes it.
uint32_t computed_crc(const std::vector<uint8_t>& bytes, uint64_t offset, uint32_t algo) {
    const ckpt_rec_hdr hdr = header_at(bytes, offset);
    return record_crc(algo, hdr, bytes.data() + offset + sizeof hdr, size_t(hdr.len));
}

// Stores the crc `algo` computes into the record at `offset`.
void set_crc(std::vector<uint8_t>& bytes, uint64_t offset, uint32_t algo) {
    const uint32_t crc = computed_crc(bytes, offset, algo);
    std::memcpy(bytes.data() + offset + offsetof(ckpt_rec_hdr, crc), &crc, sizeof crc);
}

// The offsets of every record, in stream order.
std::vector<uint64_t> record_offsets(const std::vector<uint8_t>& bytes) {
    std::vector<uint64_t> offsets;
    for (uint64_t off = 0; off + sizeof(ckpt_rec_hdr) <= bytes.size();) {
        offsets.push_back(off);
        off += sizeof(ckpt_rec_hdr) + (header_at(bytes, off).len + 7) / 8 * 8;
    }
    return offsets;
}

void set_head_checksum(std::vector<uint8_t>& bytes, uint8_t checksum) {
    bytes[sizeof(ckpt_rec_hdr) + offsetof(ckpt_head, checksum)] = checksum;
    set_crc(bytes, 0, CKPT_CSUM_CRC32C);
}

// ------------------------------------------------------------ the algorithms

TEST(RecordChecksum, CheckValues) {
    // Documentation/image-format.md, "Checksums".
    RecordChecksum crc(CKPT_CSUM_CRC32C), xxh(CKPT_CSUM_XXH64);
    crc.update("123456789", 9);
    xxh.update("123456789", 9);
    EXPECT_EQ(crc.value(), 0xE3069283u);
    EXPECT_EQ(xxh.value(), 0x40E6AE83u);  // xxh64 = 0x8CB841DB40E6AE83
    EXPECT_EQ(RecordChecksum(CKPT_CSUM_XXH64).value(), 0x51D8E999u);  // xxh64("") = 0xEF46DB3751D8E999
}

TEST(RecordChecksum, PiecesGiveTheWhole) {
    std::vector<uint8_t> data(5000);
    for (size_t i = 0; i < data.size(); i++) data[i] = uint8_t(i * 131 + 7);
    for (uint32_t algo : kAlgos) {
        RecordChecksum whole(algo);
        whole.update(data.data(), data.size());
        for (size_t split : {0u, 1u, 16u, 31u, 32u, 33u, 4095u, 4999u}) {
            RecordChecksum parts(algo);
            parts.update(data.data(), split);
            parts.update(nullptr, 0);
            parts.update(data.data() + split, data.size() - split);
            EXPECT_EQ(parts.value(), whole.value()) << checksum_name(algo) << " split " << split;
        }
    }
}

TEST(RecordChecksum, Names) {
    EXPECT_EQ(checksum_name(CKPT_CSUM_CRC32C), "crc32c");
    EXPECT_EQ(checksum_name(CKPT_CSUM_XXH64), "xxh64");
    EXPECT_EQ(checksum_name(9), "unknown (9)");
    uint32_t algo = 99;
    EXPECT_TRUE(parse_checksum_name("xxh64", &algo));
    EXPECT_EQ(algo, uint32_t(CKPT_CSUM_XXH64));
    EXPECT_TRUE(parse_checksum_name("crc32c", &algo));
    EXPECT_EQ(algo, uint32_t(CKPT_CSUM_CRC32C));
    EXPECT_FALSE(parse_checksum_name("auto", &algo));
    EXPECT_FALSE(parse_checksum_name("XXH64", &algo));
    EXPECT_FALSE(parse_checksum_name("unknown (9)", &algo));
}

TEST(RecordChecksum, OnlyMinorTwoAndLaterHaveTheField) {
    ckpt_head h = ImageWriter::default_head(4096, CKPT_CSUM_XXH64);
    EXPECT_EQ(image_checksum(h), uint32_t(CKPT_CSUM_XXH64));
    h.minor = 9;
    EXPECT_EQ(image_checksum(h), uint32_t(CKPT_CSUM_XXH64));
    h.minor = 1;
    EXPECT_EQ(image_checksum(h), uint32_t(CKPT_CSUM_CRC32C));
}

// ------------------------------------------------------------ valid images

TEST(ImageChecksum, Xxh64ImageVerifies) {
    SampleImage x = sample(CKPT_CSUM_XXH64);
    auto r = read_bytes(x.bytes);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->head.checksum, CKPT_CSUM_XXH64);
    EXPECT_EQ(r->head.minor, CKPT_FORMAT_MINOR);
    // The same records as the CRC-32C sample, other crc fields.
    SampleImage c = sample(CKPT_CSUM_CRC32C);
    ASSERT_EQ(x.bytes.size(), c.bytes.size());
    EXPECT_EQ(r->records, c.records);
    EXPECT_EQ(r->pages, 7u);
    EXPECT_NE(header_at(x.bytes, x.task_offset).crc, header_at(c.bytes, c.task_offset).crc);
}

TEST(ImageChecksum, Xxh64ImageWithTinyReads) {
    // Page data and payload tails cross the reader's buffer in pieces.
    SampleImage s = sample(CKPT_CSUM_XXH64);
    for (size_t chunk : {1u, 7u, 4095u, 70000u}) {
        struct Trickle final : ByteSource {
            Trickle(const std::vector<uint8_t>& d, size_t c) : data(d), chunk(c) {}
            Expected<size_t> read_some(void* buf, size_t len) override {
                const size_t n = std::min({len, chunk, data.size() - pos});
                std::memcpy(buf, data.data() + pos, n);
                pos += n;
                return n;
            }
            const std::vector<uint8_t>& data;
            size_t chunk;
            size_t pos = 0;
        } source(s.bytes, chunk);
        ImageReader reader(source);
        ImageVisitor none;
        auto r = reader.read(none);
        EXPECT_TRUE(r) << chunk << ": " << (r ? "" : r.error().message);
    }
}

TEST(ImageChecksum, HeadIsCrc32cLaterRecordsXxh64TailChainCrc32c) {
    SampleImage s = sample(CKPT_CSUM_XXH64);
    const std::vector<uint64_t> offsets = record_offsets(s.bytes);
    ASSERT_EQ(offsets.size(), s.records);
    uint32_t chain = kCrc32cInit;
    for (uint64_t off : offsets) {
        const ckpt_rec_hdr hdr = header_at(s.bytes, off);
        const uint32_t want = off == 0 ? CKPT_CSUM_CRC32C : CKPT_CSUM_XXH64;
        EXPECT_EQ(hdr.crc, computed_crc(s.bytes, off, want)) << "record at " << off;
        EXPECT_NE(hdr.crc, computed_crc(s.bytes, off, want ^ 1)) << "record at " << off;
        if (hdr.type == CKPT_REC_TAIL) {
            ckpt_tail t;
            std::memcpy(&t, s.bytes.data() + off + sizeof hdr, sizeof t);
            EXPECT_EQ(t.crc, crc32c_final(chain));
        } else {
            chain = crc32c_update(chain, &hdr.crc, 4);
        }
    }
}

TEST(ImageChecksum, FormatOneOneImageStillReads) {
    SampleOptions o;
    o.minor = 1;
    SampleImage s = make_sample_image(o);
    auto r = read_bytes(s.bytes);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->head.minor, 1);
    // In 1.1 the byte was reserved: CRC-32C records, and it must be 0.
    set_head_checksum(s.bytes, CKPT_CSUM_XXH64);
    EXPECT_EQ(outcome(s.bytes), "nonzero reserved field in HEAD record at offset 0");
}

TEST(ImageChecksum, NewerMinorKeepsTheField) {
    SampleOptions o;
    o.minor = CKPT_FORMAT_MINOR + 1;
    o.checksum = CKPT_CSUM_XXH64;
    EXPECT_EQ(outcome(make_sample_image(o).bytes), "OK");
    o.checksum = 77;
    EXPECT_EQ(outcome(make_sample_image(o).bytes),
              "unknown checksum algorithm 77 in HEAD record at offset 0 (this ckpt knows 0, crc32c, and 1, xxh64)");
}

// ------------------------------------------------------------ damage

TEST(ImageChecksum, FlippedPayloadByteIsCaughtWithEitherAlgorithm) {
    for (uint32_t algo : kAlgos) {
        SCOPED_TRACE(checksum_name(algo));
        const SampleImage s = sample(algo);
        const char* suffix = algo == CKPT_CSUM_XXH64 ? " as xxh64)" : ")";
        // A page (the streamed path) and payloads read whole.
        struct Case {
            const char* type;
            uint64_t record, byte;
        } cases[] = {{"PAGES", s.first_pages_offset, s.first_page_data_offset + 4097},
                     {"TASK", s.task_offset, s.task_offset + 30},
                     {"VMA", s.file_vma_offset, s.file_vma_offset + 90},
                     {"LDT", s.ldt_offset, s.ldt_offset + 30}};
        for (const Case& c : cases) {
            auto bytes = s.bytes;
            bytes[c.byte] ^= 0x20;
            const std::string msg = outcome(bytes);
            EXPECT_TRUE(starts_with(msg, "bad crc in " + at(c.type, c.record) + " (stored ")) << msg;
            EXPECT_EQ(msg.substr(msg.size() - std::strlen(suffix)), suffix) << msg;
        }
    }
}

TEST(ImageChecksum, EverySingleBitFlipIsDetectedInAnXxh64Image) {
    SampleImage s = sample(CKPT_CSUM_XXH64);
    for (size_t i = 0; i < s.bytes.size(); i++) {
        const bool in_page_area = i >= s.first_page_data_offset - 4096 && i < s.ldt_offset - 512;
        if (in_page_area && i % 97 != 0) continue;
        for (int bit = 0; bit < 8; bit += 3) {
            auto bytes = s.bytes;
            bytes[i] ^= uint8_t(1u << bit);
            ASSERT_NE(outcome(bytes), "OK") << "flip of bit " << bit << " at " << i << " went unnoticed";
        }
    }
}

TEST(ImageChecksum, HeadChecksummedWithXxh64IsRefused) {
    SampleImage s = sample(CKPT_CSUM_XXH64);
    set_crc(s.bytes, 0, CKPT_CSUM_XXH64);
    EXPECT_TRUE(starts_with(outcome(s.bytes), "bad crc in HEAD record at offset 0 (stored ")) << outcome(s.bytes);
}

TEST(ImageChecksum, RecordsMustUseTheAlgorithmHeadNames) {
    for (uint32_t named : kAlgos) {
        SCOPED_TRACE(checksum_name(named));
        // HEAD says one, the records after it carry the other.
        SampleImage s = sample(named ^ 1);
        set_head_checksum(s.bytes, uint8_t(named));
        EXPECT_TRUE(starts_with(outcome(s.bytes), "bad crc in " + at("TASK", s.task_offset))) << outcome(s.bytes);
        // With the records' crcs redone (the chain too), it reads.
        uint32_t chain = kCrc32cInit;
        for (uint64_t off : record_offsets(s.bytes)) {
            if (off == 0) {
                chain = crc32c_update(chain, s.bytes.data() + offsetof(ckpt_rec_hdr, crc), 4);
                continue;
            }
            if (header_at(s.bytes, off).type == CKPT_REC_TAIL) {
                const uint32_t tail_crc = crc32c_final(chain);
                std::memcpy(s.bytes.data() + off + sizeof(ckpt_rec_hdr) + offsetof(ckpt_tail, crc), &tail_crc, 4);
            }
            set_crc(s.bytes, off, named);
            chain = crc32c_update(chain, s.bytes.data() + off + offsetof(ckpt_rec_hdr, crc), 4);
        }
        EXPECT_EQ(outcome(s.bytes), "OK");
    }
}

TEST(ImageChecksum, TailChainIsCrc32cInAnXxh64Image) {
    SampleImage s = sample(CKPT_CSUM_XXH64);
    // TAIL's chain computed with XXH64 over the same crc fields: refused.
    Xxh64 chain;
    for (uint64_t off : record_offsets(s.bytes))
        if (off != s.tail_offset) chain.update(s.bytes.data() + off + offsetof(ckpt_rec_hdr, crc), 4);
    const uint32_t wrong = uint32_t(chain.digest());
    std::memcpy(s.bytes.data() + s.tail_offset + sizeof(ckpt_rec_hdr) + offsetof(ckpt_tail, crc), &wrong, 4);
    set_crc(s.bytes, s.tail_offset, CKPT_CSUM_XXH64);
    EXPECT_TRUE(starts_with(outcome(s.bytes), "bad crc chain in " + at("TAIL", s.tail_offset))) << outcome(s.bytes);
}

TEST(ImageChecksum, UnknownAlgorithmIsRefused) {
    for (uint8_t value : {2, 255}) {
        SampleImage s = sample(CKPT_CSUM_CRC32C);
        set_head_checksum(s.bytes, value);
        EXPECT_EQ(outcome(s.bytes), "unknown checksum algorithm " + std::to_string(value) +
                                        " in HEAD record at offset 0 (this ckpt knows 0, crc32c, and 1, xxh64)");
    }
}

TEST(ImageChecksum, ReservedBytesAfterTheFieldMustBeZero) {
    for (size_t i = 0; i < sizeof(ckpt_head::reserved); i++) {
        SampleImage s = sample(CKPT_CSUM_XXH64);
        s.bytes[sizeof(ckpt_rec_hdr) + offsetof(ckpt_head, reserved) + i] = 1;
        set_crc(s.bytes, 0, CKPT_CSUM_CRC32C);
        EXPECT_EQ(outcome(s.bytes), "nonzero reserved field in HEAD record at offset 0") << i;
    }
    static_assert(offsetof(ckpt_head, checksum) == 97 && sizeof(ckpt_head::reserved) == 6);
}

TEST(ImageChecksum, PreludeOfAnXxh64Image) {
    // What ckpt restore reads itself, and the chain it hands the module.
    SampleImage s = sample(CKPT_CSUM_XXH64);
    MemorySource source(s.bytes.data(), s.bytes.size());
    ImageReader reader(source);
    ImageVisitor none;
    auto p = reader.read_until_mm(none);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(image_checksum(p->summary.head), uint32_t(CKPT_CSUM_XXH64));
    uint32_t chain = kCrc32cInit;
    for (uint64_t off : record_offsets(s.bytes)) {
        if (off == s.mm_offset) break;
        chain = crc32c_update(chain, s.bytes.data() + off + offsetof(ckpt_rec_hdr, crc), 4);
    }
    EXPECT_EQ(p->chain_state, chain);
}

}  // namespace
}  // namespace ckpt
