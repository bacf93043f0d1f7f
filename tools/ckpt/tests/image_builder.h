// Test-only writer of ckpt images, mirroring what the module emits, with
// knobs to produce every kind of damage the reader must catch.
#pragma once

#include <linux/ckpt.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ckpt::test {

struct RecordTweaks {
    uint32_t flags = 0;
    uint32_t reserved = 0;
    uint32_t crc_xor = 0;          // corrupt the stored CRC
    int64_t len_delta = 0;         // stored len differs from the payload size
    bool nonzero_padding = false;  // 0xFF in the padding after the payload
};

struct PagesTweaks {
    int64_t data_off_delta = 0;        // shift data_off (payload laid out accordingly)
    bool nonzero_gap = false;          // garbage between addr[] and the page data
    uint32_t reserved = 0;
    int64_t nr_override = -1;          // stored nr differs from the real count
};

struct TailTweaks {
    int64_t records_delta = 0;
    int64_t bytes_delta = 0;
    int64_t vmas_delta = 0;
    int64_t pages_delta = 0;
    uint32_t crc_xor = 0;
    uint32_t reserved = 0;
};

// A PROCESS record's parts: the fixed part (its lengths are filled in from
// the rest), the auxiliary vector, the groups and the three paths.
struct SampleProcess {
    ckpt_process fixed{};
    std::vector<uint64_t> auxv;
    std::vector<uint32_t> groups;
    std::string exe, cwd, root;
};

class ImageWriter {
public:
    explicit ImageWriter(uint32_t page_size = 4096);

    // Each returns the stream offset of the record it wrote.
    // Every record's crc is HEAD's checksum algorithm (record_checksum.h),
    // the first HEAD's own and TAIL's chain are CRC-32C.
    uint64_t record(uint32_t type, const std::vector<uint8_t>& payload, const RecordTweaks& tweaks = {});
    // The first HEAD sets the algorithm of the records after it.
    uint64_t head(const ckpt_head& head, const RecordTweaks& tweaks = {});
    // TASK, then a PROCESS record (sample_process) and a THREAD record
    // (sample_thread) for each of its threads.
    uint64_t task(const ckpt_task& task, const RecordTweaks& tweaks = {});
    uint64_t process(const SampleProcess& p, const RecordTweaks& tweaks = {});
    uint64_t file(const ckpt_file& f, const std::string& path, const RecordTweaks& tweaks = {});
    // A THREAD record with `xstate` (or t.xstate_size bytes of 0x42).
    uint64_t thread(const ckpt_thread& t, const std::vector<uint8_t>& xstate, const RecordTweaks& tweaks = {});
    uint64_t thread(const ckpt_thread& t, const RecordTweaks& tweaks = {});
    uint64_t mm(const ckpt_mm& mm, const RecordTweaks& tweaks = {});
    uint64_t vma(const ckpt_vma& vma, const std::string& name, const RecordTweaks& tweaks = {});
    // contents: one page_size buffer per address.
    uint64_t pages(const std::vector<uint64_t>& addrs, const std::vector<std::vector<uint8_t>>& contents,
                   const PagesTweaks& pt = {}, const RecordTweaks& tweaks = {});
    uint64_t ldt(const std::vector<uint64_t>& entries, const RecordTweaks& tweaks = {});
    uint64_t tail(const TailTweaks& tt = {}, const RecordTweaks& tweaks = {});

    // Format 1.CKPT_FORMAT_MINOR, checksum `checksum` (CKPT_CSUM_*).
    static ckpt_head default_head(uint32_t page_size = 4096, uint8_t checksum = CKPT_CSUM_CRC32C);

    // From now on, checksum records with `algo` whatever HEAD said.
    void set_checksum(uint32_t algo) { checksum_ = algo; }
    uint32_t checksum() const { return checksum_; }

    uint32_t page_size() const { return page_size_; }
    uint64_t nr_records() const { return records_; }
    uint64_t nr_pages() const { return pages_; }
    const std::vector<uint8_t>& bytes() const { return bytes_; }
    std::vector<uint8_t>& mutable_bytes() { return bytes_; }

private:
    uint32_t page_size_;
    std::vector<uint8_t> bytes_;
    uint64_t records_ = 0;
    uint64_t vmas_ = 0;
    uint64_t pages_ = 0;
    uint32_t chain_state_;
    uint32_t checksum_;
};

// A process as the module describes one: ids, limits, a signal handler,
// an auxiliary vector, groups and paths.
SampleProcess sample_process(int32_t pid);

// A thread as the module describes one, with an 832-byte XSAVE area.
ckpt_thread sample_thread(int32_t tid, bool leader);

// Deterministic page contents derived from the address.
std::vector<uint8_t> pattern_page(uint64_t addr, uint32_t page_size);

// A valid image: HEAD TASK MM, an anon heap with 5 pages in two PAGES
// records, an unknown record, a file VMA with one COW page, a shared VMA,
// a [vdso] VMA, an LDT with one entry, TAIL.  The offsets let tests aim.
struct SampleImage {
    std::vector<uint8_t> bytes;
    uint32_t page_size = 4096;
    uint64_t task_offset = 0;
    uint64_t mm_offset = 0;
    uint64_t heap_vma_offset = 0;
    uint64_t first_pages_offset = 0;
    uint64_t first_page_data_offset = 0;  // stream offset of the first page's contents
    uint64_t second_pages_offset = 0;
    uint64_t file_vma_offset = 0;
    uint64_t ldt_offset = 0;
    uint64_t tail_offset = 0;
    uint64_t records = 0;  // including TAIL
    uint64_t vmas = 0;
    uint64_t pages = 0;
};

// Variation points for building near-valid images from the sample layout.
struct SampleOptions {
    std::function<void(ImageWriter&)> after_heap_vma;   // e.g. inject a record
    bool skip_ldt = false;
    bool skip_tail = false;
    TailTweaks tail;
    uint8_t checksum = CKPT_CSUM_CRC32C;  // HEAD's checksum field
    uint16_t minor = CKPT_FORMAT_MINOR;
};

SampleImage make_sample_image(const SampleOptions& options = {});

}  // namespace ckpt::test
