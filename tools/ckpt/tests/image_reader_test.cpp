#include "image_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "crc32c.h"
#include "image_builder.h"
#include "image_format.h"

namespace ckpt {
namespace {

using test::ImageWriter;
using test::make_sample_image;
using test::PagesTweaks;
using test::RecordTweaks;
using test::SampleImage;
using test::SampleOptions;
using test::TailTweaks;

// Records what the reader reports.
struct Collector : ImageVisitor {
    int heads = 0, tasks = 0, mms = 0, ldts = 0, tails = 0;
    std::vector<VmaRecord> vmas;
    std::vector<uint64_t> page_addrs;
    std::vector<std::vector<uint8_t>> page_data;
    std::vector<uint32_t> unknown_types;
    std::vector<ThreadRecord> threads;
    std::vector<ProcessRecord> processes;
    std::vector<FileRecord> files;
    std::vector<ckpt_restart> restarts;
    void on_head(const ckpt_head&) override { heads++; }
    void on_restart(const ckpt_restart& r) override { restarts.push_back(r); }
    std::vector<SigQueueRecord> sigqueues;
    void on_sigqueue(const SigQueueRecord& q) override { sigqueues.push_back(q); }
    void on_process(const ProcessRecord& p) override { processes.push_back(p); }
    void on_file(const FileRecord& f) override { files.push_back(f); }
    void on_thread(const ThreadRecord& t) override { threads.push_back(t); }
    void on_task(const ckpt_task&) override { tasks++; }
    void on_mm(const ckpt_mm&) override { mms++; }
    void on_vma(const VmaRecord& v) override { vmas.push_back(v); }
    void on_page(uint64_t addr, const uint8_t* data, size_t n) override {
        page_addrs.push_back(addr);
        page_data.emplace_back(data, data + n);
    }
    void on_ldt(const LdtRecord&) override { ldts++; }
    void on_unknown(uint32_t type, uint64_t, uint64_t) override { unknown_types.push_back(type); }
    void on_tail(const ckpt_tail&) override { tails++; }
};

Expected<ImageSummary> read_bytes(const std::vector<uint8_t>& bytes, ImageVisitor* visitor = nullptr) {
    MemorySource source(bytes.data(), bytes.size());
    ImageReader reader(source);
    ImageVisitor none;
    return reader.read(visitor ? *visitor : none);
}

// "OK" or the error message: lets tests compare against expected text.
std::string outcome(const std::vector<uint8_t>& bytes) {
    auto r = read_bytes(bytes);
    return r ? "OK" : r.error().message;
}

// Reads with a source that returns at most `chunk` bytes per call, like a pipe.
class TricklingSource final : public ByteSource {
public:
    TricklingSource(const std::vector<uint8_t>& data, size_t chunk) : data_(data), chunk_(chunk) {}
    Expected<size_t> read_some(void* buf, size_t len) override {
        size_t n = std::min({len, chunk_, data_.size() - pos_});
        std::memcpy(buf, data_.data() + pos_, n);
        pos_ += n;
        return n;
    }

private:
    const std::vector<uint8_t>& data_;
    size_t chunk_;
    size_t pos_ = 0;
};

class FailingSource final : public ByteSource {
public:
    Expected<size_t> read_some(void*, size_t) override { return io_error("disk on fire"); }
};

// Rewrites a record's stored CRC after the test edited its header or payload,
// so the reader gets past the CRC to the structural check under test.
void fix_crc(std::vector<uint8_t>& bytes, uint64_t offset) {
    ckpt_rec_hdr hdr;
    std::memcpy(&hdr, bytes.data() + offset, sizeof hdr);
    uint32_t crc = crc32c_update(kCrc32cInit, bytes.data() + offset, 16);
    crc = crc32c_update(crc, bytes.data() + offset + 24, hdr.len);
    hdr.crc = crc32c_final(crc);
    std::memcpy(bytes.data() + offset, &hdr, sizeof hdr);
}

std::string at(const char* type, uint64_t offset) {
    return std::string(type) + " record at offset " + std::to_string(offset);
}

template <typename T>
void poke(std::vector<uint8_t>& bytes, uint64_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof value);
}

// --------------------------------------------------------------- valid input

TEST(ImageReader, SampleImageIsValid) {
    SampleImage s = make_sample_image();
    Collector c;
    auto r = read_bytes(s.bytes, &c);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->records, s.records);
    EXPECT_EQ(r->vmas, 4u);
    EXPECT_EQ(r->pages, 7u);
    EXPECT_EQ(r->bytes, s.bytes.size());
    EXPECT_EQ(r->tail.nr_records, s.records - 1);
    EXPECT_EQ(c.heads, 1);
    EXPECT_EQ(c.tasks, 1);
    EXPECT_EQ(c.mms, 1);
    EXPECT_EQ(c.ldts, 1);
    EXPECT_EQ(c.tails, 1);
    ASSERT_EQ(c.vmas.size(), 4u);
    EXPECT_EQ(c.vmas[1].name, "/usr/lib/libsample.so.1");
    EXPECT_EQ(c.vmas[3].name, "[vdso]");
    ASSERT_EQ(c.page_addrs.size(), 7u);
    EXPECT_EQ(c.page_addrs[0], 0x1000000u);
    EXPECT_EQ(c.page_data[0], test::pattern_page(0x1000000, 4096));
    EXPECT_EQ(c.page_data[4], test::pattern_page(0x1007000, 4096));
    EXPECT_EQ(c.unknown_types, std::vector<uint32_t>{99});
    EXPECT_EQ(s.first_page_data_offset % 4096, 0u);
}

TEST(ImageReader, WorksWithTinyReads) {
    SampleImage s = make_sample_image();
    for (size_t chunk : {1u, 3u, 8u, 4095u}) {
        TricklingSource src(s.bytes, chunk);
        ImageReader reader(src);
        Collector c;
        auto r = reader.read(c);
        ASSERT_TRUE(r) << chunk << ": " << r.error().message;
        EXPECT_EQ(c.page_addrs.size(), 7u);
    }
}

TEST(ImageReader, MinimalImageWithoutVmas) {
    ImageWriter w;
    w.head(ImageWriter::default_head());
    ckpt_task t{};
    t.pid = t.tid = 1;
    t.nr_threads = 1;
    t.state = CKPT_TASK_FROZEN;
    w.task(t);
    w.mm(ckpt_mm{});
    w.ldt({});
    w.tail();
    EXPECT_EQ(outcome(w.bytes()), "OK");
}

TEST(ImageReader, UnknownRecordsAreSkippedAnywhere) {
    // Between a VMA and its PAGES, with a large odd payload, and before TAIL.
    SampleOptions o;
    o.after_heap_vma = [](ImageWriter& w) { w.record(1000, std::vector<uint8_t>(100001, 0x11)); };
    SampleImage s = make_sample_image(o);
    Collector c;
    auto r = read_bytes(s.bytes, &c);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(c.unknown_types, (std::vector<uint32_t>{1000, 99}));
    EXPECT_EQ(c.page_addrs.size(), 7u);
}

TEST(ImageReader, UnknownRecordStillChecksummed) {
    uint64_t unknown_at = 0;
    SampleOptions o;
    o.after_heap_vma = [&](ImageWriter& w) { unknown_at = w.record(77, {1, 2, 3}); };
    SampleImage s = make_sample_image(o);
    s.bytes[unknown_at + 25] ^= 0x40;
    EXPECT_EQ(outcome(s.bytes).rfind("bad crc in " + at("type 77", unknown_at), 0), 0u) << outcome(s.bytes);
}

TEST(ImageReader, NewerMinorMayGrowRecordsAndUseReservedFields) {
    ImageWriter w;
    ckpt_head h = ImageWriter::default_head();
    h.minor = 7;
    h.reserved[0] = 1;
    std::vector<uint8_t> head(sizeof h + 12, 0xEE);
    std::memcpy(head.data(), &h, sizeof h);
    w.record(CKPT_REC_HEAD, head);
    ckpt_task t{};
    t.pid = t.tid = 5;
    t.nr_threads = 1;
    t.state = CKPT_TASK_STOPPED;
    std::vector<uint8_t> task(sizeof t + 8, 0x33);
    std::memcpy(task.data(), &t, sizeof t);
    w.record(CKPT_REC_TASK, task, RecordTweaks{.flags = 4});
    test::SampleProcess process = test::sample_process(5);
    process.fixed.reserved = 2;
    process.fixed.flags |= 1u << 30;
    w.process(process);
    ckpt_thread thread = test::sample_thread(5, true);
    thread.reserved = 3;
    thread.flags |= 1u << 20;
    w.thread(thread);
    ckpt_file file{};
    file.kind = 99;
    file.fd_flags = 1u << 7;
    file.reserved = 1;
    w.file(file, "/x");
    ckpt_mm mm{};
    mm.mm_flags = 1u << 20;  // undefined in 1.1
    w.mm(mm);
    w.ldt({});
    w.tail();
    EXPECT_EQ(outcome(w.bytes()), "OK");
}

// ------------------------------------------------------------ damaged input

TEST(ImageReader, BitFlipInPageData) {
    SampleImage s = make_sample_image();
    s.bytes[s.first_page_data_offset + 100] ^= 0x08;
    EXPECT_EQ(outcome(s.bytes).rfind("bad crc in " + at("PAGES", s.first_pages_offset), 0), 0u)
        << outcome(s.bytes);
}

TEST(ImageReader, BitFlipInEachRecordIsBlamedOnThatRecord) {
    SampleImage s = make_sample_image();
    struct Case {
        const char* type;
        uint64_t offset;
    } cases[] = {{"TASK", s.task_offset},
                 {"MM", s.mm_offset},
                 {"VMA", s.heap_vma_offset},
                 {"VMA", s.file_vma_offset},
                 {"LDT", s.ldt_offset},
                 {"TAIL", s.tail_offset}};
    for (const auto& c : cases) {
        auto bytes = s.bytes;
        bytes[c.offset + 30] ^= 0x01;  // inside every payload
        EXPECT_EQ(outcome(bytes).rfind("bad crc in " + at(c.type, c.offset), 0), 0u) << outcome(bytes);
    }
}

TEST(ImageReader, EverySingleBitFlipIsDetected) {
    SampleImage s = make_sample_image();
    for (size_t i = 0; i < s.bytes.size(); i++) {
        // All of the metadata, a sample of the page contents and padding.
        const bool in_page_area = i >= s.first_page_data_offset - 4096 && i < s.ldt_offset - 512;
        if (in_page_area && i % 61 != 0) continue;
        for (int bit = 0; bit < 8; bit++) {
            auto bytes = s.bytes;
            bytes[i] ^= uint8_t(1u << bit);
            ASSERT_NE(outcome(bytes), "OK") << "flip of bit " << bit << " at " << i << " went unnoticed";
        }
    }
}

TEST(ImageReader, EveryTruncationIsDetected) {
    SampleImage s = make_sample_image();
    for (size_t len = 0; len < s.bytes.size(); len += (len > 512 && len + 512 < s.bytes.size()) ? 7 : 1) {
        std::vector<uint8_t> cut(s.bytes.begin(), s.bytes.begin() + long(len));
        std::string msg = outcome(cut);
        ASSERT_NE(msg, "OK") << len;
        if (len == 0)
            EXPECT_EQ(msg, "empty stream: not a ckpt image");
        else
            EXPECT_NE(msg.find("truncated stream"), std::string::npos) << len << ": " << msg;
    }
}

TEST(ImageReader, TruncatedInsidePageData) {
    SampleImage s = make_sample_image();
    std::vector<uint8_t> cut(s.bytes.begin(), s.bytes.begin() + long(s.first_page_data_offset + 5000));
    EXPECT_EQ(outcome(cut), "truncated stream: " + at("PAGES", s.first_pages_offset) + " needs " +
                                std::to_string(s.first_page_data_offset - s.first_pages_offset - 24 + 3 * 4096) +
                                " payload bytes, stream ends at offset " + std::to_string(cut.size()));
}

TEST(ImageReader, MissingTail) {
    SampleOptions o;
    o.skip_tail = true;
    SampleImage s = make_sample_image(o);
    EXPECT_EQ(outcome(s.bytes), "truncated stream: no TAIL record (stream ends at offset " +
                                    std::to_string(s.bytes.size()) + " after " + std::to_string(s.records) +
                                    " records)");
}

TEST(ImageReader, TrailingDataAfterTail) {
    SampleImage s = make_sample_image();
    const size_t end = s.bytes.size();
    s.bytes.resize(end + 8, 0);
    EXPECT_EQ(outcome(s.bytes), "trailing data after the TAIL record, at offset " + std::to_string(end));
}

TEST(ImageReader, WrongMagic) {
    SampleImage s = make_sample_image();
    s.bytes[24] = 'X';
    EXPECT_EQ(outcome(s.bytes), "bad magic in HEAD record at offset 0: not a ckpt image");
}

TEST(ImageReader, NotAnImageAtAll) {
    std::vector<uint8_t> elf = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
    elf.resize(4096, 0);
    EXPECT_EQ(outcome(elf), "not a ckpt image: first record has type 1179403647, expected HEAD (1)");
}

TEST(ImageReader, WrongMajor) {
    ImageWriter w;
    ckpt_head h = ImageWriter::default_head();
    h.major = 2;
    h.minor = 0;
    w.head(h);
    EXPECT_EQ(outcome(w.bytes()), "unsupported image format version 2.0 (this ckpt reads major version 1)");
}

TEST(ImageReader, HeadProblems) {
    {
        ImageWriter w;
        ckpt_head h = ImageWriter::default_head();
        h.page_size = 3000;
        w.head(h);
        EXPECT_EQ(outcome(w.bytes()), "bad page size 3000 in HEAD record at offset 0");
    }
    {
        ImageWriter w;
        ckpt_head h = ImageWriter::default_head();
        std::memset(h.release, 'x', sizeof h.release);
        w.head(h);
        EXPECT_EQ(outcome(w.bytes()), "kernel release in HEAD record at offset 0 is not NUL-terminated");
    }
    {
        ImageWriter w;
        ckpt_head h = ImageWriter::default_head();
        std::vector<uint8_t> short_head(64);
        std::memcpy(short_head.data(), &h, 64);
        w.record(CKPT_REC_HEAD, short_head);
        EXPECT_EQ(outcome(w.bytes()), "HEAD record at offset 0 too short: len 64, need 104");
    }
    {
        SampleImage s = make_sample_image();
        ckpt_head h = ImageWriter::default_head();
        h.reserved[3] = 1;
        std::memcpy(s.bytes.data() + 24, &h, sizeof h);
        fix_crc(s.bytes, 0);
        EXPECT_EQ(outcome(s.bytes), "nonzero reserved field in HEAD record at offset 0");
    }
}

TEST(ImageReader, DuplicateHead) {
    SampleOptions o;
    o.after_heap_vma = [](ImageWriter& w) { w.head(ImageWriter::default_head()); };
    SampleImage s = make_sample_image(o);
    EXPECT_EQ(outcome(s.bytes), "duplicate " + at("HEAD", s.first_pages_offset - 128));
}

TEST(ImageReader, HeaderFlagsAndReservedMustBeZero) {
    uint64_t off = 0;
    SampleOptions o;
    o.after_heap_vma = [&](ImageWriter& w) { off = w.record(55, {}, RecordTweaks{.flags = 2}); };
    std::string msg = outcome(make_sample_image(o).bytes);
    EXPECT_EQ(msg, "nonzero flags 0x2 in " + at("type 55", off));
    o.after_heap_vma = [&](ImageWriter& w) { off = w.record(55, {}, RecordTweaks{.reserved = 1}); };
    msg = outcome(make_sample_image(o).bytes);
    EXPECT_EQ(msg, "nonzero reserved header field in " + at("type 55", off));
}

TEST(ImageReader, BadStoredCrc) {
    uint64_t off = 0;
    SampleOptions o;
    o.after_heap_vma = [&](ImageWriter& w) {
        off = w.pages({0x1002000}, {test::pattern_page(0, 4096)}, {}, RecordTweaks{.crc_xor = 1});
    };
    SampleImage s = make_sample_image(o);
    EXPECT_EQ(outcome(s.bytes).rfind("bad crc in " + at("PAGES", off), 0), 0u) << outcome(s.bytes);
}

TEST(ImageReader, NonzeroRecordPadding) {
    uint64_t off = 0;
    SampleOptions o;
    o.after_heap_vma = [&](ImageWriter& w) { off = w.record(60, {1, 2, 3}, RecordTweaks{.nonzero_padding = true}); };
    std::string msg = outcome(make_sample_image(o).bytes);
    EXPECT_EQ(msg, "nonzero padding after the payload of " + at("type 60", off));
}

TEST(ImageReader, MisalignedRecordAfterShortLen) {
    // len one short of the payload: the reader pads from the wrong place.
    uint64_t off = 0;
    SampleOptions o;
    o.after_heap_vma = [&](ImageWriter& w) {
        off = w.record(60, std::vector<uint8_t>(16, 7), RecordTweaks{.len_delta = -1});
    };
    EXPECT_NE(outcome(make_sample_image(o).bytes), "OK");
}

TEST(ImageReader, AbsurdLength) {
    SampleImage s = make_sample_image();
    poke<uint64_t>(s.bytes, s.heap_vma_offset + 8, (uint64_t(1) << 40));
    EXPECT_EQ(outcome(s.bytes), "absurd length 1099511627776 in " + at("VMA", s.heap_vma_offset));
}

TEST(ImageReader, AbsurdLengthsForKnownTypes) {
    {
        SampleImage s = make_sample_image();
        poke<uint64_t>(s.bytes, s.heap_vma_offset + 8, uint64_t(1) << 20);
        EXPECT_EQ(outcome(s.bytes), "absurd length 1048576 in " + at("VMA", s.heap_vma_offset));
    }
    {
        SampleImage s = make_sample_image();
        const uint64_t too_long = 16 + 8 * 2048 + 4096 + 2048 * 4096 + 1;
        poke<uint64_t>(s.bytes, s.first_pages_offset + 8, too_long);
        EXPECT_EQ(outcome(s.bytes), "absurd length " + std::to_string(too_long) + " in " +
                                        at("PAGES", s.first_pages_offset));
    }
}

// The worked example at the end of Documentation/image-format.md.
TEST(ImageReader, DocumentationExample) {
    ImageWriter w;
    EXPECT_EQ(w.head(ImageWriter::default_head()), 0u);
    ckpt_task t{};
    t.pid = t.tid = 1;
    t.nr_threads = 1;
    t.state = CKPT_TASK_STOPPED;
    EXPECT_EQ(w.record(CKPT_REC_TASK, std::vector<uint8_t>(reinterpret_cast<uint8_t*>(&t),
                                                           reinterpret_cast<uint8_t*>(&t + 1))),
              128u);
    test::SampleProcess process = test::sample_process(1);
    process.groups.clear();
    process.exe = "/bin/example";
    process.cwd = "/";
    EXPECT_EQ(w.process(process), 184u);  // 2505 bytes
    EXPECT_EQ(w.thread(test::sample_thread(1, true)), 2720u);
    ckpt_file pipe{};
    pipe.fd = 1;
    pipe.kind = CKPT_FILE_FIFO;
    pipe.f_flags = 1;
    EXPECT_EQ(w.file(pipe, "pipe:[4242]"), 3920u);
    EXPECT_EQ(w.mm(ckpt_mm{}), 4024u);
    ckpt_vma v{};
    v.start = 0x7f0000000000;
    v.end = 0x7f0000003000;
    v.kind = CKPT_VMA_ANON;
    EXPECT_EQ(w.vma(v, ""), 4152u);
    EXPECT_EQ(w.pages({0x7f0000000000, 0x7f0000002000},
                      {test::pattern_page(1, 4096), test::pattern_page(2, 4096)}),
              4240u);
    ckpt_pages p;
    std::memcpy(&p, w.bytes().data() + 4240 + 24, sizeof p);
    EXPECT_EQ(p.data_off, 3928u);
    EXPECT_EQ(w.ldt({}), 16384u);
    EXPECT_EQ(w.tail(), 16416u);
    EXPECT_EQ(w.bytes().size(), 16480u);
    Collector c;
    auto r = read_bytes(w.bytes(), &c);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->tail.nr_records, 9u);
    EXPECT_EQ(r->tail.bytes, 16416u);
    EXPECT_EQ(c.page_data[1], test::pattern_page(2, 4096));
}

// ------------------------------------------------------------ THREAD (1.1)

// A writer of HEAD and TASK (of one thread per tid) whose THREAD records
// the test writes.
ImageWriter threads_image(uint32_t nr_threads) {
    ImageWriter w;
    w.head(ImageWriter::default_head());
    ckpt_task t{};
    t.pid = t.tid = 10;
    t.nr_threads = nr_threads;
    t.state = CKPT_TASK_STOPPED;
    w.record(CKPT_REC_TASK, std::vector<uint8_t>(reinterpret_cast<uint8_t*>(&t), reinterpret_cast<uint8_t*>(&t + 1)));
    w.process(test::sample_process(10));
    return w;
}

std::string finish(ImageWriter& w) {
    w.mm(ckpt_mm{});
    w.ldt({});
    w.tail();
    return outcome(w.bytes());
}

TEST(ImageReader, ThreadRecordsLeaderFirstThenByTid) {
    ImageWriter w = threads_image(3);
    std::vector<uint8_t> fpu(832);
    for (size_t i = 0; i < fpu.size(); i++) fpu[i] = uint8_t(i);
    w.thread(test::sample_thread(10, true), fpu);
    w.thread(test::sample_thread(12, false));
    w.thread(test::sample_thread(15, false));
    w.mm(ckpt_mm{});
    w.ldt({});
    w.tail();
    Collector c;
    auto r = read_bytes(w.bytes(), &c);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->threads, 3u);
    ASSERT_EQ(c.threads.size(), 3u);
    EXPECT_EQ(c.threads[0].thread.tid, 10);
    EXPECT_EQ(c.threads[0].xstate, fpu);
    EXPECT_EQ(c.threads[2].thread.tid, 15);
    EXPECT_EQ(c.threads[1].thread.regs[16], 0x401000u + 12);
}

TEST(ImageReader, ThreadRecordsOutOfOrder) {
    {
        ImageWriter w = threads_image(2);
        w.thread(test::sample_thread(12, false));
        const uint64_t off = w.thread(test::sample_thread(10, true));
        EXPECT_EQ(finish(w), at("THREAD", off) + " (tid 10) out of order: the leader comes first, then ascending tids");
    }
    {
        ImageWriter w = threads_image(2);
        w.thread(test::sample_thread(10, true));
        w.thread(test::sample_thread(14, false));
        const uint64_t off = w.thread(test::sample_thread(14, false));
        EXPECT_EQ(finish(w), at("THREAD", off) + " (tid 14) out of order: the leader comes first, then ascending tids");
    }
    {
        // After MM.
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        w.mm(ckpt_mm{});
        const uint64_t off = w.thread(test::sample_thread(11, false));
        EXPECT_EQ(outcome(w.bytes()), "unexpected " + at("THREAD", off) + ": expected VMA, PAGES, LDT or TAIL");
    }
}

TEST(ImageReader, ThreadRecordDamage) {
    {
        // The FPU area is shorter than xstate_size says.
        ImageWriter w = threads_image(1);
        const uint64_t off = w.thread(test::sample_thread(10, true), std::vector<uint8_t>(800));
        EXPECT_EQ(finish(w), at("THREAD", off) + ": len 1144 is not 344 + xstate_size 832");
    }
    {
        ckpt_thread t = test::sample_thread(10, true);
        t.reserved2 = 1;
        ImageWriter w = threads_image(1);
        const uint64_t off = w.thread(t);
        EXPECT_EQ(finish(w), "nonzero reserved field or unknown flags 0x1 in " + at("THREAD", off));
    }
    {
        // Format 1.1 images name every thread: at least one THREAD record.
        ImageWriter w = threads_image(1);
        w.mm(ckpt_mm{});
        w.ldt({});
        w.tail();
        EXPECT_EQ(outcome(w.bytes()).rfind("no THREAD record before MM", 0), 0u) << outcome(w.bytes());
    }
}

// ----------------------------------------------------------- RESTART (1.3)

uint64_t restart_record(ImageWriter& w, const ckpt_restart& r) {
    return w.record(CKPT_REC_RESTART,
                    std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(&r), reinterpret_cast<const uint8_t*>(&r + 1)));
}

ckpt_restart sample_restart(int32_t tid) {
    ckpt_restart r{};
    r.tid = tid;
    r.kind = CKPT_RESTART_SLEEP;
    r.clockid = 1;
    r.remaining_ns = 1234567890;
    r.rmtp = 0x7ffd0000;
    return r;
}

TEST(ImageReader, RestartRecordFollowsItsThread) {
    ImageWriter w = threads_image(2);
    w.thread(test::sample_thread(10, true));
    restart_record(w, sample_restart(10));
    w.thread(test::sample_thread(12, false));
    w.mm(ckpt_mm{});
    w.ldt({});
    w.tail();
    Collector c;
    auto r = read_bytes(w.bytes(), &c);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->restarts, 1u);
    ASSERT_EQ(c.restarts.size(), 1u);
    EXPECT_EQ(c.restarts[0].tid, 10);
    EXPECT_EQ(c.restarts[0].remaining_ns, 1234567890u);
    EXPECT_EQ(c.restarts[0].rmtp, 0x7ffd0000u);
}

TEST(ImageReader, RestartRecordDamage) {
    {
        // Not right after a THREAD record: after PROCESS.
        ImageWriter w = threads_image(1);
        const uint64_t off = restart_record(w, sample_restart(10));
        w.thread(test::sample_thread(10, true));
        EXPECT_EQ(finish(w), at("RESTART", off) + " does not follow a THREAD record");
    }
    {
        // Two for one thread.
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        restart_record(w, sample_restart(10));
        const uint64_t off = restart_record(w, sample_restart(10));
        EXPECT_EQ(finish(w), at("RESTART", off) + " does not follow a THREAD record");
    }
    {
        ImageWriter w = threads_image(2);
        w.thread(test::sample_thread(10, true));
        w.thread(test::sample_thread(12, false));
        const uint64_t off = restart_record(w, sample_restart(10));
        EXPECT_EQ(finish(w), at("RESTART", off) + " is for tid 10, after the THREAD record of tid 12");
    }
    {
        ckpt_restart bad = sample_restart(10);
        bad.kind = 4;
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        const uint64_t off = restart_record(w, bad);
        EXPECT_EQ(finish(w), "unknown kind 4 in " + at("RESTART", off));
    }
    {
        ckpt_restart bad = sample_restart(10);
        bad.kind = CKPT_RESTART_POLL;  // a clock and rem are a sleep's
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        const uint64_t off = restart_record(w, bad);
        EXPECT_EQ(finish(w), "nonzero reserved field in " + at("RESTART", off));
    }
    {
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        const ckpt_restart r = sample_restart(10);
        const uint64_t off = w.record(
            CKPT_REC_RESTART, std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(&r), reinterpret_cast<const uint8_t*>(&r) + 16));
        EXPECT_EQ(finish(w), at("RESTART", off) + ": len 16 is less than 32");
    }
}

// ---------------------------------------------------------- SIGQUEUE (1.4)

// A SIGQUEUE record of `nr` siginfos of `signo`, si_value 100 + i.
uint64_t sigqueue_record(ImageWriter& w, int32_t tid, uint32_t nr, uint32_t queued, int32_t signo = 34) {
    const ckpt_sigqueue q{tid, nr, queued, 0};
    std::vector<uint8_t> bytes(sizeof q + size_t(nr) * CKPT_SIGINFO_SIZE, 0);
    std::memcpy(bytes.data(), &q, sizeof q);
    for (uint32_t i = 0; i < nr; i++) {
        uint8_t* info = bytes.data() + sizeof q + size_t(i) * CKPT_SIGINFO_SIZE;
        const int32_t code = -1;  // SI_QUEUE
        const uint64_t value = 100 + i;
        std::memcpy(info, &signo, 4);
        std::memcpy(info + 8, &code, 4);
        std::memcpy(info + 24, &value, 8);
    }
    return w.record(CKPT_REC_SIGQUEUE, bytes);
}

TEST(ImageReader, SigQueueRecordsFollowTheirOwners) {
    ImageWriter w = threads_image(2);
    sigqueue_record(w, 0, 2, 2);
    w.thread(test::sample_thread(10, true));
    restart_record(w, sample_restart(10));
    sigqueue_record(w, 10, CKPT_SIGQUEUE_MAX, CKPT_SIGQUEUE_MAX + 5);
    w.thread(test::sample_thread(12, false));
    sigqueue_record(w, 12, 1, 1, 10);
    w.mm(ckpt_mm{});
    w.ldt({});
    w.tail();
    Collector c;
    auto r = read_bytes(w.bytes(), &c);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->sigqueues, 3u);
    ASSERT_EQ(c.sigqueues.size(), 3u);
    EXPECT_EQ(c.sigqueues[0].queue.tid, 0);
    ASSERT_EQ(c.sigqueues[0].infos.size(), 2u);
    uint64_t value;
    std::memcpy(&value, c.sigqueues[0].infos[1].data() + 24, 8);
    EXPECT_EQ(value, 101u);
    EXPECT_EQ(c.sigqueues[1].queue.tid, 10);
    EXPECT_EQ(c.sigqueues[1].queue.queued, CKPT_SIGQUEUE_MAX + 5u);
    EXPECT_EQ(c.sigqueues[1].infos.size(), size_t(CKPT_SIGQUEUE_MAX));
    EXPECT_EQ(c.sigqueues[2].queue.tid, 12);
    EXPECT_EQ(c.restarts.size(), 1u);
}

TEST(ImageReader, SigQueueRecordDamage) {
    {
        // The process's queue, but after a THREAD record.
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        const uint64_t off = sigqueue_record(w, 0, 1, 1);
        EXPECT_EQ(finish(w), at("SIGQUEUE", off) + " is for tid 0, where thread 10's queue belongs");
    }
    {
        // Another thread's queue after this thread's record.
        ImageWriter w = threads_image(2);
        w.thread(test::sample_thread(10, true));
        w.thread(test::sample_thread(12, false));
        const uint64_t off = sigqueue_record(w, 10, 1, 1);
        EXPECT_EQ(finish(w), at("SIGQUEUE", off) + " is for tid 10, where thread 12's queue belongs");
    }
    {
        // After a FILE record: not after its owner.
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        ckpt_file f{};
        f.fd = 3;
        f.kind = CKPT_FILE_REGULAR;
        w.file(f, "/x");
        const uint64_t off = sigqueue_record(w, 10, 1, 1);
        EXPECT_NE(finish(w).find(at("SIGQUEUE", off)), std::string::npos);
    }
    const struct {
        uint32_t nr, queued;
        int32_t signo;
        const char* says;
    } bad[] = {
        {2, 1, 34, "2 siginfos of 1 queued"},
        {1, 3, 34, "1 siginfos of 3 queued"},  // a short record for a short queue
        {0, 0, 34, "0 siginfos of 0 queued"},
        {1, 1, 0, "siginfo 0 is of signal 0"},
        {1, 1, 65, "siginfo 0 is of signal 65"},
    };
    for (const auto& b : bad) {
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        sigqueue_record(w, 10, b.nr, b.queued, b.signo);
        EXPECT_NE(finish(w).find(b.says), std::string::npos) << b.says;
    }
}

// -------------------------------------------------------------- VDSO (1.3)

uint64_t vdso_record(ImageWriter& w, uint64_t start, uint64_t size, size_t bytes) {
    ckpt_vdso v{start, size};
    std::vector<uint8_t> payload(sizeof v + bytes, 0x7f);
    std::memcpy(payload.data(), &v, sizeof v);
    return w.record(CKPT_REC_VDSO, payload);
}

TEST(ImageReader, VdsoRecordAfterTheFilesBeforeMm) {
    struct : Collector {
        std::vector<VdsoRecord> vdsos;
        void on_vdso(const VdsoRecord& v) override { vdsos.push_back(v); }
    } c;
    ImageWriter w = threads_image(1);
    w.thread(test::sample_thread(10, true));
    ckpt_file f{};
    f.fd = 0;
    f.kind = CKPT_FILE_CHAR;
    w.file(f, "/dev/null");
    vdso_record(w, 0x7ffd00000000, 8192, 8192);
    w.mm(ckpt_mm{});
    w.ldt({});
    w.tail();
    auto r = read_bytes(w.bytes(), &c);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->vdsos, 1u);
    ASSERT_EQ(c.vdsos.size(), 1u);
    EXPECT_EQ(c.vdsos[0].vdso.start, 0x7ffd00000000u);
    EXPECT_EQ(c.vdsos[0].bytes, std::vector<uint8_t>(8192, 0x7f));
}

TEST(ImageReader, VdsoRecordDamage) {
    {
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        vdso_record(w, 0x7ffd00000000, 8192, 8192);
        const uint64_t off = vdso_record(w, 0x7ffd00000000, 8192, 8192);
        EXPECT_EQ(finish(w), "unexpected " + at("VDSO", off) + ": expected MM");
    }
    {
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        vdso_record(w, 0x7ffd00000000, 8192, 8192);
        ckpt_file f{};
        f.kind = CKPT_FILE_CHAR;
        const uint64_t off = w.file(f, "/dev/null");
        EXPECT_EQ(finish(w), "unexpected " + at("FILE", off) + ": expected MM");
    }
    {
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        const uint64_t off = vdso_record(w, 0x7ffd00000000, 8192, 4096);  // cut short
        EXPECT_EQ(finish(w), at("VDSO", off) + ": a vDSO of 8192 bytes at 0x7ffd00000000 in a payload of 4112");
    }
    {
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        const uint64_t off = vdso_record(w, 0x7ffd00000800, 4096, 4096);  // not page-aligned
        EXPECT_EQ(finish(w), at("VDSO", off) + ": a vDSO of 4096 bytes at 0x7ffd00000800 in a payload of 4112");
    }
}

// ------------------------------------------------------ PROCESS, FILE (1.1)

TEST(ImageReader, ProcessAndFileRecordsRoundTrip) {
    ImageWriter w = threads_image(1);  // PROCESS: sample_process(10)
    w.thread(test::sample_thread(10, true));
    ckpt_file f{};
    f.fd = 0;
    f.kind = CKPT_FILE_CHAR;
    w.file(f, "/dev/null");
    f.fd = 7;
    f.kind = CKPT_FILE_ANON;
    f.fd_flags = CKPT_FILE_CLOEXEC;
    w.file(f, "anon_inode:[eventfd]");
    f.fd = 8;
    f.fd_flags = CKPT_FILE_PATH_TOO_LONG;
    w.file(f, "");
    w.mm(ckpt_mm{});
    w.ldt({});
    w.tail();
    Collector c;
    auto r = read_bytes(w.bytes(), &c);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->files, 3u);
    ASSERT_EQ(c.processes.size(), 1u);
    const test::SampleProcess want = test::sample_process(10);
    EXPECT_EQ(c.processes[0].auxv, want.auxv);
    EXPECT_EQ(c.processes[0].groups, want.groups);
    EXPECT_EQ(c.processes[0].exe, want.exe);
    EXPECT_EQ(c.processes[0].cwd, want.cwd);
    EXPECT_EQ(c.processes[0].root, want.root);
    EXPECT_EQ(c.processes[0].process.action[9].handler, 0x401230u);
    ASSERT_EQ(c.files.size(), 3u);
    EXPECT_EQ(c.files[1].path, "anon_inode:[eventfd]");
    EXPECT_EQ(c.files[2].path, "");
}

TEST(ImageReader, ProcessAndFileOrder) {
    {
        // 1.1: PROCESS comes before the THREADs.
        ImageWriter w = threads_image(1);
        const uint64_t off = w.process(test::sample_process(10));
        EXPECT_EQ(finish(w), "unexpected " + at("PROCESS", off) + ": expected THREAD");
    }
    {
        ImageWriter w;
        w.head(ImageWriter::default_head());
        ckpt_task t{};
        t.pid = t.tid = 10;
        t.nr_threads = 1;
        t.state = CKPT_TASK_STOPPED;
        w.record(CKPT_REC_TASK, std::vector<uint8_t>(reinterpret_cast<uint8_t*>(&t), reinterpret_cast<uint8_t*>(&t + 1)));
        w.thread(test::sample_thread(10, true));
        EXPECT_EQ(finish(w), "no PROCESS record before " + at("THREAD", 128 + 56) + " (format 1." +
                                 std::to_string(CKPT_FORMAT_MINOR) + " has one after TASK)");
    }
    {
        // FILEs come after the THREADs, by ascending fd.
        ImageWriter w = threads_image(2);
        w.thread(test::sample_thread(10, true));
        ckpt_file f{};
        f.kind = CKPT_FILE_REGULAR;
        f.fd = 3;
        w.file(f, "/a");
        const uint64_t off = w.thread(test::sample_thread(11, false));
        EXPECT_EQ(finish(w), "unexpected " + at("THREAD", off) + ": expected FILE, VDSO or MM");
    }
    {
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        ckpt_file f{};
        f.kind = CKPT_FILE_REGULAR;
        f.fd = 3;
        w.file(f, "/a");
        const uint64_t off = w.file(f, "/b");
        EXPECT_EQ(finish(w), at("FILE", off) + " (fd 3) out of order: descriptors ascend");
    }
}

TEST(ImageReader, ProcessAndFileDamage) {
    {
        test::SampleProcess p = test::sample_process(11);  // TASK says 10
        ImageWriter x;
        x.head(ImageWriter::default_head());
        ckpt_task t{};
        t.pid = t.tid = 10;
        t.nr_threads = 1;
        t.state = CKPT_TASK_STOPPED;
        x.record(CKPT_REC_TASK, std::vector<uint8_t>(reinterpret_cast<uint8_t*>(&t), reinterpret_cast<uint8_t*>(&t + 1)));
        const uint64_t off = x.process(p);
        x.thread(test::sample_thread(10, true));
        EXPECT_EQ(finish(x), "pid 11 in " + at("PROCESS", off) + " is not TASK's 10");
    }
    {
        // A path with its NUL missing: the length covers one byte less.
        ImageWriter w;
        w.head(ImageWriter::default_head());
        ckpt_task t{};
        t.pid = t.tid = 10;
        t.nr_threads = 1;
        t.state = CKPT_TASK_STOPPED;
        w.record(CKPT_REC_TASK, std::vector<uint8_t>(reinterpret_cast<uint8_t*>(&t), reinterpret_cast<uint8_t*>(&t + 1)));
        test::SampleProcess p = test::sample_process(10);
        p.auxv = {6, 4096};  // no AT_NULL
        const uint64_t off = w.process(p);
        w.thread(test::sample_thread(10, true));
        EXPECT_EQ(finish(w), "auxiliary vector in " + at("PROCESS", off) +
                                 " is not type/value pairs ending with AT_NULL");
    }
    {
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        ckpt_file f{};
        f.kind = CKPT_FILE_REGULAR;
        f.path_len = 3;
        std::vector<uint8_t> payload(sizeof f + 3);
        std::memcpy(payload.data(), &f, sizeof f);
        std::memcpy(payload.data() + sizeof f, "a\0b", 3);
        const uint64_t off = w.record(CKPT_REC_FILE, payload);
        EXPECT_EQ(finish(w), "the path in " + at("FILE", off) + " does not end with its only NUL");
    }
    {
        ImageWriter w = threads_image(1);
        w.thread(test::sample_thread(10, true));
        ckpt_file f{};
        f.kind = CKPT_FILE_REGULAR;
        f.path_len = 4;  // but no path bytes follow
        const uint64_t off = w.record(CKPT_REC_FILE, std::vector<uint8_t>(reinterpret_cast<uint8_t*>(&f),
                                                                          reinterpret_cast<uint8_t*>(&f + 1)));
        EXPECT_EQ(finish(w), at("FILE", off) + ": len 64 is not 64 + path_len 4");
    }
}

TEST(ImageReader, FormatOneZeroHasNoThreads) {
    ImageWriter w;
    ckpt_head h = ImageWriter::default_head();
    h.minor = 0;
    w.head(h);
    ckpt_task t{};
    t.pid = t.tid = 1;
    t.nr_threads = 1;
    t.state = CKPT_TASK_STOPPED;
    w.record(CKPT_REC_TASK, std::vector<uint8_t>(reinterpret_cast<uint8_t*>(&t), reinterpret_cast<uint8_t*>(&t + 1)));
    EXPECT_EQ(finish(w), "OK");
}

// -------------------------------------------------------------------- order

TEST(ImageReader, RecordOrder) {
    ckpt_task t{};
    t.pid = t.tid = 1;
    t.nr_threads = 1;
    t.state = CKPT_TASK_STOPPED;
    {
        ImageWriter w;
        w.head(ImageWriter::default_head());
        uint64_t off = w.mm(ckpt_mm{});
        EXPECT_EQ(outcome(w.bytes()), "unexpected " + at("MM", off) + ": expected TASK");
    }
    {
        ImageWriter w;
        w.head(ImageWriter::default_head());
        w.task(t);
        uint64_t off = w.pages({0x1000}, {test::pattern_page(0, 4096)});
        EXPECT_EQ(outcome(w.bytes()), "unexpected " + at("PAGES", off) + ": expected THREAD, FILE, VDSO or MM");
    }
    {
        ImageWriter w;
        w.head(ImageWriter::default_head());
        w.task(t);
        w.mm(ckpt_mm{});
        uint64_t off = w.pages({0x1000}, {test::pattern_page(0, 4096)});
        EXPECT_EQ(outcome(w.bytes()), at("PAGES", off) + " does not follow a VMA record");
    }
    {
        ImageWriter w;
        w.head(ImageWriter::default_head());
        w.task(t);
        w.mm(ckpt_mm{});
        w.ldt({});
        ckpt_vma v{};
        v.start = 0x1000;
        v.end = 0x2000;
        v.kind = CKPT_VMA_ANON;
        uint64_t off = w.vma(v, "");
        EXPECT_EQ(outcome(w.bytes()), "unexpected " + at("VMA", off) + ": expected TAIL");
    }
    {
        ImageWriter w;
        w.head(ImageWriter::default_head());
        w.task(t);
        w.mm(ckpt_mm{});
        uint64_t off = w.tail();
        EXPECT_EQ(outcome(w.bytes()), "missing LDT record before " + at("TAIL", off));
    }
    {
        ImageWriter w;
        w.head(ImageWriter::default_head());
        uint64_t off = w.tail();
        EXPECT_EQ(outcome(w.bytes()), "unexpected " + at("TAIL", off) + ": expected TASK");
    }
}

TEST(ImageReader, SampleWithoutLdt) {
    SampleOptions o;
    o.skip_ldt = true;
    SampleImage s = make_sample_image(o);
    EXPECT_EQ(outcome(s.bytes), "missing LDT record before " + at("TAIL", s.tail_offset));
}

// --------------------------------------------------------------------- TAIL

TEST(ImageReader, TailMismatches) {
    const uint64_t before_tail = make_sample_image().records - 1;
    struct Case {
        TailTweaks tweaks;
        std::string expected_prefix;
    } cases[] = {
        {TailTweaks{.records_delta = 1}, "says " + std::to_string(before_tail + 1) + " records before it, image has " +
                                             std::to_string(before_tail)},
        {TailTweaks{.bytes_delta = 8}, "as its offset"},
        {TailTweaks{.vmas_delta = -1}, "says 3 VMAs, image has 4"},
        {TailTweaks{.pages_delta = 2}, "says 9 pages, image has 7"},
    };
    for (const auto& c : cases) {
        SampleOptions o;
        o.tail = c.tweaks;
        SampleImage s = make_sample_image(o);
        std::string msg = outcome(s.bytes);
        EXPECT_EQ(msg.rfind(at("TAIL", s.tail_offset) + " says", 0), 0u) << msg;
        EXPECT_NE(msg.find(c.expected_prefix), std::string::npos) << msg;
    }
    SampleOptions o;
    o.tail.crc_xor = 0x10;
    SampleImage s = make_sample_image(o);
    EXPECT_EQ(outcome(s.bytes).rfind("bad crc chain in " + at("TAIL", s.tail_offset), 0), 0u) << outcome(s.bytes);
    o.tail = {};
    o.tail.reserved = 3;
    s = make_sample_image(o);
    EXPECT_EQ(outcome(s.bytes), "nonzero reserved field in " + at("TAIL", s.tail_offset));
}

TEST(ImageReader, TailCrcChainCoversUnknownRecords) {
    // A tail computed without the unknown record's CRC must be rejected:
    // build the sample, drop the unknown record bytes, keep the old tail.
    SampleImage s = make_sample_image();
    auto bytes = s.bytes;
    // Find the type-99 record by scanning headers.
    uint64_t off = 0;
    while (off < bytes.size()) {
        ckpt_rec_hdr h;
        std::memcpy(&h, bytes.data() + off, sizeof h);
        if (h.type == 99) break;
        off += 24 + h.len + (8 - h.len % 8) % 8;
    }
    ASSERT_LT(off, bytes.size());
    bytes.erase(bytes.begin() + long(off), bytes.begin() + long(off + 24 + 16));
    EXPECT_NE(outcome(bytes), "OK");
}

// -------------------------------------------------------------------- VMAs

TEST(ImageReader, VmaProblems) {
    auto with_vma = [](ckpt_vma v, const std::string& name, uint64_t* off) {
        SampleOptions o;
        o.after_heap_vma = [=](ImageWriter& w) { *off = w.vma(v, name); };
        return outcome(make_sample_image(o).bytes);
    };
    uint64_t off = 0;
    ckpt_vma v{};
    v.kind = CKPT_VMA_ANON;
    v.start = 0x2000000;
    v.end = 0x2000800;
    std::string msg = with_vma(v, "", &off);
    EXPECT_EQ(msg, "bad VMA bounds 0x2000000-0x2000800 in " + at("VMA", off));
    v.end = 0x2000000;
    msg = with_vma(v, "", &off);
    EXPECT_EQ(msg, "bad VMA bounds 0x2000000-0x2000000 in " + at("VMA", off));
    v.start = 0x1004000;  // inside the heap VMA written before
    v.end = 0x1010000;
    msg = with_vma(v, "", &off);
    EXPECT_EQ(msg, "VMA 0x1004000-0x1010000 in " + at("VMA", off) +
                       " overlaps or precedes the previous VMA ending at 0x1008000");
    v.start = 0x2000000;
    v.end = 0x2001000;
    v.kind = 9;
    msg = with_vma(v, "", &off);
    EXPECT_EQ(msg, "unknown VMA kind 9 in " + at("VMA", off));
}

TEST(ImageReader, VmaNameProblems) {
    SampleImage s = make_sample_image();
    const uint64_t off = s.file_vma_offset;
    {
        auto bytes = s.bytes;
        // Overwrite the terminating NUL of the name.
        ckpt_vma v;
        std::memcpy(&v, bytes.data() + off + 24, sizeof v);
        bytes[off + 24 + 64 + v.name_len - 1] = 'x';
        fix_crc(bytes, off);
        EXPECT_EQ(outcome(bytes), "name in " + at("VMA", off) + " is not a single NUL-terminated string");
    }
    {
        auto bytes = s.bytes;
        poke<uint32_t>(bytes, off + 24 + offsetof(ckpt_vma, name_len), 5000);
        fix_crc(bytes, off);
        EXPECT_EQ(outcome(bytes), "absurd name_len 5000 in " + at("VMA", off));
    }
    {
        auto bytes = s.bytes;
        poke<uint32_t>(bytes, off + 24 + offsetof(ckpt_vma, name_len), 3);
        fix_crc(bytes, off);
        EXPECT_EQ(outcome(bytes), "length 88 of " + at("VMA", off) + " does not match 64 + name_len 3");
    }
    {
        // A VMA flagged as having a path too long to name has no name.
        auto bytes = s.bytes;
        ckpt_vma v;
        std::memcpy(&v, bytes.data() + off + 24, sizeof v);
        poke<uint64_t>(bytes, off + 24 + offsetof(ckpt_vma, vm_flags), v.vm_flags | CKPT_VMA_F_NAME_TOO_LONG);
        fix_crc(bytes, off);
        EXPECT_EQ(outcome(bytes), "NAME_TOO_LONG VMA with a name of " + std::to_string(v.name_len) + " bytes in " +
                                      at("VMA", off));
    }
}

// ------------------------------------------------------------------- PAGES

TEST(ImageReader, PageAddressProblems) {
    auto with_pages = [](std::vector<uint64_t> addrs, uint64_t* off) {
        SampleOptions o;
        o.after_heap_vma = [=](ImageWriter& w) {
            std::vector<std::vector<uint8_t>> data(addrs.size(), std::vector<uint8_t>(4096, 1));
            *off = w.pages(addrs, data);
        };
        return outcome(make_sample_image(o).bytes);
    };
    uint64_t off = 0;
    std::string msg = with_pages({0x1000800}, &off);
    EXPECT_EQ(msg, "page address 0x1000800 in " + at("PAGES", off) + " is not page-aligned");
    msg = with_pages({0x1008000}, &off);
    EXPECT_EQ(msg, "page address 0x1008000 in " + at("PAGES", off) + " is outside VMA 0x1000000-0x1008000");
    msg = with_pages({0xfff000}, &off);
    EXPECT_EQ(msg, "page address 0xfff000 in " + at("PAGES", off) + " is outside VMA 0x1000000-0x1008000");
    msg = with_pages({0x1002000, 0x1001000}, &off);
    EXPECT_EQ(msg, "page address 0x1001000 in " + at("PAGES", off) + " is not above the previous page 0x1002000");
    msg = with_pages({0x1002000, 0x1002000}, &off);
    EXPECT_EQ(msg, "page address 0x1002000 in " + at("PAGES", off) + " is not above the previous page 0x1002000");
    // Across records: the sample's first PAGES record starts at 0x1000000,
    // below the injected record's page.
    msg = with_pages({0x1006000}, &off);
    EXPECT_NE(msg.find("is not above the previous page 0x1006000"), std::string::npos) << msg;
}

TEST(ImageReader, PagesLayoutProblems) {
    auto with = [](PagesTweaks pt, uint64_t* off, size_t n = 1) {
        SampleOptions o;
        o.after_heap_vma = [=](ImageWriter& w) {
            std::vector<uint64_t> addrs;
            for (size_t i = 0; i < n; i++) addrs.push_back(0x1000000 + 0x1000 * i);
            std::vector<std::vector<uint8_t>> data(n, std::vector<uint8_t>(4096, 2));
            *off = w.pages(addrs, data, pt);
        };
        return outcome(make_sample_image(o).bytes);
    };
    uint64_t off = 0;
    std::string msg = with(PagesTweaks{.data_off_delta = 8}, &off);
    EXPECT_EQ(msg.rfind("page data of " + at("PAGES", off) + " starts at unaligned stream offset", 0), 0u) << msg;
    msg = with(PagesTweaks{.data_off_delta = 4096}, &off);
    const uint64_t min_data_off = (off + 24 + 24 + 4095) / 4096 * 4096 - off - 24;
    EXPECT_EQ(msg, "data_off " + std::to_string(min_data_off + 4096) + " in " + at("PAGES", off) +
                       " pads more than a page");
    msg = with(PagesTweaks{.nonzero_gap = true}, &off);
    EXPECT_EQ(msg, "nonzero padding before the page data in " + at("PAGES", off));
    msg = with(PagesTweaks{.reserved = 1}, &off);
    EXPECT_EQ(msg, "nonzero reserved field in " + at("PAGES", off));
    msg = with(PagesTweaks{.nr_override = 0}, &off);
    EXPECT_EQ(msg, "bad page count 0 in " + at("PAGES", off) + " (must be 1..2048)");
    msg = with(PagesTweaks{.nr_override = 2049}, &off);
    EXPECT_EQ(msg, "bad page count 2049 in " + at("PAGES", off) + " (must be 1..2048)");
    msg = with(PagesTweaks{.nr_override = 2}, &off, 3);
    EXPECT_EQ(msg.rfind("length ", 0), 0u) << msg;
    EXPECT_NE(msg.find("does not match data_off + nr * page_size"), std::string::npos) << msg;
}

TEST(ImageReader, PagesDataOffOverlappingAddresses) {
    // Place the record so that the minimal data_off is big, then shrink it
    // by a page: it falls below 16 + 8 * nr.
    uint64_t off = 0;
    SampleOptions o;
    o.after_heap_vma = [&](ImageWriter& w) {
        std::vector<uint64_t> addrs;
        for (int i = 0; i < 8; i++) addrs.push_back(0x1000000 + 0x1000 * uint64_t(i));
        std::vector<std::vector<uint8_t>> data(addrs.size(), std::vector<uint8_t>(4096, 3));
        // Pad so that the address array ends 8 bytes past a page boundary:
        // the smallest valid data_off is then 4168, and 4168 - 4096 < 80.
        uint64_t here = w.bytes().size();
        uint64_t pad_payload = (4096 + 8 - (here + 24 + 104) % 4096) % 4096;
        w.record(61, std::vector<uint8_t>(pad_payload, 0));
        off = w.pages(addrs, data, PagesTweaks{.data_off_delta = -4096});
    };
    std::string msg = outcome(make_sample_image(o).bytes);
    EXPECT_NE(msg.find("overlaps the address array (minimum 80)"), std::string::npos) << msg;
}

TEST(ImageReader, PagesAfterSpecialVma) {
    uint64_t off = 0;
    SampleOptions o;
    o.after_heap_vma = [&](ImageWriter& w) {
        ckpt_vma v{};
        v.start = 0x2000000;
        v.end = 0x2002000;
        v.kind = CKPT_VMA_SPECIAL;
        w.vma(v, "[vvar]");
        off = w.pages({0x2000000}, {std::vector<uint8_t>(4096)});
    };
    // The sample's heap pages come after this VMA and are now out of place,
    // but the first problem is the one reported.
    std::string msg = outcome(make_sample_image(o).bytes);
    EXPECT_EQ(msg, at("PAGES", off) + " follows SPECIAL VMA 0x2000000-0x2002000, which carries no pages");
}

TEST(ImageReader, PagesTooShort) {
    uint64_t off = 0;
    SampleOptions o;
    o.after_heap_vma = [&](ImageWriter& w) { off = w.record(CKPT_REC_PAGES, {0, 0, 0, 0}); };
    std::string msg = outcome(make_sample_image(o).bytes);
    EXPECT_EQ(msg, at("PAGES", off) + " too short: len 4, need at least 16");
}

// -------------------------------------------------------------- TASK, LDT

TEST(ImageReader, TaskAndLdtProblems) {
    SampleImage s = make_sample_image();
    {
        auto bytes = s.bytes;
        poke<uint32_t>(bytes, s.task_offset + 24 + offsetof(ckpt_task, state), 9);
        fix_crc(bytes, s.task_offset);
        EXPECT_EQ(outcome(bytes), "unknown task state 9 in " + at("TASK", s.task_offset));
    }
    {
        auto bytes = s.bytes;
        std::memset(bytes.data() + s.task_offset + 24 + offsetof(ckpt_task, comm), 'a', 16);
        fix_crc(bytes, s.task_offset);
        EXPECT_EQ(outcome(bytes), "comm in " + at("TASK", s.task_offset) + " is not NUL-terminated");
    }
    {
        auto bytes = s.bytes;
        poke<uint32_t>(bytes, s.ldt_offset + 24, 16);
        fix_crc(bytes, s.ldt_offset);
        EXPECT_EQ(outcome(bytes), "bad LDT entry size 16 in " + at("LDT", s.ldt_offset) + " (expected 8)");
    }
    {
        auto bytes = s.bytes;
        poke<uint32_t>(bytes, s.ldt_offset + 28, 2);
        fix_crc(bytes, s.ldt_offset);
        EXPECT_EQ(outcome(bytes), "length 16 of " + at("LDT", s.ldt_offset) + " does not match 8 + nr * entry_size = 24");
    }
}

// ---------------------------------------------------------- robustness

TEST(ImageReader, IoErrorsAreNotFormatErrors) {
    FailingSource src;
    ImageReader reader(src);
    ImageVisitor none;
    auto r = reader.read(none);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::Io);
    EXPECT_EQ(r.error().message, "disk on fire");
}

TEST(ImageReader, RandomDamageNeverCrashes) {
    SampleImage s = make_sample_image();
    std::mt19937_64 rng(1234);
    for (int round = 0; round < 3000; round++) {
        auto bytes = s.bytes;
        const int edits = 1 + int(rng() % 6);
        for (int e = 0; e < edits; e++) {
            size_t pos = size_t(rng() % bytes.size());
            switch (rng() % 4) {
            case 0: bytes[pos] ^= uint8_t(1 + rng() % 255); break;
            case 1: bytes.resize(pos); break;
            case 2: bytes.insert(bytes.begin() + long(pos), uint8_t(rng())); break;
            case 3:
                // Plausible but wrong 64-bit values in length-like places.
                if (pos + 8 <= bytes.size()) poke<uint64_t>(bytes, pos, rng() % 70000);
                break;
            }
            if (bytes.empty()) break;
        }
        if (bytes == s.bytes) continue;
        auto r = read_bytes(bytes);
        if (r) ADD_FAILURE() << "damage in round " << round << " went unnoticed";
        else EXPECT_EQ(r.error().kind, ErrorKind::Format);
    }
}

}  // namespace
}  // namespace ckpt

namespace ckpt {
namespace {

// A one-VMA image of format 1.MINOR with the given vm_flags and mm_flags.
std::string flags_outcome(uint32_t minor, uint64_t vm_flags, uint32_t mm_flags, uint64_t* vma_at, uint64_t* mm_at) {
    ImageWriter w;
    ckpt_head h = ImageWriter::default_head();
    h.minor = minor;
    w.head(h);
    ckpt_task t{};
    t.pid = t.tid = 5;
    t.nr_threads = 1;
    t.state = CKPT_TASK_STOPPED;
    if (minor >= 1) {
        w.task(t);  // with PROCESS and THREAD
    } else {
        w.record(CKPT_REC_TASK, std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(&t),
                                                     reinterpret_cast<const uint8_t*>(&t + 1)));
    }
    ckpt_mm mm{};
    mm.mm_flags = mm_flags;
    *mm_at = w.mm(mm);
    ckpt_vma v{};
    v.start = 0x10000;
    v.end = 0x11000;
    v.kind = CKPT_VMA_ANON;
    v.vm_flags = vm_flags;
    *vma_at = w.vma(v, "");
    w.ldt({});
    w.tail();
    return outcome(w.bytes());
}

TEST(ImageReader, Format11DefinesEveryVmaAndMmFlagBit) {
    uint64_t vma_at = 0, mm_at = 0;
    const uint64_t all = CKPT_VMA_F_READ | CKPT_VMA_F_WRITE | CKPT_VMA_F_LOCKED | CKPT_VMA_F_DONTDUMP |
                         CKPT_VMA_F_MERGEABLE | CKPT_VMA_F_WIPEONFORK;
    EXPECT_EQ(flags_outcome(1, all, 0x33 | CKPT_MM_THP_DISABLE | CKPT_MM_MDWE, &vma_at, &mm_at), "OK");
    // VM_SOFTDIRTY, a kernel-internal bit: not the format's.
    EXPECT_EQ(flags_outcome(1, all | 0x08000000, 0x33, &vma_at, &mm_at),
              "undefined vm_flags bits 0x8000000 in " + at("VMA", vma_at));
    EXPECT_EQ(flags_outcome(1, all, 0x33 | (1u << 20), &vma_at, &mm_at),
              "undefined mm_flags bits 0x100000 in " + at("MM", mm_at));
    // 1.2 defines no more (mm_at is the 1.1 image's: the same layout).
    EXPECT_EQ(flags_outcome(2, all, 0x33 | (1u << 20), &vma_at, &mm_at),
              "undefined mm_flags bits 0x100000 in " + at("MM", mm_at));
    // In 1.0 vm_flags were the kernel's raw bits, and mm_flags was reserved.
    EXPECT_EQ(flags_outcome(0, all | 0x08100000, 0, &vma_at, &mm_at), "OK");
    EXPECT_EQ(flags_outcome(0, all, 0x33, &vma_at, &mm_at), "nonzero reserved field in " + at("MM", mm_at));
    // A later minor may define more: not checked.
    EXPECT_EQ(flags_outcome(CKPT_FORMAT_MINOR + 1, all | 0x08000000, 1u << 20, &vma_at, &mm_at), "OK");
    EXPECT_EQ(vma_flags_string(all), "read,write,locked,wipeonfork,dontdump,mergeable");
    // The format's own flag, on a VMA without a name.
    EXPECT_EQ(flags_outcome(1, all | CKPT_VMA_F_NAME_TOO_LONG, 0x33, &vma_at, &mm_at), "OK");
    EXPECT_EQ(vma_flags_string(CKPT_VMA_F_NAME_TOO_LONG), "name-too-long");
}

}  // namespace
}  // namespace ckpt
